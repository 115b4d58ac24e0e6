// A learned reward in the GRPO loop, and iterative RL (DeepSeekMath 4.2): the run's steps are split into
// iterations; between two, (1) the reference of the KL term becomes the policy as it is, (2) the policy's samples
// of some training questions are labeled (outcome labels for an ORM; Math-Shepherd step labels, rolled out by the
// policy itself, for a PRM), and (3) the reward model trains on them with a fraction (--replay) of the older labels
// mixed in. All of it is a function of the policy at the boundary and the seed, and happens at the start of the
// first step of the new iteration, so a checkpoint saved at the boundary resumes into the same work.
//
// What a resumed run needs beyond the policy is saved in the checkpoint: the reference after a reset
// (reference.safetensors), the reward model and its optimizer (reward_model/), and the labels of every iteration
// (rm_data/iter-NN.jsonl: the replay's history).
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { DataError, UsageError } from '../cli/errors.js';
import { info, warn } from '../cli/log.js';
import { writeOutputFile } from '../cli/output-file.js';
import type { GradeOptions } from '../checker/index.js';
import type { Generator, GeneratedSample } from '../sample/generator.js';
import type { SamplingParams } from '../sample/sampling.js';
import type { LlamaModel } from '../train/model.js';
import { AdamW } from '../train/optimizer.js';
import type { BackendCapabilities } from '../train/backend.js';
import { Rng } from '../util/rng.js';
import { copyTokenizerFiles } from '../train/checkpoint.js';
import { openSafetensors, writeSafetensors } from '../train/safetensors.js';
import type { Tokenizer } from '../tokenizer/index.js';
import { toInternal } from '../train/model.js';
import { stepEnds, type StepSeparator } from './advantages.js';
import type { PromptFormat, Question } from './data.js';
import { readLabeled, replayMix, toExample, type LabeledRecord, type RmExample } from './rm/data.js';
import { contentTokens, labelOutputs } from './rm/label.js';
import type { LabelRule } from './rm/kinds.js';
import { RewardModel, sigmoid, snapshot, type RmConfig } from './rm/model.js';
import { rmEvaluate, trainRewardModel } from './rm/train.js';

export interface IterativeSettings {
  /** Fraction of historical labels in each retraining set. */
  replay: number;
  /** Questions whose samples are labeled per iteration, and samples per question. */
  questions: number;
  samples: number;
  /** PRM: rollouts per step prefix, and the rule that makes a step good. */
  rollouts: number;
  rule: LabelRule;
  /** Reward-model training per iteration. */
  steps: number;
  lr: number;
  batchSize: number;
}

/** The reward model's AdamW (a reward model trains with no weight decay). */
const RM_ADAMW = { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0, clip: 1 };
const RM_DIR = 'reward_model';
const DATA_DIR = 'rm_data';
const REFERENCE_FILE = 'reference.safetensors';

/**
 * The reward model of a run: from the resumed checkpoint when an iteration retrained it, else from --reward-model.
 * It must have been trained on prompts rendered as the policy's are, and on the policy's vocabulary.
 */
export function openRewardModel(path: string, o: { resumedDir?: string; prompt: RmConfig['prompt']; vocab: number; marker?: StepSeparator; trainable: boolean }): RewardModel {
  const saved = o.resumedDir && existsSync(join(o.resumedDir, RM_DIR, 'config.json')) ? join(o.resumedDir, RM_DIR) : path;
  const rm = RewardModel.load(saved, { namePrefix: 'rm.', trainable: o.trainable });
  const fail = (why: string) => {
    rm.dispose();
    throw new UsageError(`--reward-model ${path}: ${why}`);
  };
  if (rm.config.vocab_size !== o.vocab) fail(`vocab_size ${rm.config.vocab_size}, the policy's is ${o.vocab}: a reward model must share the policy's tokenizer`);
  if (JSON.stringify(rm.rm.prompt) !== JSON.stringify(o.prompt))
    fail(`trained on prompts ${JSON.stringify(rm.rm.prompt)}, this run renders ${JSON.stringify(o.prompt)}; give the same --prompt-template, --chat, --system, --bos`);
  if (rm.rm.kind === 'prm' && o.marker && JSON.stringify(o.marker) !== JSON.stringify(rm.rm.step_separator))
    fail(`its steps end ${rm.rm.step_separator.kind === 'marker' ? `with ${JSON.stringify(rm.rm.step_separator.text)}` : 'at blank lines'}; --step-marker must agree (or be left out)`);
  info(`reward model ${resolve(saved)}: ${rm.rm.kind === 'orm' ? 'outcome (ORM)' : `process (PRM, steps end ${rm.rm.step_separator.kind === 'marker' ? `with ${JSON.stringify(rm.rm.step_separator.text)}` : 'at blank lines'})`}`);
  return rm;
}

