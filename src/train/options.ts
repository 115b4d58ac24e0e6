// Options every trainer shares (run directory, optimizer, schedule, cadence, engine), defined once so pretrain,
// sft and grpo name, document and check them the same way. Each trainer passes its own defaults.
import type { Options } from 'yargs';
import { UsageError } from '../cli/errors.js';
import { integer, number, optionalInteger } from '../cli/options.js';

export interface TrainingDefaults {
  lr: number;
  schedule: 'multistep' | 'cosine' | 'constant';
  steps?: number;
  weightDecay: number;
  evalInterval: number;
  saveInterval: number;
}

export function trainingOptions(d: TrainingDefaults) {
  return {
    out: { alias: 'o', type: 'string', requiresArg: true, describe: 'Checkpoint directory (replaced atomically at each save); must be absent, empty or a checkpoint' },
    resume: { type: 'boolean', default: false, describe: 'Continue the run saved in --out exactly (weights, optimizer moments, step, data order)' },
    overwrite: { type: 'boolean', default: false, describe: 'Start a new run over the checkpoint in --out (without it, an existing checkpoint is refused)' },
    init: { type: 'string', requiresArg: true, describe: 'Start from the weights (and config) of this checkpoint directory' },
    model: { alias: 'm', type: 'string', requiresArg: true, describe: 'Preset (tiny, bench, small, base, 1b, deepseek-math-7b) or a HF Llama config.json for random init (default: tiny; with --resume it must match the saved model)' },
    ...(d.steps !== undefined
      ? { steps: { type: 'number', default: d.steps, describe: 'Total optimizer steps (the schedule is laid out over these)' } }
      : { steps: { type: 'number', requiresArg: true, describe: 'Total optimizer steps (default: from --epochs)' } }),
    lr: { type: 'number', default: d.lr, describe: 'Peak learning rate' },
    schedule: { choices: ['multistep', 'cosine', 'constant'], default: d.schedule, describe: 'LR schedule: DeepSeek multi-step (x0.316 after 80%, x0.1 after 90%), cosine, constant' },
    'min-lr-ratio': { type: 'number', default: 0.1, describe: 'Cosine floor as a fraction of --lr' },
    'weight-decay': { type: 'number', default: d.weightDecay, describe: 'Decoupled weight decay (not applied to norm weights)' },
    beta1: { type: 'number', default: 0.9, describe: 'AdamW beta1' },
    beta2: { type: 'number', default: 0.95, describe: 'AdamW beta2' },
    eps: { type: 'number', default: 1e-8, describe: 'AdamW epsilon' },
    clip: { type: 'number', default: 1.0, describe: 'Clip the global gradient norm to this (0 disables)' },
    'log-interval': { type: 'number', default: 1, describe: 'Write a metrics line every N steps' },
    'eval-interval': { type: 'number', default: d.evalInterval, describe: 'Validation every N steps and at the end (needs --valid)' },
    'save-interval': { type: 'number', default: d.saveInterval, describe: 'Checkpoint every N steps (0: only at the end)' },
    log: { type: 'string', requiresArg: true, describe: 'Append metrics JSONL to FILE instead of stdout' },
    backend: { choices: ['auto', 'tensorflow', 'wasm', 'cpu'], describe: 'tfjs backend (default: $MATHPIPE_BACKEND or auto: tensorflow when @tensorflow/tfjs-node-gpu and a CUDA device are present, else wasm + native kernels)' },
  } as const satisfies Record<string, Options>;
}

/** The checks of trainingOptions' values: bad numbers are usage errors before anything loads. */
export function checkTrainingOptions(a: Record<string, unknown>, positive: string[] = []): void {
  if (!a.out) throw new UsageError('--out (-o) CHECKPOINT_DIR is required');
  if (a.resume && a.overwrite) throw new UsageError('--resume continues the checkpoint in --out, --overwrite replaces it: give one');
  for (const k of ['log-interval', 'eval-interval', 'steps', ...positive]) optionalInteger(a[k], `--${k}`, 1);
  integer(a['save-interval'], '--save-interval', 0);
  number(a.lr, '--lr', { above: 0 });
  optionalInteger(a.warmup, '--warmup', 0);
  for (const k of ['clip', 'weight-decay', 'min-lr-ratio', 'eps']) number(a[k], `--${k}`, { min: 0 });
  for (const k of ['beta1', 'beta2']) number(a[k], `--${k}`, { min: 0, below: 1 });
}

/** What trainingOptions() parse to, named for the code (the flags' values, as every trainer's options carry them). */
export interface TrainingArgs {
  out: string;
  resume: boolean;
  overwrite: boolean;
  init?: string;
  model?: string;
  steps?: number;
  lr: number;
  schedule: 'multistep' | 'cosine' | 'constant';
  weightDecay: number;
  beta1: number;
  beta2: number;
  eps: number;
  clip: number;
  logInterval: number;
  evalInterval: number;
  saveInterval: number;
  log?: string;
  backend?: string;
}

export function trainingArgs(a: Record<string, unknown>): TrainingArgs {
  return {
    out: a.out as string,
    resume: Boolean(a.resume),
    overwrite: Boolean(a.overwrite),
    init: a.init as string | undefined,
    model: a.model as string | undefined,
    steps: a.steps as number | undefined,
    lr: a.lr as number,
    schedule: a.schedule as TrainingArgs['schedule'],
    weightDecay: a['weight-decay'] as number,
    beta1: a.beta1 as number,
    beta2: a.beta2 as number,
    eps: a.eps as number,
    clip: a.clip as number,
    logInterval: a['log-interval'] as number,
    evalInterval: a['eval-interval'] as number,
    saveInterval: a['save-interval'] as number,
    log: a.log as string | undefined,
    backend: a.backend as string | undefined,
  };
}
