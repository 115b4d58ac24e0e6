// Parse the document records of one line-aligned chunk of JSONL, as worker threads do. Line handling
// matches src/jsonl/lines.ts (CR stripped, BOM on a file's first line, blank lines ignored, invalid
// UTF-8 rejected); errors carry the line number relative to the chunk, which the main thread turns
// into "file:line" when it reaches the chunk in order.

export interface ChunkError {
  /** 1-based line within the chunk. */
  line: number;
  /** Record id when known, for "file:line (id X)". */
  id?: string;
  detail: string;
}

export interface ScanResult {
  /** Lines in the chunk (so the next chunk's line numbers can be computed). */
  lines: number;
  skipped: number;
  error?: ChunkError;
}

export interface ScanOptions {
  textField: string;
  skipInvalid: boolean;
}

import { DataError, at } from '../cli/errors.js';

const strict = new TextDecoder('utf-8', { fatal: true });

function describe(v: unknown): string {
  return Array.isArray(v) ? 'an array' : v === null ? 'null' : `a ${typeof v}`;
}

/** Call `onDoc(text, id)` for every valid record; stop at the first invalid one unless skipping. */
export function scanRecords(bytes: Uint8Array, first: boolean, o: ScanOptions, onDoc: (text: string, id: unknown) => void): ScanResult {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const res: ScanResult = { lines: 0, skipped: 0 };
  /** True when the line is skipped, false when scanning must stop with res.error set. */
  const fail = (line: number, detail: string, id?: string): boolean => {
    if (o.skipInvalid) {
      res.skipped++;
      return true;
    }
    res.error = { line, detail, ...(id !== undefined ? { id } : {}) };
    return false;
  };
  let start = 0;
  while (start < buf.length) {
    let end = buf.indexOf(10, start);
    if (end === -1) end = buf.length;
    const lineNo = ++res.lines;
    let s0 = start;
    let e0 = end;
    start = end + 1;
    if (e0 > s0 && buf[e0 - 1] === 0x0d) e0--;
    if (first && lineNo === 1 && e0 - s0 >= 3 && buf[s0] === 0xef && buf[s0 + 1] === 0xbb && buf[s0 + 2] === 0xbf) s0 += 3;
    if (e0 <= s0) continue;
    let text = buf.toString('utf8', s0, e0);
    if (text.includes('\uFFFD')) {
      try {
        text = strict.decode(buf.subarray(s0, e0));
      } catch {
        if (fail(lineNo, 'invalid UTF-8')) continue;
        break;
      }
    }
    if (text.trim() === '') continue;
    let rec: unknown;
    try {
      rec = JSON.parse(text);
    } catch (e) {
      if (fail(lineNo, `invalid JSON (${(e as Error).message})`)) continue;
      break;
    }
    if (typeof rec !== 'object' || rec === null || Array.isArray(rec)) {
      if (fail(lineNo, 'expected a JSON object')) continue;
      break;
    }
    const r = rec as Record<string, unknown>;
    const v = r[o.textField];
    if (typeof v !== 'string') {
      const id = typeof r.id === 'string' || typeof r.id === 'number' ? String(r.id) : undefined;
      const why = v === undefined ? `missing field "${o.textField}"` : `field "${o.textField}" is not a string but ${describe(v)}`;
      if (fail(lineNo, why, id)) continue;
      break;
    }
    onDoc(v, r.id);
  }
  return res;
}

/** Turns chunk-relative error lines into "file:line" as results arrive in input order. */
export class ChunkLines {
  private file = '';
  private base = 0;

  /** Throw the chunk's error, if any, as a DataError naming file and line; else count its lines. */
  check(file: string, res: ScanResult): void {
    if (file !== this.file) {
      this.file = file;
      this.base = 0;
    }
    if (res.error) {
      const where = at(file, this.base + res.error.line) + (res.error.id !== undefined ? ` (id ${res.error.id})` : '');
      throw new DataError(where, res.error.detail);
    }
    this.base += res.lines;
  }
}
