// Worker threads for large inputs: the main thread reads bytes and cuts them into blocks of whole
// lines, workers parse and match, and the main thread writes their results back in input order, so
// the output is the same as with one thread. At most a few blocks per worker are in flight, which keeps
// memory flat.
import { Worker } from 'node:worker_threads';
import { DataError } from '../cli/errors.js';
import { readBytes, type JsonlWriter } from '../jsonl/index.js';
import { shareIndex } from './index-file.js';
import type { NgramIndex } from './ngram-index.js';
import type { ScanCounts, ScanOptions } from './scan.js';

export interface Block {
  seq: number;
  file: string;
  /** Line number of the block's first line in its file. */
  firstLine: number;
  buf: ArrayBuffer;
}

export interface BlockResult {
  seq: number;
  /** Kept lines and removed evidence, each joined by "\n" ("" when none). */
  kept: string;
  removed: string;
  counts: ScanCounts;
  hits: number[];
  skipped: number;
}

type Reply = BlockResult | { seq: number; error: { where: string; detail: string } };

const BLOCK = 1 << 20;

function countLines(buf: Uint8Array): number {
  let n = 0;
  for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) n++;
  return n;
}

export interface ParallelSink {
  out: JsonlWriter;
  removed: JsonlWriter | undefined;
  /** Called with each result, in input order, before its lines are written. */
  onResult(r: BlockResult): void;
  stats: { bytes: number };
}

export async function scanParallel(inputs: string[], index: NgramIndex, opts: ScanOptions, jobs: number, sink: ParallelSink): Promise<void> {
  const shared = shareIndex(index).backing!;
  const url = new URL('./worker.js', import.meta.url);
  const workers = Array.from({ length: jobs }, () => new Worker(url, { workerData: { index: shared, opts } }));
  const load = workers.map(() => 0);
  const done = new Map<number, Reply>();
  let wake: (() => void) | null = null;
  let failure: Error | null = null;
  workers.forEach((w, i) => {
    w.on('message', (r: Reply) => {
      load[i]--;
      done.set(r.seq, r);
      wake?.();
    });
    w.on('error', (e) => {
      failure = e;
      wake?.();
    });
  });
  let sent = 0;
  let written = 0;
  const next = () => new Promise<void>((res) => (wake = res));

  // Write every finished result that is next in order.
  const flush = async () => {
    for (let r = done.get(written); r; r = done.get(written)) {
      done.delete(written++);
      if ('error' in r) throw new DataError(r.error.where, r.error.detail);
      sink.onResult(r);
      // Each is a block's lines joined by "\n"; the writer adds the last newline.
      if (r.kept) {
        const p = sink.out.write(r.kept);
        if (p) await p;
      }
      if (sink.removed && r.removed) {
        const p = sink.removed.write(r.removed);
        if (p) await p;
      }
    }
  };
  const dispatch = async (file: string, firstLine: number, bytes: Uint8Array) => {
    // A copy with an ArrayBuffer of its own, so it can be transferred rather than cloned.
    const own = new Uint8Array(bytes.length);
    own.set(bytes);
    const i = load.indexOf(Math.min(...load));
    load[i]++;
    const block: Block = { seq: sent++, file, firstLine, buf: own.buffer };
    workers[i].postMessage(block, [own.buffer]);
    while (sent - written >= jobs * 3) {
      if (failure) throw failure;
      if (!done.has(written)) await next();
      await flush();
    }
  };

  try {
    for (const file of inputs) {
      let line = 1;
      let parts: Buffer[] = [];
      let size = 0;
      for await (const chunk of readBytes(file, (n) => (sink.stats.bytes += n))) {
        parts.push(chunk);
        size += chunk.length;
        if (size < BLOCK) continue;
        const cut = chunk.lastIndexOf(10);
        if (cut === -1) continue;
        const whole = Buffer.concat([...parts.slice(0, -1), chunk.subarray(0, cut + 1)]);
        await dispatch(file, line, whole);
        line += countLines(whole);
        parts = cut + 1 < chunk.length ? [chunk.subarray(cut + 1)] : [];
        size = parts.length ? parts[0].length : 0;
      }
      if (size) await dispatch(file, line, Buffer.concat(parts));
    }
    while (written < sent) {
      if (failure) throw failure;
      if (!done.has(written)) await next();
      await flush();
    }
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
