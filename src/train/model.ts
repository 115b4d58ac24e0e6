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
import { Rng } from './rng.js';

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

export class LlamaModel implements TokenScorer {
  readonly params: Map<string, tf.Variable>;
  private readonly ropeCache = new Map<number, { cos: tf.Tensor2D; sin: tf.Tensor2D; mask: tf.Tensor2D; rot: tf.Tensor2D }>();

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
      params.set(name, tf.variable(tf.tensor(data, s, 'float32'), true, name));
    }
    return new LlamaModel(config, params);
  }

  /** Build from HF-layout tensors (a loaded model.safetensors). */
  static fromTensors(config: LlamaConfig, get: (name: string) => NamedTensor, where: string): LlamaModel {
    const params = new Map<string, tf.Variable>();
    for (const [name, shape] of parameterShapes(config)) {
      const t = get(name);
      if (JSON.stringify(t.shape) !== JSON.stringify(shape)) {
        for (const v of params.values()) v.dispose();
        throw new Error(`${where}: tensor ${name} has shape ${JSON.stringify(t.shape)}, config says ${JSON.stringify(shape)}`);
      }
      const { shape: s, data } = toInternal(name, shape, t.data as Float32Array);
      params.set(name, tf.variable(tf.tensor(data, s, 'float32'), true, name));
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

  /** cos/sin tables [T, headDim] (HF: emb = cat(freqs, freqs)) and the additive causal mask [T, T]. */
  private tables(T: number): { cos: tf.Tensor2D; sin: tf.Tensor2D; mask: tf.Tensor2D; rot: tf.Tensor2D } {
    let c = this.ropeCache.get(T);
    if (!c) {
      const hd = headDim(this.config);
      const half = hd / 2;
      const cos = new Float32Array(T * hd);
      const sin = new Float32Array(T * hd);
      for (let t = 0; t < T; t++)
        for (let i = 0; i < half; i++) {
          // HF computes inv_freq in float32; round the same way so angles match bit for bit at small t.
          const invFreq = Math.fround(1 / Math.pow(this.config.rope_theta, Math.fround((2 * i) / hd)));
          const a = Math.fround(t * invFreq);
          cos[t * hd + i] = cos[t * hd + i + half] = Math.cos(a);
          sin[t * hd + i] = sin[t * hd + i + half] = Math.sin(a);
        }
      const mask = new Float32Array(T * T);
      for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) mask[i * T + j] = -1e9;
      // (x @ rot)[j] = -x[j + half] for j < half, x[j - half] otherwise.
      const rot = new Float32Array(hd * hd);
      for (let j = 0; j < half; j++) {
        rot[(j + half) * hd + j] = -1;
        rot[j * hd + j + half] = 1;
      }
      c = tf.tidy(() => ({
        rot: tf.keep(tf.tensor2d(rot, [hd, hd])),
        cos: tf.keep(tf.tensor2d(cos, [T, hd])),
        sin: tf.keep(tf.tensor2d(sin, [T, hd])),
        mask: tf.keep(tf.tensor2d(mask, [T, T])),
      }));
      this.ropeCache.set(T, c);
    }
    return c;
  }

  private rmsNorm(x: tf.Tensor, w: tf.Tensor): tf.Tensor {
    const ms = tf.mean(tf.square(x), -1, true);
    return tf.mul(tf.mul(x, tf.rsqrt(tf.add(ms, this.config.rms_norm_eps))), w);
  }

  /**
   * x * cos + rotate_half(x) * sin, rotate_half(x) = cat(-x[..., d/2:], x[..., :d/2]). rotate_half is a signed
   * permutation, applied as a product with a constant [hd, hd] matrix: one matmul (forward and backward)
   * instead of split + neg + concat and their gradients.
   */
  private rope(x: tf.Tensor4D, cos: tf.Tensor2D, sin: tf.Tensor2D, rot: tf.Tensor2D): tf.Tensor4D {
    return tf.add(tf.mul(x, cos), tf.mul(tf.matMul(x, rot), sin)) as tf.Tensor4D;
  }

  private attention(h2: tf.Tensor2D, i: number, B: number, T: number): tf.Tensor2D {
    const cfg = this.config;
    const H = cfg.num_attention_heads;
    const KV = cfg.num_key_value_heads;
    const hd = headDim(cfg);
    const pre = `model.layers.${i}.self_attn`;
    const { cos, sin, mask, rot } = this.tables(T);
    const heads = (x: tf.Tensor2D, n: number) => tf.transpose(tf.reshape(x, [B, T, n, hd]), [0, 2, 1, 3]) as tf.Tensor4D;
    const q = this.rope(heads(tf.matMul(h2, this.p(`${pre}.q_proj.weight`)), H), cos, sin, rot);
    let k = this.rope(heads(tf.matMul(h2, this.p(`${pre}.k_proj.weight`)), KV), cos, sin, rot);
    let v = heads(tf.matMul(h2, this.p(`${pre}.v_proj.weight`)), KV);
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
    const merged = tf.reshape(tf.transpose(ctx, [0, 2, 1, 3]), [B * T, H * hd]) as tf.Tensor2D;
    return tf.matMul(merged, this.p(`${pre}.o_proj.weight`));
  }

  private mlp(h2: tf.Tensor2D, i: number): tf.Tensor2D {
    const pre = `model.layers.${i}.mlp`;
    const g = tf.matMul(h2, this.p(`${pre}.gate_proj.weight`));
    const u = tf.matMul(h2, this.p(`${pre}.up_proj.weight`));
    return tf.matMul(tf.mul(tf.mul(g, tf.sigmoid(g)), u), this.p(`${pre}.down_proj.weight`));
  }

  /** Final hidden states [B*T, D] for token ids [B, T]. Call inside tf.tidy. */
  hidden(ids: tf.Tensor2D): tf.Tensor2D {
    const [B, T] = ids.shape;
    if (T > this.config.max_position_embeddings) throw new RangeError(`sequence length ${T} exceeds max_position_embeddings ${this.config.max_position_embeddings}`);
    let x = tf.gather(this.p('model.embed_tokens.weight'), tf.reshape(ids, [B * T])) as tf.Tensor2D;
    for (let i = 0; i < this.config.num_hidden_layers; i++) {
      const pre = `model.layers.${i}`;
      x = tf.add(x, this.attention(this.rmsNorm(x, this.p(`${pre}.input_layernorm.weight`)) as tf.Tensor2D, i, B, T));
      x = tf.add(x, this.mlp(this.rmsNorm(x, this.p(`${pre}.post_attention_layernorm.weight`)) as tf.Tensor2D, i));
    }
    return this.rmsNorm(x, this.p('model.norm.weight')) as tf.Tensor2D;
  }

  /** Logits [B*T, V]. Call inside tf.tidy. */
  logits(ids: tf.Tensor2D): tf.Tensor2D {
    const h = this.hidden(ids);
    return this.config.tie_word_embeddings ? tf.matMul(h, this.p('model.embed_tokens.weight'), false, true) : tf.matMul(h, this.p('lm_head.weight'));
  }

  /**
   * Mean next-token cross-entropy over positions with weight > 0 (weights: [B, T], e.g. SFT's response mask;
   * omitted means every position). targets [B, T] int32. Call inside tf.tidy / variableGrads.
   */
  loss(ids: tf.Tensor2D, targets: tf.Tensor2D, weights?: tf.Tensor2D): tf.Scalar {
    const [B, T] = ids.shape;
    const w = weights ? tf.reshape(weights, [B * T]) : tf.fill([B * T], 1);
    const norm = tf.maximum(tf.sum(w), 1e-9);
    return crossEntropy(this.logits(ids), tf.reshape(targets, [B * T]) as tf.Tensor1D, tf.div(w, norm) as tf.Tensor1D);
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

/**
 * sum_i w_i * (logsumexp(logits_i) - logits_i[target_i]), with the fused gradient (softmax - onehot) * w:
 * one [N, V] softmax instead of the chain of max/sub/exp/sum/log/gather gradients autodiff would build.
 */
export const crossEntropy = (logits: tf.Tensor2D, targets: tf.Tensor1D, weights: tf.Tensor1D): tf.Scalar =>
  ceOp(logits, targets, weights) as tf.Scalar;

const ceOp = tf.customGrad((...args: unknown[]) => {
  const [logits, targets, weights, save] = args as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
  const [N, V] = logits.shape;
  // exp(logits - max) is kept for the gradient, so the [N, V] exponentials are computed once per step.
  const m = tf.max(logits, 1, true);
  const e = tf.exp(tf.sub(logits, m));
  const s = tf.sum(e, 1);
  const lse = tf.add(tf.log(s), tf.reshape(m, [N]));
  const flat = tf.add(tf.mul(tf.range(0, N, 1, 'int32'), tf.scalar(V, 'int32')), targets);
  const picked = tf.gather(tf.reshape(logits, [-1]), flat);
  save([e, s, flat, weights]);
  return {
    value: tf.sum(tf.mul(tf.sub(lse, picked), weights)),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [ex, sum, fl, w] = saved as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
      const wdy = tf.mul(w, dy);
      const probs = tf.mul(ex, tf.reshape(tf.div(wdy, sum), [N, 1]));
      // The one-hot term as a scatter into the flat logits (wasm's OneHot writes float32 output wrongly in 4.22).
      const hot = tf.reshape(tf.unsortedSegmentSum(wdy, fl, N * V), [N, V]);
      return [tf.sub(probs, hot), tf.zerosLike(targets), tf.zerosLike(w)];
    },
  };
});
