// pass@k and maj@k against values computed by hand, and the summary/table/plot built from them.
import t from 'tap';
import { defaultKs, formatTable, majAtK, majorityCorrect, metrics, passAtK, summarize, type SampleResult } from '../../src/eval/metrics.js';
import { plotSvg } from '../../src/eval/plot.js';

t.test('pass@k: 1 - C(n-c,k)/C(n,k)', async (t) => {
  const close = (a: number, b: number, msg: string) => t.ok(Math.abs(a - b) < 1e-12, `${msg}: ${a} vs ${b}`);
  close(passAtK(10, 3, 1), 0.3, 'n=10 c=3 k=1 is c/n');
  close(passAtK(10, 3, 2), 1 - 21 / 45, 'C(7,2)/C(10,2) = 21/45');
  close(passAtK(10, 3, 5), 1 - 21 / 252, 'C(7,5)/C(10,5) = 21/252');
  close(passAtK(4, 1, 2), 0.5, 'C(3,2)/C(4,2) = 3/6');
  close(passAtK(4, 2, 2), 1 - 1 / 6, 'C(2,2)/C(4,2) = 1/6');
  t.equal(passAtK(5, 0, 3), 0, 'no correct sample');
  t.equal(passAtK(5, 5, 1), 1);
  t.equal(passAtK(5, 3, 3), 1, 'n-c < k: every draw has a correct one');
  close(passAtK(64, 1, 16), 0.25, 'one correct in 64, draw 16: 16/64');
  close(passAtK(200, 13, 100), 1 - Array.from({ length: 13 }, (_, i) => 1 - 100 / (200 - 12 + i)).reduce((a, b) => a * b, 1), 'product form at n=200');
  t.throws(() => passAtK(3, 1, 4));
});

t.test('majority vote: grouped by normal form, ties to the first, no-answer does not vote', async (t) => {
  t.equal(majorityCorrect(['2', '3', '3'], [true, false, false], [0, 1, 2]), false);
  t.equal(majorityCorrect(['3', '\\frac12', '0.5'], [false, true, true], [0, 1, 2]), true, 'equal numbers vote together');
  t.equal(majorityCorrect(['\\dfrac12', '\\frac12', '3'], [true, true, false], [0, 1, 2]), true, '\\dfrac and \\frac are one normal form');
  t.equal(majorityCorrect(['3', '2'], [false, true], [0, 1]), false, 'tie: first seen');
  t.equal(majorityCorrect([null, null, '2'], [false, false, true], [0, 1, 2]), true, 'empty answers do not vote');
  t.equal(majorityCorrect([null], [false], [0]), false);
});

t.test('maj@k exact over subsets', async (t) => {
  // answers: A(correct) A B B C ; n=5
  const r: SampleResult = { id: 'q', extracted: ['7', '7', '5', '5', '9'], correct: [true, true, false, false, false] };
  t.equal(majAtK(r, 1, 256, 1), 0.4, 'maj@1 = mean accuracy');
  t.equal(majAtK(r, 5, 256, 1), 1, 'all five: 7 and 5 tie at 2, 7 was seen first');
  // k=2: 10 pairs. {0,1}: 7 wins (correct). pairs with one 7 and one other: tie -> first seen; index order, so 7 (lower index) wins: 0-2,0-3,0-4,1-2,1-3,1-4 = 6 correct. {2,3},{2,4},{3,4}: wrong.
  t.equal(majAtK(r, 2, 256, 1), 7 / 10);
  // sampled estimate stays close to the exact value
  const big: SampleResult = { id: 'b', extracted: Array.from({ length: 64 }, (_, i) => (i % 3 === 0 ? '1' : String(i % 7))), correct: Array.from({ length: 64 }, (_, i) => i % 3 === 0) };
  const est = majAtK(big, 16, 400, 3);
  t.ok(est > 0.6 && est < 1, `maj@16 sampled: ${est}`);
  t.equal(majAtK(big, 16, 400, 3), est, 'same seed, same estimate');
});

t.test('metrics, per subject and level, table and plot', async (t) => {
  const rs: SampleResult[] = [
    { id: '1', subject: 'Algebra', level: '1', extracted: ['1', '1', '2', '1'], correct: [true, true, false, true] },
    { id: '2', subject: 'Algebra', level: '5', extracted: ['3', '4', '4', '4'], correct: [true, false, false, false] },
    { id: '3', subject: 'Geometry', level: '5', extracted: [null, '8', '9', '9'], correct: [false, true, false, false] },
  ];
  t.same(defaultKs(4), [1, 2, 4]);
  t.same(defaultKs(6), [1, 2, 4, 6]);
  const m = metrics(rs, [1, 2, 4]);
  t.equal(m.accuracy, 2 / 3, 'first sample correct in 2 of 3');
  t.equal(m.mean_accuracy, (3 / 4 + 1 / 4 + 1 / 4) / 3);
  t.equal(m.pass_at_k['4'], 1);
  t.equal(m.maj_at_k['4'], 1 / 3, 'only question 1 wins the vote with all 4');
  t.ok(Math.abs(m.pass_at_k['1']! - m.mean_accuracy) < 1e-12, 'pass@1 = mean accuracy');
  const s = summarize(rs, [1, 2, 4]);
  t.same(Object.keys(s.by_subject), ['Algebra', 'Geometry']);
  t.same(Object.keys(s.by_level), ['1', '5']);
  t.equal(s.by_level['5']!.questions, 2);
  const table = formatTable(s, 'all');
  t.match(table, /maj@2\s+pass@2\s+maj@4\s+pass@4/);
  t.match(table, /^all\s+3\s+66\.7/m);
  t.match(table, /level 5/);
  const svg = plotSvg([{ label: 'rl', summary: s }], 'fig');
  t.match(svg, /^<svg /);
  t.match(svg, /rl pass@K/);
  t.match(svg, /stroke-dasharray/);
  t.equal((svg.match(/<circle /g) ?? []).length, 6, 'three K values, two series');
});
