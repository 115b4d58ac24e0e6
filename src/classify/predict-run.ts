// `classify predict`: stream documents, add the probability of one label (and optionally the top k),
// drop those under --threshold. Memory stays flat: records are scored batch by batch.
import { inputList } from '../cli/options.js';
import { info } from '../cli/log.js';
import { DataError, UsageError } from '../cli/errors.js';
import { startProgress } from '../cli/progress.js';
import { JsonlWriter, newReadStats, readJsonlBatches, recordWhere, reportSkipped, totalSize, type Json } from '../jsonl/index.js';
import { Encoder } from './dictionary.js';
import { loadModel, type FastTextModel } from './modelfile.js';
import { tokenize } from './normalize.js';
import { intOpt, normalizeFor, numOpt } from './options.js';
import { Predictor, topK } from './predictor.js';

/** The label a user named, with or without the prefix; a usage error lists the model's labels. */
export function resolveLabel(model: FastTextModel, name: string): number {
  const labels = model.dict.labels();
  const prefix = model.args.label;
  const i = labels.indexOf(name.startsWith(prefix) ? name : prefix + name);
  if (i < 0) throw new UsageError(`the model has no label "${name}"; its labels: ${labels.map((l) => l.slice(prefix.length)).join(', ')} (use --label)`);
  return i;
}

export async function runPredict(argv: Record<string, unknown>): Promise<void> {
  const model = loadModel(String(argv.model));
  const target = resolveLabel(model, String(argv.label));
  const kArg = intOpt(argv, 'k', -1, 1e6);
  const k = kArg < 0 ? model.dict.nlabels : kArg;
  const threshold = numOpt(argv, 'threshold', 0, 1);
  const normalize = normalizeFor(argv.normalize, model.meta?.normalize);
  const textField = String(argv['text-field']);
  const scoreField = String(argv['score-field']);
  const skipInvalid = Boolean(argv['skip-invalid']);
  const prefix = model.args.label;
  const names = model.dict.labels().map((l) => l.slice(prefix.length));
  const paths = inputList(argv.inputs);
  const stats = newReadStats();
  const predictor = new Predictor(model);
  const enc = new Encoder();
  const probs = new Float64Array(model.dict.nlabels);
  const out = JsonlWriter.open(argv.output as string | undefined);
  const progress = startProgress('classify predict', () => ({ records: stats.records, bytes: stats.bytes }), totalSize(paths));
  let kept = 0;
  let scored = 0;
  let empty = 0;
  try {
    for await (const batch of readJsonlBatches(paths, { skipInvalid, stats })) {
      for (const rec of batch) {
        const text = rec.value[textField];
        if (typeof text !== 'string') {
          if (skipInvalid) {
            stats.skipped++;
            continue;
          }
          throw new DataError(recordWhere(rec), text === undefined ? `missing text field "${textField}"` : `field "${textField}" is not a string`);
        }
        const tokens = tokenize(text, normalize);
        if (!tokens.length) {
          if (skipInvalid) {
            stats.skipped++;
            continue;
          }
          throw new DataError(recordWhere(rec), `empty text in field "${textField}"`);
        }
        scored++;
        const n = model.dict.encode(tokens, enc);
        // A document with no known word still has "</s>"; only a model without it gives no prediction.
        if (!predictor.probs(enc.rows, n, probs)) {
          empty++;
          probs.fill(0);
        }
        const score = probs[target];
        if (score < threshold) continue;
        const fields: Record<string, Json> = { [scoreField]: round6(score) };
        if (k > 0) fields.labels = topK(probs, k).map((i) => ({ label: names[i], prob: round6(probs[i]) }));
        const p = out.writeRecord(rec, fields);
        if (p) await p;
        kept++;
      }
    }
    await out.close();
  } catch (e) {
    out.abort();
    throw e;
  } finally {
    progress.stop();
  }
  reportSkipped(stats);
  const emptyNote = empty ? `, ${empty} with no known token (score 0)` : '';
  info(`${scored} documents scored${emptyNote}, ${kept} written`);
}

function round6(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}
