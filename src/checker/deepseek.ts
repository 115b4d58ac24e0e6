// DeepSeek-Math's evaluation, rewritten in TypeScript from its description and behaviour: answer extraction
// (data_processing/answer_extraction.py), gold answers (data_processing/process_utils.py) and the per-benchmark
// comparisons (eval/eval_script.py, eval/eval_utils.py, eval/ocwcourses_eval_utils.py) of
// github.com/deepseek-ai/DeepSeek-Math at commit b8b0f8ce093d80bf8e9a641e44142f06d092c305, so that
// `--extract deepseek` gives numbers comparable to the paper's.
//
// Followed exactly: every string rule (Python's str.strip/split/replace semantics, its regular expressions
// with Unicode \d, \w and \s, float() parsing, math.isclose), the order of the tests, list handling
// (deduplication, "the last k answers", set matching), quirks included (GSM8K's few-shot extraction reads
// "1,200" as 200; the first "final answer is $" wins; a box followed by "%" keeps its closing brace).
// Not reproducible without SymPy: parse_latex/simplify. Where DeepSeek asks SymPy whether two expressions
// are equal, this asks mathpipe's CAS (evaluation at random points, or |a-b| <= 1e-3 for constants, as
// symbolic_equal's N() fallback); OCW's Python eval() of a numeric answer is an arithmetic evaluator for
// + - * / ** and parentheses, with the CAS for LaTeX. See man mathpipe-grade, DEEPSEEK EXTRACTION.
import { toExpr, constantValue, exprEqual, decimalTolerance, type CasName } from './symbolic.js';

export const DEEPSEEK_TASKS = [
  'gsm8k-cot', 'math-cot', 'math', 'last-single', 'sat', 'mmlu-stem', 'ocw', 'cmath-cot', 'gaokao-mathcloze', 'gaokao-mathqa', 'gsm8k-pal', 'math-pal',
] as const;
export type DeepseekTask = (typeof DEEPSEEK_TASKS)[number];

/** What each task is in DeepSeek's configs (answer_extraction_fn / eval_fn). */
export const DEEPSEEK_FUNCTIONS: Record<DeepseekTask, string> = {
  'gsm8k-cot': 'extract_gsm_few_shot_cot_answer / eval_last_single_answer',
  'math-cot': 'extract_math_few_shot_cot_answer / eval_math',
  math: 'extract_math_answer / eval_math',
  'last-single': 'extract_last_single_answer / eval_last_single_answer',
  sat: 'extract_sat_few_shot_answer / eval_math_sat',
  'mmlu-stem': 'extract_mmlu_stem / eval_mmlu_stem',
  ocw: 'extract_ocwcourses_few_shot_answer / eval_ocwcourses',
  'cmath-cot': 'extract_cmath_few_shot_test / eval_last_single_answer',
  'gaokao-mathcloze': 'extract_agieval_gaokao_mathcloze_few_shot_cot_test / eval_agieval_gaokao_math_cloze',
  'gaokao-mathqa': 'extract_agieval_gaokao_mathqa_few_shot_cot_test / eval_agieval_gaokao_mathqa',
  'gsm8k-pal': 'program output / eval_last_single_answer',
  'math-pal': 'program output / eval_math',
};

// ---- Python string semantics ----

/** Python's str.isspace() characters. */
const PY_SPACE = ' \t\n\r\v\f\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000';
/** Python's \s in a str pattern. */
const S = '[ \\t\\n\\r\\v\\f\\x1c-\\x1f\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const D = '\\p{Nd}';
const W = '[\\p{L}\\p{N}_]';

export function pyStrip(s: string, chars?: string): string {
  return pyRstrip(pyLstrip(s, chars), chars);
}
export function pyLstrip(s: string, chars?: string): string {
  const set = [...(chars ?? PY_SPACE)];
  const cps = [...s];
  let i = 0;
  while (i < cps.length && set.includes(cps[i]!)) i++;
  return cps.slice(i).join('');
}
export function pyRstrip(s: string, chars?: string): string {
  const set = [...(chars ?? PY_SPACE)];
  const cps = [...s];
  let j = cps.length;
  while (j > 0 && set.includes(cps[j - 1]!)) j--;
  return cps.slice(0, j).join('');
}
/** s.split(sep, 1)[1] (undefined when sep is absent). */
function after(s: string, sep: string): string | undefined {
  const i = s.indexOf(sep);
  return i < 0 ? undefined : s.slice(i + sep.length);
}
/** s.split(sep, 1)[0]. */
function before(s: string, sep: string): string {
  const i = s.indexOf(sep);
  return i < 0 ? s : s.slice(0, i);
}
const all = (s: string, a: string, b: string) => s.split(a).join(b);

