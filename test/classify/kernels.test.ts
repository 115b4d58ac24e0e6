// The WebAssembly SIMD kernels against plain loops (dims that are and are not multiples of 4), and the
// committed binary against its source.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers.js';
import { instantiateKernels, planMemory } from '../../src/classify/memory.js';
import { KERNELS_WASM } from '../../src/classify/wasm/kernels.js';
import { MinStd } from '../../src/classify/sgd.js';

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
    const hidden = new Float32Array(buf, L.scratch, dim);
    const grad = new Float32Array(buf, L.scratch + L.vecBytes, dim);
    for (let i = 0; i < wi.length; i++) wi[i] = rng.uniform() - 0.5;
    for (let i = 0; i < wo.length; i++) wo[i] = rng.uniform() - 0.5;
    for (let i = 0; i < ids.length; i++) ids[i] = rng.below(rows);
    const close = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).every((v, i) => Math.abs(v - b[i]) < 1e-5);

    const want = new Float32Array(dim);
    for (const r of ids) for (let j = 0; j < dim; j++) want[j] += wi[r * dim + j];
    hidden.fill(0);
    k.sum_rows(L.rows, ids.length, L.wi, dim, L.scratch);
    t.ok(close(hidden, want), `sum_rows dim ${dim}`);

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
    k.add_to_rows(L.rows, ids.length, L.wi, dim, L.scratch + L.vecBytes);
    const count = new Map<number, number>();
    for (const r of ids) count.set(r, (count.get(r) ?? 0) + 1);
    t.ok(close(wi, before.map((v, i) => v + (count.get(Math.floor(i / dim)) ?? 0))), `add_to_rows dim ${dim}`);
  }
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
