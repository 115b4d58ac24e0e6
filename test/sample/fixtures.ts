// Tiny checkpoints for the sample tests: a random-init Llama saved by saveCheckpoint with a byte-level tokenizer
// (256 byte tokens, then the standard and chat special tokens), so any text encodes and decodes exactly.
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { makeConfig, type LlamaConfig } from '../../src/train/config.js';
import { LlamaModel } from '../../src/train/model.js';
import { Rng } from '../../src/util/rng.js';
import { saveCheckpoint, type TrainerState } from '../../src/train/checkpoint.js';
import { formatRanks, writeTokenizerDir } from '../../src/tokenizer/files.js';
import { MATH_PATTERN } from '../../src/tokenizer/pattern.js';

export const SPECIALS = { '<|begin_of_text|>': 256, '<|end_of_text|>': 257, '<|pad|>': 258, '<|system|>': 259, '<|user|>': 260, '<|assistant|>': 261, '<|end_of_turn|>': 262 };

export function tinyConfig(extra: Partial<LlamaConfig> = {}): LlamaConfig {
  return makeConfig(
    { vocab_size: 320, hidden_size: 32, intermediate_size: 48, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 64, tie_word_embeddings: true },
    { initializer_range: 0.3, bos_token_id: 256, eos_token_id: 257, ...extra },
  );
}

export function writeByteTokenizer(dir: string, chat = true): void {
  writeTokenizerDir(dir, formatRanks(Array.from({ length: 256 }, (_, i) => Uint8Array.of(i))), {
    format: 'mathpipe-tiktoken',
    version: 1,
    name: 'bytes',
    pat_str: MATH_PATTERN,
    n_vocab: 263,
    special_tokens: SPECIALS,
    bos_token: '<|begin_of_text|>',
    eos_token: '<|end_of_text|>',
    pad_token: '<|pad|>',
    ...(chat ? { chat_tokens: { system: '<|system|>', user: '<|user|>', assistant: '<|assistant|>', end_of_turn: '<|end_of_turn|>' } } : {}),
  });
}

/** Save a checkpoint at `dir` (model seeded by `seed`); `step` writes a trainer_state.json. Needs a backend. */
export async function writeTinyCheckpoint(dir: string, o: { seed?: number; step?: number; chat?: boolean; config?: LlamaConfig; tokenizerConfig?: object } = {}): Promise<LlamaConfig> {
  const config = o.config ?? tinyConfig();
  const model = LlamaModel.init(config, new Rng(o.seed ?? 1));
  const state: TrainerState | undefined =
    o.step === undefined
      ? undefined
      : { format: 'mathpipe-trainer-state', version: 1, step: o.step, tokens: 0, rng: [1, 2, 3, 4], schedule: { name: 'constant', lr: 1e-3, warmup: 0, totalSteps: o.step, minLrRatio: 0.1 }, elapsed_s: 0, fingerprint: {} };
  await saveCheckpoint(dir, {
    config,
    model,
    state,
    writeTokenizer: (d) => {
      writeByteTokenizer(d, o.chat ?? true);
      if (o.tokenizerConfig) writeFileSync(join(d, 'tokenizer_config.json'), JSON.stringify(o.tokenizerConfig));
    },
  });
  model.dispose();
  return config;
}
