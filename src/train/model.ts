// A Llama-style decoder (the architecture of Hugging Face's LlamaForCausalLM): token embedding, N blocks of
// [RMSNorm -> causal self-attention with rotary positions (HF's rotate_half convention) and optional grouped-query
// heads -> residual, RMSNorm -> SwiGLU MLP -> residual], final RMSNorm, tied or untied LM head.
//
// Parameters are tf.Variables keyed by their Hugging Face names. Linear weights are held as [in, out] (HF stores
// [out, in]) so the forward pass is a plain A x W product; toTensors()/fromTensors() convert at the file boundary.
import * as tf from '@tensorflow/tfjs';
import type { TokenScorer } from '../model/types.js';
import { type LlamaConfig, headDim, parameterShapes } from './config.js';
import type { NamedTensor } from './safetensors.js';
import { Rng } from '../util/rng.js';
import { causalAttention, ropeTables, type RopeTables } from './ops/attention.js';
import { crossEntropy } from './ops/cross-entropy.js';
import { rmsNorm } from './ops/rms-norm.js';
import { swiglu } from './ops/swiglu.js';

/** Linear weights: stored transposed relative to Hugging Face. */
export function isLinear(name: string): boolean {
  return name.endsWith('_proj.weight') || name === 'lm_head.weight';
}

/** Norm weights (and biases, had we any) get no weight decay. */
export function isDecayed(name: string): boolean {
  return !name.endsWith('norm.weight') && !name.endsWith('.bias');
}

function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

/** HF layout <-> internal layout for one parameter (or optimizer moment) of the given HF shape. */
export function toInternal(name: string, hfShape: number[], data: Float32Array): { shape: number[]; data: Float32Array } {
  if (!isLinear(name)) return { shape: hfShape, data };
  return { shape: [hfShape[1], hfShape[0]], data: transpose2d(data, hfShape[0], hfShape[1]) };
}

export function toHF(name: string, internalShape: number[], data: Float32Array): { shape: number[]; data: Float32Array } {
  if (!isLinear(name)) return { shape: internalShape, data };
  return { shape: [internalShape[1], internalShape[0]], data: transpose2d(data, internalShape[0], internalShape[1]) };
}

/**
 * Sees each layer's key and value projections ([B*T, KV*hd], before rotary positions) during hidden(): how a
 * prompt's forward fills a KV cache. The tensors belong to the caller's tidy; read them, do not keep them.
 */
export type KVObserver = (layer: number, k: tf.Tensor2D, v: tf.Tensor2D) => void;

/**
 * Attention for one decoding step: from a layer's q/k/v projections of the new tokens ([N, H*hd], [N, KV*hd],
 * [N, KV*hd]) to the context [N, H*hd] that o_proj reads. The KV cache lives in the callback (src/sample).
 */
export type CachedAttention = (layer: number, q: tf.Tensor2D, k: tf.Tensor2D, v: tf.Tensor2D) => tf.Tensor2D;

export class LlamaModel implements TokenScorer {
  readonly params: Map<string, tf.Variable>;
  private readonly ropeCache = new Map<number, RopeTables>();

  private constructor(
    readonly config: LlamaConfig,
    params: Map<string, tf.Variable>,
  ) {
    this.params = params;
  }

  /** Llama initialisation as in HF: N(0, initializer_range) for linear and embedding weights, ones for norms. */
  static init(config: LlamaConfig, rng: Rng): LlamaModel {
    const params = new Map<string, tf.Variable>();
    for (const [name, shape] of parameterShapes(config)) {
      const n = shape.reduce((a, b) => a * b, 1);
      const hf = name.endsWith('norm.weight') ? new Float32Array(n).fill(1) : rng.normalArray(n, config.initializer_range);
      const { shape: s, data } = toInternal(name, shape, hf);
      params.set(name, tf.tidy(() => tf.variable(tf.tensor(data, s, 'float32'), true, name)));
    }
    return new LlamaModel(config, params);
  }

  /**
   * Build from HF-layout tensors (a loaded model.safetensors). A second model in the same process (GRPO's frozen
   * reference) needs its own variable names (`namePrefix`; the parameter keys stay the HF names) and no gradients.
   */
  static fromTensors(config: LlamaConfig, get: (name: string) => NamedTensor, where: string, o: { namePrefix?: string; trainable?: boolean } = {}): LlamaModel {
    const params = new Map<string, tf.Variable>();
    for (const [name, shape] of parameterShapes(config)) {
      const t = get(name);
      if (JSON.stringify(t.shape) !== JSON.stringify(shape)) {
        for (const v of params.values()) v.dispose();
        throw new Error(`${where}: tensor ${name} has shape ${JSON.stringify(t.shape)}, config says ${JSON.stringify(shape)}`);
      }
      const { shape: s, data } = toInternal(name, shape, t.data as Float32Array);
      params.set(name, tf.tidy(() => tf.variable(tf.tensor(data, s, 'float32'), o.trainable ?? true, `${o.namePrefix ?? ''}${name}`)));
    }
    return new LlamaModel(config, params);
  }

