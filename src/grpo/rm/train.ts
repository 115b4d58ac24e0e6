// Training a reward model: binary cross-entropy of sigmoid(score) against the labels, at the positions an example
// names (the response's last token for an ORM, each step's last token for a PRM), averaged over the labeled
// positions of a batch; AdamW as every other trainer. Examples are drawn in a shuffled order per epoch from a
// seeded RNG, so a run (and the retraining between RL iterations) is a function of its seed.
import * as tf from '@tensorflow/tfjs';
import { AdamW } from '../../train/optimizer.js';
import { Rng } from '../../util/rng.js';
import { packRows, type RewardModel } from './model.js';
import type { RmExample } from './data.js';

/** Mean BCE with logits over positions: max(s, 0) - s y + log(1 + exp(-|s|)). Inside a tidy. */
export function bceWithLogits(s: tf.Tensor1D, y: tf.Tensor1D): tf.Scalar {
  return tf.mean(tf.add(tf.sub(tf.relu(s), tf.mul(s, y)), tf.log1p(tf.exp(tf.neg(tf.abs(s)))))) as tf.Scalar;
}

export interface RmStepResult {
  loss: number;
  /** Labeled positions whose score is on the side of 0 their label is on. */
  accuracy: number;
  gradNorm: number;
}

/** One optimizer step on a batch. */
export async function rmStep(rm: RewardModel, opt: AdamW, batch: RmExample[], lr: number): Promise<RmStepResult> {
  const { ids, positions, shape } = packRows(batch, 0);
  const labels = Float32Array.from(batch.flatMap((e) => e.labels));
  const params = rm.trainable();
  let scores: tf.Tensor | undefined;
  const { value, grads } = tf.tidy(() =>
    tf.variableGrads(() => {
      const s = rm.scoresAt(tf.tensor2d(ids, shape, 'int32'), positions);
      scores = tf.keep(s);
      return bceWithLogits(s, tf.tensor1d(labels));
    }, [...params.values()]),
  );
  // Gradients and optimizer are both keyed by variable name (trainable()).
  const g = new Map(Object.entries(grads));
  const gradNorm = await opt.step(g, lr);
  const s = (await scores!.data()) as Float32Array;
  const loss = (await value.data())[0];
  tf.dispose([value, scores!, ...g.values()]);
  return { loss, accuracy: agreement(s, labels), gradNorm };
}

function agreement(s: ArrayLike<number>, labels: ArrayLike<number>): number {
  let ok = 0;
  for (let i = 0; i < labels.length; i++) if (s[i] > 0 === labels[i] > 0.5) ok++;
  return ok / Math.max(1, labels.length);
}

/** Loss and accuracy of a set, no training. */
export function rmEvaluate(rm: RewardModel, examples: RmExample[], batch: number): { loss: number; accuracy: number } {
  const scores = rm.score(examples, 0, batch).flat();
  const labels = examples.flatMap((e) => e.labels);
  let loss = 0;
  scores.forEach((s, i) => (loss += Math.max(s, 0) - s * labels[i] + Math.log1p(Math.exp(-Math.abs(s)))));
  return { loss: loss / Math.max(1, labels.length), accuracy: agreement(scores, labels) };
}

export interface RmTrainSpec {
  steps: number;
  batchSize: number;
  lr: number;
  seed: number;
  /** Each step's result, as it happens. */
  onStep?: (step: number, r: RmStepResult) => Promise<void> | void;
}

function permutation(n: number, rng: Rng): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

/** `steps` optimizer steps over the examples (reshuffled every epoch). */
export async function trainRewardModel(rm: RewardModel, opt: AdamW, examples: RmExample[], s: RmTrainSpec): Promise<RmStepResult[]> {
  const rng = new Rng(s.seed * 7 + 0x2d);
  let order: number[] = [];
  const out: RmStepResult[] = [];
  for (let step = 1; step <= s.steps; step++) {
    const batch: RmExample[] = [];
    while (batch.length < Math.min(s.batchSize, examples.length)) {
      if (!order.length) order = permutation(examples.length, rng);
      batch.push(examples[order.shift()!]);
    }
    const r = await rmStep(rm, opt, batch, s.lr);
    out.push(r);
    await s.onStep?.(step, r);
  }
  return out;
}
