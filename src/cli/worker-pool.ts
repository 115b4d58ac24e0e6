// The one worker-thread pool of mathpipe. Every parallel stage (mine, tokenize, classify predict, the
// checker behind grade and eval, decontam) is the same shape: the main thread reads, workers compute,
// and the main thread writes the results in input order, so output never depends on the thread count.
//
// - bounded: at most `perWorker` tasks are posted to each worker, and `map` keeps at most
//   workers x perWorker tasks unanswered, so memory stays flat however large the input;
// - ordered: `map` yields results in task order; `run` is the unordered single-task form;
// - transfers: `transfer(task)` names buffers moved to the worker, `Handler.transfer(result)` those
//   moved back, instead of copying them;
// - errors cross threads with their class: a DataError keeps its "file:line" and exit 65, any CliError
//   its exit code, a system error its code/syscall/path (exit 74 in the CLI), anything else its stack;
// - optional per-task timeout: a worker stuck on one task past `timeoutMs` is terminated and replaced,
//   that task gets `onLost(task, 'timeout')` (or fails), and its other posted tasks are run again;
// - shutdown: `close()` terminates every worker; `map` closes nothing, callers close in `finally`
//   (`mapOrdered` does it for them), so a consumer that stops early (EPIPE from `| head`), an error, or
//   a stop request (src/cli/cleanup.ts) leaves no thread running. Idle workers are unref'd, so a pool
//   nobody closed never keeps the process alive either.
//
// A worker script is one call to `serveTasks(make)`. With `workers: 0` the pool runs `local()` on this
// thread instead (jobs 1, tests, tiny inputs), through the same interface.
import { Worker, parentPort, workerData } from 'node:worker_threads';
import { CliError, DataError } from './errors.js';

/** What a worker does with its tasks (also the in-thread fallback). */
export interface Handler<T, R> {
  run(task: T): R | Promise<R>;
  /** Buffers of a result moved back to the main thread instead of copied. */
  transfer?(result: R): ArrayBuffer[];
  /** A worker's state at the end (e.g. counts it kept across tasks), collected by `finish()`. */
  finish?(): unknown;
}

export interface PoolOptions<T, R> {
  /** The worker module; it calls `serveTasks`. */
  script: URL;
  /** Passed to `make` in each worker (structured clone; SharedArrayBuffers are shared). */
  workerData?: unknown;
  /** Worker threads; 0 runs `local()` on this thread. */
  workers: number;
  local?: () => Handler<T, R>;
  /**
   * With workers, this thread runs tasks itself with `local()` (in map()) whenever no ready worker has room for
   * the next one: for a command whose main thread would otherwise only read and write, -j N is then N threads
   * of work with N - 1 workers, and none waits for another (nor for a worker still starting).
   */
  localShare?: boolean;
  /** Tasks posted to one worker at once (default 2): enough to keep it busy while a reply travels. */
  perWorker?: number;
  /** Buffers of a task moved to the worker (each must own its ArrayBuffer, not a slice of Node's pool). */
  transfer?: (task: T) => ArrayBuffer[];
  /** Per-task limit in ms; a worker past it is terminated and replaced. The clock starts once the worker is ready. */
  timeoutMs?: number;
  /** The result of a task whose worker timed out or crashed; without it such a task (or the pool) fails. */
  onLost?: (task: T, why: 'timeout' | Error) => R;
}

/** An error as it crosses threads. */
export type WireError =
  | { kind: 'data'; where: string; detail: string }
  | { kind: 'cli'; name: string; message: string; exitCode: number }
  | { kind: 'other'; name: string; message: string; stack?: string; code?: string; syscall?: string; path?: string };

export function toWire(e: unknown): WireError {
  if (e instanceof DataError) return { kind: 'data', where: e.where, detail: e.detail };
  if (e instanceof CliError) return { kind: 'cli', name: e.name, message: e.message, exitCode: e.exitCode };
  if (!(e instanceof Error)) return { kind: 'other', name: 'Error', message: String(e) };
  const { code, syscall, path } = e as NodeJS.ErrnoException;
  return { kind: 'other', name: e.name, message: e.message, stack: e.stack, code, syscall, path };
}

