// Per-kernel time of one training step (what to optimise next): bench/train's `bench` model or, with
// shape `wide`, its wide one (4 layers, d 256, 8 heads, SwiGLU 688), batch 16 x 128. Prints the time by
// kernel name with its share, the matrix products against everything else, what ran outside any tfjs
// kernel (the optimizer's in-place updates, JavaScript glue), then the 30 costliest kernel+shape rows.
// Usage: MATHPIPE_THREADS=1 node dist/bench/train/profile.js [vocab=512] [backend=wasm] [shape=bench]
import * as tf from '@tensorflow/tfjs';
import { initBackend, backendChoice } from '../../src/train/backend.js';
import { PRESETS, makeConfig } from '../../src/train/config.js';
import { LlamaModel } from '../../src/train/model.js';
import { AdamW, DEFAULT_ADAMW } from '../../src/train/optimizer.js';
import { Rng } from '../../src/util/rng.js';
import { trainStep } from '../../src/train/step.js';

const V = Number(process.argv[2] ?? 512);
const backend = await initBackend(backendChoice(process.argv[3] ?? 'wasm'));
const SHAPES: Record<string, Partial<Parameters<typeof makeConfig>[0]>> = {
  bench: {},
  wide: { hidden_size: 256, num_hidden_layers: 4, num_attention_heads: 8, num_key_value_heads: 8, intermediate_size: 688 },
};
const shape = process.argv[4] ?? 'bench';
if (!SHAPES[shape]) throw new Error(`shape must be ${Object.keys(SHAPES).join(' or ')}`);
const cfg = makeConfig({ ...PRESETS.bench, ...SHAPES[shape], vocab_size: V });
const model = LlamaModel.init(cfg, new Rng(1));
const opt = new AdamW(model.params, DEFAULT_ADAMW, backend.caps);
const rng = new Rng(2);
const B = 16;
const T = 128;
const batch = () => {
  const ids = Int32Array.from({ length: B * T }, () => rng.int(V));
  return { ids, targets: ids.map((x) => (x + 1) % V) };
};
await trainStep(model, opt, [batch()], T, 1e-3);
const t0 = performance.now();
const info = await tf.profile(async () => {
  await trainStep(model, opt, [batch()], T, 1e-3);
});
const wall = performance.now() - t0;
// tf.customGrad records its forward function as a kernel named "forward" whose time includes the
// kernels it runs (the fused Mathpipe* ones): counted once, under the inner names.
const kernels = info.kernels.filter((k) => k.name !== 'forward');
const by = new Map<string, { ms: number; n: number }>();
for (const k of kernels) {
  const key = `${k.name} ${JSON.stringify(k.inputShapes)}`;
  const e = by.get(key) ?? { ms: 0, n: 0 };
  e.ms += Number(k.kernelTimeMs) || 0;
  e.n += 1;
  by.set(key, e);
}
const rows = [...by.entries()].sort((a, b) => b[1].ms - a[1].ms);
const total = rows.reduce((a, r) => a + r[1].ms, 0);
const byName = new Map<string, number>();
for (const k of kernels) byName.set(k.name, (byName.get(k.name) ?? 0) + (Number(k.kernelTimeMs) || 0));
const isProduct = (name: string) => /MatMul/i.test(name);
const products = [...byName].filter(([n]) => isProduct(n)).reduce((a, [, ms]) => a + ms, 0);
const pct = (ms: number) => `${((100 * ms) / wall).toFixed(1).padStart(5)}%`;
console.log(`${shape} model, vocab ${V}, batch ${B} x ${T}: step wall ${wall.toFixed(0)} ms (profiled), kernel sum ${total.toFixed(0)} ms, ${kernels.length} kernels`);
console.log(`${products.toFixed(1).padStart(8)} ms ${pct(products)}  matrix products (BatchMatMul, _FusedMatMul)`);
console.log(`${(total - products).toFixed(1).padStart(8)} ms ${pct(total - products)}  every other kernel`);
console.log(`${(wall - total).toFixed(1).padStart(8)} ms ${pct(wall - total)}  outside any tfjs kernel (optimizer in-place updates, JavaScript, tfjs bookkeeping)`);
console.log('by kernel name:');
for (const [n, ms] of [...byName].sort((a, b) => b[1] - a[1])) console.log(`${ms.toFixed(1).padStart(8)} ms ${pct(ms)}  ${n}`);
console.log('costliest kernel + input shapes:');
for (const [k, e] of rows.slice(0, 30)) console.log(`${e.ms.toFixed(1).padStart(8)} ms ${String(e.n).padStart(4)}x  ${k}`);
