// The multi-threaded wasm backend (tfjs-internals.ts): it really starts with the wanted thread count, computes the
// same as the stock cpu backend (matmuls big enough for XNNPACK to split across threads, and a whole model's
// loss and gradients), and MATHPIPE_THREADS is validated.
import t from 'tap';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend, wantedThreads } from '../../src/train/backend.js';
import { installKernels } from '../../src/train/kernels.js';
import { makeConfig } from '../../src/train/config.js';
import { Rng } from '../../src/util/rng.js';
import { MAX_WASM_THREADS } from '../../src/train/tfjs-internals.js';
import { UsageError } from '../../src/cli/errors.js';
import { runCli } from '../helpers.js';
import { writeSyntheticTokens } from '../../fixtures/train/tokens.js';
import { lossAndGrads } from './grads.js';

function maxRelDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  let scale = 1e-12;
  for (let i = 0; i < a.length; i++) {
    m = Math.max(m, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(a[i]));
  }
  return m / scale;
}

t.test('MATHPIPE_THREADS parsing', async (t) => {
  t.equal(wantedThreads('1'), 1);
  t.equal(wantedThreads('3'), 3);
  t.equal(wantedThreads('99'), MAX_WASM_THREADS, 'capped at the pre-created pthread pool');
  const cores = Math.min(availableParallelism(), MAX_WASM_THREADS);
  t.equal(wantedThreads(undefined), cores, 'unset: every core, at most the pool');
  t.equal(wantedThreads(''), cores, 'empty means unset');
  for (const bad of ['0', '-2', '1.5', 'two']) t.throws(() => wantedThreads(bad), UsageError, bad);
});

t.test('threaded wasm matches cpu', async (t) => {
  process.env.MATHPIPE_THREADS = '2';
  const info = await initBackend('wasm');
  t.equal(info.name, 'wasm');
  t.match(info.detail, /, 2 threads$/, info.detail);

  const rng = new Rng(5);
  const shapes: [number, number, number][] = [[512, 256, 384], [300, 129, 77]];
  const inputs = shapes.map(([m, k, n]) => ({ a: rng.normalArray(m * k, 1), b: rng.normalArray(k * n, 1), m, k, n }));
  const products = async () => {
    const out: Float32Array[] = [];
    for (const { a, b, m, k, n } of inputs) {
      const p = tf.tidy(() => tf.matMul(tf.tensor2d(a, [m, k]), tf.tensor2d(b, [k, n])));
      out.push((await p.data()) as Float32Array);
      p.dispose();
    }
    return out;
  };

  const cfg = makeConfig({ vocab_size: 300, hidden_size: 64, intermediate_size: 96, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 64, tie_word_embeddings: false });
  const B = 4;
  const T = 48;
  const ids = Int32Array.from({ length: B * T }, () => rng.int(cfg.vocab_size));
  const tg = Int32Array.from({ length: B * T }, () => rng.int(cfg.vocab_size));
  const wasmProducts = await products();
  const wasm = await lossAndGrads(cfg, ids, tg, B, T);
  await tf.setBackend('cpu');
  installKernels('cpu');
  const cpuProducts = await products();
  const cpu = await lossAndGrads(cfg, ids, tg, B, T);
  await tf.setBackend('wasm');

  cpuProducts.forEach((p, i) => t.ok(maxRelDiff(p, wasmProducts[i]) < 1e-5, `matmul ${JSON.stringify(shapes[i])}`));
  t.ok(Math.abs(cpu.loss - wasm.loss) < 1e-5, `loss ${cpu.loss} vs ${wasm.loss}`);
  t.equal(wasm.grads.size, cpu.grads.size);
  for (const [name, g] of cpu.grads) t.ok(maxRelDiff(g, wasm.grads.get(name)!) < 1e-4, name);
});

t.test('pretrain reports its threads and rejects a bad MATHPIPE_THREADS', async (t) => {
  const dir = t.testdir();
  const data = join(dir, 'tok');
  writeSyntheticTokens(data, 5000, 258, 1);
  const args = ['pretrain', '--data', data, '--model', 'tiny', '--seq-len', '16', '--batch-size', '2', '--steps', '1', '--backend', 'wasm'];
  const one = await runCli([...args, '-o', join(dir, 'a')], { env: { MATHPIPE_THREADS: '1' } });
  t.equal(one.code, 0, one.stderr);
  t.match(one.stderr, /backend wasm \(.*, 1 thread\)/);
  const two = await runCli([...args, '-o', join(dir, 'b')], { env: { MATHPIPE_THREADS: '2' } });
  t.equal(two.code, 0, two.stderr);
  t.match(two.stderr, /backend wasm \(.*, 2 threads\)/);
  const bad = await runCli([...args, '-o', join(dir, 'c')], { env: { MATHPIPE_THREADS: 'many' } });
  t.equal(bad.code, 2);
  t.match(bad.stderr, /MATHPIPE_THREADS must be a positive integer, got "many"/);
});
