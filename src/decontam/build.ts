// Building the benchmark index: which benchmark word sequences are evidence of contamination.
//
// The paper's rule indexes every 10-gram of every benchmark text, and every text of 3..9 words whole.
// Taken literally it removes math pages for sharing phrasing that belongs to no benchmark item
// ("1 2 3 4 5 6 7 8 9 10", "x 3 y 3 x y x 2 xy y", "let a b and c be real numbers such that"), and
// final answers ("8-2\pi") match any page that mentions the value. A sequence is not evidence when:
//   1. it is frequent in ordinary text, by the stoplist (stopset.ts): word sequences counted on a clean
//      corpus (`mathpipe decontam stoplist`; the built-in one was measured on real web text):
//      a. an n-gram or whole text that is a contiguous part of a stoplist entry; or
//      b. an n-gram all of whose STOP_K-grams (word pairs) are stoplist entries: a chain of ordinary
//         pairs. Ten-word sequences are too rare to count in any clean corpus one has, so their
//         frequency is estimated from their pairs (a first-order Markov estimate); formula runs and
//         stock phrasing are such chains, while a benchmark's own words ("Natalia sold", "\cos 315")
//         break the chain.
//   2. it is shared by --max-items (T) or more distinct benchmark items. Items are counted once however
//      many files hold them (GSM8K test and test_socratic, MATH and MATH-500 share questions): an item
//      is known by its first text (the question). For a whole text, an item counts when any of its
//      texts contains it as a contiguous word sequence.
// Whole texts (3..n-1 words) are exempt from 1b: a whole benchmark problem copied is evidence however
// ordinary its words ("What is $\frac{1}{2} + \frac{1}{3}$?"). A text of n words or more none of whose
// n-grams is left is matched whole too, by the same rules (a longer one than MAX_N words by its windows
// of MAX_N words). A final answer (bench.ts) is a value, not a text: its n-grams count, it is never
// matched whole.
// Nothing else is left out: numbers, LaTeX command words and function words all count. The report
// counts per benchmark what each rule left out (stoplisted, common) and the texts that can no longer
// match at all (unmatchable).
//
// Texts are split several times (collect, count, decide, build): splitting runs at ~100 MB/s and the
// benchmarks are tens of MB, while keeping every text's word hashes would cost more than the index.
import { GramTable } from './table.js';
import {
  NgramIndex,
  Hasher,
  MIN_WORDS,
  MAX_N,
  SHORT_VOCAB_BITS,
  PA,
  PB,
  saltA,
  saltB,
  filterBit,
  firstBit,
  trigramBit,
  setBit,
  type BenchInfo,
} from './ngram-index.js';
import { STOP_K, type StopSet } from './stopset.js';
import { Words, splitWords } from './words.js';
import { DEFAULT_MAX_ITEMS } from './defaults.js';

export { DEFAULT_MAX_ITEMS };

/** Growable Int32Array. */
class Ints {
  a = new Int32Array(1024);
  length = 0;
  push(v: number): number {
    if (this.length === this.a.length) {
      const b = new Int32Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.length] = v;
    return this.length++;
  }
}

interface Text {
  raw: string;
  bench: number;
  group: number;
  /** Index into the index's texts, or -1 for a text under MIN_WORDS words. */
  id: number;
  /** Words (after normalisation). */
  count: number;
  /** Matched whole: a short text, or a longer one none of whose n-grams is evidence. */
  whole: boolean;
  /** For a text matched whole: the length of its windows (its length, at most MAX_N). */
  span: number;
}

export interface BuildOptions {
  /** Leave out n-grams and whole texts found in this many distinct benchmark items or more (0: never). */
  maxItems?: number;
  stop?: StopSet;
}

type Counts = { first: Ints; count: Ints; last: Ints };
const counts = (): Counts => ({ first: new Ints(), count: new Ints(), last: new Ints() });

/** Count one more item group for entry e (once per group). */
function bump(c: Counts, e: number, group: number): void {
  if (c.last.a[e] === group) return;
  c.last.a[e] = group;
  c.count.a[e]++;
}

export class IndexBuilder {
  readonly index: NgramIndex;
  private texts: Text[] = [];
  private groups = new Map<string, number>();
  private w = new Words();
  private h = new Hasher();
  private run = new Int32Array(1024);

  constructor(
    readonly n: number,
    private readonly o: BuildOptions = {},
  ) {
    this.index = new NgramIndex(n);
  }

  addBenchmark(info: Pick<BenchInfo, 'name' | 'file' | 'fields' | 'items'>): number {
    this.index.benchmarks.push({ ...info, texts: 0, short: 0, whole: 0, tooShort: 0, answers: 0, grams: 0, stoplisted: 0, common: 0, unmatchable: 0 });
    return this.index.benchmarks.length - 1;
  }

