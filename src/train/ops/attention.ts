// Causal self-attention with rotary positions (HF's rotate_half convention) and grouped-query heads, from the
// q/k/v projections [B*T, heads*hd] to the merged context [B*T, H*hd] that o_proj reads. Optionally packed:
// several examples per row, each attending only to itself with its rotary positions restarting at 0 (segments).
import * as tf from '@tensorflow/tfjs';
import { defineNativeKernel, nativeKernels, runNative } from './native-kernel.js';

type F32 = Float32Array;
type I32 = Int32Array;

/** The addon's attention kernels (native/attention.cc). seg: segment starts [B*T], absent for one sequence a row. */
interface AttentionAddon {
  attentionForward(q: F32, k: F32, v: F32, cos: F32, sin: F32, out: F32, lse: F32, B: number, T: number, H: number, KV: number, hd: number, seg?: I32): void;
  attentionBackward(dy: F32, q: F32, k: F32, v: F32, cos: F32, sin: F32, lse: F32, dq: F32, dk: F32, dv: F32, B: number, T: number, H: number, KV: number, hd: number, seg?: I32): void;
  /** Throws a RangeError unless seg is a valid segment array for B rows of T; a build without it ignores seg. */
  attentionSegments(seg: I32, B: number, T: number): void;
}

/**
 * Packing: segments[b*T + t] is the position in row b where the example holding position t starts. Position t
 * attends to keys segments[b*T+t] <= j <= t only, and its rotary position is t - segments[b*T+t]. In each row,
 * segments[t] is t (an example starts) or segments[t-1] (t continues the previous position's example). An
 * Int32Array, or an int32 tensor of B*T elements (any shape; the caller keeps ownership).
 */
export type Segments = Int32Array | tf.Tensor;

/**
 * The segment array of B = lengths.length rows of T positions: row b holds examples of lengths[b] packed from
 * position 0 in order; what is left of the row after them (padding) is one more segment of its own.
 */
export function segmentStarts(lengths: number[][], T: number): Int32Array {
  if (!Number.isInteger(T) || T < 0) throw new Error(`segmentStarts: T must be an integer >= 0, got ${T}`);
  const seg = new Int32Array(lengths.length * T);
  lengths.forEach((row, b) => {
    let at = 0;
    for (const n of row) {
      if (!Number.isInteger(n) || n < 0) throw new Error(`segmentStarts: row ${b} has a length ${n} (lengths are integers >= 0)`);
      if (at + n > T) throw new Error(`segmentStarts: row ${b}'s lengths [${row}] add up to more than T = ${T}`);
      seg.fill(at, b * T + at, b * T + at + n);
      at += n;
    }
    seg.fill(at, b * T + at, (b + 1) * T);
  });
  return seg;
}

/** The segment array as an Int32Array (a copy for a tensor), after checking it against B rows of T. */
function checkSegments(segments: Segments, B: number, T: number): Int32Array {
  let seg: Int32Array;
  if (segments instanceof tf.Tensor) {
    if (segments.dtype !== 'int32') throw new Error(`causalAttention: segments must be int32, got ${segments.dtype}`);
    if (segments.size !== B * T) throw new Error(`causalAttention: segments has ${segments.size} elements, expected B*T = ${B * T}`);
    seg = segments.dataSync() as Int32Array;
  } else if (segments instanceof Int32Array) {
    if (segments.length !== B * T) throw new Error(`causalAttention: segments has length ${segments.length}, expected B*T = ${B * T}`);
    seg = segments;
  } else throw new Error('causalAttention: segments must be an Int32Array or an int32 tensor');
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++) {
      const i = b * T + t;
      const s = seg[i];
      if (!(s >= 0 && s <= t)) throw new Error(`causalAttention: segments[${i}] = ${s} (row ${b}, position ${t}) is not in [0, ${t}]`);
      if (s !== t && s !== seg[i - 1])
        throw new Error(`causalAttention: segments[${i}] = ${s} (row ${b}, position ${t}) is neither ${t} (a new segment) nor segments[${i - 1}] = ${seg[i - 1]} (the previous position's segment)`);
    }
  return seg;
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
function rope(x: tf.Tensor4D, r: RopeTables, cos: tf.Tensor = r.cos, sin: tf.Tensor = r.sin): tf.Tensor4D {
  return tf.add(tf.mul(x, cos), tf.mul(tf.matMul(x, r.rot), sin)) as tf.Tensor4D;
}

/**
 * tfjs composition (every backend; the reference the fused kernel is tested against). Packed (segments): an
 * additive block-diagonal causal mask [B, 1, T, T] and the cos/sin rows gathered by position [B, 1, T, hd].
 */
export function causalAttentionComposed(q2: tf.Tensor2D, k2: tf.Tensor2D, v2: tf.Tensor2D, s: AttentionShape, r: RopeTables, segments?: Segments): tf.Tensor2D {
  const { B, T, hd } = s;
  if (segments === undefined) return composed(q2, k2, v2, s, r, r.mask, r.cos, r.sin);
  const seg = checkSegments(segments, B, T);
  const pos = new Int32Array(B * T);
  for (let i = 0; i < B * T; i++) pos[i] = (i % T) - seg[i];
  const at = tf.tensor1d(pos, 'int32');
  const cos = tf.reshape(tf.gather(r.cos, at), [B, 1, T, hd]);
  const sin = tf.reshape(tf.gather(r.sin, at), [B, 1, T, hd]);
  // Key j is hidden from query i when j < segments[i] (another example) or j > i (the causal mask).
  const before = tf.less(tf.reshape(tf.range(0, T, 1, 'int32'), [1, 1, 1, T]), tf.tensor4d(seg, [B, 1, T, 1], 'int32'));
  const mask = tf.add(r.mask, tf.mul(tf.cast(before, 'float32'), -1e9));
  return composed(q2, k2, v2, s, r, mask, cos, sin);
}

