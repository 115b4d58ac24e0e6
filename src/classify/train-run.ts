// `classify train`: read labeled examples, build the dictionary, train on worker threads, save .bin.
import { inputList } from '../cli/options.js';
import { info } from '../cli/log.js';
import { DataError, UsageError, inputsWhere } from '../cli/errors.js';
import { checkWritable } from '../cli/output-file.js';
import { JsonlWriter } from '../jsonl/index.js';
import { DatasetBuilder, DictBuilder, encodeExamples, type Dataset } from './dataset.js';
import { detectFormat, forEachExample, readAllExamples, type Example, type InputFormat } from './examples.js';
import { saveModel, type FastTextModel } from './modelfile.js';
import type { Normalize } from './normalize.js';
import { trainArgs } from './options.js';
import { evaluate } from './evaluate.js';
import { train } from './trainer.js';
import type { Args } from './args.js';

/**
 * Count the dictionary, then encode. Files are read twice so token strings are never all held at once
 * (the encoded set is several times smaller); standard input can only be read once, so it is kept.
 */
async function readTrainingSet(paths: string[], argv: Record<string, unknown>, format: InputFormat, normalize: Normalize, args: Args) {
  const builder = new DictBuilder(args);
  let count = 0;
  const kept: Example[] | null = paths.includes('-') ? [] : null;
  await forEachExample(paths, argv, format, normalize, args.label, (e) => {
    builder.addExample(e);
    kept?.push(e);
    count++;
  });
  if (!count) throw new DataError(inputsWhere(paths), 'no training examples in the input');
  const dict = builder.build();
  const ds = new DatasetBuilder(dict);
  if (kept) {
    for (const e of kept) ds.add(e);
    kept.length = 0;
  } else await forEachExample(paths, argv, format, normalize, args.label, (e) => ds.add(e), false);
  return { dict, ...ds.finish() };
}

export async function runTrain(argv: Record<string, unknown>): Promise<void> {
  const args = trainArgs(argv);
  checkWritable(String(argv.output)); // before minutes of training, not after
  const paths = inputList(argv.inputs);
  const format = await detectFormat(paths, argv.format as InputFormat | 'auto');
  const normalize: Normalize = (argv.normalize as Normalize | undefined) ?? (format === 'jsonl' ? 'web' : 'none');
  const t0 = performance.now();
  const { dict, data, dropped } = await readTrainingSet(paths, argv, format, normalize, args);
  const readSeconds = (performance.now() - t0) / 1000;
  if (!data.n) throw new UsageError('no example kept a label and a known word: lower --minCount/--minCountLabel');

  let valid: Dataset | null = null;
  if (typeof argv.valid === 'string') {
    const vFormat = await detectFormat([argv.valid], argv.format as InputFormat | 'auto');
    const vex = await readAllExamples([argv.valid], argv, vFormat, normalize, args.label);
    valid = encodeExamples(dict, vex).data;
  }

  const out = JsonlWriter.open();
  const result = await train(args, dict, data, normalize, async (r, model: FastTextModel) => {
    const line: Record<string, unknown> = {
      epoch: r.epoch,
      lr: round(r.lr, 6),
      loss: round(r.loss, 6),
      examples: r.examples,
      seconds: round(r.seconds, 3),
      words_per_sec_per_thread: Math.round(r.wordsPerSecPerThread),
    };
    if (valid) {
      const m = evaluate(model, valid, 1, 0);
      line.valid = { examples: m.examples, precision: round(m.precision, 6), recall: round(m.recall, 6) };
    }
    await out.writeJson(line);
  });
  await out.close();
  const tw = performance.now();
  saveModel(String(argv.output), result.model);
  const writeSeconds = (performance.now() - tw) / 1000;
  info(
    `${data.n} examples (${dropped} without label or known word dropped), ${dict.nwords} words, ${dict.nlabels} labels; ` +
      `${args.epoch} epochs in ${result.seconds.toFixed(2)}s, ${Math.round(result.wordsPerSecPerThread)} words/sec/thread ` +
      `on ${Math.min(args.thread, data.n)} threads; model written to ${String(argv.output)}; ` +
      `wall: read ${readSeconds.toFixed(2)}s, init ${result.initSeconds.toFixed(2)}s, train ${result.seconds.toFixed(2)}s, write ${writeSeconds.toFixed(2)}s`,
  );
}

function round(v: number | null, digits: number): number | null {
  if (v === null) return null;
  const s = 10 ** digits;
  return Math.round(v * s) / s;
}