  /** The item group of an item whose first text is `raw`: items with the same first text are one item. */
  group(raw: string): number {
    const w = splitWords(raw, this.w);
    let a = 0;
    let b = 0;
    for (let i = 0; i < w.count; i++) {
      a = (Math.imul(a, PA) + w.hashA[i]) | 0;
      b = (Math.imul(b, PB) + w.hashB[i]) | 0;
    }
    const key = `${w.count}:${a}:${b}`;
    let g = this.groups.get(key);
    if (g === undefined) this.groups.set(key, (g = this.groups.size));
    return g;
  }

  /**
   * Add one benchmark text of item `item` (in item group `group`). A final answer (`answer` true) is a
   * value, not a text: only its n-grams count (GSM8K's answer is a whole rationale), it is never
   * matched whole as a short text ("8-2\pi", "(r+5)^2" are common expressions).
   */
  add(raw: string, bench: number, item: string, field: string, group: number, answer = false): void {
    const info = this.index.benchmarks[bench];
    const count = splitWords(raw, this.w).count;
    const t: Text = { raw, bench, group, id: -1, count, whole: count < this.n, span: count };
    if (count < MIN_WORDS) info.tooShort++;
    else if (answer && t.whole) info.answers++;
    else {
      const idx = this.index;
      t.id = idx.textBench.length;
      idx.textBench.push(bench);
      idx.textItem.push(item);
      idx.textField.push(field);
      if (t.whole) info.short++;
      else info.texts++;
    }
    this.texts.push(t);
  }

  /** Split text t into this.w and its prefix hashes into this.h. */
  private load(t: Text): Words {
    splitWords(t.raw, this.w);
    this.h.prefix(this.w);
    return this.w;
  }

