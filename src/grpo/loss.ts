// GRPO's objective on a batch of sampled outputs, and its gradients (DeepSeekMath eq. 3, with the knobs of the
// later variants). Per trained token t of output i, with ratio rho = pi_theta / pi_old:
//
//   l_it = -min(rho * A_it, clip(rho, 1 - epsilon, 1 + epsilon_high) * A_it) + beta * KL_it      (KL in the loss)
//   KL_it: k1 = log pi - log pi_ref; k2 = (log pi - log pi_ref)^2 / 2; k3 = pi_ref/pi - log(pi_ref/pi) - 1
//   loss  = sum_it w_it * l_it
//
// The aggregation lives in the weights w (built by the caller over the whole step, so micro-batches add up):
// seq-mean-token-mean w = 1/(N |o_i|) (GRPO), token-mean w = 1/sum|o_i| (DAPO), seq-mean-token-sum-norm
// w = 1/(N L) with L = max-tokens (Dr. GRPO). With ratio "sequence" (GSPO) rho is the output's length-normalised
// ratio exp(mean_t log(pi/pi_old)), carried to each token as sg(rho_i) * pi/sg(pi), the GSPO-token form: with
// one advantage per output its value and gradient are GSPO's.
//
// Each row of a batch holds one output after its prompt; positions that are not trained (prompt, padding, masked
// outputs) have mask 0 and are zeroed before any exponential, so they never produce inf * 0.
import * as tf from '@tensorflow/tfjs';
import type { LlamaModel } from '../train/model.js';
import { nativeKernels, runNative } from '../train/ops/native-kernel.js';
import type { Aggregation, KlEstimator } from './presets.js';

export interface LossSettings {
  epsilon: number;
  epsilonHigh: number;
  /** KL coefficient in the loss (0 when the KL goes into the reward or is off). */
  beta: number;
  klEstimator: KlEstimator;
  ratio: 'token' | 'sequence';
}

/** One micro-batch, [B, T] row-major. */
export interface LossBatch {
  B: number;
  T: number;
  ids: Int32Array;
  targets: Int32Array;
  /** 1 where the target is a trained output token. */
  mask: Float32Array;
  /** Aggregation weight per token (0 where mask is 0): the step's loss is the sum of w * l over its micro-batches. */
  weights: Float32Array;
  /** Advantage per token. */
  adv: Float32Array;
  /** log pi_old per token; absent on the first update, where pi_old is the policy itself (its log-probs, detached). */
  old?: Float32Array;
  /** log pi_ref per token; absent when there is no reference. */
  ref?: Float32Array;
}

/** Identity forward, zero gradient (tfjs has no stop_gradient). */
const stopGradientOp = tf.customGrad(((...args: unknown[]) => ({ value: tf.clone(args[0] as tf.Tensor), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) })) as Parameters<typeof tf.customGrad>[0]);
const stopGradient = <T extends tf.Tensor>(x: T): T => stopGradientOp(x) as T;

/** The estimator's value per token from log pi and log pi_ref. Inside a tidy. */
export function klEstimate(logp: tf.Tensor, ref: tf.Tensor, est: KlEstimator): tf.Tensor {
  // x = log(pi_ref / pi), kept within exp's float32 range on outputs the reference finds absurd.
  const x = tf.clipByValue(tf.sub(ref, logp), -20, 20);
  if (est === 'k1') return tf.neg(x);
  if (est === 'k2') return tf.mul(tf.square(x), 0.5);
  return tf.sub(tf.sub(tf.exp(x), x), 1);
}

/** klEstimate for one token, in float64 (the KL that --kl-in reward takes off an output's reward). */
export function klValue(logp: number, ref: number, est: KlEstimator): number {
  const x = Math.min(20, Math.max(-20, ref - logp));
  return est === 'k1' ? -x : est === 'k2' ? 0.5 * x * x : Math.exp(x) - x - 1;
}

/**
 * log softmax(logits)[target] per row [N], with a fused gradient dy * (onehot - softmax): the cross-entropy kernels
 * of the training core (native when built) with weights -dy, instead of the chain of logsumexp/gather gradients
 * autodiff would build (one [N, V] pass forward, one backward).
 */
export function targetLogprobs(logits: tf.Tensor2D, targets: tf.Tensor1D, o: { composed?: boolean } = {}): tf.Tensor1D {
  if (!o.composed && nativeKernels('ceForward') && logits.dtype === 'float32' && targets.dtype === 'int32') return logprobNative(logits, targets) as tf.Tensor1D;
  return logprobComposed(logits, targets) as tf.Tensor1D;
}

