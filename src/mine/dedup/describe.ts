// One block of whole JSONL lines -> the DocBatch dedup keeps. Pure apart from the hasher's scratch
// memory: runs the same in a worker thread and on the main thread, which is why the output does not
// depend on the number of threads.
import { DataError, at } from '../../cli/errors.js';
import { parseLine, textFieldProblem } from '../../jsonl/index.js';
import { lineCount, linesOf } from './blocks.js';
import { MinHasher, type MinHashConfig } from './minhash.js';
import { normaliseUrl } from './url.js';
import type { DocBatch } from './table.js';

export interface DescribeOptions {
  minhash: MinHashConfig;
  textField: string;
  urlField: string;
  scoreField: string;
  skipInvalid: boolean;
  /** Near-duplicate detection off (--no-near): only URLs are compared. */
  near: boolean;
}

export interface Block {
  seq: number;
  /** Index of the input in the run's input list. */
  file: number;
  fileName: string;
  firstLine: number;
  buf: ArrayBuffer;
}

export function describeBlock(block: Block, hasher: MinHasher, o: DescribeOptions): DocBatch {
  const skipped = { n: 0 };
  const count = lineCount(block);
  const bands = o.minhash.bands;
  const b: DocBatch = {
    n: 0,
    keys: new Uint32Array(count * bands * 2),
    sig: new Uint8Array(count),
    url: new Uint32Array(count * 2),
    score: new Float64Array(count),
    length: new Uint32Array(count),
    line: new Uint32Array(count),
    file: block.file,
    skipped: 0,
  };
  for (const l of linesOf(block, o.skipInvalid, skipped)) {
    const where = at(l.file, l.line);
    let rec;
    try {
      rec = parseLine(l.text, where);
      const why = textFieldProblem(rec, o.textField);
      if (why) throw new DataError(where, why);
    } catch (e) {
      if (!o.skipInvalid || !(e instanceof DataError)) throw e;
      skipped.n++;
      continue;
    }
    const d = b.n++;
    const text = rec[o.textField] as string;
    if (o.near && hasher.bandKeys(text, b.keys, d * bands * 2)) b.sig[d] = 1;
    const url = rec[o.urlField];
    const norm = typeof url === 'string' ? normaliseUrl(url) : undefined;
    if (norm !== undefined) {
      const h = hasher.hash(norm);
      b.url[2 * d] = Number(h & 0xffffffffn) || 1; // (0, 0) means "no URL"
      b.url[2 * d + 1] = Number(h >> 32n);
    }
    const score = rec[o.scoreField];
    b.score[d] = typeof score === 'number' ? score : NaN;
    b.length[d] = text.length;
    b.line[d] = l.line;
  }
  b.skipped = skipped.n;
  return b;
}
