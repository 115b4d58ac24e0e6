// Causal self-attention with rotary positions (HF's rotate_half convention) and grouped-query heads, from the
// q/k/v projections [B*T, heads*hd] to the merged context [B*T, H*hd] that o_proj reads.
import * as tf from '@tensorflow/tfjs';
import { defineNativeKernel, nativeKernels, runNative } from './native-kernel.js';

type F32 = Float32Array;

/** The addon's attention kernels (native/attention.cc). */
interface AttentionAddon {
  attentionForward(q: F32, k: F32, v: F32, cos: F32, sin: F32, out: F32, lse: F32, B: number, T: number, H: number, KV: number, hd: number): void;
  attentionBackward(dy: F32, q: F32, k: F32, v: F32, cos: F32, sin: F32, lse: F32, dq: F32, dk: F32, dv: F32, B: number, T: number, H: number, KV: number, hd: number): void;
}

export interface AttentionShape {
  B: number;
  T: number;
  /** Query heads. */
  H: number;
  /** Key/value heads (H a multiple of KV). */
  KV: number;
  hd: number;
}

/** Per-sequence-length constants: cos/sin [T, hd] (HF: emb = cat(freqs, freqs)), causal mask, rotate_half matrix. */
export interface RopeTables {
  cos: tf.Tensor2D;
  sin: tf.Tensor2D;
  /** Additive causal mask [T, T]: 0 on and below the diagonal, -1e9 above. */
  mask: tf.Tensor2D;
  /** (x @ rot)[j] = -x[j + hd/2] for j < hd/2, x[j - hd/2] otherwise. */
  rot: tf.Tensor2D;
}

/** Build the tables for sequence length T. The caller owns (and disposes) the tensors. */
export function ropeTables(T: number, hd: number, theta: number): RopeTables {
  const half = hd / 2;
  const cos = new Float32Array(T * hd);
  const sin = new Float32Array(T * hd);
  for (let t = 0; t < T; t++)
    for (let i = 0; i < half; i++) {
      // HF computes inv_freq in float32; round the same way so angles match bit for bit at small t.
      const invFreq = Math.fround(1 / Math.pow(theta, Math.fround((2 * i) / hd)));
      const a = Math.fround(t * invFreq);
      cos[t * hd + i] = cos[t * hd + i + half] = Math.cos(a);
      sin[t * hd + i] = sin[t * hd + i + half] = Math.sin(a);
    }
  const mask = new Float32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) mask[i * T + j] = -1e9;
  const rot = new Float32Array(hd * hd);
  for (let j = 0; j < half; j++) {
    rot[(j + half) * hd + j] = -1;
    rot[j * hd + j + half] = 1;
  }
  return {
    cos: tf.tensor2d(cos, [T, hd]),
    sin: tf.tensor2d(sin, [T, hd]),
    mask: tf.tensor2d(mask, [T, T]),
    rot: tf.tensor2d(rot, [hd, hd]),
  };
}

/**
 * x * cos + rotate_half(x) * sin. rotate_half is a signed permutation, applied as a product with a constant
 * [hd, hd] matrix: one matmul (forward and backward) instead of split + neg + concat and their gradients.
 */
function rope(x: tf.Tensor4D, r: RopeTables): tf.Tensor4D {
  return tf.add(tf.mul(x, r.cos), tf.mul(tf.matMul(x, r.rot), r.sin)) as tf.Tensor4D;
}

/** tfjs composition (every backend; the reference the fused kernel is tested against). */
export function causalAttentionComposed(q2: tf.Tensor2D, k2: tf.Tensor2D, v2: tf.Tensor2D, s: AttentionShape, r: RopeTables): tf.Tensor2D {
  const { B, T, H, KV, hd } = s;
  const heads = (x: tf.Tensor2D, n: number) => tf.transpose(tf.reshape(x, [B, T, n, hd]), [0, 2, 1, 3]) as tf.Tensor4D;
  const q = rope(heads(q2, H), r);
  let k = rope(heads(k2, KV), r);
  let v = heads(v2, KV);
  if (KV !== H) {
    // HF repeat_kv: query head j reads key/value head floor(j / (H / KV)).
    const rep = H / KV;
    // tile's gradient exists up to rank 4, so the copy is done on a rank-3 view.
    const expand = (t: tf.Tensor4D) => tf.reshape(tf.tile(tf.reshape(t, [B * KV, 1, T * hd]), [1, rep, 1]), [B, H, T, hd]) as tf.Tensor4D;
    k = expand(k);
    v = expand(v);
  }
  const scores = tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(hd)), r.mask);
  const ctx = tf.matMul(tf.softmax(scores), v);
  return tf.reshape(tf.transpose(ctx, [0, 2, 1, 3]), [B * T, H * hd]) as tf.Tensor2D;
}

