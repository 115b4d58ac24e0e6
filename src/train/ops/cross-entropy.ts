// Mean-weighted next-token cross-entropy with a fused gradient.
import * as tf from '@tensorflow/tfjs';

/**
 * sum_i w_i * (logsumexp(logits_i) - logits_i[target_i]), with the fused gradient (softmax - onehot) * w:
 * one [N, V] softmax instead of the chain of max/sub/exp/sum/log/gather gradients autodiff would build.
 */
export const crossEntropyComposed = (logits: tf.Tensor2D, targets: tf.Tensor1D, weights: tf.Tensor1D): tf.Scalar =>
  ceOp(logits, targets, weights) as tf.Scalar;

export function crossEntropy(logits: tf.Tensor2D, targets: tf.Tensor1D, weights: tf.Tensor1D): tf.Scalar {
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
