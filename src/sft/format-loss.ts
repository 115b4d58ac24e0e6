// The loss of each format (cot / pot / tool) in a step: per trained token, the mean of -log p(target) over the
// tokens of that format's examples. The training step returns only the step's total, so this is one more forward
// pass over the step's batches at the step's weights (taken before the update, so it splits exactly the loss the
// step reports), run only on the steps that write metrics and only when the data has more than one format.
import * as tf from '@tensorflow/tfjs';
import { targetLogprobs } from '../grpo/loss.js';
import type { LlamaModel } from '../train/model.js';
import type { Encoded } from './encode.js';
import type { PackedBatch } from './pack.js';

export function lossByFormat(model: LlamaModel, batches: PackedBatch[], examples: Encoded[], T: number): Record<string, number> {
  const sums = new Map<string, { loss: number; n: number }>();
  for (const b of batches) {
    const B = b.ids.length / T;
    const lp = tf.tidy(() => targetLogprobs(model.logits(tf.tensor2d(b.ids, [B, T], 'int32'), b.segments), tf.tensor1d(b.targets, 'int32')));
    const v = lp.dataSync();
    lp.dispose();
    for (let i = 0; i < v.length; i++) {
      if (!(b.weights![i] > 0)) continue;
      const tag = examples[b.example[i]].tag;
      const s = sums.get(tag) ?? { loss: 0, n: 0 };
      s.loss -= v[i];
      s.n++;
      sums.set(tag, s);
    }
  }
  return Object.fromEntries([...sums].sort(([a], [b]) => a.localeCompare(b)).map(([tag, s]) => [`loss_${tag}`, Number((s.loss / s.n).toFixed(6))]));
}
