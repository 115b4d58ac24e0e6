// Union-find over documents and the choice of the one document each cluster keeps. The anchors keep an
// arbitrary root; here the choice is a rule (--keep) with ties broken by input order, so the result is
// the same whatever order the pairs were found in (worker counts, shards).

export type KeepRule = 'best-score' | 'first' | 'longest';

export class UnionFind {
  readonly parent: Uint32Array;

  constructor(n: number) {
    this.parent = new Uint32Array(n);
    for (let i = 0; i < n; i++) this.parent[i] = i;
  }

  find(x: number): number {
    const p = this.parent;
    while (p[x] !== x) {
      p[x] = p[p[x]!]!;
      x = p[x]!;
    }
    return x;
  }

  /** Join two sets; the smaller index becomes the root, so roots are each set's earliest document. */
  union(x: number, y: number): boolean {
    const a = this.find(x);
    const b = this.find(y);
    if (a === b) return false;
    if (a < b) this.parent[b] = a;
    else this.parent[a] = b;
    return true;
  }
}

export interface Choice {
  /** For each document: the document its cluster keeps, or -1 when the cluster matched the index. */
  keptOf: Int32Array;
  clusters: number;
}

/**
 * Which document each cluster keeps. `better(x, y)`: x is preferred over y (y is earlier in input
 * order when they tie, so "not better" keeps the earlier one). `inIndex[d]`: d matched an earlier round,
 * so its whole cluster is a duplicate of something already kept.
 */
export function chooseKept(uf: UnionFind, n: number, rule: KeepRule, score: Float64Array, length: Uint32Array, inIndex?: Uint8Array): Choice {
  const best = new Int32Array(n).fill(-1);
  const flagged = new Uint8Array(n);
  const better = (x: number, y: number): boolean => {
    if (rule === 'first') return false;
    if (rule === 'longest') return length[x]! > length[y]!;
    const sx = score[x]!;
    const sy = score[y]!;
    // A document without a score loses to any with one.
    return !Number.isNaN(sx) && (Number.isNaN(sy) || sx > sy);
  };
  for (let d = 0; d < n; d++) {
    const r = uf.find(d);
    if (inIndex?.[d]) flagged[r] = 1;
    if (best[r] === -1 || better(d, best[r]!)) best[r] = d;
  }
  const keptOf = new Int32Array(n);
  const size = new Uint32Array(n);
  for (let d = 0; d < n; d++) {
    const r = uf.find(d);
    keptOf[d] = flagged[r] ? -1 : best[r]!;
    size[r]!++;
  }
  // A cluster: a set with more than one member, or one that matched the index.
  let clusters = 0;
  for (let d = 0; d < n; d++) if (uf.parent[d] === d && (size[d]! > 1 || flagged[d])) clusters++;
  return { keptOf, clusters };
}
