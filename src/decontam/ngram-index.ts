// The benchmark n-gram index and the matcher. The DeepSeekMath rule: a document is contaminated when
// any n-gram (n = 10) of it occurs in a benchmark text; a benchmark text of 3 to n-1 words is matched
// as an exact contiguous word sequence; texts under 3 words never match.
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
// screened the same way with the set of their word trigrams and the set of their first words.
//
// Formula debris says nothing about contamination and occurs on every math page: once LaTeX is
// reduced to words, "a^2 + b^2 = c^2" is "a 2 b 2 c 2". Checked on real web text (Stack Exchange),
// n-grams like "that 2 2 2 2 2 2 2 2 2" or "the ellipse x 2 a 2 y 2 b 2" removed documents that only
// share notation with MATH. So an n-gram is indexed only when it holds content words: at least 2
// (1 when n < 6), a content word being a CJK character or a word of three or more letters that is not
// an English function word or a stock instruction ("find", "compute": "Find 5/3" says nothing either). A text none of whose n-grams qualifies (a problem that is all formula,
// "Compute (1990^3 - 1000^3 - 990^3)/(1990 * 1000 * 990)") keeps every n-gram with a word of three or
// more letters. A short text is indexed only when it has a content word ("12 and 13", a MARIO final
// answer, is not).
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
  /** Short texts without a content word (numbers, one-letter variables, function words), not indexed. */
  indistinct: number;
  grams: number;
}

export const FILTER_BITS = 23;
export const FILTER_K = 4;
export const SHORT_VOCAB_BITS = 16;
const DISTINCT = /\p{L}[^]*\p{L}|[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Bopomofo}]/u;

// English function words and stock instructions: they do not count as content words (see above).
const FUNCTION_WORDS = new Set(
  ('all also and any are because but can does each every for from had has have her here his how into its ' +
    'just let not now only our she since some such than that the their them then there these they this ' +
    'those thus hence therefore was were what when where which who why will with would you your ' +
    'find compute calculate evaluate simplify solve determine express show prove write give given suppose').split(' '),
);

/** A word of two or more letters, or a CJK character (not a number or a one-letter variable). */
function isDistinct(text: string, start: number, end: number): boolean {
  let letters = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 128) return DISTINCT.test(text.slice(start, end));
    if (((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a && ++letters === 2)) return true;
  }
  return false;
}

/** For word i: [a CJK character or a word of three or more letters, such a word not in FUNCTION_WORDS]. */
function classifyWord(w: Words, i: number): [boolean, boolean] {
  const word = w.text.slice(w.start[i], w.end[i]);
  if (CJK.test(word)) return [true, true];
  let letters = 0;
  for (const ch of word) if (LETTER.test(ch)) letters++;
  if (letters < 3) return [false, false];
  return [true, !FUNCTION_WORDS.has(word.replace(/['’ʼ]/g, '').toLowerCase())];
}

const CJK = /^[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Bopomofo}]$/u;
const LETTER = /\p{L}/u;

/** Bit number (top SHORT_VOCAB_BITS bits) of a word trigram's polynomial hash. */
function trigramBit(g: number): number {
  return Math.imul(g ^ (g >>> 15), 0x7feb352d) >>> (32 - SHORT_VOCAB_BITS);
}

/** Bit number (top FILTER_BITS bits) of a k-gram's polynomial hash. */
function filterBit(g: number): number {
  return Math.imul(g ^ (g >>> 15), 0x2c1b3c6d) >>> (32 - FILTER_BITS);
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
  /** Bitsets: k-grams of n-gram texts; word trigrams of short texts; first words of short texts. */
  filter: Uint32Array;
  /** k of the k-gram filter: FILTER_K, or n when n is smaller. */
  readonly k: number;
  shortTrigrams: Uint32Array;
  shortFirst: Uint32Array;
  /** The serialised index these tables are views of, when it lives in shared memory. */
  backing?: SharedArrayBuffer;
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
    // wordsBefore[i] / contentBefore[i]: words of three or more letters (or CJK) / content words among the first i.
    const wordsBefore = new Int32Array(count + 1);
    const contentBefore = new Int32Array(count + 1);
    for (let i = 0; i < count; i++) {
      const [word, content] = isDistinct(w.text, w.start[i], w.end[i]) ? classifyWord(w, i) : [false, false];
      wordsBefore[i + 1] = wordsBefore[i] + (word ? 1 : 0);
      contentBefore[i + 1] = contentBefore[i] + (content ? 1 : 0);
    }
    if (count < this.n && contentBefore[count] === 0) {
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
      for (let i = 0; i + 3 <= k; i++) setBit(this.shortTrigrams, trigramBit((preA[i + 3] - Math.imul(preA[i], powA[3])) | 0));
      setBit(this.shortFirst, w.hashB[0] >>> (32 - SHORT_VOCAB_BITS));
      info.short++;
      return 'short';
    }
    const n = this.n;
    const pa = powA[n];
    const pb = powB[n];
    const k = this.k;
    for (let i = 0; i + k <= count; i++) setBit(this.filter, filterBit((preA[i + k] - Math.imul(preA[i], powA[k])) | 0));
    const need = n < 6 ? 1 : 2;
    let qualifying = false;
    for (let i = 0; i + n <= count && !qualifying; i++) qualifying = contentBefore[i + n] - contentBefore[i] >= need;
    // All formula: fall back to windows with any word of three or more letters.
    const [before, min] = qualifying ? [contentBefore, need] : [wordsBefore, 1];
    for (let i = 0; i + n <= count; i++) {
      if (before[i + n] - before[i] < min) continue;
      const a = (preA[i + n] - Math.imul(preA[i], pa)) >>> 0;
      const b = (preB[i + n] - Math.imul(preB[i], pb)) >>> 0;
      if (this.grams.add(a, b, id)) info.grams++;
    }
    info.texts++;
    return 'grams';
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
        const f = hashB[lo + i] >>> (32 - SHORT_VOCAB_BITS);
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
