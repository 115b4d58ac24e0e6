// The training loop on tiny models: gradients against finite differences, loss falls on a fixture corpus,
// and no tensors leak from step to step.
import t from 'tap';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/train/backend.js';
import { makeConfig } from '../../src/train/config.js';
import { LlamaModel } from '../../src/train/model.js';
import { AdamW, DEFAULT_ADAMW } from '../../src/train/optimizer.js';
import { Rng } from '../../src/util/rng.js';
import { evalLoss, trainStep } from '../../src/train/step.js';
import { MixtureSampler, openSources, validationBatches } from '../../src/pretrain/data.js';
import { writeSyntheticTokens } from '../../fixtures/train/tokens.js';

const cfg = makeConfig({ vocab_size: 64, hidden_size: 32, intermediate_size: 48, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 32, tie_word_embeddings: true });

let backend: Awaited<ReturnType<typeof initBackend>>;
t.before(async () => {
  backend = await initBackend('wasm');
});

t.test('gradients match central finite differences', async (t) => {
  const small = makeConfig({ ...cfg, vocab_size: 13, hidden_size: 8, intermediate_size: 12, num_hidden_layers: 1, num_attention_heads: 2, num_key_value_heads: 1 }, { initializer_range: 0.5 });
  const model = LlamaModel.init(small, new Rng(4));
  const rng = new Rng(8);
  const B = 2;
  const T = 5;
  const ids = tf.tensor2d(Int32Array.from({ length: B * T }, () => rng.int(13)), [B, T], 'int32');
  const tg = tf.tensor2d(Int32Array.from({ length: B * T }, () => rng.int(13)), [B, T], 'int32');
  const lossValue = () => tf.tidy(() => model.loss(ids, tg).dataSync()[0]);
  const { grads, value } = tf.variableGrads(() => model.loss(ids, tg), [...model.params.values()]);
  const eps = 1e-2;
  let checked = 0;
  for (const [name, v] of model.params) {
    const g = grads[name].dataSync();
    const base = v.dataSync().slice();
    for (const i of [0, Math.floor(base.length / 2), base.length - 1]) {
      const at = (delta: number) => {
        const w = base.slice();
        w[i] += delta;
        tf.tidy(() => v.assign(tf.tensor(w, v.shape)));
        return lossValue();
      };
      const fd = (at(eps) - at(-eps)) / (2 * eps);
      tf.tidy(() => v.assign(tf.tensor(base, v.shape)));
      t.ok(Math.abs(fd - g[i]) < 2e-3 + 0.02 * Math.abs(fd), `${name}[${i}]: autodiff ${g[i].toExponential(4)} vs finite difference ${fd.toExponential(4)}`);
      checked++;
    }
  }
  t.ok(checked >= 30);
  tf.dispose([ids, tg, value, ...Object.values(grads)]);
  model.dispose();
});

t.test('loss falls on a fixture corpus, and the tensor count stays constant across steps', async (t) => {
  const prefix = join(t.testdir(), 'toks');
  writeSyntheticTokens(prefix, 20000, cfg.vocab_size, 3);
  const T = 32;
  const sources = openSources([{ weight: 1, prefix }], T);
  const sampler = new MixtureSampler(sources, T, cfg.vocab_size);
  const valid = validationBatches(sources, T, cfg.vocab_size, 4, 2);
  const model = LlamaModel.init(cfg, new Rng(1));
  const opt = new AdamW(model.params, DEFAULT_ADAMW, backend.caps);
  const rng = new Rng(2);
  const before = await evalLoss(model, valid, T);
  const counts: number[] = [];
  for (let s = 0; s < 40; s++) {
    await trainStep(model, opt, [sampler.batch(4, rng), sampler.batch(4, rng)], T, 1e-2);
    counts.push(tf.memory().numTensors);
  }
  const after = await evalLoss(model, valid, T);
  t.ok(Math.abs(before - Math.log(cfg.vocab_size)) < 0.5, `initial loss ${before} is near log(vocab)`);
  t.ok(after < before - 1.5, `validation loss fell from ${before.toFixed(3)} to ${after.toFixed(3)}`);
  t.same(new Set(counts.slice(1)).size, 1, `tensor count constant: ${[...new Set(counts)].join(', ')}`);
  opt.dispose();
  model.dispose();
  for (const s of sources) s.ds.close();
});

t.test('TokenScorer.logprobs: per-token log-probabilities of ragged sequences', async (t) => {
  const model = LlamaModel.init(cfg, new Rng(6));
  const seqs = [[1, 2, 3, 4, 5], [7, 8], [9]];
  const lp = await model.logprobs(seqs);
  t.same(lp.map((x) => x.length), [4, 1, 0]);
  for (const x of lp) for (const v of x) t.ok(v < 0 && v > -20);
  // Right padding must not change a sequence's scores (causal attention).
  const alone = await model.logprobs([[7, 8]]);
  t.ok(Math.abs(alone[0][0] - lp[1][0]) < 1e-5);
  model.dispose();
});
