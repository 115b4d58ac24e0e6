// Blocks of input lines mapped on worker threads (or on this thread with jobs <= 1), the results handed
// back in block order: the output of a command cannot depend on its thread count. At most three blocks
// per worker are in flight, so memory stays flat. Used by dedup (signatures) and select (token counts).
import { parentPort, Worker, workerData } from 'node:worker_threads';
import { DataError } from '../cli/errors.js';
import type { Block } from './dedup/describe.js';

type Reply<R> = { seq: number; result: R } | { seq: number; error: { where: string; detail: string } };

export interface PoolSpec<R> {
  /** The worker module (it calls serveBlocks) and what it is started with. */
  url: URL;
  data: unknown;
  /** The same work on this thread, for jobs <= 1. */
  inline: () => (b: Block) => R;
}

export async function* mapBlocks<R>(blocks: AsyncIterable<Block>, jobs: number, spec: PoolSpec<R>): AsyncGenerator<R> {
  if (jobs <= 1) {
    const run = spec.inline();
    for await (const b of blocks) yield run(b);
    return;
  }
  const workers = Array.from({ length: jobs }, () => new Worker(spec.url, { workerData: spec.data }));
  const load = workers.map(() => 0);
  const done = new Map<number, Reply<R>>();
  let wake: (() => void) | null = null;
  let failure: Error | null = null;
  workers.forEach((w, i) => {
    w.on('message', (r: Reply<R>) => {
      load[i]!--;
      done.set(r.seq, r);
      wake?.();
    });
    w.on('error', (e) => {
      failure = e;
      wake?.();
    });
  });
  let sent = 0;
  let next = 0;
  const wait = () => new Promise<void>((res) => (wake = res));
  function* ready(): Generator<R> {
    for (let r = done.get(next); r; r = done.get(next)) {
      done.delete(next++);
      if ('error' in r) throw new DataError(r.error.where, r.error.detail);
      yield r.result;
    }
  }
  try {
    for await (const b of blocks) {
      const i = load.indexOf(Math.min(...load));
      load[i]!++;
      workers[i]!.postMessage(b, [b.buf]);
      sent++;
      while (sent - next >= jobs * 3) {
        if (failure) throw failure;
        if (!done.has(next)) await wait();
        yield* ready();
      }
    }
    while (next < sent) {
      if (failure) throw failure;
      if (!done.has(next)) await wait();
      yield* ready();
    }
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/**
 * The worker side: answer each block with `run(block)`, transferring the typed arrays `transfer` picks
 * out of the result instead of copying them.
 */
export function serveBlocks<D, R>(make: (data: D) => (b: Block) => R, transfer: (r: R) => ArrayBufferView[]): void {
  const run = make(workerData as D);
  parentPort!.on('message', (b: Block) => {
    try {
      const result = run(b);
      parentPort!.postMessage({ seq: b.seq, result }, transfer(result).map((a) => a.buffer as ArrayBuffer));
    } catch (e) {
      const error = e instanceof DataError ? { where: e.where, detail: e.detail } : { where: '', detail: (e as Error).stack ?? String(e) };
      parentPort!.postMessage({ seq: b.seq, error });
    }
  });
}
