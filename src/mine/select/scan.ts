// The first reading of `mine select`: each document's score, tie-break hash, token count and position
// (about 30 bytes a document, whatever its size). Token counting is the costly part, so blocks of lines
// are counted on worker threads (select/worker.ts) and gathered in input order.
import { availableParallelism } from 'node:os';
import { DataError, at } from '../../cli/errors.js';
import { parseLine, textFieldProblem } from '../../jsonl/index.js';
import { lineBlocks, lineCount, linesOf, mapBlocks } from '../dedup/blocks.js';
import type { Block } from '../dedup/describe.js';
import { tokenCounter, type CountOptions, type TokenCounter } from './count.js';
import { stableHash } from './rank.js';

export interface ScanFields {
  textField: string;
  scoreField: string;
  idField: string;
}

export interface ScanOptions extends ScanFields {
  count: CountOptions;
  skipInvalid: boolean;
}

/** One block's documents. */
export interface ScanBatch {
  n: number;
  score: Float64Array;
  hash: Float64Array;
  tokens: Float64Array;
  line: Uint32Array;
  file: number;
  skipped: number;
}

export interface Scanned {
  n: number;
  score: Float64Array;
  hash: Float64Array;
  tokens: Float64Array;
  file: Uint16Array;
  line: Uint32Array;
  skipped: number;
}

/** The hash that breaks score ties: of the id, or of the whole line for records without one. */
export function tieHash(rec: Record<string, unknown>, raw: string, idField: string): number {
  const id = rec[idField];
  return stableHash(typeof id === 'string' || typeof id === 'number' ? String(id) : raw);
}

/** Why a record cannot be ranked, or undefined. */
export function unusable(rec: Record<string, unknown>, f: ScanFields): string | undefined {
  if (typeof rec[f.scoreField] !== 'number') return `missing or non-numeric field "${f.scoreField}" (score documents with classify predict first)`;
  return textFieldProblem(rec, f.textField);
}

export function scanBlock(block: Block, count: TokenCounter, o: ScanOptions): ScanBatch {
  const skipped = { n: 0 };
  const max = lineCount(block);
  const b: ScanBatch = { n: 0, score: new Float64Array(max), hash: new Float64Array(max), tokens: new Float64Array(max), line: new Uint32Array(max), file: block.file, skipped: 0 };
  for (const l of linesOf(block, o.skipInvalid, skipped)) {
    const where = at(l.file, l.line);
    let why: string | undefined;
    let rec: Record<string, unknown> | undefined;
    let tokens = NaN;
    try {
      rec = parseLine(l.text, where);
      why = unusable(rec, o);
      if (!why) {
        tokens = count(rec[o.textField] as string, rec);
        if (Number.isNaN(tokens)) why = `no usable token count (field "${o.count.tokensField}")`;
      }
    } catch (e) {
      if (!o.skipInvalid || !(e instanceof DataError)) throw e;
      skipped.n++;
      continue;
    }
    if (why) {
      if (o.skipInvalid) {
        skipped.n++;
        continue;
      }
      const id = rec?.[o.idField];
      throw new DataError(where + (typeof id === 'string' || typeof id === 'number' ? ` (id ${id})` : ''), why);
    }
    const d = b.n++;
    b.score[d] = rec![o.scoreField] as number;
    b.hash[d] = tieHash(rec!, l.text, o.idField);
    b.tokens[d] = tokens;
    b.line[d] = l.line;
  }
  b.skipped = skipped.n;
  return b;
}

function grow<T extends Float64Array | Uint16Array | Uint32Array>(a: T, n: number): T {
  if (n <= a.length) return a;
  const b = new (a.constructor as new (k: number) => T)(Math.max(1024, a.length * 2, n));
  b.set(a);
  return b;
}

/** Default threads: token counting with a tokenizer is worth them; word counts and fields are not. */
export function defaultJobs(c: CountOptions): number {
  return c.whitespace || c.tokensField ? 1 : Math.min(4, availableParallelism());
}

export async function scan(inputs: string[], o: ScanOptions, jobs: number, stats: { bytes: number; records: number }, spill?: string): Promise<Scanned> {
  const s: Scanned = { n: 0, score: new Float64Array(0), hash: new Float64Array(0), tokens: new Float64Array(0), file: new Uint16Array(0), line: new Uint32Array(0), skipped: 0 };
  const batches = mapBlocks(lineBlocks(inputs, stats, spill), jobs, new URL('./worker.js', import.meta.url), o, () => {
    const count = tokenCounter(o.count);
    return (b) => scanBlock(b, count, o);
  });
  for await (const b of batches) {
    const need = s.n + b.n;
    s.score = grow(s.score, need);
    s.hash = grow(s.hash, need);
    s.tokens = grow(s.tokens, need);
    s.file = grow(s.file, need);
    s.line = grow(s.line, need);
    s.score.set(b.score.subarray(0, b.n), s.n);
    s.hash.set(b.hash.subarray(0, b.n), s.n);
    s.tokens.set(b.tokens.subarray(0, b.n), s.n);
    s.line.set(b.line.subarray(0, b.n), s.n);
    s.file.fill(b.file, s.n, need);
    s.n = need;
    s.skipped += b.skipped;
    stats.records = s.n;
  }
  return s;
}
