// The sharded form of `mine select`: stats per shard (every document's rank key and tokens, sorted) ->
// plan (the lists merged in rank order up to the budget: the cutoff) -> filter per shard (documents at or
// above the cutoff). A plan chooses exactly what the one-shot form chooses over the same list (tested).
import { readFileSync } from 'node:fs';
import { DataError, UsageError } from '../../cli/errors.js';
import { info, warn } from '../../cli/log.js';
import { writeOutputFile } from '../../cli/output-file.js';
import { newReadStats, readJsonlBatches, STDIN, withWriter } from '../../jsonl/index.js';
import { load, writeFramed } from '../framed.js';
import { describeCount } from './count.js';
import { isKept, walk, type Cutoff } from './cutoff.js';
import { compareRank, type RankKey } from './rank.js';
import { addToHistogram, emptyHistogram, manifestOf, rankOrder, say, sum, type Manifest, type SelectOptions } from './run.js';
import { scan, tieHash, unusable, type ScanFields } from './scan.js';

const STATS = 'MPSELST1';

export async function runStats(o: Omit<SelectOptions, 'budget' | 'manifest'> & { output: string }): Promise<void> {
  if (o.inputs.includes(STDIN)) throw new UsageError('stats reads files (the filter step reads them again): stdin cannot be a shard');
  const s = await scan(o.inputs, o, o.jobs, { bytes: 0, records: 0 });
  const order = rankOrder(s);
  const pick = (a: Float64Array) => Float64Array.from(order, (d) => a[d]!);
  const header = { inputs: o.inputs, n: s.n, tokens_counted_with: describeCount(o.count), fields: { score: o.scoreField, id: o.idField } };
  writeFramed(o.output, STATS, header, [pick(s.score), pick(s.hash), Float64Array.from(order), pick(s.tokens)]);
  if (s.skipped) warn(`skipped ${s.skipped} invalid line${s.skipped === 1 ? '' : 's'} (--skip-invalid)`);
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
        if (unusable(r.value, o.fields)) continue;
        const k = { score: r.value[o.fields.scoreField] as number, hash: tieHash(r.value, r.raw, o.fields.idField), pos: base + d++ };
        if (!isKept(k, c)) continue;
        kept++;
        const p = out.write(r.raw);
        if (p) await p;
      }
    }
  });
  info(`kept ${kept} of ${d} documents -> ${o.output ?? 'stdout'}`);
}
