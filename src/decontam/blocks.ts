// Input cut into blocks of whole lines (about BLOCK bytes each), numbered by their first line: the unit
// of work of the scan, on one thread or many. A plain file is memory-mapped, a window at a time, when the
// native addon is built (native/map-file.cc): no read into fresh memory, whose first touch is the costliest
// step of the whole scan on a virtual machine. Stdin, gzip and builds without the addon are read as a stream.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { readBytes, STDIN } from '../jsonl/index.js';
import { dropMappedRange, mapFile, mappedAddress, populateMapped } from './native-scan.js';

export const BLOCK = 1 << 20;
/** Mappings start at a multiple of this (a multiple of every page size Linux uses). */
const ALIGN = 1 << 16;

export interface LineBlock {
  file: string;
  /** Line number of the block's first line in its file. */
  firstLine: number;
  buf: Buffer;
  /** Where `buf` starts in this process's memory, when it is a view of a mapping (a worker views the same bytes). */
  address?: number;
}

function countLines(buf: Uint8Array): number {
  let n = 0;
  for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) n++;
  return n;
}

const mappedBuffers = new WeakSet<ArrayBufferLike>();

/** Whether `b` views a file mapping (read-only; it must be copied before it is transferred to a worker). */
export function isMapped(b: Uint8Array): boolean {
  return mappedBuffers.has(b.buffer);
}

/** The open file `path`, when it can be mapped: a regular, non-empty file that is not gzip. */
function openMappable(path: string): { fd: number; size: number } | undefined {
  if (path === STDIN) return undefined;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined; // the stream path reports the error
  }
  try {
    const st = fstatSync(fd);
    const magic = Buffer.alloc(2);
    if (st.isFile() && st.size > 0 && readSync(fd, magic, 0, 2, 0) === 2 && !(magic[0] === 0x1f && magic[1] === 0x8b)) {
      // A probe: an addon without mapFile, or a file system that cannot map, falls back to reading.
      if (mapFile(fd, 0, 1)) return { fd, size: st.size };
    }
  } catch {
    // not mappable: read it
  }
  closeSync(fd);
  return undefined;
}

/** Address space mapped at a time: blocks are views of a window of the file this large (or one line, if longer). */
const WINDOW = 1 << 28;
/** Pages of blocks done with are given back in ranges of at least this many bytes (one madvise each). */
const DROP_AT = 1 << 24;

/** A range of a mapping whose pages can go. */
interface Done {
  ab: ArrayBuffer;
  from: number;
  to: number;
}

/**
 * Gives back the pages of mapped blocks once `keep` later blocks have been read (by then each has been scanned
 * and written), whatever file they came from, in ranges of DROP_AT bytes: one madvise each.
 */
class Dropper {
  private readonly recent: Done[] = [];
  private done: Done | undefined;

  constructor(private readonly keep: number) {}

  read(block: Done): void {
    this.recent.push(block);
    if (this.recent.length <= this.keep) return;
    const r = this.recent.shift()!;
    if (this.done && this.done.ab === r.ab && this.done.to === r.from) this.done.to = r.to;
    else {
      this.drop();
      this.done = r;
    }
    if (this.done.to - this.done.from >= DROP_AT) this.drop();
  }

  private drop(): void {
    if (this.done) dropMappedRange(this.done.ab, this.done.from, this.done.to - this.done.from);
    this.done = undefined;
  }
}

/**
 * Blocks of a mappable file: views of a window of it mapped lazily (address space only), each block's pages
 * populated as it is read and given back by `dropper`: resident memory stays flat whatever the file's size.
 * A window is unmapped when the collector finds no view of it left.
 */
function* mappedBlocks(file: string, fd: number, size: number, stats: { bytes: number; lines: number }, dropper: Dropper): Generator<LineBlock> {
  let line = 1;
  let win: { ab: ArrayBuffer; base: number; address: number } | undefined;
  for (let start = 0; start < size; ) {
    let len = Math.min(size - start, BLOCK);
    for (;;) {
      if (!win || start + len > win.base + win.ab.byteLength) {
        const base = start - (start % ALIGN);
        const ab = mapFile(fd, base, Math.min(size - base, Math.max(WINDOW, start + len - base)), true)!;
        mappedBuffers.add(ab);
        win = { ab, base, address: mappedAddress(ab) };
      }
      const at = start - win.base;
      populateMapped(win.ab, at, len);
      // The block ends after the last "\n" in its first BLOCK bytes; a line longer than that widens it.
      const nl = start + len === size ? len - 1 : new Uint8Array(win.ab, at, len).lastIndexOf(10);
      if (nl < 0) {
        len = Math.min(size - start, 2 * len);
        continue;
      }
      const buf = Buffer.from(win.ab, at, nl + 1);
      dropper.read({ ab: win.ab, from: at, to: at + buf.length });
      const lines = countLines(buf);
      stats.bytes += buf.length;
      stats.lines += lines + (buf[buf.length - 1] === 10 ? 0 : 1);
      yield { file, firstLine: line, buf, address: win.address + at };
      line += lines;
      start += buf.length;
      break;
    }
  }
}

/**
 * The inputs' lines in blocks; `stats.bytes` counts the bytes read (compressed size for gzip). `inFlight`: blocks
 * the caller may hold unwritten after reading them (its pool's window); a few more are kept mapped for the writer.
 */
export async function* readBlocks(inputs: string[], stats: { bytes: number; lines: number }, inFlight = 1): AsyncGenerator<LineBlock> {
  const dropper = new Dropper(Math.max(8, inFlight + 4));
  for (const file of inputs) {
    const m = openMappable(file);
    if (m) {
      try {
        yield* mappedBlocks(file, m.fd, m.size, stats, dropper);
      } finally {
        closeSync(m.fd);
      }
      continue;
    }
    let line = 1;
    let parts: Buffer[] = [];
    let size = 0;
    for await (const chunk of readBytes(file, (n) => (stats.bytes += n))) {
      parts.push(chunk);
      size += chunk.length;
      if (size < BLOCK) continue;
      const cut = chunk.lastIndexOf(10);
      if (cut === -1) continue;
      const buf = Buffer.concat([...parts.slice(0, -1), chunk.subarray(0, cut + 1)]);
      const lines = countLines(buf);
      yield { file, firstLine: line, buf };
      line += lines;
      stats.lines += lines;
      parts = cut + 1 < chunk.length ? [chunk.subarray(cut + 1)] : [];
      size = parts.length ? parts[0].length : 0;
    }
    if (size) {
      const buf = Buffer.concat(parts);
      stats.lines += countLines(buf) + (buf[buf.length - 1] === 10 ? 0 : 1);
      yield { file, firstLine: line, buf };
    }
  }
}
