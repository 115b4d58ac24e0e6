// Checkpoint directory (Hugging Face layout, so transformers/vLLM load it as LlamaForCausalLM):
//   config.json              HF Llama config
//   generation_config.json   bos/eos/pad ids for transformers' generate and vLLM (no sampling defaults)
//   model.safetensors        weights, HF names and [out, in] layout
//   tokenizer.tiktoken, tiktoken_config.json   when the run has a tokenizer (src/tokenizer), and beside them
//   tokenizer.json, tokenizer_config.json      the same tokenizer for Hugging Face tools (chat template included)
//   optimizer.safetensors    AdamW moments "exp_avg.<name>", "exp_avg_sq.<name>" (HF layout)
//   trainer_state.json       step, tokens, RNG state, schedule, run fingerprint: enough to resume exactly
// A save writes everything into DIR.tmp-PID and then swaps it in with renames, so a crash (even SIGKILL) leaves
// either the previous checkpoint or the new one, never a mixture. The swap is two renames (DIR -> DIR.old-PID,
// tmp -> DIR); a crash between them leaves DIR.old-PID, which loading falls back to.
// Loading also reads what Hugging Face publishes: BF16/F16 weights (as F32), and weights sharded over
// model-0000N-of-0000M.safetensors by model.safetensors.index.json.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { DataError, UsageError } from '../cli/errors.js';
import { trackTemp, untrackTemp } from '../cli/cleanup.js';
import { outputTarget, writeOutputFile } from '../cli/output-file.js';
import { HF_CONFIG_FILE, HF_TOKENIZER_FILE } from '../tokenizer/hf.js';
import { readTokenizerConfig, readTokenizerDir, setModelMaxLength, writeTokenizerDir } from '../tokenizer/files.js';
import { type LlamaConfig, parameterShapes, validateConfig } from './config.js';
import { openSafetensors, writeSafetensors, type HeaderEntry, type NamedTensor, type SafetensorsFile } from './safetensors.js';
import type { RngState } from '../util/rng.js';
import type { ScheduleSpec } from './schedule.js';
import type { AdamW } from './optimizer.js';
import { toHF, toInternal, type LlamaModel } from './model.js';
import * as tf from '@tensorflow/tfjs';

export const TOKENIZER_FILES = ['tokenizer.tiktoken', 'tiktoken_config.json'];

export interface TrainerState {
  format: 'mathpipe-trainer-state';
  version: 1;
  /** Optimizer updates done. */
  step: number;
  /** Training tokens consumed. */
  tokens: number;
  /** Data sampler RNG after the last consumed batch. */
  rng: RngState;
  /** Packed sampling: per dataset, its epoch and the sequences of that epoch already used. */
  packed?: { epoch: number; next: number }[];
  schedule: ScheduleSpec;
  /** Training time over all runs, seconds. */
  elapsed_s: number;
  /** Settings that must not change on --resume (data, shapes, batch). */
  fingerprint: Record<string, unknown>;
  last_valid_loss?: number;
}

export interface SaveInput {
  config: LlamaConfig;
  model: LlamaModel;
  optimizer?: AdamW;
  state?: TrainerState;
  /** Write the tokenizer files into the directory being built. */
  writeTokenizer?: (dir: string) => void;
}

export async function saveCheckpoint(dir: string, input: SaveInput): Promise<void> {
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  trackTemp(tmp);
  mkdirSync(tmp, { recursive: true });
  writeFileSync(join(tmp, 'config.json'), JSON.stringify(input.config, null, 2) + '\n');
  writeSafetensors(join(tmp, 'model.safetensors'), await input.model.toTensors(), { format: 'pt' });
  if (input.optimizer) {
    const t = new Map<string, NamedTensor>();
    for (const [kind, moments] of [['exp_avg', input.optimizer.m], ['exp_avg_sq', input.optimizer.v]] as const)
      for (const [name, v] of moments) {
        const { shape, data } = toHF(name, v.shape, (await v.data()) as Float32Array);
        t.set(`${kind}.${name}`, { dtype: 'F32', shape, data });
      }
    writeSafetensors(join(tmp, 'optimizer.safetensors'), t, { step: String(input.optimizer.t) });
  }
  input.writeTokenizer?.(tmp);
  setModelMaxLength(tmp, input.config.max_position_embeddings);
  writeGenerationConfig(tmp, input.config);
  if (input.state) writeFileSync(join(tmp, 'trainer_state.json'), JSON.stringify(input.state, null, 2) + '\n');
  if (existsSync(dir)) {
    const old = `${dir}.old-${process.pid}`;
    renameSync(dir, old);
    renameSync(tmp, dir);
    rmSync(old, { recursive: true, force: true });
  } else {
    mkdirSync(dirname(dir), { recursive: true });
    renameSync(tmp, dir);
  }
  untrackTemp(tmp);
  // DIR.old-PID of a run killed mid-swap is superseded now.
  for (const n of readdirSync(dirname(dir))) if (n.startsWith(`${basename(dir)}.old-`)) rmSync(join(dirname(dir), n), { recursive: true, force: true });
}

