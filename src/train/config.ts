// The model configuration in Hugging Face Llama `config.json` form, so a checkpoint loads in transformers
// (LlamaForCausalLM) and vLLM without conversion. Presets are named starting points for --model.
import { readFileSync } from 'node:fs';
import { DataError, UsageError } from '../cli/errors.js';

export interface LlamaConfig {
  architectures: string[];
  model_type: 'llama';
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads: number;
  max_position_embeddings: number;
  rope_theta: number;
  rms_norm_eps: number;
  tie_word_embeddings: boolean;
  hidden_act: 'silu';
  initializer_range: number;
  attention_bias: false;
  mlp_bias: false;
  torch_dtype: 'float32';
  bos_token_id?: number;
  eos_token_id?: number;
}

type Shape = Pick<
  LlamaConfig,
  'vocab_size' | 'hidden_size' | 'intermediate_size' | 'num_hidden_layers' | 'num_attention_heads' | 'num_key_value_heads' | 'max_position_embeddings' | 'tie_word_embeddings'
>;

/** Presets. `deepseek-math-7b` is DeepSeekMath-Base's shape, for parameter counts and for scaling plans. */
export const PRESETS: Record<string, Shape> = {
  tiny: { vocab_size: 512, hidden_size: 64, intermediate_size: 176, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 256, tie_word_embeddings: true },
  bench: { vocab_size: 512, hidden_size: 128, intermediate_size: 352, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 4, max_position_embeddings: 128, tie_word_embeddings: false },
  small: { vocab_size: 8192, hidden_size: 256, intermediate_size: 688, num_hidden_layers: 4, num_attention_heads: 8, num_key_value_heads: 4, max_position_embeddings: 512, tie_word_embeddings: true },
  base: { vocab_size: 32000, hidden_size: 768, intermediate_size: 2048, num_hidden_layers: 12, num_attention_heads: 12, num_key_value_heads: 12, max_position_embeddings: 1024, tie_word_embeddings: false },
  '1b': { vocab_size: 102400, hidden_size: 2048, intermediate_size: 5504, num_hidden_layers: 16, num_attention_heads: 16, num_key_value_heads: 16, max_position_embeddings: 4096, tie_word_embeddings: false },
  'deepseek-math-7b': { vocab_size: 102400, hidden_size: 4096, intermediate_size: 11008, num_hidden_layers: 30, num_attention_heads: 32, num_key_value_heads: 32, max_position_embeddings: 4096, tie_word_embeddings: false },
};

export function makeConfig(shape: Shape, extra: Partial<LlamaConfig> = {}): LlamaConfig {
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    ...shape,
    rope_theta: 10000,
    rms_norm_eps: 1e-6,
    hidden_act: 'silu',
    initializer_range: 0.02,
    attention_bias: false,
    mlp_bias: false,
    torch_dtype: 'float32',
    ...extra,
  };
}

/** `--model`: a preset name or a path to a config.json. */
export function resolveModelConfig(spec: string): LlamaConfig {
  if (PRESETS[spec]) return makeConfig(PRESETS[spec]);
  if (!/[/.]/.test(spec)) throw new UsageError(`unknown model preset "${spec}" (presets: ${Object.keys(PRESETS).join(', ')}; or give a config.json path)`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(spec, 'utf8'));
  } catch (e) {
    throw new DataError(spec, `cannot read model config: ${(e as Error).message}`);
  }
  return validateConfig(raw, spec);
}

