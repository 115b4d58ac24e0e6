// One optimizer step with gradient accumulation, and a validation pass. Shared by pretrain and sft: a batch may
// carry per-token loss weights (SFT trains on responses only).
import * as tf from '@tensorflow/tfjs';
import type { LlamaModel } from './model.js';
import type { AdamW } from './optimizer.js';

export interface TokenBatch {
  /** [B * T] row-major. */
  ids: Int32Array;
  targets: Int32Array;
  /** Optional per-position loss weights [B * T]. */
  weights?: Float32Array;
  /**
   * The weights already carry the normalisation of the whole step (or evaluation): over all its micro-batches they
   * sum to 1, so each token weighs the same however the tokens fall into micro-batches (SFT: the sum of token
   * losses over the trained tokens of the step). Without it each micro-batch is a mean and micro-batches weigh alike.
   */
  normalized?: boolean;
  /** Packed rows: per position, the index in its row where its example starts (see ops/attention). */
  segments?: Int32Array;
}

/** The batch's loss as a scalar: a mean, or (normalized) its share of the step's. Call inside a tidy. */
function batchLoss(model: LlamaModel, b: TokenBatch, T: number): tf.Scalar {
  const B = b.ids.length / T;
  const ids = tf.tensor2d(b.ids, [B, T], 'int32');
  const targets = tf.tensor2d(b.targets, [B, T], 'int32');
  const weights = b.weights ? tf.tensor2d(b.weights, [B, T], 'float32') : undefined;
  return model.loss(ids, targets, weights, { normalize: !b.normalized, segments: b.segments });
}

/**
 * The gradients of a step's micro-batches, accumulated (each a mean loss scaled by 1/count; normalized ones as they
 * are), and the step's loss. The caller owns the gradient tensors.
 */
export async function stepGradients(model: LlamaModel, micro: TokenBatch[], T: number): Promise<{ grads: Map<string, tf.Tensor>; loss: number }> {
  const vars = [...model.params.values()];
  let acc: Map<string, tf.Tensor> | undefined;
  const losses: tf.Scalar[] = [];
  for (const mb of micro) {
    const scale = mb.normalized ? 1 : 1 / micro.length;
    const { value, grads } = tf.tidy(() => tf.variableGrads(() => tf.mul(batchLoss(model, mb, T), scale) as tf.Scalar, vars));
    losses.push(value);
    if (!acc) acc = new Map(Object.entries(grads));
    else
      for (const [name, g] of Object.entries(grads)) {
        const prev = acc.get(name)!;
        acc.set(name, tf.add(prev, g));
        prev.dispose();
        g.dispose();
      }
  }
  const total = tf.addN(losses);
  const loss = (await total.data())[0];
  tf.dispose([total, ...losses]);
  return { grads: acc!, loss };
}

/** One optimizer step: the accumulated gradients, then AdamW. Returns the step's loss and the pre-clipping gradient norm. */
export async function trainStep(model: LlamaModel, opt: AdamW, micro: TokenBatch[], T: number, lr: number): Promise<{ loss: number; gradNorm: number }> {
  const { grads, loss } = await stepGradients(model, micro, T);
  const gradNorm = await opt.step(grads, lr);
  tf.dispose([...grads.values()]);
  return { loss, gradNorm };
}

/** Loss over fixed batches, no gradients: the mean of their means, or the sum of normalized batches' shares. */
export async function evalLoss(model: LlamaModel, batches: TokenBatch[], T: number): Promise<number> {
  let sum = 0;
  for (const b of batches) {
    const l = tf.tidy(() => batchLoss(model, b, T));
    sum += (await l.data())[0];
    l.dispose();
  }
  return batches.length && batches.every((b) => b.normalized) ? sum : sum / Math.max(1, batches.length);
}
