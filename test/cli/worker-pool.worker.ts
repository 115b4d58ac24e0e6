// The worker script of worker-pool.test.ts: tasks that echo, fail in each way, hang, or move buffers.
import { serveTasks } from '../../src/cli/worker-pool.js';
import { DataError, UsageError, at } from '../../src/cli/errors.js';

export type Task =
  | { op: 'echo'; n: number; delayMs?: number }
  | { op: 'data'; file: string; line: number }
  | { op: 'usage' }
  | { op: 'enoent' }
  | { op: 'hang' }
  | { op: 'crash' }
  | { op: 'bytes'; buf: ArrayBuffer };
export type Result = { n: number; by: number } | { sum: number; out: ArrayBuffer };

serveTasks<Task, Result, { tag: number; failInit?: boolean }>(async (data) => {
  if (data.failInit) throw new Error('cannot start');
  await new Promise((r) => setTimeout(r, 20)); // an async start is not any task's time
  let seen = 0;
  return {
    run(t) {
      seen++;
      switch (t.op) {
        case 'echo': {
          const until = Date.now() + (t.delayMs ?? 0);
          while (Date.now() < until);
          return { n: t.n, by: data.tag };
        }
        case 'data':
          throw new DataError(at(t.file, t.line), 'bad record');
        case 'usage':
          throw new UsageError('no such label');
        case 'enoent': {
          const e = new Error("ENOENT: no such file or directory, open 'x'") as NodeJS.ErrnoException;
          Object.assign(e, { code: 'ENOENT', syscall: 'open', path: 'x' });
          throw e;
        }
        case 'hang':
          for (;;);
        case 'crash':
          return process.exit(3); // in a worker: ends the thread, as a fatal error would
        case 'bytes': {
          const a = new Uint8Array(t.buf);
          const out = new Uint8Array(4);
          out[0] = a.length;
          return { sum: a.reduce((x, y) => x + y, 0), out: out.buffer };
        }
      }
    },
    transfer: (r) => ('out' in r ? [r.out] : []),
    finish: () => seen,
  };
});
