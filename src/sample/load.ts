// A checkpoint ready to generate from: the model (training core), its tokenizer, and its identity (path and
// training step) that every completion record carries, so GRPO can tell samples of an older policy.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CliError, DataError, UsageError } from '../cli/errors.js';
import { findCheckpoint, openCheckpoint } from '../train/checkpoint.js';
import { LlamaModel } from '../train/model.js';
import { loadTokenizer, type Tokenizer } from '../tokenizer/index.js';

export interface CheckpointIdentity {
  path: string;
  /** Optimizer steps of the run that saved it (trainer_state.json); null when it has none. */
  step: number | null;
}

/**
 * The step and each weight file's size and modification time: cheap to take (no hashing of gigabytes) and different
 * whenever the directory holds other weights, which is what a cache keyed by the checkpoint needs.
 */
export function weightsVersion(dir: string, step: number | null): string {
  const files = readdirSync(dir).filter((f) => f.endsWith('.safetensors')).sort();
  const parts = files.map((f) => {
    const st = statSync(join(dir, f));
    return `${f}:${st.size}:${st.mtimeMs}`;
  });
  return createHash('sha256').update(JSON.stringify([step, parts])).digest('hex').slice(0, 16);
}

export interface LoadedModel {
  dir: string;
  model: LlamaModel;
  tokenizer: Tokenizer;
  identity: CheckpointIdentity;
  /**
   * Ids that end a sample by default: the tokenizer's end of text, and generation_config.json's eos_token_id (one id
   * or a list, e.g. a chat end-of-turn), as transformers and vLLM read it. Nothing else is read from that file.
   */
  eosIds: number[];
}

/** generation_config.json's eos_token_id (one id or a list), as transformers and vLLM read it; [] without the file. */
export function generationEos(dir: string): number[] {
  const path = join(dir, 'generation_config.json');
  if (!existsSync(path)) return [];
  let raw: unknown;
  try {
    raw = (JSON.parse(readFileSync(path, 'utf8')) as { eos_token_id?: unknown }).eos_token_id;
  } catch (e) {
    throw new DataError(path, `cannot read generation config: ${(e as Error).message}`);
  }
  const ids = Array.isArray(raw) ? raw : raw === undefined || raw === null ? [] : [raw];
  if (!ids.every((x) => Number.isInteger(x) && (x as number) >= 0)) throw new DataError(path, '"eos_token_id" must be a token id or a list of them');
  return ids as number[];
}

/** Load CHECKPOINT_DIR; `tokenizer` (a name or directory) replaces the checkpoint's own. Needs an initialised backend. */
export function loadCheckpoint(path: string, tokenizer?: string): LoadedModel {
  const dir = findCheckpoint(path);
  if (!dir) throw new UsageError(`--model ${path}: no checkpoint there (config.json missing)`);
  const ck = openCheckpoint(dir);
  let tok: Tokenizer;
  let eos: number[];
  try {
    eos = generationEos(dir);
    if (!tokenizer && !ck.hasTokenizer) throw new UsageError(`--model ${path}: the checkpoint has no tokenizer (tokenizer.tiktoken); give --tokenizer`);
    tok = loadTokenizer(tokenizer ?? dir);
    if (tok.vocabSize > ck.config.vocab_size) throw new UsageError(`tokenizer ${tok.name} has ${tok.vocabSize} ids but the model's vocab_size is ${ck.config.vocab_size}`);
  } catch (e) {
    ck.weights.close();
    throw e;
  }
  let model: LlamaModel;
  try {
    model = LlamaModel.fromTensors(ck.config, (n) => ck.weights.get(n), `${dir}/model.safetensors`);
  } catch (e) {
    // A tensor of the wrong shape: the file does not match its config.json.
    throw e instanceof CliError ? e : new DataError(`${dir}/model.safetensors`, (e as Error).message.replace(/^.*?model\.safetensors: /, ''));
  } finally {
    ck.weights.close();
  }
  const eosIds = [...new Set([tok.eos, ...eos])];
  return { dir, model, tokenizer: tok, identity: { path: resolve(dir), step: ck.state?.step ?? null }, eosIds };
}
