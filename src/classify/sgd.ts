// One SGD step of fastText's supervised model (Model::update with its Loss classes), on the shared
// matrices. Run concurrently from several threads without locks, as fastText does (Hogwild): lost
// updates are rare on sparse rows and do not hurt convergence.
import type { LossName } from './args.js';
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

/** The compiled SIMD kernels (wasm/kernels.wat) and where things live in their memory (byte offsets). */
export interface WasmKernels {
  sum_rows(rows: number, n: number, wi: number, dim: number, out: number): void;
  add_to_rows(rows: number, n: number, wi: number, dim: number, vec: number): void;
  scale(x: number, dim: number, s: number): void;
  dot(a: number, b: number, dim: number): number;
  step(wo: number, hidden: number, grad: number, alpha: number, dim: number): void;
}

export interface WasmPlace {
  k: WasmKernels;
  wi: number;
  wo: number;
  /** Byte offset of rows[0] (the encoded examples live in the same memory). */
  rows: number;
  hidden: number;
  grad: number;
}

export interface SgdModel {
  dim: number;
  wi: Float32Array;
  wo: Float32Array;
  nout: number;
  loss: LossName;
  neg: number;
  tree: HsTree | null;
  /** Cumulative sqrt(count) of labels, for drawing negatives (fastText's negatives table, without the table). */
  negCdf: Float64Array | null;
}

export class SgdState {
  readonly hidden: Float32Array;
  readonly grad: Float32Array;
  readonly output: Float32Array;
  lossSum = 0;
  examples = 0;
  constructor(
    readonly m: SgdModel,
    readonly rng: MinStd,
    /** With kernels, hidden and grad are views of the wasm memory at place.hidden / place.grad. */
    readonly wasm: WasmPlace | null = null,
    buffer?: ArrayBufferLike,
  ) {
    this.hidden = wasm ? new Float32Array(buffer!, wasm.hidden, m.dim) : new Float32Array(m.dim);
    this.grad = wasm ? new Float32Array(buffer!, wasm.grad, m.dim) : new Float32Array(m.dim);
    this.output = new Float32Array(m.nout);
  }

  /** Train on one example: input rows rows[s..e), label ids labels[ls..le). */
  update(rows: Int32Array, s: number, e: number, labels: Int32Array, ls: number, le: number, lr: number): void {
    const { dim, wi } = this.m;
    const n = e - s;
    if (n === 0 || le === ls) return;
    const h = this.hidden;
    const w = this.wasm;
    const inv = 1 / n;
    h.fill(0);
    if (w) {
      w.k.sum_rows(w.rows + 4 * s, n, w.wi, dim, w.hidden);
      w.k.scale(w.hidden, dim, inv);
    } else {
      for (let i = s; i < e; i++) {
        const o = rows[i] * dim;
        for (let k = 0; k < dim; k++) h[k] += wi[o + k];
      }
      for (let k = 0; k < dim; k++) h[k] *= inv;
    }
    this.grad.fill(0);
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
    if (w) {
      w.k.scale(w.grad, dim, inv);
      w.k.add_to_rows(w.rows + 4 * s, n, w.wi, dim, w.grad);
      return;
    }
    const g = this.grad;
    for (let k = 0; k < dim; k++) g[k] *= inv;
    for (let i = s; i < e; i++) {
      const o = rows[i] * dim;
      for (let k = 0; k < dim; k++) wi[o + k] += g[k];
    }
  }

  private dotOut(row: number): number {
    const { dim, wo } = this.m;
    const w = this.wasm;
    if (w) return w.k.dot(w.wo + row * dim * 4, w.hidden, dim);
    const h = this.hidden;
    const o = row * dim;
    let s = 0;
    for (let k = 0; k < dim; k++) s += h[k] * wo[o + k];
    return s;
  }

  /** grad += alpha * wo[row]; wo[row] += alpha * hidden */
  private step(row: number, alpha: number): void {
    const { dim, wo } = this.m;
    const w = this.wasm;
    if (w) return w.k.step(w.wo + row * dim * 4, w.hidden, w.grad, alpha, dim);
    const h = this.hidden;
    const g = this.grad;
    const o = row * dim;
    for (let k = 0; k < dim; k++) {
      g[k] += alpha * wo[o + k];
      wo[o + k] += alpha * h[k];
    }
  }

  private binaryLogistic(row: number, positive: boolean, lr: number): number {
    const score = sigmoid(this.dotOut(row));
    this.step(row, lr * ((positive ? 1 : 0) - score));
    return positive ? -tableLog(score) : -tableLog(1 - score);
  }

  private softmax(target: number, lr: number): number {
    const out = this.output;
    const nout = this.m.nout;
    let max = -Infinity;
    for (let i = 0; i < nout; i++) {
      out[i] = this.dotOut(i);
      if (out[i] > max) max = out[i];
    }
    let z = 0;
    for (let i = 0; i < nout; i++) {
      out[i] = Math.exp(out[i] - max);
      z += out[i];
    }
    for (let i = 0; i < nout; i++) out[i] /= z;
    const loss = -tableLog(out[target]);
    for (let i = 0; i < nout; i++) this.step(i, lr * ((i === target ? 1 : 0) - out[i]));
    return loss;
  }

  private ova(labels: Int32Array, ls: number, le: number, lr: number): number {
    let loss = 0;
    for (let i = 0; i < this.m.nout; i++) {
      let match = false;
      for (let j = ls; j < le; j++) if (labels[j] === i) match = true;
      loss += this.binaryLogistic(i, match, lr);
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
