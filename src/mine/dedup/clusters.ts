// From a table of documents to the choice of what is kept: URL pairs, LSH band pairs (optionally
// verified), index matches, union-find, the keep rule. Shared by the one-shot and the sharded forms.
import { UnionFind, chooseKept, type Choice, type KeepRule } from './cluster.js';
import { Pairs, bandColumn, bandPairs, urlPairs } from './lsh.js';
import type { DocTable } from './table.js';

export type Reason = 'url' | 'near' | 'index';

/** Reasons as stored in a PLAN file (0: kept). */
export const REASONS = [undefined, 'url', 'near', 'index'] as const;

export interface ClusterOptions {
  urls: boolean;
  near: boolean;
  keep: KeepRule;
}

/** Candidate near-duplicate pairs of all bands. */
export function nearPairs(t: DocTable): Pairs {
  const out = new Pairs();
  for (let b = 0; b < t.bands; b++) {
    const c = bandColumn(t.keys, t.sig, t.n, t.bands, b);
    bandPairs(c.ids, c.lo, c.hi, c.n, out);
  }
  return out;
}

export function cluster(t: DocTable, o: ClusterOptions, near: Pairs | undefined, inIndex: Uint8Array): Choice {
  const uf = new UnionFind(t.n);
  if (o.urls) {
    const p = new Pairs();
    urlPairs(t.url, t.n, p);
    for (let i = 0; i < p.n; i++) uf.union(p.a[i]!, p.b[i]!);
  }
  if (near) for (let i = 0; i < near.n; i++) uf.union(near.a[i]!, near.b[i]!);
  return chooseKept(uf, t.n, o.keep, t.score, t.length, inIndex);
}

/** Why document d was removed (undefined: kept). */
export function reasonOf(t: DocTable, keptOf: Int32Array, d: number): Reason | undefined {
  const k = keptOf[d]!;
  if (k === d) return undefined;
  if (k === -1) return 'index';
  return t.hasUrl(d) && t.url[2 * d] === t.url[2 * k] && t.url[2 * d + 1] === t.url[2 * k + 1] ? 'url' : 'near';
}

export interface DedupCounts {
  documents: number;
  kept: number;
  url: number;
  near: number;
  index: number;
  clusters: number;
  /** Documents too short for an n-gram: never near duplicates. */
  short: number;
}

export function countRemoved(t: DocTable, c: Choice): DedupCounts {
  const n: DedupCounts = { documents: t.n, kept: 0, url: 0, near: 0, index: 0, clusters: c.clusters, short: 0 };
  for (let d = 0; d < t.n; d++) {
    const r = reasonOf(t, c.keptOf, d);
    if (r) n[r]++;
    else n.kept++;
    if (!t.sig[d]) n.short++;
  }
  return n;
}
