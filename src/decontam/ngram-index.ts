// The benchmark n-gram index and the matcher. The DeepSeekMath rule: a document is contaminated when
// any n-gram (n = 10) of it occurs in a benchmark text; a benchmark text of 3 to n-1 words is matched
// as an exact contiguous word sequence; texts under 3 words never match. "Short texts" here are all
// the exact sequences of 3 to MAX_N words: those texts, and the longer texts matched whole because none
// of their n-grams is evidence (build.ts).
//
// An n-gram key is a polynomial hash (mod 2^32, two independent lanes = 64 bits) over the words'
// hashes, computed from prefix sums so every window costs two multiplications per lane. With ~5M
// benchmark n-grams and 10^8 corpus windows the chance of any false match is about 3e-5.
//
// Speed: most corpus windows cannot match, and small bitsets (which stay in cache, unlike the 50 MB
// table) prove it cheaply. A window can only be a benchmark n-gram if each of its k-grams (k = 4)
// occurs in the benchmarks: one bit test per corpus word against a 1 MB set of benchmark 4-grams gives
// how long a run of such k-grams lasts, and only runs of n-k+1 reach the table. (Word pairs were
// tried first: on real web text 70% of windows passed them; 4-grams let 1% through.) Short texts are
// screened the same way with the set of their word trigrams and the set of their (first word, length)
// pairs.
//
// Building the index (build.ts) decides which benchmark n-grams are evidence; this file only matches.
import { GramTable } from './table.js';
import type { Words } from './words.js';

export const MIN_WORDS = 3;
// Short-text lengths are kept as bits of one 32-bit mask.
export const MAX_N = 31;

export const PA = 0x2545f491;
export const PB = 0x9e3779b1;
export const powA = new Uint32Array(MAX_N + 1);
export const powB = new Uint32Array(MAX_N + 1);
powA[0] = powB[0] = 1;
for (let k = 1; k <= MAX_N; k++) {
  powA[k] = Math.imul(powA[k - 1], PA);
  powB[k] = Math.imul(powB[k - 1], PB);
}
// Short texts of different lengths live in one table; salting by length keeps them apart.
export const saltA = Uint32Array.from({ length: MAX_N + 1 }, (_, k) => Math.imul(k + 1, 0x85ebca6b));
export const saltB = Uint32Array.from({ length: MAX_N + 1 }, (_, k) => Math.imul(k + 1, 0xc2b2ae35));

/** Prefix hashes of a word sequence, for the polynomial key of any window (see ngram-index.ts). */
export class Hasher {
  preA = new Uint32Array(1024);
  preB = new Uint32Array(1024);

  prefix(w: Words): void {
    if (this.preA.length < w.count + 1) {
      this.preA = new Uint32Array(2 * w.count + 2);
      this.preB = new Uint32Array(2 * w.count + 2);
    }
    const { preA, preB } = this;
    for (let i = 0; i < w.count; i++) {
      preA[i + 1] = Math.imul(preA[i], PA) + w.hashA[i];
      preB[i + 1] = Math.imul(preB[i], PB) + w.hashB[i];
    }
  }

  /** Key halves of words [i, i + k); salted by k for short texts and stoplist entries. */
  a(i: number, k: number, salt = false): number {
    const v = this.preA[i + k] - Math.imul(this.preA[i], powA[k]);
    return (salt ? v ^ saltA[k] : v) >>> 0;
  }

  b(i: number, k: number, salt = false): number {
    const v = this.preB[i + k] - Math.imul(this.preB[i], powB[k]);
    return (salt ? v ^ saltB[k] : v) >>> 0;
  }
}

