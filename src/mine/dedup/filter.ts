// Sharded dedup, step 4: one shard's kept documents, its inputs read again, with the PLAN's choice.
import { basename } from 'node:path';
import { DataError } from '../../cli/errors.js';
import { info } from '../../cli/log.js';
import { load } from '../framed.js';
import { REASONS } from './clusters.js';
import { writeKept } from './output.js';
import { PLAN } from './plan.js';
import { readSig } from './sig-file.js';

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
