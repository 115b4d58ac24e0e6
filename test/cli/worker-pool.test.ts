// The shared worker pool: input order, bounded in-flight work, errors that keep their class and
// file:line across threads, moved buffers, the per-task timeout that restarts a worker, and shutdown.
import t from 'tap';
import { CliError, DataError, EXIT } from '../../src/cli/errors.js';
import { WorkerPool, mapOrdered, type PoolOptions } from '../../src/cli/worker-pool.js';
import type { Result, Task } from './worker-pool.worker.js';

const script = new URL('./worker-pool.worker.js', import.meta.url);
const opts = (o: Partial<PoolOptions<Task, Result>> = {}): PoolOptions<Task, Result> => ({ script, workerData: { tag: 1 }, workers: 2, ...o });
const echo = (n: number, delayMs = 0): Task => ({ op: 'echo', n, delayMs });
const ns = (rs: Result[]) => rs.map((r) => ('n' in r ? r.n : NaN));

// Starting threads is the slow part of these tests (each loads tap's hooks): most share one pool, closed by the last test.
const shared = new WorkerPool(opts({ workers: 2, perWorker: 3, transfer: (x) => (x.op === 'bytes' ? [x.buf] : []) }));

async function collect<R>(g: AsyncIterable<R>): Promise<R[]> {
  const out: R[] = [];
  for await (const r of g) out.push(r);
  return out;
}

t.test('results come back in input order whatever finishes first', async (t) => {
  // Early tasks are the slow ones, so later ones finish first on the other workers.
  const tasks = Array.from({ length: 30 }, (_, i) => echo(i, i % 5 === 0 ? 15 : 0));
  t.same(ns(await collect(shared.map(tasks))), tasks.map((_, i) => i));
  // The in-thread fallback gives the same.
  const local = { run: (x: Task) => ({ n: (x as { n: number }).n, by: 0 }) };
  t.same(ns(await collect(mapOrdered(tasks, opts({ workers: 0, local: () => local })))), tasks.map((_, i) => i));
});

t.test('localShare: this thread runs a task whenever no ready worker has room, results still in input order', async (t) => {
  const tasks = Array.from({ length: 24 }, (_, i) => echo(i, i % 4 === 1 ? 10 : 0));
  const local = { run: (x: Task) => ({ n: (x as { n: number }).n, by: 0 }) };
  // A worker still starting gets nothing: this thread runs every task meanwhile.
  const cold = await collect(mapOrdered(tasks, opts({ workers: 1, local: () => local, localShare: true })));
  t.same(ns(cold), tasks.map((_, i) => i));
  t.equal(cold[0] && 'by' in cold[0] ? cold[0].by : -1, 0, 'the first task ran here: the worker was not ready');
  // A ready worker takes tasks while it has room (perWorker 2); the next one runs here.
  const pool = new WorkerPool(opts({ workers: 1, local: () => local, localShare: true }));
  try {
    await pool.run(echo(-1));
    const warm = await collect(pool.map(tasks));
    t.same(ns(warm), tasks.map((_, i) => i));
    t.same(
      warm.slice(0, 3).map((r) => ('by' in r ? r.by : -1)),
      [1, 1, 0],
      'tasks 0 and 1 went to the ready worker (tag 1), task 2 ran here (by 0)',
    );
    t.ok(warm.some((r, i) => i > 2 && 'by' in r && r.by === 1), 'the worker kept taking tasks as it answered');
  } finally {
    await pool.close();
  }
});

t.test('in-flight work is bounded by workers x perWorker', async (t) => {
  const pool = shared;
  let pulled = 0;
  let consumed = 0;
  let most = 0;
  function* source() {
    for (let i = 0; i < 60; i++) {
      pulled++;
      most = Math.max(most, pulled - consumed, pool.pending);
      yield echo(i, 1);
    }
  }
  for await (const r of pool.map(source())) {
    consumed++;
    t.equal(ns([r])[0], consumed - 1);
  }
  t.equal(consumed, 60);
  t.ok(most <= 2 * 3 + 1, `at most 7 tasks pulled ahead of the consumer (saw ${most})`);
});

