// `classify predict`: stream documents, add the probability of one label (and optionally the top k),
// drop those under --threshold. Records are scored batch by batch (on worker threads with --thread
// > 1) and written in input order, so memory stays flat.
import { inputList, integer, number, workerCount } from '../cli/options.js';
import { info, warn } from '../cli/log.js';
import { UsageError } from '../cli/errors.js';
import { readLineBatches, runRecordLoop } from '../jsonl/index.js';
import { DenseMatrix } from './matrix.js';
import { loadModel, type FastTextModel } from './modelfile.js';
import { normalizeFor } from './options.js';
import { predictPool, type Batch, type BatchResult } from './predict-pool.js';
import type { ScoreOptions } from './scorer.js';

/** The label a user named, with or without the prefix; a usage error lists the model's labels. */
export function resolveLabel(model: FastTextModel, name: string): number {
  const labels = model.dict.labels();
  const prefix = model.args.label;
  // The .bin format does not store the label prefix, so a model trained with another --label loads with
  // fastText's default: match the full label first, and strip the prefix only where it is there.
  const exact = labels.indexOf(name);
  const i = exact >= 0 ? exact : labels.indexOf(prefix + name);
  const shown = labels.map((l) => (l.startsWith(prefix) ? l.slice(prefix.length) : l));
  if (i < 0) throw new UsageError(`the model has no label "${name}"; its labels: ${shown.join(', ')} (use --label)`);
  return i;
}

const BATCH = 256;

export async function runPredict(argv: Record<string, unknown>): Promise<void> {
  const threadsWanted = workerCount(argv.thread, '--thread');
  const model = loadModel(String(argv.model), { shared: threadsWanted > 1 });
  const kArg = integer(argv.k, '-k', -1, 1e6);
  const opts: ScoreOptions = {
    target: resolveLabel(model, String(argv.label)),
    k: kArg < 0 ? model.dict.nlabels : kArg,
    threshold: number(argv.threshold, '--threshold', { min: 0, max: 1 }),
    normalize: normalizeFor(argv.normalize, model.meta?.normalize),
    textField: String(argv['text-field']),
    scoreField: String(argv['score-field']),
    skipInvalid: Boolean(argv['skip-invalid']),
  };
  const dense = model.input instanceof DenseMatrix && model.output instanceof DenseMatrix;
  const threads = dense ? threadsWanted : 1;
  const paths = inputList(argv.inputs);
  const counts = { scored: 0, filtered: 0, skipped: 0 };
  const { stats, written } = await runRecordLoop<Batch, BatchResult>({
    label: 'classify predict',
    inputs: paths,
    output: argv.output as string | undefined,
    // Batches of about BATCH lines from one file: input chunks hold only a few long lines each.
    async *batches(stats) {
      let cur: Batch | null = null;
      for await (const batch of readLineBatches(paths, stats, { skipInvalid: opts.skipInvalid })) {
        stats.records += batch.length;
        for (const l of batch) {
          if (cur && cur.file !== l.file) {
            yield cur;
            cur = null;
          }
          cur ??= { file: l.file, lines: [], texts: [] };
          cur.lines.push(l.line);
          cur.texts.push(l.text);
          if (cur.texts.length >= BATCH) {
            yield cur;
            cur = null;
          }
        }
      }
      if (cur) yield cur;
    },
    pool: predictPool(model, opts, threads),
    emit(r) {
      counts.filtered += r.filtered;
      counts.skipped += r.skipped;
      counts.scored += r.out.length + r.filtered;
      return { out: r.out };
    },
  });
  counts.skipped += stats.skipped;
  if (counts.skipped) warn(`skipped ${counts.skipped} invalid record${counts.skipped === 1 ? '' : 's'} (--skip-invalid)`);
  info(`${counts.scored} documents scored, ${written} written${counts.filtered ? ` (${counts.filtered} under --threshold)` : ''}`);
}
