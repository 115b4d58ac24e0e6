// The KV cache of decoding: keys (rotary positions applied) and values per layer (layout below). A prompt's
// cache is filled once by its prefill and shared, read-only, by the n samples of that prompt; each sample appends
// its own generated positions to a separate buffer, and attention reads both parts. Single-token attention runs
// per sequence (native/decode-attention.cc where the addon is built, else the JavaScript reference here), so a
// sequence's result never depends on the others in the batch (the batched products around it are the only
// shared work).
import type * as tf from '@tensorflow/tfjs';
import type { CachedAttention, KVObserver } from '../train/model.js';
import { nativeWith } from '../train/native.js';

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

// Cache layout (shared with native/decode-attention.cc): one Float32Array per cache holding every layer; per
// layer the keys transposed [KV][hd][L] (rotary positions applied), then the values [KV][L][hd], with L the
// cache's positions padded to a multiple of BLOCK. Transposed keys let a query's scores run along positions.

/** Positions are padded to a multiple of this (the native kernel's vector width). */
export const BLOCK = 16;
const padded = (n: number) => Math.ceil(n / BLOCK) * BLOCK;

/** Keys and values of a prompt (the layout above, L = padded prompt length). */
export class PromptCache {
  readonly data: Float32Array;
  /** Padded positions L. */
  readonly stride: number;
  /** Sequences reading this cache now (a generator's count, to know when its buffer can go back to a pool). */
  users = 0;

  constructor(
    readonly shape: CacheShape,
    readonly length: number,
    /** Where the buffer comes from (see SequenceCache). */
    pool?: CachePool,
  ) {
    this.stride = padded(length);
    const n = shape.layers * 2 * shape.KV * shape.hd * this.stride;
    this.data = pool ? pool.take(n) : new Float32Array(n);
  }

  /** An observer for model.hidden() over this prompt (batch 1): stores each layer's keys (rotated) and values. */
  observer(rope: Rope): KVObserver {
    return (layer: number, k: tf.Tensor2D, v: tf.Tensor2D) => this.store(layer, k.dataSync() as Float32Array, v.dataSync() as Float32Array, rope);
  }

  /** Store a layer's keys kd (rotated here) and values vd, both [length, KV*hd] as the projections give them. */
  store(layer: number, kd: Float32Array, vd: Float32Array, rope: Rope): void {
    const { KV, hd } = this.shape;
    const L = this.stride;
    const rot = new Float32Array(hd);
    const D = this.data;
    const base = layer * 2 * KV * hd * L;
    for (let t = 0; t < this.length; t++)
      for (let g = 0; g < KV; g++) {
        const src = (t * KV + g) * hd;
        rope.apply(kd, src, rot, 0, t);
        const kb = base + g * hd * L + t;
        for (let e = 0; e < hd; e++) D[kb + e * L] = rot[e];
        D.set(vd.subarray(src, src + hd), base + KV * hd * L + (g * L + t) * hd);
      }
  }
}

/**
 * Buffers of finished sequences' caches, handed to new sequences of the same size: a generator that refills its
 * slots otherwise takes fresh memory for every sample (at batch 32 of the bench model ~2,600 page faults and a
 * third of the decoding time in the kernel, measured, until the allocator reuses freed memory). Holds at most
 * `limit` buffers.
 */
export class CachePool {
  private readonly free = new Map<number, Float32Array[]>();
  private held = 0;

  constructor(private readonly limit: number) {}

  /** A zeroed buffer of n floats: a pooled one when there is one of that size, else a new one. */
  take(n: number): Float32Array {
    const b = this.free.get(n)?.pop();
    if (!b) return new Float32Array(n);
    this.held--;
    return b.fill(0);
  }

  give(b: Float32Array): void {
    if (this.held >= this.limit) return;
    const list = this.free.get(b.length);
    if (list) list.push(b);
    else this.free.set(b.length, [b]);
    this.held++;
  }
}

/** One sequence's cache: its prompt's (shared) and the positions it generated (its own, the layout above). */
export class SequenceCache {
  readonly data: Float32Array;
  /** Padded capacity L of the own part. */
  readonly stride: number;
  /** Generated positions written so far. */
  own = 0;

  constructor(
    readonly prompt: PromptCache,
    /** Generated positions this sequence may feed back (at most max_tokens - 1, within the context). */
    readonly capacity: number,
    /** Where the own part's buffer comes from (give it back with pool.give(cache.data) once the sequence ends). */
    pool?: CachePool,
  ) {
    const { layers, KV, hd } = prompt.shape;
    this.stride = padded(capacity);
    const n = layers * 2 * KV * hd * this.stride;
    this.data = pool ? pool.take(n) : new Float32Array(n);
  }

  /** Positions held (prompt + generated): also the position of the next token fed. */
  get length(): number {
    return this.prompt.length + this.own;
  }

