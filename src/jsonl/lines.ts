// Split byte streams into text lines. Splitting happens on bytes (0x0A never occurs inside a UTF-8
// multi-byte sequence), so a character split across chunks is never damaged, and each line is decoded
// once. Invalid UTF-8 is detected, not silently replaced: JSONL must be UTF-8.
import { DataError, at } from '../cli/errors.js';
import { readBytes } from './input.js';

export interface Line {
  file: string;
  /** 1-based line number in the (decompressed) input. */
  line: number;
  text: string;
}

const strict = new TextDecoder('utf-8', { fatal: true });

export interface LineStats {
  /** Bytes read from disk (compressed size for gzip input). */
  bytes: number;
  lines: number;
  /** Lines skipped as not UTF-8 (with skipInvalid). Record readers count their own skips here too. */
  skipped?: number;
}

/**
 * The text of the line held in buf[s, e) without its "\n": a trailing "\r" removed, and a leading BOM
 * when `bom` (a file's first line). undefined for a blank line, null when it is not UTF-8. The one
 * line decoder: readLineBatches uses it, and so do worker threads that split bytes themselves.
 */
export function lineText(buf: Buffer, s: number, e: number, bom: boolean): string | undefined | null {
  if (e > s && buf[e - 1] === 0x0d) e--;
  if (bom && e - s >= 3 && buf[s] === 0xef && buf[s + 1] === 0xbb && buf[s + 2] === 0xbf) s += 3;
  if (e <= s) return undefined;
  let text = buf.toString('utf8', s, e);
  // Invalid bytes decode to U+FFFD, so only lines that contain it pay for a strict decode (measured:
  // cheaper than validating every line's bytes first).
  if (text.includes('\uFFFD')) {
    try {
      text = strict.decode(buf.subarray(s, e));
    } catch {
      return null;
    }
  }
  return text.trim() === '' ? undefined : text;
}

/**
 * Decode line number `lineNo` of `file`, held in buf[s, e) without its "\n", and push it to `out`
 * unless it is blank. A line that is not UTF-8 is a DataError, or with `skipInvalid` is left out and
 * false is returned (for the caller to count).
 */
export function decodeLine(buf: Buffer, s: number, e: number, file: string, lineNo: number, out: Line[], skipInvalid = false): boolean {
  const text = lineText(buf, s, e, lineNo === 1);
  if (text === null) {
    if (skipInvalid) return false;
    throw new DataError(at(file, lineNo), 'invalid UTF-8');
  }
  if (text !== undefined) out.push({ file, line: lineNo, text });
  return true;
}

/**
 * Yield batches of lines (one batch per input chunk, which keeps per-line overhead low).
 * Blank lines are counted but not yielded; a trailing "\r" and a leading BOM are removed.
 */
export async function* readLineBatches(
  paths: string[],
  stats: LineStats = { bytes: 0, lines: 0 },
  opts: { skipInvalid?: boolean } = {},
): AsyncGenerator<Line[]> {
  const skipInvalid = opts.skipInvalid === true;
  for (const file of paths) {
    let lineNo = 0;
    const decode = (buf: Buffer, s: number, e: number, out: Line[]) => {
      if (!decodeLine(buf, s, e, file, ++lineNo, out, skipInvalid)) stats.skipped = (stats.skipped ?? 0) + 1;
    };
    // A line longer than one chunk is kept as parts and joined once, when its end arrives.
    let carry: Buffer[] = [];
    for await (const chunk of readBytes(file, (n) => (stats.bytes += n))) {
      const out: Line[] = [];
      let s = 0;
      let nl = chunk.indexOf(10);
      if (carry.length && nl !== -1) {
        const joined = Buffer.concat([...carry, chunk.subarray(0, nl)]);
        carry = [];
        decode(joined, 0, joined.length, out);
        s = nl + 1;
        nl = chunk.indexOf(10, s);
      }
      for (; nl !== -1; nl = chunk.indexOf(10, s)) {
        decode(chunk, s, nl, out);
        s = nl + 1;
      }
      if (s < chunk.length) carry.push(chunk.subarray(s));
      stats.lines = lineNo;
      if (out.length) yield out;
    }
    if (carry.length) {
      const out: Line[] = [];
      const joined = Buffer.concat(carry);
      decode(joined, 0, joined.length, out);
      stats.lines = lineNo;
      if (out.length) yield out;
    }
  }
}
