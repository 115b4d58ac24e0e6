// A training thread: fastText's FastText::trainThread. Each thread starts at its own offset in the
// data and cycles through all of it; the learning rate decays linearly with the global token count
// (shared through Atomics), and the main thread pauses all threads at epoch boundaries for validation.
import { parentPort, workerData } from 'node:worker_threads';
import type { LossName } from './args.js';
import { MinStd, SgdState } from './sgd.js';
import type { HsTree } from './tree.js';

export interface WorkerInit {
  threadId: number;
  nthreads: number;
  seed: number;
  dim: number;
  nout: number;
  loss: LossName;
  neg: number;
  lr: number;
  lrUpdateRate: number;
  /** epoch * tokens of the data set: the schedule's end. */
  totalTokens: number;
  wi: Float32Array;
  wo: Float32Array;
  tree: HsTree | null;
  negCdf: Float64Array | null;
  counter: BigInt64Array;
  data: { n: number; rowStart: Int32Array; rows: Int32Array; labelStart: Int32Array; labels: Int32Array; ntok: Int32Array };
}

export type ToWorker = { until: number } | { stop: true };
export interface FromWorker {
  lossSum: number;
  examples: number;
}

const w = workerData as WorkerInit;
const port = parentPort!;

// fastText's DenseMatrix::uniform: each thread fills its own block of rows, seeded by block.
{
  const rows = w.wi.length / w.dim;
  const r0 = Math.floor((w.threadId * rows) / w.nthreads);
  const r1 = Math.floor(((w.threadId + 1) * rows) / w.nthreads);
  const rng = new MinStd(w.threadId + w.seed + 1);
  const a = 1 / w.dim;
  for (let i = r0 * w.dim; i < r1 * w.dim; i++) w.wi[i] = (rng.uniform() * 2 - 1) * a;
}

const state = new SgdState(
  { dim: w.dim, wi: w.wi, wo: w.wo, nout: w.nout, loss: w.loss, neg: w.neg, tree: w.tree, negCdf: w.negCdf },
  new MinStd(w.threadId + w.seed + 7919),
);
const d = w.data;
let pos = Math.floor((w.threadId * d.n) / w.nthreads);
let local = 0;

function train(until: number): void {
  state.lossSum = 0;
  state.examples = 0;
  for (;;) {
    const done = Number(Atomics.load(w.counter, 0));
    if (done >= until) break;
    const lr = w.lr * (1 - done / w.totalTokens);
    const ex = pos;
    if (++pos === d.n) pos = 0;
    local += d.ntok[ex];
    state.update(d.rows, d.rowStart[ex], d.rowStart[ex + 1], d.labels, d.labelStart[ex], d.labelStart[ex + 1], lr);
    if (local > w.lrUpdateRate || done + local >= until) {
      Atomics.add(w.counter, 0, BigInt(local));
      local = 0;
    }
  }
}

port.on('message', (m: ToWorker) => {
  if ('stop' in m) {
    port.close();
    return;
  }
  train(m.until);
  const reply: FromWorker = { lossSum: state.lossSum, examples: state.examples };
  port.postMessage(reply);
});
port.postMessage({ ready: true });
