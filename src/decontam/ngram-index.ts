// The benchmark n-gram index and the matcher. The DeepSeekMath rule: a document is contaminated when
// any n-gram (n = 10) of it occurs in a benchmark text; a benchmark text of 3 to n-1 words is matched
// as an exact contiguous word sequence; texts under 3 words never match.
//
// An n-gram key is a polynomial hash (mod 2^32, two independent lanes = 64 bits) over the words'
// hashes, computed from prefix sums so every window costs two multiplications per lane. With ~5M
// benchmark n-grams and 10^8 corpus windows the chance of any false match is about 3e-5.
//
// Speed: most corpus windows cannot match, and small bitsets (which stay in cache, unlike the 100 MB
// table) prove it cheaply. A window can only be a benchmark n-gram if each of its n-1 adjacent word
// pairs occurs in the benchmarks: one bit test per corpus word against a 1 MB set of benchmark word
// pairs gives, for every position, how long such a run lasts, and only runs of n-1 pairs reach the
// table. Short texts are screened the same way with their own word set and set of first words.
//
// Texts made only of numbers and one-letter variables ("1 2 x", "x^2 + 2x + 1") say nothing about
// contamination and occur on every math page: short texts and n-grams with no word of two or more
// letters (or a CJK character) are not indexed.
import { GramTable } from './table.js';
import type { Words } from './words.js';

export const MIN_WORDS = 3;
// Short-text lengths are kept as bits of one 32-bit mask.
export const MAX_N = 31;

const PA = 0x2545f491;
const PB = 0x9e3779b1;
const powA = new Uint32Array(MAX_N + 1);
const powB = new Uint32Array(MAX_N + 1);
powA[0] = powB[0] = 1;
for (let k = 1; k <= MAX_N; k++) {
  powA[k] = Math.imul(powA[k - 1], PA);
  powB[k] = Math.imul(powB[k - 1], PB);
}
// Short texts of different lengths live in one table; salting by length keeps them apart.
const saltA = Uint32Array.from({ length: MAX_N + 1 }, (_, k) => Math.imul(k + 1, 0x85ebca6b));
const saltB = Uint32Array.from({ length: MAX_N + 1 }, (_, k) => Math.imul(k + 1, 0xc2b2ae35));

export interface BenchInfo {
  name: string;
  file: string;
  fields: string[];
  items: number;
  /** Texts indexed as n-grams, as exact short sequences, and ignored for being under MIN_WORDS words. */
  texts: number;
  short: number;
  tooShort: number;
  /** Short texts of numbers and one-letter variables only, not indexed. */
  indistinct: number;
  grams: number;
}

export const PAIR_BITS = 23;
export const SHORT_VOCAB_BITS = 16;
const DISTINCT = /\p{L}[^]*\p{L}|[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Bopomofo}]/u;

/** Bit number (top PAIR_BITS bits) of the adjacent word pair (x, y). */
function pairHash(xB: number, yA: number): number {
  return (xB + Math.imul(yA, 0x85ebca6b)) >>> (32 - PAIR_BITS);
}

function setBit(bits: Uint32Array, h: number): void {
  bits[h >>> 5] |= 1 << (h & 31);
}

/** Where a matching n-gram came from. */
export interface Source {
  benchmark: string;
  item: string;
  field: string;
}

export interface Hit {
  /** Index into the index's texts. */
  text: number;
  /** Word position and length of the match in the scanned words. */
  word: number;
  words: number;
}

export class NgramIndex {
  grams: GramTable;
  short: GramTable;
  /** Bit k set: some short text has k words. */
  shortLengths = 0;
  benchmarks: BenchInfo[] = [];
  textBench: number[] = [];
  textItem: string[] = [];
  textField: string[] = [];
  /** Bitsets: adjacent word pairs of n-gram texts; words of short texts; first words of short texts. */
  pairs: Uint32Array;
  shortVocab: Uint32Array;
  shortFirst: Uint32Array;
  private lengths: number[] = [];
  private preA = new Uint32Array(1024);
  private preB = new Uint32Array(1024);
  private aheadG = new Int32Array(1024);
  private aheadS = new Int32Array(1024);

  constructor(
    readonly n: number,
    tables?: { grams: GramTable; short: GramTable; shortLengths: number; pairs: Uint32Array; shortVocab: Uint32Array; shortFirst: Uint32Array },
  ) {
    this.grams = tables?.grams ?? new GramTable(16);
    this.short = tables?.short ?? new GramTable(8);
    this.pairs = tables?.pairs ?? new Uint32Array((1 << PAIR_BITS) / 32);
    this.shortVocab = tables?.shortVocab ?? new Uint32Array((1 << SHORT_VOCAB_BITS) / 32);
    this.shortFirst = tables?.shortFirst ?? new Uint32Array((1 << SHORT_VOCAB_BITS) / 32);
    if (tables) this.setShortLengths(tables.shortLengths);
  }

  source(text: number): Source {
    return {
      benchmark: this.benchmarks[this.textBench[text]].name,
      item: this.textItem[text],
      field: this.textField[text],
    };
  }

