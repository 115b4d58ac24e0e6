// Training orchestration: start worker threads on shared matrices, run epoch by epoch (pausing the
// threads at each boundary to measure the validation set on the model as it stands), and collect
// per-epoch metrics. The learning-rate schedule is continuous across epochs, as in fastText.
import { Worker } from 'node:worker_threads';
import type { Args } from './args.js';
import { availableParallelism } from 'node:os';
import { toTrainSet, type Dataset } from './dataset.js';
import type { Dictionary } from './dictionary.js';
import { DenseMatrix } from './matrix.js';
import type { FastTextModel } from './modelfile.js';
import type { Normalize } from './normalize.js';
import { negativeCdf, type TrainSet } from './sgd.js';
import { buildTree } from './tree.js';
import { planMemory } from './memory.js';
import type { FromWorker, WorkerInit } from './worker.js';

export interface EpochReport {
  epoch: number;
  lr: number;
  loss: number;
  examples: number;
  seconds: number;
  wordsPerSecPerThread: number;
}

export interface TrainResult {
  model: FastTextModel;
  seconds: number;
  /** Matrix allocation and initialisation (the workers' random fill), before the first epoch. */
  initSeconds: number;
  tokens: number;
  wordsPerSecPerThread: number;
}

export async function train(
  args: Args,
  dict: Dictionary,
  data: Dataset,
  normalize: Normalize,
  onEpoch: (r: EpochReport, model: FastTextModel) => void | Promise<void>,
): Promise<TrainResult> {
  const tInit = performance.now();
  const nthreads = Math.max(1, Math.min(args.thread, data.n));
  const inRows = dict.nwords + args.bucket;
  const layout = planMemory(inRows * args.dim, dict.nlabels * args.dim, data.rows.length, args.dim, nthreads);
  let input: DenseMatrix;
  let output: DenseMatrix;
  let set: TrainSet;
  if (layout) {
    const buf = layout.memory.buffer;
    input = new DenseMatrix(inRows, args.dim, new Float32Array(buf, layout.wi, inRows * args.dim));
    output = new DenseMatrix(dict.nlabels, args.dim, new Float32Array(buf, layout.wo, dict.nlabels * args.dim));
    const len = data.rows.length;
    set = toTrainSet(data, new Int32Array(buf, layout.rows, len), new Float32Array(buf, layout.weights, len));
  } else {
    input = DenseMatrix.zeros(inRows, args.dim, true);
    output = DenseMatrix.zeros(dict.nlabels, args.dim, true);
    const len = Math.max(1, data.rows.length);
    set = toTrainSet(data, new Int32Array(new SharedArrayBuffer(len * 4)), new Float32Array(new SharedArrayBuffer(len * 4)));
  }
  const model: FastTextModel = { args, dict, input, output, quantized: false, meta: { normalize } };
  let epochTokens = 0;
  for (let i = 0; i < data.n; i++) epochTokens += data.ntok[i];
  const totalTokens = epochTokens * args.epoch;
  const counter = new BigInt64Array(new SharedArrayBuffer(8));
  // The random fill of the input matrix (the first touch of up to 2 GB) is split over every core, not
  // only the training threads: extra workers fill their share and exit.
  const fillers = Math.max(nthreads, Math.min(availableParallelism(), 8));
  const common: Omit<WorkerInit, 'threadId' | 'train'> = {
    layout,
    fillers,
    nthreads,
    seed: args.seed,
    dim: args.dim,
    nout: dict.nlabels,
    loss: args.loss,
    neg: args.neg,
    lr: args.lr,
    lrUpdateRate: args.lrUpdateRate,
    totalTokens,
    wi: layout ? new Float32Array(0) : input.data,
    wo: layout ? new Float32Array(0) : output.data,
    wiLength: input.data.length,
    woLength: output.data.length,
    rowsLength: set.rows.length,
    tree: args.loss === 'hs' ? buildTree(dict.labelCounts()) : null,
    negCdf: args.loss === 'ns' ? negativeCdf(dict.labelCounts()) : null,
    counter,
    data: layout ? { ...set, rows: new Int32Array(0), weights: new Float32Array(0) } : set,
  };
  const workers: Worker[] = [];
  const ready: Promise<unknown>[] = [];
  for (let t = 0; t < fillers; t++) {
    const init: WorkerInit = { ...common, threadId: t, train: t < nthreads };
    const wk = new Worker(new URL('./worker.js', import.meta.url), { workerData: init });
    ready.push(nextMessage(wk));
    workers.push(wk);
  }
  try {
    await Promise.all(ready);
    const initSeconds = (performance.now() - tInit) / 1000;
    let seconds = 0;
    for (let e = 1; e <= args.epoch; e++) {
      const te = performance.now();
      const until = epochTokens * e;
      const before = Number(counter[0]);
      const replies = (await Promise.all(
        workers.slice(0, nthreads).map((wk) => {
          const p = nextMessage(wk);
          wk.postMessage({ until });
          return p;
        }),
      )) as FromWorker[];
      const dt = (performance.now() - te) / 1000;
      seconds += dt;
      const lossSum = replies.reduce((s, r) => s + r.lossSum, 0);
      const examples = replies.reduce((s, r) => s + r.examples, 0);
      const done = Number(counter[0]);
      await onEpoch(
        {
          epoch: e,
          lr: args.lr * Math.max(0, 1 - done / totalTokens),
          loss: examples ? lossSum / examples : 0,
          examples,
          seconds: dt,
          wordsPerSecPerThread: (done - before) / Math.max(dt, 1e-9) / nthreads,
        },
        model,
      );
    }
    const tokens = Number(counter[0]);
    return { model, seconds, initSeconds, tokens, wordsPerSecPerThread: tokens / Math.max(seconds, 1e-9) / nthreads };
  } finally {
    await Promise.all(workers.map((wk) => wk.terminate()));
  }
}

function nextMessage(wk: Worker): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const onMsg = (m: unknown) => {
      wk.off('error', onErr);
      resolve(m);
    };
    const onErr = (e: Error) => {
      wk.off('message', onMsg);
      reject(e);
    };
    wk.once('message', onMsg);
    wk.once('error', onErr);
  });
}
