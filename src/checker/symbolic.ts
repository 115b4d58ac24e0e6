// Symbolic equality by evaluation: LaTeX is parsed by @cortex-js/compute-engine into MathJSON, and both
// expressions are evaluated (complex arithmetic) at the same pseudo-random points. Two expressions that
// agree at several random points are equal with overwhelming probability (Schwartz-Zippel), and this is
// far faster and more predictable than asking a CAS to simplify their difference to 0.
import { ComputeEngine } from '@cortex-js/compute-engine';
import * as C from './complex.js';

type MathJson = number | string | { num: string } | { sym: string } | { fn: MathJson[] } | MathJson[];

interface Engine {
  parse(latex: string): { json: unknown };
  pushScope(): unknown;
  popScope(): unknown;
}

let engine: Engine | null = null;

function ce(): Engine {
  if (!engine) {
    // Created on first use: plain-number grading (GSM8K) never builds the engine's dictionaries.
    engine = new ComputeEngine() as unknown as Engine;
  }
  return engine;
}

export class Unsupported extends Error {}

/** LaTeX rewrites the CAS parser needs: subscripted names become single symbols, ^\circ is explicit. */
export function prepareLatex(s: string): string {
  let t = s;
  t = t.replace(/(?<![\\a-zA-Z])([a-zA-Z])_(?:\{([a-zA-Z0-9]+)\}|([a-zA-Z0-9]))/g, (_m, a: string, b?: string, b1?: string) => `\\mathrm{${a}_${b ?? b1}}`);
  t = t.replace(/\\cdot/g, '\\cdot ').replace(/\*\*/g, '^').replace(/\*/g, '\\cdot ');
  t = t.replace(/\\[dt]?binom\{([^{}]*)\}\{([^{}]*)\}/g, '\\frac{($1)!}{($2)!(($1)-($2))!}');
  return t;
}

/** Parse LaTeX to MathJSON; null when the parser reports an error anywhere in the tree. */
export function parseLatex(latex: string): MathJson | null {
  let json: unknown;
  // Each parse in a scope of its own: canonicalising some expressions declares their symbols ("x \in [1,2]"
  // makes x an element of a set), and a declaration left in the engine broke every later expression in x.
  const e = ce();
  e.pushScope();
  try {
    json = e.parse(prepareLatex(latex)).json;
  } catch {
    return null;
  } finally {
    e.popScope();
  }
  return hasError(json) ? null : (json as MathJson);
}

function hasError(j: unknown): boolean {
  if (Array.isArray(j)) return j[0] === 'Error' || j.some(hasError);
  if (j && typeof j === 'object' && 'fn' in j) return hasError((j as { fn: unknown }).fn);
  return false;
}

/** The free variables of a MathJSON expression. */
export function freeSymbols(j: MathJson, out = new Set<string>()): Set<string> {
  if (typeof j === 'string') {
    if (!(j in CONSTANTS)) out.add(j);
  } else if (Array.isArray(j)) {
    for (let k = 1; k < j.length; k++) freeSymbols(j[k]!, out);
  } else if (typeof j === 'object' && j !== null) {
    if ('sym' in j) freeSymbols(j.sym, out);
    else if ('fn' in j) freeSymbols(j.fn, out);
  }
  return out;
}

const CONSTANTS: Record<string, C.C> = {
  Pi: C.c(Math.PI),
  ExponentialE: C.c(Math.E),
  ImaginaryUnit: C.c(0, 1),
  PositiveInfinity: C.c(Infinity),
  NegativeInfinity: C.c(-Infinity),
  Half: C.c(0.5),
  Nothing: C.c(NaN),
};

