// One SGD step of fastText's supervised model (Model::update with its Loss classes), on the shared
// matrices, through one SgdKernels implementation chosen per thread (SIMD or plain loops). Run
// concurrently from several threads without locks, as fastText does (Hogwild): lost updates are rare
// on sparse rows and do not hurt convergence.
import type { LossName } from './args.js';
import { computeOutput } from './output.js';
import { sigmoid, tableLog } from './tables.js';
import type { HsTree } from './tree.js';

export class MinStd {
  private s: number;
  constructor(seed: number) {
    this.s = seed % 2147483647 || 1;
  }
  next(): number {
    // x mod (2^31 - 1) by folding the high bits (Mersenne modulus): same values as %, without fmod
    const x = this.s * 48271;
    const hi = Math.floor(x / 2147483648);
    let r = x - hi * 2147483648 + hi;
    if (r >= 2147483647) r -= 2147483647;
    this.s = r;
    return r;
  }
  /** Uniform in [0, 1). */
  uniform(): number {
    return (this.next() - 1) / 2147483646;
  }
  /** Uniform integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.uniform() * n);
  }
}

/** The compiled SIMD kernels (wasm/kernels.wat); every pointer is a byte offset into their memory. */
export interface WasmKernels {
  sum_rows_w(rows: number, w: number, n: number, wi: number, dim: number, out: number): void;
  add_to_rows_w(rows: number, w: number, n: number, wi: number, dim: number, vec: number): void;
  scale(x: number, dim: number, s: number): void;
  dot(a: number, b: number, dim: number): number;
  step(wo: number, hidden: number, grad: number, alpha: number, dim: number): void;
  fill_uniform(dst: number, n: number, first: number, seed: number, a: number): void;
}

/**
 * The training examples as the SGD threads read them: each example's distinct input rows once, with
 * how often each occurs (about half of a web page's rows are repeats: reading each once halves the
 * memory traffic that bounds training). The hidden vector is still the mean over all occurrences.
 */
export interface TrainSet {
  n: number;
  /** n + 1 offsets into rows and weights. */
  rowStart: Int32Array;
  rows: Int32Array;
  weights: Float32Array;
  /** Input rows of each example, repeats counted. */
  nrows: Int32Array;
  labelStart: Int32Array;
  labels: Int32Array;
  /** Tokens fastText counts for the example: drives the learning-rate schedule. */
  ntok: Int32Array;
}

/**
 * The vector work of one SGD step (fastText's Model::computeHidden, the output-row updates and the
 * input-row update), chosen once per thread: WebAssembly SIMD on a shared memory, or plain loops.
 */
export interface SgdKernels {
  readonly hidden: Float32Array;
  readonly grad: Float32Array;
  /** hidden = inv * sum of weights[i] * wi[rows[i]] over i in [s, e); grad = 0 */
  forward(s: number, e: number, inv: number): void;
  /** <wo[row], hidden> */
  dotOut(row: number): number;
  /** grad += alpha * wo[row]; wo[row] += alpha * hidden */
  step(row: number, alpha: number): void;
  /** wi[rows[i]] += inv * weights[i] * grad over i in [s, e) */
  backward(s: number, e: number, inv: number): void;
}

/** The matrices and the examples' rows as typed arrays (shared between threads). */
export interface SgdArrays {
  dim: number;
  wi: Float32Array;
  wo: Float32Array;
  rows: Int32Array;
  weights: Float32Array;
}

export class JsKernels implements SgdKernels {
  readonly hidden: Float32Array;
  readonly grad: Float32Array;
  constructor(private readonly a: SgdArrays) {
    this.hidden = new Float32Array(a.dim);
    this.grad = new Float32Array(a.dim);
  }

  forward(s: number, e: number, inv: number): void {
    const { dim, wi, rows, weights } = this.a;
    const h = this.hidden;
    h.fill(0);
    this.grad.fill(0);
    for (let i = s; i < e; i++) {
      const o = rows[i] * dim;
      const c = weights[i];
      for (let k = 0; k < dim; k++) h[k] += c * wi[o + k];
    }
    for (let k = 0; k < dim; k++) h[k] *= inv;
  }

  dotOut(row: number): number {
    const { dim, wo } = this.a;
    const h = this.hidden;
    const o = row * dim;
    let s = 0;
    for (let k = 0; k < dim; k++) s += h[k] * wo[o + k];
    return s;
  }

  step(row: number, alpha: number): void {
    const { dim, wo } = this.a;
    const h = this.hidden;
    const g = this.grad;
    const o = row * dim;
    for (let k = 0; k < dim; k++) {
      g[k] += alpha * wo[o + k];
      wo[o + k] += alpha * h[k];
    }
  }

  backward(s: number, e: number, inv: number): void {
    const { dim, wi, rows, weights } = this.a;
    const g = this.grad;
    for (let k = 0; k < dim; k++) g[k] *= inv;
    for (let i = s; i < e; i++) {
      const o = rows[i] * dim;
      const c = weights[i];
      for (let k = 0; k < dim; k++) wi[o + k] += c * g[k];
    }
  }
}

/** Where things live in the kernels' memory (byte offsets). */
export interface WasmPlace {
  wi: number;
  wo: number;
  rows: number;
  weights: number;
  /** This thread's hidden vector; grad follows it at hidden + vecBytes. */
  hidden: number;
  vecBytes: number;
}

export class WasmSimdKernels implements SgdKernels {
  readonly hidden: Float32Array;
  readonly grad: Float32Array;
  private readonly gradAt: number;
  constructor(
    private readonly k: WasmKernels,
    private readonly p: WasmPlace,
    private readonly dim: number,
    buffer: ArrayBufferLike,
  ) {
    this.gradAt = p.hidden + p.vecBytes;
    this.hidden = new Float32Array(buffer, p.hidden, dim);
    this.grad = new Float32Array(buffer, this.gradAt, dim);
  }

