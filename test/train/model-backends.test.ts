// The whole model (forward loss and every parameter gradient) computes the same on wasm, with our kernels,
// as on the stock cpu backend; and the cpu gradients match central finite differences.
import t from 'tap';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { installKernels } from '../../src/train/kernels.js';
import { Rng } from '../../src/util/rng.js';
import { makeConfig } from '../../src/train/config.js';
import { LlamaModel } from '../../src/train/model.js';
import { AdamW, DEFAULT_ADAMW } from '../../src/train/optimizer.js';
import { trainStep } from '../../src/train/step.js';
import { lossAndGrads } from './grads.js';

const cfg = makeConfig({ vocab_size: 37, hidden_size: 16, intermediate_size: 24, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 16, tie_word_embeddings: false });
const B = 3;
const T = 7;
const rng = new Rng(3);
const ids = Int32Array.from({ length: B * T }, () => rng.int(cfg.vocab_size));
const tg = Int32Array.from({ length: B * T }, () => rng.int(cfg.vocab_size));

async function onBackend(backend: string): Promise<{ loss: number; grads: Map<string, Float32Array> }> {
  await tf.setBackend(backend);
  installKernels(backend);
  return lossAndGrads(cfg, ids, tg, B, T);
}

t.test('wasm (with our kernels) matches cpu: loss and all gradients', async (t) => {
  tf.enableProdMode();
  const cpu = await onBackend('cpu');
  const wasm = await onBackend('wasm');
  t.ok(Math.abs(cpu.loss - wasm.loss) < 1e-5, `loss ${cpu.loss} vs ${wasm.loss}`);
  t.equal(wasm.grads.size, cpu.grads.size);
  for (const [name, g] of cpu.grads) {
    const w = wasm.grads.get(name)!;
    let m = 0;
    let scale = 1e-12;
    for (let i = 0; i < g.length; i++) {
      m = Math.max(m, Math.abs(g[i] - w[i]));
      scale = Math.max(scale, Math.abs(g[i]));
    }
    t.ok(m / scale < 1e-4, `${name}: max diff ${m} (scale ${scale})`);
  }
});

/** Parameters after three AdamW steps (with clipping and decay) on a backend; on wasm the native in-place update. */
async function afterSteps(backend: string): Promise<{ norms: number[]; params: Map<string, Float32Array> }> {
  await tf.setBackend(backend);
  const { blasProducts } = installKernels(backend);
  const model = LlamaModel.init({ ...cfg, initializer_range: 0.2 }, new Rng(11));
  const opt = new AdamW(model.params, { ...DEFAULT_ADAMW, clip: 0.5 }, { blasProducts });
  const norms: number[] = [];
  for (let s = 0; s < 3; s++) norms.push((await trainStep(model, opt, [{ ids, targets: tg }], T, 1e-2)).gradNorm);
  const params = new Map<string, Float32Array>();
  for (const [k, v] of model.params) params.set(k, (await v.data()) as Float32Array);
  opt.dispose();
  model.dispose();
  return { norms, params };
}

t.test('three AdamW steps give the same parameters on wasm (native optimizer when built) and cpu', async (t) => {
  const before = tf.memory().numTensors;
  const wasm = await afterSteps('wasm');
  t.equal(tf.memory().numTensors, before, 'no tensor leaks on wasm');
  const cpu = await afterSteps('cpu');
  for (let s = 0; s < 3; s++) t.ok(Math.abs(cpu.norms[s] - wasm.norms[s]) < 1e-4 * cpu.norms[s], `grad norm step ${s + 1}: ${cpu.norms[s]} vs ${wasm.norms[s]}`);
  for (const [name, p] of cpu.params) {
    const w = wasm.params.get(name)!;
    let m = 0;
    for (let i = 0; i < p.length; i++) m = Math.max(m, Math.abs(p[i] - w[i]));
    t.ok(m < 1e-4, `${name}: max diff ${m}`);
  }
});

t.test('a tensor sharing a parameter buffer is not changed by an optimizer step', async (t) => {
  await tf.setBackend('wasm');
  const { blasProducts } = installKernels('wasm');
  const model = LlamaModel.init({ ...cfg, initializer_range: 0.2 }, new Rng(11));
  const opt = new AdamW(model.params, DEFAULT_ADAMW, { blasProducts });
  const name = 'model.norm.weight';
  const held = tf.clone(model.params.get(name)!);
  const old = Array.from(await held.data());
  await trainStep(model, opt, [{ ids, targets: tg }], T, 1e-2);
  t.same(Array.from(await held.data()), old, 'the held copy keeps its values');
  t.notSame(Array.from(await model.params.get(name)!.data()), old, 'the parameter moved');
  held.dispose();
  opt.dispose();
  model.dispose();
});