/** Value of a Unicode decimal digit (Python's float() and int() accept any). */
function digitValue(ch: string): number {
  let cp = ch.codePointAt(0)!;
  if (cp >= 48 && cp <= 57) return cp - 48;
  // Decimal digits come in aligned runs of ten starting at a zero.
  let start = cp;
  while (/\p{Nd}/u.test(String.fromCodePoint(start - 1))) start--;
  cp -= start;
  return cp % 10;
}

/** Python's float(s): a number or null where float() raises. */
export function pyFloat(s: string): number | null {
  let t = pyStrip(s);
  t = [...t].map((c) => (/\p{Nd}/u.test(c) ? String(digitValue(c)) : c)).join('');
  if (/^[+-]?(?:inf|infinity)$/i.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  if (/^[+-]?nan$/i.test(t)) return NaN;
  const dig = '\\d(?:_?\\d)*';
  if (!new RegExp(`^[+-]?(?:${dig}(?:\\.(?:${dig})?)?|\\.${dig})(?:[eE][+-]?${dig})?$`).test(t)) return null;
  return Number(t.replace(/_/g, ''));
}

/** Python's math.isclose(a, b, abs_tol=...). */
function isclose(a: number, b: number, absTol = 0, relTol = 1e-9): boolean {
  if (a === b) return true;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  const d = Math.abs(a - b);
  return d <= Math.max(relTol * Math.max(Math.abs(a), Math.abs(b)), absTol);
}

// ---- answer_extraction.py ----

function fixFracs(s: string): string {
  const subs = s.split('\\frac');
  let out = subs[0]!;
  for (const sub of subs.slice(1)) {
    out += '\\frac';
    const cps = [...sub];
    if (cps.length > 0 && cps[0] === '{') out += sub;
    else {
      if (cps.length < 2) return s;
      const a = cps[0]!;
      const b = cps[1]!;
      const post = cps.slice(2).join('');
      out += b !== '{' ? `{${a}}{${b}}${post}` : `{${a}}${b}${post}`;
    }
  }
  return out;
}

function fixASlashB(s: string): string {
  const parts = s.split('/');
  if (parts.length !== 2) return s;
  const [a, b] = parts as [string, string];
  // int() then a round trip through "{}/{}": only canonical integers (or anything holding "sqrt") pass.
  const ok = (x: string) => x.includes('sqrt') || /^(?:0|-?[1-9]\d*)$/.test(x);
  return ok(a) && ok(b) ? `\\frac{${a}}{${b}}` : s;
}

function fixSqrt(s: string): string {
  return s.replace(/\\sqrt(-?[0-9.a-zA-Z]+)/g, '\\sqrt{$1}').replace(new RegExp(`\\\\sqrt${S}+(${W}+)$`, 'u'), '\\sqrt{$1}');
}

function fixTan(s: string): string {
  return s.replace(/\\tan(-?[0-9.a-zA-Z]+)/g, '\\tan{$1}').replace(new RegExp(`\\\\tan${S}+(${W}+)$`, 'u'), '\\tan{$1}');
}

/** strip_string: DeepSeek's answer normalisation. */
export function stripString(input: string): string {
  let s = pyStrip(input);
  s = all(s, '\n', '');
  s = pyRstrip(s, '.');
  s = all(s, '\\!', '');
  if (s.startsWith('\\text{') && s.endsWith('}')) s = s.slice(s.indexOf('{') + 1, -1);
  s = all(all(all(s, 'tfrac', 'frac'), 'dfrac', 'frac'), 'cfrac', 'frac');
  s = all(all(s, '\\left', ''), '\\right', '');
  const unitless = pyStrip(s.replace(/\\text\{.*?\}$/, ''));
  if (unitless !== '' && unitless !== s) s = unitless;
  s = pyStrip(all(s, '^{\\circ}', ''));
  s = pyStrip(all(s, '^\\circ', ''));
  s = pyStrip(s.replace(/\{(c|m)?m\}(\^(2|3))?/g, ''));
  s = pyStrip(s.replace(/p\.m\.$/, ''));
  s = pyStrip(s.replace(new RegExp(`(${D})${S}*t$`, 'u'), '$1'));
  s = all(all(s, '\\$', ''), '$', '');
  s = all(s, 'x\\in', '');
  // Twice: the Python has replace("\\%", "%") and replace("\%", "%"), which are the same string.
  s = all(all(s, '\\%', '%'), '\\%', '%');
  s = all(all(s, ' .', ' 0.'), '{.', '{0.');
  s = all(s, '\\cdot', '');
  s = all(s, 'infinity', '\\infty');
  if (!s.includes('\\infty')) s = all(s, 'inf', '\\infty');
  s = all(s, '+\\inity', '\\infty');
  s = all(all(s, '\\mathbf', ''), '\\mathrm', '');
  s = s.replace(/\\mbox\{.*?\}/g, '');
  if (s.includes('j') && !s.includes('i')) s = all(s, 'j', 'i');
  s = s.replace(new RegExp(`(${D}+)\\.0+([^${D.slice(0)}])`, 'gu'), '$1$2');
  s = s.replace(new RegExp(`(${D}+)\\.0+$`, 'u'), '$1');
  if (s.length === 0) return s;
  if (s[0] === '.') s = '0' + s;
  s = fixSqrt(s);
  s = fixTan(s);
  s = all(s, ' ', '');
  s = fixFracs(s);
  s = fixASlashB(s);
  s = s.replace(/(?:\\|,|\.)+$/, '');
  return s;
}

/** extract_boxed_answers: every "boxed{...}", balanced; unterminated ones are dropped. */
export function extractBoxedAnswers(text: string): string[] {
  const out: string[] = [];
  for (const piece of text.split('boxed{').slice(1)) {
    let n = 0;
    for (let i = 0; i < piece.length; i++) {
      if (piece[i] === '{') n++;
      else if (piece[i] === '}') {
        n--;
        if (n < 0) {
          out.push(i + 1 < piece.length && piece[i + 1] === '%' ? piece.slice(0, i + 1) : piece.slice(0, i));
          break;
        }
      }
    }
  }
  return out;
}

/** extract_program_output: the text of the last ```output block. */
export function extractProgramOutput(s: string): string {
  if (!s.includes('```output')) return '';
  let t = s.split('```output').at(-1)!;
  if (t.includes('```')) t = t.split('```')[0]!;
  return pyStrip(t);
}

/** extract_answer(pred_str, exhaust): every candidate answer, normalised. */
export function dsExtractAnswers(pred: string): string[] {
  let out: string[] = [];
  if (pred.includes('final answer is $') && pred.includes('$. I hope')) {
    out = [pyStrip(before(after(pred, 'final answer is $')!, '$. I hope'))];
  } else if (pred.includes('boxed')) {
    out = extractBoxedAnswers(pred);
  } else if (pred.includes('he answer is')) {
    out = [pyStrip(pred.split('he answer is').at(-1)!)];
  } else {
    const program = extractProgramOutput(pred);
    if (program !== '') out.push(program);
    else {
      const nums = all(pred, ',', '').match(new RegExp(`-?${D}*\\.?${D}+`, 'gu'));
      const last = nums?.at(-1) ?? '';
      if (last) out.push(last);
    }
  }
  return out.map((a) => {
    let x = pyStrip(a).split('\n')[0]!;
    x = pyLstrip(x, ':');
    x = pyRstrip(x, '.');
    x = pyRstrip(x, '/');
    return stripString(x);
  });
}

/** extract_answer(pred_str): the last candidate, or "". */
export function dsExtractAnswer(pred: string): string {
  return dsExtractAnswers(pred).at(-1) ?? '';
}

/** extract_math_answer: candidates split at commas ("separated by commas" questions) and \text{and}. */
export function dsExtractMathAnswer(question: string, reasoning: string): string[] {
  const out: string[] = [];
  for (const ans of dsExtractAnswers(reasoning)) {
    if (question.includes('separated by commas') && ![...'()[]'].some((c) => ans.includes(c))) out.push(...ans.split(',').map((a) => pyStrip(a)));
    else if (new RegExp(`\\\\text\\{${S}*and${S}*\\}`, 'u').test(ans)) out.push(...ans.replace(new RegExp(`\\\\text\\{${S}*and${S}*\\}`, 'gu'), '[SEP]').split('[SEP]').map((a) => pyStrip(a)));
    else out.push(pyStrip(ans));
  }
  return out;
}

function cutAt(s: string, marker: string): string {
  return before(s, marker);
}

const NUM = new RegExp(`-?${D}+\\.?${D}*`, 'gu');

/** The prediction of each task's answer_extraction_fn: a string, or a list for MATH and cloze. */
export function dsExtract(task: DeepseekTask, question: string, reasoning: string): string | string[] {
  switch (task) {
    case 'gsm8k-cot': {
      const r = cutAt(reasoning, 'Q: ');
      return r.match(NUM)?.at(-1) ?? '[invalid]';
    }
    case 'math-cot':
      return dsExtractMathAnswer(question, cutAt(reasoning, 'Problem:'));
    case 'math':
      return dsExtractMathAnswer(question, reasoning);
    case 'last-single':
      return dsExtractAnswer(reasoning);
    case 'sat':
    case 'mmlu-stem': {
      const r = cutAt(reasoning, 'Problem:');
      const m = /the final answer is \(?([abcd])\)?/.exec(r.toLowerCase());
      return m ? m[1]!.toUpperCase() : 'placeholder';
    }
    case 'ocw': {
      const r = cutAt(reasoning, 'Problem:');
      const m = /final answer is (.*)\. I hope it is correct./.exec(r);
      return m ? m[1]! : '[invalid]';
    }
    case 'cmath-cot': {
      const r = cutAt(reasoning, '问题：');
      const rest = after(r, '答案是');
      if (rest === undefined) return dsExtractAnswer(r);
      let a = pyStrip(rest).split('\n')[0]!;
      a = pyStrip(pyStrip(a, '：'), '。');
      return a.match(NUM)?.at(-1) ?? '[invalid]';
    }
    case 'gaokao-mathcloze': {
      const r = cutAt(reasoning, '问题 ');
      const rest = after(r, '答案是');
      if (rest === undefined) return ['placeholder'];
      return [pyStrip(pyStrip(pyStrip(rest).split('\n')[0]!), '$')];
    }
    case 'gaokao-mathqa': {
      const r = cutAt(reasoning, '问题 ');
      const rest = after(r, '答案是');
      return rest === undefined ? 'placeholder' : pyStrip(pyStrip(rest).split('\n')[0]!);
    }
    case 'gsm8k-pal':
      return reasoning;
    case 'math-pal':
      return [reasoning];
  }
}

/**
 * The gold answer as DeepSeek's data processing writes it, from the benchmark's own field: GSM8K and
 * MGSM's number without commas; MATH's candidates from the solution (a bare answer is normalised as one);
 * CMATH's `golden` stripped without commas; cloze blanks split at ";" and normalised; letters as they are.
 */
export function deepseekGold(task: DeepseekTask, raw: string, question = ''): string | string[] {
  switch (task) {
    case 'gsm8k-cot':
    case 'gsm8k-pal':
    case 'last-single': {
      const i = raw.lastIndexOf('####');
      return all(i >= 0 ? pyStrip(raw.slice(i + 4)) : raw, ',', '');
    }
    case 'math-cot':
    case 'math':
    case 'math-pal':
      return raw.includes('boxed') ? dsExtractMathAnswer(question, raw) : [stripString(raw)];
    case 'cmath-cot':
      return all(pyStrip(raw), ',', '');
    case 'gaokao-mathcloze':
      return pyStrip(raw).split(';').map(stripString);
    default:
      return raw;
  }
}

// ---- eval_utils.py / eval_script.py ----

/** parse_digits: a float, "12%" as 0.12, commas removed; null when it is not a number. */
function parseDigits(s: string): number | null {
  const t = all(s, ',', '');
  const f = pyFloat(t);
  if (f !== null) return f;
  if (t.endsWith('%')) {
    let u = t.slice(0, -1);
    if (u.endsWith('\\')) u = u.slice(0, -1);
    const g = pyFloat(u);
    if (g !== null) return g / 100;
  }
  return null;
}

interface DsOptions {
  cas?: CasName;
  symbolic?: boolean;
}

/** Stand-in for symbolic_equal (SymPy's simplify(a-b) == 0, else |N(a)-N(b)| <= 1e-3): mathpipe's CAS. */
function symbolicEqual(a: string, b: string, o: DsOptions): boolean {
  if (o.symbolic === false) return false;
  // SymPy's parse_latex and parse_expr both fail on a dollar sign ("5$" from a cloze answer "$5$;$10$").
  if (a.includes('$') || b.includes('$')) return false;
  const x = toExpr(a, o.cas);
  const y = toExpr(b, o.cas);
  if (!x || !y) return false;
  if (exprEqual(x, y, decimalTolerance(a, b))) return true;
  const vx = constantValue(x);
  const vy = constantValue(y);
  return !!vx && !!vy && Math.abs(vx.im) < 1e-12 && Math.abs(vy.im) < 1e-12 && isclose(vx.re, vy.re, 1e-3);
}

/** math_equal(prediction, reference) with include_percentage and is_close. */
export function mathEqual(prediction: string, reference: string, o: DsOptions = {}): boolean {
  if (prediction === reference) return true;
  const pd = parseDigits(prediction);
  const rd = parseDigits(reference);
  if (pd !== null && rd !== null) {
    return [rd / 100, rd, rd * 100].some((x) => isclose(x, pd, 1e-3));
  }
  if (prediction === '') return false;
  const ref = pyStrip(reference);
  const pred = pyStrip(prediction);
  const bracketed = /^[([].+[)\]]/;
  if (bracketed.test(pred) && bracketed.test(ref)) {
    const pp = pred.slice(1, -1).split(',');
    const rp = ref.slice(1, -1).split(',');
    if (pp.length === rp.length && pp.every((x, i) => mathEqual(x, rp[i]!, o))) return true;
  }
  const isMat = (s: string) => (s.startsWith('\\begin{pmatrix}') || s.startsWith('\\begin{bmatrix}')) && (s.endsWith('\\end{pmatrix}') || s.endsWith('\\end{bmatrix}'));
  if (isMat(pred) && isMat(ref)) {
    const rows = (s: string) => s.slice('\\begin{pmatrix}'.length, -'\\end{pmatrix}'.length).split('\\\\').map((l) => pyStrip(l)).filter((l) => l !== '');
    const pl = rows(pred);
    const rl = rows(ref);
    let matched = pl.length === rl.length;
    if (matched) {
      for (let i = 0; i < pl.length && matched; i++) {
        const a = pl[i]!.split('&');
        const b = rl[i]!.split('&');
        matched = a.length === b.length && a.every((x, k) => mathEqual(x, b[k]!, o));
      }
    }
    if (matched) return true;
  }
  const eqs = (s: string) => s.split('=').length - 1;
  if (eqs(pred) === 1 && eqs(ref) === 1) {
    const [p0, p1] = pred.split('=') as [string, string];
    const [r0, r1] = ref.split('=') as [string, string];
    const p = `${pyStrip(p0)} - (${pyStrip(p1)})`;
    const r = `${pyStrip(r0)} - (${pyStrip(r1)})`;
    if (symbolicEqual(p, r, o) || symbolicEqual(`-(${p})`, r, o)) return true;
  } else if (eqs(pred) === 1 && [...pyStrip(pred.split('=')[0]!)].length <= 2 && !ref.includes('=')) {
    if (mathEqual(pred.split('=')[1]!, ref, o)) return true;
  } else if (eqs(ref) === 1 && [...pyStrip(ref.split('=')[0]!)].length <= 2 && !pred.includes('=')) {
    if (mathEqual(pred, ref.split('=')[1]!, o)) return true;
  }
  return symbolicEqual(pred, ref, o);
}

/** is_correct(item): lists match when every prediction and every answer found a partner. */
export function isCorrect(pred: string | string[], ans: string | string[], o: DsOptions = {}, prec = 1e-3): boolean {
  if (Array.isArray(pred) && Array.isArray(ans)) {
    const pm = new Set<number>();
    const am = new Set<number>();
    for (let i = 0; i < pred.length; i++) {
      for (let j = 0; j < ans.length; j++) {
        if (isCorrect(pred[i]!, ans[j]!, o, prec)) {
          pm.add(i);
          am.add(j);
        }
      }
    }
    return pm.size === pred.length && am.size === ans.length;
  }
  if (typeof pred === 'string' && typeof ans === 'string') {
    if (pred.includes('\\cup') && ans.includes('\\cup')) return isCorrect(pred.split('\\cup'), ans.split('\\cup'), o, prec);
    const a = pyFloat(pred.replace(/,/g, ''));
    const b = pyFloat(ans.replace(/,/g, ''));
    if (a !== null && b !== null && Math.abs(a - b) < prec) return true;
    return (ans !== '' && pred === ans) || mathEqual(pred, ans, o);
  }
  throw new Error('deepseek is_correct: a list against a string');
}

function dedupe(xs: string[]): string[] {
  const out: string[] = [];
  for (const x of xs) if (!out.includes(x)) out.push(x);
  return out;
}

/** eval_math's predictions: duplicates dropped, then the last len(answer) (answers deduplicated too). */
function mathPreds(pred: string[], ans: string[]): string[] {
  const a = dedupe(ans);
  const p = dedupe(pred);
  return a.length ? p.slice(-a.length) : p;
}

/** eval_math: duplicates dropped on both sides, then the last len(answer) predictions. */
function evalMath(pred: string[], ans: string[], o: DsOptions): boolean {
  return isCorrect(mathPreds(pred, ans), dedupe(ans), o);
}

/** eval_agieval_gaokao_math_cloze: predictions split at ";" and top-level ",", compared in order. */
function evalCloze(pred: string[], ans: string[], o: DsOptions): boolean {
  const parts: string[] = [];
  for (const p0 of pred) {
    let p = p0 + ';';
    while (p) {
      let depth = 0;
      for (let i = 0; i < p.length; i++) {
        const ch = p[i]!;
        if (ch === ';' || (ch === ',' && depth === 0)) {
          const head = pyStrip(p.slice(0, i));
          p = pyStrip(p.slice(i + 1));
          if (!parts.includes(head)) parts.push(head);
          break;
        } else if ('([{'.includes(ch)) depth++;
        else if (')]}'.includes(ch)) depth--;
      }
    }
  }
  const last = ans.length ? parts.slice(-ans.length) : parts;
  return last.length === ans.length && last.every((p, i) => isCorrect(p, ans[i]!, o));
}

/** eval_agieval_gaokao_mathqa: the letter among A-D whose first occurrence is latest. */
function mathqaTag(pred: string): string | null {
  let tag: string | null = null;
  let idx = -1;
  for (const t of 'ABCD') {
    const i = pred.indexOf(t);
    if (i >= 0 && i > idx) {
      tag = t;
      idx = i;
    }
  }
  return tag;
}

// ---- ocwcourses_eval_utils.py ----

const OCW_INVALID = '[invalidanswer]';
const OCW_UNITS = [
  'eV', ' \\mathrm{~kg} \\cdot \\mathrm{m} / \\mathrm{s}', ' kg m/s', 'kg*m/s', 'kg', 'm/s', 'm / s', 'm s^{-1}', '\\text{ m/s}', ' \\mathrm{m/s}', ' \\text{ m/s}',
  'g/mole', 'g/mol', '\\mathrm{~g}', '\\mathrm{~g} / \\mathrm{mol}', 'W', 'erg/s', 'years', 'year', 'cm',
];

/** Python's eval() on the arithmetic an answer may be: numbers, + - * / ** and parentheses; else null. */
export function pyArith(s: string): number | null {
  const toks = s.match(/\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|\*\*|[-+*/()]|\s+|./g) ?? [];
  const ts = toks.filter((t) => !/^\s+$/.test(t));
  let i = 0;
  const peek = () => ts[i];
  const num = (): number => {
    const t = ts[i++];
    if (t === undefined) throw new Error('end');
    if (t === '(') {
      const v = sum();
      if (ts[i++] !== ')') throw new Error(')');
      return v;
    }
    if (t === '-' || t === '+') {
      const v = power();
      return t === '-' ? -v : v;
    }
    if (!/^[\d.]/.test(t)) throw new Error(t);
    return Number(t);
  };
  const power = (): number => {
    const b = num();
    if (peek() === '**') {
      i++;
      return Math.pow(b, power());
    }
    return b;
  };
  const prod = (): number => {
    let v = power();
    while (peek() === '*' || peek() === '/') {
      const op = ts[i++];
      const w = power();
      if (op === '/' && w === 0) throw new Error('ZeroDivisionError');
      v = op === '*' ? v * w : v / w;
    }
    return v;
  };
  const sum = (): number => {
    let v = prod();
    while (peek() === '+' || peek() === '-') v = ts[i++] === '+' ? v + prod() : v - prod();
    return v;
  };
  try {
    if (!ts.length) return null;
    const v = sum();
    return i === ts.length ? v : null;
  } catch {
    return null;
  }
}

function ocwNumeric(s0: string, o: DsOptions): number | string {
  let s = s0;
  for (const u of OCW_UNITS) s = pyStrip(all(s, u, ''));
  for (const u of ['m', 's', 'cm']) s = pyStrip(all(all(s, `\\mathrm{${u}}`, ''), `\\mathrm{~${u}}`, ''));
  s = pyStrip(s, '$');
  const v = pyArith(s);
  if (v !== null) return v;
  const e = o.symbolic === false ? null : toExpr(s, o.cas);
  const c = e ? constantValue(e) : null;
  return c && Math.abs(c.im) < 1e-12 ? c.re : OCW_INVALID;
}

/** numpy.isclose(a, b) with its defaults (rtol 1e-5, atol 1e-8). */
const npIsclose = (a: number, b: number) => Math.abs(a - b) <= 1e-8 + 1e-5 * Math.abs(b);

function ocwNumericEqual(n1: number, n2: number): boolean {
  if (npIsclose(n1, 0) || npIsclose(n2, 0) || npIsclose(n1 - n2, 0)) return Math.abs(n1 - n2) < (0.01 * (n1 + n2)) / 2;
  return npIsclose(n1, n2);
}

const TEX_SUBS: [string, string][] = [
  ['an ', ''], ['a ', ''], ['.$', '$'], ['\\$', ''], ['\\ ', ''], [' ', ''], ['mbox', 'text'], [',\\text{and}', ','], ['\\text{and}', ','], ['\\text{m}', '\\text{}'],
];
const TEX_REMOVED = [
  'square', 'ways', 'integers', 'dollars', 'mph', 'inches', 'ft', 'hours', 'km', 'units', '\\ldots', 'sue', 'points', 'feet', 'minutes', 'digits', 'cents',
  'degrees', 'cm', 'gm', 'pounds', 'meters', 'meals', 'edges', 'students', 'childrentickets', 'multiples', '\\text{s}', '\\text{.}', '\\text{\ns}',
  '\\text{}^2', '\\text{}^3', '\\text{\n}', '\\text{}', '\\mathrm{th}', '^\\circ', '^{\\circ}', '\\;', ',\\!', '{,}', '"', '\\dots',
];
const PY_ISDIGIT = /^[\p{Nd}\u00b2\u00b3\u00b9\u2070\u2074-\u2079\u2080-\u2089\u2460-\u2468\u2474-\u247c\u2488-\u2490\u24f5-\u24fd\u24ea\u24ff\u2776-\u277e\u2780-\u2788\u278a-\u2792]+$/u;

/** normalize_tex (Minerva's appendix D normaliser, as DeepSeek's OCW evaluation uses it). */
export function ocwNormalizeTex(answer: string): string {
  let s = answer.split('=').at(-1)!;
  for (const [a, b] of TEX_SUBS) s = all(s, a, b);
  for (const r of TEX_REMOVED) s = all(s, r, '');
  s = s.replace(/(.*?)(\$)(.*?)(\$)(.*)/g, '$$$3$$');
  s = s.replace(/(\\text\{)(.*?)(\})/g, '$2');
  s = s.replace(/(\\textbf\{)(.*?)(\})/g, '$2');
  s = s.replace(/(\\overline\{)(.*?)(\})/g, '$2');
  s = s.replace(/(\\boxed\{)(.*)(\})/g, '$2');
  s = s.replace(/(frac)([^{])(.)/g, 'frac{$2}{$3}');
  s = s.replace(/(sqrt)([^{])/g, 'sqrt{$2}');
  s = all(s, '$', '');
  if (PY_ISDIGIT.test(all(s, ',', ''))) s = all(s, ',', '');
  return s;
}

function evalOcw(pred: string, ans: string, o: DsOptions): boolean {
  const unnormalised = pred !== '' ? pred : OCW_INVALID;
  if (unnormalised === OCW_INVALID) return false;
  if (pyFloat(ans) !== null) {
    const g = ocwNumeric(ans, o);
    const p = ocwNumeric(unnormalised, o);
    if (p === OCW_INVALID || typeof p === 'string' || typeof g === 'string') return false;
    return ocwNumericEqual(p, g);
  }
  if (ans.includes('=')) {
    // normalize_symbolic_equation + ==: two parsed equations, compared side by side (the CAS for SymPy).
    const norm = (x: string) => {
      let t = x;
      if (t.startsWith('\\[')) t = t.slice(2);
      if (t.endsWith('\\]')) t = t.slice(0, -2);
      t = all(all(all(t, '\\left(', '('), '\\right)', ')'), '\\\\', '\\');
      if (t.startsWith('$') || t.endsWith('$')) t = pyStrip(t, '$');
      const sides = t.split('=');
      return sides.length === 2 ? sides : null;
    };
    const a = norm(unnormalised);
    const b = norm(ans);
    if (!a || !b) return false;
    return symbolicEqual(a[0]!, b[0]!, o) && symbolicEqual(a[1]!, b[1]!, o);
  }
  // is_tex_equiv returns after its string comparison: normalised text must match exactly.
  return ocwNormalizeTex(unnormalised) === ocwNormalizeTex(ans);
}

// ---- one grade ----

/** No answer, as DeepSeek's extractors write it. */
const NO_ANSWER = new Set(['', '[invalid]', 'placeholder']);

/** The prediction as one string for the per-sample record and the vote (lists joined with ", "). */
function shown(p: string | string[]): string | null {
  const xs = (Array.isArray(p) ? p : [p]).filter((x) => !NO_ANSWER.has(x));
  return xs.length ? xs.join(', ') : null;
}

/** Grade one response the way DeepSeek-Math's evaluation does for `task`. */
export function deepseekGrade(task: DeepseekTask, response: string, gold: string | string[], question: string, o: DsOptions = {}): { pred: string | null; correct: boolean } {
  const pred = dsExtract(task, question, response);
  const g = Array.isArray(gold) ? gold : deepseekGold(task, gold, question);
  let correct: boolean;
  switch (task) {
    case 'math-cot':
    case 'math':
    case 'math-pal': {
      const ga = Array.isArray(g) ? g : [g];
      correct = evalMath(pred as string[], ga, o);
      return { pred: shown(mathPreds(pred as string[], ga)), correct };
    }
    case 'gaokao-mathcloze':
      correct = evalCloze(pred as string[], Array.isArray(g) ? g : [g], o);
      break;
    case 'gaokao-mathqa': {
      correct = mathqaTag(pred as string) === g;
      return { pred: mathqaTag(pred as string), correct };
    }
    case 'sat':
    case 'mmlu-stem':
      correct = (pred as string).toLowerCase() === String(g).toLowerCase();
      break;
    case 'ocw':
      correct = evalOcw(pred as string, String(g), o);
      break;
    default:
      correct = isCorrect(pred as string, String(g), o);
  }
  return { pred: shown(pred), correct };
}
