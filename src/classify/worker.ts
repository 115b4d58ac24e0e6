// A training thread: fastText's FastText::trainThread. Each thread starts at its own offset in the
// data and cycles through all of it; the learning rate decays linearly with the global token count
// (shared through Atomics), and the main thread pauses all threads at epoch boundaries for validation.
// Every worker first fills its share of the input matrix with random values; workers beyond the
// training threads (one per idle core) only fill and exit.
import { parentPort, workerData } from 'node:worker_threads';
import type { LossName } from './args.js';
import { fillUniform, forEachRun } from './init.js';
import { JsKernels, MinStd, SgdState, WasmSimdKernels, type SgdKernels, type TrainSet } from './sgd.js';
import { instantiateKernels, type Layout } from './memory.js';
import type { HsTree } from './tree.js';

export interface WorkerInit {
  threadId: number;
  /** False for a worker that only fills its share of the input matrix and exits. */
  train: boolean;
  /** Workers sharing the random fill (training threads first). */
  fillers: number;
  /** Set when the matrices and examples live in a shared WebAssembly memory (SIMD kernels). */
  layout: Layout | null;
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
  /** The matrices when no layout is used (SharedArrayBuffer-backed); empty otherwise. */
  wi: Float32Array;
  wo: Float32Array;
  wiLength: number;
  woLength: number;
  /** Distinct rows of all examples (the length of data.rows and data.weights). */
  rowsLength: number;
  tree: HsTree | null;
  negCdf: Float64Array | null;
  counter: BigInt64Array;
  /** rows and weights are empty when they live in the layout. */
  data: TrainSet;
}

export type ToWorker = { until: number } | { stop: true };
export interface FromWorker {
  lossSum: number;
  examples: number;
}

const w = workerData as WorkerInit;
const port = parentPort!;

const L = w.layout;
let d = w.data;
let wi = w.wi;
let wo = w.wo;
let kernels: SgdKernels;
const fill = (at: number, n: number, first: number, seed: number) => fillUniform(wi.subarray(at, at + n), first, seed, 1 / w.dim);
let fillRun = fill;
if (L) {
  // views are rebuilt here: the memory object is shared, typed-array views of it are not sent
  const buf = L.memory.buffer;
  wi = new Float32Array(buf, L.wi, w.wiLength);
  wo = new Float32Array(buf, L.wo, w.woLength);
  d = { ...d, rows: new Int32Array(buf, L.rows, w.rowsLength), weights: new Float32Array(buf, L.weights, w.rowsLength) };
  const k = instantiateKernels(L.memory);
  const hidden = L.scratch + w.threadId * 2 * L.vecBytes;
  kernels = new WasmSimdKernels(k, { wi: L.wi, wo: L.wo, rows: L.rows, weights: L.weights, hidden, vecBytes: L.vecBytes }, w.dim, buf);
  fillRun = (at, n, first, seed) => k.fill_uniform(L.wi + 4 * at, n, first, seed, 1 / w.dim);
} else kernels = new JsKernels({ dim: w.dim, wi, wo, rows: d.rows, weights: d.weights });

// This worker's share of fastText's DenseMatrix::uniform (see init.ts), in whole rows.
{
  const rows = w.wiLength / w.dim;
  const r0 = Math.floor((w.threadId * rows) / w.fillers);
  const r1 = Math.floor(((w.threadId + 1) * rows) / w.fillers);
  forEachRun(r0 * w.dim, r1 * w.dim, w.seed, fillRun);
}
if (!w.train) {
  port.postMessage({ ready: true });
  port.close();
} else startTraining();

function startTraining(): void {
  const state = new SgdState(kernels, { nout: w.nout, loss: w.loss, neg: w.neg, tree: w.tree, negCdf: w.negCdf }, new MinStd(w.threadId + w.seed + 7919));
  let pos = Math.floor((w.threadId * d.n) / w.nthreads);
  let local = 0;

  const train = (until: number): void => {
    state.lossSum = 0;
    state.examples = 0;
    for (;;) {
      const done = Number(Atomics.load(w.counter, 0));
      if (done >= until) break;
      const lr = w.lr * (1 - done / w.totalTokens);
      const ex = pos;
      if (++pos === d.n) pos = 0;
      local += d.ntok[ex];
      state.update(d, ex, lr);
      if (local > w.lrUpdateRate || done + local >= until) {
        Atomics.add(w.counter, 0, BigInt(local));
        local = 0;
      }
    }
  };

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
}
