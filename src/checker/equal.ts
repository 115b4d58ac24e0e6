// Is a predicted answer the gold answer? Cheapest tests first: text, then numbers, then structure
// (tuples, intervals, sets, matrices, equations), then the CAS. Every step is conservative: when an
// answer cannot be understood it is not equal, because a false positive is a reward for a wrong answer.
import { choiceSet } from './extract.js';
import { compactForm, hasPercent, normalizeAnswer, simpleLhs, stripSimpleLhs } from './normalize.js';
import { numbersEqual, numbersExactlyEqual, parseNumber, type Num } from './numeric.js';
import { shapeOf, splitTop, type Shape } from './structure.js';
import { constantValue, decimalTolerance, equationsEqual, exprEqual, toExpr, type CasName } from './symbolic.js';

export interface CheckOptions {
  /** Use the CAS for expressions that are not plain numbers (default true). */
  symbolic?: boolean;
  /** CAS back end for expressions: compute-engine (default, chosen by measured agreement) or mathjs. */
  cas?: CasName;
  /**
   * The order of a list answer matters ("in increasing order", the blanks of a cloze question): "1, 2"
   * is then not "2, 1". Sets in braces stay unordered.
   */
  ordered?: boolean;
}

const TIME = /^(\d{1,2}):(\d{2})(?::(\d{2}))?\s*(a\.?\s*m\.?|p\.?\s*m\.?)?$/i;

/** A gold that is choice letters ("C", "(C)", "AD", "A B D") as sorted letters; else null. */
function choiceOf(s: string): string | null {
  const t = s.replace(/\\text\{([^{}]*)\}/g, '$1').trim();
  return /^[(\sA-E),、.:]+$/.test(t) && /[A-E]/.test(t) ? choiceSet(t) : null;
}

function minutesOf(s: string): number | null {
  const m = TIME.exec(s.replace(/^\$|\$$/g, '').replace(/\\(?:text|mathrm)\{([^{}]*)\}/g, '$1').replace(/\s+/g, ' ').trim());
  if (!m) return null;
  let h = Number(m[1]);
  const ampm = m[4]?.toLowerCase().replace(/[.\s]/g, '');
  if (ampm === 'pm' && h < 12) h += 12;
  if (ampm === 'am' && h === 12) h = 0;
  return h * 60 + Number(m[2]) + Number(m[3] ?? 0) / 60;
}

/** The number an answer denotes, if it is a constant: plain syntax first, the CAS for \sqrt, \pi, ... */
function numberOf(s: string, symbolic: boolean, cas: CasName | undefined): Num | null {
  const n = parseNumber(s);
  if (n) return n;
  if (!symbolic || !/\d|\\pi|\\sqrt|\\frac/.test(s) || /[a-zA-Z]/.test(s.replace(/\\[a-zA-Z]+/g, '').replace(/\b[ei]\b/g, ''))) return null;
  const e = toExpr(s, cas);
  if (!e) return null;
  const v = constantValue(e);
  if (!v || Math.abs(v.im) > 1e-12 * Math.max(1, Math.abs(v.re))) return null;
  const tol = decimalTolerance(s);
  return { value: v.re, ulp: tol > 1e-9 ? tol * Math.max(1, Math.abs(v.re)) : 0 };
}