/**
 * generation_config.json: the special ids generation needs, from the tokenizer written beside it (else the
 * model config). With chat tokens, end of turn is an EOS too: an assistant turn ends there, not at end of
 * text, and vLLM and transformers stop at every id listed. Sampling settings are left to the caller.
 */
function writeGenerationConfig(dir: string, config: LlamaConfig): void {
  const g: Record<string, number | number[]> = {};
  if (existsSync(join(dir, 'tiktoken_config.json'))) {
    const t = readTokenizerConfig(dir);
    const id = (text: string) => t.special_tokens[text];
    g.bos_token_id = id(t.bos_token);
    g.eos_token_id = t.chat_tokens && id(t.chat_tokens.end_of_turn) !== undefined ? [id(t.eos_token), id(t.chat_tokens.end_of_turn)] : id(t.eos_token);
    g.pad_token_id = id(t.pad_token);
  } else {
    if (config.bos_token_id !== undefined) g.bos_token_id = config.bos_token_id;
    if (config.eos_token_id !== undefined) g.eos_token_id = config.eos_token_id;
  }
  if (Object.keys(g).length) writeOutputFile(join(dir, 'generation_config.json'), JSON.stringify(g, null, 2) + '\n');
}

/** DIR, or the DIR.old-PID a crash mid-swap left behind; undefined when neither exists. */
export function findCheckpoint(dir: string): string | undefined {
  if (existsSync(join(dir, 'config.json'))) return dir;
  const parent = dirname(dir);
  if (!existsSync(parent)) return undefined;
  const olds = readdirSync(parent)
    .filter((n) => n.startsWith(`${basename(dir)}.old-`))
    .map((n) => join(parent, n))
    .filter((p) => existsSync(join(p, 'config.json')))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  return olds[0];
}

// Files a checkpoint directory may hold (ours, and what Hugging Face tools put beside them). A directory
// holding anything else is not ours to replace: a save swaps the whole directory. Iterative GRPO adds its reset
// reference, its reward model and the labels of its iterations (src/grpo/iterative.ts); a reward model its
// rm_config.json.
const CHECKPOINT_FILE = /^((generation_|tokenizer_|grpo_|rm_)?config|tokenizer|special_tokens_map|tiktoken_config|trainer_state|model\.safetensors\.index)\.json$|^(model|optimizer|reference)(-\d+-of-\d+)?\.safetensors$|^tokenizer\.tiktoken$|^(reward_model|rm_data)$/;

/**
 * Where a run may write its checkpoint given `-o DIR`: the directory with symlinks followed. Only an absent
 * or empty directory, or a checkpoint (kept only with --resume, replaced only with --overwrite), qualifies;
 * anything else (a file, a device, a directory of other files) is a usage error and is left untouched.
 */
export function checkpointTarget(dir: string, o: { resume: boolean; overwrite: boolean }): string {
  const out = outputTarget(dir, { directory: true });
  if (out.direct) throw new UsageError(`-o ${dir}: not a directory (a device or special file); give a checkpoint directory`);
  const target = out.target;
  if (!existsSync(target)) return target;
  if (!statSync(target).isDirectory()) throw new UsageError(`-o ${dir}: is a file, not a checkpoint directory; refusing to replace it`);
  const names = readdirSync(target);
  if (!names.length) return target;
  const foreign = names.filter((n) => !CHECKPOINT_FILE.test(n));
  if (foreign.length || !names.includes('config.json'))
    throw new UsageError(`-o ${dir}: is a directory that is not a checkpoint (it holds ${(foreign.length ? foreign : names).slice(0, 3).join(', ')}${names.length > 3 ? ', ...' : ''}); refusing to replace it`);
  if (!o.resume && !o.overwrite) throw new UsageError(`-o ${dir}: already holds a checkpoint; --resume continues it, --overwrite replaces it`);
  return target;
}

