// --extract deepseek: DeepSeek-Math's evaluation (answer_extraction.py, eval_script.py, eval_utils.py) as
// mathpipe reimplements it. Expected values are what DeepSeek's Python gives, quirks included; each quirk
// is a row, because "exactly" means the numbers match the paper's, not that the answers are right.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sharedData } from '../helpers.js';
import {
  deepseekGold, deepseekGrade, dsExtract, dsExtractAnswers, extractBoxedAnswers, isCorrect, mathEqual, ocwNormalizeTex, pyArith, pyFloat, pyStrip, stripString,
} from '../../src/checker/deepseek.js';
import { gradeResponse } from '../../src/checker/grade.js';

t.test('Python string semantics: strip, float()', async (t) => {
  t.equal(pyStrip('\x1c\x85 5 \u3000'), '5', 'str.strip() whitespace is not String.trim()\'s');
  t.equal(pyStrip('\ufeff5'), '\ufeff5', 'a BOM is not Python whitespace');
  t.equal(pyStrip('$5$;$10$', '$'), '5$;$10');
  t.same([pyFloat(' 12 '), pyFloat('1_000'), pyFloat('1e3'), pyFloat('.5'), pyFloat('5.'), pyFloat('-inf'), pyFloat('١٢'), pyFloat('1,000'), pyFloat('1__0'), pyFloat('')], [12, 1000, 1000, 0.5, 5, -Infinity, 12, null, null, null]);
  t.ok(Number.isNaN(pyFloat('nan')!));
  t.same([pyArith('3*10**8'), pyArith('1/4'), pyArith('-(2+3)'), pyArith('2^3'), pyArith('1/0'), pyArith('x')], [3e8, 0.25, -5, null, null, null]);
});

t.test('strip_string', async (t) => {
  const rows: [string, string][] = [
    ['\\frac12', '\\frac{1}{2}'], ['0.5.', '0.5'], ['\\text{(B)}', '(B)'], ['5 \\text{ cm}', '5'], ['10\\%', '10%'], ['\\dfrac{1}{2}', '\\frac{1}{2}'],
    ['x\\in [1,2]', '[1,2]'], ['x \\in [1,2]', 'x\\in[1,2]'], ['1/2', '\\frac{1}{2}'], ['007/3', '007/3'], ['\\sqrt2', '\\sqrt{2}'], ['3.000', '3'], ['.5', '0.5'],
    ['2,3,', '2,3'], ['\\text{4:30 p.m.}', '4:30'], ['10{,}000', '10{,}000'], ['\\left( 3, \\frac{\\pi}{2} \\right)', '(3,\\frac{\\pi}{2})'], ['2j', '2i'],
    ['\\frac1{72}', '\\frac{1}{72}'], ['90^\\circ', '90'], ['5\\,\\text{ cm}^2', '5\\,\\text{cm}^2'], ['\\$18', '18'], ['infinity', '\\infty'], ['(-inf, 2)', '(-\\infty,2)'],
  ];
  for (const [a, b] of rows) t.equal(stripString(a), b, `${JSON.stringify(a)} -> ${JSON.stringify(b)}`);
});

