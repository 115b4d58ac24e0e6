// `--backend auto` picks by evidence: wasm + native kernels on a CPU (also where the CPU build of
// libtensorflow is installed), tensorflow only as the GPU build with a CUDA device; the choice is explained.
import t from 'tap';
import { autoChoice } from '../../src/train/backend.js';
import { join } from 'node:path';
import { runCli } from '../helpers.js';
import { writeSyntheticTokens } from '../../fixtures/train/tokens.js';

t.test('the policy', async (t) => {
  t.equal(autoChoice(undefined, false).backend, 'wasm');
  t.equal(autoChoice(undefined, true).backend, 'wasm', 'a GPU without libtensorflow: the CPU engine');
  t.equal(autoChoice('@tensorflow/tfjs-node', true).backend, 'wasm', 'the CPU build of libtensorflow is never chosen by auto');
  t.match(autoChoice('@tensorflow/tfjs-node', false).why, /used only with --backend tensorflow/);
  t.equal(autoChoice('@tensorflow/tfjs-node-gpu', false).backend, 'wasm', 'the GPU build without a device');
  t.match(autoChoice('@tensorflow/tfjs-node-gpu', false).why, /no CUDA device is visible/);
  t.same(autoChoice('@tensorflow/tfjs-node-gpu', true).backend, 'tensorflow');
});

t.test('commands say which engine runs and why; an unavailable backend asked by name is a usage error', async (t) => {
  const r = await runCli(['eval', 'loss', '-m', '/nonexistent', '--data', 'x']);
  t.equal(r.code, 2, 'no checkpoint: usage error before any backend starts');
  const dir = t.testdir();
  writeSyntheticTokens(join(dir, 'a'), 2000, 300, 1);
  const auto = await runCli(['pretrain', '--data', join(dir, 'a'), '-o', join(dir, 'ck'), '--steps', '1', '--seq-len', '16', '--batch-size', '2', '--vocab-size', '320'], { env: { MATHPIPE_BACKEND: 'auto' } });
  t.equal(auto.code, 0, auto.stderr);
  t.match(auto.stderr, /backend wasm \(.*\); auto: .*the CPU engine is wasm \+ native kernels/, 'says what auto chose and why');
  const tf = await runCli(['pretrain', '--data', join(dir, 'a'), '-o', join(dir, 'ck2'), '--backend', 'tensorflow']);
  if (tf.code === 0) return t.pass('tfjs-node is installed here: nothing to refuse');
  t.equal(tf.code, 2);
  t.match(tf.stderr, /backend "tensorflow" needs @tensorflow\/tfjs-node-gpu .*npm install @tensorflow\/tfjs-node-gpu@4\.22\.0/);
});