/** f(x), g(t): a function's value, which may stand for y ("y = 2x + 3" is "f(x) = 2x + 3"). */
function isFunctionName(lhs: string): boolean {
  return /\(/.test(lhs);
}

function equationSides(s: string): [string, string] | null {
  if (/\\[lg]eq?|[<>]|\\neq/.test(s)) return null;
  const parts = splitTop(s, '=');
  return parts.length === 2 && parts[0] !== '' && parts[1] !== '' ? [parts[0]!, parts[1]!] : null;
}

/** Two scalar answers (already normalised). */
export function scalarEqual(pred: string, gold: string, opts: CheckOptions, pct = { pred: false, gold: false }): boolean {
  if (compactForm(pred) === compactForm(gold)) return true;
  const symbolic = opts.symbolic !== false;
  const gc = choiceOf(gold);
  if (gc) return choiceOf(pred) === gc;

  const pe = equationSides(pred);
  const ge = equationSides(gold);
  if (pe && ge && symbolic) {
    const sides = [toExpr(pe[0], opts.cas), toExpr(pe[1], opts.cas), toExpr(ge[0], opts.cas), toExpr(ge[1], opts.cas)];
    if (sides.every((x) => x !== null)) {
      const [a, b, c, d] = sides as NonNullable<(typeof sides)[0]>[];
      if (equationsEqual([a!, b!], [c!, d!], decimalTolerance(pred, gold))) return true;
    }
  }
  if (pe || ge) {
    // "x = 3" is the answer 3, but not the answer "y = 3": two different variables on the left differ.
    const pv = pe ? simpleLhs(pred) : null;
    const gv = ge ? simpleLhs(gold) : null;
    if (pv !== null && gv !== null && pv !== gv && !(isFunctionName(pv) || isFunctionName(gv))) return false;
    const p2 = pe ? stripSimpleLhs(pred) : pred;
    const g2 = ge ? stripSimpleLhs(gold) : gold;
    if (p2 === pred && g2 === gold) return false;
    return scalarEqual(p2, g2, opts, pct);
  }

  const gn = numberOf(gold, symbolic, opts.cas);
  if (gn) {
    const pn = numberOf(pred, symbolic, opts.cas);
    if (pn) {
      if (numbersEqual(pn, gn)) return true;
      // "10\%" is 10 or 0.1, whichever side wrote the sign.
      if (pct.gold && numbersExactlyEqual(pn.value, gn.value / 100)) return true;
      if (pct.pred && numbersExactlyEqual(pn.value / 100, gn.value)) return true;
      return false;
    }
    // A constant written with variables (\sin^2 x + \cos^2 x): only the CAS can tell.
    if (!symbolic || !/[a-zA-Z]/.test(pred)) return false;
  }
  if (!symbolic) return false;
  const a = toExpr(pred, opts.cas);
  const b = toExpr(gold, opts.cas);
  if (!a || !b) return false;
  return exprEqual(a, b, decimalTolerance(pred, gold));
}

function itemsEqualOrdered(p: string[], g: string[], opts: CheckOptions): boolean {
  return p.length === g.length && p.every((x, k) => answersEqual(x, g[k]!, opts));
}

/** Multiset equality: each gold item matched by a distinct predicted item. */
function itemsEqualUnordered(p: string[], g: string[], opts: CheckOptions): boolean {
  if (p.length !== g.length) return false;
  const used = new Array<boolean>(p.length).fill(false);
  for (const gi of g) {
    let found = false;
    for (let k = 0; k < p.length; k++) {
      if (!used[k] && answersEqual(p[k]!, gi, opts)) {
        used[k] = true;
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  return true;
}

function vectorOf(s: Shape): string[] | null {
  if (s.kind === 'matrix') {
    if (s.rows.length === 1) return s.rows[0]!;
    if (s.rows.every((r) => r.length === 1)) return s.rows.map((r) => r[0]!);
    return null;
  }
  if (s.kind === 'tuple' || s.kind === 'list') return s.items;
  return null;
}

function shapesEqual(p: Shape, g: Shape, opts: CheckOptions, pct: { pred: boolean; gold: boolean }): boolean {
  if (g.kind === 'scalar' && p.kind === 'scalar') return scalarEqual(p.text, g.text, opts, pct);
  if (g.kind === 'matrix' && p.kind === 'matrix') {
    return p.rows.length === g.rows.length && p.rows.every((r, k) => itemsEqualOrdered(r, g.rows[k]!, opts));
  }
  if (g.kind === 'tuple' && p.kind === 'tuple') {
    // Open and closed ends are part of the answer: [a, b) is not (a, b); [1,2,3] is not (1,2,3).
    return p.open === g.open && p.close === g.close && itemsEqualOrdered(p.items, g.items, opts);
  }
  if ((g.kind === 'set' || g.kind === 'list' || g.kind === 'union') && (p.kind === 'set' || p.kind === 'list' || p.kind === 'union')) {
    if ((g.kind === 'union') !== (p.kind === 'union')) return false;
    // "x = 1, y = 2" against "x = 1, y = 2" keeps the names (so "y = 1, x = 2" differs); against "1, 2" they go.
    const named = (items: string[]) => items.every((x) => simpleLhs(x) !== null);
    const keep = named(p.items) && named(g.items);
    const pi = keep ? p.items : p.items.map(stripSimpleLhs);
    const gi = keep ? g.items : g.items.map(stripSimpleLhs);
    if (opts.ordered && g.kind === 'list' && p.kind !== 'set') return itemsEqualOrdered(pi, gi, opts);
    return itemsEqualUnordered(pi, gi, opts);
  }
  if (g.kind === 'matrix' || p.kind === 'matrix') {
    const pv = vectorOf(p);
    const gv = vectorOf(g);
    return pv !== null && gv !== null && itemsEqualOrdered(pv, gv, opts);
  }
  // A bare list against a parenthesised tuple ("1, 2" vs "(1, 2)"): compare in order.
  if ((g.kind === 'tuple' && p.kind === 'list' && g.open === '(') || (p.kind === 'tuple' && g.kind === 'list' && p.open === '(')) {
    return itemsEqualOrdered(vectorOf(p)!, vectorOf(g)!, opts);
  }
  return false;
}

/** The answer checker: true when `pred` denotes the same answer as `gold`. */
export function answersEqual(pred: string, gold: string, opts: CheckOptions = {}): boolean {
  const pct = { pred: hasPercent(pred), gold: hasPercent(gold) };
  // Clock times are read before normalisation, which would drop "\text{p.m.}" as a unit.
  const gt = minutesOf(gold);
  if (gt !== null) return minutesOf(pred) === gt;
  const p = normalizeAnswer(pred);
  const g = normalizeAnswer(gold);
  if (p === '' || g === '') return false;
  if (compactForm(p) === compactForm(g)) return true;
  return shapesEqual(shapeOf(p), shapeOf(g), opts, pct);
}

/** Two answers that denote the same thing, whichever is taken as the gold (maj@k vote groups). */
export function sameAnswer(a: string, b: string, opts: CheckOptions = {}): boolean {
  return answersEqual(a, b, opts) || answersEqual(b, a, opts);
}
