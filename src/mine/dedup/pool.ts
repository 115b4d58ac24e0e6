// Describe blocks on worker threads (or on this thread with jobs <= 1) and hand the results back in
// block order. At most three blocks per worker are in flight, so memory stays flat.
import { Worker } from 'node:worker_threads';
import { DataError } from '../../cli/errors.js';
import { describeBlock, type Block, type DescribeOptions } from './describe.js';
import { MinHasher } from './minhash.js';
import type { DocBatch } from './table.js';

type Reply = { seq: number; batch: DocBatch } | { seq: number; error: { where: string; detail: string } };

export async function* describeAll(blocks: AsyncIterable<Block>, o: DescribeOptions, jobs: number): AsyncGenerator<DocBatch> {
  if (jobs <= 1) {
    const hasher = new MinHasher(o.minhash);
    for await (const b of blocks) yield describeBlock(b, hasher, o);
    return;
  }
  const url = new URL('./worker.js', import.meta.url);
  const workers = Array.from({ length: jobs }, () => new Worker(url, { workerData: o }));
  const load = workers.map(() => 0);
  const done = new Map<number, Reply>();
  let wake: (() => void) | null = null;
  let failure: Error | null = null;
  workers.forEach((w, i) => {
    w.on('message', (r: Reply) => {
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
  function* ready(): Generator<DocBatch> {
    for (let r = done.get(next); r; r = done.get(next)) {
      done.delete(next++);
      if ('error' in r) throw new DataError(r.error.where, r.error.detail);
      yield r.batch;
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
