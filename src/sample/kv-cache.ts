// The KV cache of decoding: keys (rotary positions applied) and values per layer, head-major [KV][position][hd].
// A prompt's cache is filled once by its prefill and shared, read-only, by the n samples of that prompt; each
// sample appends its own generated positions to a separate buffer, and attention reads both parts. Single-token
// attention runs here in JavaScript, per sequence, so a sequence's result never depends on the others in the
// batch (the batched products around it are the only shared work).
import type * as tf from '@tensorflow/tfjs';
import type { CachedAttention, KVObserver } from '../train/model.js';

export interface CacheShape {
  layers: number;
  /** Query heads. */
  H: number;
  /** Key/value heads. */
  KV: number;
  hd: number;
}

/**
 * cos/sin [position][hd] with the values src/train/ops/attention.ts's ropeTables builds (HF's rotate_half
 * convention, float32 angles), so cached keys carry the rotation the trainer applies.
 */
export class Rope {
  readonly cos: Float32Array;
  readonly sin: Float32Array;

  constructor(
    readonly positions: number,
    readonly hd: number,
    theta: number,
  ) {
    const half = hd / 2;
    this.cos = new Float32Array(positions * hd);
    this.sin = new Float32Array(positions * hd);
    for (let t = 0; t < positions; t++)
      for (let i = 0; i < half; i++) {
        const invFreq = Math.fround(1 / Math.pow(theta, Math.fround((2 * i) / hd)));
        const a = Math.fround(t * invFreq);
        this.cos[t * hd + i] = this.cos[t * hd + i + half] = Math.cos(a);
        this.sin[t * hd + i] = this.sin[t * hd + i + half] = Math.sin(a);
      }
  }

  /** dst[do..do+hd) = rope(src[so..so+hd)) at position pos: x*cos + rotate_half(x)*sin, rotate_half(x) = [-x2, x1]. */
  apply(src: Float32Array, so: number, dst: Float32Array, d0: number, pos: number): void {
    const hd = this.hd;
    const half = hd / 2;
    const c = pos * hd;
    for (let j = 0; j < half; j++) {
      const x1 = src[so + j];
      const x2 = src[so + j + half];
      dst[d0 + j] = x1 * this.cos[c + j] - x2 * this.sin[c + j];
      dst[d0 + j + half] = x2 * this.cos[c + j + half] + x1 * this.sin[c + j + half];
    }
  }
}

/** Keys and values of a prompt, per layer [KV][length][hd]. */
export class PromptCache {
  readonly k: Float32Array[] = [];
  readonly v: Float32Array[] = [];

  constructor(
    readonly shape: CacheShape,
    readonly length: number,
  ) {
    const n = shape.KV * length * shape.hd;
    for (let l = 0; l < shape.layers; l++) {
      this.k.push(new Float32Array(n));
      this.v.push(new Float32Array(n));
    }
  }

  /** An observer for model.hidden() over this prompt (batch 1): stores each layer's keys (rotated) and values. */
  observer(rope: Rope): KVObserver {
    const { KV, hd } = this.shape;
    const P = this.length;
    return (layer: number, k: tf.Tensor2D, v: tf.Tensor2D) => {
      const kd = k.dataSync() as Float32Array;
      const vd = v.dataSync() as Float32Array;
      const K = this.k[layer];
      const Vc = this.v[layer];
      for (let t = 0; t < P; t++)
        for (let h = 0; h < KV; h++) {
          const src = (t * KV + h) * hd;
          const dst = (h * P + t) * hd;
          rope.apply(kd, src, K, dst, t);
          Vc.set(vd.subarray(src, src + hd), dst);
        }
    };
  }
}

/** One sequence's cache: its prompt's (shared) and the positions it generated (its own). */
export class SequenceCache {
  private readonly k: Float32Array[] = [];
  private readonly v: Float32Array[] = [];
  /** Generated positions written so far. */
  private own = 0;

  constructor(
    readonly prompt: PromptCache,
    /** Generated positions this sequence may feed back (at most max_tokens - 1, within the context). */
    readonly capacity: number,
  ) {
    const { layers, KV, hd } = prompt.shape;
    for (let l = 0; l < layers; l++) {
      this.k.push(new Float32Array(KV * capacity * hd));
      this.v.push(new Float32Array(KV * capacity * hd));
    }
  }

  /** Positions held (prompt + generated): also the position of the next token fed. */
  get length(): number {
    return this.prompt.length + this.own;
  }

  /**
   * Attention of one new token at position `length` in `layer`: rotate q and k, store k and v, attend over every
   * cached position (the token itself included). q row [H*hd] at qo, k/v rows [KV*hd] at ko; writes out [H*hd]
   * at oo. Call commit() once every layer has run.
   */
  attend(layer: number, rope: Rope, q: Float32Array, qo: number, k: Float32Array, v: Float32Array, ko: number, out: Float32Array, oo: number, scratch: Scratch): void {
    const { H, KV, hd } = this.prompt.shape;
    if (this.own >= this.capacity) throw new RangeError(`KV cache full: ${this.capacity} generated positions`);
    const pos = this.length;
    const P = this.prompt.length;
    const cap = this.capacity;
    const K = this.k[layer];
    const Vc = this.v[layer];
    for (let h = 0; h < KV; h++) {
      const dst = (h * cap + this.own) * hd;
      rope.apply(k, ko + h * hd, K, dst, pos);
      Vc.set(v.subarray(ko + h * hd, ko + (h + 1) * hd), dst);
    }
    const T = pos + 1;
    const qr = scratch.q(hd);
    const s = scratch.scores(T);
    const acc = scratch.acc(hd);
    const scale = 1 / Math.sqrt(hd);
    const rep = H / KV;
    const PK = this.prompt.k[layer];
    const PV = this.prompt.v[layer];
    const own = this.own + 1;
    for (let h = 0; h < H; h++) {
      const g = Math.floor(h / rep);
      rope.apply(q, qo + h * hd, qr, 0, pos);
      // Scores over the prompt's positions, then the sequence's own: positions 0..T-1 in order.
      dots(qr, PK, g * P * hd, P, hd, scale, s, 0);
      dots(qr, K, g * cap * hd, own, hd, scale, s, P);
      let mx = -Infinity;
      for (let t = 0; t < T; t++) if (s[t] > mx) mx = s[t];
      let sum = 0;
      for (let t = 0; t < T; t++) sum += s[t] = Math.exp(s[t] - mx);
      acc.fill(0);
      weighted(s, 0, PV, g * P * hd, P, hd, acc);
      weighted(s, P, Vc, g * cap * hd, own, hd, acc);
      for (let j = 0; j < hd; j++) out[oo + h * hd + j] = acc[j] / sum;
    }
  }