export interface LoadedCheckpoint {
  dir: string;
  config: LlamaConfig;
  weights: SafetensorsFile;
  state?: TrainerState;
  hasOptimizer: boolean;
  hasTokenizer: boolean;
}

export function openCheckpoint(dir: string): LoadedCheckpoint {
  const cfgPath = join(dir, 'config.json');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(cfgPath, 'utf8'));
  } catch (e) {
    throw new DataError(cfgPath, `cannot read checkpoint config: ${(e as Error).message}`);
  }
  const config = validateConfig(raw, cfgPath);
  const { file: weights, where } = openWeights(dir);
  try {
    checkWeights(config, weights, where);
  } catch (e) {
    weights.close();
    throw e;
  }
  let state: TrainerState | undefined;
  const statePath = join(dir, 'trainer_state.json');
  if (existsSync(statePath)) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(statePath, 'utf8'));
    } catch (e) {
      throw new DataError(statePath, `cannot read trainer state: ${(e as Error).message}`);
    }
    state = validateState(raw, statePath);
  }
  return {
    dir,
    config,
    weights,
    state,
    hasOptimizer: existsSync(join(dir, 'optimizer.safetensors')),
    hasTokenizer: TOKENIZER_FILES.every((f) => existsSync(join(dir, f))),
  };
}

// A buffer older transformers saved with the weights; it is computed from rope_theta, never loaded.
const IGNORED = /^model\.layers\.\d+\.self_attn\.rotary_emb\.inv_freq$/;

/**
 * model.safetensors, or the shards model.safetensors.index.json lists (the single file wins, as in transformers);
 * `where` names the file that holds (or should hold) a tensor, for messages.
 */
function openWeights(dir: string): { file: SafetensorsFile; where: (name: string) => string } {
  const single = join(dir, 'model.safetensors');
  const indexPath = join(dir, 'model.safetensors.index.json');
  const opened = existsSync(single) || !existsSync(indexPath) ? { file: openSafetensors(single), where: () => single } : openShards(dir, indexPath);
  for (const name of Object.keys(opened.file.header)) if (IGNORED.test(name)) delete opened.file.header[name];
  return opened;
}

/**
 * Every parameter the config implies is there with its shape and a float dtype, checked before any weight is
 * read: a mismatched or incomplete checkpoint is bad data naming its file, found in milliseconds.
 */
function checkWeights(config: LlamaConfig, weights: SafetensorsFile, where: (name: string) => string): void {
  for (const [name, shape] of parameterShapes(config)) {
    const e = weights.header[name];
    if (!e) throw new DataError(where(name), `tensor ${name} is missing (config.json implies it)`);
    if (JSON.stringify(e.shape) !== JSON.stringify(shape)) throw new DataError(where(name), `tensor ${name} has shape ${JSON.stringify(e.shape)}, config.json implies ${JSON.stringify(shape)}`);
    if (!['F32', 'BF16', 'F16'].includes(e.dtype)) throw new DataError(where(name), `tensor ${name} is ${e.dtype}; weights must be F32, BF16 or F16`);
  }
}

/** One view of sharded weights: `header` is every shard's, `get` reads from the shard the index names. */
function openShards(dir: string, indexPath: string): { file: SafetensorsFile; where: (name: string) => string } {
  let index: unknown;
  try {
    index = JSON.parse(readFileSync(indexPath, 'utf8'));
  } catch (e) {
    throw new DataError(indexPath, `cannot read the weight index: ${(e as Error).message}`);
  }
  const map = (index as { weight_map?: unknown } | null)?.weight_map;
  if (typeof map !== 'object' || map === null || Array.isArray(map)) throw new DataError(indexPath, '"weight_map" must be an object {tensor: file}');
  const weightMap = map as Record<string, unknown>;
  const shards = new Map<string, SafetensorsFile>();
  const closeAll = () => shards.forEach((f) => f.close());
  const header: Record<string, HeaderEntry> = {};
  const metadata: Record<string, string> = {};
  try {
    for (const [name, file] of Object.entries(weightMap)) {
      // A plain file name beside the index: the index must not point anywhere else on the disk.
      if (typeof file !== 'string' || !/^[^/\\]+\.safetensors$/.test(file)) throw new DataError(indexPath, `tensor ${name}: ${JSON.stringify(file)} is not a .safetensors file name`);
      let shard = shards.get(file);
      if (!shard) shards.set(file, (shard = openSafetensors(join(dir, file))));
      if (!shard.header[name]) throw new DataError(join(dir, file), `tensor ${name} is missing (${basename(indexPath)} puts it here)`);
      header[name] = shard.header[name];
    }
    for (const f of shards.values()) Object.assign(metadata, f.metadata);
  } catch (e) {
    closeAll();
    throw e;
  }
  const file = {
    header,
    metadata,
    get(name: string) {
      const file = weightMap[name] as string | undefined;
      if (file === undefined) throw new DataError(indexPath, `tensor ${name} is missing`);
      return shards.get(file)!.get(name);
    },
    close: closeAll,
  };
  return { file, where: (name) => (typeof weightMap[name] === 'string' ? join(dir, weightMap[name]) : indexPath) };
}

