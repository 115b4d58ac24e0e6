// Causal self-attention with rotary positions (HF's rotate_half convention) and grouped-query heads, from the
// q/k/v projections [B*T, heads*hd] to the merged context [B*T, H*hd] that o_proj reads.
import * as tf from '@tensorflow/tfjs';

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

export function causalAttention(q2: tf.Tensor2D, k2: tf.Tensor2D, v2: tf.Tensor2D, s: AttentionShape, r: RopeTables): tf.Tensor2D {
  return causalAttentionComposed(q2, k2, v2, s, r);
}
