// A reward model: the Llama core of src/train/model.ts with a scalar head, as Hugging Face's
// LlamaForSequenceClassification has it (num_labels 1): `score.weight` [1, hidden], no bias, read from the final
// hidden state of a chosen token. An outcome model (ORM) reads it at a response's last token, a process model (PRM)
// at each step's last token; sigmoid(score) is the probability the response (step) is good.
//
// The head is one more entry of the core's parameter map, so it is saved in model.safetensors beside the core (the
// name and layout transformers loads), the optimizer's moments cover it, and the directory stays a checkpoint every
// other command reads (they ignore the head). rm_config.json says what kind of model it is and how its inputs were
// built: the prompt format and the step separator must be the same when it scores.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { DataError, UsageError } from '../../cli/errors.js';
import { writeOutputFile } from '../../cli/output-file.js';
import { findCheckpoint, openCheckpoint, restoreOptimizer } from '../../train/checkpoint.js';
import { LlamaModel, toHF } from '../../train/model.js';
import type { AdamW } from '../../train/optimizer.js';
import { writeSafetensors } from '../../train/safetensors.js';
import type { LlamaConfig } from '../../train/config.js';
import type { NamedTensor } from '../../train/safetensors.js';
import type { StepSeparator } from '../advantages.js';
import { RM_KINDS, type RmKind } from './kinds.js';

export const HEAD = 'score.weight';
export const RM_CONFIG_FILE = 'rm_config.json';

/** How a reward model's inputs are built; saved as rm_config.json. */
export interface RmConfig {
  format: 'mathpipe-reward-model';
  kind: RmKind;
  /** PRM: where steps end (the splitter of the process advantages). */
  step_separator: StepSeparator;
  /** The prompt around the question, as grpo renders it (--prompt-template, --chat, --system, --bos). */
  prompt: { template: string; chat: boolean; system: string | null; bos: boolean };
  /** The labeled data it was trained on (absolute paths), oldest first: iterative RL replays it. */
  data: string[];
}

export class RewardModel {
  private constructor(
    readonly core: LlamaModel,
    readonly rm: RmConfig,
    /** Prefix of the variable names (a second model in a process). */
    readonly prefix: string,
  ) {}

  /**
   * From a checkpoint: a reward model's (its head and rm_config.json), or a policy's, which gets a zero head (every
   * score 0, probability 1/2, until it trains) and the given settings. `namePrefix` keeps its variables apart from
   * the policy's in one process.
   */
  static load(path: string, o: { fresh?: RmConfig; namePrefix?: string; trainable?: boolean } = {}): RewardModel {
    const dir = findCheckpoint(path);
    if (!dir) throw new UsageError(`${path}: no checkpoint there (config.json missing)`);
    const saved = readRmConfig(dir);
    const rm = o.fresh ? { ...o.fresh, data: [...(saved?.data ?? []), ...o.fresh.data] } : saved;
    if (!rm) throw new UsageError(`${path} is not a reward model (no ${RM_CONFIG_FILE}; train one with mathpipe grpo rm train)`);
    if (o.fresh && saved && saved.kind !== o.fresh.kind) throw new UsageError(`${path} is a ${saved.kind.toUpperCase()}; it cannot continue as a ${o.fresh.kind.toUpperCase()}`);
    const ck = openCheckpoint(dir);
    try {
      const core = LlamaModel.fromTensors(ck.config, (n) => ck.weights.get(n), `${dir}/model.safetensors`, { namePrefix: o.namePrefix, trainable: o.trainable });
      const D = ck.config.hidden_size;
      let head: Float32Array;
      if (ck.weights.header[HEAD]) {
        const t = ck.weights.get(HEAD);
        if (JSON.stringify(t.shape) !== JSON.stringify([1, D])) {
          core.dispose();
          throw new DataError(`${dir}/model.safetensors`, `${HEAD} has shape ${JSON.stringify(t.shape)}, expected [1, ${D}]`);
        }
        head = t.data as Float32Array;
      } else if (saved) {
        core.dispose();
        throw new DataError(`${dir}/model.safetensors`, `a reward model without its head (${HEAD})`);
      } else head = new Float32Array(D);
      core.params.set(HEAD, tf.variable(tf.tensor2d(head, [1, D]), o.trainable ?? true, `${o.namePrefix ?? ''}${HEAD}`));
      return new RewardModel(core, rm, o.namePrefix ?? '');
    } finally {
      ck.weights.close();
    }
  }

  get config(): LlamaConfig {
    return this.core.config;
  }

  /**
   * What trains, keyed by variable name (as variableGrads names gradients, and unique beside the policy's optimizer):
   * the core and the head; an untied LM head plays no part in a score.
   */
  trainable(): Map<string, tf.Variable> {
    return new Map([...this.core.params].filter(([n]) => n !== 'lm_head.weight').map(([, v]) => [v.name, v]));
  }

