// The native fast path (native/decontam-scan.cc), when the addon is built: the same decisions as the JS
// fast path, on whole blocks. Absent, stale or disabled (MATHPIPE_NATIVE=0), block-scan.ts scans in JS.
import { addonWith } from '../util/native-addon.js';
import { FILTER_BITS, SHORT_VOCAB_BITS, type NgramIndex } from './ngram-index.js';
import { lowerBmp, nfkcMap, nfkcPool, stableBmp, unitTables } from './words.js';

interface Addon {
  decontamScanInit(...tables: ArrayBufferView[]): object;
  decontamScan(handle: object, buf: Uint8Array, out: Uint8Array, state: Int32Array): void;
  decontamScanSubmit(handle: object, block: Uint8Array, firstLine: number, spec: Int32Array, out: Int32Array, threads: number): number;
  decontamScanWait(handle: object, job: number): void;
  /** native/map-file.cc. */
  mapFile(fd: number, offset: number, length: number, lazy?: boolean): ArrayBuffer;
  adviseMapped(ab: ArrayBuffer, offset: number, length: number, populate: boolean): void;
  mappedAddress(ab: ArrayBuffer): number;
  viewMapped(address: number, length: number): ArrayBuffer;
}

// mapFile came with the scan's present protocol (the verbatim flag, 18 init arguments): a build without it is an
// older scan, which this code must not drive. A build without decontamScanSubmit or viewMapped is older still.
const loadAddon = (): Addon | undefined =>
  addonWith<Addon>('decontamScan', 'decontamScanInit', 'decontamScanSubmit', 'decontamScanWait', 'mapFile', 'adviseMapped', 'mappedAddress', 'viewMapped');

/** Whether blocks will be scanned natively (the bench says which path it measured). */
export function nativeAvailable(): boolean {
  return loadAddon() !== undefined;
}

/**
 * A read-only map of bytes [offset, offset + length) of an open file (offset a multiple of the page size),
 * or undefined without the addon. Far cheaper than reading into fresh memory on virtual machines
 * (native/map-file.cc); the ArrayBuffer unmaps itself when collected. Writing through a view of it crashes.
 * `lazy`: address space only (nothing populated, not counted as memory): the caller populates what it reads
 * (populateMapped) and drops what it has read (dropMappedRange).
 */
export function mapFile(fd: number, offset: number, length: number, lazy = false): ArrayBuffer | undefined {
  const a = loadAddon();
  return a && length > 0 ? a.mapFile(fd, offset, length, lazy) : undefined;
}

/** Fill the page-table entries of bytes [offset, offset + length) of a mapFile buffer, before reading them. */
export function populateMapped(ab: ArrayBuffer, offset: number, length: number): void {
  loadAddon()?.adviseMapped(ab, offset, length, true);
}

/**
 * Let the pages of bytes [offset, offset + length) of a mapFile buffer go (widened to whole pages): they stop
 * counting in the resident size. Always safe: a later read faults the file's bytes back in (slowly).
 */
export function dropMappedRange(ab: ArrayBuffer, offset: number, length: number): void {
  loadAddon()?.adviseMapped(ab, offset, length, false);
}

/** Where the bytes of a mapFile buffer are in this process (for viewMapped on another thread). */
export function mappedAddress(ab: ArrayBuffer): number {
  return loadAddon()!.mappedAddress(ab);
}

/**
 * Bytes another thread of this process mapped (mapFile; `address` from mappedAddress plus an offset), viewed
 * without mapping them again: no second set of page-table entries to fill, the dearest step of reading a file
 * on a virtual machine. The view owns nothing: the thread that mapped the bytes keeps its mapping until this
 * view is no longer read.
 */
export function viewMapped(address: number, length: number): ArrayBuffer {
  return loadAddon()!.viewMapped(address, length);
}

/** Status in state[S.status] (native/decontam-scan.cc). */
export const DONE = 0;
export const NEED = 1;
export const DEFER = 2;
export const COPY = 3;
/** Slots of the state array shared with the native scan. */
export const S = { pos: 0, end: 1, line: 2, outLen: 3, status: 4, unit: 5, lineEnd: 6, kept: 7, verbatim: 8 } as const;

/** Ints per line a batch scan records (position, end of line, status, unit, line number), and per block it reports. */
export const SPEC = 5;
export const BATCH_OUT = 4;

export interface NativeScan {
  /** Scan from state[S.pos] (see decontamScan in native/decontam-scan.cc). */
  scan(buf: Uint8Array, out: Uint8Array, state: Int32Array): void;
  /**
   * Queue a whole block for the addon's batch threads (`threads` of them, started on the first call; this
   * thread scans queued blocks too, while it waits): its lines not kept as they are go to `spec` (SPEC ints
   * each) and `out` gets BATCH_OUT ints: kept lines, lines recorded, where the scan stopped (spec full) and
   * that line's number. Returns the job for wait(); the three arrays must stay as they are until then.
   */
  submit(block: Uint8Array, firstLine: number, spec: Int32Array, out: Int32Array, threads: number): number;
  /** Return once job `job` is done (see submit). */
  wait(job: number): void;
}

/** A native scanner for `index`, looking for the top-level field `key` (UTF-8), or undefined. */
export function nativeScan(index: NgramIndex, key: Uint8Array): NativeScan | undefined {
  const a = loadAddon();
  if (!a) return undefined;
  const t = unitTables;
  const params = Int32Array.of(index.n, index.k, index.grams.bits, index.short.bits, index.shortLengths, t.CTL_BITS, FILTER_BITS, SHORT_VOCAB_BITS);
  // The handle points into these arrays: `keep` holds them for as long as it lives.
  const keep = [t.classes, lowerBmp, stableBmp, t.ctlA, t.ctlB, t.ctlLen, t.ctlAct, t.ctlToA, t.ctlToB, index.grams.slots, index.short.slots, index.filter, index.shortTrigrams, index.shortFirst, params, key, nfkcMap, nfkcPool];
  const handle = a.decontamScanInit(...keep);
  return {
    scan: (buf, out, state) => void (keep.length && a.decontamScan(handle, buf, out, state)),
    submit: (block, firstLine, spec, out, threads) => (keep.length ? a.decontamScanSubmit(handle, block, firstLine, spec, out, threads) : -1),
    wait: (job) => void (keep.length && a.decontamScanWait(handle, job)),
  };
}
