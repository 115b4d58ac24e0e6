// Prediction on several threads: the main thread reads raw lines and writes results in input order;
// workers parse, normalise and score. At most two batches per worker are in flight, so memory stays
// flat whatever the input size.
import { Worker } from 'node:worker_threads';
import { DataError } from '../cli/errors.js';
import type { Args } from './args.js';
import type { DenseMatrix } from './matrix.js';
import type { FastTextModel } from './modelfile.js';
import type { ScoreOptions } from './scorer.js';
import type { Batch, BatchResult } from './predict-worker.js';

/** What a worker needs to rebuild the model; dense matrices travel as SharedArrayBuffer views. */
export interface ModelParts {
  args: Args;
  words: string[];
  counts: number[];
  types: Uint8Array;
  ntokens: number;
  prune: Map<number, number> | null;
  input: DenseMatrix;
  output: DenseMatrix;
}

export class PredictPool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, (r: BatchResult) => void>();
  private next = 0;

  constructor(model: FastTextModel, opts: ScoreOptions, threads: number) {
    const { dict } = model;
    const parts: ModelParts = {
      args: model.args,
      words: dict.words,
      counts: dict.counts,
      types: dict.types,
      ntokens: dict.ntokens,
      prune: dict.prune,
      input: model.input as DenseMatrix,
      output: model.output as DenseMatrix,
    };
    for (let t = 0; t < threads; t++) {
      const w = new Worker(new URL('./predict-worker.js', import.meta.url), { workerData: { parts, opts } });
      w.on('message', (r: BatchResult) => {
        const done = this.pending.get(r.seq);
        this.pending.delete(r.seq);
        done?.(r);
      });
      this.workers.push(w);
    }
  }

  /** Score a batch; resolves with its result (errors are re-thrown as DataError / Error). */
  run(b: Omit<Batch, 'seq'>): Promise<BatchResult> {
    const seq = this.next++;
    const w = this.workers[seq % this.workers.length];
    return new Promise((resolve, reject) => {
      const onError = (e: Error) => reject(e);
      w.once('error', onError);
      this.pending.set(seq, (r) => {
        w.off('error', onError);
        if (r.error) reject('where' in r.error ? new DataError(r.error.where, r.error.detail) : new Error(r.error.message));
        else resolve(r);
      });
      w.postMessage({ ...b, seq });
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
