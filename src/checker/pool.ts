// Grading off the main thread, each check under a timeout. A pathological expression (a CAS parse that
// explodes, a power tower) cannot hang a run: the stuck worker is terminated and replaced, the stuck
// check scores as incorrect with timedOut set, and the rest of its batch is graded again elsewhere.
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { workerCount } from '../cli/options.js';
import type { Grade, GradeContext, GradeOptions } from './grade.js';
import type { WorkerBatch, WorkerJob } from './worker.js';

export interface PoolGrade extends Grade {
  timedOut?: boolean;
}

export interface PoolOptions {
  /** Worker threads (`--workers`; default: available cores, at most 8; at most 4x cores). */
  workers?: number;
  /** Per-check limit in milliseconds (default 5000). */
  timeoutMs?: number;
  /** Checks sent to a worker at once (default 32). */
  batchSize?: number;
  opts?: GradeOptions;
}

interface Pending {
  job: WorkerJob;
  resolve: (g: PoolGrade) => void;
}

interface Slot {
  worker: Worker;
  progress: Int32Array;
  busy: Pending[] | null;
  batchId: number;
  lastDone: number;
  lastChange: number;
}

export class CheckerPool {
  private slots: Slot[] = [];
  private queue: Pending[] = [];
  private nextBatch = 1;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  readonly timeoutMs: number;
  private readonly batchSize: number;
  private readonly opts: GradeOptions;
  timeouts = 0;

  constructor(o: PoolOptions = {}) {
    this.timeoutMs = o.timeoutMs ?? 5000;
    this.batchSize = o.batchSize ?? 32;
    this.opts = o.opts ?? {};
    const n = o.workers === undefined ? Math.min(8, availableParallelism()) : workerCount(o.workers, '--workers');
    for (let k = 0; k < n; k++) this.slots.push(this.spawn());
  }

  private spawn(): Slot {
    // [checks done in the current batch, 1 once the batch's checks have started]
    const sab = new SharedArrayBuffer(8);
    const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: { progress: sab } });
    const slot: Slot = { worker, progress: new Int32Array(sab), busy: null, batchId: 0, lastDone: 0, lastChange: 0 };
    worker.on('message', (m: { batch: number; results: Grade[] }) => {
      if (m.batch !== slot.batchId || !slot.busy) return;
      const items = slot.busy;
      slot.busy = null;
      items.forEach((p, k) => p.resolve(m.results[k]!));
      this.pump();
    });
    worker.on('error', () => this.replace(slot, false));
    worker.unref();
    return slot;
  }

  /** Kill a worker; with `stuck`, the check it was on times out and the others are graded again. */
  private replace(slot: Slot, stuck: boolean): void {
    const items = slot.busy ?? [];
    slot.busy = null;
    void slot.worker.terminate();
    const i = this.slots.indexOf(slot);
    if (this.closed) return;
    const done = Atomics.load(slot.progress, 0);
    const retry = items.slice(0);
    if (stuck && done < items.length) {
      const [bad] = retry.splice(done, 1);
      this.timeouts++;
      bad!.resolve({ pred: null, correct: false, timedOut: true });
    } else if (!stuck && items.length) {
      // A crashed worker: grade its first unfinished check as incorrect, so a crash cannot loop forever.
      const [bad] = retry.splice(Math.min(done, retry.length - 1), 1);
      bad!.resolve({ pred: null, correct: false });
    }
    this.queue.unshift(...retry);
    if (i >= 0) this.slots[i] = this.spawn();
    this.pump();
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (slot.busy || !this.queue.length) continue;
      const items = this.queue.splice(0, this.batchSize);
      slot.busy = items;
      slot.batchId = this.nextBatch++;
      Atomics.store(slot.progress, 0, 0);
      Atomics.store(slot.progress, 1, 0);
      slot.lastDone = 0;
      slot.lastChange = performance.now();
      const msg: WorkerBatch = { batch: slot.batchId, jobs: items.map((p) => p.job), opts: this.opts };
      slot.worker.ref();
      slot.worker.postMessage(msg);
    }
    for (const slot of this.slots) if (!slot.busy) slot.worker.unref();
    this.watch();
  }

  private watch(): void {
    const busy = this.slots.some((s) => s.busy);
    if (busy && !this.timer) {
      this.timer = setInterval(() => this.tick(), Math.max(10, Math.min(250, this.timeoutMs / 4)));
    } else if (!busy && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  private tick(): void {
    const now = performance.now();
    for (const slot of [...this.slots]) {
      if (!slot.busy) continue;
      const done = Atomics.load(slot.progress, 0);
      if (Atomics.load(slot.progress, 1) === 0 || done !== slot.lastDone) {
        slot.lastDone = done;
        slot.lastChange = now;
      } else if (now - slot.lastChange > this.timeoutMs) {
        this.replace(slot, true);
      }
    }
    this.watch();
  }

  grade(response: string, gold: string, ctx?: GradeContext): Promise<PoolGrade> {
    return this.submit(ctx ? { response, gold, ctx } : { response, gold });
  }

  /** Are a and b the same answer (the checker both ways round)? A check that times out says no. */
  async same(a: string, b: string): Promise<boolean> {
    return (await this.submit({ response: a, gold: b, same: true })).correct;
  }

  private submit(job: WorkerJob): Promise<PoolGrade> {
    if (this.closed) return Promise.reject(new Error('CheckerPool is closed'));
    return new Promise((resolve) => {
      this.queue.push({ job, resolve });
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    // Idle workers are unref'd: terminate() of an unref'd worker resolves on an 'exit' event that nothing
    // keeps the event loop alive for, and a process with only that await pending ends with exit 13 (an
    // unsettled top-level await) instead of reporting the error it was closing for. Ref them first.
    for (const s of this.slots) s.worker.ref();
    const keepAlive = setInterval(() => {}, 1000);
    try {
      await Promise.all(this.slots.map((s) => s.worker.terminate()));
    } finally {
      clearInterval(keepAlive);
    }
  }
}
