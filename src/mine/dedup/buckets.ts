// Sharded dedup, step 2: the candidate pairs of the bands this job owns, over all shards' documents
// (one job per band, as datatrove runs one per bucket).
import { DataError } from '../../cli/errors.js';
import { info } from '../../cli/log.js';
import { writeFramed } from '../framed.js';
import { Pairs, bandPairs } from './lsh.js';
import { readSig, sigList } from './sig-file.js';

export const PAIRS = 'MPDPAIR1';

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
