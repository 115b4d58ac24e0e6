// The decoding step's native kernels (native/decode.cc): decodeMatmul against a float64 product, and the same
// bits for a row whatever the other rows, its place among them and the thread count (what batch invariance
// rests on); RMSNorm and SwiGLU on small and large calls; bad arguments refused. Then the generator on a
// model large enough for the threaded paths: the same bits at batch 1, 7 and 32, and on one thread.
import t from 'tap';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/train/backend.js';
import { makeConfig } from '../../src/train/config.js';
import { LlamaModel } from '../../src/train/model.js';
import { nativeWith } from '../../src/train/native.js';
import { wantedThreads } from '../../src/train/backend.js';
import { Rng } from '../../src/util/rng.js';
import { Generator, type GeneratedSample } from '../../src/sample/generator.js';
import { BlasDecoder } from '../../src/sample/blas-decode.js';
import { NEUTRAL } from '../../src/sample/sampling.js';

type F32 = Float32Array;
interface Kernels {
  setThreads(n: number): void;
  decodeMatmul(a: F32, w: F32, c: F32, M: number, N: number, K: number, transW: boolean): void;
  rmsNormForward(x: F32, w: F32, y: F32, rstd: F32, rows: number, D: number, eps: number): void;
  swigluForward(g: F32, u: F32, y: F32, n: number): void;
}

t.before(async () => {
  await initBackend('wasm');
});

const k = nativeWith<Kernels>('decodeMatmul', 'rmsNormForward', 'swigluForward');
const skip = !k && 'the native decode kernels are not built here';

/** c = a x w in float64 (w [K, N], or [N, K] when trans). */
function reference(a: F32, w: F32, M: number, N: number, K: number, trans: boolean): Float64Array {
  const c = new Float64Array(M * N);
  for (let m = 0; m < M; m++)
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let q = 0; q < K; q++) s += a[m * K + q] * (trans ? w[n * K + q] : w[q * N + n]);
      c[m * N + n] = s;
    }
  return c;
}

// Shapes with every tail: rows not a multiple of 4, columns not a multiple of the tile or a vector, K past the
// 256-row blocks and not a multiple of a vector; the last three large enough for the threaded path, the last one
// for packed panels (weights of more than 2^20 floats, several row tiles).
const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [3, 17, 5],
  [5, 100, 70],
  [6, 130, 300],
  [37, 700, 300],
  [33, 520, 130],
  [13, 1100, 1000],
];

t.test('decodeMatmul equals a float64 product to float32 rounding', { skip }, async (t) => {
  const rng = new Rng(1);
  for (const trans of [false, true])
    for (const [M, N, K] of SHAPES) {
      const a = rng.normalArray(M * K, 1);
      const w = rng.normalArray(N * K, 1);
      const c = new Float32Array(M * N);
      k!.decodeMatmul(a, w, c, M, N, K, trans);
      const want = reference(a, w, M, N, K, trans);
      let worst = 0;
      for (let i = 0; i < c.length; i++) worst = Math.max(worst, Math.abs(c[i] - want[i]) / Math.sqrt(K));
      t.ok(worst < 1e-5, `${trans ? 'transposed ' : ''}${M}x${K} by ${K}x${N}: max error / sqrt(K) ${worst.toExponential(2)}`);
    }
});

t.test('decodeMatmul: a row\'s bits do not depend on the other rows, its place or the thread count', { skip }, async (t) => {
  const rng = new Rng(2);
  const threads = wantedThreads();
  t.teardown(() => k!.setThreads(threads));
  for (const trans of [false, true])
    for (const [M, N, K] of SHAPES.filter(([M]) => M > 4)) {
      const a = rng.normalArray(M * K, 1);
      const w = rng.normalArray(N * K, 1);
      const run = (rows: F32, m: number, n: number) => {
        const c = new Float32Array(m * N);
        k!.setThreads(n);
        k!.decodeMatmul(rows, w, c, m, N, K, trans);
        return c;
      };
      const all = run(a, M, 2);
      // The rows rotated by 3, on one thread; and each row alone.
      const rot = new Float32Array(M * K);
      for (let m = 0; m < M; m++) rot.set(a.subarray(m * K, (m + 1) * K), ((m + 3) % M) * K);
      const rotated = run(rot, M, 1);
      let same = true;
      for (let m = 0; m < M; m++) {
        const row = all.subarray(m * N, (m + 1) * N);
        const alone = run(a.slice(m * K, (m + 1) * K), 1, 1);
        const moved = rotated.subarray(((m + 3) % M) * N, (((m + 3) % M) + 1) * N);
        same &&= row.every((x, j) => x === alone[j] && x === moved[j]);
      }
      t.ok(same, `${trans ? 'transposed ' : ''}${M}x${K} by ${K}x${N}: every row the same bits alone, rotated, on 1 and 2 threads`);
    }
});

