// Prediction on several threads through the shared worker pool (src/cli/worker-pool.ts): the main
// thread reads raw lines and writes results in input order; workers parse, normalise and score. The
// model's dense matrices are shared with the workers (SharedArrayBuffer), not copied.
import { WorkerPool } from '../cli/worker-pool.js';
import type { Args } from './args.js';
import type { DenseMatrix } from './matrix.js';
import type { FastTextModel } from './modelfile.js';
import { Scorer, type ScoreOptions } from './scorer.js';

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

/** Raw lines of one file. */
export interface Batch {
  file: string;
  lines: number[];
  texts: string[];
}

export interface BatchResult {
  out: string[];
  filtered: number;
  skipped: number;
}

/** `threads` <= 1 scores on this thread. */
export function predictPool(model: FastTextModel, opts: ScoreOptions, threads: number): WorkerPool<Batch, BatchResult> {
  const local = () => {
    const scorer = new Scorer(model, opts);
    return { run: (b: Batch) => scorer.scoreBatch(b.file, b.lines, b.texts) };
  };
  if (threads <= 1) return new WorkerPool({ script: new URL('./predict-worker.js', import.meta.url), workers: 0, local });
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
  return new WorkerPool({ script: new URL('./predict-worker.js', import.meta.url), workerData: { parts, opts }, workers: threads, local });
}
