// Sharded dedup, step 3: join every shard's URL duplicates, the candidate pairs of all bands and the
// index matches, choose what each cluster keeps, and write the PLAN (per document: the document it
// keeps, its input and line, the reason) that the filter jobs read. Holds about 30 bytes a document:
// not the band keys, which the pairs stand for.
import { UsageError } from '../../cli/errors.js';
import { info } from '../../cli/log.js';
import { writeOutputFile } from '../../cli/output-file.js';
import { load, writeFramed } from '../framed.js';
import { PAIRS } from './buckets.js';
import type { KeepRule } from './cluster.js';
import { cluster, countRemoved, reasonOf, REASONS } from './clusters.js';
import { buildIndex, indexMatches, mergeIndexes, readIndex, writeIndex, type DedupIndex } from './index-file.js';
import { Pairs } from './lsh.js';
import { summary } from './run.js';
import { readSig, sameList, sigList } from './sig-file.js';
import { DocTable } from './table.js';

export const PLAN = 'MPDPLAN1';

export interface ClustersOptions {
  sigs: string[];
  pairs: string[];
  output: string;
  keep: KeepRule;
  urls: boolean;
  index: string[];
  writeIndex?: string;
  report?: string;
}

export function runClusters(o: ClustersOptions): void {
  // One table over all shards without the band keys (the pairs stand for them): 30 bytes a document.
  const first = readSig(o.sigs[0]!);
  const cfg = first.header.minhash;
  const indexes = o.index.map((p) => readIndex(p, cfg));
  const parts: { path: string; n: number; inputs: string[] }[] = [];
  const all = new DocTable(0);
  const inIndex: number[] = [];
  const names: string[] = [];
  for (const path of o.sigs) {
    const s = path === first.path ? first : readSig(path, cfg);
    const t = s.table;
    if (indexes.length) {
      const hit = new Uint8Array(t.n);
      indexMatches(t, indexes, hit);
      hit.forEach((h, d) => h && inIndex.push(all.n + d));
    }
    all.append({ n: t.n, keys: new Uint32Array(0), sig: t.sig, url: t.url, score: t.score, length: t.length, line: t.line, file: 0, skipped: t.skipped });
    // Global file numbers, so the plan can name any document's input.
    all.file.set(t.file.subarray(0, t.n).map((f) => f + names.length), all.n - t.n);
    names.push(...s.header.inputs);
    parts.push({ path, n: t.n, inputs: s.header.inputs });
  }
  const want = sigList(parts);
  const near = new Pairs();
  const covered = new Set<number>();
  for (const p of o.pairs) {
    const r = load(p, PAIRS, 'mine dedup buckets');
    sameList(p, r.header.sigs, want);
    for (const b of r.header.bands as number[]) covered.add(b);
    const n = r.header.pairs as number;
    const a = r.take(Uint32Array, n);
    const b = r.take(Uint32Array, n);
    for (let i = 0; i < n; i++) near.push(a[i]!, b[i]!);
  }
  const missing = Array.from({ length: cfg.bands }, (_, b) => b).filter((b) => !covered.has(b));
  if (missing.length) throw new UsageError(`no PAIRS file covers band${missing.length > 1 ? 's' : ''} ${missing.join(', ')}: run mine dedup buckets for them first`);
  const flagged = new Uint8Array(all.n);
  for (const d of inIndex) flagged[d] = 1;
  const choice = cluster(all, { urls: o.urls, near: true, keep: o.keep }, near, flagged);
  const counts = countRemoved(all, choice);
  const reasons = new Uint8Array(all.n);
  for (let d = 0; d < all.n; d++) reasons[d] = REASONS.indexOf(reasonOf(all, choice.keptOf, d));
  writeFramed(o.output, PLAN, { sigs: want, names, counts }, [choice.keptOf, all.file.subarray(0, all.n), all.line.subarray(0, all.n), reasons]);
  if (o.writeIndex) {
    // The index needs the band keys: read each shard again, one at a time, and index its kept documents.
    const parts: DedupIndex[] = [];
    let base = 0;
    for (const path of o.sigs) {
      const t = readSig(path, cfg).table;
      const b0 = base;
      parts.push(buildIndex(t, cfg, (d) => choice.keptOf[b0 + d] === b0 + d));
      base += t.n;
    }
    writeIndex(o.writeIndex, mergeIndexes(cfg, parts));
  }
  if (o.report) writeOutputFile(o.report, `${JSON.stringify({ ...counts, skipped: all.skipped, minhash: cfg, keep: o.keep }, null, 1)}\n`);
  info(summary(counts, all.skipped));
}