  /** Add one benchmark text (already split into words) for benchmark number `bench`. */
  add(w: Words, bench: number, item: string, field: string): 'grams' | 'short' | 'too-short' | 'indistinct' {
    const info = this.benchmarks[bench];
    const count = w.count;
    if (count < MIN_WORDS) {
      info.tooShort++;
      return 'too-short';
    }
    // distinctBefore[i]: words of two or more letters among the first i words.
    const distinctBefore = new Int32Array(count + 1);
    for (let i = 0; i < count; i++) distinctBefore[i + 1] = distinctBefore[i] + (DISTINCT.test(w.text.slice(w.start[i], w.end[i])) ? 1 : 0);
    if (count < this.n && distinctBefore[count] === 0) {
      info.indistinct++;
      return 'indistinct';
    }
    const id = this.textBench.length;
    this.textBench.push(bench);
    this.textItem.push(item);
    this.textField.push(field);
    this.prefix(w, 0, count);
    const { preA, preB } = this;
    if (count < this.n) {
      const k = count;
      const a = (preA[k] - Math.imul(preA[0], powA[k])) ^ saltA[k];
      const b = (preB[k] - Math.imul(preB[0], powB[k])) ^ saltB[k];
      this.short.add(a >>> 0, b >>> 0, id);
      this.setShortLengths(this.shortLengths | (1 << k));
      for (let i = 0; i < k; i++) setBit(this.shortVocab, w.hashB[i] >>> (32 - SHORT_VOCAB_BITS));
      setBit(this.shortFirst, w.hashB[0] >>> (32 - SHORT_VOCAB_BITS));
      info.short++;
      return 'short';
    }
    const n = this.n;
    const pa = powA[n];
    const pb = powB[n];
    for (let i = 0; i + 1 < count; i++) setBit(this.pairs, pairHash(w.hashB[i], w.hashA[i + 1]));
    for (let i = 0; i + n <= count; i++) {
      if (distinctBefore[i + n] === distinctBefore[i]) continue;
      const a = (preA[i + n] - Math.imul(preA[i], pa)) >>> 0;
      const b = (preB[i + n] - Math.imul(preB[i], pb)) >>> 0;
      if (this.grams.add(a, b, id)) info.grams++;
    }
    info.texts++;
    return 'grams';
  }

  /** The first match among words [lo, hi), scanning left to right, or null. */
  firstHit(w: Words, lo = 0, hi = w.count): Hit | null {
    const m = hi - lo;
    if (m < MIN_WORDS) return null;
    if (this.aheadG.length < m + 1) {
      this.aheadG = new Int32Array(2 * m + 2);
      this.aheadS = new Int32Array(2 * m + 2);
    }
    // aheadG[i]: adjacent pairs from word i on that are all benchmark pairs (a window of n words
    // needs n-1); aheadS[i]: words from i on that are all short-text words.
    const { aheadG, aheadS, pairs, shortVocab, shortFirst } = this;
    const { hashA, hashB } = w;
    aheadG[m - 1] = 0;
    const last = hashB[hi - 1] >>> (32 - SHORT_VOCAB_BITS);
    aheadS[m - 1] = (shortVocab[last >>> 5] >>> (last & 31)) & 1;
    for (let i = m - 2; i >= 0; i--) {
      const h = hashB[lo + i];
      const g = (h + Math.imul(hashA[lo + i + 1], 0x85ebca6b)) >>> (32 - PAIR_BITS);
      aheadG[i] = (pairs[g >>> 5] >>> (g & 31)) & 1 ? aheadG[i + 1] + 1 : 0;
      const s = h >>> (32 - SHORT_VOCAB_BITS);
      aheadS[i] = (shortVocab[s >>> 5] >>> (s & 31)) & 1 ? aheadS[i + 1] + 1 : 0;
    }
    this.prefix(w, lo, hi);
    const { preA, preB, n, lengths } = this;
    const pa = powA[n];
    const pb = powB[n];
    const grams = this.grams;
    const nl = lengths.length;
    const minShort = nl ? lengths[0] : m + 1;
    for (let i = 0; i < m; i++) {
      if (aheadG[i] >= n - 1) {
        const a = (preA[i + n] - Math.imul(preA[i], pa)) >>> 0;
        const v = grams.get(a, (preB[i + n] - Math.imul(preB[i], pb)) >>> 0);
        if (v !== -1) return { text: v, word: lo + i, words: n };
      }
      const run = aheadS[i];
      if (run < minShort) continue;
      const s = hashB[lo + i] >>> (32 - SHORT_VOCAB_BITS);
      if (!((shortFirst[s >>> 5] >>> (s & 31)) & 1)) continue;
      for (let j = 0; j < nl; j++) {
        const k = lengths[j];
        if (k > run) break;
        const a = ((preA[i + k] - Math.imul(preA[i], powA[k])) ^ saltA[k]) >>> 0;
        const b = ((preB[i + k] - Math.imul(preB[i], powB[k])) ^ saltB[k]) >>> 0;
        const v = this.short.get(a, b);
        if (v !== -1) return { text: v, word: lo + i, words: k };
      }
    }
    return null;
  }

  private setShortLengths(mask: number): void {
    this.shortLengths = mask;
    this.lengths = [];
    for (let k = MIN_WORDS; k < this.n; k++) if (mask & (1 << k)) this.lengths.push(k);
  }

  private prefix(w: Words, lo: number, hi: number): void {
    if (this.preA.length < hi - lo + 1) {
      this.preA = new Uint32Array((hi - lo + 1) * 2);
      this.preB = new Uint32Array((hi - lo + 1) * 2);
    }
    const { preA, preB } = this;
    const { hashA, hashB } = w;
    preA[0] = 0;
    preB[0] = 0;
    for (let i = lo; i < hi; i++) {
      preA[i - lo + 1] = Math.imul(preA[i - lo], PA) + hashA[i];
      preB[i - lo + 1] = Math.imul(preB[i - lo], PB) + hashB[i];
    }
  }
}
