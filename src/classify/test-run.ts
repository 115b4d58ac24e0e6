// `classify test`: fastText's `test` and `test-label` in one JSON report.
import { inputList, integer, number } from '../cli/options.js';
import { info } from '../cli/log.js';
import { UsageError } from '../cli/errors.js';
import { withWriter } from '../jsonl/index.js';
import { encodeExamples } from './dataset.js';
import { evaluate } from './evaluate.js';
import { detectFormat, readAllExamples, type InputFormat } from './examples.js';
import { loadModel } from './modelfile.js';
import { normalizeFor } from './options.js';

export async function runTest(argv: Record<string, unknown>): Promise<void> {
  const model = loadModel(String(argv.model));
  const k = integer(argv.k, '-k', 1, 1e6);
  const threshold = number(argv.threshold, '--threshold', { min: 0, max: 1 });
  const paths = inputList(argv.inputs);
  const format = await detectFormat(paths, argv.format as InputFormat | 'auto');
  const normalize = normalizeFor(argv.normalize, model.meta?.normalize);
  // fastText's .bin has no field for the label prefix: a model trained with --label X needs it again here.
  if (argv.label !== undefined) {
    const label = String(argv.label);
    if (!label || /\s/.test(label)) throw new UsageError('--label must be a non-empty prefix without spaces');
    model.args.label = label;
  }
  const examples = await readAllExamples(paths, argv, format, normalize, model.args.label);
  if (!examples.length) throw new UsageError('no labeled examples in the input');
  const { data, dropped } = encodeExamples(model.dict, examples);
  const report = evaluate(model, data, k, threshold);
  await withWriter(argv.output as string | undefined, async (out) => {
    await out.writeJson(report);
  });
  const pct = (v: number | null) => (v === null ? 'n/a' : (v * 100).toFixed(2) + '%');
  const dropNote = dropped ? ` (${dropped} with no known label or word left out, as fastText does)` : '';
  info(`${report.examples} examples${dropNote}: P@${k} ${pct(report.precision)}, R@${k} ${pct(report.recall)}`);
}
