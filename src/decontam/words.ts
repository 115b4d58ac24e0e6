// Word splitting for contamination matching, shared by the benchmark index and the corpus scan so both
// sides always agree. Rules (NORMALIZER_VERSION is stored in index files; bump it when they change):
//   - Unicode NFKC, then lowercase, one character at a time ("Ｘ²" and "x2" are the same word).
//   - A word is a run of letters, digits and combining marks. Everything else (punctuation, symbols,
//     LaTeX backslashes and braces, whitespace) separates words, so "x^2+x-6" and "x^2 + x - 6" agree.
//   - Apostrophes (' ’ ʼ) are dropped inside words, so "Janet's" and "Janets" agree.
//   - A LaTeX control word is a word: its name without the backslash, so "\cos 315^\circ" is the three
//     words "cos 315 circ" (and "\cos" = "cos"). Spellings of one symbol are one word (\dfrac, \tfrac,
//     \cfrac = frac; \leq = le; \ldots, \cdots = dots; see ALIASES). Commands that only change how
//     a formula looks (\left, \right, \text, \mathrm, \displaystyle, \boxed, \quad...) are dropped,
//     and so are environment names (\begin{pmatrix}) and the arguments of \label, \hspace, \tag...
//   - GSM8K calculator annotations ("<<48/2=24>>", no "<", ">" or line break inside) are dropped, so
//     "48/2 = <<48/2=24>>24" and "48/2 = 24" agree.
//   - Digits stay themselves: "16 eggs" and "17 eggs" differ (math benchmarks differ mainly in numbers).
//   - Han, Hiragana, Katakana and Bopomofo characters are one word each: those scripts do not put
//     spaces between words, and a character is the unit n-gram decontamination uses for them.
// Words are never materialised as strings: each is reduced to two independent 32-bit hashes while
// scanning, plus its character span in the normalised text (for showing the matching passage).

export const NORMALIZER_VERSION = 2;

const SEP = 1;
const WORD = 2;
const SINGLE = 3;
const JOIN = 4;
const BACKSLASH = 5;
const LT = 6;

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
classes[0x3c] = LT;

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

// LaTeX control words. A name listed in MARKUP is dropped (it changes how a formula looks, not what it
// says); one in SKIP_ARG is dropped with its first braced argument (\begin{pmatrix}, \label{eq1});
// one in ALIASES is the word it names; any other control word is the word of its name (\cos = cos).
const MARKUP = (
  'left right middle big bigl bigr bigm Big Bigl Bigr Bigm bigg biggl biggr biggm Bigg Biggl Biggr Biggm ' +
  'displaystyle textstyle scriptstyle scriptscriptstyle text textbf textit textrm texttt textsf textnormal textup textmd ' +
  'mathrm mathbf mathit mathsf mathtt mathnormal boldsymbol bm bold bf it rm sf tt em emph mbox hbox operatorname mathop ' +
  'boxed fbox quad qquad hfill vfill phantom hphantom vphantom limits nolimits nonumber notag noindent newline ' +
  'linebreak allowbreak nobreak hline cline multicolumn renewcommand arraystretch smallskip medskip bigskip tiny ' +
  'small normalsize large Large LARGE huge Huge cancel noalign strut lvert rvert vert lVert rVert Vert mid lbrace ' +
  'rbrace colon'
).split(' ');
const SKIP_ARG = 'begin end label hspace vspace tag color textcolor ref eqref'.split(' ');
const ALIASES: Record<string, string> = {
  dfrac: 'frac', tfrac: 'frac', cfrac: 'frac',
  dbinom: 'binom', tbinom: 'binom',
  leq: 'le', leqslant: 'le', geq: 'ge', geqslant: 'ge', neq: 'ne',
  ldots: 'dots', cdots: 'dots', dotsb: 'dots', dotsm: 'dots', dotsc: 'dots', dotsi: 'dots', dotso: 'dots',
  degree: 'circ',
};
// What a control word does: an open-addressing table keyed by its (lowercased) name's hashes and
// length. Action: -1 drop, -2 drop with its argument, 0 replace by the hashes in ctlToA/ctlToB.
const CTL_BITS = 9;
const CTL_MASK = (1 << CTL_BITS) - 1;
const ctlA = new Int32Array(1 << CTL_BITS);
const ctlB = new Int32Array(1 << CTL_BITS);
const ctlLen = new Int32Array(1 << CTL_BITS); // 0: empty slot
const ctlAct = new Int32Array(1 << CTL_BITS);
const ctlToA = new Uint32Array(1 << CTL_BITS);
const ctlToB = new Uint32Array(1 << CTL_BITS);