export function fromWire(w: WireError): Error {
  if (w.kind === 'data') return new DataError(w.where, w.detail);
  if (w.kind === 'cli') return Object.assign(new CliError(w.message, w.exitCode), { name: w.name });
  const e = new Error(w.message) as NodeJS.ErrnoException;
  e.name = w.name;
  // The worker's stack is the useful one (exit 1 prints it); a system error keeps what maps it to exit 74.
  if (w.stack) e.stack = w.stack;
  if (w.code !== undefined) e.code = w.code;
  if (w.syscall !== undefined) e.syscall = w.syscall;
  if (w.path !== undefined) e.path = w.path;
  return e;
}

type ToWorker<T> = { t: 'task'; id: number; task: T } | { t: 'finish' };
type FromWorker<R> =
  | { t: 'done'; id: number; result: R }
  | { t: 'failed'; id: number; error: WireError }
  | { t: 'finished'; state: unknown };

/**
 * The body of a worker script: build the handler from the pool's `workerData` (may be async: loading a
 * model or a CAS is not part of any task's time), then answer tasks one at a time, in arrival order.
 */
export function serveTasks<T, R, D = unknown>(make: (data: D) => Handler<T, R> | Promise<Handler<T, R>>): void {
  const port = parentPort!;
  const { user, progress: sab } = workerData as WorkerData;
  const progress = new Int32Array(sab);
  let handler: Handler<T, R> | undefined;
  const backlog: ToWorker<T>[] = [];
  let busy = false;
  // Each answered task is counted in shared memory: the pool's timeout watch reads it even
  // while the main thread is too busy to take replies.
  const fail = (id: number, e: unknown) => {
    Atomics.add(progress, 0, 1);
    port.postMessage({ t: 'failed', id, error: toWire(e) } satisfies FromWorker<R>);
  };
  const answer = (id: number, result: R) => {
    try {
      port.postMessage({ t: 'done', id, result } satisfies FromWorker<R>, handler!.transfer?.(result) ?? []);
    } catch (e) {
      fail(id, e); // a result that cannot be cloned is that task's error, not the worker's end
      return;
    }
    Atomics.add(progress, 0, 1);
  };
  // Tasks run strictly one after another (the pool's timeout clock relies on it), async ones included.
  const drain = (): void => {
    while (!busy && handler && backlog.length) {
      const m = backlog.shift()!;
      if (m.t === 'finish') {
        port.postMessage({ t: 'finished', state: handler.finish?.() ?? null } satisfies FromWorker<R>);
        continue;
      }
      let out: R | Promise<R>;
      try {
        out = handler.run(m.task);
      } catch (e) {
        fail(m.id, e);
        continue;
      }
      if (out instanceof Promise) {
        busy = true;
        out.then(
          (r) => answer(m.id, r),
          (e) => fail(m.id, e),
        ).finally(() => {
          busy = false;
          drain();
        });
      } else answer(m.id, out);
    }
  };
  port.on('message', (m: ToWorker<T>) => {
    backlog.push(m);
    drain();
  });
  void Promise.resolve(make(user as D)).then((h) => {
    handler = h;
    Atomics.store(progress, 1, 1);
    drain();
  });
  // A failing `make` rejects unhandled: the worker exits with an 'error' event, which fails the pool.
}

/** What each worker is started with: the pool's workerData, and [tasks answered, 1 once ready] in shared memory. */
interface WorkerData {
  user: unknown;
  progress: SharedArrayBuffer;
}

interface Entry<T, R> {
  id: number;
  task: T;
  moved: boolean;
  resolve: (r: R) => void;
  reject: (e: Error) => void;
}

interface Slot<T, R> {
  worker: Worker;
  /** Posted and unanswered, in the order the worker runs them. */
  posted: Entry<T, R>[];
  progress: Int32Array;
  /** Replies taken, and the worker's task count when `since` was last set. */
  answered: number;
  seen: number;
  /** Since when the worker has made no progress (for the timeout). */
  since: number;
  gone: boolean;
  finished?: (state: unknown) => void;
}

// Workers inherit the process's Node flags, but `--input-type` (a host run as `node --input-type=module
// -e ...`) makes a worker started from a file fail before it runs a line.
const WORKER_EXEC_ARGV = process.execArgv.filter((a, i, all) => !a.startsWith('--input-type') && all[i - 1] !== '--input-type');

export class WorkerPool<T, R> {
  private readonly slots: Slot<T, R>[] = [];
  private readonly queue: Entry<T, R>[] = [];
  private local: Handler<T, R> | undefined;
  private nextId = 0;
  private timer: NodeJS.Timeout | undefined;
  private failure: Error | undefined;
  private closed = false;
  private readonly perWorker: number;
  /** Tasks that ran past timeoutMs. */
  timeouts = 0;

