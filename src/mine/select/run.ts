// `mathpipe mine select --budget N` in one process: the highest-scoring documents up to N tokens, in two
// readings of the input (rank keys and token counts, then the kept lines). The manifest's parts are
// shared with the sharded form (sharded.ts).
import { info, warn } from '../../cli/log.js';
import { checkWritable, writeOutputFile } from '../../cli/output-file.js';
import { startProgress } from '../../cli/progress.js';
import { STDIN, totalSize, withWriter } from '../../jsonl/index.js';
import { removeSpill, spillPath } from '../dedup/blocks.js';
import { docLines } from '../dedup/doc-lines.js';
import { describeCount, type CountOptions } from './count.js';
import { isKept, walk, type Cutoff } from './cutoff.js';
import { compareRank, type RankKey } from './rank.js';
import { scan, type ScanFields, type Scanned } from './scan.js';

export interface SelectOptions extends ScanFields {
  inputs: string[];
  output?: string;
  budget: number;
  count: CountOptions;
  manifest?: string;
  skipInvalid: boolean;
  /** Token-counting threads; the output is the same for any value. */
  jobs: number;
}

export interface Manifest {
  budget: number;
  tokens_kept: number;
  documents_kept: number;
  documents: number;
  tokens: number;
  cutoff: { score: number; hash: number; position: number } | null;
  next_excluded: { score: number; tokens: number } | null;
  tokens_counted_with: string;
  /** Documents and tokens per score bin of 0.05 (scores outside [0, 1] in the end bins): where the cutoff sits. */
  histogram: { from: number; documents: number; tokens: number }[];
  inputs: string[];
}

const BINS = 20;

/** Add documents to a score histogram (BINS bins over [0, 1]). */
export function addToHistogram(h: Manifest['histogram'], score: Float64Array, tokens: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const b = h[Math.min(BINS - 1, Math.max(0, Math.floor(score[i]! * BINS)))]!;
    b.documents++;
    b.tokens += tokens[i]!;
  }
}

export function emptyHistogram(): Manifest['histogram'] {
  return Array.from({ length: BINS }, (_, i) => ({ from: i / BINS, documents: 0, tokens: 0 }));
}

/** Document numbers in rank order. */
export function rankOrder(s: Scanned, base = 0): Uint32Array {
  const order = new Uint32Array(s.n);
  for (let i = 0; i < s.n; i++) order[i] = i;
  return order.sort((a, b) => compareRank({ score: s.score[a]!, hash: s.hash[a]!, pos: base + a }, { score: s.score[b]!, hash: s.hash[b]!, pos: base + b }));
}

function* ranked(s: Scanned, order: Uint32Array, base = 0): Generator<RankKey & { tokens: number }> {
  for (const d of order) yield { score: s.score[d]!, hash: s.hash[d]!, pos: base + d, tokens: s.tokens[d]! };
}

export function manifestOf(c: Cutoff, o: { budget: number; count: CountOptions; inputs: string[] }, documents: number, tokens: number, histogram: Manifest['histogram']): Manifest {
  return {
    budget: o.budget,
    tokens_kept: c.tokens,
    documents_kept: c.documents,
    documents,
    tokens,
    cutoff: c.last ? { score: c.last.score, hash: c.last.hash, position: c.last.pos } : null,
    next_excluded: c.next ?? null,
    tokens_counted_with: describeCount(o.count),
    histogram,
    inputs: o.inputs,
  };
}

export function sum(a: Float64Array, n: number): number {
  let t = 0;
  for (let i = 0; i < n; i++) t += a[i]!;
  return t;
}

export function say(m: Manifest): void {
  const cut = m.cutoff ? `, cutoff score ${m.cutoff.score}` : '';
  info(`kept ${m.documents_kept} of ${m.documents} documents, ${m.tokens_kept} of ${m.tokens} tokens (budget ${m.budget})${cut}`);
}

export async function runSelect(o: SelectOptions): Promise<Manifest> {
  for (const p of [o.output, o.manifest]) if (p && p !== STDIN) checkWritable(p);
  // stdin is read twice: its bytes are copied to a spill file during the first reading.
  const spill = o.inputs.includes(STDIN) ? spillPath() : undefined;
  try {
    const stats = { bytes: 0, records: 0 };
    const progress = startProgress('mine select', () => stats, totalSize(o.inputs));
    let s: Scanned;
    try {
      s = await scan(o.inputs, o, o.jobs, stats, spill);
    } finally {
      progress.stop();
    }
    const inputs = o.inputs.map((p) => (p === STDIN ? spill! : p));
    const c = walk(ranked(s, rankOrder(s)), o.budget);
    await withWriter(o.output, async (out) => {
      for await (const batch of docLines(inputs, s)) {
        for (const { d, text } of batch) {
          if (!isKept({ score: s.score[d]!, hash: s.hash[d]!, pos: d }, c)) continue;
          const p = out.write(text);
          if (p) await p;
        }
      }
    });
    const h = emptyHistogram();
    addToHistogram(h, s.score, s.tokens, s.n);
    const m = manifestOf(c, o, s.n, sum(s.tokens, s.n), h);
    if (o.manifest) writeOutputFile(o.manifest, `${JSON.stringify(m, null, 1)}\n`);
    if (s.skipped) warn(`skipped ${s.skipped} invalid line${s.skipped === 1 ? '' : 's'} (--skip-invalid)`);
    say(m);
    return m;
  } finally {
    removeSpill(spill);
  }
}
