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
}

function tensors(b: TokenBatch, T: number): { ids: tf.Tensor2D; targets: tf.Tensor2D; weights?: tf.Tensor2D } {
  const B = b.ids.length / T;
  return {
    ids: tf.tensor2d(b.ids, [B, T], 'int32'),
    targets: tf.tensor2d(b.targets, [B, T], 'int32'),
    weights: b.weights ? tf.tensor2d(b.weights, [B, T], 'float32') : undefined,
  };
}

/**
 * Average the gradients of `micro.length` micro-batches (each a mean loss), then apply one AdamW update.
 * Returns the mean loss and the pre-clipping gradient norm.
 */
export async function trainStep(model: LlamaModel, opt: AdamW, micro: TokenBatch[], T: number, lr: number): Promise<{ loss: number; gradNorm: number }> {
  const vars = [...model.params.values()];
  let acc: Map<string, tf.Tensor> | undefined;
  const losses: tf.Scalar[] = [];
  const scale = 1 / micro.length;
  for (const mb of micro) {
    const { value, grads } = tf.tidy(() => {
      const t = tensors(mb, T);
      return tf.variableGrads(() => tf.mul(model.loss(t.ids, t.targets, t.weights), scale) as tf.Scalar, vars);
    });
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
  const gradNorm = await opt.step(acc!, lr);
  tf.dispose([...acc!.values()]);
  const total = tf.addN(losses);
  const loss = (await total.data())[0];
  tf.dispose([total, ...losses]);
  return { loss, gradNorm };
}

/** Mean loss over fixed batches, no gradients. */
export async function evalLoss(model: LlamaModel, batches: TokenBatch[], T: number): Promise<number> {
  let sum = 0;
  for (const b of batches) {
    const l = tf.tidy(() => {
      const t = tensors(b, T);
      return model.loss(t.ids, t.targets, t.weights);
    });
    sum += (await l.data())[0];
    l.dispose();
  }
  return sum / Math.max(1, batches.length);
}
