// RMSNorm: x / sqrt(mean(x^2) + eps) * w over the last axis.
import * as tf from '@tensorflow/tfjs';
import { defineNativeKernel, nativeKernels, runNative } from './native-kernel.js';

type F32 = Float32Array;

/** The addon's RMSNorm kernels (native/norm.cc). */
interface NormAddon {
  rmsNormForward(x: F32, w: F32, y: F32, rstd: F32, rows: number, d: number, eps: number): void;
  rmsNormBackward(x: F32, w: F32, rstd: F32, dy: F32, dx: F32, dw: F32, rows: number, d: number): void;
}

/** tfjs composition (every backend; the reference the fused kernel is tested against). */
export function rmsNormComposed(x: tf.Tensor, w: tf.Tensor, eps: number): tf.Tensor {
  const ms = tf.mean(tf.square(x), -1, true);
  return tf.mul(tf.mul(x, tf.rsqrt(tf.add(ms, eps))), w);
}

/** Native on wasm when the addon is built and w is [D] (x's last axis). */
export function rmsNorm(x: tf.Tensor, w: tf.Tensor, eps: number): tf.Tensor {
  const D = x.shape[x.rank - 1];
  if (nativeKernels('rmsNormForward') && x.dtype === 'float32' && w.dtype === 'float32' && w.rank === 1 && w.shape[0] === D)
    return rmsNative(x, w, eps);
  return rmsNormComposed(x, w, eps);
}

defineNativeKernel<NormAddon>('MathpipeRmsNorm', (c) => {
  const { x, w } = c.inputs;
  const D = x.shape[x.shape.length - 1];
  const rows = D === 0 ? 0 : tf.util.sizeFromShape(x.shape) / D;
  const y = c.output(x.shape);
  const rstd = c.output([rows]);
  c.addon.rmsNormForward(c.f32(x), c.f32(w), c.f32(y), c.f32(rstd), rows, D, c.attrs.eps as number);
  return [y, rstd];
});

defineNativeKernel<NormAddon>('MathpipeRmsNormGrad', (c) => {
  const { x, w, rstd, dy } = c.inputs;
  const D = x.shape[x.shape.length - 1];
  const rows = rstd.shape[0];
  const dx = c.output(x.shape);
  const dw = c.output([D]);
  c.addon.rmsNormBackward(c.f32(x), c.f32(w), c.f32(rstd), c.f32(dy), c.f32(dx), c.f32(dw), rows, D);
  return [dx, dw];
});

// customGrad passes tensors only, so eps is bound by building one op per eps (a model uses one or two).
const byEps = new Map<number, (x: tf.Tensor, w: tf.Tensor) => tf.Tensor>();

function rmsNative(x: tf.Tensor, w: tf.Tensor, eps: number): tf.Tensor {
  let op = byEps.get(eps);
  if (!op) {
    op = tf.customGrad((...args: unknown[]) => {
      const [xi, wi, save] = args as [tf.Tensor, tf.Tensor1D, tf.GradSaveFunc];
      const [y, rstd] = runNative('MathpipeRmsNorm', { x: xi, w: wi }, { eps });
      save([xi, wi, rstd]);
      return {
        value: y,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [xs, ws, rs] = saved;
          return runNative('MathpipeRmsNormGrad', { x: xs, w: ws, rstd: rs, dy });
        },
      };
    }) as (x: tf.Tensor, w: tf.Tensor) => tf.Tensor;
    byEps.set(eps, op);
  }
  return op(x, w);
}