  /** Count, decide and build the tables. */
  finish(): NgramIndex {
    const { n, index, h } = this;
    const limit = this.o.maxItems ?? DEFAULT_MAX_ITEMS;
    const maxItems = limit > 0 ? limit : Infinity;
    const stop = this.o.stop;
    index.rules = { max_items: limit > 0 ? limit : 0, stoplist: { sources: stop?.sources ?? [], entries: stop?.entries ?? 0 } };
    const infos = index.benchmarks;
    const texts = this.texts.filter((t) => t.id >= 0);
    const benchOf = (c: Counts, e: number) => infos[index.textBench[c.first.a[e]]];

    // Pass 1: every distinct n-gram, with the first text holding it, the item groups holding it, and
    // whether it is ordinary text (rule 1).
    const grams = new GramTable(16);
    const g = counts();
    const gOrdinary = new Ints();
    for (const t of texts) {
      if (t.whole) continue;
      const w = this.load(t);
      const chain = stop && n > STOP_K ? this.chains(w.count, stop) : null;
      for (let i = 0; i + n <= w.count; i++) {
        const a = h.a(i, n);
        const b = h.b(i, n);
        let e = grams.get(a, b);
        if (e === -1) {
          e = g.first.push(t.id);
          g.count.push(0);
          g.last.push(-1);
          gOrdinary.push(stop?.has(a, b, n) || (chain !== null && chain[i + n - STOP_K] >= n - STOP_K + 1) ? 1 : 0);
          grams.add(a, b, e);
        }
        bump(g, e, t.group);
      }
    }
    const gKept = new Uint8Array(g.first.length);
    let kept = 0;
    const slots = grams.slots;
    for (let s = 0; s < slots.length; s += 3) {
      const e = slots[s + 2];
      if (e === -1) continue;
      const info = benchOf(g, e);
      if (gOrdinary.a[e]) info.stoplisted++;
      else if (g.count.a[e] >= maxItems) info.common++;
      else {
        gKept[e] = 1;
        kept++;
        info.grams++;
      }
    }
    let bits = 16;
    while ((1 << bits) * 0.7 < kept + 1) bits++;
    index.grams = new GramTable(bits);
    for (let s = 0; s < slots.length; s += 3) {
      const e = slots[s + 2];
      if (e !== -1 && gKept[e]) index.grams.add(slots[s] >>> 0, slots[s + 1] >>> 0, g.first.a[e]);
    }

    // The k-gram filter (see ngram-index.ts), from the kept n-grams. A text none of whose n-grams is
    // kept is still evidence when copied whole: it is matched as an exact word sequence, as a short
    // text is; one of more than MAX_N words (the longest sequence the matcher takes) by its windows of
    // MAX_N words.
    const k = index.k;
    let cover = new Uint8Array(1024);
    for (const t of texts) {
      if (t.whole) continue;
      const w = this.load(t);
      if (cover.length < w.count) cover = new Uint8Array(2 * w.count);
      cover.fill(0, 0, w.count);
      let any = false;
      for (let i = 0; i + n <= w.count; i++) {
        if (!gKept[grams.get(h.a(i, n), h.b(i, n))]) continue;
        any = true;
        cover.fill(1, i, i + n - k + 1);
      }
      for (let i = 0; i + k <= w.count; i++) if (cover[i]) setBit(index.filter, filterBit(h.a(i, k) | 0));
      if (any) continue;
      t.whole = true;
      t.span = Math.min(t.count, MAX_N);
      infos[t.bench].whole++;
    }

    // The windows of whole texts: the distinct ones, then (pass 2) the item groups whose texts contain them.
    const wholes = new GramTable(10);
    const s = counts();
    const sLen = new Ints();
    let lengths = 0;
    const screen = new Uint32Array((1 << SHORT_VOCAB_BITS) / 32);
    const firsts = new Uint32Array((1 << SHORT_VOCAB_BITS) / 32);
    for (const t of texts) {
      if (!t.whole) continue;
      const w = this.load(t);
      const k = t.span;
      for (let i = 0; i + k <= t.count; i++) {
        setBit(firsts, firstBit(w.hashB[i], k));
        if (!wholes.add(h.a(i, k, true), h.b(i, k, true), s.first.length)) continue;
        s.first.push(t.id);
        s.count.push(0);
        s.last.push(-1);
        sLen.push(k);
        lengths |= 1 << k;
      }
      for (let i = 0; i + 3 <= t.count; i++) setBit(screen, trigramBit(h.a(i, 3) | 0));
    }
    const wholeLengths: number[] = [];
    for (let k = MIN_WORDS; k <= MAX_N; k++) if (lengths & (1 << k)) wholeLengths.push(k);
    if (wholeLengths.length) {
      for (const t of texts) {
        const w = this.load(t);
        let run = 0; // trigrams in a row that some whole text has
        for (let j = 2; j < t.count; j++) {
          const bit = trigramBit(h.a(j - 2, 3) | 0);
          run = (screen[bit >>> 5] >>> (bit & 31)) & 1 ? run + 1 : 0;
          for (const k of wholeLengths) {
            if (k - 2 > run) break;
            const f = firstBit(w.hashB[j + 1 - k], k);
            if (!((firsts[f >>> 5] >>> (f & 31)) & 1)) continue;
            const e = wholes.get(h.a(j + 1 - k, k, true), h.b(j + 1 - k, k, true));
            if (e !== -1) bump(s, e, t.group);
          }
        }
      }
    }
    const sKept = new Uint8Array(s.first.length);
    const wslots = wholes.slots;
    let mask = 0;
    for (let x = 0; x < wslots.length; x += 3) {
      const e = wslots[x + 2];
      if (e === -1) continue;
      const info = benchOf(s, e);
      const k = sLen.a[e];
      // Keys are salted by length; the stoplist takes them unsalted.
      if (stop?.has((wslots[x] ^ saltA[k]) >>> 0, (wslots[x + 1] ^ saltB[k]) >>> 0, k)) info.stoplisted++;
      else if (s.count.a[e] >= maxItems) info.common++;
      else {
        sKept[e] = 1;
        mask |= 1 << k;
        index.short.add(wslots[x] >>> 0, wslots[x + 1] >>> 0, s.first.a[e]);
      }
    }
    index.setShortLengths(mask);

    // The screening bitsets of whole texts, from the windows kept.
    for (const t of texts) {
      if (!t.whole) continue;
      const w = this.load(t);
      const k = t.span;
      let any = false;
      for (let i = 0; i + k <= w.count; i++) {
        if (!sKept[wholes.get(h.a(i, k, true), h.b(i, k, true))]) continue;
        any = true;
        for (let j = i; j + 3 <= i + k; j++) setBit(index.shortTrigrams, trigramBit(h.a(j, 3) | 0));
        setBit(index.shortFirst, firstBit(w.hashB[i], k));
      }
      if (!any) infos[t.bench].unmatchable++;
    }
    this.texts = [];
    return index;
  }

  /** For the words in the hasher: run[j], how many ordinary STOP_K-grams in a row end with the one at j. */
  private chains(count: number, stop: StopSet): Int32Array {
    if (this.run.length < count) this.run = new Int32Array(2 * count);
    const { run, h } = this;
    for (let j = 0; j + STOP_K <= count; j++) {
      const ok = stop.has(h.a(j, STOP_K), h.b(j, STOP_K), STOP_K);
      run[j] = ok ? (j > 0 ? run[j - 1] : 0) + 1 : 0;
    }
    return run;
  }
}