type Fn1 = (a: C.C) => C.C;
const UNARY: Record<string, Fn1> = {
  Negate: C.neg,
  Sqrt: C.sqrt,
  Exp: C.exp,
  Ln: C.log,
  Lb: (a) => C.div(C.log(a), C.c(Math.LN2)),
  Lg: (a) => C.div(C.log(a), C.c(Math.LN10)),
  Sin: C.sin,
  Cos: C.cos,
  Tan: C.tan,
  Sec: (a) => C.div(C.c(1), C.cos(a)),
  Csc: (a) => C.div(C.c(1), C.sin(a)),
  Cot: (a) => C.div(C.cos(a), C.sin(a)),
  Arcsin: C.asin,
  Arccos: C.acos,
  Arctan: C.atan,
  Sinh: C.sinh,
  Cosh: C.cosh,
  Tanh: C.tanh,
  Abs: (a) => C.c(C.abs(a)),
  Square: (a) => C.mul(a, a),
  Factorial: (a) => (a.im === 0 ? C.c(C.gamma(a.re + 1)) : C.c(NaN)),
  Floor: (a) => C.c(Math.floor(a.re), Math.floor(a.im)),
  Ceil: (a) => C.c(Math.ceil(a.re), Math.ceil(a.im)),
};

function binomial(n: C.C, k: C.C): C.C {
  return C.c(C.gamma(n.re + 1) / (C.gamma(k.re + 1) * C.gamma(n.re - k.re + 1)));
}

/**
 * Evaluate MathJSON with the given variable values. Throws Unsupported for anything not arithmetic, and
 * for overflow: 2^{2005} and 3^{2007} are both Infinity in floating point, and 1/2004! is 0, so a value
 * that passed through Infinity proves nothing.
 */
export function evaluate(j: MathJson, vars: Record<string, C.C>): C.C {
  const v = evaluateNode(j, vars);
  if (!C.isFiniteC(v) && !(typeof j === 'string' && j in CONSTANTS)) throw new Unsupported('overflow');
  return v;
}

function evaluateNode(j: MathJson, vars: Record<string, C.C>): C.C {
  if (typeof j === 'number') return C.c(j);
  if (typeof j === 'string') {
    const k = CONSTANTS[j] ?? vars[j];
    if (!k) throw new Unsupported(`symbol ${j}`);
    return k;
  }
  if (!Array.isArray(j)) {
    if ('num' in j) return C.c(Number(j.num.replace(/[()]/g, '').replace(/\.\.\.$/, '')));
    if ('sym' in j) return evaluate(j.sym, vars);
    if ('fn' in j) return evaluate(j.fn, vars);
    throw new Unsupported('object');
  }
  const head = j[0];
  const args = j.slice(1);
  const ev = (k: number) => evaluate(args[k]!, vars);
  switch (head) {
    case 'Add':
      return args.reduce<C.C>((s, a) => C.add(s, evaluate(a, vars)), C.c(0));
    case 'Multiply':
      return args.reduce<C.C>((s, a) => C.mul(s, evaluate(a, vars)), C.c(1));
    case 'Subtract':
      return args.length === 1 ? C.neg(ev(0)) : C.sub(ev(0), ev(1));
    case 'Divide':
    case 'Rational':
      return C.div(ev(0), ev(1));
    case 'Power':
      return C.pow(ev(0), ev(1));
    case 'Root':
      return C.pow(ev(0), C.div(C.c(1), ev(1)));
    case 'Complex':
      return C.c(ev(0).re, ev(1).re);
    case 'Log':
      return args.length > 1 ? C.div(C.log(ev(0)), C.log(ev(1))) : C.div(C.log(ev(0)), C.c(Math.LN10));
    case 'Delimiter':
    case 'Hold':
      if (args.length !== 1) throw new Unsupported(String(head));
      return ev(0);
    case 'Sequence':
      if (args.length !== 1) throw new Unsupported('Sequence');
      return ev(0);
    case 'Degrees':
      return C.mul(ev(0), C.c(Math.PI / 180));
    case 'Binomial':
      return binomial(ev(0), ev(1));
    case 'Apply':
    default: {
      const f = typeof head === 'string' ? UNARY[head] : undefined;
      if (f && args.length === 1) return f(ev(0));
      if (head === 'Binomial' || (head === 'Multiply' && args.length === 0)) return C.c(1);
      throw new Unsupported(`function ${JSON.stringify(head)}`);
    }
  }
}

