// The cheap "could this page hold mathematics?" test run on raw HTML before extraction, as OpenWebMath
// does: math markup, LaTeX commands, LaTeX images, or math vocabulary. Misses cost recall, so the test is
// deliberately permissive; its job is to skip the bulk of pages (shops, news, spam) quickly.

const MARKUP =
  /<math[\s>]|math\/tex|katex|mathjax|mjx-container|\\(?:frac|sqrt|sum|int|begin\{|left[([|]|cdot|alpha|beta|theta|lambda|sigma|pi\b|infty|mathbb|mathrm|le\b|ge\b|neq|times|partial)|codecogs|wp\.com\/latex|mimetex|mathtex|\\\(|\\\[|\$\$/i;
/** `$...$` with something TeX-like inside (a plain "$5" price does not match). */
const DOLLAR_TEX = /\$[^$\n<>]{0,80}[\\^_{}][^$\n<>]{0,80}\$/;
const WORDS =
  /\b(?:theorem|lemma|corollary|proof|equations?|solve|solving|linear|integral|derivative|polynomial|eigenvalues?|matrix|matrices|logarithm|calculus|algebra(?:ic)?|geometry|trigonometr\w*|probability|arithmetic|fraction|quadratic|exponent|hypotenuse|denominator|numerator|factori[sz]\w*|prime number|divisible|inequality|vector|topology|manifold|isomorphi\w*|homomorphi\w*|mathematics?|math)\b/gi;

export function looksMathy(page: string): boolean {
  if (MARKUP.test(page) || DOLLAR_TEX.test(page)) return true;
  const seen = new Set<string>();
  WORDS.lastIndex = 0;
  for (let m = WORDS.exec(page); m; m = WORDS.exec(page)) {
    seen.add(m[0].toLowerCase());
    if (seen.size >= 3) return true;
  }
  return false;
}