const picked = (logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Tensor1D => {
  const [N, V] = logits.shape;
  return tf.gather(tf.reshape(logits, [-1]), tf.add(tf.mul(tf.range(0, N, 1, 'int32'), tf.scalar(V, 'int32')), targets)) as tf.Tensor1D;
};

const logprobNative = tf.customGrad(((...args: unknown[]) => {
  const [logits, targets, save] = args as [tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
  const [, lse] = runNative('MathpipeCrossEntropy', { logits, targets, weights: tf.ones([logits.shape[0]]) });
  save([logits, targets, lse]);
  return {
    value: tf.sub(picked(logits, targets), lse),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [l, t, s] = saved;
      const [dl] = runNative('MathpipeCrossEntropyGrad', { logits: l, targets: t, weights: tf.neg(dy), lse: s, dy: tf.scalar(1) });
      return [dl, tf.zerosLike(t)];
    },
  };
}) as Parameters<typeof tf.customGrad>[0]);

const logprobComposed = tf.customGrad(((...args: unknown[]) => {
  const [logits, targets, save] = args as [tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
  const [N, V] = logits.shape;
  const lse = tf.logSumExp(logits, 1);
  save([logits, targets, lse]);
  return {
    value: tf.sub(picked(logits, targets), lse),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [l, t, s] = saved as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D];
      const probs = tf.mul(tf.exp(tf.sub(l, tf.reshape(s, [N, 1]))), tf.reshape(dy, [N, 1]));
      const flat = tf.add(tf.mul(tf.range(0, N, 1, 'int32'), tf.scalar(V, 'int32')), t);
      const hot = tf.reshape(tf.unsortedSegmentSum(dy, flat as tf.Tensor1D, N * V), [N, V]);
      return [tf.sub(hot, probs), tf.zerosLike(t)];
    },
  };
}) as Parameters<typeof tf.customGrad>[0]);

/** Per-position log p(target) [B, T], and optionally the entropy of each position's distribution. Inside a tidy. */
export function policyLogprobs(model: LlamaModel, ids: tf.Tensor2D, targets: tf.Tensor2D, withEntropy = false): { logp: tf.Tensor2D; entropy?: tf.Tensor2D } {
  const [B, T] = ids.shape;
  const logits = model.logits(ids);
  const logp = tf.reshape(targetLogprobs(logits, tf.reshape(targets, [B * T]) as tf.Tensor1D), [B, T]) as tf.Tensor2D;
  if (!withEntropy) return { logp };
  // H = lse - sum_v p_v * logit_v (no gradient flows here: the loss does not use it)
  const lse = tf.logSumExp(logits, 1);
  const p = tf.exp(tf.sub(logits, tf.reshape(lse, [-1, 1])));
  const entropy = tf.reshape(tf.sub(lse, tf.sum(tf.mul(p, logits), 1)), [B, T]) as tf.Tensor2D;
  return { logp, entropy };
}

/** Sums over the trained tokens of a micro-batch, for the step's metrics. */
export interface ObjectiveStats {
  /** sum of KL_it (the configured estimator) over trained tokens: tokens whose reference is known. */
  kl: tf.Scalar;
  /** Tokens where the lower clip is active (A < 0, rho < 1 - epsilon) / the upper (A > 0, rho > 1 + epsilon_high). */
  clipLow: tf.Scalar;
  clipHigh: tf.Scalar;
  /** sum of rho over trained tokens. */
  ratio: tf.Scalar;
}

/** The loss of one micro-batch from the policy's log-probs (differentiable), and its stats. Inside a tidy. */
export function grpoObjective(logp: tf.Tensor2D, b: LossBatch, s: LossSettings): { loss: tf.Scalar; stats: ObjectiveStats } {
  const shape: [number, number] = [b.B, b.T];
  const mask = tf.tensor2d(b.mask, shape);
  const lp = tf.mul(logp, mask);
  const old = b.old ? tf.mul(tf.tensor2d(b.old, shape), mask) : stopGradient(lp);
  const adv = tf.tensor2d(b.adv, shape);
  let logRatio = tf.sub(lp, old);
  if (s.ratio === 'sequence') {
    const len = tf.maximum(tf.sum(mask, 1, true), 1);
    const seq = tf.div(tf.sum(logRatio, 1, true), len);
    logRatio = tf.mul(tf.add(stopGradient(seq), tf.sub(lp, stopGradient(lp))), mask);
  }
  const ratio = tf.exp(logRatio);
  const clipped = tf.clipByValue(ratio, 1 - s.epsilon, 1 + s.epsilonHigh);
  const surrogate = tf.minimum(tf.mul(ratio, adv), tf.mul(clipped, adv));
  const kl = b.ref ? tf.mul(klEstimate(lp, tf.mul(tf.tensor2d(b.ref, shape), mask), s.klEstimator), mask) : tf.zeros(shape);
  let perToken = tf.neg(surrogate);
  if (s.beta > 0 && b.ref) perToken = tf.add(perToken, tf.mul(kl, s.beta));
  const loss = tf.sum(tf.mul(perToken, tf.tensor2d(b.weights, shape))) as tf.Scalar;
  const stats = {
    kl: tf.sum(kl) as tf.Scalar,
    clipLow: tf.sum(tf.mul(mask, tf.mul(tf.cast(tf.less(ratio, 1 - s.epsilon), 'float32'), tf.cast(tf.less(adv, 0), 'float32')))) as tf.Scalar,
    clipHigh: tf.sum(tf.mul(mask, tf.mul(tf.cast(tf.greater(ratio, 1 + s.epsilonHigh), 'float32'), tf.cast(tf.greater(adv, 0), 'float32')))) as tf.Scalar,
    ratio: tf.sum(tf.mul(ratio, mask)) as tf.Scalar,
  };
  return { loss, stats };
}