/** The two hashes of an ASCII word, as splitWords computes them (before fmix). */
function rawHash(word: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x3c6ef372;
  for (let i = 0; i < word.length; i++) {
    const c = word.charCodeAt(i) | 0x20;
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  return [a, b];
}

/** The slot of a control word (ha, hb: its word hashes; len: its name's length), or -1. */
function controlSlot(ha: number, hb: number, len: number): number {
  for (let x = ha >>> (32 - CTL_BITS); ctlLen[x] !== 0; x = (x + 1) & CTL_MASK) {
    if (ctlA[x] === (ha | 0) && ctlB[x] === (hb | 0) && ctlLen[x] === len) return x;
  }
  return -1;
}

function control(name: string, act: number, target = name): void {
  const [a, b] = rawHash(name);
  const [ta, tb] = rawHash(target);
  const ha = fmix(a);
  const hb = fmix(b ^ 0x9e3779b9);
  if (controlSlot(ha, hb, name.length) >= 0) return; // "Big" and "big": one name once lowercased
  let x = ha >>> (32 - CTL_BITS);
  while (ctlLen[x] !== 0) x = (x + 1) & CTL_MASK;
  ctlA[x] = ha | 0;
  ctlB[x] = hb | 0;
  ctlLen[x] = name.length;
  ctlAct[x] = act;
  ctlToA[x] = fmix(ta);
  ctlToB[x] = fmix(tb ^ 0x9e3779b9);
}
for (const m of MARKUP) control(m, -1);
for (const m of SKIP_ARG) control(m, -2);
for (const [m, t] of Object.entries(ALIASES)) control(m, 0, t);

/**
 * The tables the native scan (native/decontam-scan.cc) reads as they are filled here. A code unit the
 * native code finds unfilled is handed back; learnUnit fills its entries and the scan goes on.
 */
export const unitTables = { classes, ctlA, ctlB, ctlLen, ctlAct, ctlToA, ctlToB, CTL_BITS };

/** Fill the class, lowercase and NFKC entries of BMP code unit c (see unitTables). */
export function learnUnit(c: number): void {
  const k = classOf(c);
  if (k === WORD) lowerOf(c);
  if (stableBmp[c] === 0) storeStability(c);
}

/** Growable per-word arrays, reused between documents so the scan allocates nothing per word. */
export class Words {
  count = 0;
  hashA = new Uint32Array(1024);
  hashB = new Uint32Array(1024);
  /** Span of each word in `text` (the NFKC text, in its case: see normalizeText). */
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
 * NFKC for text with non-ASCII characters; ASCII text is returned as it is. Case is folded while
 * hashing, one character at a time (ASCII by bit 0x20, others by lowerOf), which saves copying every
 * document once more.
 */
export function normalizeText(text: string): string {
  return nonAscii.test(text) ? text.normalize('NFKC') : text;
}

// Text whose every character is "NFKC-stable" is its own NFKC, so the byte scan (block-scan.ts) splits it
// without building a string. Stable: NFKC leaves it alone, it is not a mark (marks reorder and compose
// with what precedes them), and not a conjoining Hangul jamo (which composes with the syllable before
// it). Every other character that composes with a preceding one (NFC_QC = Maybe) is a mark.
export const stableBmp = new Uint8Array(65536); // 0: not yet looked up, 1: stable, 2: not, 3: not, but mapped (nfkcMap)
/**
 * For the native scan, the NFKC of BMP characters that are not stable but whose NFKC is a run of stable
 * BMP characters ("…" -> "...", no-break space -> " ", "²" -> "2", "ﬁ" -> "fi", "ℕ" -> "N"): most of the
 * non-stable characters of real web text. Such a character is never a mark or a jamo, so NFKC of a text of
 * stable and mapped characters is the text with each mapped character replaced by its map (NFKD works
 * character by character, and what comes out is all stable). nfkcMap[c] = start << 5 | length in nfkcPool.
 */
export const nfkcMap = new Uint32Array(65536);
export const nfkcPool = new Uint16Array(1 << 15);
let nfkcPoolUsed = 0;
const stableAstral = new Map<number, boolean>();
const markRe = /\p{M}/u;

function isStableCodePoint(cp: number): boolean {
  if ((cp >= 0x1100 && cp <= 0x11ff) || (cp >= 0xa960 && cp <= 0xa97f) || (cp >= 0xd7b0 && cp <= 0xd7ff)) return false;
  if (cp >= 0xd800 && cp <= 0xdfff) return false; // a lone surrogate
  const ch = String.fromCodePoint(cp);
  return ch.normalize('NFKC') === ch && !markRe.test(ch);
}

/** stableBmp's entry for BMP code unit c (and nfkcMap's, for 3). */
/**
 * stability(c) into stableBmp. Native batch threads read the tables while this thread fills them: a 3 must not
 * be seen before the NFKC map it points to, so it is stored with Atomics (a fence after the map's stores).
 */
function storeStability(c: number): number {
  const k = stability(c);
  Atomics.store(stableBmp, c, k);
  return k;
}

function stability(c: number): number {
  if (isStableCodePoint(c)) return 1;
  if (c >= 0xd800 && c <= 0xdfff) return 2;
  const ch = String.fromCharCode(c);
  if (markRe.test(ch) || (c >= 0x1100 && c <= 0x11ff) || (c >= 0xa960 && c <= 0xa97f) || (c >= 0xd7b0 && c <= 0xd7ff)) return 2;
  const m = ch.normalize('NFKC');
  if (m.length > 31 || nfkcPoolUsed + m.length > nfkcPool.length) return 2;
  for (let i = 0; i < m.length; i++) {
    const u = m.charCodeAt(i);
    if ((u >= 0xd800 && u <= 0xdfff) || !isStableCodePoint(u)) return 2;
  }
  for (let i = 0; i < m.length; i++) nfkcPool[nfkcPoolUsed + i] = m.charCodeAt(i);
  nfkcMap[c] = (nfkcPoolUsed << 5) | m.length;
  nfkcPoolUsed += m.length;
  return 3;
}

/** Is u[0, len) its own NFKC by the rule above (false means "normalise it", not "it changes")? */
export function nfkcStable(u: Uint16Array, len: number): boolean {
  for (let i = 0; i < len; i++) {
    const c = u[i];
    if (c < 0x80) continue;
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < len && u[i + 1] >= 0xdc00 && u[i + 1] <= 0xdfff) {
      const cp = ((c - 0xd800) << 10) + (u[++i] - 0xdc00) + 0x10000;
      let k = stableAstral.get(cp);
      if (k === undefined) stableAstral.set(cp, (k = isStableCodePoint(cp)));
      if (!k) return false;
      continue;
    }
    let k = stableBmp[c];
    if (k === 0) k = storeStability(c);
    if (k !== 1) return false;
  }
  return true;
}

export const lowerBmp = new Uint16Array(65536); // 0: not yet looked up

/** The lowercase of a code point (itself when its lowercase is not one code point). */
function lowerOf(cp: number): number {
  if (cp < 65536) {
    const l = lowerBmp[cp];
    if (l !== 0) return l;
  }
  const s = String.fromCodePoint(cp).toLowerCase();
  const l = s.codePointAt(0)!;
  const r = s.length === (l > 0xffff ? 2 : 1) ? l : cp;
  if (cp < 65536 && r < 65536) lowerBmp[cp] = r;
  return r;
}

// Murmur3's finaliser: spreads the per-character FNV state over all 32 bits.
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Code units of the text being split, with room for a 0 after the last one (see splitUnits). */
let scratch = new Uint16Array(4096);

/** A buffer of at least n + 1 code units for splitUnits, reused between calls. */
export function unitBuffer(n: number): Uint16Array {
  if (scratch.length < n + 1) scratch = new Uint16Array(2 * n + 2);
  return scratch;
}

/** Split `text` (raw; normalised here) into `out`, replacing its previous contents. */
export function splitWords(text: string, out: Words): Words {
  const s = normalizeText(text);
  out.text = s;
  const u = unitBuffer(s.length);
  // Buffer.write copies the UTF-16 code units as they are, lone surrogates included.
  Buffer.from(u.buffer, u.byteOffset, u.byteLength).write(s, 0, 'utf16le');
  return splitUnits(u, s.length, out);
}

/** Append a word (its hashes and span) to `out` at position n; returns n + 1. */
function emit(out: Words, n: number, a: number, b: number, from: number, to: number): number {
  if (n >= out.hashA.length) out.grow();
  out.hashA[n] = a;
  out.hashB[n] = b;
  out.start[n] = from;
  out.end[n] = to;
  return n + 1;
}

/**
 * The words of u[0, len), text already normalised (NFKC), into `out` (its `text` is left to the
 * caller). u[len] must be readable: it is set to 0 so that looking one unit past the end reads a
 * separator. Every corpus byte goes through this loop: letters take the first branch.
 */
export function splitUnits(u: Uint16Array, len: number, out: Words): Words {
  u[len] = 0;
  let n = 0;
  let from = -1; // start of the open word, or -1
  let a = 0;
  let b = 0;
  for (let i = 0; i < len; i++) {
    const c = u[i];
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
        n = emit(out, n, fmix(a), fmix(b ^ 0x9e3779b9), from, i);
        from = -1;
      }
      continue;
    }
    let cp = c;
    let width = 1;
    if (k === 0) {
      if (c < 0xd800 || c > 0xdbff || i + 1 >= len) k = classOf(c);
      else {
        // As String.codePointAt: a high surrogate without its low half stands for itself (still width 2).
        const d = u[i + 1];
        if (d >= 0xdc00 && d <= 0xdfff) cp = ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000;
        width = 2;
        k = astralClass(cp);
      }
    }
    if (k === JOIN) continue;
    if (from >= 0 && k !== WORD) {
      n = emit(out, n, fmix(a), fmix(b ^ 0x9e3779b9), from, i);
      from = -1;
    }
    if (k === WORD) {
      // A non-ASCII letter, digit or mark.
      if (from < 0) {
        from = i;
        a = 0x811c9dc5;
        b = 0x3c6ef372;
      }
      const lc = lowerOf(cp);
      a = Math.imul(a ^ lc, 0x01000193);
      b = Math.imul(b ^ lc, 0x5bd1e995);
    } else if (k === SINGLE) {
      n = emit(out, n, fmix(Math.imul(0x811c9dc5 ^ cp, 0x01000193)), fmix(Math.imul(0x3c6ef372 ^ cp, 0x5bd1e995) ^ 0x9e3779b9), i, i + width);
    } else if (k === BACKSLASH) {
      // A LaTeX control word (either case: ASCII text is not lowercased) is a word; "\\" skips both.
      let j = i + 1;
      let la = 0x811c9dc5;
      let lb = 0x3c6ef372;
      for (let c2 = u[j]; j < len && (c2 | 0x20) >= 0x61 && (c2 | 0x20) <= 0x7a; c2 = u[++j]) {
        la = Math.imul(la ^ (c2 | 0x20), 0x01000193);
        lb = Math.imul(lb ^ (c2 | 0x20), 0x5bd1e995);
      }
      if (j === i + 1) {
        if (u[j] === 0x5c) i = j;
        continue;
      }
      let ha = fmix(la);
      let hb = fmix(lb ^ 0x9e3779b9);
      const x = controlSlot(ha, hb, j - i - 1);
      if (x >= 0) {
        const act = ctlAct[x];
        if (act < 0) {
          // \begin{pmatrix}, \label{eq:1}: the argument is markup too (when it closes within 31 units).
          if (act === -2 && u[j] === 0x7b) {
            for (let close = j + 1; close < len && close - j < 32; close++) {
              if (u[close] === 0x7d) {
                j = close + 1;
                break;
              }
            }
          }
          i = j - 1;
          continue;
        }
        ha = ctlToA[x];
        hb = ctlToB[x];
      }
      n = emit(out, n, ha, hb, i, j);
      i = j - 1;
      continue;
    } else if (k === LT) {
      // A calculator annotation "<<...>>" (no "<", ">" or line break inside) is dropped.
      if (u[i + 1] === 0x3c) {
        for (let j = i + 2; j < len && j < i + 256; j++) {
          const c2 = u[j];
          if (c2 === 0x3e) {
            if (u[j + 1] === 0x3e) i = j + 1;
            break;
          }
          if (c2 === 0x3c || c2 === 0x0a) break;
        }
      }
      continue;
    }
    i += width - 1;
  }
  if (from >= 0) n = emit(out, n, fmix(a), fmix(b ^ 0x9e3779b9), from, len);
  out.count = n;
  return out;
}

/** Word i as text, case folded as splitWords folds it and apostrophes dropped (evidence, stoplists). */
export function wordString(w: Words, i: number): string {
  let r = '';
  for (const ch of w.text.slice(w.start[i], w.end[i])) {
    const cp = ch.codePointAt(0)!;
    if (cp === 0x27 || cp === 0x2019 || cp === 0x02bc) continue;
    r += cp < 128 ? ch.toLowerCase() : String.fromCodePoint(lowerOf(cp));
  }
  return r;
}

/** The normalised words themselves (tests, debugging). */
export function wordStrings(w: Words): string[] {
  const r: string[] = [];
  for (let i = 0; i < w.count; i++) r.push(wordString(w, i));
  return r;
}
