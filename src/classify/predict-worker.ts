// A prediction thread: scores batches of raw JSONL lines against the model, whose dense matrices are
// shared with the main thread (SharedArrayBuffer), and sends back the output lines in batch order.
import { serveTasks } from '../cli/worker-pool.js';
import { Dictionary } from './dictionary.js';
import { DenseMatrix, type Matrix } from './matrix.js';
import type { FastTextModel } from './modelfile.js';
import { Scorer, type ScoreOptions } from './scorer.js';
import type { Batch, BatchResult, ModelParts } from './predict-pool.js';

function rebuild(p: ModelParts): FastTextModel {
  const dict = new Dictionary(p.words, p.counts, p.types, p.ntokens, p.args, p.prune);
  const mat = (m: ModelParts['input']): Matrix => (m instanceof DenseMatrix ? m : Object.setPrototypeOf(m, DenseMatrix.prototype));
  return { args: p.args, dict, input: mat(p.input), output: mat(p.output), quantized: false, meta: null };
}

serveTasks<Batch, BatchResult, { parts: ModelParts; opts: ScoreOptions }>(({ parts, opts }) => {
  const scorer = new Scorer(rebuild(parts), opts);
  return { run: (b) => scorer.scoreBatch(b.file, b.lines, b.texts) };
});