/** log pi_ref of a micro-batch's targets, no gradients. */
export function referenceLogprobs(ref: LlamaModel, b: LossBatch): Float32Array {
  const out = tf.tidy(() => policyLogprobs(ref, tf.tensor2d(b.ids, [b.B, b.T], 'int32'), tf.tensor2d(b.targets, [b.B, b.T], 'int32')).logp);
  const data = out.dataSync() as Float32Array;
  out.dispose();
  return data;
}

export interface StepGradients {
  grads: Map<string, tf.Tensor>;
  loss: number;
  /** Summed over the micro-batches (see ObjectiveStats); entropy: sum over trained tokens. */
  kl: number;
  clipLow: number;
  clipHigh: number;
  ratio: number;
  entropy?: number;
  /** Per micro-batch, the policy's log-probs as computed here (pi_old, on the first update). */
  logp: Float32Array[];
}

/**
 * Gradients of the step's loss (the sum over micro-batches; their weights carry the normalisation). The caller
 * owns the gradient tensors.
 */
export async function grpoGradients(model: LlamaModel, micro: LossBatch[], s: LossSettings, o: { entropy?: boolean } = {}): Promise<StepGradients> {
  const vars = [...model.params.values()];
  let acc: Map<string, tf.Tensor> | undefined;
  const sums = { loss: 0, kl: 0, clipLow: 0, clipHigh: 0, ratio: 0, entropy: 0 };
  const logps: Float32Array[] = [];
  for (const b of micro) {
    let aux: tf.Tensor[] = [];
    const { value, grads } = tf.tidy(() =>
      tf.variableGrads(() => {
        const { logp, entropy } = policyLogprobs(model, tf.tensor2d(b.ids, [b.B, b.T], 'int32'), tf.tensor2d(b.targets, [b.B, b.T], 'int32'), o.entropy);
        const { loss, stats } = grpoObjective(logp, b, s);
        const ent = entropy ? tf.sum(tf.mul(entropy, tf.tensor2d(b.mask, [b.B, b.T]))) : tf.scalar(0);
        aux = [logp, stats.kl, stats.clipLow, stats.clipHigh, stats.ratio, ent].map((x) => tf.keep(x));
        return loss;
      }, vars),
    );
    const [logp, ...scalars] = aux;
    const [kl, lo, hi, ratio, ent] = await Promise.all(scalars.map(async (x) => (await x.data())[0]));
    logps.push((await logp.data()) as Float32Array);
    sums.loss += (await value.data())[0];
    sums.kl += kl;
    sums.clipLow += lo;
    sums.clipHigh += hi;
    sums.ratio += ratio;
    sums.entropy += ent;
    tf.dispose([value, ...aux]);
    if (!acc) acc = new Map(Object.entries(grads));
    else
      for (const [name, g] of Object.entries(grads)) {
        const prev = acc.get(name)!;
        acc.set(name, tf.add(prev, g));
        prev.dispose();
        g.dispose();
      }
  }
  return { grads: acc ?? new Map(), ...sums, entropy: o.entropy ? sums.entropy : undefined, logp: logps };
}

/**
 * The weight each trained token of output i gets under an aggregation, from the trained-token counts of the
 * step's outputs (0: not trained, not counted in N).
 */
export function tokenWeights(lengths: number[], aggregation: Aggregation, maxTokens: number): number[] {
  const N = lengths.filter((n) => n > 0).length;
  const total = lengths.reduce((a, b) => a + b, 0);
  return lengths.map((n) => {
    if (n === 0) return 0;
    if (aggregation === 'token-mean') return 1 / total;
    if (aggregation === 'seq-mean-token-sum-norm') return 1 / (N * maxTokens);
    return 1 / (N * n);
  });
}