/** One output to score: its prompt and its sample. */
export interface Scored {
  prompt: number[];
  sample: GeneratedSample;
}

/**
 * Reward-model probabilities of outputs: an ORM's one per output (at its last content token), a PRM's one per step
 * with the step ends (indices into the sample's tokens; the last is the output's last token, a stop token joining
 * the last step, as the advantages need).
 */
export function rewardModelScores(rm: RewardModel, outs: Scored[], bytesOf: (id: number) => Uint8Array, pad: number, batch: number): { probs: number[]; ends: number[] }[] {
  const cut = outs.map(({ prompt, sample }) => {
    const toks = contentTokens(sample);
    let ends = rm.rm.kind === 'prm' && toks.length ? stepEnds(toks.map(bytesOf), rm.rm.step_separator) : [toks.length - 1];
    if (ends[0] < 0) ends = [sample.tokens.length - 1];
    return { ids: [...prompt, ...sample.tokens], at: ends.map((e) => prompt.length + e), ends };
  });
  const scores = rm.score(cut, pad, batch);
  return cut.map((c, i) => {
    const ends = [...c.ends];
    ends[ends.length - 1] = outs[i].sample.tokens.length - 1;
    return { probs: scores[i].map(sigmoid), ends };
  });
}

export interface IterationContext {
  policy: LlamaModel;
  reference?: LlamaModel;
  rm?: RewardModel;
  gen: Generator;
  tok: Tokenizer;
  format: PromptFormat;
  questions: Question[];
  grade: GradeOptions;
  sampling: (n: number, seed: number) => SamplingParams;
  bytesOf: (id: number) => Uint8Array;
  seed: number;
  context: number;
  microBatch: number;
  settings: IterativeSettings;
  /** The backend's capabilities (the reward model's optimizer path). */
  caps: BackendCapabilities;
}

/** The state of iterative RL that lives beside the policy: the reference resets, the reward model's training. */
export class Iterations {
  private readonly rmOpt?: AdamW;
  /** Labels of each finished iteration, oldest first. */
  private readonly labels: LabeledRecord[][] = [];
  private initial?: RmExample[];
  private reset = false;

  constructor(private readonly c: IterationContext) {
    if (c.rm) this.rmOpt = new AdamW(c.rm.trainable(), RM_ADAMW, c.caps);
  }

