// SwiGLU's gate: silu(g) * u = g * sigmoid(g) * u, element-wise.
import * as tf from '@tensorflow/tfjs';
import { defineNativeKernel, nativeKernels, runNative } from './native-kernel.js';

type F32 = Float32Array;

/** The addon's SwiGLU kernels (native/swiglu.cc). */
interface SwigluAddon {
  swigluForward(g: F32, u: F32, y: F32, n: number): void;
  swigluBackward(g: F32, u: F32, dy: F32, dg: F32, du: F32, n: number): void;
}

/** tfjs composition (every backend; the reference the fused kernel is tested against). */
export function swigluComposed(g: tf.Tensor, u: tf.Tensor): tf.Tensor {
  return tf.mul(tf.mul(g, tf.sigmoid(g)), u);
}

/** Native on wasm when the addon is built and g, u have one shape (no broadcasting). */
export function swiglu(g: tf.Tensor, u: tf.Tensor): tf.Tensor {
  if (nativeKernels('swigluForward') && g.dtype === 'float32' && u.dtype === 'float32' && tf.util.arraysEqual(g.shape, u.shape))
    return swigluNative(g, u);
  return swigluComposed(g, u);
}

defineNativeKernel<SwigluAddon>('MathpipeSwiglu', (c) => {
  const { g, u } = c.inputs;
  const y = c.output(g.shape);
  c.addon.swigluForward(c.f32(g), c.f32(u), c.f32(y), tf.util.sizeFromShape(g.shape));
  return [y];
});

defineNativeKernel<SwigluAddon>('MathpipeSwigluGrad', (c) => {
  const { g, u, dy } = c.inputs;
  const dg = c.output(g.shape);
  const du = c.output(g.shape);
  c.addon.swigluBackward(c.f32(g), c.f32(u), c.f32(dy), c.f32(dg), c.f32(du), tf.util.sizeFromShape(g.shape));
  return [dg, du];
});

const swigluNative = tf.customGrad((...args: unknown[]) => {
  const [g, u, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
  // Only the inputs are saved; the backward recomputes sigmoid.
  save([g, u]);
  return {
    value: runNative('MathpipeSwiglu', { g, u })[0],
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => runNative('MathpipeSwigluGrad', { g: saved[0], u: saved[1], dy }),
  };
}) as (g: tf.Tensor, u: tf.Tensor) => tf.Tensor;
