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
  rows: number;
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

export class BlasDecoder {
  private bufs: Buffers | undefined;

  private constructor(
    private readonly model: LlamaModel,
    private readonly k: NativeAddon & Kernels,
  ) {}

  /**
   * The decoder when its kernels run here (wasm backend, a native addon with the decode kernels), else undefined.
   * Its products are batch-invariant by construction: a generator using it needs no row groups.
   */
  static for(model: LlamaModel): BlasDecoder | undefined {
    if (tf.getBackend() !== 'wasm') return undefined;
    const k = nativeWith<Kernels>('decodeMatmul', 'decodeRmsNorm', 'decodeSwiglu', 'gatherRows', 'add');
    return k ? new BlasDecoder(model, k) : undefined;
  }

  private buffers(rows: number): Buffers {
    if (this.bufs?.rows === rows) return this.bufs;
    const c = this.model.config;
    const D = c.hidden_size;
    const KVd = c.num_key_value_heads * headDim(c);
    const I = c.intermediate_size;
    const f = (n: number) => new Float32Array(rows * n);
    return (this.bufs = { rows, x: f(D), h: f(D), q: f(D), k: f(KVd), v: f(KVd), ctx: f(D), t: f(D), g: f(I), u: f(I), a: f(I), logits: f(c.vocab_size) });
  }

  /**
   * One decoding step for ids [rows]: logits [rows, V] (a buffer reused by the next call). Weight views are taken
   * here, each step: a tfjs allocation in between (a prefill) may have grown the wasm heap and detached older views.
   */
  step(ids: Int32Array, attend: RowAttention): F32 {
    const c = this.model.config;
    const R = ids.length;
    const D = c.hidden_size;
    const KVd = c.num_key_value_heads * headDim(c);
    const I = c.intermediate_size;
    const V = c.vocab_size;
    const eps = c.rms_norm_eps;
    const b = this.buffers(R);
    const heap = wasmHeap(tf.backend());
    const w = (name: string) => heap.f32(this.model.params.get(name)!);
    const k = this.k;
    const mm = (a: F32, wt: F32, out: F32, n: number, kk: number, transW = false) => k.decodeMatmul(a, wt, out, R, n, kk, transW);
    const embed = w('model.embed_tokens.weight');
    k.gatherRows(embed, ids, b.x, V, D);
    for (let i = 0; i < c.num_hidden_layers; i++) {
      const pre = `model.layers.${i}`;
      k.decodeRmsNorm(b.x, w(`${pre}.input_layernorm.weight`), b.h, R, D, eps);
      mm(b.h, w(`${pre}.self_attn.q_proj.weight`), b.q, D, D);
      mm(b.h, w(`${pre}.self_attn.k_proj.weight`), b.k, KVd, D);
      mm(b.h, w(`${pre}.self_attn.v_proj.weight`), b.v, KVd, D);
      attend(i, b.q, b.k, b.v, b.ctx);
      mm(b.ctx, w(`${pre}.self_attn.o_proj.weight`), b.t, D, D);
      k.add(b.x, b.t, b.x);
      k.decodeRmsNorm(b.x, w(`${pre}.post_attention_layernorm.weight`), b.h, R, D, eps);
      mm(b.h, w(`${pre}.mlp.gate_proj.weight`), b.g, I, D);
      mm(b.h, w(`${pre}.mlp.up_proj.weight`), b.u, I, D);
      k.decodeSwiglu(b.g, b.u, b.a, R * I);
      mm(b.a, w(`${pre}.mlp.down_proj.weight`), b.t, D, I);
      k.add(b.x, b.t, b.x);
    }
    k.decodeRmsNorm(b.x, w('model.norm.weight'), b.h, R, D, eps);
    if (c.tie_word_embeddings) mm(b.h, embed, b.logits, V, D, true);
    else mm(b.h, w('lm_head.weight'), b.logits, V, D);
    return b.logits;
  }
}
