// A prediction thread: scores batches of raw JSONL lines against the model, whose dense matrices are
// shared with the main thread (SharedArrayBuffer), and sends back the output lines in batch order.
import { parentPort, workerData } from 'node:worker_threads';
import { DataError } from '../cli/errors.js';
import { Dictionary } from './dictionary.js';
import { DenseMatrix, type Matrix } from './matrix.js';
import type { FastTextModel } from './modelfile.js';
import { Scorer, type ScoreOptions } from './scorer.js';
import type { ModelParts } from './predict-pool.js';

export interface Batch {
  seq: number;
  file: string;
  lines: number[];
  texts: string[];
}
export interface BatchResult {
  seq: number;
  out: string[];
  filtered: number;
  skipped: number;
  error?: { where: string; detail: string } | { message: string };
}

const { parts, opts } = workerData as { parts: ModelParts; opts: ScoreOptions };
const port = parentPort!;

function rebuild(p: ModelParts): FastTextModel {
  const dict = new Dictionary(p.words, p.counts, p.types, p.ntokens, p.args, p.prune);
  const mat = (m: ModelParts['input']): Matrix => (m instanceof DenseMatrix ? m : Object.setPrototypeOf(m, DenseMatrix.prototype));
  return { args: p.args, dict, input: mat(p.input), output: mat(p.output), quantized: false, meta: null };
}

const scorer = new Scorer(rebuild(parts), opts);

port.on('message', (b: Batch) => {
  let res: BatchResult = { seq: b.seq, out: [], filtered: 0, skipped: 0 };
  try {
    res = { seq: b.seq, ...scorer.scoreBatch(b.file, b.lines, b.texts) };
  } catch (e) {
    res.error = e instanceof DataError ? { where: e.where, detail: e.detail } : { message: (e as Error).stack ?? String(e) };
  }
  port.postMessage(res);
});