const dims = (a: tf.NamedAttrMap) => [a.B, a.T, a.H, a.KV, a.hd] as number[];

defineNativeKernel<AttentionAddon>('MathpipeAttention', (c) => {
  const [B, T, H, KV, hd] = dims(c.attrs);
  const { q, k, v, cos, sin } = c.inputs;
  const out = c.output([B * T, H * hd]);
  const lse = c.output([B, H, T]);
  c.addon.attentionForward(c.f32(q), c.f32(k), c.f32(v), c.f32(cos), c.f32(sin), c.f32(out), c.f32(lse), B, T, H, KV, hd);
  return [out, lse];
});

defineNativeKernel<AttentionAddon>('MathpipeAttentionGrad', (c) => {
  const [B, T, H, KV, hd] = dims(c.attrs);
  const { dy, q, k, v, cos, sin, lse } = c.inputs;
  const dq = c.output([B * T, H * hd]);
  const dk = c.output([B * T, KV * hd]);
  const dv = c.output([B * T, KV * hd]);
  c.addon.attentionBackward(c.f32(dy), c.f32(q), c.f32(k), c.f32(v), c.f32(cos), c.f32(sin), c.f32(lse), c.f32(dq), c.f32(dk), c.f32(dv), B, T, H, KV, hd);
  return [dq, dk, dv];
});

/**
 * The fused kernels: RoPE, scores, causal softmax and the value product per (batch, head) on the projection
 * layout; the backward rebuilds the probabilities from each row's log-sum-exp. The tables are closed over
 * (customGrad wants a gradient for every input, and they have none).
 */
function causalAttentionNative(q2: tf.Tensor2D, k2: tf.Tensor2D, v2: tf.Tensor2D, s: AttentionShape, r: RopeTables): tf.Tensor2D {
  const attrs = { B: s.B, T: s.T, H: s.H, KV: s.KV, hd: s.hd };
  const op = tf.customGrad((...args: unknown[]) => {
    const [q, k, v, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
    const [out, lse] = runNative('MathpipeAttention', { q, k, v, cos: r.cos, sin: r.sin }, attrs);
    save([q, k, v, lse]);
    return {
      value: out,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sq, sk, sv, sl] = saved;
        return runNative('MathpipeAttentionGrad', { dy, q: sq, k: sk, v: sv, cos: r.cos, sin: r.sin, lse: sl }, attrs);
      },
    };
  });
  return op(q2, k2, v2) as tf.Tensor2D;
}

/** The fused kernels index every input by s alone, so the shapes are checked against it first. */
function checkShapes(q2: tf.Tensor2D, k2: tf.Tensor2D, v2: tf.Tensor2D, s: AttentionShape, r: RopeTables): void {
  const { B, T, H, KV, hd } = s;
  if (![B, T, H, KV, hd].every((n) => Number.isInteger(n) && n >= 0) || !(KV >= 1 && H % KV === 0 && hd % 2 === 0))
    throw new Error(`causalAttention: bad shape ${JSON.stringify(s)} (H a multiple of KV, hd even)`);
  const want: [string, tf.Tensor, number[]][] = [['q', q2, [B * T, H * hd]], ['k', k2, [B * T, KV * hd]], ['v', v2, [B * T, KV * hd]], ['cos', r.cos, [T, hd]], ['sin', r.sin, [T, hd]]];
  for (const [name, x, shape] of want)
    if (!tf.util.arraysEqual(x.shape, shape)) throw new Error(`causalAttention: ${name} is [${x.shape}], expected [${shape}] for ${JSON.stringify(s)}`);
}

export function causalAttention(q2: tf.Tensor2D, k2: tf.Tensor2D, v2: tf.Tensor2D, s: AttentionShape, r: RopeTables): tf.Tensor2D {
  checkShapes(q2, k2, v2, s, r);
  // Empty inputs (the kernels want B, T, hd >= 1) and other dtypes take the composition.
  const f32 = [q2, k2, v2, r.cos, r.sin].every((x) => x.dtype === 'float32');
  if (s.B * s.T * s.hd > 0 && f32 && nativeKernels('attentionBackward')) return causalAttentionNative(q2, k2, v2, s, r);
  return causalAttentionComposed(q2, k2, v2, s, r);
}
