// The decoding step without tfjs ops, for the wasm backend with the native addon: the blocks of model.decode()
// as direct calls of native kernels on the model's own weights (views over the wasm heap) and preallocated
// buffers, with no tfjs per-op bookkeeping (about 20-50 us per op, which dominated a step at small batch). The
// products are native/decode.cc's decodeMatmul, not sgemm: every output element is one fixed chain of operations
// whatever the number of rows, so a sequence's logits do not depend on the batch (no padded row groups, which
// OpenBLAS needs: src/sample/row-group.ts) and one row costs a matrix-vector product. RMSNorm and SwiGLU are the
// trainer kernels' arithmetic without waking threads for a small step. The results equal the tfjs path's up to
// float rounding (tested), not bit for bit: its products are OpenBLAS's or XNNPACK's.
import * as tf from '@tensorflow/tfjs';
import { headDim } from '../train/config.js';
import type { LlamaModel } from '../train/model.js';
import { nativeWith, type NativeAddon } from '../train/native.js';
import { wasmHeap } from '../train/ops/native-kernel.js';

type F32 = Float32Array;

/** The addon's kernels this path calls (native/decode.cc, gather.cc, elementwise.cc). */
interface Kernels {
  decodeMatmul(a: F32, w: F32, c: F32, M: number, N: number, K: number, transW: boolean): void;
  decodeRmsNorm(x: F32, w: F32, y: F32, rows: number, D: number, eps: number): void;
  decodeSwiglu(g: F32, u: F32, y: F32, n: number): void;
  gatherRows(table: F32, ids: Int32Array, out: F32, rows: number, inner: number): void;
  add(a: F32, b: F32, out: F32): void;
}

/** Attention of one step: fills ctx [rows, H*hd] from the q/k/v projections of the new tokens. */
export type RowAttention = (layer: number, q: F32, k: F32, v: F32, ctx: F32) => void;

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
  logits: F32;
}

/** Per-row widths of the buffers. */
type Widths = Record<keyof Buffers, number>;

const LAYER = ['input_layernorm', 'self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj', 'self_attn.o_proj', 'post_attention_layernorm', 'mlp.gate_proj', 'mlp.up_proj', 'mlp.down_proj'] as const;

export class BlasDecoder {
  /** The weights in the order step() reads them: embedding, 9 per layer, final norm, then the untied head. */
  private readonly vars: tf.Variable[];
  /** Views of vars over the wasm heap, and the data each was taken from. */
  private views: F32[] = [];
  private viewed: unknown[] = [];
  private readonly widths: Widths;
  /** Buffers for up to `capacity` rows, and exact-size views of them per row count. */
  private capacity = 0;
  private backing: Buffers | undefined;
  private readonly sized = new Map<number, Buffers>();

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
    this.widths = { x: D, h: D, q: D, k: KVd, v: KVd, ctx: D, t: D, g: I, u: I, a: I, logits: c.vocab_size };
  }

  /**
   * The decoder when its kernels run here (wasm backend, a native addon with the decode kernels), else undefined.
   * Its products are batch-invariant by construction: a generator using it needs no row groups.
   */
  static for(model: LlamaModel): BlasDecoder | undefined {
    if (tf.getBackend() !== 'wasm') return undefined;
    const k = nativeWith<Kernels>('decodeMatmul', 'decodeRmsNorm', 'decodeSwiglu', 'gatherRows', 'add');
    return k ? new BlasDecoder(model, k) : undefined;
  }

  /** Buffers of exactly `rows` rows (views of one allocation, kept per row count: no allocation per step). */
  private buffers(rows: number): Buffers {
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
    const c = this.model.config;
    const R = ids.length;
    const { x: D, k: KVd, g: I, logits: V } = this.widths;
    const eps = c.rms_norm_eps;
    const b = this.buffers(R);
    const w = this.weights();
    const k = this.k;
    const embed = w[0];
    k.gatherRows(embed, ids, b.x, V, D);
    let p = 1;
    for (let i = 0; i < c.num_hidden_layers; i++, p += LAYER.length) {
      k.decodeRmsNorm(b.x, w[p], b.h, R, D, eps);
      k.decodeMatmul(b.h, w[p + 1], b.q, R, D, D, false);
      k.decodeMatmul(b.h, w[p + 2], b.k, R, KVd, D, false);
      k.decodeMatmul(b.h, w[p + 3], b.v, R, KVd, D, false);
      attend(i, b.q, b.k, b.v, b.ctx);
      k.decodeMatmul(b.ctx, w[p + 4], b.t, R, D, D, false);
      k.add(b.x, b.t, b.x);
      k.decodeRmsNorm(b.x, w[p + 5], b.h, R, D, eps);
      k.decodeMatmul(b.h, w[p + 6], b.g, R, I, D, false);
      k.decodeMatmul(b.h, w[p + 7], b.u, R, I, D, false);
      k.decodeSwiglu(b.g, b.u, b.a, R * I);
      k.decodeMatmul(b.a, w[p + 8], b.t, R, D, I, false);
      k.add(b.x, b.t, b.x);
    }
    k.decodeRmsNorm(b.x, w[p], b.h, R, D, eps);
    if (c.tie_word_embeddings) k.decodeMatmul(b.h, embed, b.logits, R, V, D, true);
    else k.decodeMatmul(b.h, w[p + 1], b.logits, R, V, D, false);
    return b.logits;
  }
}