t.test('extraction: extract_answer and the per-benchmark extractors', async (t) => {
  t.same(extractBoxedAnswers('\\boxed{1} and \\boxed{\\frac{2}{3}} and \\boxed{5}% and \\boxed{x'), ['1', '\\frac{2}{3}', '5}']);
  t.same(dsExtractAnswers('A \\boxed{3}.\nFinal Answer: The final answer is $5$. I hope it is correct.'), ['5'], 'the Minerva line first');
  t.same(dsExtractAnswers('The final answer is $1$. I hope not. The final answer is $2$. I hope it is correct.'), ['1'], 'the first "final answer is $" wins');
  t.same(dsExtractAnswers('\\boxed{2} and \\boxed{3}'), ['2', '3']);
  t.same(dsExtractAnswers('So the answer is: 42.\nBye'), ['42']);
  t.same(dsExtractAnswers('it is 1,234 or 5.5 here'), ['5.5'], 'last number, commas removed');
  t.same(dsExtractAnswers('```output\n7\n```'), ['7'], 'program output');
  t.equal(dsExtract('gsm8k-cot', '', 'She pays 1,200 dollars. The answer is 1,200.\n\nQ: next 7'), '200.', 'GSM8K few-shot: "1,200" reads as 200.');
  t.equal(dsExtract('gsm8k-cot', '', 'no number'), '[invalid]');
  t.same(dsExtract('math-cot', 'Find x.', 'so \\boxed{3}.\nFinal Answer: The final answer is $5$. I hope it is correct.\n\nProblem:\nThe final answer is $9$. I hope'), ['5']);
  t.same(dsExtract('math', 'Enter all solutions, separated by commas.', '\\boxed{1, 2}'), ['1', '2']);
  t.same(dsExtract('math', 'Find them.', '\\boxed{1 \\text{ and } 2}'), ['1', '2']);
  t.equal(dsExtract('sat', '', 'Final Answer: The final answer is (B). I hope it is correct.'), 'B');
  t.equal(dsExtract('mmlu-stem', '', 'The Final Answer is c.\nProblem:\nThe final answer is (A)'), 'C');
  t.equal(dsExtract('sat', '', '\\boxed{B}'), 'placeholder', 'SAT reads only its answer line');
  t.equal(dsExtract('ocw', '', 'Final answer: The final answer is 3 m. I hope it is correct.'), '3 m');
  t.equal(dsExtract('cmath-cot', '', '所以答案是：1200元。\n问题：下一题 5'), '1200');
  t.equal(dsExtract('cmath-cot', '', '一共 \\boxed{18} 个'), '18', 'no 答案是: extract_last_single_answer');
  t.same(dsExtract('gaokao-mathcloze', '', '所以答案是 $5$;$10$\n问题 7. 下一题'), ['5$;$10']);
  t.equal(dsExtract('gaokao-mathqa', '', '因为 A 不对，所以答案是 C。'), 'C。');
});

t.test('gold answers as DeepSeek\'s data processing builds them', async (t) => {
  t.equal(deepseekGold('gsm8k-cot', 'work\n#### 1,234'), '1234');
  t.same(deepseekGold('math-cot', '\\dfrac{1}{2}.'), ['\\frac{1}{2}'], 'no box: the bare answer, normalised');
  t.same(deepseekGold('math-cot', 'so $\\boxed{-2}$ and $\\boxed{1}$.', 'Find all solutions.'), ['-2', '1']);
  t.same(deepseekGold('gaokao-mathcloze', '$5$;$10$'), ['5', '10']);
  t.equal(deepseekGold('cmath-cot', ' 1,200 '), '1200');
  t.equal(deepseekGold('sat', 'B'), 'B');
});

t.test('comparison: is_correct and math_equal (SymPy replaced by mathpipe\'s CAS)', async (t) => {
  t.ok(mathEqual('0.5', '\\frac{1}{2}'));
  t.ok(mathEqual('50%', '0.5'), 'percentages: reference/100, reference, reference*100');
  t.ok(mathEqual('50', '0.5'), '... which also accepts 50 for 0.5');
  t.ok(isCorrect('1,000', '1000'));
  t.ok(isCorrect('3.0004', '3'), '|a-b| < 1e-3');
  t.notOk(isCorrect('3.002', '3'));
  t.ok(mathEqual('(1,2)', '(1, 2)'));
  t.ok(mathEqual('x=3', '3'), 'a left side of at most two characters is dropped');
  t.notOk(mathEqual('abc=3', '3'));
  t.ok(mathEqual('y=2x+1', 'y = 1+2x'));
  t.ok(mathEqual('x=-\\frac14', 'y=-\\frac14') === false);
  t.ok(mathEqual('\\begin{pmatrix}1\\\\2\\end{pmatrix}', '\\begin{pmatrix}1\\\\2.0\\end{pmatrix}'));
  t.ok(isCorrect('(1,2)\\cup(3,4)', '(3,4)\\cup(1,2)'), '\\cup: unions as sets');
  t.ok(isCorrect(['2', '3'], ['3', '2']));
  t.notOk(isCorrect(['2', '2'], ['2', '3']));
  t.notOk(mathEqual('10000', '10{,}000'), 'DeepSeek does not read {,}: mathpipe does');
  t.equal(ocwNormalizeTex('x = \\frac12 \\text{ cm}'), '\\frac{1}{2}');
  t.equal(ocwNormalizeTex('100,000'), '100000');
});

