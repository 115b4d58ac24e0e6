// The answer-checker cases of issue 12 ("eval: answer extraction and normalisation"), item by item: what the
// few-shot formats' answer lines, units, Chinese units, ordered answers, several boxes and the notations of
// sets and intervals must give. False rows are false accepts that must stay rejected.
import t, { type Test } from 'tap';
import { answersEqual, type CheckOptions } from '../../src/checker/equal.js';
import { choiceLetter, extractAnswer } from '../../src/checker/extract.js';
import { gradeResponse } from '../../src/checker/grade.js';
import { mathGold } from '../../src/eval/benchmarks.js';

type Row = [string, string, boolean];
const check = (t: Test, rows: Row[], opts: CheckOptions = {}) => {
  for (const [p, g, want] of rows) t.equal(answersEqual(p, g, opts), want, `${JSON.stringify(p)} vs ${JSON.stringify(g)} -> ${want}`);
};

t.test('1. the few-shot formats\' own answer line wins over an earlier box', async (t) => {
  const minerva = 'First $x = \\boxed{3}$ is an intermediate value, then $y = 5$.\nFinal Answer: The final answer is $5$. I hope it is correct.';
  t.equal(extractAnswer(minerva), '5', 'MATH (Minerva) format');
  t.same(gradeResponse(minerva, '5'), { pred: '5', correct: true });
  t.equal(extractAnswer('We get \\boxed{12} apples.\nThe answer is 12.'), '12');
  t.equal(extractAnswer('So $\\boxed{[2,5)}$.\nFinal Answer: The final answer is $[2,5)$. I hope it is correct.'), '[2,5)');
  t.equal(extractAnswer('\\boxed{42}. The answer is correct.'), '42', 'a sentence after the box is not an answer line');
  t.equal(extractAnswer('The answer is 4. \\boxed{6}'), '6', 'a box after the line still wins');
  // SAT / MMLU-STEM: the letter line beats a boxed value.
  t.equal(choiceLetter('The domain is $\\boxed{[2,5)}$.\nFinal Answer: The final answer is (B). I hope it is correct.'), 'B');
  t.equal(choiceLetter('$\\det = \\boxed{24}$. So \\boxed{C}? No.\nFinal Answer: The final answer is (D). I hope it is correct.'), 'D');
  t.equal(choiceLetter('Therefore \\boxed{A}.'), 'A');
  // CMATH: 所以答案是：1200元。
  t.equal(extractAnswer('小明一共走了1200米，所以答案是：1200元。'), '1200元');
  t.same(gradeResponse('小明一共走了1200米，所以答案是：1200元。', '1200'), { pred: '1200元', correct: true });
});

t.test('2. thousands separators followed by a unit', async (t) => {
  check(t, [
    ['1,200 \\text{ meters}', '1200', true], ['3,000 meters', '3000', true], ['1,200元', '1200', true], ['\\$1,250 \\text{ dollars}', '1250', true],
    ['12,500 \\text{ km}', '12500', true], ['1,200 \\text{ meters}', '1300', false], ['1,5 \\text{ m}', '15', false],
  ]);
  t.same(gradeResponse('The answer is 3,000 meters.', '3000'), { pred: '3,000 meters', correct: true });
  t.same(gradeResponse('so \\boxed{1,200 \\text{ meters}}', '1200'), { pred: '1,200 \\text{ meters}', correct: true });
});

t.test('3. Chinese units and km/h, \\,\\mathrm{kg}, percent, m/s', async (t) => {
  check(t, [
    ['1200元', '1200', true], ['\\boxed{18 \\text{元}}'.slice(7, -1), '18', true], ['18 个', '18', true], ['3千米', '3', true], ['5平方米', '5', true],
    ['2米/秒', '2', true], ['18元', '19', false], ['60 km/h', '60', true], ['60km/h', '60', true], ['60 \\text{ km/h}', '60', true],
    ['5\\,\\mathrm{kg}', '5', true], ['5 \\mathrm{~kg}', '5', true], ['20 percent', '20', true], ['20 percent', '0.2', true], ['20 percent', '0.3', false],
    ['3 m/s', '3', true], ['3\\text{ m/s}', '3', true], ['9.8 m/s^2', '9.8', true], ['充分不必要条件', '充分不必要条件', true], ['3x', '3', false],
  ]);
  t.same(gradeResponse('所以答案是 \\boxed{18 \\text{元}}', '18'), { pred: '18 \\text{元}', correct: true });
});