  constructor(private readonly o: PoolOptions<T, R>) {
    this.perWorker = Math.max(1, o.perWorker ?? 2);
    if (o.workers < 1 && !o.local) throw new Error('WorkerPool: workers 0 needs a local handler');
    for (let i = 0; i < o.workers; i++) this.slots.push(this.spawn());
  }

  /** Worker threads running (0 on the in-thread fallback or once closed). */
  get size(): number {
    return this.slots.filter((s) => !s.gone).length;
  }

  /** Tasks posted to workers or queued, not yet answered. */
  get pending(): number {
    return this.queue.length + this.slots.reduce((n, s) => n + s.posted.length, 0);
  }

  private spawn(): Slot<T, R> {
    const sab = new SharedArrayBuffer(8);
    const worker = new Worker(this.o.script, { workerData: { user: this.o.workerData, progress: sab } satisfies WorkerData, execArgv: WORKER_EXEC_ARGV });
    const slot: Slot<T, R> = { worker, posted: [], progress: new Int32Array(sab), answered: 0, seen: 0, since: 0, gone: false };
    worker.on('message', (m: FromWorker<R>) => this.onMessage(slot, m));
    worker.on('error', (e) => this.lose(slot, e));
    worker.on('exit', (code) => {
      if (!slot.gone) this.lose(slot, new Error(`worker thread exited with code ${code}`));
    });
    worker.unref();
    return slot;
  }

  private onMessage(slot: Slot<T, R>, m: FromWorker<R>): void {
    if (slot.gone) return;
    if (m.t === 'finished') {
      slot.finished?.(m.state);
      return;
    }
    const k = slot.posted.findIndex((e) => e.id === m.id);
    if (k < 0) return;
    const [e] = slot.posted.splice(k, 1);
    slot.answered++;
    if (m.t === 'done') e!.resolve(m.result);
    else e!.reject(fromWire(m.error));
    this.pump();
  }