export interface BenchInfo {
  name: string;
  file: string;
  fields: string[];
  items: number;
  /** Texts indexed as n-grams, as exact short sequences, and ignored for being under MIN_WORDS words. */
  texts: number;
  short: number;
  /** Texts of n words or more matched whole (by windows of MAX_N words when longer), none of their n-grams being evidence. */
  whole: number;
  tooShort: number;
  /** Final answers (answer, golden) under n words: values, never matched whole. */
  answers: number;
  /** Distinct n-grams indexed (first seen in this benchmark). */
  grams: number;
  /** N-grams and short texts left out as frequent in ordinary text (in the stoplist). */
  stoplisted: number;
  /** N-grams and short texts left out as shared by --max-items or more benchmark items (not stoplisted). */
  common: number;
  /** Texts none of whose n-grams (or whose short text) is left in the index: they can no longer match. */
  unmatchable: number;
}

/** How the index was built: the two rules that leave benchmark sequences out (build.ts). */
export interface IndexRules {
  /** N-grams and short texts found in this many distinct benchmark items or more are left out (0: none). */
  max_items: number;
  /** The stoplist of sequences frequent in ordinary text: its sources ("builtin", files) and entries. */
  stoplist: { sources: string[]; entries: number };
}

export const FILTER_BITS = 23;
export const FILTER_K = 4;
export const SHORT_VOCAB_BITS = 20;
/** Bit number (top SHORT_VOCAB_BITS bits) of a word trigram's polynomial hash. */
export function trigramBit(g: number): number {
  return Math.imul(g ^ (g >>> 15), 0x7feb352d) >>> (32 - SHORT_VOCAB_BITS);
}

/**
 * Bit number (top SHORT_VOCAB_BITS bits) of a short text's first word and its length: on math pages
 * most words start some short text ("the", "\\frac", "1"), but few start one of a given length.
 */
export function firstBit(hashB: number, k: number): number {
  return Math.imul(hashB ^ saltB[k], 0x9e3779b1) >>> (32 - SHORT_VOCAB_BITS);
}

/** Bit number (top FILTER_BITS bits) of a k-gram's polynomial hash. */
export function filterBit(g: number): number {
  return Math.imul(g ^ (g >>> 15), 0x2c1b3c6d) >>> (32 - FILTER_BITS);
}