  /** The token fed this step is now part of the cache. */
  commit(): void {
    this.own++;
  }
}

// The two loops of single-token attention, unrolled by 4 (hd is even, and a multiple of 4 in every Llama shape;
// the tail loops cover the rest): independent partial sums and accumulators held in locals instead of a typed
// array let V8 keep them in registers, about 2x faster than the plain loops.

/** s[so + t] = scale * q . rows[base + t*hd ..] for t < n. */
function dots(q: Float32Array, rows: Float32Array, base: number, n: number, hd: number, scale: number, s: Float64Array, so: number): void {
  const h4 = hd & ~3;
  for (let t = 0; t < n; t++) {
    const b = base + t * hd;
    let d0 = 0;
    let d1 = 0;
    let d2 = 0;
    let d3 = 0;
    let j = 0;
    for (; j < h4; j += 4) {
      d0 += q[j] * rows[b + j];
      d1 += q[j + 1] * rows[b + j + 1];
      d2 += q[j + 2] * rows[b + j + 2];
      d3 += q[j + 3] * rows[b + j + 3];
    }
    for (; j < hd; j++) d0 += q[j] * rows[b + j];
    s[so + t] = (d0 + d1 + d2 + d3) * scale;
  }
}

/** acc += sum over t < n of w[wo + t] * rows[base + t*hd ..]. */
function weighted(w: Float64Array, wo: number, rows: Float32Array, base: number, n: number, hd: number, acc: Float64Array): void {
  const h4 = hd & ~3;
  for (let j = 0; j < h4; j += 4) {
    let a0 = acc[j];
    let a1 = acc[j + 1];
    let a2 = acc[j + 2];
    let a3 = acc[j + 3];
    for (let t = 0, b = base + j; t < n; t++, b += hd) {
      const x = w[wo + t];
      a0 += x * rows[b];
      a1 += x * rows[b + 1];
      a2 += x * rows[b + 2];
      a3 += x * rows[b + 3];
    }
    acc[j] = a0;
    acc[j + 1] = a1;
    acc[j + 2] = a2;
    acc[j + 3] = a3;
  }
  for (let j = h4; j < hd; j++) {
    let a = acc[j];
    for (let t = 0; t < n; t++) a += w[wo + t] * rows[base + t * hd + j];
    acc[j] = a;
  }
}

/** Reused work buffers (decoding runs on one thread). */
export class Scratch {
  private qb = new Float32Array(0);
  private sb = new Float64Array(0);
  private ab = new Float64Array(0);

  q(n: number): Float32Array {
    if (this.qb.length < n) this.qb = new Float32Array(n);
    return this.qb;
  }

  scores(n: number): Float64Array {
    if (this.sb.length < n) this.sb = new Float64Array(Math.max(n, 2 * this.sb.length));
    return this.sb;
  }

  acc(n: number): Float64Array {
    if (this.ab.length !== n) this.ab = new Float64Array(n);
    return this.ab;
  }
}

/**
 * One decoding step's attention for `seqs`: row i of q/k/v (Float32Arrays [rows, ...]) is seqs[i]'s new token;
 * writes the context rows into out [rows, H*hd], zeros past seqs.length (padding rows).
 */
export function attendRows(seqs: SequenceCache[], layer: number, rope: Rope, scratch: Scratch, q: Float32Array, k: Float32Array, v: Float32Array, out: Float32Array): void {
  const { H, KV, hd } = seqs[0].prompt.shape;
  for (let i = 0; i < seqs.length; i++) seqs[i].attend(layer, rope, q, i * H * hd, k, v, i * KV * hd, out, i * H * hd, scratch);
  out.fill(0, seqs.length * H * hd);
}

/**
 * attendRows as the model's CachedAttention (tfjs tensors in and out) for `rows` rows. makeTensor builds the
 * context tensor (tf.tensor2d, passed in so this file needs no tfjs at run time).
 */
export function cachedAttention(seqs: SequenceCache[], rope: Rope, scratch: Scratch, rows: number, makeTensor: (data: Float32Array, shape: [number, number]) => tf.Tensor2D): CachedAttention {
  return (layer, q, k, v) => {
    const { H, hd } = seqs[0].prompt.shape;
    const out = new Float32Array(rows * H * hd);
    attendRows(seqs, layer, rope, scratch, q.dataSync() as Float32Array, k.dataSync() as Float32Array, v.dataSync() as Float32Array, out);
    return makeTensor(out, [rows, H * hd]);
  };
}
