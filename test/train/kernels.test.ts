// Our kernel overrides must compute what the stock cpu backend computes.
import t from 'tap';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { installKernels } from '../../src/train/kernels.js';
import { nativeAddon } from '../../src/train/native.js';
import { Rng } from '../../src/util/rng.js';

const rng = new Rng(7);
const rand = (n: number) => rng.normalArray(n, 1);

async function on(backend: string, f: () => tf.Tensor): Promise<Float32Array> {
  await tf.setBackend(backend);
  await tf.ready();
  const r = tf.tidy(f);
  const out = (await r.data()) as Float32Array;
  r.dispose();
  return out;
}

function maxRelDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / (1 + Math.abs(b[i])));
  return m;
}

let installed: string[] = [];
t.before(async () => {
  tf.enableProdMode();
  // Reference: the stock cpu kernels (no override installed for cpu yet); then install ours on wasm.
  await tf.setBackend('wasm');
  installed = installKernels('wasm').kernels;
});

t.test('BatchMatMul runs on OpenBLAS exactly when the native addon found it', async (t) => {
  const blas = nativeAddon()?.blasInfo() ?? '';
  t.equal(installed.includes('BatchMatMul (OpenBLAS)'), blas !== '', `${installed.join(', ')}; blas "${blas}"`);
  t.equal(installed.includes('BatchMatMul'), blas === '');
});

const cases: [string, number[], number[], boolean, boolean][] = [
  ['2-D NN (stock path)', [33, 17], [17, 9], false, false],
  ['2-D NT', [33, 17], [9, 17], false, true],
  ['2-D TN', [17, 33], [17, 9], true, false],
  ['2-D TT', [17, 33], [9, 17], true, true],
  ['2-D TN, wide result (computed as (B^T A)^T)', [17, 3], [17, 20], true, false],
  ['batched A, shared B', [3, 5, 17], [17, 9], false, false],
  ['batched A, shared B, NT', [2, 3, 5, 17], [9, 17], false, true],
  ['batched both NN', [6, 5, 17], [6, 17, 9], false, false],
  ['batched A, shared B, TN', [3, 17, 5], [17, 9], true, false],
  ['shared A, batched B', [5, 17], [3, 17, 9], false, false],
  ['shared A, batched B, TT', [17, 5], [3, 9, 17], true, true],
  ['batched both NT (attention scores)', [2, 3, 8, 4], [2, 3, 8, 4], false, true],
  ['batched both TN (attention grad)', [2, 3, 8, 4], [2, 3, 8, 5], true, false],
];

for (const [name, as, bs, ta, tb] of cases) {
  t.test(`wasm BatchMatMul: ${name}`, async (t) => {
    const a = rand(as.reduce((x, y) => x * y, 1));
    const b = rand(bs.reduce((x, y) => x * y, 1));
    const f = () => tf.matMul(tf.tensor(a, as), tf.tensor(b, bs), ta, tb);
    const ref = await on('cpu', f);
    const got = await on('wasm', f);
    t.equal(got.length, ref.length);
    t.ok(maxRelDiff(got, ref) < 1e-5, `max relative difference ${maxRelDiff(got, ref)}`);
  });
}

t.test('wasm BatchMatMul: mismatched inner sizes throw as on cpu (no read past an operand)', async (t) => {
  await tf.setBackend('wasm');
  const bad: [number[], number[], boolean, boolean][] = [
    [[2, 5], [3, 4], false, true],
    [[5, 2], [4, 3], true, false],
    [[2, 2, 5], [2, 3, 4], false, true],
    [[3, 2, 5], [4, 7], false, false],
    [[2, 5], [3, 4, 7], false, false],
  ];
  for (const [as, bs, ta, tb] of bad)
    t.throws(() => tf.tidy(() => tf.matMul(tf.ones(as), tf.ones(bs), ta, tb)), /inner shapes/, `[${as}] x [${bs}] ${ta} ${tb}`);
});