export function setBit(bits: Uint32Array, h: number): void {
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
  /** Bit k set: some short text (whole sequence, 3 <= k <= MAX_N) has k words. */
  shortLengths = 0;
  benchmarks: BenchInfo[] = [];
  rules: IndexRules = { max_items: 0, stoplist: { sources: [], entries: 0 } };
  /** Benchmark, item and field of each indexed text, by text number (see texts). */
  private textMeta?: { bench: number[]; item: string[]; field: string[] };
  private loadTexts?: () => [number, string, string][];
  /** Benchmark of each text, from the index file's runs: a hit is counted without parsing the texts' list. */
  private benchByText?: Int32Array;
  /** Bitsets: k-grams of the indexed n-grams; word trigrams of short texts; first words of short texts, with their length. */
  filter: Uint32Array;
  /** k of the k-gram filter: FILTER_K, or n when n is smaller. */
  readonly k: number;
  shortTrigrams: Uint32Array;
  shortFirst: Uint32Array;
  /** The serialised index these tables are views of, when it lives in shared memory. */
  backing?: SharedArrayBuffer;
  /** The index file's bytes these tables are views of, when it was read from one (index-file.ts). */
  file?: Uint8Array;
  private lengths: number[] = [];
  private preA = new Uint32Array(1024);
  private preB = new Uint32Array(1024);

  constructor(
    readonly n: number,
    tables?: { grams: GramTable; short: GramTable; shortLengths: number; filter: Uint32Array; shortTrigrams: Uint32Array; shortFirst: Uint32Array },
  ) {
    this.grams = tables?.grams ?? new GramTable(16);
    this.short = tables?.short ?? new GramTable(8);
    this.filter = tables?.filter ?? new Uint32Array((1 << FILTER_BITS) / 32);
    this.k = Math.min(FILTER_K, n);
    this.shortTrigrams = tables?.shortTrigrams ?? new Uint32Array((1 << SHORT_VOCAB_BITS) / 32);
    this.shortFirst = tables?.shortFirst ?? new Uint32Array((1 << SHORT_VOCAB_BITS) / 32);
    if (tables) this.setShortLengths(tables.shortLengths);
  }

  get textBench(): number[] {
    return this.texts().bench;
  }

  get textItem(): string[] {
    return this.texts().item;
  }

  get textField(): string[] {
    return this.texts().field;
  }

  /**
   * The texts' metadata, from `load` when first needed: an index file holds it as ~2 MB of JSON that a
   * scan reads only to describe a hit (index-file.ts).
   */
  setTexts(load: () => [number, string, string][], benchRuns?: [number, number][]): void {
    this.textMeta = undefined;
    this.loadTexts = load;
    this.benchByText = undefined;
    if (!benchRuns) return;
    const by = new Int32Array(benchRuns.reduce((n, [, count]) => n + count, 0));
    let at = 0;
    for (const [bench, count] of benchRuns) by.fill(bench, at, (at += count));
    this.benchByText = by;
  }

  /** The benchmark (its number in `benchmarks`) that indexed text `text` comes from. */
  benchOf(text: number): number {
    return this.benchByText ? this.benchByText[text] : this.textBench[text];
  }

  /** The benchmark of each text as runs [benchmark, texts], in text order (texts are added benchmark by benchmark). */
  benchRuns(): [number, number][] {
    const runs: [number, number][] = [];
    for (const b of this.textBench) {
      const last = runs[runs.length - 1];
      if (last && last[0] === b) last[1]++;
      else runs.push([b, 1]);
    }
    return runs;
  }

  private texts(): { bench: number[]; item: string[]; field: string[] } {
    if (!this.textMeta) {
      const m: { bench: number[]; item: string[]; field: string[] } = { bench: [], item: [], field: [] };
      for (const [b, item, field] of this.loadTexts?.() ?? []) {
        m.bench.push(b);
        m.item.push(item);
        m.field.push(field);
      }
      this.textMeta = m;
      this.loadTexts = undefined;
    }
    return this.textMeta;
  }

  source(text: number): Source {
    return {
      benchmark: this.benchmarks[this.benchOf(text)].name,
      item: this.textItem[text],
      field: this.textField[text],
    };
  }

  /**
   * The first match among words [lo, hi) (the one that ends first; an n-gram before a short text
   * ending at the same word), or null. Pass 1 computes the prefix hashes and finds the first short
   * text, screened by runs of short-text trigrams. Pass 2 looks for n-gram windows ending before it:
   * a window needs its n-k+1 k-grams all in the filter, so each candidate end is checked from its
   * last k-gram backwards, and a k-gram that fails moves the next candidate past it. On text that
   * shares little with the benchmarks, that tests about one k-gram in n-k+1 instead of all of them.
   */
  firstHit(w: Words, lo = 0, hi = w.count): Hit | null {
    const m = hi - lo;
    if (m < MIN_WORDS) return null;
    if (this.preA.length < m + 1) {
      this.preA = new Uint32Array(2 * m + 2);
      this.preB = new Uint32Array(2 * m + 2);
    }
    const { preA, preB, shortTrigrams, shortFirst, lengths } = this;
    const { hashA, hashB } = w;
    const nl = lengths.length;
    // A short text of k words needs a run of k-2 of its trigrams.
    const minShort = nl ? lengths[0] - 2 : 0x7fffffff;
    const p3 = powA[3];
    let runS = 0;
    let pA = 0;
    let pB = 0;
    preA[0] = 0;
    preB[0] = 0;
    let short: Hit | null = null;
    let end = m; // words [0, end) have prefix hashes
    pass1: for (let j = 0; j < m; j++) {
      pA = (Math.imul(pA, PA) + hashA[lo + j]) | 0;
      pB = (Math.imul(pB, PB) + hashB[lo + j]) | 0;
      preA[j + 1] = pA;
      preB[j + 1] = pB;
      if (j < 2) continue;
      const t = trigramBit((pA - Math.imul(preA[j - 2], p3)) | 0);
      runS = (shortTrigrams[t >>> 5] >>> (t & 31)) & 1 ? runS + 1 : 0;
      if (runS < minShort) continue;
      for (let x = 0; x < nl; x++) {
        const k = lengths[x];
        if (k - 2 > runS) break;
        const i = j + 1 - k;
        const f = firstBit(hashB[lo + i], k);
        if (!((shortFirst[f >>> 5] >>> (f & 31)) & 1)) continue;
        const a = ((pA - Math.imul(preA[i], powA[k])) ^ saltA[k]) >>> 0;
        const b = ((pB - Math.imul(preB[i], powB[k])) ^ saltB[k]) >>> 0;
        const v = this.short.get(a, b);
        if (v !== -1) {
          short = { text: v, word: lo + i, words: k };
          end = j + 1;
          break pass1;
        }
      }
    }
    return this.firstGram(lo, end) ?? short;
  }

  /** Pass 2 of firstHit: the first n-gram match among windows ending before word `end` (relative to lo). */
  private firstGram(lo: number, end: number): Hit | null {
    const { preA, preB, filter, n, k, grams } = this;
    const need = n - k + 1; // k-grams per window
    const pk = powA[k];
    const pa = powA[n];
    const pb = powB[n];
    // k-gram t covers words t-k+1..t; it passes when its bit is set. [okFrom, okTo]: k-grams known to pass.
    let okFrom = 0;
    let okTo = -1;
    for (let e = n - 1; e < end; ) {
      const first = e - need + 1;
      let failed = -1;
      for (let t = e; t >= first; t--) {
        if (t <= okTo && t >= okFrom) t = okFrom;
        else {
          const g = filterBit((preA[t + 1] - Math.imul(preA[t + 1 - k], pk)) | 0);
          if (!((filter[g >>> 5] >>> (g & 31)) & 1)) {
            failed = t;
            break;
          }
        }
      }
      if (failed >= 0) {
        e = failed + need;
        continue;
      }
      okFrom = first;
      okTo = e;
      const i = e + 1 - n;
      const v = grams.get((preA[e + 1] - Math.imul(preA[i], pa)) >>> 0, (preB[e + 1] - Math.imul(preB[i], pb)) >>> 0);
      if (v !== -1) return { text: v, word: lo + i, words: n };
      e++;
    }
    return null;
  }

  setShortLengths(mask: number): void {
    this.shortLengths = mask;
    this.lengths = [];
    for (let k = MIN_WORDS; k <= MAX_N; k++) if (mask & (1 << k)) this.lengths.push(k);
  }

  /**
   * Every match among the words, n-grams and short texts, in order of position (n-grams first). For
   * measuring (stoplist, tests), not for the scan: nothing is screened.
   */
  forEachHit(w: Words, cb: (h: Hit) => void): void {
    const m = w.count;
    this.prefix(w, 0, m);
    const { preA, preB, n } = this;
    for (let i = 0; i + n <= m; i++) {
      const v = this.grams.get((preA[i + n] - Math.imul(preA[i], powA[n])) >>> 0, (preB[i + n] - Math.imul(preB[i], powB[n])) >>> 0);
      if (v !== -1) cb({ text: v, word: i, words: n });
    }
    for (const k of this.lengths) {
      for (let i = 0; i + k <= m; i++) {
        const a = ((preA[i + k] - Math.imul(preA[i], powA[k])) ^ saltA[k]) >>> 0;
        const b = ((preB[i + k] - Math.imul(preB[i], powB[k])) ^ saltB[k]) >>> 0;
        const v = this.short.get(a, b);
        if (v !== -1) cb({ text: v, word: i, words: k });
      }
    }
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
