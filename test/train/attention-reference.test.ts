// The tiled attention backward (native/attention.cc's backward: blocks of query rows, lanes of keys, the
// probabilities rebuilt from the forward's log-sum-exp, threads over (batch, kv head)) against the plain
// reference beside it (referenceBackward: float64 softmax recomputed per row, textbook gradients), on the shapes
// that take each path: head sizes instantiated and not, grouped-query heads, rows not a multiple of the block,
// packed segments.
import t from 'tap';
import { nativeWith } from '../../src/train/native.js';
import { Rng } from '../../src/util/rng.js';

type F32 = Float32Array;
interface Kernels {
  attentionForward(q: F32, k: F32, v: F32, cos: F32, sin: F32, out: F32, lse: F32, B: number, T: number, H: number, KV: number, hd: number, seg?: Int32Array): void;
  attentionBackward(dy: F32, q: F32, k: F32, v: F32, cos: F32, sin: F32, lse: F32, dq: F32, dk: F32, dv: F32, B: number, T: number, H: number, KV: number, hd: number, seg?: Int32Array): void;
  attentionBackwardReference(dy: F32, q: F32, k: F32, v: F32, cos: F32, sin: F32, dq: F32, dk: F32, dv: F32, B: number, T: number, H: number, KV: number, hd: number, seg?: Int32Array): void;
}
const k = nativeWith<Kernels>('attentionForward', 'attentionBackward', 'attentionBackwardReference');

/** cos/sin [T, hd] as the trainer builds them (theta 10000). */
function rope(T: number, hd: number): { cos: F32; sin: F32 } {
  const cos = new Float32Array(T * hd);
  const sin = new Float32Array(T * hd);
  for (let p = 0; p < T; p++)
    for (let i = 0; i < hd / 2; i++) {
      const a = p / 10000 ** ((2 * i) / hd);
      cos[p * hd + i] = cos[p * hd + i + hd / 2] = Math.cos(a);
      sin[p * hd + i] = sin[p * hd + i + hd / 2] = Math.sin(a);
    }
  return { cos, sin };
}

/** Segment starts for B rows of T: examples of random lengths packed one after another. */
function segments(B: number, T: number, rng: Rng): Int32Array {
  const seg = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    let start = 0;
    for (let t = 0; t < T; t++) {
      if (t > 0 && rng.next() < 0.15) start = t;
      seg[b * T + t] = start;
    }
  }
  return seg;
}

t.test('the tiled attention backward equals the plain reference', { skip: k ? false : 'native attention kernels not built' }, async (t) => {
  const rng = new Rng(11);
  // [B, T, H, KV, hd, packed]
  const shapes: [number, number, number, number, number, boolean][] = [
    [1, 1, 1, 1, 16, false],
    [2, 37, 4, 2, 16, false],
    [1, 70, 2, 1, 24, false],
    [2, 33, 4, 4, 64, true],
    [1, 50, 6, 3, 32, true],
  ];
  for (const [B, T, H, KV, hd, packed] of shapes) {
    const q = rng.normalArray(B * T * H * hd, 1);
    const kk = rng.normalArray(B * T * KV * hd, 1);
    const v = rng.normalArray(B * T * KV * hd, 1);
    const dy = rng.normalArray(B * T * H * hd, 1);
    const { cos, sin } = rope(T, hd);
    const seg = packed ? segments(B, T, rng) : undefined;
    const out = new Float32Array(q.length);
    const lse = new Float32Array(B * H * T);
    k!.attentionForward(q, kk, v, cos, sin, out, lse, B, T, H, KV, hd, seg);
    const tiled = [new Float32Array(q.length), new Float32Array(kk.length), new Float32Array(v.length)];
    const plain = [new Float32Array(q.length), new Float32Array(kk.length), new Float32Array(v.length)];
    k!.attentionBackward(dy, q, kk, v, cos, sin, lse, tiled[0], tiled[1], tiled[2], B, T, H, KV, hd, seg);
    k!.attentionBackwardReference(dy, q, kk, v, cos, sin, plain[0], plain[1], plain[2], B, T, H, KV, hd, seg);
    ['dq', 'dk', 'dv'].forEach((name, i) => {
      let worst = 0;
      let scale = 0;
      plain[i].forEach((x, j) => {
        worst = Math.max(worst, Math.abs(x - tiled[i][j]));
        scale = Math.max(scale, Math.abs(x));
      });
      t.ok(worst <= 1e-4 * Math.max(1, scale), `B ${B} T ${T} H ${H} KV ${KV} hd ${hd}${packed ? ' packed' : ''}: ${name} max difference ${worst.toExponential(2)} (largest ${scale.toFixed(2)})`);
    });
  }
});
