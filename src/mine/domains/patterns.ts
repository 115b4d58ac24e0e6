// The annotated URL-pattern file: one "host/path-prefix" per line selects pages for the next round's
// seeds. "#" starts a comment (a whole line, or after whitespace); a leading "-" excludes a prefix, a
// leading "+" is allowed and means accept. A host matches itself and its subdomains ("www." ignored);
// a path prefix matches whole segments ("/questions" matches "/questions/12", not "/questionsx").
// The most specific pattern wins (longest host, then longest path), so "-site.org/users" carves a part
// out of an accepted "site.org".
import { DataError } from '../../cli/errors.js';

export interface Pattern {
  accept: boolean;
  host: string;
  path: string;
  /** Line in the file, for reports. */
  line: number;
  text: string;
}

export function parsePatterns(text: string, file: string): Pattern[] {
  const out: Pattern[] = [];
  text.split('\n').forEach((raw, i) => {
    const s = raw.replace(/(^|\s)#.*$/, '').trim();
    if (!s) return;
    const accept = !s.startsWith('-');
    const body = s.replace(/^[+-]\s*/, '').replace(/^https?:\/\//i, '');
    const slash = body.indexOf('/');
    const host = (slash < 0 ? body : body.slice(0, slash)).toLowerCase().replace(/^www\d*\./, '');
    const path = slash < 0 ? '' : body.slice(slash).replace(/\/+$/, '');
    if (!host || /\s/.test(body)) throw new DataError(`${file}:${i + 1}`, `expected one host/path-prefix pattern, got "${raw.trim()}"`);
    out.push({ accept, host, path, line: i + 1, text: s });
  });
  return out;
}

function hostMatches(host: string, p: string): boolean {
  return host === p || host.endsWith(`.${p}`);
}

function pathMatches(path: string, p: string): boolean {
  return p === '' || path === p || path.startsWith(`${p}/`);
}

/** The pattern deciding a URL (host without "www.", path), or undefined when none matches. */
export function decide(patterns: Pattern[], host: string, path: string): Pattern | undefined {
  let best: Pattern | undefined;
  for (const p of patterns) {
    if (!hostMatches(host, p.host) || !pathMatches(path, p.path)) continue;
    if (!best || p.host.length > best.host.length || (p.host.length === best.host.length && p.path.length > best.path.length)) best = p;
  }
  return best;
}
