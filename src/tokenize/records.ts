// Parse the document records of one line-aligned chunk of JSONL, as worker threads do, with the line
// decoder and parser of src/jsonl (CR stripped, BOM on a file's first line, blank lines ignored, invalid
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
import { lineText, parseRecord, recordId, textFieldProblem } from '../jsonl/index.js';

/**
 * Call `onDoc(text, id)` for every valid record; stop at the first invalid one unless skipping. Lines
 * are decoded and parsed by src/jsonl, as on the main thread; only the line numbers are the chunk's.
 */
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
    const text = lineText(buf, start, end, first && lineNo === 1);
    start = end + 1;
    if (text === undefined) continue;
    if (text === null) {
      if (fail(lineNo, 'invalid UTF-8')) continue;
      break;
    }
    const rec = parseRecord(text);
    if (typeof rec === 'string') {
      if (fail(lineNo, rec)) continue;
      break;
    }
    const why = textFieldProblem(rec, o.textField);
    if (why) {
      if (fail(lineNo, why, recordId(rec))) continue;
      break;
    }
    onDoc(rec[o.textField] as string, rec.id);
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