/** Deterministic sample points: the same expressions always get the same verdict. */
function samplePoints(names: string[], count: number): Record<string, C.C>[] {
  let state = 0x2545f491;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const pts: Record<string, C.C>[] = [];
  for (let p = 0; p < count; p++) {
    const v: Record<string, C.C> = {};
    // Positive, not integers, away from 0 and 1: keeps sqrt/log real and avoids removable coincidences.
    for (const n of names) v[n] = C.c(0.3 + 2.4 * next());
    pts.push(v);
  }
  return pts;
}

/**
 * Relative tolerance implied by decimals written inside an expression ("x + 1.414i" -> 1e-3), never
 * looser than 1e-3: "x + 1.4i" must not pass for x + \sqrt2 i.
 */
export function decimalTolerance(...texts: string[]): number {
  let tol = 1e-9;
  for (const t of texts) for (const m of t.matchAll(/\d*\.(\d+)/g)) tol = Math.max(tol, Math.pow(10, -m[1]!.length));
  return Math.min(tol, 1e-3);
}

function close(a: C.C, b: C.C, tol: number): boolean {
  if (!C.isFiniteC(a) || !C.isFiniteC(b)) return a.re === b.re && a.im === b.im;
  const scale = Math.max(1, C.abs(a), C.abs(b));
  return C.abs(C.sub(a, b)) <= tol * scale;
}

export interface Expr {
  vars: Set<string>;
  eval(vars: Record<string, C.C>): C.C;
}

export const CAS_NAMES = ['ce', 'mathjs'] as const;
export type CasName = (typeof CAS_NAMES)[number];

let mathjsBackend: typeof import('./cas-mathjs.js') | null = null;

/** Load a back end that is not loaded by default (mathjs); call before checking with it. */
export async function loadCas(name: CasName | undefined): Promise<void> {
  if (name === 'mathjs' && !mathjsBackend) mathjsBackend = await import('./cas-mathjs.js');
}

export function toExpr(latex: string, cas: CasName = 'ce'): Expr | null {
  if (cas === 'mathjs') {
    if (!mathjsBackend) throw new Error('the mathjs back end is not loaded (await loadCas("mathjs"))');
    return mathjsBackend.mathjsExpr(latex);
  }
  const json = parseLatex(latex);
  if (json === null) return null;
  return { vars: freeSymbols(json), eval: (v) => evaluate(json, v) };
}

/** Value of a constant expression (no free variables), or null. */
export function constantValue(e: Expr): C.C | null {
  if (e.vars.size) return null;
  try {
    return e.eval({});
  } catch {
    return null;
  }
}

const POINTS = 6;

/** a == b at every sample point (points where both are undefined are skipped; at least 3 must count). */
export function exprEqual(a: Expr, b: Expr, tol: number): boolean {
  const names = [...new Set([...a.vars, ...b.vars])].sort();
  let used = 0;
  try {
    for (const pt of samplePoints(names, POINTS)) {
      const x = a.eval(pt);
      const y = b.eval(pt);
      const fx = C.isFiniteC(x);
      const fy = C.isFiniteC(y);
      if (!fx && !fy) continue;
      if (!close(x, y, tol)) return false;
      used++;
    }
  } catch {
    return false;
  }
  return used >= Math.min(3, POINTS);
}

/** lhs1 - rhs1 = k (lhs2 - rhs2) for a constant k != 0: the two equations have the same solutions. */
export function equationsEqual(a: [Expr, Expr], b: [Expr, Expr], tol: number): boolean {
  const names = [...new Set([...a[0].vars, ...a[1].vars, ...b[0].vars, ...b[1].vars])].sort();
  let ratio: C.C | null = null;
  let used = 0;
  try {
    for (const pt of samplePoints(names, POINTS)) {
      const da = C.sub(a[0].eval(pt), a[1].eval(pt));
      const db = C.sub(b[0].eval(pt), b[1].eval(pt));
      if (!C.isFiniteC(da) || !C.isFiniteC(db)) continue;
      const za = C.abs(da) < 1e-12;
      const zb = C.abs(db) < 1e-12;
      if (za || zb) {
        if (za !== zb) return false;
        used++;
        continue;
      }
      const r = C.div(da, db);
      if (ratio === null) ratio = r;
      else if (!close(r, ratio, tol)) return false;
      used++;
    }
  } catch {
    return false;
  }
  return used >= 3;
}
