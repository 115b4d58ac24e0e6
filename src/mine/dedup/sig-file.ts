// SIG files: what the signatures step keeps of each document of a shard (band keys, URL hash, score,
// length, line: about 140 bytes a document), and the list of SIG files the later steps number documents
// by. Documents are numbered globally in the order the SIG files are given, which must be the same list
// for buckets and clusters: every later file stores the list, and it is checked.
import { basename } from 'node:path';
import { DataError, UsageError } from '../../cli/errors.js';
import { info } from '../../cli/log.js';
import { STDIN } from '../../jsonl/index.js';
import { load, writeFramed } from '../framed.js';
import type { DescribeOptions } from './describe.js';
import type { MinHashConfig } from './minhash.js';
import { readTable } from './run.js';
import { DocTable } from './table.js';

const SIG = 'MPDSIG01';

export interface SigHeader {
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
export function sigList(sigs: { path: string; n: number }[]) {
  return sigs.map((s) => ({ file: basename(s.path), n: s.n }));
}

export function sameList(path: string, got: unknown, want: unknown): void {
  if (JSON.stringify(got) !== JSON.stringify(want)) throw new DataError(path, 'made from another list of SIG files (the same files, in the same order, must be given to buckets and clusters)');
}
