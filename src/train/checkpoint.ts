// Checkpoint directory (Hugging Face layout, so transformers/vLLM load it as LlamaForCausalLM):
//   config.json              HF Llama config
//   model.safetensors        weights, HF names and [out, in] layout
//   tokenizer.tiktoken, tiktoken_config.json   when the run has a tokenizer (src/tokenizer)
//   optimizer.safetensors    AdamW moments "exp_avg.<name>", "exp_avg_sq.<name>" (HF layout)
//   trainer_state.json       step, tokens, RNG state, schedule, run fingerprint: enough to resume exactly
// A save writes everything into DIR.tmp-PID and then swaps it in with renames, so a crash (even SIGKILL) leaves
// either the previous checkpoint or the new one, never a mixture. The swap is two renames (DIR -> DIR.old-PID,
// tmp -> DIR); a crash between them leaves DIR.old-PID, which loading falls back to.
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { DataError } from '../cli/errors.js';
import { trackTemp, untrackTemp } from '../cli/cleanup.js';
import { type LlamaConfig, validateConfig } from './config.js';
import { openSafetensors, writeSafetensors, type NamedTensor, type SafetensorsFile } from './safetensors.js';
import type { RngState } from './rng.js';
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

/** Remove DIR.tmp-* left by a killed run (never a checkpoint: those are only ever renamed into place). */
export function removeStaleTemps(dir: string): void {
  const parent = dirname(dir);
  if (!existsSync(parent)) return;
  for (const n of readdirSync(parent)) if (n.startsWith(`${basename(dir)}.tmp-`)) rmSync(join(parent, n), { recursive: true, force: true });
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
  const weights = openSafetensors(join(dir, 'model.safetensors'));
  let state: TrainerState | undefined;
  const statePath = join(dir, 'trainer_state.json');
  if (existsSync(statePath)) {
    try {
      state = JSON.parse(readFileSync(statePath, 'utf8')) as TrainerState;
    } catch (e) {
      throw new DataError(statePath, `cannot read trainer state: ${(e as Error).message}`);
    }
    if (state.format !== 'mathpipe-trainer-state') throw new DataError(statePath, 'not a mathpipe trainer state');
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

export function copyTokenizerFiles(fromDir: string, toDir: string): void {
  for (const f of TOKENIZER_FILES) copyFileSync(join(fromDir, f), join(toDir, f));
}

/** Load AdamW moments and step count saved by saveCheckpoint. */
export function restoreOptimizer(opt: AdamW, dir: string): void {
  const path = join(dir, 'optimizer.safetensors');
  const f = openSafetensors(path);
  try {
    opt.t = Number(f.metadata.step ?? 0);
    for (const [kind, moments] of [['exp_avg', opt.m], ['exp_avg_sq', opt.v]] as const)
      for (const [name, v] of moments) {
        const t = f.get(`${kind}.${name}`);
        const { shape, data } = toInternal(name, t.shape, t.data as Float32Array);
        if (JSON.stringify(shape) !== JSON.stringify(v.shape)) throw new DataError(path, `${kind}.${name} has shape ${JSON.stringify(t.shape)}, not the model's`);
        tf.tidy(() => v.assign(tf.tensor(data, shape, 'float32')));
      }
  } finally {
    f.close();
  }
}