t.test('wasm BatchMatMul: broadcast batch dimensions give the shape and values of cpu', async (t) => {
  const cases: [number[], number[], boolean, boolean][] = [
    [[2, 1, 2, 3], [1, 2, 4, 3], false, true],
    [[1, 1, 2, 3], [3, 3, 4], false, false],
    [[3, 2, 3], [1, 1, 3, 4], false, false],
    [[2, 3, 3, 2], [3, 3, 4], true, false],
  ];
  for (const [as, bs, ta, tb] of cases) {
    const a = rand(as.reduce((x, y) => x * y, 1));
    const b = rand(bs.reduce((x, y) => x * y, 1));
    const f = () => tf.matMul(tf.tensor(a, as), tf.tensor(b, bs), ta, tb);
    await tf.setBackend('cpu');
    const refShape = tf.tidy(() => f().shape);
    await tf.setBackend('wasm');
    const gotShape = tf.tidy(() => f().shape);
    t.same(gotShape, refShape, `[${as}] x [${bs}] shape`);
    const ref = await on('cpu', f);
    const got = await on('wasm', f);
    t.ok(got.length === ref.length && maxRelDiff(got, ref) < 1e-5, `[${as}] x [${bs}] values`);
  }
});

t.test('UnsortedSegmentSum (gather gradient) on wasm and cpu equals the stock cpu kernel', async (t) => {
  const V = 11;
  const D = 5;
  const ids = Int32Array.from({ length: 40 }, (_, i) => (i * 7) % V);
  ids[3] = 2;
  ids[4] = 2;
  const dy = rand(ids.length * D);
  const f = () => tf.unsortedSegmentSum(tf.tensor2d(dy, [ids.length, D]), tf.tensor1d(ids, 'int32'), V);
  const grad = () => tf.grad((e: tf.Tensor) => tf.sum(tf.mul(tf.gather(e, tf.tensor1d(ids, 'int32')), tf.tensor2d(dy, [ids.length, D]))))(tf.zeros([V, D]));
  const ref = await on('cpu', f);
  const refGrad = await on('cpu', grad);
  t.same(Array.from(refGrad), Array.from(ref), 'gather gradient is the segment sum');
  const wasm = await on('wasm', f);
  t.ok(maxRelDiff(wasm, ref) < 1e-6, 'wasm scatter-add');
  t.ok(maxRelDiff(await on('wasm', grad), ref) < 1e-6, 'wasm gather gradient');
  installKernels('cpu');
  t.ok(maxRelDiff(await on('cpu', f), ref) < 1e-6, 'cpu scatter-add override');
  t.ok(maxRelDiff(await on('cpu', grad), ref) < 1e-6, 'cpu gather gradient with the override');
});

const perms: [number[], number[]][] = [
  [[5, 7], [1, 0]],
  [[3, 5, 7], [0, 2, 1]],
  [[2, 3, 4, 5], [0, 2, 1, 3]],
  [[2, 3, 4, 5], [3, 1, 0, 2]],
  [[2, 1, 4, 5], [0, 3, 2, 1]],
  [[4, 1], [1, 0]],
  [[70, 45], [1, 0]],
];
for (const [shape, perm] of perms) {
  t.test(`wasm Transpose ${JSON.stringify(shape)} perm ${JSON.stringify(perm)} equals cpu`, async (t) => {
    const x = rand(shape.reduce((a, b) => a * b, 1));
    const f = () => tf.transpose(tf.tensor(x, shape), perm);
    t.same(Array.from(await on('wasm', f)), Array.from(await on('cpu', f)));
    const xi = Int32Array.from(x, (v) => Math.round(v * 100));
    const g = () => tf.cast(tf.transpose(tf.tensor(xi, shape, 'int32'), perm), 'float32');
    t.same(Array.from(await on('wasm', g)), Array.from(await on('cpu', g)), 'int32');
  });
}

