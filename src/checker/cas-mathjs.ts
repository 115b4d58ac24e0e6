// The alternative CAS back end, kept so the choice stays measurable (bench/grade/run.sh, --cas mathjs):
// mathjs has no LaTeX parser, so LaTeX is first rewritten to mathjs syntax here, then parsed and
// evaluated (mathjs does complex arithmetic itself). On the graded data it loses to compute-engine.
import { create, all, type MathNode } from 'mathjs';
import * as C from './complex.js';

const math = create(all, {});

const FUNCS: Record<string, string> = {
  sin: 'sin', cos: 'cos', tan: 'tan', sec: 'sec', csc: 'csc', cot: 'cot', arcsin: 'asin', arccos: 'acos', arctan: 'atan',
  sinh: 'sinh', cosh: 'cosh', tanh: 'tanh', ln: 'log', log: 'log10', exp: 'exp',
};

/** The balanced {...} group starting at s[i] === '{': [content, index after it]. */
function group(s: string, i: number): [string, number] {
  if (s[i] !== '{') {
    // A single-token argument: \frac12, \sqrt2, x^2
    return [s[i] ?? '', i + 1];
  }
  let depth = 0;
  for (let j = i; j < s.length; j++) {
    if (s[j] === '{') depth++;
    else if (s[j] === '}' && --depth === 0) return [s.slice(i + 1, j), j + 1];
  }
  throw new Error('unbalanced braces');
}

/** A function argument: "(…)" balanced, "{…}", or one token ("x", "2", "\\pi"). */
function argOf(s: string, i: number): [string, number] {
  while (s[i] === ' ') i++;
  if (s[i] === '(') {
    let depth = 0;
    for (let j = i; j < s.length; j++) {
      if (s[j] === '(') depth++;
      else if (s[j] === ')' && --depth === 0) return [s.slice(i + 1, j), j + 1];
    }
    throw new Error('unbalanced parentheses');
  }
  if (s[i] === '{') return group(s, i);
  const m = /^(?:\\[a-zA-Z]+|[a-zA-Z]|\d+(?:\.\d+)?)/.exec(s.slice(i));
  if (!m) throw new Error('missing argument');
  return [m[0], i + m[0].length];
}

export function latexToMathjs(latex: string): string {
  let s = latex.replace(/\\left|\\right/g, '').replace(/\\[,;:!]/g, ' ');
  let out = '';
  let i = 0;
  while (i < s.length) {
    const ch = s[i]!;
    if (ch === '\\') {
      const m = /^\\([a-zA-Z]+)/.exec(s.slice(i));
      const name = m ? m[1]! : s[i + 1] ?? '';
      i += m ? m[0].length : 2;
      while (s[i] === ' ') i++;
      if (name === 'frac' || name === 'dfrac' || name === 'tfrac') {
        const [a, j] = group(s, i);
        const [b, k] = group(s, j);
        out += ` ((${latexToMathjs(a)})/(${latexToMathjs(b)})) `;
        i = k;
      } else if (name === 'sqrt') {
        if (s[i] === '[') {
          const close = s.indexOf(']', i);
          const n = s.slice(i + 1, close);
          const [a, j] = group(s, close + 1);
          out += ` nthRoot(${latexToMathjs(a)}, ${latexToMathjs(n)}) `;
          i = j;
        } else {
          const [a, j] = group(s, i);
          out += ` sqrt(${latexToMathjs(a)}) `;
          i = j;
        }
      } else if (name === 'pi') out += ' pi ';
      else if (name === 'infty') out += ' Infinity ';
      else if (name === 'cdot' || name === 'times') out += ' * ';
      else if (name === 'div') out += ' / ';
      else if (name === 'circ') out += ' deg ';
      else if (FUNCS[name]) {
        const f = FUNCS[name];
        if (s[i] === '^') {
          const [p, j] = group(s, i + 1);
          i = j;
          out += ` ${f}`;
          const [arg, k] = argOf(s, i);
          out += `(${latexToMathjs(arg)})^(${latexToMathjs(p)}) `;
          i = k;
        } else {
          const [arg, k] = argOf(s, i);
          out += ` ${f}(${latexToMathjs(arg)}) `;
          i = k;
        }
      } else if (name === 'mathrm' || name === 'text' || name === 'operatorname') {
        const [a, j] = group(s, i);
        out += ` ${a.replace(/\s+/g, '')} `;
        i = j;
      } else throw new Error(`unsupported \\${name}`);
    } else if (ch === '{') {
      const [a, j] = group(s, i);
      out += `(${latexToMathjs(a)})`;
      i = j;
    } else if (ch === '^') {
      const [a, j] = group(s, i + 1);
      out += `^(${latexToMathjs(a)})`;
      i = j;
    } else {
      out += ch;
      i++;
    }
  }
  s = out;
  // Implicit products mathjs does not read: "x(…)" is a call, ")(" and ") x" and "x^2 3".
  s = s.replace(/\b([a-zA-Z])\s*\(/g, '$1 * (');
  s = s.replace(/\)\s*(?=[\w(])/g, ') * ');
  s = s.replace(/(\d)\s+(?=\d)/g, '$1 * ');
  return s.replace(/\s+/g, ' ').trim();
}

export interface MathjsExpr {
  vars: Set<string>;
  eval(vars: Record<string, C.C>): C.C;
}

const BUILTIN = new Set(['pi', 'e', 'i', 'Infinity', 'deg', 'sqrt', 'nthRoot', ...Object.values(FUNCS)]);

export function mathjsExpr(latex: string): MathjsExpr | null {
  let node: MathNode;
  try {
    node = math.parse(latexToMathjs(latex));
  } catch {
    return null;
  }
  const vars = new Set<string>();
  node.traverse((n) => {
    const sym = n as MathNode & { isSymbolNode?: boolean; name?: string };
    if (sym.isSymbolNode && sym.name && !BUILTIN.has(sym.name)) vars.add(sym.name);
  });
  const code = node.compile();
  return {
    vars,
    eval(v) {
      const scope: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) scope[k] = x.im === 0 ? x.re : math.complex(x.re, x.im);
      const r = code.evaluate(scope) as unknown;
      if (typeof r === 'number') return C.c(r);
      if (r && typeof r === 'object' && 're' in r && 'im' in r) return C.c((r as { re: number }).re, (r as { im: number }).im);
      throw new Error('not a number');
    },
  };
}
