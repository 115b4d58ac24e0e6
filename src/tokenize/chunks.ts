// Line-aligned byte chunks of the inputs, for workers that parse and encode on their own: the main
// thread only looks for the last newline of each chunk, so it never becomes the bottleneck.
import { readBytes } from '../jsonl/input.js';

export interface Chunk {
  file: string;
  /** True for the first chunk of a file (a UTF-8 byte order mark may open it). */
  first: boolean;
  bytes: Uint8Array;
}

/** Chunks of about `target` bytes that end at a newline (or at the end of the file). */
export async function* lineChunks(paths: string[], target = 1 << 20, onRawBytes?: (n: number) => void): AsyncGenerator<Chunk> {
  for (const file of paths) {
    let parts: Buffer[] = [];
    let size = 0;
    let first = true;
    for await (const b of readBytes(file, onRawBytes)) {
      parts.push(b);
      size += b.length;
      if (size < target) continue;
      const nl = b.lastIndexOf(10);
      if (nl === -1) continue; // a line longer than the chunk: keep collecting
      const all = Buffer.concat(parts, size);
      const cut = size - (b.length - nl - 1);
      yield { file, first, bytes: all.subarray(0, cut) };
      first = false;
      parts = cut < size ? [all.subarray(cut)] : [];
      size -= cut;
    }
    if (size > 0 || first) yield { file, first, bytes: Buffer.concat(parts, size) };
  }
}