export function validateConfig(raw: unknown, where: string): LlamaConfig {
  if (typeof raw !== 'object' || raw === null) throw new DataError(where, 'config is not a JSON object');
  const r = raw as Record<string, unknown>;
  if (r.model_type !== undefined && r.model_type !== 'llama') throw new DataError(where, `model_type "${String(r.model_type)}" is not supported (llama only)`);
  const int = (k: string, dflt?: number): number => {
    const v = r[k] ?? dflt;
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new DataError(where, `"${k}" must be a positive integer`);
    return v;
  };
  const heads = int('num_attention_heads');
  const shape: Shape = {
    vocab_size: int('vocab_size'),
    hidden_size: int('hidden_size'),
    intermediate_size: int('intermediate_size'),
    num_hidden_layers: int('num_hidden_layers'),
    num_attention_heads: heads,
    num_key_value_heads: int('num_key_value_heads', heads),
    max_position_embeddings: int('max_position_embeddings', 2048),
    tie_word_embeddings: r.tie_word_embeddings === true,
  };
  if (r.hidden_act !== undefined && r.hidden_act !== 'silu') throw new DataError(where, `hidden_act "${String(r.hidden_act)}" is not supported (silu only)`);
  if (r.attention_bias === true || r.mlp_bias === true) throw new DataError(where, 'attention_bias/mlp_bias are not supported');
  if (r.rope_scaling != null) throw new DataError(where, 'rope_scaling is not supported');
  // Hugging Face configs may state head_dim; the model here derives it, so only the derived value can load.
  if (r.head_dim != null && r.head_dim !== shape.hidden_size / heads)
    throw new DataError(where, `head_dim ${String(r.head_dim)} is not hidden_size / num_attention_heads (${shape.hidden_size / heads}); not supported`);
  const cfg = makeConfig(shape, {
    rope_theta: typeof r.rope_theta === 'number' ? r.rope_theta : 10000,
    rms_norm_eps: typeof r.rms_norm_eps === 'number' ? r.rms_norm_eps : 1e-6,
    initializer_range: typeof r.initializer_range === 'number' ? r.initializer_range : 0.02,
  });
  if (typeof r.bos_token_id === 'number') cfg.bos_token_id = r.bos_token_id;
  if (typeof r.eos_token_id === 'number') cfg.eos_token_id = r.eos_token_id;
  checkShape(cfg, where);
  return cfg;
}

export function checkShape(cfg: LlamaConfig, where: string): void {
  const { hidden_size: d, num_attention_heads: h, num_key_value_heads: kv } = cfg;
  if (d % h !== 0) throw new DataError(where, `hidden_size ${d} is not divisible by num_attention_heads ${h}`);
  if ((d / h) % 2 !== 0) throw new DataError(where, `head dimension ${d / h} must be even for rotary positions`);
  if (h % kv !== 0) throw new DataError(where, `num_attention_heads ${h} is not a multiple of num_key_value_heads ${kv}`);
}

export function headDim(cfg: LlamaConfig): number {
  return cfg.hidden_size / cfg.num_attention_heads;
}

/** Shapes of every parameter, in Hugging Face names and layout ([out, in] for linear weights). */
export function parameterShapes(cfg: LlamaConfig): Map<string, number[]> {
  const d = cfg.hidden_size;
  const hd = headDim(cfg);
  const kvd = cfg.num_key_value_heads * hd;
  const m = new Map<string, number[]>();
  m.set('model.embed_tokens.weight', [cfg.vocab_size, d]);
  for (let i = 0; i < cfg.num_hidden_layers; i++) {
    const p = `model.layers.${i}`;
    m.set(`${p}.input_layernorm.weight`, [d]);
    m.set(`${p}.self_attn.q_proj.weight`, [d, d]);
    m.set(`${p}.self_attn.k_proj.weight`, [kvd, d]);
    m.set(`${p}.self_attn.v_proj.weight`, [kvd, d]);
    m.set(`${p}.self_attn.o_proj.weight`, [d, d]);
    m.set(`${p}.post_attention_layernorm.weight`, [d]);
    m.set(`${p}.mlp.gate_proj.weight`, [cfg.intermediate_size, d]);
    m.set(`${p}.mlp.up_proj.weight`, [cfg.intermediate_size, d]);
    m.set(`${p}.mlp.down_proj.weight`, [d, cfg.intermediate_size]);
  }
  m.set('model.norm.weight', [d]);
  if (!cfg.tie_word_embeddings) m.set('lm_head.weight', [cfg.vocab_size, d]);
  return m;
}

export function parameterCount(cfg: LlamaConfig): number {
  let n = 0;
  for (const s of parameterShapes(cfg).values()) n += s.reduce((a, b) => a * b, 1);
  return n;
}

export function humanCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}K`;
  return String(n);
}