  /** All parameters in HF names and layout, ready for safetensors. */
  async toTensors(): Promise<Map<string, NamedTensor>> {
    const out = new Map<string, NamedTensor>();
    for (const [name, v] of this.params) {
      const { shape, data } = toHF(name, v.shape, (await v.data()) as Float32Array);
      out.set(name, { dtype: 'F32', shape, data });
    }
    return out;
  }

  private p(name: string): tf.Variable {
    return this.params.get(name)!;
  }

  /** RoPE tables and causal mask for sequence length T, built once per length. */
  private tables(T: number): RopeTables {
    let c = this.ropeCache.get(T);
    if (!c) {
      // Cached across steps, so kept out of the caller's tidy.
      c = ropeTables(T, headDim(this.config), this.config.rope_theta);
      for (const t of Object.values(c)) tf.keep(t);
      this.ropeCache.set(T, c);
    }
    return c;
  }

  private attention(h2: tf.Tensor2D, i: number, B: number, T: number, kv?: KVObserver, segments?: Int32Array): tf.Tensor2D {
    const cfg = this.config;
    const pre = `model.layers.${i}.self_attn`;
    const shape = { B, T, H: cfg.num_attention_heads, KV: cfg.num_key_value_heads, hd: headDim(cfg) };
    const proj = (name: string) => tf.matMul(h2, this.p(`${pre}.${name}.weight`)) as tf.Tensor2D;
    const [q, k, v] = [proj('q_proj'), proj('k_proj'), proj('v_proj')];
    kv?.(i, k, v);
    return tf.matMul(causalAttention(q, k, v, shape, this.tables(T), segments), this.p(`${pre}.o_proj.weight`));
  }

  private mlp(h2: tf.Tensor2D, i: number): tf.Tensor2D {
    const pre = `model.layers.${i}.mlp`;
    const g = tf.matMul(h2, this.p(`${pre}.gate_proj.weight`));
    const u = tf.matMul(h2, this.p(`${pre}.up_proj.weight`));
    return tf.matMul(swiglu(g, u) as tf.Tensor2D, this.p(`${pre}.down_proj.weight`));
  }

  /**
   * Final hidden states [B*T, D] for token ids [B, T]. Call inside tf.tidy. `kv` sees each layer's keys and values;
   * `segments` packs several sequences per row, each attending only to itself (see ops/attention).
   */
  hidden(ids: tf.Tensor2D, kv?: KVObserver, segments?: Int32Array): tf.Tensor2D {
    const [B, T] = ids.shape;
    if (T > this.config.max_position_embeddings) throw new RangeError(`sequence length ${T} exceeds max_position_embeddings ${this.config.max_position_embeddings}`);
    let x = tf.gather(this.p('model.embed_tokens.weight'), tf.reshape(ids, [B * T])) as tf.Tensor2D;
    for (let i = 0; i < this.config.num_hidden_layers; i++) {
      const pre = `model.layers.${i}`;
      x = tf.add(x, this.attention(rmsNorm(x, this.p(`${pre}.input_layernorm.weight`), this.config.rms_norm_eps) as tf.Tensor2D, i, B, T, kv, segments));
      x = tf.add(x, this.mlp(rmsNorm(x, this.p(`${pre}.post_attention_layernorm.weight`), this.config.rms_norm_eps) as tf.Tensor2D, i));
    }
    return rmsNorm(x, this.p('model.norm.weight'), this.config.rms_norm_eps) as tf.Tensor2D;
  }

  /** Logits [N, V] of final hidden states [N, D]. Call inside tf.tidy. */
  head(h: tf.Tensor2D): tf.Tensor2D {
    return this.config.tie_word_embeddings ? tf.matMul(h, this.p('model.embed_tokens.weight'), false, true) : tf.matMul(h, this.p('lm_head.weight'));
  }

  /** Logits [B*T, V]. Call inside tf.tidy. */
  logits(ids: tf.Tensor2D, segments?: Int32Array): tf.Tensor2D {
    return this.head(this.hidden(ids, undefined, segments));
  }

