// The sharded form of dedup, for corpora larger than one machine's memory. Each step is an independent
// job over files, whose output appears only when complete (so its presence is the completion marker):
//   signatures  shard's documents -> SIG file (band keys, URL hash, score, length, line: ~130 B/doc)
//   buckets     all SIG files, a subset of bands -> PAIRS file (candidate pairs, global document numbers)
//   clusters    all SIG files + all PAIRS files (+ --index) -> PLAN (the document each one keeps)
//   filter      PLAN + one SIG file -> that shard's kept documents
// Documents are numbered globally by the order of the SIG files on the command line, which must be the
// same list in buckets and clusters (checked). Jaccard verification needs texts side by side and is a
// one-shot option only.
import { basename } from 'node:path';
import { DataError } from '../../cli/errors.js';
import { info } from '../../cli/log.js';
import { writeOutputFile } from '../../cli/output-file.js';
import { load, writeFramed } from '../framed.js';
import { STDIN } from '../../jsonl/index.js';
import { UsageError } from '../../cli/errors.js';
import type { KeepRule } from './cluster.js';
import { cluster, countRemoved, reasonOf } from './clusters.js';
import type { DescribeOptions } from './describe.js';
import { indexMatches, readIndex, buildIndex, writeIndex } from './index-file.js';
import { Pairs, bandPairs } from './lsh.js';
import type { MinHashConfig } from './minhash.js';
import { writeKept } from './output.js';
import { readTable, summary } from './run.js';
import { DocTable } from './table.js';

const SIG = 'MPDSIG01';
const PAIRS = 'MPDPAIR1';
const PLAN = 'MPDPLAN1';
const REASONS = [undefined, 'url', 'near', 'index'] as const;

// ---- SIG files -------------------------------------------------------------------------------------

interface SigHeader {
  minhash: MinHashConfig;
  inputs: string[];
  n: number;
  skipped: number;
  fields: { text: string; url: string; score: string };
}

export async function runSignatures(o: { inputs: string[]; output: string; jobs: number; describe: DescribeOptions }): Promise<void> {
  if (o.inputs.includes(STDIN)) throw new UsageError('signatures reads files (the filter step reads them again): stdin cannot be a shard');
  const { table: t } = await readTable(o.inputs, o.describe, o.jobs);
  const header: SigHeader = {
    minhash: o.describe.minhash,
    inputs: o.inputs,
    n: t.n,
    skipped: t.skipped,
    fields: { text: o.describe.textField, url: o.describe.urlField, score: o.describe.scoreField },
  };
  const n = t.n;
  const w = t.bands * 2;
  writeFramed(o.output, SIG, header, [t.score.subarray(0, n), t.keys.subarray(0, n * w), t.url.subarray(0, n * 2), t.length.subarray(0, n), t.line.subarray(0, n), t.file.subarray(0, n), t.sig.subarray(0, n)]);
  info(`${n} documents from ${o.inputs.length} inputs -> ${o.output}`);
}

export interface Sig {
  path: string;
  header: SigHeader;
  table: DocTable;
}

export function readSig(path: string, minhash?: MinHashConfig): Sig {
  const r = load(path, SIG, 'mine dedup signatures');
  const h = r.header as unknown as SigHeader;
  if (minhash && JSON.stringify(h.minhash) !== JSON.stringify(minhash)) throw new DataError(path, `made with MinHash settings ${JSON.stringify(h.minhash)}, expected ${JSON.stringify(minhash)}`);
  const t = new DocTable(h.minhash.bands);
  const n = h.n;
  t.n = n;
  t.score = r.take(Float64Array, n);
  t.keys = r.take(Uint32Array, n * t.bands * 2);
  t.url = r.take(Uint32Array, n * 2);
  t.length = r.take(Uint32Array, n);
  t.line = r.take(Uint32Array, n);
  t.file = r.take(Uint16Array, n);
  t.sig = r.take(Uint8Array, n);
  t.skipped = h.skipped;
  return { path, header: h, table: t };
}

/** The SIG list as stored in later files, to check that every step numbers documents the same way. */
function sigList(sigs: { path: string; n: number }[]) {
  return sigs.map((s) => ({ file: basename(s.path), n: s.n }));
}

function sameList(path: string, got: unknown, want: unknown): void {
  if (JSON.stringify(got) !== JSON.stringify(want)) throw new DataError(path, 'made from another list of SIG files (the same files, in the same order, must be given to buckets and clusters)');
}

// ---- buckets ---------------------------------------------------------------------------------------

