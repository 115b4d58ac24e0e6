// The native fused attention (native/attention.cc) computes what the tfjs composition computes, forward and
// gradients w.r.t. the pre-RoPE q/k/v projections, including grouped-query heads and awkward sizes; packed rows
// (segments) attend within each example only, on both paths, and bad segments are refused before anything runs.
import t from 'tap';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { installKernels } from '../../src/train/kernels.js';
import { nativeAddon } from '../../src/train/native.js';
import { nativeKernels } from '../../src/train/ops/native-kernel.js';
import { causalAttention, causalAttentionComposed, ropeTables, segmentStarts, type AttentionShape, type Segments } from '../../src/train/ops/attention.js';
import { Rng } from '../../src/util/rng.js';

const skip = nativeAddon() ? false : 'the native addon is not built';

type Attn = typeof causalAttention;

/** Random q, k, v and an upstream gradient w for shape s: [q, k, v, w] as [B*T, heads*hd] row-major arrays. */
function inputs(s: AttentionShape, seed: number): Float32Array[] {
  const rng = new Rng(seed);
  const { B, T, H, KV, hd } = s;
  return [H, KV, KV, H].map((n) => rng.normalArray(B * T * n * hd, 1));
}

/** Output and the three input gradients of sum(f(q, k, v) * w) (so every output element matters). */
function runOn(f: Attn, s: AttentionShape, [qa, ka, va, wa]: Float32Array[], segments?: Segments): Float32Array[] {
  const { B, T, H, KV, hd } = s;
  const q = tf.tensor2d(qa, [B * T, H * hd]);
  const k = tf.tensor2d(ka, [B * T, KV * hd]);
  const v = tf.tensor2d(va, [B * T, KV * hd]);
  const w = tf.tensor2d(wa, [B * T, H * hd]);
  const r = ropeTables(T, hd, 10000);
  const out = f(q, k, v, s, r, segments);
  const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(f(a as tf.Tensor2D, b as tf.Tensor2D, c as tf.Tensor2D, s, r, segments), w)))([q, k, v]);
  const res = [out, ...grads].map((x) => x.dataSync() as Float32Array);
  tf.dispose([q, k, v, w, out, ...grads, r.cos, r.sin, r.mask, r.rot]);
  return res;
}

const run = (f: Attn, s: AttentionShape, seed: number, segments?: Segments) => runOn(f, s, inputs(s, seed), segments);

/** max |a - b| / (1e-6/1e-5 + |b|)-style check: relative 1e-5 with an absolute floor of 1e-6 per element. */
function worst(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / (1e-6 + 1e-5 * Math.abs(b[i])));
  return m;
}

t.before(async () => {
  tf.enableProdMode();
  await tf.setBackend('wasm');
  await tf.ready();
  installKernels('wasm');
});

const shapes: [number, number, number, number, number][] = [
  [2, 5, 2, 1, 4],
  [1, 7, 4, 4, 8],
  [3, 16, 4, 2, 32],
  [2, 13, 6, 3, 10],
  [2, 128, 4, 4, 32],
];

for (const [B, T, H, KV, hd] of shapes) {
  t.test(`native attention = composition: B=${B} T=${T} H=${H} KV=${KV} hd=${hd}`, { skip }, async (t) => {
    t.ok(nativeKernels('attentionForward'), 'the native path is taken');
    const s = { B, T, H, KV, hd };
    const ref = run(causalAttentionComposed, s, B * 1000 + T);
    const got = run(causalAttention, s, B * 1000 + T);
    const names = ['output', 'dq', 'dk', 'dv'];
    for (let i = 0; i < ref.length; i++) {
      t.equal(got[i].length, ref[i].length, `${names[i]} size`);
      const e = worst(got[i], ref[i]);
      t.ok(e <= 1, `${names[i]}: worst error ${e.toFixed(3)} of the tolerance`);
    }
  });
}

