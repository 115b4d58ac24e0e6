// The decoding step and the prompt's prefill without tfjs ops, for the wasm backend with the native addon: the
// blocks of model.decode() and model.hidden() as direct calls of native kernels on the model's own weights (views
// over the wasm heap) and preallocated buffers, with no tfjs per-op bookkeeping (about 20-50 us per op, which
// dominated a step at small batch) and no copies of the keys and values out of tfjs. The prefill's attention is
// the trainer's kernel (native/attention.cc's attentionForward, one prompt); its products are decodeMatmul's, so
// a prompt's cache and logits do not depend on the thread count either. The
// products are native/decode.cc's decodeMatmul, not sgemm: every output element is one fixed chain of operations
// whatever the number of rows, so a sequence's logits do not depend on the batch (no padded row groups, which
// OpenBLAS needs: src/sample/row-group.ts) and one row costs a matrix-vector product. RMSNorm and SwiGLU are the
// trainer's kernels (which keep a small call on the calling thread). The results equal the tfjs path's up to
// float rounding (tested), not bit for bit: its products are OpenBLAS's or XNNPACK's.
import * as tf from '@tensorflow/tfjs';
import { headDim } from '../train/config.js';
import type { LlamaModel } from '../train/model.js';
import { nativeWith, type NativeAddon } from '../train/native.js';
import { wasmHeap } from '../train/tfjs-internals.js';

type F32 = Float32Array;

/** The addon's kernels this path calls (native/decode.cc, norm.cc, swiglu.cc, gather.cc, elementwise.cc, attention.cc). */
interface Kernels {
  attentionForward(q: F32, k: F32, v: F32, cos: F32, sin: F32, out: F32, lse: F32, B: number, T: number, H: number, KV: number, hd: number): void;
  decodeMatmul(a: F32, w: F32, c: F32, M: number, N: number, K: number, transW: boolean): void;
  rmsNormForward(x: F32, w: F32, y: F32, rstd: F32, rows: number, D: number, eps: number): void;
  swigluForward(g: F32, u: F32, y: F32, n: number): void;
  gatherRows(table: F32, ids: Int32Array, out: F32, rows: number, inner: number): void;
  add(a: F32, b: F32, out: F32): void;
}

/** Attention of one step: fills ctx [rows, H*hd] from the q/k/v projections of the new tokens. */
export type RowAttention = (layer: number, q: F32, k: F32, v: F32, ctx: F32) => void;

/** Sees a prefill's keys and values of each layer ([P, KV*hd], before rotary positions; valid during the call). */
export type KVSink = (layer: number, k: F32, v: F32) => void;

/** cos/sin [positions, hd] of the rotary positions (kv-cache.ts's Rope). */
export interface RopeTable {
  cos: F32;
  sin: F32;
}

interface Buffers {
  x: F32;
  h: F32;
  q: F32;
  k: F32;
  v: F32;
  ctx: F32;
  t: F32;
  g: F32;
  u: F32;
  a: F32;
  /** Logits (decoding: every row; prefill: none, its one row of logits goes to `last`). */
  logits: F32;
  /** The prefill attention's log-sum-exps (H per row; unused when decoding). */
  lse: F32;
  /** RMSNorm's 1/rms per row (the trainer's kernel writes it; unused here). */
  rstd: F32;
}

/** Per-row widths of the buffers. */
type Widths = Record<keyof Buffers, number>;

const LAYER = ['input_layernorm', 'self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj', 'self_attn.o_proj', 'post_attention_layernorm', 'mlp.gate_proj', 'mlp.up_proj', 'mlp.down_proj'] as const;

/** Buffers for up to `capacity` rows of the given widths, and exact-size views of them per row count. */
class Arena {
  private capacity = 0;
  private backing: Buffers | undefined;
  private readonly sized = new Map<number, Buffers>();

  constructor(private readonly widths: Widths) {}

  /** Buffers of exactly `rows` rows (views of one allocation, kept per row count: no allocation per call). */
  get(rows: number): Buffers {
    const hit = this.sized.get(rows);
    if (hit) return hit;
    const keys = Object.keys(this.widths) as (keyof Buffers)[];
    if (!this.backing || rows > this.capacity) {
      this.capacity = Math.max(rows, this.capacity);
      this.backing = Object.fromEntries(keys.map((n) => [n, new Float32Array(this.capacity * this.widths[n])])) as unknown as Buffers;
      this.sized.clear();
    }
    const b = Object.fromEntries(keys.map((n) => [n, this.backing![n].subarray(0, rows * this.widths[n])])) as unknown as Buffers;
    this.sized.set(rows, b);
    return b;
  }
}

export class BlasDecoder {
  /** The weights in the order step() reads them: embedding, 9 per layer, final norm, then the untied head. */
  private readonly vars: tf.Variable[];
  /** Views of vars over the wasm heap, and the data each was taken from. */
  private views: F32[] = [];
  private viewed: unknown[] = [];
  /** Decoding buffers (logits for every row), prefill buffers (none), and the prefill's one row of logits. */
  private readonly decodeRows: Arena;
  private readonly prefillRows: Arena;
  private readonly last: F32;

  private constructor(
    private readonly model: LlamaModel,
    private readonly k: NativeAddon & Kernels,
  ) {
    const c = model.config;
    const get = (name: string) => {
      const v = model.params.get(name);
      if (!v) throw new Error(`decode: the model has no ${name}`);
      return v;
    };
    this.vars = [get('model.embed_tokens.weight')];
    for (let i = 0; i < c.num_hidden_layers; i++) for (const w of LAYER) this.vars.push(get(`model.layers.${i}.${w}.weight`));
    this.vars.push(get('model.norm.weight'));
    if (!c.tie_word_embeddings) this.vars.push(get('lm_head.weight'));
    const D = c.hidden_size;
    const KVd = c.num_key_value_heads * headDim(c);
    const I = c.intermediate_size;
    const widths = { x: D, h: D, q: D, k: KVd, v: KVd, ctx: D, t: D, g: I, u: I, a: I, rstd: 1 };
    this.decodeRows = new Arena({ ...widths, logits: c.vocab_size, lse: 0 });
    this.prefillRows = new Arena({ ...widths, logits: 0, lse: c.num_attention_heads });
    this.last = new Float32Array(c.vocab_size);
  }

