// The WebAssembly SIMD kernels against plain loops (dims that are and are not multiples of 4), and the
// committed binary against its source.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers.js';
import { instantiateKernels, planMemory } from '../../src/classify/memory.js';
import { KERNELS_WASM } from '../../src/classify/wasm/kernels.js';
import { JsKernels, MinStd, WasmSimdKernels } from '../../src/classify/sgd.js';
import { fillUniform } from '../../src/classify/init.js';
import { toTrainSet } from '../../src/classify/dataset.js';

t.test('kernels compute what the JavaScript loops compute', async (t) => {
  const rng = new MinStd(9);
  for (const dim of [1, 3, 4, 7, 16, 101, 256]) {
    const rows = 50;
    const L = planMemory(rows * dim, 3 * dim, 20, dim, 1)!;
    t.ok(L, 'a shared wasm memory is available');
    const k = instantiateKernels(L.memory);
    const buf = L.memory.buffer;
    const wi = new Float32Array(buf, L.wi, rows * dim);
    const wo = new Float32Array(buf, L.wo, 3 * dim);
    const ids = new Int32Array(buf, L.rows, 20);
    const wts = new Float32Array(buf, L.weights, 20);
    const hidden = new Float32Array(buf, L.scratch, dim);
    const grad = new Float32Array(buf, L.scratch + L.vecBytes, dim);
    for (let i = 0; i < wi.length; i++) wi[i] = rng.uniform() - 0.5;
    for (let i = 0; i < wo.length; i++) wo[i] = rng.uniform() - 0.5;
    for (let i = 0; i < ids.length; i++) ids[i] = rng.below(rows);
    for (let i = 0; i < wts.length; i++) wts[i] = 1 + rng.below(3);
    const close = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).every((v, i) => Math.abs(v - b[i]) < 1e-5);

    const want = new Float32Array(dim);
    ids.forEach((r, i) => {
      for (let j = 0; j < dim; j++) want[j] += wts[i] * wi[r * dim + j];
    });
    hidden.fill(0);
    k.sum_rows_w(L.rows, L.weights, ids.length, L.wi, dim, L.scratch);
    t.ok(close(hidden, want), `sum_rows_w dim ${dim}`);

    k.scale(L.scratch, dim, 0.5);
    t.ok(close(hidden, want.map((v) => v * 0.5)), `scale dim ${dim}`);

    let dot = 0;
    for (let j = 0; j < dim; j++) dot += hidden[j] * wo[dim + j];
    t.ok(Math.abs(k.dot(L.wo + dim * 4, L.scratch, dim) - dot) < 1e-4, `dot dim ${dim}`);

    const g0 = Float32Array.from(grad);
    const w0 = Float32Array.from(wo.subarray(2 * dim, 3 * dim));
    k.step(L.wo + 2 * dim * 4, L.scratch, L.scratch + L.vecBytes, 0.25, dim);
    t.ok(close(grad, g0.map((v, j) => v + 0.25 * w0[j])), `step grad dim ${dim}`);
    t.ok(close(wo.subarray(2 * dim), w0.map((v, j) => v + 0.25 * hidden[j])), `step wo dim ${dim}`);

    const before = Float32Array.from(wi);
    grad.fill(1);
    k.add_to_rows_w(L.rows, L.weights, ids.length, L.wi, dim, L.scratch + L.vecBytes);
    const count = new Map<number, number>();
    ids.forEach((r, i) => count.set(r, (count.get(r) ?? 0) + wts[i]));
    t.ok(close(wi, before.map((v, i) => v + (count.get(Math.floor(i / dim)) ?? 0))), `add_to_rows_w dim ${dim}`);

    for (const [first, n] of [
      [0, dim],
      [4294967290, 5],
      [123457, 37],
    ]) {
      const got = new Float32Array(buf, L.wi, n);
      k.fill_uniform(L.wi, n, first, 0x9e3779b9 | 0, 1 / dim);
      const want = new Float32Array(n);
      fillUniform(want, first, 0x9e3779b9 | 0, 1 / dim);
      t.same(Array.from(got), Array.from(want), `fill_uniform = fillUniform bit for bit (first ${first}, ${n})`);
      t.ok(Array.from(got).every((v) => v >= -1 / dim && v < 1 / dim), 'fill_uniform stays in [-1/dim, 1/dim)');
    }
  }
});

