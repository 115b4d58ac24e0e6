// The shape of an answer: a scalar, an ordered tuple or interval, an unordered set or list, a union of
// intervals, or a matrix. Shapes are found on the normalised text, splitting only at top-level commas.

export type Shape =
  | { kind: 'scalar'; text: string }
  | { kind: 'tuple'; open: string; close: string; items: string[] }
  | { kind: 'set'; items: string[] }
  | { kind: 'list'; items: string[] }
  | { kind: 'union'; items: string[] }
  | { kind: 'matrix'; rows: string[][] };

/** Split at top-level occurrences of `sep` (outside (), [], {}). */
export function splitTop(s: string, sep: string | RegExp): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  // A separator pattern is tried at each position in place (sticky), not on a copy of the rest of the string.
  const re = typeof sep === 'string' ? null : new RegExp(sep.source.replace(/^\^/, ''), `${sep.flags.replace(/[gy]/g, '')}y`);
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch === '\\' && (s[i + 1] === '{' || s[i + 1] === '}')) {
      depth += s[i + 1] === '{' ? 1 : -1;
      i++;
      continue;
    }
    if (ch === '(' || ch === '[' || ch === '{') depth++;
    else if (ch === ')' || ch === ']' || ch === '}') depth--;
    else if (depth === 0) {
      if (typeof sep === 'string') {
        if (s.startsWith(sep, i)) {
          out.push(s.slice(start, i));
          start = i + sep.length;
          i += sep.length - 1;
        }
      } else {
        re!.lastIndex = i;
        const m = re!.exec(s);
        if (m) {
          out.push(s.slice(start, i));
          start = i + m[0].length;
          i += m[0].length - 1;
        }
      }
    }
  }
  out.push(s.slice(start));
  return out.map((x) => x.trim());
}

/** True when the bracket at 0 closes exactly at the last character. */
function enclosed(s: string, openLen: number, closeLen: number): boolean {
  let depth = 0;
  const body = s.slice(openLen, s.length - closeLen);
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch === '\\' && (body[i + 1] === '{' || body[i + 1] === '}')) {
      depth += body[i + 1] === '{' ? 1 : -1;
      i++;
    } else if (ch === '(' || ch === '[' || ch === '{') depth++;
    else if (ch === ')' || ch === ']' || ch === '}') depth--;
    if (depth < 0) return false;
  }
  return depth === 0;
}

const MATRIX = /^\\begin\{(p|b|B|v|V|small)?matrix\}([\s\S]*)\\end\{(p|b|B|v|V|small)?matrix\}$/;
const ARRAY = /^\\begin\{array\}\{[^}]*\}([\s\S]*)\\end\{array\}$/;
const CASES = /^\\begin\{cases\}([\s\S]*)\\end\{cases\}$/;

function dropAnd(items: string[]): string[] {
  return items.map((x) => x.replace(/^(?:and|or)\s+/i, '').replace(/^\\(?:text|mathrm)\{\s*(?:and|or)\s*\}\s*/i, '').trim()).filter((x) => x !== '');
}

/** -b, parenthesised unless b is one term. */
function negate(b: string): string {
  return /^[^+-]*$/.test(b) ? `-${b}` : `-(${b})`;
}

const REL = /(?:\\leq|\\geq|\\lt|\\gt|<|>)/y;
const VAR = /^(?:[a-zA-Z](?:_\{?[a-zA-Z0-9]+\}?)?|\\[a-zA-Z]+)$/;

/** Top-level relation operators of s: the pieces between them and the operators. */
function relations(s: string): { parts: string[]; ops: string[] } | null {
  const parts: string[] = [];
  const ops: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch === '(' || ch === '[' || ch === '{') depth++;
    else if (ch === ')' || ch === ']' || ch === '}') depth--;
    else if (depth === 0) {
      if (ch !== '<' && ch !== '>' && ch !== '\\') continue;
      REL.lastIndex = i;
      const m = REL.exec(s);
      if (m && !(ch === '\\' && /[a-zA-Z]/.test(s[i + m[0].length] ?? ''))) {
        parts.push(s.slice(start, i).trim());
        ops.push(m[0] === '\\lt' ? '<' : m[0] === '\\gt' ? '>' : m[0]);
        start = i + m[0].length;
        i = start - 1;
      }
    }
  }
  parts.push(s.slice(start).trim());
  if (!ops.length || parts.some((p) => p === '' || /=/.test(p))) return null;
  return { parts, ops };
}