  /**
   * The decoder when its kernels run here (wasm backend, a native addon with the decode kernels), else undefined.
   * Its products are batch-invariant by construction: a generator using it needs no row groups.
   */
  static for(model: LlamaModel): BlasDecoder | undefined {
    if (tf.getBackend() !== 'wasm') return undefined;
    const k = nativeWith<Kernels>('decodeMatmul', 'rmsNormForward', 'swigluForward', 'gatherRows', 'add', 'attentionForward');
    return k ? new BlasDecoder(model, k) : undefined;
  }

  /**
   * Views of the weights over the wasm heap. Kept from step to step, and taken again when the heap's buffer is
   * another (a tfjs allocation in between, such as a prefill, grew the heap) or a weight's data is another (the
   * model was updated).
   */
  private weights(): F32[] {
    const heap = wasmHeap(tf.backend());
    const probe = heap.f32(this.vars[0]);
    const vars = this.vars;
    let stale = this.views.length !== vars.length || this.views[0].buffer !== probe.buffer;
    for (let i = 0; !stale && i < vars.length; i++) stale = vars[i].dataId !== this.viewed[i];
    if (stale) {
      this.views = vars.map((v) => heap.f32(v));
      this.viewed = vars.map((v) => v.dataId);
    }
    return this.views;
  }

  /** One decoding step for ids [rows]: logits [rows, V] (a buffer reused by later calls). */
  step(ids: Int32Array, attend: RowAttention): F32 {
    const b = this.decodeRows.get(ids.length);
    this.layers(ids, b, attend);
    this.head(b, ids.length, b.logits);
    return b.logits;
  }

  /**
   * The forward over one prompt (ids [P]): `sink` sees each layer's keys and values (to fill the prompt's cache),
   * attention is causal over the prompt. Returns the last position's logits [V] (a buffer reused by later calls).
   */
  prefill(ids: Int32Array, rope: RopeTable, sink: KVSink): F32 {
    const P = ids.length;
    const c = this.model.config;
    const b = this.prefillRows.get(P);
    const H = c.num_attention_heads;
    const KV = c.num_key_value_heads;
    const hd = headDim(c);
    if (rope.cos.length < P * hd) throw new RangeError(`prefill: ${P} positions, rotary tables for ${rope.cos.length / hd}`);
    this.layers(ids, b, (layer, q, k, v, ctx) => {
      sink(layer, k, v);
      this.k.attentionForward(q, k, v, rope.cos, rope.sin, ctx, b.lse, 1, P, H, KV, hd);
    });
    const D = c.hidden_size;
    // Only the last position's logits are wanted: the head over its row alone.
    this.head({ ...b, x: b.x.subarray((P - 1) * D, P * D), h: b.h.subarray(0, D) }, 1, this.last);
    return this.last;
  }

  /** The layers over rows ids.length rows, from the embedding to the last residual (in b.x). */
  private layers(ids: Int32Array, b: Buffers, attend: RowAttention): void {
    const c = this.model.config;
    const R = ids.length;
    const D = c.hidden_size;
    const KVd = c.num_key_value_heads * headDim(c);
    const I = c.intermediate_size;
    const eps = c.rms_norm_eps;
    const w = this.weights();
    const k = this.k;
    k.gatherRows(w[0], ids, b.x, c.vocab_size, D);
    let p = 1;
    for (let i = 0; i < c.num_hidden_layers; i++, p += LAYER.length) {
      k.rmsNormForward(b.x, w[p], b.h, b.rstd, R, D, eps);
      k.decodeMatmul(b.h, w[p + 1], b.q, R, D, D, false);
      k.decodeMatmul(b.h, w[p + 2], b.k, R, KVd, D, false);
      k.decodeMatmul(b.h, w[p + 3], b.v, R, KVd, D, false);
      attend(i, b.q, b.k, b.v, b.ctx);
      k.decodeMatmul(b.ctx, w[p + 4], b.t, R, D, D, false);
      k.add(b.x, b.t, b.x);
      k.rmsNormForward(b.x, w[p + 5], b.h, b.rstd, R, D, eps);
      k.decodeMatmul(b.h, w[p + 6], b.g, R, I, D, false);
      k.decodeMatmul(b.h, w[p + 7], b.u, R, I, D, false);
      k.swigluForward(b.g, b.u, b.a, R * I);
      k.decodeMatmul(b.a, w[p + 8], b.t, R, D, I, false);
      k.add(b.x, b.t, b.x);
    }
  }

  /** logits [R, V] of the final hidden rows b.x [R, D] (b.h: scratch of R rows). */
  private head(b: Pick<Buffers, 'x' | 'h' | 'rstd'>, R: number, logits: F32): void {
    const c = this.model.config;
    const D = c.hidden_size;
    const w = this.weights();
    const p = 1 + c.num_hidden_layers * LAYER.length;
    this.k.rmsNormForward(b.x, w[p], b.h, b.rstd, R, D, c.rms_norm_eps);
    if (c.tie_word_embeddings) this.k.decodeMatmul(b.h, w[0], logits, R, c.vocab_size, D, true);
    else this.k.decodeMatmul(b.h, w[p + 1], logits, R, c.vocab_size, D, false);
  }
}
