// Word splitting for contamination matching, shared by the benchmark index and the corpus scan so both
// sides always agree. Rules (NORMALIZER_VERSION is stored in index files; bump it when they change):
//   - Unicode NFKC, then lowercase ("Ｘ²" and "x2" are the same word).
//   - A word is a run of letters, digits and combining marks. Everything else (punctuation, symbols,
//     LaTeX backslashes and braces, whitespace) separates words, so "x^2+x-6" and "x^2 + x - 6" agree.
//   - Apostrophes (' ’ ʼ) are dropped inside words, so "Janet's" and "Janets" agree.
//   - LaTeX control words (a backslash and letters: \frac, \dfrac, \left, \cdot) and environment names
//     (\begin{pmatrix}) are dropped: they are markup, written differently for the same formula, and
//     "\frac{1}{2}" must not count as three words.
//   - Digits stay themselves: "16 eggs" and "17 eggs" differ (math benchmarks differ mainly in numbers).
//   - Han, Hiragana, Katakana and Bopomofo characters are one word each: those scripts do not put
//     spaces between words, and a character is the unit n-gram decontamination uses for them.
// Words are never materialised as strings: each is reduced to two independent 32-bit hashes while
// scanning, plus its character span in the normalised text (for showing the matching passage).

export const NORMALIZER_VERSION = 1;

const SEP = 1;
const WORD = 2;
const SINGLE = 3;
const JOIN = 4;
const BACKSLASH = 5;

const classes = new Uint8Array(65536); // 0 = not yet classified
const astral = new Map<number, number>();
const singleRe = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Bopomofo}]/u;
const wordRe = /[\p{L}\p{N}\p{M}]/u;

function classifyCodePoint(cp: number): number {
  if (cp === 0x27 || cp === 0x2019 || cp === 0x02bc) return JOIN;
  const ch = String.fromCodePoint(cp);
  if (singleRe.test(ch)) return SINGLE;
  if (wordRe.test(ch)) return WORD;
  return SEP;
}

for (let c = 0; c < 128; c++) classes[c] = classifyCodePoint(c);
classes[0x5c] = BACKSLASH;

function classOf(c: number): number {
  let k = classes[c];
  if (k === 0) k = classes[c] = classifyCodePoint(c);
  return k;
}

function astralClass(cp: number): number {
  let k = astral.get(cp);
  if (k === undefined) astral.set(cp, (k = classifyCodePoint(cp)));
  return k;
}

/** Growable per-word arrays, reused between documents so the scan allocates nothing per word. */
export class Words {
  count = 0;
  hashA = new Uint32Array(1024);
  hashB = new Uint32Array(1024);
  /** Span of each word in `text` (the normalised text; ASCII text keeps its case, see normalizeText). */
  start = new Int32Array(1024);
  end = new Int32Array(1024);
  text = '';

  grow(): void {
    const n = this.hashA.length * 2;
    const copy = <T extends Uint32Array | Int32Array>(a: T, b: T): T => (b.set(a), b);
    this.hashA = copy(this.hashA, new Uint32Array(n));
    this.hashB = copy(this.hashB, new Uint32Array(n));
    this.start = copy(this.start, new Int32Array(n));
    this.end = copy(this.end, new Int32Array(n));
  }
}

const nonAscii = /[^\u0000-\u007f]/; // eslint-disable-line no-control-regex

/**
 * NFKC + lowercase for text with non-ASCII characters. ASCII text is returned as it is: splitWords
 * lowercases its letters while hashing, which saves copying every document.
 */
export function normalizeText(text: string): string {
  return nonAscii.test(text) ? text.normalize('NFKC').toLowerCase() : text;
}

function isAsciiLetter(c: number): boolean {
  const l = c | 0x20;
  return l >= 0x61 && l <= 0x7a;
}

