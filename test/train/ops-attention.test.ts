// The native fused attention (native/attention.cc) computes what the tfjs composition computes, forward and
// gradients w.r.t. the pre-RoPE q/k/v projections, including grouped-query heads and awkward sizes.
import t from 'tap';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { installKernels } from '../../src/train/kernels.js';
import { nativeAddon } from '../../src/train/native.js';
import { nativeKernels } from '../../src/train/ops/native-kernel.js';
import { causalAttention, causalAttentionComposed, ropeTables, type AttentionShape } from '../../src/train/ops/attention.js';
import { Rng } from '../../src/train/rng.js';

const skip = nativeAddon() ? false : 'the native addon is not built';

type Attn = typeof causalAttention;

/** Output and the three input gradients under a random upstream gradient (so every output element matters). */
function run(f: Attn, s: AttentionShape, seed: number): Float32Array[] {
  const rng = new Rng(seed);
  const { B, T, H, KV, hd } = s;
  const q = tf.tensor2d(rng.normalArray(B * T * H * hd, 1), [B * T, H * hd]);
  const k = tf.tensor2d(rng.normalArray(B * T * KV * hd, 1), [B * T, KV * hd]);
  const v = tf.tensor2d(rng.normalArray(B * T * KV * hd, 1), [B * T, KV * hd]);
  const w = tf.tensor2d(rng.normalArray(B * T * H * hd, 1), [B * T, H * hd]);
  const r = ropeTables(T, hd, 10000);
  const out = f(q, k, v, s, r);
  const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(f(a as tf.Tensor2D, b as tf.Tensor2D, c as tf.Tensor2D, s, r), w)))([q, k, v]);
  const res = [out, ...grads].map((x) => x.dataSync() as Float32Array);
  tf.dispose([q, k, v, w, out, ...grads, r.cos, r.sin, r.mask, r.rot]);
  return res;
}

/** max |a - b| / (1e-6/1e-5 + |b|)-style check: relative 1e-5 with an absolute floor of 1e-6 per element. */
function worst(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / (1e-6 + 1e-5 * Math.abs(b[i])));
  return m;
}

t.before(async () => {
  tf.enableProdMode();
  await tf.setBackend('wasm');
  await tf.ready();
  installKernels('wasm');
});

const shapes: [number, number, number, number, number][] = [
  [2, 5, 2, 1, 4],
  [1, 7, 4, 4, 8],
  [3, 16, 4, 2, 32],
  [2, 13, 6, 3, 10],
  [2, 128, 4, 4, 32],
];

for (const [B, T, H, KV, hd] of shapes) {
  t.test(`native attention = composition: B=${B} T=${T} H=${H} KV=${KV} hd=${hd}`, { skip }, async (t) => {
    t.ok(nativeKernels('attentionForward'), 'the native path is taken');
    const s = { B, T, H, KV, hd };
    const ref = run(causalAttentionComposed, s, B * 1000 + T);
    const got = run(causalAttention, s, B * 1000 + T);
    const names = ['output', 'dq', 'dk', 'dv'];
    for (let i = 0; i < ref.length; i++) {
      t.equal(got[i].length, ref[i].length, `${names[i]} size`);
      const e = worst(got[i], ref[i]);
      t.ok(e <= 1, `${names[i]}: worst error ${e.toFixed(3)} of the tolerance`);
    }
  });
}

t.test('no tensors leak through the native path (with and without gradients)', { skip }, async (t) => {
  const s = { B: 2, T: 9, H: 2, KV: 1, hd: 6 };
  const before = tf.memory().numTensors;
  run(causalAttention, s, 5);
  t.equal(tf.memory().numTensors, before);
});

t.test('shapes that disagree with s or the tables throw (before any native code runs), and leak nothing', { skip }, async (t) => {
  const before = tf.memory().numTensors;
  const r4 = ropeTables(4, 8, 10000);
  const r6 = ropeTables(6, 8, 10000);
  const cases: [string, [number, number], [number, number], AttentionShape, typeof r4][] = [
    ['H not a multiple of KV', [4, 24], [4, 16], { B: 1, T: 4, H: 3, KV: 2, hd: 8 }, r4],
    ['q has fewer rows than B*T', [4, 16], [8, 16], { B: 2, T: 4, H: 2, KV: 2, hd: 8 }, r4],
    ['k/v narrower than KV*hd', [8, 16], [8, 8], { B: 2, T: 4, H: 2, KV: 2, hd: 8 }, r4],
    ['tables for a shorter T', [12, 16], [12, 16], { B: 2, T: 6, H: 2, KV: 2, hd: 8 }, r4],
    ['tables for a longer T', [8, 16], [8, 16], { B: 2, T: 4, H: 2, KV: 2, hd: 8 }, r6],
  ];
  for (const [name, qs, ks, s, r] of cases) {
    const q = tf.ones(qs) as tf.Tensor2D;
    const k = tf.ones(ks) as tf.Tensor2D;
    t.throws(() => tf.tidy(() => causalAttention(q, k, k, s, r)), /causalAttention: /, name);
    tf.dispose([q, k]);
  }
  tf.dispose([r4.cos, r4.sin, r4.mask, r4.rot, r6.cos, r6.sin, r6.mask, r6.rot]);
  t.equal(tf.memory().numTensors, before);
});

t.test('an empty batch (T=0) gives what the composition gives', { skip }, async (t) => {
  const s = { B: 2, T: 0, H: 2, KV: 1, hd: 4 };
  const r = ropeTables(0, 4, 10000);
  const q = tf.zeros([0, 8]) as tf.Tensor2D;
  const k = tf.zeros([0, 4]) as tf.Tensor2D;
  const ref = tf.tidy(() => causalAttentionComposed(q, k, k, s, r));
  const got = tf.tidy(() => causalAttention(q, k, k, s, r));
  t.same(got.shape, ref.shape);
  tf.dispose([ref, got, q, k, r.cos, r.sin, r.mask, r.rot]);
});
