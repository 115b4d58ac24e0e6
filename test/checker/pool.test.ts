// The worker pool: verdicts equal the in-thread checker, order is kept, and a hung check times out
// without taking the other checks in its batch down with it.
import t from 'tap';
import { CheckerPool } from '../../src/checker/pool.js';
import { gradeResponse } from '../../src/checker/grade.js';

t.test('pool results match in-thread grading, in order', async (t) => {
  const pool = new CheckerPool({ workers: 2, timeoutMs: 20_000, batchSize: 4 });
  const jobs: [string, string][] = [];
  for (let i = 0; i < 50; i++) jobs.push([`The answer is ${i % 7}.`, String(i % 5)], [`\\boxed{\\frac{${i}}{2}}`, String(i / 2)]);
  const got = await Promise.all(jobs.map(([r, g]) => pool.grade(r, g)));
  await pool.close();
  t.same(got, jobs.map(([r, g]) => gradeResponse(r, g)));
  t.equal(pool.timeouts, 0);
});

t.test('a check that never finishes times out; the rest of its batch is graded', async (t) => {
  process.env.MATHPIPE_CHECKER_TEST_HANG = 'HANG-FOREVER';
  const pool = new CheckerPool({ workers: 1, timeoutMs: 400, batchSize: 8 });
  delete process.env.MATHPIPE_CHECKER_TEST_HANG;
  const rs = await Promise.all([pool.grade('\\boxed{1}', '1'), pool.grade('HANG-FOREVER', '1'), pool.grade('\\boxed{2}', '2'), pool.grade('\\boxed{3}', '4')]);
  t.same(rs.map((r) => r.correct), [true, false, true, false]);
  t.equal(rs[1]!.timedOut, true);
  t.equal(pool.timeouts, 1);
  // The replacement worker keeps serving.
  t.same(await pool.grade('\\boxed{5}', '5'), { pred: '5', correct: true });
  await pool.close();
});