// Murmur3's finaliser: spreads the per-character FNV state over all 32 bits.
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Split `text` (raw; normalised here) into `out`, replacing its previous contents. */
export function splitWords(text: string, out: Words): Words {
  const s = normalizeText(text);
  out.text = s;
  const len = s.length;
  // Every corpus byte goes through this loop: arrays live in locals, letters take the first branch,
  // and the word-closing code is written out where it is needed rather than called.
  let { hashA, hashB, start, end } = out;
  let cap = hashA.length;
  let n = 0;
  let from = -1; // start of the open word, or -1
  let a = 0;
  let b = 0;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    let k = c < 128 ? classes[c] : 0;
    if (k === WORD) {
      if (from < 0) {
        from = i;
        a = 0x811c9dc5;
        b = 0x3c6ef372;
      }
      // ASCII letters and digits all have bit 0x20 set once lowercased.
      a = Math.imul(a ^ (c | 0x20), 0x01000193);
      b = Math.imul(b ^ (c | 0x20), 0x5bd1e995);
      continue;
    }
    if (k === SEP) {
      if (from >= 0) {
        if (n >= cap) {
          out.grow();
          ({ hashA, hashB, start, end } = out);
          cap = hashA.length;
        }
        hashA[n] = fmix(a);
        hashB[n] = fmix(b ^ 0x9e3779b9);
        start[n] = from;
        end[n++] = i;
        from = -1;
      }
      continue;
    }
    let cp = c;
    let width = 1;
    if (k === 0) {
      if (c < 0xd800 || c > 0xdbff || i + 1 >= len) k = classOf(c);
      else {
        cp = s.codePointAt(i)!;
        width = 2;
        k = astralClass(cp);
      }
    }
    if (k === JOIN) continue;
    if (from >= 0 && k !== WORD) {
      if (n >= cap) {
        out.grow();
        ({ hashA, hashB, start, end } = out);
        cap = hashA.length;
      }
      hashA[n] = fmix(a);
      hashB[n] = fmix(b ^ 0x9e3779b9);
      start[n] = from;
      end[n++] = i;
      from = -1;
    }
    if (k === WORD) {
      // A non-ASCII letter, digit or mark.
      if (from < 0) {
        from = i;
        a = 0x811c9dc5;
        b = 0x3c6ef372;
      }
      a = Math.imul(a ^ cp, 0x01000193);
      b = Math.imul(b ^ cp, 0x5bd1e995);
    } else if (k === SINGLE) {
      if (n >= cap) {
        out.grow();
        ({ hashA, hashB, start, end } = out);
        cap = hashA.length;
      }
      hashA[n] = fmix(Math.imul(0x811c9dc5 ^ cp, 0x01000193));
      hashB[n] = fmix(Math.imul(0x3c6ef372 ^ cp, 0x5bd1e995) ^ 0x9e3779b9);
      start[n] = i;
      end[n++] = i + width;
    } else if (k === BACKSLASH) {
      // A LaTeX control word: skip its letters (either case: ASCII text is not lowercased).
      const cw = i + 1;
      while (i + 1 < len && isAsciiLetter(s.charCodeAt(i + 1))) i++;
      // \begin{pmatrix} / \end{pmatrix}: the environment name is markup too.
      const l = i + 1 - cw;
      const name = l === 5 || l === 3 ? s.slice(cw, cw + l).toLowerCase() : '';
      if (name === 'begin' || name === 'end') {
        if (s.charCodeAt(i + 1) === 0x7b) {
          const close = s.indexOf('}', i + 2);
          if (close > 0 && close - i < 32) i = close;
        }
      }
    }
    i += width - 1;
  }
  if (from >= 0) {
    if (n >= cap) {
      out.grow();
      ({ hashA, hashB, start, end } = out);
    }
    hashA[n] = fmix(a);
    hashB[n] = fmix(b ^ 0x9e3779b9);
    start[n] = from;
    end[n++] = len;
  }
  out.count = n;
  return out;
}

/** The normalised words themselves (tests, debugging, `--removed` output). */
export function wordStrings(w: Words): string[] {
  const r: string[] = [];
  for (let i = 0; i < w.count; i++) r.push(w.text.slice(w.start[i], w.end[i]).replace(/['’ʼ]/g, '').toLowerCase());
  return r;
}
