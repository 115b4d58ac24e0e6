// The one version check in front of tfjs's internals (tfjs-internals.ts): another tfjs release turns every patch
// off (kernel overrides, native kernels, in-place updates, threads) with exactly one warning, and the stock
// backend still trains. The install is simulated: recheckVersions answers with made-up versions.
import t from 'tap';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/train/backend.js';
import { TFJS_VERSION, installedVersions, recheckVersions, versionMismatch } from '../../src/train/tfjs-internals.js';
import { nativeAddon } from '../../src/train/native.js';
import { nativeKernels } from '../../src/train/ops/native-kernel.js';

const ALL = (v: string) => ({ '@tensorflow/tfjs-core': v, '@tensorflow/tfjs-backend-cpu': v, '@tensorflow/tfjs-backend-wasm': v });

t.test('the installed release is the pinned one', async (t) => {
  t.same(installedVersions(), ALL(TFJS_VERSION), 'package.json pins it exactly and npm installed it');
  t.equal(versionMismatch(ALL(TFJS_VERSION)), undefined);
});

t.test('a mismatch names each package that differs and what to do', async (t) => {
  const m = versionMismatch({ ...ALL(TFJS_VERSION), '@tensorflow/tfjs-backend-wasm': '4.22.1' });
  t.match(m, /^@tensorflow\/tfjs-backend-wasm 4\.22\.1 installed, but .* written for 4\.22\.0: .*threads are off/);
  t.notMatch(m, /tfjs-core/, 'packages that match are not named');
  t.match(versionMismatch({}), /tfjs-core \(missing\)/);
});

t.test('simulated mismatch: patches off, one warning, the stock wasm backend still trains', async (t) => {
  recheckVersions(() => ALL('4.23.0'));
  process.env.MATHPIPE_THREADS = '2';
  const said: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((s: string | Uint8Array) => (said.push(String(s)), true)) as typeof process.stderr.write;
  let info;
  try {
    info = await initBackend('wasm');
    nativeAddon();
    nativeKernels('adamw');
  } finally {
    process.stderr.write = write;
  }
  t.equal(info.name, 'wasm');
  t.match(info.detail, /, 1 thread$/, 'threads off');
  t.same(info.kernels, ['UnsortedSegmentSum'], 'no overrides: only the kernel wasm lacks');
  t.equal(info.native, undefined, 'native kernels off');
  t.equal(info.caps.blasProducts, false, 'no in-place updates');
  t.equal(nativeAddon(), undefined);
  const warnings = said.join('').split('\n').filter((l) => l.includes('warning:'));
  t.equal(warnings.length, 1, `one warning for every consumer: ${JSON.stringify(warnings)}`);
  t.match(warnings[0], /@tensorflow\/tfjs-core 4\.23\.0, .* installed, but mathpipe's tfjs patches are written for 4\.22\.0/);
  // The gradient of a gather is an UnsortedSegmentSum: embeddings still train.
  const g = tf.tidy(() => tf.grad((x: tf.Tensor) => tf.gather(x, tf.tensor1d([0, 2, 0], 'int32')).sum())(tf.ones([3, 2])));
  t.same(Array.from(await g.data()), [2, 2, 0, 0, 1, 1]);
  g.dispose();
});
