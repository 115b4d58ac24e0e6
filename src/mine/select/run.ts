// `mathpipe mine select --budget N`: the highest-scoring documents up to N tokens. One-shot (two readings
// of the input) or sharded: stats per shard -> plan (merge, cutoff) -> filter per shard.
import { DataError, UsageError } from '../../cli/errors.js';
import { info } from '../../cli/log.js';
import { checkWritable, writeOutputFile } from '../../cli/output-file.js';
import { newReadStats, readJsonlBatches, reportSkipped, STDIN, withWriter } from '../../jsonl/index.js';
import { removeSpill, spillPath } from '../dedup/blocks.js';
import { docLines } from '../dedup/doc-lines.js';
import { load, writeFramed } from '../framed.js';
import { describeCount, tokenCounter, type CountOptions } from './count.js';
import { isKept, walk, type Cutoff } from './cutoff.js';
import { compareRank, type RankKey } from './rank.js';
import { scan, tieHash, type ScanFields, type Scanned } from './scan.js';

export interface SelectOptions extends ScanFields {
  inputs: string[];
  output?: string;
  budget: number;
  count: CountOptions;
  manifest?: string;
  skipInvalid: boolean;
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
function addToHistogram(h: Manifest['histogram'], score: Float64Array, tokens: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const b = h[Math.min(BINS - 1, Math.max(0, Math.floor(score[i]! * BINS)))]!;
    b.documents++;
    b.tokens += tokens[i]!;
  }
}

function emptyHistogram(): Manifest['histogram'] {
  return Array.from({ length: BINS }, (_, i) => ({ from: i / BINS, documents: 0, tokens: 0 }));
}

/** Document numbers in rank order. */
function rankOrder(s: Scanned, base = 0): Uint32Array {
  const order = new Uint32Array(s.n);
  for (let i = 0; i < s.n; i++) order[i] = i;
  return order.sort((a, b) => compareRank({ score: s.score[a]!, hash: s.hash[a]!, pos: base + a }, { score: s.score[b]!, hash: s.hash[b]!, pos: base + b }));
}

function* ranked(s: Scanned, order: Uint32Array, base = 0): Generator<RankKey & { tokens: number }> {
  for (const d of order) yield { score: s.score[d]!, hash: s.hash[d]!, pos: base + d, tokens: s.tokens[d]! };
}

