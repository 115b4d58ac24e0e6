// Byte-level BPE training on pre-token counts (the expensive counting pass is done before, see
// train.ts). Merging is incremental: a pair index (pair -> words that may contain it) limits every merge
// to the words it touches, and a lazy max-heap of pair counts finds the next merge without rescanning.
// Tokens are byte strings, as in tiktoken: when a merge yields bytes that already form a token (the
// same string reached by another split), occurrences join that token instead of creating a duplicate,
// because a tiktoken ranks file maps each byte string to exactly one rank.
import { PairHeap } from './heap.js';

const SHIFT = 1 << 21; // ids below 2M: a pair fits a double exactly as a * SHIFT + b

export interface BpeResult {
  /** Bytes of each rank: 0..255 are the single bytes, then one entry per learned merge. */
  tokens: Uint8Array[];
  /** Sum over the corpus of tokens after all merges (for bytes/token). */
  corpusTokens: number;
  corpusBytes: number;
  /** Stopped early because no pair occurred min-frequency times. */
  exhausted: boolean;
}

export interface BpeOptions {
  /** Ordinary tokens wanted (256 single bytes included). */
  ranks: number;
  minFrequency: number;
  onMerge?: (made: number) => void;
}

export function trainBpe(words: Map<string, number>, opts: BpeOptions): BpeResult {
  const enc = new TextEncoder();
  // Words laid out in one arena: symbols of word w live in sym[start[w] .. start[w] + len[w]).
  const n = words.size;
  const start = new Int32Array(n);
  const len = new Int32Array(n);
  const count = new Float64Array(n);
  const encoded: Uint8Array[] = new Array(n);
  let total = 0;
  let w = 0;
  for (const [word, c] of words) {
    const b = enc.encode(word);
    encoded[w] = b;
    count[w] = c;
    total += b.length;
    w++;
  }
  const sym = new Int32Array(total);
  let corpusBytes = 0;
  for (let i = 0, o = 0; i < n; i++) {
    start[i] = o;
    len[i] = encoded[i].length;
    sym.set(encoded[i], o);
    o += encoded[i].length;
    corpusBytes += count[i] * encoded[i].length;
  }
  encoded.length = 0;

  const tokens: Uint8Array[] = [];
  const byBytes = new Map<string, number>();
  for (let b = 0; b < 256; b++) {
    tokens.push(Uint8Array.of(b));
    byBytes.set(String.fromCharCode(b), b);
  }

  const pairCount = new Map<number, number>();
  const where = new Map<number, number[]>();
  const note = (key: number, word: number) => {
    const list = where.get(key);
    if (!list) where.set(key, [word]);
    else if (list[list.length - 1] !== word) list.push(word);
  };
  for (let i = 0; i < n; i++) {
    const s = start[i];
    for (let j = s; j < s + len[i] - 1; j++) {
      const key = sym[j] * SHIFT + sym[j + 1];
      pairCount.set(key, (pairCount.get(key) ?? 0) + count[i]);
      note(key, i);
    }
  }
  const heap = new PairHeap();
  for (const [key, c] of pairCount) heap.push(c, key);

  const seen = new Int32Array(n).fill(-1);
  let step = 0;
  let exhausted = false;
  while (tokens.length < opts.ranks) {
    const top = heap.pop();
    if (!top) {
      exhausted = true;
      break;
    }
    const [c, key] = top;
    const cur = pairCount.get(key) ?? 0;
    if (c !== cur) {
      if (cur > 0) heap.push(cur, key); // counts only fall between pushes, so the stored one was stale
      continue;
    }
    if (c < opts.minFrequency) {
      exhausted = true;
      break;
    }
    const a = Math.floor(key / SHIFT);
    const b = key - a * SHIFT;
    const bytes = concat(tokens[a], tokens[b]);
    const bkey = latin1(bytes);
    let id = byBytes.get(bkey);
    if (id === undefined) {
      id = tokens.length;
      tokens.push(bytes);
      byBytes.set(bkey, id);
      opts.onMerge?.(tokens.length);
    }
    const list = where.get(key) ?? [];
    where.delete(key);
    pairCount.delete(key);
    const touched = new Set<number>();
    step++;
    for (const wi of list) {
      if (seen[wi] === step) continue;
      seen[wi] = step;
      const s = start[wi];
      const e = s + len[wi];
      let has = false;
      for (let j = s; j < e - 1; j++) {
        if (sym[j] === a && sym[j + 1] === b) {
          has = true;
          break;
        }
      }
      if (!has) continue; // a stale entry: an earlier merge already consumed the pair here
      const cw = count[wi];
      for (let j = s; j < e - 1; j++) {
        const k = sym[j] * SHIFT + sym[j + 1];
        if (k !== key) pairCount.set(k, (pairCount.get(k) ?? 0) - cw);
      }
      let o = s;
      for (let j = s; j < e; j++) {
        if (j < e - 1 && sym[j] === a && sym[j + 1] === b) {
          sym[o++] = id;
          j++;
        } else sym[o++] = sym[j];
      }
      len[wi] = o - s;
      for (let j = s; j < o - 1; j++) {
        const k = sym[j] * SHIFT + sym[j + 1];
        pairCount.set(k, (pairCount.get(k) ?? 0) + cw);
        if (sym[j] === id || sym[j + 1] === id) {
          note(k, wi);
          touched.add(k);
        }
      }
    }
    for (const k of touched) {
      const kc = pairCount.get(k)!;
      if (kc > 0) heap.push(kc, k);
    }
  }
  let corpusTokens = 0;
  for (let i = 0; i < n; i++) corpusTokens += count[i] * len[i];
  return { tokens, corpusTokens, corpusBytes, exhausted };
}

function concat(x: Uint8Array, y: Uint8Array): Uint8Array {
  const out = new Uint8Array(x.length + y.length);
  out.set(x, 0);
  out.set(y, x.length);
  return out;
}

function latin1(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}
