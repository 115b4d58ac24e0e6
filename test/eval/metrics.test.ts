// pass@k and maj@k against values computed by hand, and the summary/table/plot built from them.
import t from 'tap';
import { defaultKs, formatTable, majAtK, majorityCorrect, majorityVote, metrics, passAtK, summarize, voteGroups, type SampleResult } from '../../src/eval/metrics.js';
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

t.test('majority vote: grouped by the checker, ties at their expectation, no-answer does not vote', async (t) => {
  t.equal(majorityCorrect(['2', '3', '3'], [true, false, false], [0, 1, 2]), 0);
  t.equal(majorityCorrect(['3', '\\frac12', '0.5'], [false, true, true], [0, 1, 2]), 1, 'equal numbers vote together');
  t.equal(majorityCorrect(['\\dfrac12', '\\frac12', '3'], [true, true, false], [0, 1, 2]), 1, '\\dfrac and \\frac are one normal form');
  t.equal(majorityCorrect(['3', '2'], [false, true], [0, 1]), 0.5, 'a 1-1 tie is worth 1/2, whichever came first');
  t.equal(majorityCorrect(['2', '3'], [true, false], [0, 1]), 0.5, 'the same tie in the other order');
  t.equal(majorityCorrect([null, null, '2'], [false, false, true], [0, 1, 2]), 1, 'empty answers do not vote');
  t.equal(majorityCorrect([null], [false], [0]), 0);
  // The cases: equivalent answers that differ as text vote together.
  t.equal(majorityCorrect(['\\frac{\\sqrt2}{2}', '\\frac{1}{\\sqrt2}', '0.7071', '1', '2'], [true, true, true, false, false], [0, 1, 2, 3, 4]), 1, 'sqrt2/2 = 1/sqrt2 = 0.7071');
  t.equal(majorityCorrect(['x=3', '3', '4', '5'], [true, true, false, false], [0, 1, 2, 3]), 1, '"x=3" and "3" are one answer');
  // Grouping does not depend on the order of the samples.
  const ans = ['0.5', '\\frac{1}{2}', '3', '\\frac{6}{2}', 'x=3', '1/2'];
  const ok = [true, true, false, false, false, true];
  const g1 = voteGroups(ans);
  const perm = [5, 3, 1, 4, 0, 2];
  const g2 = voteGroups(perm.map((i) => ans[i]!));
  const sameGroup = (g: (number | null)[], i: number, j: number) => g[i] === g[j];
  for (let i = 0; i < ans.length; i++) for (let j = 0; j < ans.length; j++) t.equal(sameGroup(g1, i, j), sameGroup(g2, perm.indexOf(i), perm.indexOf(j)));
  t.equal(g1.filter((g) => g === g1[0]).length, 3, '0.5, \\frac{1}{2} and 1/2 are one group');
  t.equal(g1.filter((g) => g === g1[2]).length, 3, '3, \\frac{6}{2} and x=3 are one group');
  t.equal(majorityVote(g1, ok, [0, 1, 2, 3, 4, 5]), 0.5, 'two groups of three, one right and one wrong: 1/2');
  // a group's grade is its members' majority, not its first member's
  t.equal(majorityVote([0, 0, 0, 1], [false, true, true, false], [0, 1, 2, 3]), 1, 'group 0 is 2 right to 1 wrong');
  t.equal(majorityVote([0, 0, 1], [false, true, false], [0, 1, 2]), 0.5, 'a group split evenly is worth 1/2');
});

t.test('maj@k exact over subsets', async (t) => {
  // answers: A(correct) A B B C ; n=5
  const r: SampleResult = { id: 'q', extracted: ['7', '7', '5', '5', '9'], correct: [true, true, false, false, false] };
  t.equal(majAtK(r, 1, 256, 1), 0.4, 'maj@1 = mean accuracy');
  t.equal(majAtK(r, 5, 256, 1), 0.5, 'all five: 7 and 5 tie at 2, worth 1/2');
  // k=2: 10 pairs. {0,1}: 7 wins (1). Pairs of a 7 and another answer tie (1/2 each): 0-2,0-3,0-4,1-2,1-3,1-4 = 3.
  // {2,3}: 5 wins (0). {2,4},{3,4}: ties of two wrong answers (0).
  t.equal(majAtK(r, 2, 256, 1), 4 / 10);
  // sampled estimate stays close to the exact value
  const big: SampleResult = { id: 'b', extracted: Array.from({ length: 64 }, (_, i) => (i % 3 === 0 ? '1' : String(i % 7))), correct: Array.from({ length: 64 }, (_, i) => i % 3 === 0) };
  const est = majAtK(big, 16, 400, 3);
  t.ok(est > 0.6 && est < 1, `maj@16 sampled: ${est}`);
  t.equal(majAtK(big, 16, 400, 3), est, 'same seed, same estimate');
  t.equal(majAtK({ ...big, extracted: [...big.extracted].reverse(), correct: [...big.correct].reverse() }, 64, 400, 3), majAtK(big, 64, 400, 3), 'all samples: order-free');
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