  forward(s: number, e: number, inv: number): void {
    const p = this.p;
    this.hidden.fill(0);
    this.grad.fill(0);
    this.k.sum_rows_w(p.rows + 4 * s, p.weights + 4 * s, e - s, p.wi, this.dim, p.hidden);
    this.k.scale(p.hidden, this.dim, inv);
  }

  dotOut(row: number): number {
    return this.k.dot(this.p.wo + row * this.dim * 4, this.p.hidden, this.dim);
  }

  step(row: number, alpha: number): void {
    this.k.step(this.p.wo + row * this.dim * 4, this.p.hidden, this.gradAt, alpha, this.dim);
  }

  backward(s: number, e: number, inv: number): void {
    const p = this.p;
    this.k.scale(this.gradAt, this.dim, inv);
    this.k.add_to_rows_w(p.rows + 4 * s, p.weights + 4 * s, e - s, p.wi, this.dim, this.gradAt);
  }
}

export interface LossSpec {
  nout: number;
  loss: LossName;
  neg: number;
  tree: HsTree | null;
  /** Cumulative sqrt(count) of labels, for drawing negatives (fastText's negatives table, without the table). */
  negCdf: Float64Array | null;
}

export class SgdState {
  private readonly output: Float32Array;
  lossSum = 0;
  examples = 0;
  constructor(
    private readonly k: SgdKernels,
    private readonly m: LossSpec,
    private readonly rng: MinStd,
  ) {
    this.output = new Float32Array(m.nout);
  }

  /** Train on example `ex` of the set (fastText's Model::update): forward, loss and output rows, input rows. */
  update(d: TrainSet, ex: number, lr: number): void {
    const s = d.rowStart[ex];
    const e = d.rowStart[ex + 1];
    const ls = d.labelStart[ex];
    const le = d.labelStart[ex + 1];
    if (e === s || le === ls) return;
    const inv = 1 / d.nrows[ex];
    this.k.forward(s, e, inv);
    const labels = d.labels;
    let loss: number;
    switch (this.m.loss) {
      case 'softmax':
        loss = this.softmax(labels[ls + this.rng.below(le - ls)], lr);
        break;
      case 'ova':
        loss = this.ova(labels, ls, le, lr);
        break;
      case 'ns':
        loss = this.negSampling(labels[ls + this.rng.below(le - ls)], lr);
        break;
      default:
        loss = this.hs(labels[ls + this.rng.below(le - ls)], lr);
    }
    this.lossSum += loss;
    this.examples++;
    this.k.backward(s, e, inv);
  }

  private binaryLogistic(row: number, positive: boolean, lr: number): number {
    const score = sigmoid(this.k.dotOut(row));
    this.k.step(row, lr * ((positive ? 1 : 0) - score));
    return positive ? -tableLog(score) : -tableLog(1 - score);
  }

  /** The whole output layer through computeOutput (shared with prediction), then every row's update. */
  private scores(): Float32Array {
    const out = this.output;
    for (let i = 0; i < this.m.nout; i++) out[i] = this.k.dotOut(i);
    computeOutput(this.m.loss, out, this.m.nout);
    return out;
  }

  private softmax(target: number, lr: number): number {
    const out = this.scores();
    for (let i = 0; i < this.m.nout; i++) this.k.step(i, lr * ((i === target ? 1 : 0) - out[i]));
    return -tableLog(out[target]);
  }

  private ova(labels: Int32Array, ls: number, le: number, lr: number): number {
    const out = this.scores();
    let loss = 0;
    for (let i = 0; i < this.m.nout; i++) {
      let match = false;
      for (let j = ls; j < le; j++) if (labels[j] === i) match = true;
      this.k.step(i, lr * ((match ? 1 : 0) - out[i]));
      loss += match ? -tableLog(out[i]) : -tableLog(1 - out[i]);
    }
    return loss;
  }

  private negSampling(target: number, lr: number): number {
    let loss = this.binaryLogistic(target, true, lr);
    const cdf = this.m.negCdf!;
    if (cdf.length < 2) return loss; // a single label has no negatives
    for (let n = 0; n < this.m.neg; n++) {
      let neg: number;
      do {
        const u = this.rng.uniform() * cdf[cdf.length - 1];
        let lo = 0;
        let hi = cdf.length - 1;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (cdf[mid] > u) hi = mid;
          else lo = mid + 1;
        }
        neg = lo;
      } while (neg === target);
      loss += this.binaryLogistic(neg, false, lr);
    }
    return loss;
  }

  private hs(target: number, lr: number): number {
    const t = this.m.tree!;
    const path = t.paths[target];
    const code = t.codes[target];
    let loss = 0;
    for (let i = 0; i < path.length; i++) loss += this.binaryLogistic(path[i], code[i] === 1, lr);
    return loss;
  }
}

export function negativeCdf(labelCounts: number[]): Float64Array {
  const cdf = new Float64Array(labelCounts.length);
  let z = 0;
  labelCounts.forEach((c, i) => (cdf[i] = z += Math.sqrt(c)));
  return cdf;
}