t.test('no tensors leak through the native path (with and without gradients)', { skip }, async (t) => {
  const s = { B: 2, T: 9, H: 2, KV: 1, hd: 6 };
  const before = tf.memory().numTensors;
  run(causalAttention, s, 5);
  t.equal(tf.memory().numTensors, before);
});

t.test('shapes that disagree with s or the tables throw (before any native code runs), and leak nothing', { skip }, async (t) => {
  const before = tf.memory().numTensors;
  const r4 = ropeTables(4, 8, 10000);
  const r6 = ropeTables(6, 8, 10000);
  const cases: [string, [number, number], [number, number], AttentionShape, typeof r4][] = [
    ['H not a multiple of KV', [4, 24], [4, 16], { B: 1, T: 4, H: 3, KV: 2, hd: 8 }, r4],
    ['q has fewer rows than B*T', [4, 16], [8, 16], { B: 2, T: 4, H: 2, KV: 2, hd: 8 }, r4],
    ['k/v narrower than KV*hd', [8, 16], [8, 8], { B: 2, T: 4, H: 2, KV: 2, hd: 8 }, r4],
    ['tables for a shorter T', [12, 16], [12, 16], { B: 2, T: 6, H: 2, KV: 2, hd: 8 }, r4],
    ['tables for a longer T', [8, 16], [8, 16], { B: 2, T: 4, H: 2, KV: 2, hd: 8 }, r6],
  ];
  for (const [name, qs, ks, s, r] of cases) {
    const q = tf.ones(qs) as tf.Tensor2D;
    const k = tf.ones(ks) as tf.Tensor2D;
    t.throws(() => tf.tidy(() => causalAttention(q, k, k, s, r)), /causalAttention: /, name);
    tf.dispose([q, k]);
  }
  tf.dispose([r4.cos, r4.sin, r4.mask, r4.rot, r6.cos, r6.sin, r6.mask, r6.rot]);
  t.equal(tf.memory().numTensors, before);
});

t.test('an empty batch (T=0) gives what the composition gives', { skip }, async (t) => {
  const s = { B: 2, T: 0, H: 2, KV: 1, hd: 4 };
  const r = ropeTables(0, 4, 10000);
  const q = tf.zeros([0, 8]) as tf.Tensor2D;
  const k = tf.zeros([0, 4]) as tf.Tensor2D;
  const ref = tf.tidy(() => causalAttentionComposed(q, k, k, s, r));
  const got = tf.tidy(() => causalAttention(q, k, k, s, r));
  t.same(got.shape, ref.shape);
  tf.dispose([ref, got, q, k, r.cos, r.sin, r.mask, r.rot]);
});

// ---- Packing (segments) ----

/** Random packings of B rows of T: examples of 1..maxLen tokens, sometimes a padding tail. */
function randomLengths(B: number, T: number, maxLen: number, seed: number): number[][] {
  const rng = new Rng(seed);
  return Array.from({ length: B }, () => {
    const row: number[] = [];
    let left = T - (rng.int(3) === 0 ? rng.int(Math.max(1, T >> 2)) : 0);
    while (left > 0) {
      const n = Math.min(left, 1 + rng.int(maxLen));
      row.push(n);
      left -= n;
    }
    return row;
  });
}

const names = ['output', 'dq', 'dk', 'dv'];

