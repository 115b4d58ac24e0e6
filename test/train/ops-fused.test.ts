// The native cross-entropy, RMSNorm and SwiGLU kernels (native/cross-entropy.cc, norm.cc, swiglu.cc) compute what
// their tfjs compositions compute on wasm: values and gradients, on awkward sizes, masked weights and saturating
// inputs.
import t, { type Test } from 'tap';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { installKernels } from '../../src/train/kernels.js';
import { nativeAddon } from '../../src/train/native.js';
import { nativeKernels } from '../../src/train/ops/native-kernel.js';
import { crossEntropy, crossEntropyComposed } from '../../src/train/ops/cross-entropy.js';
import { rmsNorm, rmsNormComposed } from '../../src/train/ops/rms-norm.js';
import { swiglu, swigluComposed } from '../../src/train/ops/swiglu.js';
import { Rng } from '../../src/util/rng.js';

const skip = nativeAddon() ? false : 'the native addon is not built';

/** Worst element error as a fraction of the tolerance: relative 1e-5 with an absolute floor of 1e-6 * scale. */
function worst(a: Float32Array, b: Float32Array, scale = 1): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / (1e-6 * scale + 1e-5 * Math.abs(b[i])));
  return m;
}

const maxAbs = (a: Float32Array) => a.reduce((m, x) => Math.max(m, Math.abs(x)), 0);

function same(t: Test, got: Float32Array[], ref: Float32Array[], names: string[]): void {
  for (let i = 0; i < ref.length; i++) {
    t.equal(got[i].length, ref[i].length, `${names[i]} size`);
    // Gradients of a mean loss are tiny per element; the floor scales with the largest one.
    const e = worst(got[i], ref[i], Math.max(1e-3, maxAbs(ref[i])));
    t.ok(e <= 1, `${names[i]}: worst error ${e.toFixed(3)} of the tolerance`);
  }
}

/** Value and gradients of f's output under a fixed random upstream weighting (so every element matters). */
function valueAndGrads(f: (...xs: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[], seed: number): Float32Array[] {
  const out = f(...inputs);
  const r = tf.tensor(new Rng(seed).normalArray(out.size, 1), out.shape);
  const grads = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(f(...xs), r)))(inputs);
  const res = [out, ...grads].map((x) => x.dataSync() as Float32Array);
  tf.dispose([out, r, ...grads]);
  return res;
}

t.before(async () => {
  tf.enableProdMode();
  await tf.setBackend('wasm');
  await tf.ready();
  installKernels('wasm');
});

const ceCases: [number, number, number, string][] = [
  [7, 13, 1, 'tiny, awkward'],
  [33, 1000, 30, 'large logits (max subtraction matters)'],
  [2048, 512, 3, 'bench shape'],
  [5, 8193, 2, 'odd vocab'],
];

for (const [N, V, scale, what] of ceCases) {
  t.test(`native cross-entropy = composition: N=${N} V=${V} (${what})`, { skip }, async (t) => {
    t.ok(nativeKernels('ceForward'), 'the native path is taken');
    const rng = new Rng(N * 7 + V);
    const logits = tf.tensor2d(rng.normalArray(N * V, scale), [N, V]);
    const targets = tf.tensor1d(Int32Array.from({ length: N }, () => rng.int(V)), 'int32');
    // Every third position masked (weight 0) as SFT does for prompts; the rest are a mean's 1/n.
    const w = Float32Array.from({ length: N }, (_, i) => (i % 3 === 1 ? 0 : (1 + (i % 5)) / N));
    const weights = tf.tensor1d(w);
    // The loss scaled by 0.7 so the upstream gradient is not 1.
    const f = (ce: typeof crossEntropy) => (l: tf.Tensor, ws: tf.Tensor) => tf.mul(ce(l as tf.Tensor2D, targets, ws as tf.Tensor1D), 0.7);
    const ref = valueAndGrads(f(crossEntropyComposed), [logits, weights], 1);
    const got = valueAndGrads(f(crossEntropy), [logits, weights], 1);
    same(t, got.slice(0, 2), ref.slice(0, 2), ['loss', 'dlogits']);
    t.equal(maxAbs(got[2]), 0, 'no gradient for the weights (as the composition)');
    tf.dispose([logits, targets, weights]);
  });
}

t.test('native cross-entropy: all weights zero gives 0 and a zero gradient', { skip }, async (t) => {
  const logits = tf.tensor2d(new Rng(3).normalArray(4 * 9, 1), [4, 9]);
  const targets = tf.tensor1d([0, 8, 3, 3], 'int32');
  const weights = tf.zeros([4]) as tf.Tensor1D;
  const got = valueAndGrads((l) => crossEntropy(l as tf.Tensor2D, targets, weights), [logits], 1);
  t.equal(got[0][0], 0);
  t.equal(maxAbs(got[1]), 0);
  tf.dispose([logits, targets, weights]);
});

t.test('native cross-entropy: a target outside [0, V) is a RangeError, and nothing leaks', { skip }, async (t) => {
  const logits = tf.tensor2d(new Rng(4).normalArray(3 * 5, 1), [3, 5]);
  const weights = tf.ones([3]) as tf.Tensor1D;
  const before = tf.memory().numTensors;
  for (const bad of [[0, 5, 1], [-1, 0, 0], [0, 0, -100]]) {
    const targets = tf.tensor1d(bad, 'int32');
    t.throws(() => tf.tidy(() => crossEntropy(logits, targets, weights)), RangeError, `targets ${bad}`);
    targets.dispose();
  }
  t.equal(tf.memory().numTensors, before);
  tf.dispose([logits, weights]);
});