function composed(q2: tf.Tensor2D, k2: tf.Tensor2D, v2: tf.Tensor2D, s: AttentionShape, r: RopeTables, mask: tf.Tensor, cos: tf.Tensor, sin: tf.Tensor): tf.Tensor2D {
  const { B, T, H, KV, hd } = s;
  const heads = (x: tf.Tensor2D, n: number) => tf.transpose(tf.reshape(x, [B, T, n, hd]), [0, 2, 1, 3]) as tf.Tensor4D;
  const q = rope(heads(q2, H), r, cos, sin);
  let k = rope(heads(k2, KV), r, cos, sin);
  let v = heads(v2, KV);
  if (KV !== H) {
    // HF repeat_kv: query head j reads key/value head floor(j / (H / KV)).
    const rep = H / KV;
    // tile's gradient exists up to rank 4, so the copy is done on a rank-3 view.
    const expand = (t: tf.Tensor4D) => tf.reshape(tf.tile(tf.reshape(t, [B * KV, 1, T * hd]), [1, rep, 1]), [B, H, T, hd]) as tf.Tensor4D;
    k = expand(k);
    v = expand(v);
  }
  const scores = tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(hd)), mask);
  const ctx = tf.matMul(tf.softmax(scores), v);
  return tf.reshape(tf.transpose(ctx, [0, 2, 1, 3]), [B * T, H * hd]) as tf.Tensor2D;
}

const dims = (a: tf.NamedAttrMap) => [a.B, a.T, a.H, a.KV, a.hd] as number[];

// Both kernels take an optional int32 input `seg` (the segment array); without it the call is unchanged.
defineNativeKernel<AttentionAddon>('MathpipeAttention', (c) => {
  const [B, T, H, KV, hd] = dims(c.attrs);
  const { q, k, v, cos, sin, seg } = c.inputs;
  const out = c.output([B * T, H * hd]);
  const lse = c.output([B, H, T]);
  const args = [c.f32(q), c.f32(k), c.f32(v), c.f32(cos), c.f32(sin), c.f32(out), c.f32(lse), B, T, H, KV, hd] as const;
  if (seg) c.addon.attentionForward(...args, c.i32(seg));
  else c.addon.attentionForward(...args);
  return [out, lse];
});

defineNativeKernel<AttentionAddon>('MathpipeAttentionGrad', (c) => {
  const [B, T, H, KV, hd] = dims(c.attrs);
  const { dy, q, k, v, cos, sin, lse, seg } = c.inputs;
  const dq = c.output([B * T, H * hd]);
  const dk = c.output([B * T, KV * hd]);
  const dv = c.output([B * T, KV * hd]);
  const args = [c.f32(dy), c.f32(q), c.f32(k), c.f32(v), c.f32(cos), c.f32(sin), c.f32(lse), c.f32(dq), c.f32(dk), c.f32(dv), B, T, H, KV, hd] as const;
  if (seg) c.addon.attentionBackward(...args, c.i32(seg));
  else c.addon.attentionBackward(...args);
  return [dq, dk, dv];
});

/**
 * The fused kernels: RoPE, scores, causal softmax and the value product per (batch, head) on the projection
 * layout; the backward rebuilds the probabilities from each row's log-sum-exp. The tables are closed over
 * (customGrad wants a gradient for every input, and they have none). Packed, the checked segment array becomes an
 * int32 tensor made in the forward and saved for the backward (so the tape owns and frees it).
 */
function causalAttentionNative(q2: tf.Tensor2D, k2: tf.Tensor2D, v2: tf.Tensor2D, s: AttentionShape, r: RopeTables, segments?: Int32Array): tf.Tensor2D {
  const attrs = { B: s.B, T: s.T, H: s.H, KV: s.KV, hd: s.hd };
  const op = tf.customGrad((...args: unknown[]) => {
    const [q, k, v, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
    const seg = segments && tf.tensor1d(segments, 'int32');
    const [out, lse] = runNative('MathpipeAttention', { q, k, v, cos: r.cos, sin: r.sin, ...(seg && { seg }) }, attrs);
    save(seg ? [q, k, v, lse, seg] : [q, k, v, lse]);
    return {
      value: out,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sq, sk, sv, sl, ss] = saved;
        return runNative('MathpipeAttentionGrad', { dy, q: sq, k: sk, v: sv, cos: r.cos, sin: r.sin, lse: sl, ...(ss && { seg: ss }) }, attrs);
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

/**
 * Causal attention of the projections q2 [B*T, H*hd], k2 and v2 [B*T, KV*hd] with the tables of T; packed when
 * `segments` is given (see Segments; segmentStarts builds it), checked before anything runs.
 */
export function causalAttention(q2: tf.Tensor2D, k2: tf.Tensor2D, v2: tf.Tensor2D, s: AttentionShape, r: RopeTables, segments?: Segments): tf.Tensor2D {
  checkShapes(q2, k2, v2, s, r);
  const seg = segments === undefined ? undefined : checkSegments(segments, s.B, s.T);
  // Empty inputs (the kernels want B, T, hd >= 1) and other dtypes take the composition; so does packing with a
  // stale addon whose kernels would ignore the segments.
  const f32 = [q2, k2, v2, r.cos, r.sin].every((x) => x.dtype === 'float32');
  if (s.B * s.T * s.hd > 0 && f32 && nativeKernels(seg ? 'attentionSegments' : 'attentionBackward')) return causalAttentionNative(q2, k2, v2, s, r, seg);
  return causalAttentionComposed(q2, k2, v2, s, r, seg);
}
