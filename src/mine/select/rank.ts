// The order `mine select` keeps documents in: score descending, then a stable hash of the document id
// ascending (so equal scores are broken the same way on every machine and in every shard), then input
// position. A strict order: the cutoff is one point in it, and "at or above the cutoff" is a filter.

/** A 53-bit hash of a string (cyrb53): stable across runs and platforms, cheap, not cryptographic. */
export function stableHash(s: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

export interface RankKey {
  score: number;
  hash: number;
  /** Global input position (0-based document number). */
  pos: number;
}

/** Negative when a ranks before b. */
export function compareRank(a: RankKey, b: RankKey): number {
  if (a.score !== b.score) return b.score - a.score;
  if (a.hash !== b.hash) return a.hash - b.hash;
  return a.pos - b.pos;
}
