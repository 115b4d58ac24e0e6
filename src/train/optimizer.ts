// AdamW as torch.optim.AdamW computes it (decoupled weight decay: p *= 1 - lr*wd before the Adam step), with
// global-norm gradient clipping folded into the same tidy so the only host sync per step is the norm we report.
import * as tf from '@tensorflow/tfjs';
import type { TensorInfo } from '@tensorflow/tfjs';
import { NO_CAPABILITIES, type BackendCapabilities } from './backend.js';
import { isDecayed } from './model.js';
import { nativeWith } from './native.js';
import { nativeKernels } from './ops/native-kernel.js';
import { ownsBuffers, wasmHeap } from './tfjs-internals.js';

/** native/adamw.cc: both work in place on the wasm heap. */
interface AdamWKernels {
  sumSquares(g: Float32Array): number;
  adamw(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, coef: number, b1: number, b2: number, eps: number, decay: number, stepSize: number, bc2Sqrt: number): void;
}

export interface AdamWOptions {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** Clip the global gradient norm to this (0 = no clipping). */
  clip: number;
}

export const DEFAULT_ADAMW: AdamWOptions = { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, clip: 1.0 };

export class AdamW {
  readonly m = new Map<string, tf.Variable>();
  readonly v = new Map<string, tf.Variable>();
  /** Number of updates applied (torch's state["step"]). */
  t = 0;

  /** `caps`: the backend's, from initBackend; without them every step takes the tfjs path. */
  constructor(
    readonly params: Map<string, tf.Variable>,
    readonly opts: AdamWOptions,
    readonly caps: BackendCapabilities = NO_CAPABILITIES,
  ) {
    for (const [name, p] of params) {
      // In a tidy so the initial tensors are released: the variables then own their buffers alone (stepNative
      // updates them in place).
      this.m.set(name, tf.tidy(() => tf.variable(tf.zerosLike(p), false, `exp_avg.${name}`)));
      this.v.set(name, tf.tidy(() => tf.variable(tf.zerosLike(p), false, `exp_avg_sq.${name}`)));
    }
  }

  /** Apply one update; returns the global gradient norm before clipping. The grads are not disposed. */
  async step(grads: Map<string, tf.Tensor>, lr: number): Promise<number> {
    const { beta1: b1, beta2: b2, eps, weightDecay: wd, clip } = this.opts;
    this.t += 1;
    const bc1 = 1 - Math.pow(b1, this.t);
    const bc2Sqrt = Math.sqrt(1 - Math.pow(b2, this.t));
    if (nativeKernels('adamw') && this.caps.blasProducts && this.ownsBuffers()) return this.stepNative(grads, lr, bc1, bc2Sqrt);
    const norm = tf.tidy(() => {
      const sq = [...grads.values()].map((g) => tf.sum(tf.square(g)));
      const total = tf.sqrt(tf.addN(sq));
      const coef = clip > 0 ? tf.minimum(1, tf.div(clip, tf.add(total, 1e-6))) : tf.scalar(1);
      for (const [name, p] of this.params) {
        const g0 = grads.get(name);
        if (!g0) continue;
        const g = tf.mul(g0, coef);
        const m = this.m.get(name)!;
        const v = this.v.get(name)!;
        m.assign(tf.add(tf.mul(m, b1), tf.mul(g, 1 - b1)));
        v.assign(tf.add(tf.mul(v, b2), tf.mul(tf.square(g), 1 - b2)));
        const denom = tf.add(tf.div(tf.sqrt(v), bc2Sqrt), eps);
        const decayed = wd > 0 && isDecayed(name) ? tf.mul(p, 1 - lr * wd) : p;
        p.assign(tf.sub(decayed, tf.mul(tf.div(m, denom), lr / bc1)));
      }
      return total;
    });
    const value = (await norm.data())[0];
    norm.dispose();
    return value;
  }

  /** In-place updates are safe only when no other tensor shares a parameter's or moment's buffer. */
  private ownsBuffers(): boolean {
    return ownsBuffers(tf.backend(), [...this.params.values(), ...this.m.values(), ...this.v.values()]);
  }

  /**
   * The same update with native/adamw.cc, in place: parameters and moments keep their wasm buffers (nobody else
   * holds them between steps), so a step allocates nothing. The norm is summed in double on the host.
   */
  private stepNative(grads: Map<string, tf.Tensor>, lr: number, bc1: number, bc2Sqrt: number): number {
    const { beta1: b1, beta2: b2, eps, weightDecay: wd, clip } = this.opts;
    const addon = nativeWith<AdamWKernels>('adamw', 'sumSquares')!;
    const heap = wasmHeap(tf.backend());
    const view = (t: tf.Tensor) => heap.f32(t as unknown as TensorInfo);
    let sq = 0;
    for (const g of grads.values()) sq += addon.sumSquares(view(g));
    const total = Math.sqrt(sq);
    const coef = clip > 0 ? Math.min(1, clip / (total + 1e-6)) : 1;
    for (const [name, p] of this.params) {
      const g = grads.get(name);
      if (!g) continue;
      const decay = wd > 0 && isDecayed(name) ? 1 - lr * wd : 1;
      addon.adamw(view(p), view(g), view(this.m.get(name)!), view(this.v.get(name)!), coef, b1, b2, eps, decay, lr / bc1, bc2Sqrt);
    }
    return total;
  }

  dispose(): void {
    for (const x of [...this.m.values(), ...this.v.values()]) x.dispose();
  }
}
