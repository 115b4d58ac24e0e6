// A pool of extraction workers. HTML parsing and text extraction are most of the CPU time of `mine`, and
// records are independent, so batches of records go to worker threads while the main thread keeps
// reading and inflating; results come back per batch and are written in input order.
import { Worker } from 'node:worker_threads';
import type { DocOptions, Outcome } from './document.js';
import type { WarcRecord } from './warc.js';

export interface RecordMeta {
  offset: number;
  length: number;
  headers: [string, string][];
  start: number;
  end: number;
}

export interface BatchMessage {
  id: number;
  file: string;
  buf: ArrayBuffer;
  metas: RecordMeta[];
}

interface Job {
  msg: BatchMessage;
  resolve: (o: Outcome[]) => void;
  reject: (e: Error) => void;
}

export class ExtractPool {
  private readonly idle: Worker[] = [];
  private readonly all: Worker[] = [];
  private readonly queue: Job[] = [];
  private readonly running = new Map<Worker, Job>();
  private nextId = 0;
  private failed: Error | undefined;

  constructor(
    size: number,
    private readonly opts: DocOptions,
  ) {
    for (let i = 0; i < size; i++) {
      const w = new Worker(new URL('./worker.js', import.meta.url));
      w.on('message', (m: { id: number; outcomes: Outcome[] }) => {
        const job = this.running.get(w);
        this.running.delete(w);
        this.idle.push(w);
        job?.resolve(m.outcomes);
        this.pump();
      });
      w.on('error', (e) => {
        this.failed = e;
        this.running.get(w)?.reject(e);
        this.running.delete(w);
      });
      this.all.push(w);
      this.idle.push(w);
    }
  }

  get size(): number {
    return this.all.length;
  }

  /** Extract a batch; the records' blocks are copied into one transferable buffer. */
  run(file: string, records: WarcRecord[]): Promise<Outcome[]> {
    if (this.failed) return Promise.reject(this.failed);
    let total = 0;
    for (const r of records) total += r.block.length;
    const buf = new Uint8Array(total);
    const metas: RecordMeta[] = [];
    let at = 0;
    for (const r of records) {
      buf.set(r.block, at);
      metas.push({ offset: r.offset, length: r.length, headers: [...r.headers], start: at, end: at + r.block.length });
      at += r.block.length;
    }
    const msg: BatchMessage = { id: this.nextId++, file, buf: buf.buffer, metas };
    return new Promise((resolve, reject) => {
      this.queue.push({ msg, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.idle.length && this.queue.length) {
      const w = this.idle.pop()!;
      const job = this.queue.shift()!;
      this.running.set(w, job);
      w.postMessage({ ...job.msg, opts: this.opts }, [job.msg.buf]);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.all.map((w) => w.terminate()));
  }
}
