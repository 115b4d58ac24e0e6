// A training thread: fastText's FastText::trainThread. Each thread starts at its own offset in the
// data and cycles through all of it; the learning rate decays linearly with the global token count
// (shared through Atomics), and the main thread pauses all threads at epoch boundaries for validation.
import { parentPort, workerData } from 'node:worker_threads';
import type { LossName } from './args.js';
import { MinStd, SgdState, type WasmPlace } from './sgd.js';
import { instantiateKernels, type Layout } from './memory.js';
import type { HsTree } from './tree.js';

export interface WorkerInit {
  threadId: number;
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
  rowsLength: number;
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

const L = w.layout;
let d = w.data;
let wi = w.wi;
let wo = w.wo;
let place: WasmPlace | null = null;
if (L) {
  // views are rebuilt here: the memory object is shared, typed-array views of it are not sent
  const buf = L.memory.buffer;
  wi = new Float32Array(buf, L.wi, w.wiLength);
  wo = new Float32Array(buf, L.wo, w.woLength);
  d = { ...d, rows: new Int32Array(buf, L.rows, w.rowsLength) };
  const hidden = L.scratch + w.threadId * 2 * L.vecBytes;
  place = { k: instantiateKernels(L.memory), wi: L.wi, wo: L.wo, rows: L.rows, hidden, grad: hidden + L.vecBytes };
}
// fastText's DenseMatrix::uniform: each thread fills its own block of rows, seeded by block. The
// generator is mulberry32 (a few integer ops a float): this loop touches every weight, up to 2 GB.
{
  const rows = wi.length / w.dim;
  const r0 = Math.floor((w.threadId * rows) / w.nthreads);
  const r1 = Math.floor(((w.threadId + 1) * rows) / w.nthreads);
  const scale = 2 / w.dim / 4294967296;
  const a = 1 / w.dim;
  let st = (Math.imul(w.threadId + 1, 0x9e3779b9) ^ w.seed) >>> 0;
  for (let i = r0 * w.dim, end = r1 * w.dim; i < end; i++) {
    st = (st + 0x6d2b79f5) | 0;
    let z = Math.imul(st ^ (st >>> 15), st | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    wi[i] = ((z ^ (z >>> 14)) >>> 0) * scale - a;
  }
}

const state = new SgdState(
  { dim: w.dim, wi, wo, nout: w.nout, loss: w.loss, neg: w.neg, tree: w.tree, negCdf: w.negCdf },
  new MinStd(w.threadId + w.seed + 7919),
  place,
  L?.memory.buffer,
);
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
