// Mean-weighted next-token cross-entropy with a fused gradient.
import * as tf from '@tensorflow/tfjs';
import { defineNativeKernel, nativeKernels, runNative } from './native-kernel.js';

type F32 = Float32Array;
type I32 = Int32Array;

/** The addon's cross-entropy kernels (native/cross-entropy.cc). */
interface CeAddon {
  ceForward(logits: F32, targets: I32, weights: F32, lse: F32, loss: F32, n: number, v: number): void;
  ceBackward(logits: F32, targets: I32, weights: F32, lse: F32, dy: F32, dlogits: F32, n: number, v: number): void;
}

/**
 * sum_i w_i * (logsumexp(logits_i) - logits_i[target_i]), with the fused gradient (softmax - onehot) * w:
 * one [N, V] softmax instead of the chain of max/sub/exp/sum/log/gather gradients autodiff would build.
 */
export const crossEntropyComposed = (logits: tf.Tensor2D, targets: tf.Tensor1D, weights: tf.Tensor1D): tf.Scalar =>
  ceOp(logits, targets, weights) as tf.Scalar;

/**
 * Native on wasm when the addon is built. Targets must lie in [0, V): the native kernels throw a RangeError
 * otherwise (the composition only fails when the flat index i * V + t leaves the tensor, and otherwise reads a
 * neighbouring row's logit, which no caller should rely on).
 */
export function crossEntropy(logits: tf.Tensor2D, targets: tf.Tensor1D, weights: tf.Tensor1D): tf.Scalar {
  // The native kernels read N targets and weights, and the composition's gradient assumes N of each.
  const N = logits.shape[0];
  if (logits.rank !== 2 || !tf.util.arraysEqual(targets.shape, [N]) || !tf.util.arraysEqual(weights.shape, [N]))
    throw new Error(`crossEntropy: logits [${logits.shape}], targets [${targets.shape}] and weights [${weights.shape}] are not [N, V], [N] and [N]`);
  if (nativeKernels('ceForward') && logits.dtype === 'float32' && weights.dtype === 'float32' && targets.dtype === 'int32')
    return ceNative(logits, targets, weights) as tf.Scalar;
  return crossEntropyComposed(logits, targets, weights);
}

const ceOp = tf.customGrad((...args: unknown[]) => {
  const [logits, targets, weights, save] = args as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
  const [N, V] = logits.shape;
  // exp(logits - max) is kept for the gradient, so the [N, V] exponentials are computed once per step.
  const m = tf.max(logits, 1, true);
  const e = tf.exp(tf.sub(logits, m));
  const s = tf.sum(e, 1);
  const lse = tf.add(tf.log(s), tf.reshape(m, [N]));
  const flat = tf.add(tf.mul(tf.range(0, N, 1, 'int32'), tf.scalar(V, 'int32')), targets);
  const picked = tf.gather(tf.reshape(logits, [-1]), flat);
  save([e, s, flat, weights]);
  return {
    value: tf.sum(tf.mul(tf.sub(lse, picked), weights)),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [ex, sum, fl, w] = saved as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
      const wdy = tf.mul(w, dy);
      const probs = tf.mul(ex, tf.reshape(tf.div(wdy, sum), [N, 1]));
      // The one-hot term as a scatter into the flat logits (wasm's OneHot writes float32 output wrongly in 4.22).
      const hot = tf.reshape(tf.unsortedSegmentSum(wdy, fl, N * V), [N, V]);
      return [tf.sub(probs, hot), tf.zerosLike(targets), tf.zerosLike(w)];
    },
  };
});

defineNativeKernel<CeAddon>('MathpipeCrossEntropy', (c) => {
  const { logits, targets, weights } = c.inputs;
  const [N, V] = logits.shape;
  // Checked before any output exists, so a throw leaks nothing; the kernel indexes row i at targets[i].
  const tg = c.i32(targets);
  for (let i = 0; i < N; i++)
    if (!(tg[i] >= 0 && tg[i] < V)) throw new RangeError(`crossEntropy: target ${tg[i]} at row ${i} is not in [0, ${V})`);
  const loss = c.output([]);
  const lse = c.output([N]);
  c.addon.ceForward(c.f32(logits), c.i32(targets), c.f32(weights), c.f32(lse), c.f32(loss), N, V);
  return [loss, lse];
});

defineNativeKernel<CeAddon>('MathpipeCrossEntropyGrad', (c) => {
  const { logits, targets, weights, lse, dy } = c.inputs;
  const [N, V] = logits.shape;
  const dl = c.output([N, V]);
  c.addon.ceBackward(c.f32(logits), c.i32(targets), c.f32(weights), c.f32(lse), c.f32(dy), c.f32(dl), N, V);
  return [dl];
});

const ceNative = tf.customGrad((...args: unknown[]) => {
  const [logits, targets, weights, save] = args as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
  const [loss, lse] = runNative('MathpipeCrossEntropy', { logits, targets, weights });
  // lse [N] instead of the [N, V] exponentials: the backward recomputes them in the pass that writes the gradient.
  save([logits, targets, weights, lse]);
  return {
    value: loss,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [l, t, w, s] = saved;
      const [dl] = runNative('MathpipeCrossEntropyGrad', { logits: l, targets: t, weights: w, lse: s, dy });
      return [dl, tf.zerosLike(t), tf.zerosLike(w)];
    },
  };
});
