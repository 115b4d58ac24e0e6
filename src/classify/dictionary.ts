// The vocabulary (words and labels) with fastText's conventions: entries sorted words-first by
// decreasing count, labels recognised by their prefix, "</s>" ending every line, rows of hashed word
// n-grams (and char n-grams when maxn > 0) after the nwords word rows, and the optional prune index
// that quantized (.ftz) models use to renumber the hashed rows.
import { addWordNgrams, fnv1a } from './hash.js';
import type { Args } from './args.js';

export const EOS = '</s>';
export const TYPE_WORD = 0;
export const TYPE_LABEL = 1;
const BOW = '<';
const EOW = '>';

export class Dictionary {
  readonly index = new Map<string, number>();
  readonly hashes: Uint32Array;
  /**
   * Open addressing on the FNV hash, as fastText's word2int: encoding needs every token's FNV hash
   * anyway (for word n-grams), and probing with it is cheaper than a Map lookup of a fresh string.
   */
  private readonly table: Int32Array;
  private readonly mask: number;
  private subwords: (Int32Array | undefined)[] = [];
  readonly nwords: number;
  readonly nlabels: number;

  constructor(
    readonly words: string[],
    readonly counts: number[],
    readonly types: Uint8Array,
    readonly ntokens: number,
    readonly args: Args,
    /** fastText's pruneidx: hashed row -> compacted row; null when the model was never pruned (size -1). */
    readonly prune: Map<number, number> | null = null,
  ) {
    this.hashes = new Uint32Array(words.length);
    let cap = 16;
    while (cap < words.length * 2) cap *= 2;
    this.table = new Int32Array(cap).fill(-1);
    this.mask = cap - 1;
    let nw = 0;
    for (let i = 0; i < words.length; i++) {
      this.index.set(words[i], i);
      const h = fnv1a(words[i]);
      this.hashes[i] = h;
      let slot = h & this.mask;
      while (this.table[slot] !== -1) slot = (slot + 1) & this.mask;
      this.table[slot] = i;
      if (types[i] === TYPE_WORD) nw++;
    }
    this.nwords = nw;
    this.nlabels = words.length - nw;
  }

  get size(): number {
    return this.words.length;
  }

  /** Label names in output-row order (the label entries follow the words). */
  labels(): string[] {
    return this.words.slice(this.nwords);
  }

  labelCounts(): number[] {
    return this.counts.slice(this.nwords);
  }

  isLabel(token: string): boolean {
    return token.startsWith(this.args.label);
  }

  /** Rows of a hashed n-gram: prune-mapped for .ftz models; -1 when pruned away. */
  private hashedRow(h: number): number {
    if (!this.prune) return this.nwords + h;
    const p = this.prune.get(h);
    return p === undefined ? -1 : this.nwords + p;
  }

  /** fastText's computeSubwords: char n-grams of minn..maxn UTF-8 characters of "<word>". */
  private charNgrams(word: string, out: number[]): void {
    const { minn, maxn, bucket } = this.args;
    const b = Buffer.from(BOW + word + EOW, 'utf8');
    for (let i = 0; i < b.length; i++) {
      if ((b[i] & 0xc0) === 0x80) continue;
      let j = i;
      for (let n = 1; j < b.length && n <= maxn; n++) {
        j++;
        while (j < b.length && (b[j] & 0xc0) === 0x80) j++;
        if (n >= minn && !(n === 1 && (i === 0 || j === b.length))) {
          const row = this.hashedRow(fnv1aSlice(b, i, j) % bucket);
          if (row >= 0) out.push(row);
        }
      }
    }
  }

  private subwordsOf(id: number): Int32Array {
    let s = this.subwords[id];
    if (!s) {
      const rows = [id];
      if (this.words[id] !== EOS) this.charNgrams(this.words[id], rows);
      s = Int32Array.from(rows);
      this.subwords[id] = s;
    }
    return s;
  }

  /**
   * The input rows of one line (fastText's Dictionary::getLine): in-vocabulary words (or their
   * subwords), then word n-grams over every word token, known or not, "</s>" included.
   * `tokens` excludes the "</s>" that ends the line; it is added here.
   */
  encode(tokens: string[], enc: Encoder): number {
    const { maxn, wordNgrams, bucket } = this.args;
    enc.reserve(tokens.length + 1, wordNgrams);
    let n = 0;
    let nh = 0;
    const hashes = enc.hashes;
    const { table, mask, words } = this;
    for (let t = 0; t <= tokens.length; t++) {
      const tok = t < tokens.length ? tokens[t] : EOS;
      const h = fnv1a(tok);
      let id = -1;
      for (let slot = h & mask; table[slot] !== -1; slot = (slot + 1) & mask) {
        const c = table[slot];
        if (this.hashes[c] === h && words[c] === tok) {
          id = c;
          break;
        }
      }
      if (id >= 0) {
        if (this.types[id] !== TYPE_WORD) continue;
        if (maxn <= 0) enc.rows[n++] = id;
        else {
          const sw = this.subwordsOf(id);
          enc.ensure(n + sw.length);
          enc.rows.set(sw, n);
          n += sw.length;
        }
        hashes[nh++] = h;
      } else {
        if (this.isLabel(tok)) continue;
        if (maxn > 0 && tok !== EOS) {
          const extra: number[] = [];
          this.charNgrams(tok, extra);
          enc.ensure(n + extra.length);
          for (const r of extra) enc.rows[n++] = r;
        }
        hashes[nh++] = h;
      }
    }
    enc.ensure(n + nh * Math.max(0, wordNgrams - 1));
    if (this.prune && this.prune.size === 0) return n;
    return addWordNgrams(hashes, nh, wordNgrams, bucket, this.nwords, enc.rows, n, this.prune ?? undefined);
  }

  /** Label ids (0-based, output rows) named in a line; unknown labels are ignored, as fastText does. */
  labelIds(names: string[]): number[] {
    const out: number[] = [];
    for (const name of names) {
      const id = this.index.get(name);
      if (id !== undefined && this.types[id] === TYPE_LABEL) out.push(id - this.nwords);
    }
    return out;
  }
}

function fnv1aSlice(b: Buffer, s: number, e: number): number {
  let h = 2166136261;
  for (let i = s; i < e; i++) h = Math.imul(h ^ (b[i] >= 0x80 ? b[i] | 0xffffff00 : b[i]), 16777619);
  return h >>> 0;
}

/** Reusable buffers for encoding lines without allocating per document. */
export class Encoder {
  rows = new Int32Array(1024);
  hashes = new Uint32Array(1024);

  reserve(tokens: number, wordNgrams: number): void {
    if (this.hashes.length < tokens) this.hashes = new Uint32Array(tokens * 2);
    this.ensure(tokens * Math.max(1, wordNgrams));
  }

  ensure(n: number): void {
    if (this.rows.length < n) {
      const r = new Int32Array(n * 2);
      r.set(this.rows);
      this.rows = r;
    }
  }
}