  /** AdamW moments as tensors under their parameters' HF names (what restoreOptimizer reads). */
  momentsSync(opt: AdamW): Map<string, NamedTensor> {
    const out = new Map<string, NamedTensor>();
    for (const [kind, moments] of [['exp_avg', opt.m], ['exp_avg_sq', opt.v]] as const)
      for (const [t, n] of snapshot(moments)) out.set(`${kind}.${t.slice(this.prefix.length)}`, n);
    return out;
  }

  /** Moments saved by momentsSync (or saveCheckpoint) in checkpoint `dir`, back into an optimizer over trainable(). */
  restoreMoments(opt: AdamW, dir: string): void {
    restoreOptimizer(opt, dir, (key) => key.slice(this.prefix.length));
  }

  /** Everything a checkpoint of this model holds, written synchronously into `dir` (a save hook's directory). */
  writeSync(dir: string, opt?: AdamW): void {
    mkdirSync(dir, { recursive: true });
    writeOutputFile(join(dir, 'config.json'), JSON.stringify(this.config, null, 2) + '\n');
    writeSafetensors(join(dir, 'model.safetensors'), this.tensorsSync(), { format: 'pt' });
    if (opt) writeSafetensors(join(dir, 'optimizer.safetensors'), this.momentsSync(opt), { step: String(opt.t) });
    this.writeConfig(dir);
  }

  /** Scores (logits) at flat positions b * T + t of ids [B, T], [P]. Inside a tidy / variableGrads. */
  scoresAt(ids: tf.Tensor2D, positions: Int32Array): tf.Tensor1D {
    const h = tf.gather(this.core.hidden(ids), tf.tensor1d(positions, 'int32')) as tf.Tensor2D;
    return tf.reshape(tf.matMul(h, this.core.params.get(HEAD)!, false, true), [-1]) as tf.Tensor1D;
  }

  /** Score logits of sequences at the given token indices, no gradients, `batch` sequences per forward. */
  score(seqs: { ids: number[]; at: number[] }[], pad: number, batch: number): number[][] {
    const out: number[][] = [];
    for (let i = 0; i < seqs.length; i += batch) {
      const part = seqs.slice(i, i + batch);
      const { ids, positions, shape } = packRows(part, pad);
      const s = tf.tidy(() => this.scoresAt(tf.tensor2d(ids, shape, 'int32'), positions));
      const v = s.dataSync() as Float32Array;
      s.dispose();
      let k = 0;
      for (const p of part) out.push(p.at.map(() => v[k++]));
    }
    return out;
  }

  /** The weights as tensors (HF names and layout), synchronously (for a save hook). */
  tensorsSync(): Map<string, NamedTensor> {
    return snapshot(this.core.params);
  }

  writeConfig(dir: string): void {
    writeOutputFile(join(dir, RM_CONFIG_FILE), JSON.stringify(this.rm, null, 2) + '\n');
  }

  dispose(): void {
    this.core.dispose();
  }
}

/** Right-padded rows of sequences and the flat positions of their scored tokens. */
export function packRows(rows: { ids: number[]; at: number[] }[], pad: number): { ids: Int32Array; positions: Int32Array; shape: [number, number] } {
  const T = Math.max(1, ...rows.map((r) => r.ids.length));
  const ids = new Int32Array(rows.length * T).fill(pad);
  const positions: number[] = [];
  rows.forEach((r, b) => {
    ids.set(r.ids, b * T);
    for (const a of r.at) positions.push(b * T + a);
  });
  return { ids, positions: Int32Array.from(positions), shape: [rows.length, T] };
}

/** Variables as HF-layout tensors, read synchronously. */
export function snapshot(params: Map<string, tf.Variable>, prefix = ''): Map<string, NamedTensor> {
  const out = new Map<string, NamedTensor>();
  for (const [name, v] of params) {
    const { shape, data } = toHF(name, v.shape, Float32Array.from(v.dataSync() as Float32Array));
    out.set(`${prefix}${name}`, { dtype: 'F32', shape, data });
  }
  return out;
}

export function readRmConfig(dir: string): RmConfig | undefined {
  const path = join(dir, RM_CONFIG_FILE);
  if (!existsSync(path)) return undefined;
  let c: RmConfig;
  try {
    c = JSON.parse(readFileSync(path, 'utf8')) as RmConfig;
  } catch (e) {
    throw new DataError(path, `cannot read: ${(e as Error).message}`);
  }
  if (c.format !== 'mathpipe-reward-model' || !RM_KINDS.includes(c.kind)) throw new DataError(path, 'not a mathpipe reward model config ("format": "mathpipe-reward-model", "kind": "orm" or "prm")');
  return c;
}

/** sigmoid, the probability a score stands for. */
export const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
