// Grading off the main thread, each check under a timeout, on the shared pool (src/cli/worker-pool.ts).
// A pathological expression (a CAS parse that explodes, a power tower) cannot hang a run: the stuck
// worker is terminated and replaced, the stuck check scores as incorrect with timedOut set, and the
// checks posted behind it are graded again on the replacement.
import { availableParallelism } from 'node:os';
import { workerCount } from '../cli/options.js';
import { WorkerPool } from '../cli/worker-pool.js';
import type { Grade, GradeContext, GradeOptions } from './grade.js';
import type { WorkerJob } from './worker.js';

export interface PoolGrade extends Grade {
  timedOut?: boolean;
}

export interface PoolOptions {
  /** Worker threads (`--workers`; default: available cores, at most 8; at most 4x cores). */
  workers?: number;
  /** Per-check limit in milliseconds (default 5000). */
  timeoutMs?: number;
  /** Checks posted to a worker at once (default 32): the worker never waits for the next one. */
  batchSize?: number;
  opts?: GradeOptions;
}

export class CheckerPool {
  private readonly pool: WorkerPool<WorkerJob, PoolGrade>;
  readonly timeoutMs: number;

  constructor(o: PoolOptions = {}) {
    this.timeoutMs = o.timeoutMs ?? 5000;
    const n = o.workers === undefined ? Math.min(8, availableParallelism()) : workerCount(o.workers, '--workers');
    this.pool = new WorkerPool<WorkerJob, PoolGrade>({
      script: new URL('./worker.js', import.meta.url),
      workerData: o.opts ?? {},
      workers: n,
      perWorker: o.batchSize ?? 32,
      timeoutMs: this.timeoutMs,
      // A stuck check is incorrect (timedOut); so is one whose worker crashed, so a crash cannot loop forever.
      onLost: (_, why) => (why === 'timeout' ? { pred: null, correct: false, timedOut: true } : { pred: null, correct: false }),
    });
  }

  /** Checks that ran past the timeout. */
  get timeouts(): number {
    return this.pool.timeouts;
  }

  grade(response: string, gold: string, ctx?: GradeContext): Promise<PoolGrade> {
    return this.pool.run(ctx ? { response, gold, ctx } : { response, gold });
  }

  /** Are a and b the same answer (the checker both ways round)? A check that times out says no. */
  async same(a: string, b: string): Promise<boolean> {
    return (await this.pool.run({ response: a, gold: b, same: true })).correct;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
