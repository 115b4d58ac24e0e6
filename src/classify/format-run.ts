// `classify format`: labeled JSONL to fastText training lines, with train's normalisation, so the
// same data can be given to `fasttext supervised` (the benchmark does exactly this).
import { inputList } from '../cli/options.js';
import { info } from '../cli/log.js';
import { newReadStats, reportSkipped, withWriter } from '../jsonl/index.js';
import { readExamples } from './examples.js';
import type { Normalize } from './normalize.js';

export async function runFormat(argv: Record<string, unknown>): Promise<void> {
  const stats = newReadStats();
  let n = 0;
  await withWriter(argv.output as string | undefined, async (out) => {
    const opts = {
      format: 'jsonl' as const,
      textField: String(argv['text-field']),
      labelField: String(argv['label-field']),
      labelPrefix: String(argv.label),
      normalize: argv.normalize as Normalize,
      skipInvalid: Boolean(argv['skip-invalid']),
      stats,
    };
    for await (const batch of readExamples(inputList(argv.inputs), opts)) {
      for (const e of batch) {
        const p = out.write(`${e.labels.join(' ')} ${e.words.join(' ')}`);
        if (p) await p;
        n++;
      }
    }
  });
  reportSkipped(stats);
  info(`${n} examples written`);
}