t.test('errors cross threads with their class, exit code and file:line', async (t) => {
  const pool = shared;
  {
    const e = await pool.run({ op: 'data', file: 'docs.jsonl', line: 7 }).catch((x: unknown) => x);
    t.ok(e instanceof DataError, 'a DataError');
    t.equal((e as DataError).where, 'docs.jsonl:7');
    t.equal((e as DataError).message, 'docs.jsonl:7: bad record');
    t.equal((e as DataError).exitCode, EXIT.DATA);
    const u = await pool.run({ op: 'usage' }).catch((x: unknown) => x);
    t.ok(u instanceof CliError, 'a CliError');
    t.equal((u as CliError).exitCode, EXIT.USAGE);
    t.equal((u as CliError).name, 'UsageError');
    const s = (await pool.run({ op: 'enoent' }).catch((x: unknown) => x)) as NodeJS.ErrnoException;
    t.same([s.code, s.syscall, s.path], ['ENOENT', 'open', 'x'], 'a system error keeps what maps it to exit 74');
    t.match(s.stack, /worker-pool\.worker/, "the worker's stack");
    // A task's error is that task's: the pool goes on.
    t.same(ns([await pool.run(echo(5))]), [5]);
    // In an ordered map the error surfaces at its place.
    const seen: number[] = [];
    await t.rejects(
      (async () => {
        for await (const r of pool.map([echo(0), echo(1), { op: 'data', file: '<stdin>', line: 3 }, echo(3)])) seen.push(ns([r])[0]!);
      })(),
      /^<stdin>:3: bad record$/,
    );
    t.same(seen, [0, 1]);
  }
  // The same from the in-thread fallback.
  const local = {
    run: () => {
      throw new DataError('a:1', 'x');
    },
  };
  await t.rejects(collect(mapOrdered([echo(0)], opts({ workers: 0, local: () => local }))), /^a:1: x$/);
});

t.test('buffers are moved both ways, not copied', async (t) => {
  const pool = shared;
  {
    const buf = new Uint8Array([1, 2, 3, 4]).buffer;
    const r = (await pool.run({ op: 'bytes', buf })) as { sum: number; out: ArrayBuffer };
    t.equal(buf.byteLength, 0, 'the task buffer went to the worker');
    t.equal(r.sum, 10);
    t.equal(new Uint8Array(r.out)[0], 4);
  }
});

t.test('a task past the timeout: its worker is restarted, the others run again', async (t) => {
  const lost = { n: -99, by: 0 };
  const pool = new WorkerPool(opts({ workers: 1, perWorker: 4, timeoutMs: 200, onLost: (_, why) => (why === 'timeout' ? lost : { n: -98, by: 0 }) }));
  try {
    // echo 2 and 3 were posted to the stuck worker behind the hang: they run on its replacement.
    t.same(ns(await collect(pool.map([echo(1), { op: 'hang' }, echo(2), echo(3)]))), [1, -99, 2, 3]);
    t.equal(pool.timeouts, 1);
    t.equal(pool.size, 1, 'a worker again');
    t.same(ns([await pool.run(echo(4))]), [4]);
  } finally {
    await pool.close();
  }
  // Without onLost the task fails, and only that task.
  const bare = new WorkerPool(opts({ workers: 1, timeoutMs: 150 }));
  try {
    await t.rejects(bare.run({ op: 'hang' }), /ran past 150 ms; its worker was restarted/);
    t.same(ns([await bare.run(echo(7))]), [7]);
  } finally {
    await bare.close();
  }
});

t.test('a crashed worker fails the run, or with onLost loses only its task', async (t) => {
  const pool = new WorkerPool(opts({ workers: 2 }));
  await t.rejects(collect(pool.map([echo(0), { op: 'crash' }, echo(2, 200), echo(3, 200), echo(4)])), /exited with code 3/);
  t.equal(pool.size, 0, 'every worker is gone');
  await t.rejects(pool.run(echo(1)), /exited with code 3/, 'and later tasks fail at once');
  const tolerant = new WorkerPool(opts({ workers: 1, perWorker: 1, onLost: () => ({ n: -1, by: 0 }) }));
  try {
    const rs = ns(await collect(tolerant.map([{ op: 'crash' }, echo(1, 100), echo(2)])));
    t.equal(rs.at(-1), 2, 'the pool goes on');
  } finally {
    await tolerant.close();
  }
  // A worker that cannot start fails the pool rather than restarting forever.
  const broken = new WorkerPool(opts({ workerData: { tag: 1, failInit: true }, onLost: () => ({ n: -1, by: 0 }), timeoutMs: 100 }));
  await t.rejects(broken.run(echo(1)), /cannot start/);
  await broken.close();
});

t.test('shutdown: a consumer that stops early terminates the workers; finish collects their state', async (t) => {
  const pool = shared;
  const got: number[] = [];
  try {
    for await (const r of pool.map((function* () {
      for (let i = 0; ; i++) yield echo(i); // endless: only stopping can end it
    })())) {
      got.push(ns([r])[0]!);
      if (got.length === 5) break; // what `| head` does through EPIPE
    }
    const seen = (await pool.finish()) as number[];
    t.ok(seen.reduce((a, b) => a + b, 0) >= 5, 'each worker reports its count');
  } finally {
    await pool.close();
  }
  t.same(got, [0, 1, 2, 3, 4]);
  t.equal(pool.size, 0);
  await t.rejects(pool.run(echo(0)), /closed/);
  await pool.close(); // idempotent
});
