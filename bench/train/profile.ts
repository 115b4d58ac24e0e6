// Per-kernel time of one training step of the bench model (what to optimise next).
// Usage: node dist/bench/train/profile.js [vocab=512] [backend=wasm]
import * as tf from '@tensorflow/tfjs';
import { initBackend, backendChoice } from '../../src/train/backend.js';
import { PRESETS, makeConfig } from '../../src/train/config.js';
import { LlamaModel } from '../../src/train/model.js';
import { AdamW, DEFAULT_ADAMW } from '../../src/train/optimizer.js';
import { Rng } from '../../src/util/rng.js';
import { trainStep } from '../../src/train/step.js';

const V = Number(process.argv[2] ?? 512);
const backend = await initBackend(backendChoice(process.argv[3] ?? 'wasm'));
const cfg = makeConfig({ ...PRESETS.bench, vocab_size: V });
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
const by = new Map<string, { ms: number; n: number }>();
for (const k of info.kernels) {
  const key = `${k.name} ${JSON.stringify(k.inputShapes)}`;
  const e = by.get(key) ?? { ms: 0, n: 0 };
  e.ms += Number(k.kernelTimeMs) || 0;
  e.n += 1;
  by.set(key, e);
}
const rows = [...by.entries()].sort((a, b) => b[1].ms - a[1].ms);
const total = rows.reduce((a, r) => a + r[1].ms, 0);
console.log(`step wall ${wall.toFixed(0)} ms (profiled), kernel sum ${total.toFixed(0)} ms, ${info.kernels.length} kernels`);
for (const [k, e] of rows.slice(0, 30)) console.log(`${e.ms.toFixed(1).padStart(8)} ms ${String(e.n).padStart(4)}x  ${k}`);
