// Shared by the backend-comparison tests: the loss and every parameter gradient of a freshly initialised model.
import * as tf from '@tensorflow/tfjs';
import type { LlamaConfig } from '../../src/train/config.js';
import { LlamaModel } from '../../src/train/model.js';
import { Rng } from '../../src/util/rng.js';

/** Loss and gradients on the active backend for token ids and targets [B, T] (init seed 11, std 0.2). */
export async function lossAndGrads(cfg: LlamaConfig, ids: Int32Array, tg: Int32Array, B: number, T: number): Promise<{ loss: number; grads: Map<string, Float32Array> }> {
  const model = LlamaModel.init({ ...cfg, initializer_range: 0.2 }, new Rng(11));
  const { value, grads } = tf.variableGrads(() => model.loss(tf.tensor2d(ids, [B, T], 'int32'), tf.tensor2d(tg, [B, T], 'int32')), [...model.params.values()]);
  const out = new Map<string, Float32Array>();
  for (const [k, g] of Object.entries(grads)) out.set(k, (await g.data()) as Float32Array);
  const loss = (await value.data())[0];
  tf.dispose([value, ...Object.values(grads)]);
  model.dispose();
  return { loss, grads: out };
}