  /** A resumed run: the reference after its last reset, the reward model's optimizer, the labels so far. */
  restore(dir: string, boundariesDone: number): void {
    if (boundariesDone > 0 && this.c.reference) {
      const path = join(dir, REFERENCE_FILE);
      if (!existsSync(path)) throw new DataError(dir, `${REFERENCE_FILE} is missing: the checkpoint is past an iteration boundary but holds no reset reference`);
      const f = openSafetensors(path);
      try {
        for (const [name, v] of this.c.reference.params) {
          const t = f.get(name);
          const { shape, data } = toInternal(name, t.shape, t.data as Float32Array);
          tf.tidy(() => v.assign(tf.tensor(data, shape, 'float32')));
        }
      } finally {
        f.close();
      }
      this.reset = true;
    }
    if (this.c.rm && this.rmOpt && existsSync(join(dir, RM_DIR, 'optimizer.safetensors'))) this.c.rm.restoreMoments(this.rmOpt, join(dir, RM_DIR));
    const dataDir = join(dir, DATA_DIR);
    if (existsSync(dataDir))
      for (const n of readdirSync(dataDir).filter((x) => /^iter-\d+\.jsonl$/.test(x)).sort())
        this.labels.push(
          readFileSync(join(dataDir, n), 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l) as LabeledRecord),
        );
  }

  /** Iteration `i` (1-based boundary) begins: reset the reference, relabel, retrain. Returns metrics for the step's line. */
  async begin(i: number): Promise<Record<string, number>> {
    const { c } = this;
    const out: Record<string, number> = {};
    if (c.reference) {
      // A real copy: the policy's buffers must stay its own (the optimizer updates them in place).
      for (const [name, v] of c.reference.params) {
        const p = c.policy.params.get(name)!;
        tf.tidy(() => v.assign(tf.tensor(Float32Array.from(p.dataSync() as Float32Array), p.shape, 'float32')));
      }
      this.reset = true;
    }
    if (!c.rm || !this.rmOpt) {
      info(`iteration ${i + 1}: the reference is the policy now`);
      return out;
    }
    const s = c.settings;
    // (2) the policy's samples of M questions (an order of their own per iteration), labeled.
    const rng = new Rng(c.seed * 31 + i * 7 + 0x1abe1);
    const pick = Array.from({ length: c.questions.length }, (_, k) => k);
    for (let k = pick.length - 1; k > 0; k--) {
      const j = rng.int(k + 1);
      [pick[k], pick[j]] = [pick[j], pick[k]];
    }
    const qs = pick.slice(0, Math.min(s.questions, pick.length)).map((k) => c.questions[k]);
    const M = qs.length;
    const samples = await Promise.all(qs.map((q, k) => c.gen.submit({ prompt: q.prompt, params: c.sampling(s.samples, c.seed + 0x1abe1), stream: i * M + k })));
    const items = qs.flatMap((q, k) => samples[k].map((x) => ({ q, tokens: contentTokens(x) })));
    const rollouts = c.rm.rm.kind === 'prm' ? s.rollouts : 0;
    if (c.rm.rm.kind === 'prm' && rollouts === 0) throw new UsageError('--rollouts 0: a PRM needs step labels, which come from rollouts');
    const fresh = await labelOutputs(c.gen, items, c.bytesOf, {
      rollouts,
      rule: s.rule,
      sep: c.rm.rm.step_separator,
      sampling: (n) => c.sampling(n, c.seed + 0x1abe2),
      grade: c.grade,
      streamBase: i * M * s.samples * 4096,
    });
    // (3) retrain with the history replayed.
    const asExamples = (recs: LabeledRecord[], where: string) =>
      recs.map((r, k) => toExample({ value: r as unknown as Record<string, never>, raw: '', file: where, line: k + 1 }, c.rm!.rm.kind, { questionField: 'question', format: c.format, tok: c.tok, sep: c.rm!.rm.step_separator, context: c.context }));
    const freshEx = asExamples(fresh, `iteration ${i + 1} labels`);
    const history = [...(await this.initialData()), ...this.labels.flatMap((l, k) => asExamples(l, `iteration ${k + 2} labels`))];
    const { mixed, replayed } = replayMix(freshEx, history, s.replay, new Rng(c.seed * 17 + i));
    const before = rmEvaluate(c.rm, freshEx, c.microBatch);
    await trainRewardModel(c.rm, this.rmOpt, mixed, { steps: s.steps, batchSize: s.batchSize, lr: s.lr, seed: c.seed + i });
    const after = rmEvaluate(c.rm, freshEx, c.microBatch);
    this.labels.push(fresh);
    const good = fresh.flatMap((r) => r.step_labels ?? [r.label]);
    info(`iteration ${i + 1}: the reference is the policy now; ${fresh.length} outputs labeled (${good.length ? ((100 * good.filter((x) => x).length) / good.length).toFixed(0) : 0}% good), ${replayed} older labels replayed; reward model on the new labels: loss ${before.loss.toFixed(4)} -> ${after.loss.toFixed(4)}, accuracy ${before.accuracy.toFixed(3)} -> ${after.accuracy.toFixed(3)}`);
    Object.assign(out, { rm_labels: fresh.length, rm_replayed: replayed, rm_loss_before: Number(before.loss.toFixed(6)), rm_loss_after: Number(after.loss.toFixed(6)), rm_accuracy_after: Number(after.accuracy.toFixed(6)) });
    return out;
  }

  /** The reward model's own training data, read once when it exists (else the history starts at iteration 2). */
  private async initialData(): Promise<RmExample[]> {
    if (this.initial) return this.initial;
    const rm = this.c.rm!;
    const paths = rm.rm.data.filter((p) => existsSync(p));
    if (paths.length < rm.rm.data.length) warn(`reward model data ${rm.rm.data.filter((p) => !existsSync(p)).join(', ')} not found: not replayed`);
    this.initial = paths.length ? await readLabeled(paths, rm.rm.kind, { questionField: 'question', format: this.c.format, tok: this.c.tok, sep: rm.rm.step_separator, context: this.c.context, skipInvalid: true }) : [];
    return this.initial;
  }

  /** Into a checkpoint being written: what a resumed run needs (see the top of the file). */
  save(dir: string): void {
    if (this.reset && this.c.reference) writeSafetensors(join(dir, REFERENCE_FILE), snapshot(this.c.reference.params), { format: 'pt' });
    if (this.c.rm && this.labels.length) {
      this.c.rm.writeSync(join(dir, RM_DIR), this.rmOpt);
      copyTokenizerFiles(dir, join(dir, RM_DIR));
      mkdirSync(join(dir, DATA_DIR), { recursive: true });
      this.labels.forEach((l, k) => writeOutputFile(join(dir, DATA_DIR, `iter-${String(k + 2).padStart(2, '0')}.jsonl`), l.map((r) => JSON.stringify(r) + '\n').join('')));
    }
  }

  dispose(): void {
    this.rmOpt?.dispose();
  }
}
