// Text normalisation before shingling, as datatrove's simplify_text (default TextNormConfig) and its
// English word tokenizer do it, so that the same text gives the same word n-grams:
// lowercase; whitespace runs to one space; punctuation deleted; accents stripped (NFD, marks removed);
// digit runs to "0"; then NLTK's word split, which after the deletions above is a split on spaces plus
// a few contractions ("cannot" -> "can not"). Chinese and Japanese characters are made words of their
// own (datatrove tokenizes those languages with other tokenizers; without this a CJK page would be a
// handful of huge "words" and never match anything).

// datatrove's PUNCTUATION string, plus the control characters it appends (0-8, 11-31, 127-159).
const PUNCT_CHARS = '!/—”:％１〈&(、━\\【#%「」，】；+^]~“《„\';’{|∶´[=-`*．（–？！：$～«〉,><》)?）。…@_."}►»';
const PUNCT = new RegExp(`[${PUNCT_CHARS.replace(/[\\\]^-]/g, '\\$&')}\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f]`, 'g');
// Python's str.isspace() set, which its `\s` follows (JavaScript's \s differs: it has U+FEFF, lacks U+001C-U+001F and U+0085).
// eslint-disable-next-line no-control-regex -- control characters are what these classes are about
const SPACE = /[\t\n\v\f\r \x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/g;
// eslint-disable-next-line no-control-regex
const NON_ASCII = /[^\x00-\x7f]/;
const MARKS = /\p{Mn}/gu;
const DIGITS = /\p{Nd}+/gu;
const ASCII_DIGITS = /[0-9]+/g;
// NLTK's Treebank CONTRACTIONS2 that survive apostrophe removal ("wanna" splits only before a space).
const CONTRACTIONS = /\b(can)(not)\b|\b(gim)(me)\b|\b(gon)(na)\b|\b(got)(ta)\b|\b(lem)(me)\b|\b(wan)(na)(?= )/g;
const CJK = /[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]/g;
const HAS_CJK = /[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]/;

function stripSpaces(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && s.charCodeAt(a) === 32) a++;
  while (b > a && s.charCodeAt(b - 1) === 32) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

/** datatrove's simplify_text with its default configuration. */
export function simplifyText(text: string): string {
  let s = stripSpaces(text.toLowerCase().replace(SPACE, ' '));
  s = s.replace(PUNCT, '');
  if (NON_ASCII.test(s)) s = s.normalize('NFD').replace(MARKS, '').replace(DIGITS, '0');
  else s = s.replace(ASCII_DIGITS, '0');
  return s.trim();
}

/**
 * The words of a text as one string, separated by exactly one space: the form the shingle kernel reads
 * (n consecutive words and the spaces between them are " ".join of the n-gram).
 */
export function wordString(text: string): string {
  let s = simplifyText(text).replace(CONTRACTIONS, (m, ...g: (string | undefined)[]) => {
    for (let i = 0; i < 12; i += 2) if (g[i] !== undefined) return `${g[i]} ${g[i + 1]}`;
    return m;
  });
  if (HAS_CJK.test(s)) s = s.replace(CJK, ' $& ');
  // Deleted punctuation leaves double spaces ("a - b"), and Python's strip() also removes other spaces.
  return s.split(/\s+/).filter(Boolean).join(' ');
}

// The same normalisation in one pass for pure-ASCII text (most web pages), writing the word bytes
// straight into the shingle kernel's memory: no intermediate strings. For ASCII every character is a
// lowercase letter or digit to keep, a space (Python's isspace), or deleted (all ASCII punctuation and
// control characters are in datatrove's set), so a token is [a-z0-9]+ and the regex \b boundaries of the
// contraction splits are token boundaries. Equality with wordString is tested on random text.
const DEL = 0;
const SEP = 1;
const LOWER = 2;
const UPPER = 3;
const DIGIT = 4;
const CLASS = new Uint8Array(128).map((_, c) =>
  (c >= 9 && c <= 13) || c === 32 || (c >= 28 && c <= 31) ? SEP : c >= 97 && c <= 122 ? LOWER : c >= 65 && c <= 90 ? UPPER : c >= 48 && c <= 57 ? DIGIT : DEL,
);
const SPLIT_AT_3 = ['cannot', 'gimme', 'gonna', 'gotta', 'lemme'].map((w) => Buffer.from(w, 'latin1'));
const WANNA = Buffer.from('wanna', 'latin1');

function isWord(out: Uint8Array, s: number, e: number, w: Uint8Array): boolean {
  if (e - s !== w.length) return false;
  for (let i = 0; i < w.length; i++) if (out[s + i] !== w[i]) return false;
  return true;
}

/** Insert a space after the first 3 bytes of the token [s, e) that ends the output; returns the new end. */
function splitAt3(out: Uint8Array, s: number, e: number): number {
  out.copyWithin(s + 4, s + 3, e);
  out[s + 3] = 32;
  return e + 1;
}

/**
 * wordString(text) as bytes into out (room for 1.25 x text.length + 8 needed), returning the length;
 * -1 when the text is not pure ASCII (use wordString).
 */
export function asciiWordBytes(text: string, out: Uint8Array): number {
  let n = 0;
  let tok = -1; // start of the token being written
  let prevTok = -1; // start of the previous token (it ends at n - 1 when a new one starts)
  let prevEnd = -1;
  let inDigits = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 128) return -1;
    const k = CLASS[c]!;
    if (k === DEL) continue;
    if (k === SEP) {
      if (tok >= 0) {
        for (const w of SPLIT_AT_3) if (isWord(out, tok, n, w)) n = splitAt3(out, tok, n);
        prevTok = tok;
        prevEnd = n;
        tok = -1;
      }
      inDigits = false;
      continue;
    }
    if (tok < 0) {
      // "wanna" splits only when a word follows it.
      if (prevTok >= 0 && prevEnd === n && isWord(out, prevTok, n, WANNA)) n = splitAt3(out, prevTok, n);
      if (n > 0) out[n++] = 32;
      tok = n;
    }
    if (k === DIGIT) {
      if (!inDigits) out[n++] = 48;
      inDigits = true;
      continue;
    }
    inDigits = false;
    out[n++] = k === UPPER ? c + 32 : c;
  }
  if (tok >= 0) for (const w of SPLIT_AT_3) if (isWord(out, tok, n, w)) n = splitAt3(out, tok, n);
  return n;
}
