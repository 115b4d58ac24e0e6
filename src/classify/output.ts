// fastText's Loss::computeOutput: what the output layer's pre-activations become. One function serves
// training (the softmax gradient, the one-vs-all scores) and prediction (the reported probabilities), so
// the two cannot drift apart. Float32 arithmetic (Math.fround) throughout, as fastText's `real`:
// predictions are compared with fastText's to 1e-4.
import type { LossName } from './args.js';
import { sigmoid } from './tables.js';

const f = Math.fround;

/**
 * In place over x[0..n): softmax for 'softmax', table sigmoids for 'ova' and 'ns'. Hierarchical
 * softmax has no full output vector (training walks one path, prediction the tree): not handled here.
 */
export function computeOutput(loss: LossName, x: Float32Array | Float64Array, n: number): void {
  if (loss === 'hs') throw new Error('computeOutput: hierarchical softmax has no full output vector');
  if (loss !== 'softmax') {
    for (let i = 0; i < n; i++) x[i] = sigmoid(x[i]);
    return;
  }
  let max = x[0];
  for (let i = 1; i < n; i++) if (x[i] > max) max = x[i];
  let z = 0;
  for (let i = 0; i < n; i++) {
    x[i] = f(Math.exp(x[i] - max));
    z = f(z + x[i]);
  }
  for (let i = 0; i < n; i++) x[i] = f(x[i] / z);
}
