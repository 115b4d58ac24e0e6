// The decoding step without tfjs ops, for the wasm backend with the native addon and OpenBLAS: the blocks of
// model.decode() as direct calls of the kernels tfjs would have dispatched to (sgemm on OpenBLAS, the native
// RMSNorm, SwiGLU, row gather and add), on the model's own weights (views over the wasm heap) and preallocated
// buffers. The arithmetic is the same calls with the same arguments as the tfjs path, so the results are the
// same bits (tested); what goes away is tfjs's per-op bookkeeping, about 20-50 us per op, which dominated a step
// at small batch (35+ ops per step for two layers).
import * as tf from '@tensorflow/tfjs';
import { headDim } from '../train/config.js';
import { productsOnBlas } from '../train/kernels.js';
import type { LlamaModel } from '../train/model.js';
import { nativeWith, type NativeAddon } from '../train/native.js';
import { wasmHeap } from '../train/ops/native-kernel.js';

type F32 = Float32Array;

/** The addon's kernels this path calls (native/*.cc). */
interface Kernels {
  rmsNormForward(x: F32, w: F32, y: F32, rstd: F32, rows: number, D: number, eps: number): void;
  swigluForward(g: F32, u: F32, y: F32, n: number): void;
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
  rstd: F32;
  logits: F32;
}

export class BlasDecoder {
  private bufs: Buffers | undefined;

  private constructor(
    private readonly model: LlamaModel,
    private readonly k: NativeAddon & Kernels,
  ) {}

  /** The decoder when its kernels run here (wasm backend, native addon, products on OpenBLAS), else undefined. */
  static for(model: LlamaModel): BlasDecoder | undefined {
    if (tf.getBackend() !== 'wasm' || !productsOnBlas()) return undefined;
    const k = nativeWith<Kernels>('rmsNormForward', 'swigluForward', 'gatherRows', 'add');
    return k ? new BlasDecoder(model, k) : undefined;
  }

  private buffers(rows: number): Buffers {
    if (this.bufs?.rows === rows) return this.bufs;
    const c = this.model.config;
    const D = c.hidden_size;
    const KVd = c.num_key_value_heads * headDim(c);
    const I = c.intermediate_size;
    const f = (n: number) => new Float32Array(rows * n);
    return (this.bufs = { rows, x: f(D), h: f(D), q: f(D), k: f(KVd), v: f(KVd), ctx: f(D), t: f(D), g: f(I), u: f(I), a: f(I), rstd: f(1), logits: f(c.vocab_size) });
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
    const mm = (a: F32, wt: F32, out: F32, n: number, kk: number, transB = false) => k.sgemm(a, wt, out, 1, R, n, kk, false, transB, 0, 0, 0);
    const embed = w('model.embed_tokens.weight');
    k.gatherRows(embed, ids, b.x, V, D);
    for (let i = 0; i < c.num_hidden_layers; i++) {
      const pre = `model.layers.${i}`;
      k.rmsNormForward(b.x, w(`${pre}.input_layernorm.weight`), b.h, b.rstd, R, D, eps);
      mm(b.h, w(`${pre}.self_attn.q_proj.weight`), b.q, D, D);
      mm(b.h, w(`${pre}.self_attn.k_proj.weight`), b.k, KVd, D);
      mm(b.h, w(`${pre}.self_attn.v_proj.weight`), b.v, KVd, D);
      attend(i, b.q, b.k, b.v, b.ctx);
      mm(b.ctx, w(`${pre}.self_attn.o_proj.weight`), b.t, D, D);
      k.add(b.x, b.t, b.x);
      k.rmsNormForward(b.x, w(`${pre}.post_attention_layernorm.weight`), b.h, b.rstd, R, D, eps);
      mm(b.h, w(`${pre}.mlp.gate_proj.weight`), b.g, I, D);
      mm(b.h, w(`${pre}.mlp.up_proj.weight`), b.u, I, D);
      k.swigluForward(b.g, b.u, b.a, R * I);
      mm(b.a, w(`${pre}.mlp.down_proj.weight`), b.t, D, I);
      k.add(b.x, b.t, b.x);
    }
    k.rmsNormForward(b.x, w('model.norm.weight'), b.h, b.rstd, R, D, eps);
    if (c.tie_word_embeddings) mm(b.h, embed, b.logits, V, D, true);
    else mm(b.h, w('lm_head.weight'), b.logits, V, D);
    return b.logits;
  }
}
