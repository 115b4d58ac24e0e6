// SwiGLU's gate: silu(g) * u = g * sigmoid(g) * u, element-wise.
import * as tf from '@tensorflow/tfjs';

/** tfjs composition (every backend; the reference the fused kernel is tested against). */
export function swigluComposed(g: tf.Tensor, u: tf.Tensor): tf.Tensor {
  return tf.mul(tf.mul(g, tf.sigmoid(g)), u);
}

export function swiglu(g: tf.Tensor, u: tf.Tensor): tf.Tensor {
  return swigluComposed(g, u);
}
