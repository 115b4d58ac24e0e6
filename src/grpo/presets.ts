// The loss settings of a GRPO run, as one value per knob, and the presets that name the published recipes. A
// preset fills every knob; a flag given on the command line wins over it. The resolved values, with where each
// came from, are printed at start-up and saved in the checkpoint (grpo_config.json, and the trainer state's
// fingerprint so --resume refuses a change).
import { UsageError } from '../cli/errors.js';
import { integer, number } from '../cli/options.js';
import { STD_SCOPES, type StdScope, STEP_AGGREGATIONS, type StepAggregation } from './advantages.js';

export const KL_ESTIMATORS = ['k1', 'k2', 'k3'] as const;
export type KlEstimator = (typeof KL_ESTIMATORS)[number];
export const KL_IN = ['loss', 'reward'] as const;
export const AGGREGATIONS = ['seq-mean-token-mean', 'token-mean', 'seq-mean-token-sum-norm'] as const;
export type Aggregation = (typeof AGGREGATIONS)[number];
export const RATIOS = ['token', 'sequence'] as const;
export const BASELINES = ['mean', 'none'] as const;

export interface GrpoConfig {
  /** Outputs sampled per question (G). */
  group_size: number;
  /** Questions per step. */
  batch_size: number;
  /** Generated tokens at most per output. */
  max_tokens: number;
  temperature: number;
  /** Policy updates on each batch of samples (mu); the first is on-policy (ratio 1). */
  mu: number;
  /** Lower clip range: the ratio is clipped to [1 - epsilon, 1 + epsilon_high]. */
  epsilon: number;
  epsilon_high: number;
  /** KL coefficient. */
  beta: number;
  kl_estimator: KlEstimator;
  /** loss: beta * KL per token in the objective (GRPO); reward: beta * the output's summed KL off its reward. */
  kl_in: (typeof KL_IN)[number];
  std_scope: StdScope;
  /** mean: advantages are relative to the group's mean reward; none: the reward itself (online RFT). */
  baseline: (typeof BASELINES)[number];
  aggregation: Aggregation;
  /** token: a ratio per token (GRPO, PPO); sequence: the geometric mean over the output (GSPO). */
  ratio: (typeof RATIOS)[number];
  /** Drop groups whose rewards are all equal and draw more questions to fill the batch (DAPO). */
  dynamic_sampling: boolean;
  /** DAPO's soft overlong punishment over the last fraction of max_tokens (0: off; DAPO: 4096 of 20480 = 0.2). */
  overlong_buffer: number;
  /** Outputs cut by max_tokens are left out of the loss. */
  mask_truncated: boolean;
  /** Weight of the correctness reward (1 when the checker accepts the answer, else 0). */
  correct_weight: number;
  /** Weight of the format reward (1 when an answer can be extracted at all, else 0). */
  format_weight: number;
  /** Process supervision: how a token's advantage gathers the normalised rewards of the steps at or after it. */
  step_aggregation: StepAggregation;
}

/** The published settings (the papers' numbers; see the man page for the sources). */
const DEEPSEEKMATH: GrpoConfig = {
  group_size: 64,
  batch_size: 16,
  max_tokens: 1024,
  temperature: 1,
  mu: 1,
  epsilon: 0.2,
  epsilon_high: 0.2,
  beta: 0.04,
  kl_estimator: 'k3',
  kl_in: 'loss',
  std_scope: 'group',
  baseline: 'mean',
  aggregation: 'seq-mean-token-mean',
  ratio: 'token',
  dynamic_sampling: false,
  overlong_buffer: 0,
  mask_truncated: false,
  correct_weight: 1,
  format_weight: 0,
  step_aggregation: 'sum',
};