export function runBuckets(o: { sigs: string[]; output: string; bands?: { index: number; count: number } }): void {
  const sigs = o.sigs.map((p) => readSig(p));
  const cfg = sigs[0]!.header.minhash;
  for (const s of sigs) if (JSON.stringify(s.header.minhash) !== JSON.stringify(cfg)) throw new DataError(s.path, 'MinHash settings differ from the first SIG file');
  const mine = Array.from({ length: cfg.bands }, (_, b) => b).filter((b) => !o.bands || b % o.bands.count === o.bands.index);
  const total = sigs.reduce((s, x) => s + x.table.n, 0);
  const pairs = new Pairs();
  for (const b of mine) {
    const ids = new Uint32Array(total);
    const lo = new Uint32Array(total);
    const hi = new Uint32Array(total);
    let m = 0;
    let base = 0;
    for (const { table: t } of sigs) {
      for (let d = 0; d < t.n; d++) {
        if (!t.sig[d]) continue;
        const k = (d * t.bands + b) * 2;
        ids[m] = base + d;
        lo[m] = t.keys[k]!;
        hi[m++] = t.keys[k + 1]!;
      }
      base += t.n;
    }
    bandPairs(ids, lo, hi, m, pairs);
  }
  const header = { sigs: sigList(sigs.map((s) => ({ path: s.path, n: s.table.n }))), bands: mine, pairs: pairs.n };
  writeFramed(o.output, PAIRS, header, [pairs.a.subarray(0, pairs.n), pairs.b.subarray(0, pairs.n)]);
  info(`bands ${mine.join(',')}: ${pairs.n} candidate pairs among ${total} documents -> ${o.output}`);
}

// ---- clusters --------------------------------------------------------------------------------------

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
    // The index needs the band keys: read each shard again, one at a time.
    const keep = choice.keptOf;
    let base = 0;
    const kept = new DocTable(cfg.bands);
    for (const path of o.sigs) {
      const t = readSig(path, cfg).table;
      const b0 = base;
      const sub = buildIndexTable(t, (d) => keep[b0 + d] === b0 + d);
      kept.append(sub);
      base += t.n;
    }
    writeIndex(o.writeIndex, buildIndex(kept, cfg, () => true));
  }
  if (o.report) writeOutputFile(o.report, `${JSON.stringify({ ...counts, skipped: all.skipped, minhash: cfg, keep: o.keep }, null, 1)}\n`);
  info(summary(counts, all.skipped));
}

function buildIndexTable(t: DocTable, keep: (d: number) => boolean) {
  const docs: number[] = [];
  for (let d = 0; d < t.n; d++) if (keep(d)) docs.push(d);
  const w = t.bands * 2;
  const keys = new Uint32Array(docs.length * w);
  const url = new Uint32Array(docs.length * 2);
  const sig = new Uint8Array(docs.length);
  docs.forEach((d, i) => {
    keys.set(t.keys.subarray(d * w, d * w + w), i * w);
    url.set(t.url.subarray(2 * d, 2 * d + 2), i * 2);
    sig[i] = t.sig[d]!;
  });
  const z = new Float64Array(docs.length);
  const u = new Uint32Array(docs.length);
  return { n: docs.length, keys, sig, url, score: z, length: u, line: u, file: 0, skipped: 0 };
}

// ---- filter ----------------------------------------------------------------------------------------

export async function runFilter(o: { plan: string; sig: string; output?: string; clusters?: string }): Promise<void> {
  const r = load(o.plan, PLAN, 'mine dedup clusters');
  const list = r.header.sigs as { file: string; n: number }[];
  const names = r.header.names as string[];
  const total = list.reduce((s, x) => s + x.n, 0);
  const keptOf = r.take(Int32Array, total);
  const file = r.take(Uint16Array, total);
  const line = r.take(Uint32Array, total);
  const reasons = r.take(Uint8Array, total);
  const s = readSig(o.sig);
  const at = list.findIndex((x) => x.file === basename(o.sig) && x.n === s.table.n);
  if (at < 0) throw new DataError(o.sig, `not one of the SIG files ${o.plan} was made from`);
  const base = list.slice(0, at).reduce((a, x) => a + x.n, 0);
  const n = s.table.n;
  // Local numbering for this shard; a kept document elsewhere is reported by its file and line.
  const local = new Int32Array(n);
  const away = new Map<number, { file: string; line: number }>();
  for (let d = 0; d < n; d++) {
    const k = keptOf[base + d]!;
    if (k >= base && k < base + n) local[d] = k - base;
    else if (k === -1) local[d] = -1;
    else {
      local[d] = -2 - d; // removed in favour of a document of another shard
      away.set(d, { file: names[file[k]!]!, line: line[k]! });
    }
  }
  await writeKept(s.header.inputs, s.table, local, { output: o.output, clusters: o.clusters, urlField: s.header.fields.url, names: s.header.inputs, away, reason: (d) => REASONS[reasons[base + d]!] });
  let kept = 0;
  for (let d = 0; d < n; d++) if (local[d] === d) kept++;
  info(`${n} documents, kept ${kept} -> ${o.output ?? 'stdout'}`);
}