t.test('cross-entropy: targets or weights not of length N throw before any kernel runs, and nothing leaks', async (t) => {
  // The native kernels would read past them; the composition would broadcast the loss but not the gradient.
  const logits = tf.tensor2d(new Rng(5).normalArray(4 * 6, 1), [4, 6]);
  const targets = tf.tensor1d([0, 5, 3, 2], 'int32');
  const weights = tf.fill([4], 0.25) as tf.Tensor1D;
  const before = tf.memory().numTensors;
  const bad: [string, tf.Tensor1D, tf.Tensor1D][] = [
    ['weights [1]', targets, tf.tensor1d([0.25])],
    ['weights [5]', targets, tf.fill([5], 0.25) as tf.Tensor1D],
    ['targets [1]', tf.tensor1d([3], 'int32'), weights],
    ['targets [2, 2]', tf.tensor2d([0, 1, 2, 3], [2, 2], 'int32') as unknown as tf.Tensor1D, weights],
  ];
  for (const [name, tg, w] of bad) {
    t.throws(() => tf.tidy(() => crossEntropy(logits, tg, w)), /crossEntropy: /, name);
    if (tg !== targets) tg.dispose();
    if (w !== weights) w.dispose();
  }
  t.equal(tf.memory().numTensors, before);
  tf.dispose([logits, targets, weights]);
});

const normCases: [number[], number][] = [
  [[7, 13], 1e-6],
  [[3, 5, 24], 1e-5],
  [[2048, 128], 1e-6],
  [[100, 3], 1e-6],
  [[65, 33], 1e-2],
];

for (const [shape, eps] of normCases) {
  t.test(`native RMSNorm = composition: x [${shape}] eps ${eps}`, { skip }, async (t) => {
    t.ok(nativeKernels('rmsNormForward'), 'the native path is taken');
    const D = shape[shape.length - 1];
    const rng = new Rng(D * 31 + shape.length);
    const x = tf.tensor(rng.normalArray(tf.util.sizeFromShape(shape), 2), shape);
    const w = tf.tensor1d(rng.normalArray(D, 1));
    const f = (norm: typeof rmsNorm) => (a: tf.Tensor, b: tf.Tensor) => norm(a, b, eps);
    const ref = valueAndGrads(f(rmsNormComposed), [x, w], 2);
    const got = valueAndGrads(f(rmsNorm), [x, w], 2);
    same(t, got, ref, ['y', 'dx', 'dw']);
    tf.dispose([x, w]);
  });
}

t.test('native RMSNorm: dw is bitwise the same on 1 and 2 threads', { skip }, async (t) => {
  const addon = nativeAddon()!;
  const x = tf.tensor2d(new Rng(8).normalArray(301 * 40, 1), [301, 40]);
  const w = tf.tensor1d(new Rng(9).normalArray(40, 1));
  const dw = (threads: number) => {
    addon.setThreads(threads);
    return valueAndGrads((a, b) => rmsNorm(a, b, 1e-6), [x, w], 3)[2];
  };
  const one = dw(1);
  const two = dw(2);
  addon.setThreads(2);
  t.same(Array.from(two), Array.from(one));
  tf.dispose([x, w]);
});

const swigluCases: number[][] = [[7, 13], [2048, 352], [2, 3, 5], [1, 4097]];

for (const shape of swigluCases) {
  t.test(`native SwiGLU = composition: [${shape}]`, { skip }, async (t) => {
    t.ok(nativeKernels('swigluForward'), 'the native path is taken');
    const n = tf.util.sizeFromShape(shape);
    const rng = new Rng(n);
    const gv = rng.normalArray(n, 3);
    // Saturated gates both ways, where sigmoid is 0 or 1 in float32.
    gv[0] = 40;
    if (n > 1) gv[1] = -40;
    if (n > 2) gv[2] = -100;
    const g = tf.tensor(gv, shape);
    const u = tf.tensor(rng.normalArray(n, 1), shape);
    const ref = valueAndGrads(swigluComposed, [g, u], 4);
    const got = valueAndGrads(swiglu, [g, u], 4);
    same(t, got, ref, ['y', 'dg', 'du']);
    tf.dispose([g, u]);
  });
}

t.test('no tensors leak through the native paths (with and without gradients)', { skip }, async (t) => {
  const rng = new Rng(6);
  const x = tf.tensor2d(rng.normalArray(9 * 6, 1), [9, 6]);
  const w = tf.tensor1d(rng.normalArray(6, 1));
  const targets = tf.tensor1d(Int32Array.from({ length: 9 }, (_, i) => i % 6), 'int32');
  const weights = tf.fill([9], 0.5);
  const before = tf.memory().numTensors;
  valueAndGrads((a, b) => rmsNorm(a, b, 1e-6), [x, w], 1);
  valueAndGrads((a, b) => swiglu(a, b), [x, x], 1);
  valueAndGrads((a, b) => crossEntropy(a as tf.Tensor2D, targets, b as tf.Tensor1D), [x, weights], 1);
  t.equal(tf.memory().numTensors, before);
  tf.dispose([x, w, targets, weights]);
});
