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

t.test('close() after the workers went idle: the process goes on to report (exit 74), never exit 13', async (t) => {
  const { spawnSync } = await import('node:child_process');
  const { pathToFileURL } = await import('node:url');
  const pool = pathToFileURL(new URL('../../src/checker/pool.js', import.meta.url).pathname).href;
  // An idle worker is unref'd; terminate() then waits for an 'exit' that nothing keeps the loop alive for.
  const script = `import { CheckerPool } from ${JSON.stringify(pool)};
const pool = new CheckerPool({ workers: 2 });
await pool.grade('\\\\boxed{1}', '1');
await new Promise((r) => setTimeout(r, 50));
await pool.close();
console.log('closed');
process.exitCode = 74;`;
  for (let k = 0; k < 3; k++) {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    t.equal(r.status, 74, r.stderr);
    t.equal(r.stdout.trim(), 'closed');
  }
});

t.test('same(): two answers are one answer by the checker, either way round', async (t) => {
  const pool = new CheckerPool({ workers: 1, timeoutMs: 20_000 });
  t.same(await Promise.all([pool.same('0.7071', '\\frac{\\sqrt2}{2}'), pool.same('\\frac{1}{\\sqrt2}', '0.7071'), pool.same('x=3', '3'), pool.same('3', '4')]), [true, true, true, false]);
  await pool.close();
});
