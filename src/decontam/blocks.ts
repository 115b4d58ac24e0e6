// Input cut into blocks of whole lines (about BLOCK bytes each), numbered by their first line: the unit
// of work of the scan, on one thread or many.
import { readBytes } from '../jsonl/index.js';

export const BLOCK = 1 << 20;

export interface LineBlock {
  file: string;
  /** Line number of the block's first line in its file. */
  firstLine: number;
  buf: Buffer;
}

function countLines(buf: Uint8Array): number {
  let n = 0;
  for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) n++;
  return n;
}

/** The inputs' lines in blocks; `stats.bytes` counts the bytes read (compressed size for gzip). */
export async function* readBlocks(inputs: string[], stats: { bytes: number; lines: number }): AsyncGenerator<LineBlock> {
  for (const file of inputs) {
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