t.test('one grade per task', async (t) => {
  const g = (task: Parameters<typeof deepseekGrade>[0], r: string, gold: string | string[], q = '') => deepseekGrade(task, r, gold, q);
  t.same(g('math-cot', 'x is \\boxed{5} then \\boxed{2} and \\boxed{3}', ['2', '3']), { pred: '2, 3', correct: true }, 'MATH: the last len(gold) answers');
  t.same(g('math-cot', 'Final Answer: The final answer is $\\frac12$. I hope it is correct.', ['0.5']), { pred: '\\frac{1}{2}', correct: true });
  t.same(g('gsm8k-cot', 'The answer is 1,200.', '1200'), { pred: '200.', correct: false }, 'the comma quirk');
  t.same(g('gsm8k-cot', 'The answer is 18.', '18'), { pred: '18.', correct: true });
  t.same(g('sat', 'The final answer is (b).', 'B'), { pred: 'B', correct: true });
  t.same(g('gaokao-mathqa', '所以答案是 A 或 C', 'C'), { pred: 'C', correct: true }, 'the letter that appears last');
  t.same(g('gaokao-mathcloze', '所以答案是 5;10', ['5', '10']), { pred: '5;10', correct: true });
  t.same(g('gaokao-mathcloze', '所以答案是 10;5', ['5', '10']).correct, false, 'cloze blanks are ordered');
  t.same(g('gaokao-mathcloze', '所以答案是 $5$;$10$', ['5', '10']).correct, false, 'strip("$") leaves "5$" and "$10": DeepSeek marks this wrong');
  t.same(g('cmath-cot', '所以答案是：1200元。', '1200'), { pred: '1200', correct: true });
  t.same(g('ocw', 'The final answer is 3.0e8. I hope it is correct.', '300000000'), { pred: '3.0e8', correct: true });
  t.same(g('ocw', 'The final answer is $x^2$. I hope it is correct.', 'x^{2}').correct, false, 'OCW expressions: normalised text only');
  t.same(g('gsm8k-pal', '18', '18'), { pred: '18', correct: true });
  t.same(g('math', 'no answer at all', ['5']), { pred: null, correct: false });
  // Through gradeResponse and the options the pool passes.
  t.same(gradeResponse('\\boxed{2} and \\boxed{3}', 'unused', { extract: 'deepseek', task: 'math' }, { deepseekGold: ['3', '2'] }), { pred: '2, 3', correct: true });
});

const graded = sharedData('graded/qwen25math_eval_rm_maj_math_cot_100.jsonl');
t.test('real outputs: DeepSeek extraction agrees with mathpipe\'s checker on Qwen2.5-Math\'s MATH answers', { skip: graded ? false : '../shared/data/graded absent' }, async (t) => {
  const { answersEqual } = await import('../../src/checker/equal.js');
  const { extractAnswer } = await import('../../src/checker/extract.js');
  let n = 0;
  let same = 0;
  const differ: string[] = [];
  for (const line of readFileSync(graded!, 'utf8').trim().split('\n').slice(0, 40)) {
    const r = JSON.parse(line) as { question: string; gt_cot: string; answer: string; code: string[] };
    for (const resp of r.code) {
      n++;
      const ds = deepseekGrade('math', resp, deepseekGold('math', r.gt_cot, r.question), r.question).correct;
      const p = extractAnswer(resp);
      const mp = p !== null && answersEqual(p, r.answer);
      if (ds === mp) same++;
      else differ.push(`${p} | ${r.answer}`);
    }
  }
  t.ok(same >= n - 2, `${same}/${n} agree; differ: ${differ.join('; ')}`);
  t.ok(join('a', 'b'));
});
