// Evaluate a model on encoded labeled examples (fastText's FastText::test).
import type { Dataset } from './dataset.js';
import { Meter, type TestReport } from './metrics.js';
import type { FastTextModel } from './modelfile.js';
import { Predictor, topK } from './predictor.js';

export function evaluate(model: FastTextModel, data: Dataset, k: number, threshold: number): TestReport {
  const meter = new Meter(model.dict.labels());
  const p = new Predictor(model);
  const probs = new Float64Array(model.dict.nlabels);
  for (let i = 0; i < data.n; i++) {
    const s = data.rowStart[i];
    const n = data.rowStart[i + 1] - s;
    const gold = Array.from(data.labels.subarray(data.labelStart[i], data.labelStart[i + 1]));
    const rows = data.rows.subarray(s, s + n);
    const pred = p.probs(rows, n, probs) ? topK(probs, k, threshold) : [];
    meter.log(gold, pred);
  }
  return meter.report(k, threshold, model.args.label);
}