  /**
   * One decoding step of N independent sequences, one new token each (ids [N]): the blocks of hidden() with
   * attention supplied by `attend` (which applies the rotary positions of each sequence and reads its KV cache).
   * Returns logits [N, V]. Every op here works row by row, so a row's result does not depend on the other rows
   * except through the products (see src/sample/generator.ts on batch invariance). Call inside tf.tidy.
   */
  decode(ids: tf.Tensor1D, attend: CachedAttention): tf.Tensor2D {
    const cfg = this.config;
    let x = tf.gather(this.p('model.embed_tokens.weight'), ids) as tf.Tensor2D;
    for (let i = 0; i < cfg.num_hidden_layers; i++) {
      const pre = `model.layers.${i}`;
      const h = rmsNorm(x, this.p(`${pre}.input_layernorm.weight`), cfg.rms_norm_eps) as tf.Tensor2D;
      const proj = (name: string) => tf.matMul(h, this.p(`${pre}.self_attn.${name}.weight`)) as tf.Tensor2D;
      const ctx = attend(i, proj('q_proj'), proj('k_proj'), proj('v_proj'));
      x = tf.add(x, tf.matMul(ctx, this.p(`${pre}.self_attn.o_proj.weight`)));
      x = tf.add(x, this.mlp(rmsNorm(x, this.p(`${pre}.post_attention_layernorm.weight`), cfg.rms_norm_eps) as tf.Tensor2D, i));
    }
    return this.head(rmsNorm(x, this.p('model.norm.weight'), cfg.rms_norm_eps) as tf.Tensor2D);
  }

  /**
   * Mean next-token cross-entropy over positions with weight > 0 (weights: [B, T], e.g. SFT's response mask;
   * omitted means every position). targets [B, T] int32. Call inside tf.tidy / variableGrads.
   */
  loss(ids: tf.Tensor2D, targets: tf.Tensor2D, weights?: tf.Tensor2D, o: { normalize?: boolean; segments?: Int32Array } = {}): tf.Scalar {
    const [B, T] = ids.shape;
    const w = weights ? tf.reshape(weights, [B * T]) : tf.fill([B * T], 1);
    // normalize: false takes the weights as they are (they already sum to this batch's share of a step).
    const scaled = o.normalize === false ? w : tf.div(w, tf.maximum(tf.sum(w), 1e-9));
    return crossEntropy(this.logits(ids, o.segments), tf.reshape(targets, [B * T]) as tf.Tensor1D, scaled as tf.Tensor1D);
  }

  /** Differentiable log p(targets) per position, [B, T] (for GRPO's ratio and KL terms). */
  tokenLogprobs(ids: tf.Tensor2D, targets: tf.Tensor2D): tf.Tensor2D {
    const [B, T] = ids.shape;
    const logits = this.logits(ids);
    const V = logits.shape[1];
    const lse = tf.logSumExp(logits, 1);
    const picked = tf.gather(tf.reshape(logits, [-1]), tf.add(tf.mul(tf.range(0, B * T, 1, 'int32'), tf.scalar(V, 'int32')), tf.reshape(targets, [B * T])));
    return tf.reshape(tf.sub(picked, lse), [B, T]) as tf.Tensor2D;
  }

  /** TokenScorer: out[t] = log p(tokens[t+1] | tokens[..t]). Sequences are right-padded into one batch. */
  async logprobs(sequences: number[][]): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (const s of sequences) if (s.length > this.config.max_position_embeddings + 1) throw new RangeError(`sequence of ${s.length} tokens is longer than the model's context`);
    const T = Math.max(1, ...sequences.map((s) => s.length - 1));
    const ids = new Int32Array(sequences.length * T);
    const tg = new Int32Array(sequences.length * T);
    sequences.forEach((s, b) => {
      for (let t = 0; t < s.length - 1; t++) {
        ids[b * T + t] = s[t];
        tg[b * T + t] = s[t + 1];
      }
    });
    const lp = tf.tidy(() => this.tokenLogprobs(tf.tensor2d(ids, [sequences.length, T], 'int32'), tf.tensor2d(tg, [sequences.length, T], 'int32')));
    const all = (await lp.data()) as Float32Array;
    lp.dispose();
    sequences.forEach((s, b) => out.push(all.slice(b * T, b * T + Math.max(0, s.length - 1))));
    return out;
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
    for (const c of this.ropeCache.values()) tf.dispose([c.cos, c.sin, c.mask, c.rot]);
    this.ropeCache.clear();
  }
}