t.test('4. false accepts: the wrong variable, order that matters, option lists', async (t) => {
  check(t, [
    ['x = -\\frac14', 'y = -\\frac14', false], ['y = -\\frac14', 'y = -\\frac14', true], ['y=-0.25', 'y = -\\frac14', true], ['-\\frac14', 'y = -\\frac14', true],
    ['y = 2x + 3', 'f(x) = 2x + 3', true], ['x = 1, y = 2', 'y = 1, x = 2', false], ['y = 2, x = 1', 'x = 1, y = 2', true],
  ]);
  // Ordered answers: a cloze question's blanks, "from least to greatest".
  check(t, [['2, 1', '1, 2', false], ['1, 2', '1, 2', true], ['5;10', '$5$;$10$', true], ['10;5', '$5$;$10$', false], ['\\{2, 1\\}', '1, 2', true]], { ordered: true });
  check(t, [['2, 1', '1, 2', true]]);
  t.same(gradeResponse('x = \\boxed{1, -2}', '-2, 1', {}, { ordered: true }).correct, false, 'the question asked for increasing order');
  // Multiple choice: a response that only lists the options has no answer.
  t.equal(choiceLetter('Let me look at the options: (A) 12 (B) 20 (C) 16 (D) 15'), null);
  t.same(gradeResponse('Options: (A) 1, (B) 2, (C) 3, (D) 4', 'D', { extract: 'choice' }), { pred: null, correct: false });
  t.equal(choiceLetter('I pick (A) over (B), so (B)'), 'B', 'a choice between two stays a choice');
});

t.test('5. several boxes; \\pm, "or", inequalities and intervals, the empty set', async (t) => {
  t.same(gradeResponse('The roots are $\\boxed{2}$ and $\\boxed{3}$.', '2, 3'), { pred: '2, 3', correct: true });
  t.same(gradeResponse('First \\boxed{5}, but then $\\boxed{2}$ and $\\boxed{3}$.', '2, 3'), { pred: '2, 3', correct: true }, 'the last k distinct boxes');
  t.same(gradeResponse('$\\boxed{2}$ and $\\boxed{2}$', '2, 3').correct, false);
  t.same(gradeResponse('$\\boxed{4}$ and $\\boxed{3}$', '2, 3').correct, false);
  check(t, [
    ['\\pm 2', '2, -2', true], ['\\pm 2', '-2, 2', true], ['\\pm 2', '2', false], ['x = \\pm 3', '3, -3', true], ['\\pm\\sqrt{3}', '\\sqrt3, -\\sqrt3', true],
    ['x=-1 \\text{ or } x=2', '-1, 2', true], ['x=-1 or x=2', '2, -1', true], ['x=-1 \\text{ or } x=2', '-1, 3', false], ['x=-1或x=2', '-1, 2', true],
    ['x>3', '(3,\\infty)', true], ['x > 3', '[3,\\infty)', false], ['3 < x', '(3, \\infty)', true], ['k \\ge 2', '[2,\\infty)', true], ['k \\geq 2', '(2,\\infty)', false],
    ['x \\leq 5', '(-\\infty, 5]', true], ['-1 < x \\le 2', '(-1,2]', true], ['-1 \\le x < 2', '(-1,2]', false], ['x<-1 \\text{ or } x>2', '(-\\infty,-1)\\cup(2,\\infty)', true],
    ['x \\geqslant 2', '[2,+\\infty)', true], ['x>3', 'x>3', true], ['x > 3', 'x < 3', false],
    ['\\emptyset', '\\{\\}', true], ['\\varnothing', '\\emptyset', true], ['∅', '\\{ \\}', true], ['\\emptyset', '\\{0\\}', false], ['\\emptyset', '0', false],
  ]);
});

t.test('5. MATH golds from solutions that box several different answers', async (t) => {
  // algebra/1878-like: "find all solutions" boxes two answers; the dataset keeps the last.
  const all = mathGold('Find all solutions to $\\sqrt{3x+6}=x+2$. If there are multiple solutions, order them from least to greatest, separated by comma(s).', 'the answers are $\\boxed{-2}$ and $\\boxed{1}$.', '1');
  t.same(all, { gold: '-2, 1', ordered: true });
  // algebra/1730-like: another box "is also accepted".
  t.same(mathGold('What is the common difference?', 'so $d=\\boxed{-3}$.\n\nNote: $\\boxed{3}$ is also accepted as an answer.', '3'), { gold: '3', alternatives: ['-3'], ordered: undefined });
  t.same(mathGold('Enter only one of the foci, not both.', '$\\boxed{(10, 0)}$ or $\\boxed{(0,0)}$', '(0,0)').alternatives, ['(10, 0)']);
  // The same answer boxed twice, an intermediate box, a problem that uses \boxed itself: the dataset's answer.
  t.same(mathGold('Find $\\tan A$.', '$\\boxed{\\frac{3}{2}}$ ... $\\boxed{\\frac32}$', '\\frac32'), { gold: '\\frac32', ordered: undefined });
  t.same(mathGold('Find $a+b+c+d$.', 'gives $\\boxed{\\frac{2\\sqrt{53}+53}{53}}$, so $\\boxed{161}$', '161'), { gold: '161', ordered: undefined });
  t.same(mathGold('Let $\\boxed{N}$ mean the number of divisors. Find $\\boxed{\\boxed{11}\\times\\boxed{20}}$.', '$\\boxed{11}$ ... $\\boxed{12}$', '12').gold, '12');
  t.same(gradeResponse('\\boxed{3}', '3', {}, { alternatives: ['-3'] }).correct, true);
  t.same(gradeResponse('\\boxed{-3}', '3', {}, { alternatives: ['-3'] }).correct, true);
  t.same(gradeResponse('\\boxed{4}', '3', {}, { alternatives: ['-3'] }).correct, false);
});
