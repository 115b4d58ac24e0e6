// Answer extraction: what counts as the final answer of a response, and what is "no answer".
import t from 'tap';
import { extractAnswer, lastBoxed, answerTag, answerIs, gsm8kHashes, lastNumber, choiceLetter } from '../../src/checker/extract.js';
import { gradeResponse } from '../../src/checker/grade.js';

t.test('last \\boxed{} with nested braces; unterminated is no answer', async (t) => {
  const rows: [string, string | null][] = [
    ['so $\\boxed{5}$.', '5'],
    ['\\boxed{1} then \\boxed{2}', '2'],
    ['\\boxed{\\frac{1}{2}}', '\\frac{1}{2}'],
    ['\\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}', '\\left( 3, \\frac{\\pi}{2} \\right)'],
    ['\\boxed{\\{1,2\\}}', '\\{1,2\\}'],
    ['\\boxed{\\text{4:30 p.m.}}', '\\text{4:30 p.m.}'],
    ['answer: \\boxed{\\frac{1}{2', null],
    ['\\boxed{3} and finally \\boxed{\\frac{', null],
    ['\\boxed 5$', '5'],
    ['\\fbox{7}', '7'],
    ['\\boxed{ 12 }', '12'],
    ['no box here', null],
    ['\\boxed{}', ''],
    ['\\boxed{a}\\fbox{b}', 'b'],
  ];
  for (const [s, want] of rows) t.equal(lastBoxed(s), want, JSON.stringify(s));
});

t.test('<answer> tags (R1-zero), "The answer is", ####, last number, choice letters', async (t) => {
  t.equal(answerTag('<think>x</think> <answer>70</answer>'), '70');
  t.equal(answerTag('<answer>\\boxed{3}</answer>'), '3');
  t.equal(answerTag('<answer>70'), null, 'unterminated tag');
  t.equal(answerTag('no tag'), null);
  t.equal(answerIs('So 3 + 3 = 6. The answer is 6.'), '6');
  t.equal(answerIs('The answer is $18$. I hope it is correct.'), '18');
  t.equal(answerIs('Final Answer: The final answer is $[2,5)$. I hope it is correct.'), '[2,5)');
  t.equal(answerIs('所以答案是：9。'), '9');
  t.equal(answerIs('the answer is \\boxed{7} indeed'), '7');
  t.equal(answerIs('nothing'), null);
  t.equal(gsm8kHashes('work\n#### 1,234'), '1,234');
  t.equal(gsm8kHashes('none'), null);
  t.equal(lastNumber('a 3, then 4.5 and finally 1,000.'), '1000');
  t.equal(lastNumber('-7 degrees'), '-7');
  t.equal(lastNumber('half is 1/2'), '1/2');
  t.equal(lastNumber('none'), null);
  t.equal(choiceLetter('The answer is (B).'), 'B');
  t.equal(choiceLetter('Final Answer: The final answer is (C). I hope it is correct.'), 'C');
  t.equal(choiceLetter('\\boxed{D}'), 'D');
  t.equal(choiceLetter('\\boxed{\\text{(A)}}'), 'A');
  t.equal(choiceLetter('E'), 'E');
  t.equal(choiceLetter('I pick (A) over (B), so (B)'), 'B');
  t.equal(choiceLetter('no letter'), null);
  t.equal(choiceLetter('\\boxed{AD}'), 'AD', 'Gaokao multi-answer');
  t.equal(choiceLetter('\\boxed{D, A}'), 'AD');
  t.equal(choiceLetter('The answer is A and C.'), 'AC');
  t.equal(choiceLetter('答案是 B、D'), 'BD');
});

t.test('auto mode order and grading through extraction', async (t) => {
  t.equal(extractAnswer('x <answer>5</answer> \\boxed{6}'), '5', 'answer tag wins');
  t.equal(extractAnswer('The answer is 4. \\boxed{6}'), '6', 'boxed beats "answer is"');
  t.equal(extractAnswer('The answer is 4. more 5'), '4');
  t.equal(extractAnswer('#### 8'), '8');
  t.equal(extractAnswer('it is 9 or 10'), '10');
  t.equal(extractAnswer('truncated \\boxed{12'), null, 'a truncated box is not an answer, even with numbers around');
  t.equal(extractAnswer('  x = 3 ', 'none'), 'x = 3');
  t.same(gradeResponse('so \\boxed{\\frac12}', '0.5'), { pred: '\\frac12', correct: true });
  t.same(gradeResponse('so \\boxed{\\frac12', '0.5'), { pred: null, correct: false });
  t.same(gradeResponse('Answer: #### 72', 'work\n#### 72', { extract: 'gsm8k', goldExtract: 'gsm8k' }), { pred: '72', correct: true });
});