  /** Run one task; resolves with its result or rejects with the worker's error (class kept). */
  run(task: T): Promise<R> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new Error('WorkerPool is closed'));
    if (!this.slots.length) return this.runHere(task);
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, task, moved: false, resolve, reject });
      this.pump();
    });
  }

  /** The task on this thread, with `local()`. */
  private runHere(task: T): Promise<R> {
    this.local ??= this.o.local!();
    try {
      return Promise.resolve(this.local.run(task));
    } catch (e) {
      return Promise.reject(e as Error);
    }
  }

  /** Tasks map() keeps unanswered at most: perWorker for each thread of work (this one too with localShare). */
  get window(): number {
    return Math.max(1, (this.slots.length + (this.sharing ? 1 : 0)) * this.perWorker);
  }

  private get sharing(): boolean {
    return Boolean(this.o.localShare && this.o.local && this.slots.length);
  }

  /** Whether a worker that is ready has room for one more task (with nothing queued before it). */
  private workerHasRoom(): boolean {
    if (this.queue.length) return false;
    return this.slots.some((s) => !s.gone && s.posted.length < this.perWorker && Atomics.load(s.progress, 1) === 1);
  }

  /** Results of `tasks` in their order, with at most `window` unanswered at a time. */
  async *map(tasks: AsyncIterable<T> | Iterable<T>): AsyncGenerator<R> {
    const window: Promise<R>[] = [];
    const share = this.sharing;
    const limit = this.window;
    for await (const t of tasks) {
      const here = share && !this.failure && !this.closed && !this.workerHasRoom();
      const p = here ? this.runHere(t) : this.run(t);
      p.catch(() => {}); // awaited below, in order; no unhandled rejection meanwhile
      window.push(p);
      // A task run here held this thread: take the workers' replies before choosing where the next one runs.
      if (here) await new Promise((resolve) => setImmediate(resolve));
      if (window.length >= limit) yield await window.shift()!;
    }
    while (window.length) yield await window.shift()!;
  }

  private pump(): void {
    while (this.queue.length) {
      let best: Slot<T, R> | undefined;
      for (const s of this.slots) if (!s.gone && s.posted.length < this.perWorker && (!best || s.posted.length < best.posted.length)) best = s;
      if (!best) break;
      const e = this.queue.shift()!;
      const moved = this.o.transfer?.(e.task) ?? [];
      e.moved = moved.length > 0;
      if (!best.posted.length) best.since = performance.now();
      best.posted.push(e);
      best.worker.ref();
      best.worker.postMessage({ t: 'task', id: e.id, task: e.task } satisfies ToWorker<T>, moved);
    }
    for (const s of this.slots) if (!s.posted.length && !s.finished) s.worker.unref();
    this.watch();
  }

  private watch(): void {
    if (!this.o.timeoutMs) return;
    const busy = this.slots.some((s) => s.posted.length);
    if (busy && !this.timer) {
      this.timer = setInterval(() => this.tick(), Math.max(10, Math.min(250, this.o.timeoutMs / 4)));
      this.timer.unref();
    } else if (!busy && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /**
   * A worker times out when its task count has not moved for timeoutMs while it is ready and every
   * reply it sent has been taken, i.e. it is stuck on the first of its posted tasks. Loading (a model,
   * a CAS) before it is ready is no task's time.
   */
  private tick(): void {
    const now = performance.now();
    for (const s of [...this.slots]) {
      if (!s.posted.length) continue;
      const done = Atomics.load(s.progress, 0);
      if (Atomics.load(s.progress, 1) === 0 || done !== s.seen || done !== s.answered) {
        s.seen = done;
        s.since = now;
      } else if (now - s.since > this.o.timeoutMs!) this.lose(s, 'timeout');
    }
    this.watch();
  }

  /**
   * A worker that timed out or died: replace it. Its current task gets onLost (or fails: a crash
   * without onLost fails the whole pool); its other posted tasks run again unless their buffers were
   * moved to the dead thread.
   */
  private lose(slot: Slot<T, R>, why: 'timeout' | Error): void {
    if (slot.gone) return;
    slot.gone = true;
    void slot.worker.terminate();
    if (this.closed) return;
    const [head, ...rest] = slot.posted;
    slot.posted = [];
    if (why === 'timeout') this.timeouts++;
    // A crash without onLost fails the pool, and so does one before the worker was ready (a broken
    // script or workerData): replacing it would only fail again, forever.
    if (why !== 'timeout' && (!this.o.onLost || Atomics.load(slot.progress, 1) === 0)) {
      this.fail(why, head ? [head, ...rest] : []);
      return;
    }
    if (head) {
      if (this.o.onLost) head.resolve(this.o.onLost(head.task, why));
      else head.reject(new Error(`a task ran past ${this.o.timeoutMs} ms; its worker was restarted`));
    }
    const again = rest.filter((e) => !e.moved);
    for (const e of rest) if (e.moved) e.reject(new Error('a task was lost with its worker thread'));
    this.queue.unshift(...again);
    this.slots[this.slots.indexOf(slot)] = this.spawn();
    this.pump();
  }

  /** A crash: every unanswered task fails with it, and so does every later `run`. */
  private fail(e: Error, lost: Entry<T, R>[]): void {
    this.failure = e;
    const all = [...lost, ...this.queue.splice(0), ...this.slots.flatMap((s) => s.posted.splice(0))];
    for (const x of all) x.reject(e);
    void this.close();
  }

  /** Each worker's final state (`Handler.finish`), once all tasks are answered. */
  async finish(): Promise<unknown[]> {
    if (!this.slots.length) return [this.local?.finish?.() ?? null];
    return Promise.all(
      this.slots.map(
        (s) =>
          new Promise<unknown>((resolve) => {
            s.finished = resolve;
            s.worker.ref();
            s.worker.postMessage({ t: 'finish' } satisfies ToWorker<T>);
          }),
      ),
    );
  }

  /** Terminate every worker (idempotent). Unanswered tasks are abandoned. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    // terminate() of an unref'd worker resolves on an 'exit' event that nothing keeps the event loop
    // alive for: a process whose last await is this would end with exit 13 (unsettled top-level await)
    // instead of reporting the error it was closing for. Ref them and hold the loop until they are gone.
    const live = this.slots;
    for (const s of live) {
      s.gone = true;
      s.worker.ref();
    }
    const keepAlive = setInterval(() => {}, 1000);
    try {
      await Promise.all(live.map((s) => s.worker.terminate()));
    } finally {
      clearInterval(keepAlive);
    }
  }
}

/** `map` over a pool that lives exactly as long as the iteration (closed however it ends). */
export async function* mapOrdered<T, R>(tasks: AsyncIterable<T> | Iterable<T>, o: PoolOptions<T, R>): AsyncGenerator<R> {
  const pool = new WorkerPool(o);
  try {
    yield* pool.map(tasks);
  } finally {
    await pool.close();
  }
}
