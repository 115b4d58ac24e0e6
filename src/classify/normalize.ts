// How a document's text becomes the token sequence the model sees. fastText itself only splits on
// ASCII whitespace; web pages need more, and whatever is done must be identical at train and predict
// time, so the chosen mode is stored in the model file (see modelfile.ts) and reused by predict/test.
//
//   none: fastText's own rule. Split on space, \t, \n, \v, \f, \r and NUL; nothing else changes.
//         A document is one fastText line (its newlines are token separators, not line ends).
//   web:  lower-case; LaTeX commands (\frac) stay one token; runs of letters/digits are tokens;
//         every other visible character (punctuation, $, ^, {, }, _, math symbols) is a token of its
//         own. So "$x^2+1$" and "$ x ^ 2 + 1 $" give the same tokens, and "__label__" text inside
//         a page can never be mistaken for a label. Idempotent: normalising twice changes nothing.
export type Normalize = 'none' | 'web';
export const NORMALIZE_MODES: readonly Normalize[] = ['none', 'web'];

const FASTTEXT_SPACE = /[ \t\n\v\f\r\0]+/;
const WEB_TOKEN = /\\[\p{L}]+|[\p{L}\p{M}\p{N}]+|[^\s\p{L}\p{M}\p{N}]/gu;

/** The tokens of one document (without fastText's end-of-line token). */
export function tokenize(text: string, mode: Normalize): string[] {
  if (mode === 'web') return text.toLowerCase().match(WEB_TOKEN) ?? [];
  const parts = text.split(FASTTEXT_SPACE);
  if (parts.length && parts[0] === '') parts.shift();
  if (parts.length && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/** The document as one fastText input line (what `classify format` writes). */
export function normalizeText(text: string, mode: Normalize): string {
  return tokenize(text, mode).join(' ');
}
