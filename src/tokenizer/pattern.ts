// Pre-tokenisation patterns. A pattern string must mean the same thing to JavaScript's RegExp (flag "u",
// used by `tokenize train` to count pre-tokens) and to fancy-regex (used by tiktoken in JS and Python to
// encode), so it avoids inline flags like (?i:...), which RegExp on Node 20 rejects.

/**
 * DeepSeek-style pattern for math: every digit is its own pre-token (so "1234" can never become one
 * opaque token and arithmetic stays learnable), LaTeX commands stay whole with their leading space
 * (" \frac", "\sqrt"), a backslash before punctuation ("\{", "\,") stays with it, and the rest follows
 * cl100k (letters with one leading non-letter, punctuation runs, newlines, whitespace).
 */
export const MATH_PATTERN = [
  String.raw` ?\\[A-Za-z]+`,
  String.raw`\\[^\s\p{L}\p{N}\\]?`,
  String.raw`'(?:[sdmtSDMT]|[lL][lL]|[vV][eE]|[rR][eE])`,
  String.raw`[^\r\n\p{L}\p{N}\\]?\p{L}+`,
  String.raw`\p{N}`,
  String.raw` ?[^\s\p{L}\p{N}\\]+[\r\n]*`,
  String.raw`\s*[\r\n]+`,
  String.raw`\s+(?!\S)`,
  String.raw`\s+`,
].join('|');

/** A global Unicode RegExp for a tiktoken pattern string, or an error message when JS cannot run it. */
export function compilePattern(pat: string): RegExp {
  return new RegExp(pat, 'gu');
}

/** Split text into pre-tokens the way tiktoken does before applying merges. */
export function* preTokens(re: RegExp, text: string): Generator<string> {
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    if (m[0] === '') {
      re.lastIndex++;
      continue;
    }
    yield m[0];
  }
}