export const PRESETS: Record<string, { describe: string; config: GrpoConfig }> = {
  deepseekmath: {
    describe: 'DeepSeekMath (Shao et al. 2024): std-normalised group advantages, sequence-mean of token-means, beta 0.04 k3 KL in the loss, epsilon 0.2, G 64, 1024 tokens, lr 1e-6, 16 questions x 64 = the paper\'s batch of 1024, one update per batch',
    config: DEEPSEEKMATH,
  },
  'dr-grpo': {
    describe: 'Dr. GRPO (Liu et al. 2025): no std scaling, token sums divided by a constant (max-tokens), no KL; G 8',
    config: { ...DEEPSEEKMATH, group_size: 8, std_scope: 'none', aggregation: 'seq-mean-token-sum-norm', beta: 0 },
  },
  dapo: {
    describe: 'DAPO (Yu et al. 2025): clip-higher (0.2 / 0.28), token-level mean, dynamic sampling, soft overlong punishment over the last 20% of max-tokens, no KL; G 16',
    config: { ...DEEPSEEKMATH, group_size: 16, epsilon_high: 0.28, aggregation: 'token-mean', dynamic_sampling: true, overlong_buffer: 0.2, beta: 0 },
  },
  gspo: {
    describe: 'GSPO (Zheng et al. 2025): sequence-level importance ratio (length-normalised), clip 3e-4 / 4e-4, no KL; G 16',
    config: { ...DEEPSEEKMATH, group_size: 16, ratio: 'sequence', epsilon: 3e-4, epsilon_high: 4e-4, beta: 0 },
  },
  'online-rft': {
    describe: 'Online rejection-sampling fine-tuning (DeepSeekMath 5.2.1): reward 1/0, no baseline, no std, no KL: the correct outputs are trained on',
    config: { ...DEEPSEEKMATH, baseline: 'none', std_scope: 'none', beta: 0 },
  },
};

/** CLI flag of each knob (the same words with dashes). */
export const flagOf = (k: keyof GrpoConfig): string => k.replace(/_/g, '-');

/** Every knob's choices, for the option definitions and the checks. */
export const CHOICES: Partial<Record<keyof GrpoConfig, readonly string[]>> = {
  kl_estimator: KL_ESTIMATORS,
  kl_in: KL_IN,
  std_scope: STD_SCOPES,
  baseline: BASELINES,
  aggregation: AGGREGATIONS,
  ratio: RATIOS,
  step_aggregation: STEP_AGGREGATIONS,
};

export interface Resolved {
  preset: string;
  config: GrpoConfig;
  /** The knobs a flag set (the rest are the preset's). */
  overridden: (keyof GrpoConfig)[];
}

/**
 * The preset's values (or `base`, the values a resumed run saved) with the flags that were given (undefined: not
 * given) on top.
 */
export function resolveConfig(preset: string, flags: Partial<Record<keyof GrpoConfig, unknown>>, base?: GrpoConfig): Resolved {
  const p = PRESETS[preset];
  if (!p) throw new RangeError(`unknown preset ${preset}`);
  const config = { ...p.config, ...base } as Record<string, unknown>;
  const overridden: (keyof GrpoConfig)[] = [];
  for (const k of Object.keys(p.config) as (keyof GrpoConfig)[]) {
    const v = flags[k];
    if (v === undefined) continue;
    config[k] = v;
    overridden.push(k);
  }
  return { preset, config: config as unknown as GrpoConfig, overridden };
}

/** Problems with a resolved config, in CLI words. */
export function checkConfig(c: GrpoConfig): string[] {
  const bad: string[] = [];
  // Every problem is listed, not only the first: the shared checks' messages are collected.
  const check = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      if (!(e instanceof UsageError)) throw e;
      bad.push(e.message);
    }
  };
  for (const k of ['group_size', 'batch_size', 'max_tokens', 'mu'] as const) check(() => integer(c[k], `--${flagOf(k)}`, 1));
  for (const k of ['epsilon', 'epsilon_high', 'beta', 'temperature'] as const) check(() => number(c[k], `--${flagOf(k)}`, { min: 0 }));
  for (const k of ['correct_weight', 'format_weight'] as const) check(() => number(c[k], `--${flagOf(k)}`));
  if (c.epsilon >= 1) bad.push('--epsilon must be below 1 (the ratio is clipped to [1 - epsilon, 1 + epsilon-high])');
  check(() => number(c.overlong_buffer, '--overlong-buffer', { min: 0, max: 1 }));
  if (c.group_size < 2 && c.baseline === 'mean') bad.push('--group-size must be at least 2 when advantages are relative to the group (--baseline mean)');
  for (const [k, choices] of Object.entries(CHOICES)) {
    const v = c[k as keyof GrpoConfig];
    if (!choices.includes(String(v))) bad.push(`--${flagOf(k as keyof GrpoConfig)} must be one of ${choices.join(', ')}`);
  }
  return bad;
}

/** The start-up lines: every value, with (flag) where a flag replaced the preset's. */
export function describeConfig(r: Resolved): string {
  const parts = (Object.keys(r.config) as (keyof GrpoConfig)[]).map((k) => `${flagOf(k)} ${String(r.config[k])}${r.overridden.includes(k) ? ' (flag)' : ''}`);
  const lines: string[] = [];
  let line = `preset ${r.preset}:`;
  for (const p of parts) {
    if (line.length + p.length > 110) {
      lines.push(line);
      line = ' ';
    }
    line += ` ${p}`;
  }
  lines.push(line);
  return lines.join('\n');
}