t.test('the SIMD and the plain SGD kernels take the same steps on the same weighted rows', async (t) => {
  const rng = new MinStd(3);
  const dim = 7;
  const nrows = 30;
  // two examples with repeated rows, compacted as training reads them
  const full = Int32Array.from([1, 5, 1, 1, 9, 5, 29, 0, 0, 3]);
  const data = { n: 2, rowStart: Int32Array.from([0, 6, 10]), rows: full, labelStart: Int32Array.from([0, 1, 2]), labels: Int32Array.from([0, 1]), ntok: Int32Array.from([7, 5]) };
  const L = planMemory(nrows * dim, 2 * dim, full.length, dim, 1)!;
  const buf = L.memory.buffer;
  const set = toTrainSet(data, new Int32Array(buf, L.rows, full.length), new Float32Array(buf, L.weights, full.length));
  t.same(Array.from(set.rows), [1, 5, 9, 29, 0, 3], 'distinct rows in first-seen order');
  t.same(Array.from(set.weights), [3, 2, 1, 1, 2, 1], 'weighted by repeats');
  t.same(Array.from(set.nrows), [6, 4], 'the mean is over every occurrence');
  const wi = new Float32Array(buf, L.wi, nrows * dim);
  const wo = new Float32Array(buf, L.wo, 2 * dim);
  for (let i = 0; i < wi.length; i++) wi[i] = rng.uniform() - 0.5;
  for (let i = 0; i < wo.length; i++) wo[i] = rng.uniform() - 0.5;
  const js = { wi: Float32Array.from(wi), wo: Float32Array.from(wo) };
  const simd = new WasmSimdKernels(instantiateKernels(L.memory), { wi: L.wi, wo: L.wo, rows: L.rows, weights: L.weights, hidden: L.scratch, vecBytes: L.vecBytes }, dim, buf);
  const plain = new JsKernels({ dim, wi: js.wi, wo: js.wo, rows: set.rows, weights: set.weights });
  // reference: the mean of every occurrence, as fastText computes it
  const want = new Float32Array(dim);
  for (let i = 0; i < 6; i++) for (let j = 0; j < dim; j++) want[j] += wi[full[i] * dim + j] / 6;
  for (const k of [simd, plain]) {
    k.forward(0, 3, 1 / 6);
    t.ok(Array.from(k.hidden).every((v, j) => Math.abs(v - want[j]) < 1e-5), 'forward = mean of all occurrences');
    const a = k.dotOut(1);
    k.step(1, 0.5 * a);
    k.backward(0, 3, 1 / 6);
  }
  t.ok(Array.from(wi).every((v, i) => Math.abs(v - js.wi[i]) < 1e-5), 'same input rows after backward');
  t.ok(Array.from(wo).every((v, i) => Math.abs(v - js.wo[i]) < 1e-5), 'same output rows after step');
});

t.test('kernels.ts is the compiled kernels.wat', async (t) => {
  let wabtInit: (() => Promise<{ parseWat: (f: string, s: string, o: object) => { toBinary: (o: object) => { buffer: Uint8Array } } }>) | undefined;
  try {
    wabtInit = (await import('wabt')).default as unknown as typeof wabtInit;
  } catch {
    t.comment('wabt (dev dependency) not installed: not checked');
    return;
  }
  const wabt = await wabtInit!();
  const src = readFileSync(join(ROOT, 'src', 'classify', 'wasm', 'kernels.wat'), 'utf8');
  const { buffer } = wabt.parseWat('kernels.wat', src, { simd: true, threads: true }).toBinary({});
  t.equal(Buffer.from(buffer).toString('base64'), KERNELS_WASM, 'run node src/classify/wasm/build.mjs after editing kernels.wat');
});