t.test('RMSNorm and SwiGLU (the trainer\'s kernels) on a step\'s few rows, serial, and on many, threaded', { skip }, async (t) => {
  const rng = new Rng(3);
  for (const [rows, D] of [[1, 128], [32, 256], [300, 1000]]) {
    const x = rng.normalArray(rows * D, 1);
    const w = rng.normalArray(D, 1);
    const y = new Float32Array(rows * D);
    k!.rmsNormForward(x, w, y, new Float32Array(rows), rows, D, 1e-6);
    let worst = 0;
    for (let r = 0; r < rows; r++) {
      let ss = 0;
      for (let j = 0; j < D; j++) ss += x[r * D + j] ** 2;
      const rstd = 1 / Math.sqrt(ss / D + 1e-6);
      for (let j = 0; j < D; j++) worst = Math.max(worst, Math.abs(y[r * D + j] - x[r * D + j] * rstd * w[j]));
    }
    t.ok(worst <= 1e-5, `RMSNorm ${rows}x${D}: max error ${worst.toExponential(2)}`);
  }
  for (const n of [7, 11264, 300000]) {
    const g = rng.normalArray(n, 3);
    const u = rng.normalArray(n, 1);
    const y = new Float32Array(n);
    k!.swigluForward(g, u, y, n);
    let worst = 0;
    y.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - (g[i] / (1 + Math.exp(-g[i]))) * u[i]))));
    t.ok(worst <= 1e-5, `SwiGLU ${n}: max error ${worst.toExponential(2)}`);
  }
});

t.test('the decode kernels refuse arrays that do not fit', { skip }, async (t) => {
  const f = (n: number) => new Float32Array(n);
  t.throws(() => k!.decodeMatmul(f(2), f(6), f(2), 1, 2, 3, false), /do not fit/, 'a shorter than M x K');
  t.throws(() => k!.decodeMatmul(f(6), f(5), f(4), 2, 2, 3, false), /do not fit/, 'w shorter than K x N');
  t.throws(() => k!.decodeMatmul(f(6), f(6), f(3), 2, 2, 3, true), /do not fit/, 'c shorter than M x N');
  t.throws(() => k!.decodeMatmul(f(6), new Int32Array(6) as unknown as F32, f(4), 2, 2, 3, false), /Float32Array/);
});

t.test('the generator gives the same bits at batch 1, 7 and 32 with threaded kernels, and on one thread', { skip }, async (t) => {
  // Products of 32 rows here (32 x 256 x 688 multiply-adds and more) take the threaded path; one row does not.
  const cfg = makeConfig(
    { vocab_size: 512, hidden_size: 256, intermediate_size: 688, num_hidden_layers: 2, num_attention_heads: 8, num_key_value_heads: 4, max_position_embeddings: 80, tie_word_embeddings: false },
    { initializer_range: 0.1 },
  );
  const model = LlamaModel.init(cfg, new Rng(5));
  t.teardown(() => model.dispose());
  t.ok(BlasDecoder.for(model), 'the direct decoder runs');
  const r = new Rng(6);
  const reqs = Array.from({ length: 12 }, (_, i) => ({
    prompt: Array.from({ length: 1 + ((i * 23) % 60) }, () => r.int(512)),
    params: { ...NEUTRAL, temperature: i % 3 ? 1 : 0, n: 3, maxTokens: 6 + (i % 7), seed: i },
    stream: i,
  }));
  const run = async (B: number) => {
    const g = new Generator(model, { batchSize: B, tokenBytes: () => new Uint8Array(0) });
    t.equal(g.rowGroup, 0, 'no row groups');
    const out: GeneratedSample[][] = [];
    for await (const x of g.generate(reqs)) out.push(x.samples);
    return out;
  };
  const one = await run(1);
  t.same(await run(7), one, 'batch 7');
  t.same(await run(32), one, 'batch 32');
  // Prefill (prompts up to 60 tokens: threaded products and attention) and decoding on one thread: the same bits.
  const threads = wantedThreads();
  k!.setThreads(1);
  try {
    t.same(await run(32), one, 'batch 32 on one thread');
  } finally {
    k!.setThreads(threads);
  }
});

t.test('the direct decoder follows weights updated between generations and a grown wasm heap', { skip }, async (t) => {
  const cfg = makeConfig(
    { vocab_size: 64, hidden_size: 32, intermediate_size: 48, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 40, tie_word_embeddings: false },
    { initializer_range: 0.3 },
  );
  const model = LlamaModel.init(cfg, new Rng(7));
  t.teardown(() => model.dispose());
  const g = new Generator(model, { batchSize: 2, tokenBytes: () => new Uint8Array(0) });
  const req = { prompt: [1, 2, 3], params: { ...NEUTRAL, n: 2, maxTokens: 8, seed: 3 } };
  const before = await g.submit(req);
  // A large allocation grows the wasm heap (views taken before may be detached); the same generator goes on.
  const big = tf.zeros([1 << 25]);
  big.dataSync();
  t.same(await g.submit(req), before, 'the same samples after the heap grew');
  big.dispose();
  // The trainer updates weights in place (Variable.assign): a zero head gives uniform log-probs.
  const head = model.params.get('lm_head.weight')!;
  const saved = head.clone();
  head.assign(tf.zerosLike(head));
  const flat = await g.submit(req);
  for (const s of flat) for (const l of s.logprobs) t.ok(Math.abs(l + Math.log(64)) < 1e-6, `uniform: ${l}`);
  head.assign(saved);
  saved.dispose();
  t.same(await g.submit(req), before, 'the original samples with the weights restored');
});
