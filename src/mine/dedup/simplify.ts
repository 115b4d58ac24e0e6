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
