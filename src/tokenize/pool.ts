// Process line-aligned chunks on worker threads and hand the results back in input order, so output is
// the same byte for byte whatever the number of workers. At most 2 chunks per worker are in flight,
// which keeps memory flat however large the input is. A worker may also keep state across chunks
// (pre-token counts) and return it once at the end (finish).
import { Worker, parentPort } from 'node:worker_threads';
import type { Chunk } from './chunks.js';
import { CliError } from '../cli/errors.js';

/** What a worker script (or the in-process fallback) does with chunks. */
export interface ChunkHandler<R> {
  run(bytes: Uint8Array, first: boolean): R;
  /** Buffers of a result that can be moved to the main thread instead of copied. */
  transfer?(res: R): ArrayBuffer[];
  finish?(): unknown;
}

type Msg = { type: 'chunk'; seq: number; bytes: Uint8Array; first: boolean } | { type: 'finish' };
type Reply<R> = { seq: number; res: R } | { seq: number; failed: { message: string; exitCode?: number } } | { finished: unknown };

/** The body of a worker script: answer chunk and finish messages with `handler`. */
export function serveChunks<R>(handler: ChunkHandler<R>): void {
  parentPort!.on('message', (m: Msg) => {
    if (m.type === 'finish') {
      parentPort!.postMessage({ finished: handler.finish?.() ?? null });
      return;
    }
    let res: R;
    try {
      res = handler.run(m.bytes, m.first);
    } catch (e) {
      // Errors lose their class crossing threads; keep what the CLI needs (message and exit code).
      const err = e as Error & { exitCode?: number };
      parentPort!.postMessage({ seq: m.seq, failed: { message: err instanceof CliError ? err.message : (err.stack ?? String(err)), exitCode: err.exitCode } });
      return;
    }
    parentPort!.postMessage({ seq: m.seq, res }, handler.transfer?.(res) ?? []);
  });
}

interface Slot<R> {
  worker: Worker;
  busy: number;
  waiting: Map<number, { resolve: (r: R) => void; reject: (e: Error) => void }>;
  finished?: (v: unknown) => void;
}

export class ChunkPool<R> {
  private readonly slots: Slot<R>[] = [];
  private local: ChunkHandler<R> | null = null;

  /** `workers` 0 runs `makeLocal()` in this thread (debugging, tiny inputs). */
  constructor(
    workers: number,
    script: URL,
    workerData: unknown,
    private readonly makeLocal: () => ChunkHandler<R>,
  ) {
    for (let i = 0; i < workers; i++) this.slots.push(this.start(script, workerData));
  }

  private start(script: URL, workerData: unknown): Slot<R> {
    const worker = new Worker(script, { workerData });
    const slot: Slot<R> = { worker, busy: 0, waiting: new Map() };
    worker.on('message', (m: Reply<R>) => {
      if ('finished' in m) {
        slot.finished?.(m.finished);
        return;
      }
      const w = slot.waiting.get(m.seq);
      slot.waiting.delete(m.seq);
      slot.busy--;
      if ('failed' in m) w?.reject(m.failed.exitCode ? new CliError(m.failed.message, m.failed.exitCode) : new Error(m.failed.message));
      else w?.resolve(m.res);
    });
    const failAll = (e: Error) => {
      for (const w of slot.waiting.values()) w.reject(e);
      slot.waiting.clear();
    };
    worker.on('error', failAll);
    worker.on('exit', (code) => {
      if (slot.waiting.size) failAll(new Error(`worker thread exited with code ${code}`));
    });
    return slot;
  }

  /** Results of the chunks, in input order, with the file each came from. */
  async *run(chunks: AsyncIterable<Chunk>): AsyncGenerator<{ file: string; res: R }> {
    if (!this.slots.length) {
      this.local ??= this.makeLocal();
      for await (const c of chunks) yield { file: c.file, res: this.local.run(c.bytes, c.first) };
      return;
    }
    const pending: { file: string; done: Promise<R> }[] = [];
    let seq = 0;
    for await (const c of chunks) {
      const slot = this.slots.reduce((a, b) => (b.busy < a.busy ? b : a));
      const s = seq++;
      const bytes = new Uint8Array(c.bytes); // own buffer: transferring a slice of Node's shared pool would break it
      const done = new Promise<R>((resolve, reject) => slot.waiting.set(s, { resolve, reject }));
      done.catch(() => {}); // observed below, in order; no unhandled rejection meanwhile
      slot.busy++;
      slot.worker.postMessage({ type: 'chunk', seq: s, bytes, first: c.first } satisfies Msg, [bytes.buffer]);
      pending.push({ file: c.file, done });
      if (pending.length >= 2 * this.slots.length) {
        const p = pending.shift()!;
        yield { file: p.file, res: await p.done };
      }
    }
    while (pending.length) {
      const p = pending.shift()!;
      yield { file: p.file, res: await p.done };
    }
  }

  /** Each worker's final state (call after run() is done). */
  async finish(): Promise<unknown[]> {
    if (!this.slots.length) return [this.local?.finish?.() ?? null];
    return Promise.all(
      this.slots.map(
        (slot) =>
          new Promise<unknown>((resolve) => {
            slot.finished = resolve;
            slot.worker.postMessage({ type: 'finish' } satisfies Msg);
          }),
      ),
    );
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
