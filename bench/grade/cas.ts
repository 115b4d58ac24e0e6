// CAS choice, measured: of the MATH test gold answers that are not plain numbers, how many scalar parts
// does each back end parse and evaluate (a back end that cannot read an answer can only say "not equal"),
// and does each answer equal itself and a mutated copy of itself? Usage: node cas.js MATH_TEST_JSONL
import { readFileSync } from 'node:fs';
import { normalizeAnswer } from '../../src/checker/normalize.js';
import { parseNumber } from '../../src/checker/numeric.js';
import { shapeOf } from '../../src/checker/structure.js';
import { loadCas, toExpr, exprEqual, type CasName } from '../../src/checker/symbolic.js';
import * as C from '../../src/checker/complex.js';

const path = process.argv[2];
if (!path) throw new Error('usage: cas.js math/test.jsonl');
const answers = readFileSync(path, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { answer: string }).answer);
const scalars: string[] = [];
// The scalars that reach the CAS: shapes split recursively (tuples, intervals, sets, matrices), equations
// split at "=", and plain numbers, base-n numerals (1011_2), clock times and words left out.
function collect(s: string, depth = 0): void {
  const sh = shapeOf(s);
  if (sh.kind !== 'scalar') {
    const parts = sh.kind === 'matrix' ? sh.rows.flat() : sh.items;
    if (depth < 3) for (const p of parts) collect(p, depth + 1);
    return;
  }
  for (const side of sh.text.split('=')) {
    const p = side.trim();
    if (!p || parseNumber(p) || /^\d+_\{?\d+\}?$|^\d+:\d+|[<>]|\\[lg]eq/.test(p)) continue;
    if (!/[\\\d]/.test(p) || /[a-zA-Z]{4,}/.test(p.replace(/\\[a-zA-Z]+/g, ''))) continue;
    scalars.push(p);
  }
}
for (const a of answers) collect(normalizeAnswer(a));
console.log(`MATH test: ${answers.length} answers, ${scalars.length} non-numeric scalar parts (expressions)`);
for (const cas of ['ce', 'mathjs'] as CasName[]) {
  await loadCas(cas);
  let parsed = 0;
  let evaluable = 0;
  let selfEq = 0;
  let scaledNe = 0;
  const t0 = performance.now();
  for (const s of scalars) {
    let e;
    try {
      e = toExpr(s, cas);
    } catch {
      e = null;
    }
    if (!e) {
      if (process.env.CAS_VERBOSE) console.log(`  ${cas} cannot parse: ${s}`);
      continue;
    }
    parsed++;
    const pt: Record<string, C.C> = {};
    for (const v of e.vars) pt[v] = C.c(1.3);
    try {
      if (C.isFiniteC(e.eval(pt))) evaluable++;
    } catch (err) {
      if (process.env.CAS_VERBOSE) console.log(`  ${cas} cannot evaluate: ${s} (${(err as Error).message})`);
      continue;
    }
    if (exprEqual(e, e, 1e-9)) selfEq++;
    // (s)+1 must differ from s: a back end that ignores what it cannot read would call them equal.
    const f = toExpr(`\\left(${s}\\right)+1`, cas);
    if (f && !exprEqual(e, f, 1e-9)) scaledNe++;
  }
  const ms = performance.now() - t0;
  console.log(`${cas.padEnd(6)} parsed ${parsed}/${scalars.length}  evaluated ${evaluable}  self-equal ${selfEq}  (x)+1 != x: ${scaledNe}  ${(ms / scalars.length).toFixed(2)} ms/expr`);
}