/** "x > 3" -> (3, \infty); "k \geq 2" -> [2, \infty); "-1 < x \leq 2" -> (-1, 2]; "3 > x" -> (-\infty, 3). Else null. */
export function inequalityInterval(s: string): string | null {
  const r = relations(s);
  if (!r) return null;
  const lower = (op: string) => op === '<' || op === '\\leq'; // a op x: a is a lower bound
  const strict = (op: string) => op === '<' || op === '>';
  if (r.ops.length === 1) {
    const [a, b] = r.parts as [string, string];
    const op = r.ops[0]!;
    if (VAR.test(a) && !VAR.test(b)) {
      // x op b
      return lower(op) ? `(-\\infty, ${b}${strict(op) ? ')' : ']'}` : `${strict(op) ? '(' : '['}${b}, \\infty)`;
    }
    if (VAR.test(b) && !VAR.test(a)) {
      // a op x
      return lower(op) ? `${strict(op) ? '(' : '['}${a}, \\infty)` : `(-\\infty, ${a}${strict(op) ? ')' : ']'}`;
    }
    return null;
  }
  if (r.ops.length === 2 && VAR.test(r.parts[1]!) && !VAR.test(r.parts[0]!) && !VAR.test(r.parts[2]!)) {
    const [o1, o2] = r.ops as [string, string];
    if (lower(o1) !== lower(o2)) return null;
    const [lo, hi, ol, oh] = lower(o1) ? [r.parts[0]!, r.parts[2]!, o1, o2] : [r.parts[2]!, r.parts[0]!, o2, o1];
    return `${strict(ol) ? '(' : '['}${lo}, ${hi}${strict(oh) ? ')' : ']'}`;
  }
  return null;
}

export function shapeOf(s: string): Shape {
  let t = s.trim();
  // "x \in [0.5, \infty)": the membership is presentation.
  t = t.replace(/^[a-zA-Z]\s*\\in\s*/, '');
  // Inequalities are intervals: "x > 3" is (3, \infty), "x < -1 or x > 2" is (-\infty, -1) \cup (2, \infty).
  if (/[<>]|\\[lg](?:eq|t)(?![a-zA-Z])/.test(t)) {
    const alternatives = splitTop(t, /^(?:\s+or\s+|或|\\text\{\s*or\s*\}|\\cup)/);
    const intervals = alternatives.map(inequalityInterval);
    if (intervals.every((x) => x !== null)) {
      if (intervals.length === 1) t = intervals[0]!;
      else return { kind: 'union', items: intervals as string[] };
    }
  }
  let m = MATRIX.exec(t) ?? ARRAY.exec(t);
  if (m) {
    const body = m.length === 4 ? m[2]! : m[1]!;
    const rows = body.split(/\\\\/).map((r) => r.trim()).filter((r) => r !== '' && r !== '\\hline').map((r) => r.split('&').map((x) => x.trim()));
    return { kind: 'matrix', rows };
  }
  m = CASES.exec(t);
  if (m) {
    const items = m[1]!.split(/\\\\/).map((r) => r.replace(/&/g, '').trim()).filter((r) => r !== '');
    return { kind: 'set', items };
  }
  if (splitTop(t, '\\cup').length > 1) return { kind: 'union', items: splitTop(t, '\\cup') };
  if (t.startsWith('\\{') && t.endsWith('\\}') && enclosed(t, 2, 2)) {
    const inner = t.slice(2, -2).trim();
    return { kind: 'set', items: inner === '' ? [] : dropAnd(splitTop(inner, ',')) };
  }
  const open = t[0];
  const close = t[t.length - 1];
  if ((open === '(' || open === '[') && (close === ')' || close === ']') && t.length > 2 && enclosed(t, 1, 1)) {
    const items = splitTop(t.slice(1, -1), ',');
    if (items.length > 1) return { kind: 'tuple', open, close, items };
  }
  if (open === '{' && close === '}' && enclosed(t, 1, 1)) {
    const items = splitTop(t.slice(1, -1), ',');
    if (items.length > 1) return { kind: 'set', items: dropAnd(items) };
  }
  const parts = dropAnd(splitTop(t, /^(?:,|;|\s+and\s+|\\text\{\s*and\s*\}|\s+or\s+|\\text\{\s*or\s*\}|或)/));
  if (parts.length > 1) return { kind: 'list', items: parts };
  // "1 \pm \sqrt{19}" is the two roots; "\pm 2" is 2 and -2; "x = \pm 2" is x = 2 and x = -2.
  const pm = t.split('\\pm');
  if (pm.length === 2) {
    const a = pm[0]!.trim();
    const b = pm[1]!.trim();
    if (b === '') return { kind: 'scalar', text: t };
    if (a === '') return { kind: 'list', items: [b, negate(b)] };
    if (a.endsWith('=')) return { kind: 'list', items: [`${a} ${b}`, `${a} ${negate(b)}`] };
    return { kind: 'list', items: [`${a}+${b}`, `${a}-${b}`] };
  }
  return { kind: 'scalar', text: t };
}