t.test('segmentStarts: examples packed from 0, the rest of a row one padding segment', async (t) => {
  t.same([...segmentStarts([[3, 2], [5], [6], []], 6)], [0, 0, 0, 3, 3, 5, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  t.same([...segmentStarts([[1, 0, 1, 1]], 3)], [0, 1, 2], 'zero lengths add nothing');
  t.same([...segmentStarts([], 4)], []);
  t.throws(() => segmentStarts([[4, 3]], 6), /segmentStarts: row 0's lengths \[4,3\] add up to more than T = 6/);
  t.throws(() => segmentStarts([[2], [-1]], 6), /segmentStarts: row 1 has a length -1/);
  t.throws(() => segmentStarts([[1.5]], 6), /segmentStarts: row 0 has a length 1.5/);
  t.throws(() => segmentStarts([[1]], -1), /segmentStarts: T must be/);
});

const packedShapes: [number, number, number, number, number, number][] = [
  // B, T, H, KV, hd, longest example
  [2, 5, 2, 1, 4, 3],
  [3, 37, 4, 2, 16, 12], // T not a multiple of 16 or 4, GQA, hd 16
  [2, 21, 2, 1, 6, 7], // the generic head-size path (hd 6)
  [2, 13, 6, 3, 10, 5],
  [2, 70, 4, 2, 32, 30], // segments across and inside lane blocks
  [1, 100, 2, 2, 64, 40],
];

for (const [B, T, H, KV, hd, maxLen] of packedShapes) {
  t.test(`packed: native attention = composition: B=${B} T=${T} H=${H} KV=${KV} hd=${hd}`, { skip }, async (t) => {
    t.ok(nativeKernels('attentionSegments'), 'the native path is taken');
    const s = { B, T, H, KV, hd };
    const seg = segmentStarts(randomLengths(B, T, maxLen, T + hd), T);
    const x = inputs(s, B * 1000 + T);
    const ref = runOn(causalAttentionComposed, s, x, seg);
    const got = runOn(causalAttention, s, x, seg);
    for (let i = 0; i < ref.length; i++) {
      t.equal(got[i].length, ref[i].length, `${names[i]} size`);
      const e = worst(got[i], ref[i]);
      t.ok(e <= 1, `${names[i]}: worst error ${e.toFixed(3)} of the tolerance`);
    }
  });
}

/** Rows [from, from + n) of a [rows, width] array. */
const rowsOf = (a: Float32Array, width: number, from: number, n: number) => a.slice(from * width, (from + n) * width);

function maxAbs(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

for (const [path, f] of [['native', causalAttention], ['composition', causalAttentionComposed]] as const)
  for (const [H, KV, hd] of [[4, 2, 16], [2, 1, 6]]) {
    t.test(`packed = alone (${path}, H=${H} KV=${KV} hd=${hd}): each example's output and gradients as in its own row`, { skip: path === 'native' && skip }, async (t) => {
      // Row 0: three examples and 3 tokens of padding; row 1: two examples filling it.
      const lengths = [[5, 17, 9], [20, 14]];
      const T = 34;
      const s = { B: 2, T, H, KV, hd };
      const x = inputs(s, 77 + hd);
      const packed = runOn(f, s, x, segmentStarts(lengths, T));
      const widths = [H * hd, H * hd, KV * hd, KV * hd];
      const xWidths = [H * hd, KV * hd, KV * hd, H * hd];
      for (const [b, row] of lengths.entries()) {
        let at = 0;
        for (const n of row) {
          const alone = runOn(f, { B: 1, T: n, H, KV, hd }, x.map((a, i) => rowsOf(a, xWidths[i], b * T + at, n)));
          for (let i = 0; i < 4; i++) {
            const e = maxAbs(rowsOf(packed[i], widths[i], b * T + at, n), alone[i]);
            t.ok(e <= 1e-5, `row ${b}, example at ${at} (${n} tokens): ${names[i]} differs by ${e.toExponential(2)}`);
          }
          at += n;
        }
      }
    });
  }

const same = (a: Float32Array, b: Float32Array) => a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

for (const [B, T, H, KV, hd] of [[2, 37, 4, 2, 16], [2, 21, 2, 1, 6], [1, 64, 2, 2, 32]]) {
  t.test(`native: segments all zero = no segments, bit for bit (B=${B} T=${T} H=${H} KV=${KV} hd=${hd})`, { skip }, async (t) => {
    const s = { B, T, H, KV, hd };
    const x = inputs(s, T);
    const plain = runOn(causalAttention, s, x);
    const zeros = runOn(causalAttention, s, x, new Int32Array(B * T));
    const asTensor = tf.tensor2d(new Int32Array(B * T), [B, T], 'int32');
    const viaTensor = runOn(causalAttention, s, x, asTensor);
    t.notOk(asTensor.isDisposed, "the caller's segments tensor is left alone");
    asTensor.dispose();
    for (let i = 0; i < 4; i++) {
      t.ok(same(zeros[i], plain[i]), `${names[i]}: identical (Int32Array)`);
      t.ok(same(viaTensor[i], plain[i]), `${names[i]}: identical (int32 tensor)`);
    }
  });
}

t.test('no tensors leak through the packed native path (with and without gradients)', { skip }, async (t) => {
  const s = { B: 2, T: 9, H: 2, KV: 1, hd: 6 };
  const seg = segmentStarts([[4, 5], [2, 3]], 9);
  const before = tf.memory().numTensors;
  const x = inputs(s, 3);
  const x0 = x.map((a) => a.slice());
  runOn(causalAttention, s, x, seg);
  tf.tidy(() => void runOn(causalAttentionComposed, s, x, seg));
  // Outside any tidy, without gradients: the native path makes (and frees) its segments tensor itself.
  const [q, k] = [tf.tensor2d(x[0], [18, 12]), tf.tensor2d(x[1], [18, 6])];
  const r = ropeTables(9, 6, 10000);
  const out = causalAttention(q, k, k, s, r, seg);
  tf.dispose([out, q, k, r.cos, r.sin, r.mask, r.rot]);
  t.equal(tf.memory().numTensors, before);
  t.same(x, x0, 'inputs untouched');
});

t.test('bad segments throw a clear Error before any kernel runs, and leak nothing', async (t) => {
  const addon = nativeAddon() as unknown as Record<string, (...a: unknown[]) => unknown> | undefined;
  let calls = 0;
  const saved = addon && { f: addon.attentionForward, b: addon.attentionBackward };
  if (addon && saved) {
    addon.attentionForward = (...a: unknown[]) => (calls++, saved.f(...a));
    addon.attentionBackward = (...a: unknown[]) => (calls++, saved.b(...a));
  }
  const before = tf.memory().numTensors;
  const s = { B: 2, T: 4, H: 2, KV: 1, hd: 4 };
  const r = ropeTables(4, 4, 10000);
  const q = tf.ones([8, 8]) as tf.Tensor2D;
  const k = tf.ones([8, 4]) as tf.Tensor2D;
  const good = [0, 0, 2, 2, 0, 1, 1, 3];
  const bad = (i: number, v: number) => Int32Array.from(good, (x, j) => (j === i ? v : x));
  const cases: [string, () => Segments, RegExp][] = [
    ['too short', () => new Int32Array(7), /segments has length 7, expected B\*T = 8/],
    ['too long', () => new Int32Array(9), /segments has length 9, expected B\*T = 8/],
    ['a value > t', () => bad(6, 7), /segments\[6\] = 7 \(row 1, position 2\) is not in \[0, 2\]/],
    ['a start past its position at t = 0', () => bad(4, 1), /segments\[4\] = 1 \(row 1, position 0\) is not in \[0, 0\]/],
    ['negative', () => bad(3, -1), /segments\[3\] = -1 \(row 0, position 3\) is not in \[0, 3\]/],
    ['a start that is not an example start', () => bad(7, 2), /segments\[7\] = 2 \(row 1, position 3\) is neither 3 \(a new segment\) nor segments\[6\] = 1/],
    ['a float32 tensor', () => tf.zeros([8]), /segments must be int32, got float32/],
    ['an int32 tensor of the wrong size', () => tf.zeros([2, 3], 'int32'), /segments has 6 elements, expected B\*T = 8/],
    ['a plain array', () => [...good] as unknown as Int32Array, /segments must be an Int32Array or an int32 tensor/],
  ];
  for (const [name, make, msg] of cases)
    for (const [path, f] of [['causalAttention', causalAttention], ['causalAttentionComposed', causalAttentionComposed]] as const) {
      const seg = make();
      const n = tf.memory().numTensors;
      t.throws(() => f(q, k, k, s, r, seg), msg, `${path}: ${name}`);
      t.throws(() => tf.grads((a: tf.Tensor) => tf.sum(f(a as tf.Tensor2D, k, k, s, r, seg)))([q]), msg, `${path} under tf.grads: ${name}`);
      t.equal(tf.memory().numTensors, n, `${path}: ${name}: no tensor made`);
      if (seg instanceof tf.Tensor) seg.dispose();
    }
  t.equal(calls, 0, 'no native kernel was called');
  if (addon && saved) Object.assign(addon, { attentionForward: saved.f, attentionBackward: saved.b });
  tf.dispose([q, k, r.cos, r.sin, r.mask, r.rot]);
  t.equal(tf.memory().numTensors, before);
});

t.test('the C++ kernels check segments themselves (RangeError, nothing written)', { skip }, async (t) => {
  type Fn = (...a: unknown[]) => void;
  const addon = nativeAddon() as unknown as { attentionForward: Fn; attentionBackward: Fn; attentionSegments: Fn };
  const [B, T, H, KV, hd] = [2, 4, 2, 1, 4];
  const f = (n: number) => new Float32Array(n).fill(0.5);
  const cos = f(T * hd);
  const out = new Float32Array(B * T * H * hd).fill(NaN);
  const lse = new Float32Array(B * H * T).fill(NaN);
  const good = Int32Array.from([0, 0, 2, 2, 0, 1, 1, 3]);
  const cases: [string, Int32Array, RegExp][] = [
    ['length', new Int32Array(7), /attention: segments has length 7, expected B\*T = 8/],
    ['a value > t', Int32Array.from([0, 0, 2, 4, 0, 1, 1, 3]), /attention: segments\[3\] = 4 \(row 0, position 3\) is not in \[0, 3\]/],
    ['negative', Int32Array.from([0, 0, 2, 2, 0, 1, 1, -5]), /attention: segments\[7\] = -5 \(row 1, position 3\) is not in \[0, 3\]/],
    ['not a start', Int32Array.from([0, 0, 1, 1, 0, 1, 1, 3]), /attention: segments\[2\] = 1 \(row 0, position 2\) is neither 2/],
  ];
  for (const [name, seg, msg] of cases) {
    t.throws(() => addon.attentionSegments(seg, B, T), msg, `attentionSegments: ${name}`);
    t.throws(() => addon.attentionForward(f(B * T * H * hd), f(B * T * KV * hd), f(B * T * KV * hd), cos, cos, out, lse, B, T, H, KV, hd, seg), msg, `attentionForward: ${name}`);
    const g = f(B * T * H * hd);
    t.throws(() => addon.attentionBackward(g, g, f(B * T * KV * hd), f(B * T * KV * hd), cos, cos, f(B * H * T), out, f(B * T * KV * hd), f(B * T * KV * hd), B, T, H, KV, hd, seg), msg, `attentionBackward: ${name}`);
  }
  t.ok(out.every(Number.isNaN) && lse.every(Number.isNaN), 'no kernel wrote anything');
  t.throws(() => addon.attentionForward(f(64), f(32), f(32), cos, cos, out, lse, B, T, H, KV, hd, new Float32Array(8)), /expected an Int32Array/);
  t.doesNotThrow(() => addon.attentionSegments(good, B, T));
  addon.attentionForward(f(64), f(32), f(32), cos, cos, out, lse, B, T, H, KV, hd, good);
  t.ok(out.every(Number.isFinite), 'a good segment array runs');
});