function manifestOf(c: Cutoff, o: { budget: number; count: CountOptions; inputs: string[] }, documents: number, tokens: number, histogram: Manifest['histogram']): Manifest {
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

function sum(a: Float64Array, n: number): number {
  let t = 0;
  for (let i = 0; i < n; i++) t += a[i]!;
  return t;
}

function say(m: Manifest): void {
  const cut = m.cutoff ? `, cutoff score ${m.cutoff.score}` : '';
  info(`kept ${m.documents_kept} of ${m.documents} documents, ${m.tokens_kept} of ${m.tokens} tokens (budget ${m.budget})${cut}`);
}

export async function runSelect(o: SelectOptions): Promise<Manifest> {
  for (const p of [o.output, o.manifest]) if (p && p !== STDIN) checkWritable(p);
  const spill = o.inputs.includes(STDIN) ? spillPath() : undefined;
  try {
    // stdin is read twice: copy it first (select's first reading is not a byte stream it can tee).
    if (spill) await copyStdin(spill);
    const inputs = o.inputs.map((p) => (p === STDIN ? spill! : p));
    const stats = newReadStats();
    const s = await scan(inputs, o, tokenCounter(o.count), stats, o.skipInvalid);
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
    reportSkipped(stats);
    say(m);
    return m;
  } finally {
    removeSpill(spill);
  }
}

async function copyStdin(to: string): Promise<void> {
  const { createWriteStream } = await import('node:fs');
  const { pipeline } = await import('node:stream/promises');
  await pipeline(process.stdin, createWriteStream(to));
}

// ---- sharded: stats -> plan -> filter --------------------------------------------------------------

const STATS = 'MPSELST1';

export async function runStats(o: Omit<SelectOptions, 'budget' | 'manifest'> & { output: string }): Promise<void> {
  if (o.inputs.includes(STDIN)) throw new UsageError('stats reads files (the filter step reads them again): stdin cannot be a shard');
  const stats = newReadStats();
  const s = await scan(o.inputs, o, tokenCounter(o.count), stats, o.skipInvalid);
  const order = rankOrder(s);
  const pick = (a: Float64Array) => Float64Array.from(order, (d) => a[d]!);
  const header = { inputs: o.inputs, n: s.n, tokens_counted_with: describeCount(o.count), fields: { score: o.scoreField, id: o.idField } };
  writeFramed(o.output, STATS, header, [pick(s.score), pick(s.hash), Float64Array.from(order), pick(s.tokens)]);
  reportSkipped(stats);
  info(`${s.n} documents, ${sum(s.tokens, s.n)} tokens -> ${o.output}`);
}

interface Part {
  inputs: string[];
  n: number;
  score: Float64Array;
  hash: Float64Array;
  pos: Float64Array;
  tokens: Float64Array;
}

/** Merge the parts' ranked lists (each already in rank order) into one, lazily. */
function* merged(parts: Part[]): Generator<RankKey & { tokens: number }> {
  const at = parts.map(() => 0);
  const base: number[] = [];
  parts.reduce((b, p) => (base.push(b), b + p.n), 0);
  const key = (i: number): RankKey => ({ score: parts[i]!.score[at[i]!]!, hash: parts[i]!.hash[at[i]!]!, pos: base[i]! + parts[i]!.pos[at[i]!]! });
  for (;;) {
    let best = -1;
    for (let i = 0; i < parts.length; i++) if (at[i]! < parts[i]!.n && (best < 0 || compareRank(key(i), key(best)) < 0)) best = i;
    if (best < 0) return;
    yield { ...key(best), tokens: parts[best]!.tokens[at[best]!]! };
    at[best]!++;
  }
}

export function runPlan(o: { stats: string[]; budget: number; output: string }): Manifest {
  const parts: Part[] = o.stats.map((p) => {
    const r = load(p, STATS, 'mine select stats');
    const n = r.header.n as number;
    return { inputs: r.header.inputs as string[], n, score: r.take(Float64Array, n), hash: r.take(Float64Array, n), pos: r.take(Float64Array, n), tokens: r.take(Float64Array, n), counted: r.header.tokens_counted_with };
  });
  const c = walk(merged(parts), o.budget);
  const h = emptyHistogram();
  for (const p of parts) addToHistogram(h, p.score, p.tokens, p.n);
  const m = manifestOf(c, { budget: o.budget, count: { tokenizer: String(load(o.stats[0]!, STATS, 'mine select stats').header.tokens_counted_with), whitespace: false }, inputs: parts.flatMap((p) => p.inputs) }, parts.reduce((a, p) => a + p.n, 0), parts.reduce((a, p) => a + sum(p.tokens, p.n), 0), h);
  const plan = { ...m, parts: parts.map((p) => ({ inputs: p.inputs, n: p.n })) };
  writeOutputFile(o.output, `${JSON.stringify(plan, null, 1)}\n`);
  say(m);
  return m;
}

export async function runFilter(o: { plan: string; inputs: string[]; output?: string; fields: ScanFields; skipInvalid: boolean }): Promise<void> {
  const { readFileSync } = await import('node:fs');
  const plan = JSON.parse(readFileSync(o.plan, 'utf8')) as Manifest & { parts: { inputs: string[]; n: number }[] };
  const at = plan.parts.findIndex((p) => JSON.stringify(p.inputs) === JSON.stringify(o.inputs));
  if (at < 0) throw new DataError(o.plan, `made from other shards: no part has the inputs ${o.inputs.join(', ')} (give the list and --shard used for stats)`);
  const base = plan.parts.slice(0, at).reduce((a, p) => a + p.n, 0);
  const c: Cutoff = { documents: plan.documents_kept, tokens: plan.tokens_kept, last: plan.cutoff ? { score: plan.cutoff.score, hash: plan.cutoff.hash, pos: plan.cutoff.position } : undefined };
  const stats = newReadStats();
  let d = 0;
  let kept = 0;
  await withWriter(o.output, async (out) => {
    for await (const batch of readJsonlBatches(o.inputs, { stats, skipInvalid: o.skipInvalid })) {
      for (const r of batch) {
        // The same records the stats step counted (invalid ones skipped the same way).
        const score = r.value[o.fields.scoreField];
        if (typeof score !== 'number' || typeof r.value[o.fields.textField] !== 'string') continue;
        const k = { score, hash: tieHash(r.value, r.raw, o.fields.idField), pos: base + d++ };
        if (!isKept(k, c)) continue;
        kept++;
        const p = out.write(r.raw);
        if (p) await p;
      }
    }
  });
  info(`kept ${kept} of ${d} documents -> ${o.output ?? 'stdout'}`);
}
