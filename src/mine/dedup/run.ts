// `mathpipe mine dedup` in one process: read and describe every document (worker threads), find URL and
// near-duplicate clusters, keep one document per cluster, write the kept documents in input order.
import { UsageError } from '../../cli/errors.js';
import { info } from '../../cli/log.js';
import { checkWritable, writeOutputFile } from '../../cli/output-file.js';
import { startProgress } from '../../cli/progress.js';
import { STDIN, totalSize } from '../../jsonl/index.js';
import { lineBlocks, removeSpill, spillPath } from './blocks.js';
import { cluster, countRemoved, nearPairs, type DedupCounts } from './clusters.js';
import type { KeepRule } from './cluster.js';
import type { DescribeOptions } from './describe.js';
import { buildIndex, indexMatches, readIndex, writeIndex, type DedupIndex } from './index-file.js';
import type { MinHashConfig } from './minhash.js';
import { writeKept } from './output.js';
import { describeAll } from './pool.js';
import { DocTable } from './table.js';
import { verifyPairs } from './verify.js';

export interface DedupOptions {
  inputs: string[];
  output?: string;
  jobs: number;
  keep: KeepRule;
  minhash: MinHashConfig;
  urls: boolean;
  near: boolean;
  /** Jaccard threshold of the verification, or undefined for none. */
  verify?: number;
  index: string[];
  writeIndex?: string;
  clusters?: string;
  report?: string;
  textField: string;
  urlField: string;
  scoreField: string;
  skipInvalid: boolean;
}

export function describeOptions(o: DedupOptions): DescribeOptions {
  return { minhash: o.minhash, textField: o.textField, urlField: o.urlField, scoreField: o.scoreField, skipInvalid: o.skipInvalid, near: o.near };
}

/** Read every input once into a DocTable (spilling stdin to `spill`). */
export async function readTable(inputs: string[], d: DescribeOptions, jobs: number, spill?: string): Promise<{ table: DocTable; bytes: number }> {
  // Documents remember their input as a 16-bit number.
  if (inputs.length > 65535) throw new UsageError(`at most 65535 inputs per run (got ${inputs.length}): shard the list (mine dedup signatures --shard)`);
  const stats = { bytes: 0 };
  const table = new DocTable(d.minhash.bands);
  const progress = startProgress('mine dedup', () => ({ records: table.n, bytes: stats.bytes }), totalSize(inputs));
  try {
    for await (const batch of describeAll(lineBlocks(inputs, stats, spill), d, jobs)) table.append(batch);
  } finally {
    progress.stop();
  }
  return { table, bytes: stats.bytes };
}

export function summary(c: DedupCounts, skipped: number): string {
  const s = `${c.documents} documents: ${c.url} URL duplicates, ${c.near} near duplicates, ${c.index} already in the index; kept ${c.kept} (${c.clusters} clusters)`;
  return skipped ? `${s}; ${skipped} invalid lines skipped` : s;
}

export async function runDedup(o: DedupOptions): Promise<DedupCounts> {
  // Problems with the index or the outputs show before the long part.
  const indexes = o.index.map((p) => readIndex(p, o.minhash));
  for (const p of [o.output, o.clusters, o.writeIndex, o.report]) if (p && p !== STDIN) checkWritable(p);
  const spill = o.inputs.includes(STDIN) ? spillPath() : undefined;
  try {
    return await dedupWith(o, indexes, spill);
  } finally {
    removeSpill(spill);
  }
}

async function dedupWith(o: DedupOptions, indexes: DedupIndex[], spill: string | undefined): Promise<DedupCounts> {
  const { table } = await readTable(o.inputs, describeOptions(o), o.jobs, spill);
  const again = o.inputs.map((p) => (p === STDIN ? spill! : p));

  let near = o.near ? nearPairs(table) : undefined;
  if (near && o.verify !== undefined) near = await verifyPairs(again, table, near, o.minhash, o.textField, o.verify);
  const inIndex = new Uint8Array(table.n);
  if (indexes.length) indexMatches(table, indexes, inIndex);
  const choice = cluster(table, { urls: o.urls, near: o.near, keep: o.keep }, near, inIndex);

  await writeKept(again, table, choice.keptOf, { output: o.output, clusters: o.clusters, urlField: o.urlField, names: o.inputs });
  if (o.writeIndex) writeIndex(o.writeIndex, buildIndex(table, o.minhash, (d) => choice.keptOf[d] === d));
  const counts = countRemoved(table, choice);
  if (o.report) writeOutputFile(o.report, `${JSON.stringify({ ...counts, skipped: table.skipped, minhash: o.minhash, keep: o.keep, verify: o.verify ?? null }, null, 1)}\n`);
  info(summary(counts, table.skipped));
  return counts;
}