t.test('wasm Identity (clone) shares the buffer and outlives the original', async (t) => {
  await tf.setBackend('wasm');
  const x = tf.tensor1d([1, 2, 3]);
  const y = tf.clone(x);
  x.dispose();
  t.same(Array.from(await y.data()), [1, 2, 3]);
  const before = tf.memory().numBytes;
  y.dispose();
  t.ok(tf.memory().numBytes < before, 'the buffer is freed with its last tensor');
});

t.test('wasm GatherV2 (rows, other axes, bad ids) equals cpu', async (t) => {
  const x = rand(7 * 3 * 5);
  const ids = [4, 0, 6, 6, 2, 1];
  const cases: [string, () => tf.Tensor][] = [
    ['rows of a 2-D table', () => tf.gather(tf.tensor2d(x.subarray(0, 7 * 15), [7, 15]), tf.tensor1d(ids, 'int32'))],
    ['rows of a 3-D table, 2-D ids', () => tf.gather(tf.tensor3d(x, [7, 3, 5]), tf.tensor2d(ids, [2, 3], 'int32'))],
    ['a 1-D vector', () => tf.gather(tf.tensor1d(x), tf.tensor1d([104, 0, 3], 'int32'))],
    ['axis 1 (stock kernel)', () => tf.gather(tf.tensor3d(x, [7, 3, 5]), tf.tensor1d([2, 0], 'int32'), 1)],
  ];
  for (const [name, f] of cases) t.same(Array.from(await on('wasm', f)), Array.from(await on('cpu', f)), name);
  if (installed.includes('GatherV2')) {
    await tf.setBackend('wasm');
    t.throws(() => tf.gather(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor1d([0, 2], 'int32')), /index 2 at position 1 is not in \[0, 1\]/);
  }
});

t.test('wasm UnsortedSegmentSum drops ids outside [0, numSegments)', async (t) => {
  const f = () => tf.unsortedSegmentSum(tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]), tf.tensor1d([1, -1, 5], 'int32'), 3);
  t.same(Array.from(await on('wasm', f)), [0, 0, 1, 2, 0, 0]);
});

t.test('wasm UnsortedSegmentSum: ids that are not a prefix of the shape of x throw (no read past x)', async (t) => {
  await tf.setBackend('wasm');
  t.throws(() => tf.tidy(() => tf.unsortedSegmentSum(tf.ones([4, 5]), tf.tensor1d([0, 1, 2, 0, 1, 2], 'int32'), 3)), /prefix/);
  t.throws(() => tf.tidy(() => tf.unsortedSegmentSum(tf.ones([2, 3, 5]), tf.tensor2d([0, 1, 2, 0], [2, 2], 'int32') as unknown as tf.Tensor1D, 3)), /prefix/);
});

t.test('wasm Add (same shape natively, broadcasting and int32 on the stock kernel) equals cpu', async (t) => {
  const x = rand(3 * 70001);
  const y = rand(3 * 70001);
  const cases: [string, () => tf.Tensor][] = [
    ['same shape, large', () => tf.add(tf.tensor2d(x, [3, 70001]), tf.tensor2d(y, [3, 70001]))],
    ['same shape, small', () => tf.add(tf.tensor1d(x.subarray(0, 5)), tf.tensor1d(y.subarray(0, 5)))],
    ['broadcast row', () => tf.add(tf.tensor2d(x.subarray(0, 12), [4, 3]), tf.tensor1d(y.subarray(0, 3)))],
    ['scalar', () => tf.add(tf.tensor2d(x.subarray(0, 12), [4, 3]), 2)],
    ['int32', () => tf.add(tf.tensor1d([1, 2, 3], 'int32'), tf.tensor1d([4, 5, 6], 'int32'))],
  ];
  for (const [name, f] of cases) t.same(Array.from(await on('wasm', f)), Array.from(await on('cpu', f)), name);
});
