// Recognisers for the ways web pages carry LaTeX outside of the text itself: formula images rendered by
// LaTeX services (the TeX is in the alt text or the URL), and MathJax configurations with custom delimiters.

const LATEX_IMG_SRC =
  /(?:latex\.codecogs\.com|codecogs\.com\/(?:eq)?latex|\/(?:gif|png|svg)\.latex\?|\/latex\.php\?|wp\.com\/latex|mimetex|mathtex|chart\.googleapis\.com\/chart\?[^#]*cht=tx|\/tex2img|latex2png|\/cgi-bin\/.*tex)/i;

function queryParam(src: string, name: string): string | undefined {
  const q = src.indexOf('?');
  if (q < 0) return undefined;
  for (const kv of src.slice(q + 1).split('&')) {
    const eq = kv.indexOf('=');
    if (eq > 0 && kv.slice(0, eq).toLowerCase() === name) return safeDecode(kv.slice(eq + 1).replace(/\+/g, ' '));
  }
  return undefined;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Drop rendering options that services put before the formula. */
function cleanServiceTex(tex: string): string {
  return tex
    .replace(/^\s*(?:\\(?:dpi|fg|bg|png|gif|svg|inline|large|Large|LARGE|huge|small|tiny|normalsize|fn_\w+|bg_\w+)(?:\{[^}]*\})?\s*)+/g, '')
    .trim();
}

function looksLikeTex(s: string): boolean {
  return /\\[a-zA-Z]+|[\^_=]|\{.*\}/.test(s);
}

export interface ImgMath {
  tex: string;
  display: boolean;
}

/** LaTeX carried by an <img>, or undefined for ordinary images. */
export function latexFromImg(attrs: Record<string, string>): ImgMath | undefined {
  const src = attrs.src ?? attrs['data-src'] ?? '';
  const alt = (attrs.alt ?? '').trim();
  const cls = (attrs.class ?? '').toLowerCase();
  const display = /display|center/.test(cls);
  const service = LATEX_IMG_SRC.test(src);
  const texClass = /(?:^|[\s_-])(?:latex|tex|mathtex|math|equation|formula)(?:$|[\s_-])/.test(cls);
  if (!service && !texClass) return undefined;
  // wp-latex and most plugins copy the TeX into alt; prefer it when it is TeX.
  if (alt && looksLikeTex(alt)) return { tex: cleanServiceTex(alt.replace(/^\$+|\$+$/g, '')), display };
  if (!service) return alt && texClass ? { tex: alt, display } : undefined;
  const fromParam = queryParam(src, 'latex') ?? queryParam(src, 'chl') ?? queryParam(src, 'tex');
  if (fromParam) return { tex: cleanServiceTex(fromParam), display };
  const q = src.indexOf('?');
  if (q >= 0 && q + 1 < src.length) {
    const t = cleanServiceTex(safeDecode(src.slice(q + 1).replace(/&amp;/g, '&')));
    if (t) return { tex: t, display };
  }
  if (alt) return { tex: cleanServiceTex(alt), display };
  return undefined;
}

export interface Delimiters {
  inline: [string, string][];
  display: [string, string][];
}

function parsePairs(src: string | undefined): [string, string][] {
  if (!src) return [];
  const out: [string, string][] = [];
  const re = /\[\s*(['"])((?:\\.|(?!\1).)*)\1\s*,\s*(['"])((?:\\.|(?!\3).)*)\3\s*\]/g;
  for (let m = re.exec(src); m; m = re.exec(src)) out.push([unescapeJs(m[2]!), unescapeJs(m[4]!)]);
  return out;
}

function unescapeJs(s: string): string {
  return s.replace(/\\(.)/g, '$1');
}

/** Delimiters declared in a MathJax (v2 or v3) configuration script, if any. */
export function mathJaxDelimiters(script: string): Delimiters | undefined {
  if (!/inlineMath|displayMath/.test(script)) return undefined;
  const inline = parsePairs(/inlineMath\s*:\s*(\[[\s\S]*?\]\s*\])/.exec(script)?.[1]);
  const display = parsePairs(/displayMath\s*:\s*(\[[\s\S]*?\]\s*\])/.exec(script)?.[1]);
  return inline.length || display.length ? { inline, display } : undefined;
}

const STANDARD = new Set(['$', '$$', '\\(', '\\[']);

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Rewrite math written with non-standard delimiters (e.g. `[math]...[/math]`) to `$...$` / `$$...$$`,
 * so downstream stages see one convention. Standard delimiters ($, $$, \(, \[) are left as written.
 */
export function normaliseDelimiters(text: string, d: Delimiters): string {
  let out = text;
  const apply = (pairs: [string, string][], open: string, close: string) => {
    for (const [a, b] of pairs) {
      if (STANDARD.has(a) || !a || !b) continue;
      out = out.replace(new RegExp(`${escapeRe(a)}([\\s\\S]{1,2000}?)${escapeRe(b)}`, 'g'), (_m, tex: string) => `${open}${tex.trim()}${close}`);
    }
  };
  apply(d.display, '$$', '$$');
  apply(d.inline, '$', '$');
  return out;
}
