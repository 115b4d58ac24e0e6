// RMSNorm: x / sqrt(mean(x^2) + eps) * w over the last axis.
import * as tf from '@tensorflow/tfjs';

/** tfjs composition (every backend; the reference the fused kernel is tested against). */
export function rmsNormComposed(x: tf.Tensor, w: tf.Tensor, eps: number): tf.Tensor {
  const ms = tf.mean(tf.square(x), -1, true);
  return tf.mul(tf.mul(x, tf.rsqrt(tf.add(ms, eps))), w);
}

export function rmsNorm(x: tf.Tensor, w: tf.Tensor, eps: number): tf.Tensor {
  return rmsNormComposed(x, w, eps);
}
