// The benchmark n-gram index and the matcher. The DeepSeekMath rule: a document is contaminated when
// any n-gram (n = 10) of it occurs in a benchmark text; a benchmark text of 3 to n-1 words is matched
// as an exact contiguous word sequence; texts under 3 words never match.
//
// An n-gram key is a polynomial hash (mod 2^32, two independent lanes = 64 bits) over the words'
// hashes, computed from prefix sums so every window costs two multiplications per lane. With ~5M
// benchmark n-grams and 10^8 corpus windows the chance of any false match is about 3e-5.
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
  grams: number;
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
  private lengths: number[] = [];
  private preA = new Uint32Array(1024);
  private preB = new Uint32Array(1024);

  constructor(
    readonly n: number,
    tables?: { grams: GramTable; short: GramTable; shortLengths: number },
  ) {
    this.grams = tables?.grams ?? new GramTable(16);
    this.short = tables?.short ?? new GramTable(8);
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
  add(w: Words, bench: number, item: string, field: string): 'grams' | 'short' | 'too-short' {
    const info = this.benchmarks[bench];
    if (w.count < MIN_WORDS) {
      info.tooShort++;
      return 'too-short';
    }
    const id = this.textBench.length;
    this.textBench.push(bench);
    this.textItem.push(item);
    this.textField.push(field);
    this.prefix(w, 0, w.count);
    const { preA, preB } = this;
    if (w.count < this.n) {
      const k = w.count;
      const a = (preA[k] - Math.imul(preA[0], powA[k])) ^ saltA[k];
      const b = (preB[k] - Math.imul(preB[0], powB[k])) ^ saltB[k];
      this.short.add(a >>> 0, b >>> 0, id);
      this.setShortLengths(this.shortLengths | (1 << k));
      info.short++;
      return 'short';
    }
    const n = this.n;
    const pa = powA[n];
    const pb = powB[n];
    for (let i = 0; i + n <= w.count; i++) {
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
    this.prefix(w, lo, hi);
    const { preA, preB, n, lengths } = this;
    const pa = powA[n];
    const pb = powB[n];
    const grams = this.grams;
    const nl = lengths.length;
    for (let i = 0; i < m; i++) {
      if (i + n <= m) {
        const a = (preA[i + n] - Math.imul(preA[i], pa)) >>> 0;
        const v = grams.get(a, (preB[i + n] - Math.imul(preB[i], pb)) >>> 0);
        if (v !== -1) return { text: v, word: lo + i, words: n };
      }
      for (let j = 0; j < nl; j++) {
        const k = lengths[j];
        if (i + k > m) break;
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