/** A trainer state that resume can trust: a hand-edited or corrupt one is bad data, never a silent no-op. */
function validateState(raw: unknown, path: string): TrainerState {
  const bad = (what: string) => new DataError(path, `trainer state: ${what}`);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad('not a JSON object');
  const s = raw as Record<string, unknown>;
  if (s.format !== 'mathpipe-trainer-state') throw new DataError(path, 'not a mathpipe trainer state');
  const count = (k: string) => {
    if (!Number.isSafeInteger(s[k]) || (s[k] as number) < 0) throw bad(`"${k}" must be a non-negative integer, not ${JSON.stringify(s[k])}`);
  };
  count('step');
  count('tokens');
  if (!Array.isArray(s.rng) || s.rng.length !== 4 || !s.rng.every((x) => Number.isInteger(x))) throw bad('"rng" must be 4 integers');
  if (typeof s.elapsed_s !== 'number' || !(s.elapsed_s >= 0)) throw bad('"elapsed_s" must be a non-negative number');
  for (const k of ['schedule', 'fingerprint'])
    if (typeof s[k] !== 'object' || s[k] === null || Array.isArray(s[k])) throw bad(`"${k}" must be an object`);
  const sch = s.schedule as Record<string, unknown>;
  if (typeof sch.name !== 'string' || typeof sch.lr !== 'number') throw bad('"schedule" needs "name" and "lr"');
  if (s.packed !== undefined) {
    const ok = Array.isArray(s.packed) && s.packed.every((c) => typeof c === 'object' && c !== null && Number.isSafeInteger(c.epoch) && Number.isSafeInteger(c.next) && c.epoch >= 0 && c.next >= 0);
    if (!ok) throw bad('"packed" must be a list of {epoch, next} cursors');
  }
  if (s.last_valid_loss !== undefined && typeof s.last_valid_loss !== 'number') throw bad('"last_valid_loss" must be a number');
  return s as unknown as TrainerState;
}

const HF_TOKENIZER_FILES = [HF_TOKENIZER_FILE, HF_CONFIG_FILE];

/** The tokenizer of a checkpoint into another; one saved before the Hugging Face files existed gains them. */
export function copyTokenizerFiles(fromDir: string, toDir: string): void {
  if (!HF_TOKENIZER_FILES.every((f) => existsSync(join(fromDir, f)))) {
    const { ranks, config } = readTokenizerDir(fromDir);
    writeTokenizerDir(toDir, ranks, config);
    return;
  }
  for (const f of [...TOKENIZER_FILES, ...HF_TOKENIZER_FILES]) writeOutputFile(join(toDir, f), readFileSync(join(fromDir, f)));
}

/**
 * Load AdamW moments and step count saved by saveCheckpoint. `saved` maps an optimizer key to the parameter name
 * in the file (a second model in a process keys its optimizer by prefixed variable names).
 */
export function restoreOptimizer(opt: AdamW, dir: string, saved: (key: string) => string = (k) => k): void {
  const path = join(dir, 'optimizer.safetensors');
  const f = openSafetensors(path);
  try {
    opt.t = Number(f.metadata.step ?? 0);
    for (const [kind, moments] of [['exp_avg', opt.m], ['exp_avg_sq', opt.v]] as const)
      for (const [key, v] of moments) {
        const name = saved(key);
        const t = f.get(`${kind}.${name}`);
        const { shape, data } = toInternal(name, t.shape, t.data as Float32Array);
        if (JSON.stringify(shape) !== JSON.stringify(v.shape)) throw new DataError(path, `${kind}.${name} has shape ${JSON.stringify(t.shape)}, not the model's`);
        tf.tidy(() => v.assign(tf.tensor(data, shape, 'float32')));
      }
  } finally {
    f.close();
  }
}