  /**
   * The JavaScript reference of native/decode-attention.cc (which runs instead where the addon is built; see
   * attendRows). Attention of one new token at position `length` in `layer`: rotate q and k, store k and v, attend
   * over every cached position (the token itself included), in float64. q row [H*hd] at qo, k/v rows [KV*hd] at
   * ko; writes out [H*hd] at oo. Call commit() once every layer has run.
   */
  attend(layer: number, rope: Rope, q: Float32Array, qo: number, k: Float32Array, v: Float32Array, ko: number, out: Float32Array, oo: number, scratch: Scratch): void {
    const { H, KV, hd } = this.prompt.shape;
    if (this.own >= this.capacity) throw new RangeError(`KV cache full: ${this.capacity} generated positions`);
    const pos = this.length;
    const P = this.prompt.length;
    const L = this.stride;
    const PL = this.prompt.stride;
    const D = this.data;
    const PD = this.prompt.data;
    const ob = layer * 2 * KV * hd * L;
    const pb = layer * 2 * KV * hd * PL;
    const own = this.own + 1;
    const qr = scratch.q(hd);
    for (let g = 0; g < KV; g++) {
      rope.apply(k, ko + g * hd, qr, 0, pos);
      const kb = ob + g * hd * L + this.own;
      for (let e = 0; e < hd; e++) D[kb + e * L] = qr[e];
      D.set(v.subarray(ko + g * hd, ko + (g + 1) * hd), ob + KV * hd * L + (g * L + this.own) * hd);
    }
    const T = pos + 1;
    const s = scratch.scores(T);
    const acc = scratch.acc(hd);
    const scale = 1 / Math.sqrt(hd);
    const rep = H / KV;
    for (let h = 0; h < H; h++) {
      const g = Math.floor(h / rep);
      rope.apply(q, qo + h * hd, qr, 0, pos);
      // Scores over the prompt's positions, then the sequence's own: positions 0..T-1 in order.
      dots(qr, PD, pb + g * hd * PL, PL, P, hd, scale, s, 0);
      dots(qr, D, ob + g * hd * L, L, own, hd, scale, s, P);
      let mx = -Infinity;
      for (let t = 0; t < T; t++) if (s[t] > mx) mx = s[t];
      let sum = 0;
      for (let t = 0; t < T; t++) sum += s[t] = Math.exp(s[t] - mx);
      acc.fill(0);
      weighted(s, 0, PD, pb + KV * hd * PL + g * PL * hd, P, hd, acc);
      weighted(s, P, D, ob + KV * hd * L + g * L * hd, own, hd, acc);
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
// array let V8 keep them in registers.

/** s[so + t] = scale * q . k_t for t < n, with the keys transposed: k_t[e] = kT[base + e*L + t]. */
function dots(q: Float32Array, kT: Float32Array, base: number, L: number, n: number, hd: number, scale: number, s: Float64Array, so: number): void {
  const h4 = hd & ~3;
  for (let t = 0; t < n; t++) s[so + t] = 0;
  let e = 0;
  for (; e < h4; e += 4) {
    const q0 = q[e];
    const q1 = q[e + 1];
    const q2 = q[e + 2];
    const q3 = q[e + 3];
    const b0 = base + e * L;
    const b1 = b0 + L;
    const b2 = b1 + L;
    const b3 = b2 + L;
    for (let t = 0; t < n; t++) s[so + t] += q0 * kT[b0 + t] + q1 * kT[b1 + t] + q2 * kT[b2 + t] + q3 * kT[b3 + t];
  }
  for (; e < hd; e++) {
    const qe = q[e];
    const b = base + e * L;
    for (let t = 0; t < n; t++) s[so + t] += qe * kT[b + t];
  }
  for (let t = 0; t < n; t++) s[so + t] *= scale;
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
  private meta = new Int32Array(0);
  private bufs: Float32Array[] = [];

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

  /** The native kernel's arguments for seqs: their cache buffers (prompt, own) and [P, own, capacity] each. */
  native(seqs: SequenceCache[]): { caches: Float32Array[]; meta: Int32Array } {
    const n = seqs.length;
    if (this.meta.length !== 3 * n) this.meta = new Int32Array(3 * n);
    this.bufs.length = 2 * n;
    for (let i = 0; i < n; i++) {
      const s = seqs[i];
      this.bufs[2 * i] = s.prompt.data;
      this.bufs[2 * i + 1] = s.data;
      this.meta[3 * i] = s.prompt.length;
      this.meta[3 * i + 1] = s.own;
      this.meta[3 * i + 2] = s.capacity;
    }
    return { caches: this.bufs, meta: this.meta };
  }
}

/** native/decode-attention.cc's entry point. */
interface DecodeKernel {
  decodeAttention(layer: number, q: Float32Array, k: Float32Array, v: Float32Array, out: Float32Array, cos: Float32Array, sin: Float32Array, caches: Float32Array[], meta: Int32Array, H: number, KV: number, hd: number, layers: number): void;
}

let preferNative = true;

/**
 * Which single-token attention attendRows runs: 'native' (native/decode-attention.cc, float32, OpenMP over
 * sequences x heads) where the addon exports it, else 'js' (SequenceCache.attend, float64). Both compute a
 * sequence's row the same way whatever the batch; they differ from each other in rounding only. `use` sets the
 * preference (for tests and benchmarks; default native) and returns the previous one.
 */
export function decodeAttention(use?: 'native' | 'js'): 'native' | 'js' {
  const was = preferNative && nativeWith<DecodeKernel>('decodeAttention') ? 'native' : 'js';
  if (use) preferNative = use === 'native';
  return was;
}

/**
 * One decoding step's attention for `seqs`: row i of q/k/v (Float32Arrays [rows, ...]) is seqs[i]'s new token;
 * writes the context rows into out [rows, H*hd], zeros past seqs.length (padding rows).
 */
export function attendRows(seqs: SequenceCache[], layer: number, rope: Rope, scratch: Scratch, q: Float32Array, k: Float32Array, v: Float32Array, out: Float32Array): void {
  const { layers, H, KV, hd } = seqs[0].prompt.shape;
  const kernel = preferNative ? nativeWith<DecodeKernel>('decodeAttention') : undefined;
  if (kernel) {
    const { caches, meta } = scratch.native(seqs);
    kernel.decodeAttention(layer, q, k, v, out, rope.cos, rope.sin, caches, meta, H, KV, hd, layers);
    return;
  }
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
