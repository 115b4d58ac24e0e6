// The native fast path (native/decontam-scan.cc), when the addon is built: the same decisions as the JS
// fast path, on whole blocks. Absent, stale or disabled (MATHPIPE_NATIVE=0), block-scan.ts scans in JS.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FILTER_BITS, SHORT_VOCAB_BITS, type NgramIndex } from './ngram-index.js';
import { lowerBmp, stableBmp, unitTables } from './words.js';

interface Addon {
  decontamScanInit(...tables: ArrayBufferView[]): object;
  decontamScan(handle: object, buf: Uint8Array, out: Uint8Array, state: Int32Array): void;
}

const ADDON = fileURLToPath(new URL('../../native/mathpipe.node', import.meta.url));

let addon: Addon | null | undefined;

function loadAddon(): Addon | undefined {
  if (addon === undefined) {
    addon = null;
    if (process.env.MATHPIPE_NATIVE !== '0' && existsSync(ADDON)) {
      try {
        const a = createRequire(import.meta.url)(ADDON) as Partial<Addon>;
        if (typeof a.decontamScan === 'function' && typeof a.decontamScanInit === 'function') addon = a as Addon;
      } catch {
        // A stale or foreign build: the JS path scans.
      }
    }
  }
  return addon ?? undefined;
}

/** Whether blocks will be scanned natively (the bench says which path it measured). */
export function nativeAvailable(): boolean {
  return loadAddon() !== undefined;
}

/** Status in state[S.status] (native/decontam-scan.cc). */
export const DONE = 0;
export const NEED = 1;
export const DEFER = 2;
/** Slots of the state array shared with the native scan. */
export const S = { pos: 0, end: 1, line: 2, outLen: 3, status: 4, unit: 5, lineEnd: 6, kept: 7 } as const;

export interface NativeScan {
  /** Scan from state[S.pos] (see decontamScan in native/decontam-scan.cc). */
  scan(buf: Uint8Array, out: Uint8Array, state: Int32Array): void;
}

/** A native scanner for `index`, looking for the top-level field `key` (UTF-8), or undefined. */
export function nativeScan(index: NgramIndex, key: Uint8Array): NativeScan | undefined {
  const a = loadAddon();
  if (!a) return undefined;
  const t = unitTables;
  const params = Int32Array.of(index.n, index.k, index.grams.bits, index.short.bits, index.shortLengths, t.CTL_BITS, FILTER_BITS, SHORT_VOCAB_BITS);
  // The handle points into these arrays: `keep` holds them for as long as it lives.
  const keep = [t.classes, lowerBmp, stableBmp, t.ctlA, t.ctlB, t.ctlLen, t.ctlAct, t.ctlToA, t.ctlToB, index.grams.slots, index.short.slots, index.filter, index.shortTrigrams, index.shortFirst, params, key];
  const handle = a.decontamScanInit(...keep);
  return { scan: (buf, out, state) => void (keep.length && a.decontamScan(handle, buf, out, state)) };
}
