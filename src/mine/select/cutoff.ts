// Where the budget runs out: walk the documents in rank order and keep them while the next one still
// fits. A prefix of the ranking, never over the budget; its last document is the cutoff, so "at or above
// the cutoff" selects exactly it, in one shard or many.
import { compareRank, type RankKey } from './rank.js';

export interface Cutoff {
  /** The last kept document's rank key; undefined when nothing fits. */
  last?: RankKey;
  documents: number;
  tokens: number;
  /** The first document that did not fit (its tokens), or undefined when everything fit. */
  next?: { score: number; tokens: number };
}

/** Walk documents given in rank order. */
export function walk(ranked: Iterable<RankKey & { tokens: number }>, budget: number): Cutoff {
  const c: Cutoff = { documents: 0, tokens: 0 };
  for (const d of ranked) {
    if (c.tokens + d.tokens > budget) {
      c.next = { score: d.score, tokens: d.tokens };
      break;
    }
    c.tokens += d.tokens;
    c.documents++;
    c.last = { score: d.score, hash: d.hash, pos: d.pos };
  }
  return c;
}

export function isKept(k: RankKey, c: Cutoff): boolean {
  return c.last !== undefined && compareRank(k, c.last) <= 0;
}
