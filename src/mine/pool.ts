// A pool of extraction workers on the shared pool (src/cli/worker-pool.ts). HTML parsing and text
// extraction are most of the CPU time of `mine`, and records are independent, so batches of records go
// to worker threads while the main thread keeps reading and inflating; the caller applies the results
// in input order (framing errors found by the reader sit between batches, so it keeps its own queue).
import { WorkerPool } from '../cli/worker-pool.js';
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
  file: string;
  buf: ArrayBuffer;
  metas: RecordMeta[];
}

export class ExtractPool {
  private readonly pool: WorkerPool<BatchMessage, Outcome[]>;

  constructor(size: number, opts: DocOptions) {
    this.pool = new WorkerPool({ script: new URL('./worker.js', import.meta.url), workerData: opts, workers: size, transfer: (m) => [m.buf] });
  }

  get size(): number {
    return this.pool.size;
  }

  /** Extract a batch; the records' blocks are copied into one transferable buffer. */
  run(file: string, records: WarcRecord[]): Promise<Outcome[]> {
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
    return this.pool.run({ file, buf: buf.buffer, metas });
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
