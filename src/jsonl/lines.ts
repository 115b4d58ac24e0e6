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
}

/**
 * Yield batches of lines (one batch per input chunk, which keeps per-line overhead low).
 * Blank lines are counted but not yielded; a trailing "\r" and a leading BOM are removed.
 */
/**
 * Decode line number `lineNo` of `file`, held in buf[s, e) without its "\n", and push it to `out`
 * unless it is blank. Exported for readers that split bytes themselves (worker threads).
 */
export function decodeLine(buf: Buffer, s: number, e: number, file: string, lineNo: number, out: Line[]): void {
  if (e > s && buf[e - 1] === 0x0d) e--;
  if (lineNo === 1 && e - s >= 3 && buf[s] === 0xef && buf[s + 1] === 0xbb && buf[s + 2] === 0xbf) s += 3;
  if (e <= s) return;
  let text = buf.toString('utf8', s, e);
  if (text.includes('\uFFFD')) {
    try {
      text = strict.decode(buf.subarray(s, e));
    } catch {
      throw new DataError(at(file, lineNo), 'invalid UTF-8');
    }
  }
  if (text.trim() === '') return;
  out.push({ file, line: lineNo, text });
}

export async function* readLineBatches(paths: string[], stats: LineStats = { bytes: 0, lines: 0 }): AsyncGenerator<Line[]> {
  for (const file of paths) {
    let lineNo = 0;
    const decode = (buf: Buffer, s: number, e: number, out: Line[]) => decodeLine(buf, s, e, file, ++lineNo, out);
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
