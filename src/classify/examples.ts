// Labeled training/evaluation input: JSONL records ({"text": ..., "label": "math"} or a list of labels,
// field names configurable) or fastText's own text format (one example per line, labels are the
// tokens that start with the label prefix, anywhere on the line).
import { DataError, at } from '../cli/errors.js';
import { newReadStats, readJsonlBatches, readLineBatches, recordText, recordWhere, reportSkipped, type JsonlRecord, type ReadStats } from '../jsonl/index.js';
import { tokenize, type Normalize } from './normalize.js';

export type InputFormat = 'jsonl' | 'fasttext';

export interface Example {
  /** Word tokens (no labels, no "</s>"). */
  words: string[];
  /** Full label tokens, prefix included ("__label__math"). */
  labels: string[];
  where: string;
}

export interface ExampleOptions {
  format: InputFormat | 'auto';
  textField: string;
  labelField: string;
  labelPrefix: string;
  normalize: Normalize;
  skipInvalid: boolean;
  stats: ReadStats;
}

function labelsOf(rec: JsonlRecord, field: string, prefix: string): string[] {
  const v = rec.value[field];
  const list = typeof v === 'string' ? [v] : Array.isArray(v) && v.length && v.every((x) => typeof x === 'string') ? (v as string[]) : null;
  if (!list) {
    const why = v === undefined ? `missing label field "${field}"` : `label field "${field}" must be a string or a list of strings`;
    throw new DataError(recordWhere(rec), why);
  }
  return list.map((l) => {
    if (!l.trim() || /[\s\0]/.test(l)) throw new DataError(recordWhere(rec), `label ${JSON.stringify(l)} is empty or contains whitespace`);
    return l.startsWith(prefix) ? l : prefix + l;
  });
}

/** A JSONL record as an example; DataError when its text or label is missing or empty. */
export function jsonlExample(rec: JsonlRecord, o: Pick<ExampleOptions, 'textField' | 'labelField' | 'labelPrefix' | 'normalize'>): Example {
  const text = recordText(rec, o.textField);
  const labels = labelsOf(rec, o.labelField, o.labelPrefix);
  const words = tokenize(text, o.normalize).filter((w) => !w.startsWith(o.labelPrefix));
  if (!words.length) throw new DataError(recordWhere(rec), `empty text in field "${o.textField}"`);
  return { words, labels, where: recordWhere(rec) };
}

/** One fastText-format line as an example. */
export function fasttextExample(text: string, where: string, prefix: string, normalize: Normalize): Example {
  const words: string[] = [];
  const labels: string[] = [];
  for (const t of tokenize(text, 'none')) {
    if (t.startsWith(prefix)) labels.push(t);
    else if (normalize === 'none') words.push(t);
    else words.push(...tokenize(t, normalize));
  }
  if (!labels.length) throw new DataError(where, `no label (a token starting with "${prefix}")`);
  if (!words.length) throw new DataError(where, 'no text after the labels');
  return { words, labels, where };
}

/** Resolve --format auto by looking at the first line of the first file (stdin is taken as JSONL). */
export async function detectFormat(paths: string[], format: InputFormat | 'auto'): Promise<InputFormat> {
  if (format !== 'auto') return format;
  if (paths[0] === '-') return 'jsonl';
  // Only a peek: an invalid line is reported (or skipped) by the reading that follows.
  for await (const batch of readLineBatches([paths[0]], undefined, { skipInvalid: true })) {
    return batch[0].text.trimStart().startsWith('{') ? 'jsonl' : 'fasttext';
  }
  return 'jsonl';
}

/** Examples in batches. Invalid ones throw DataError, or are counted in stats.skipped with --skip-invalid. */
export async function* readExamples(paths: string[], o: ExampleOptions): AsyncGenerator<Example[]> {
  const format = await detectFormat(paths, o.format);
  if (format === 'jsonl') {
    for await (const batch of readJsonlBatches(paths, { skipInvalid: o.skipInvalid, stats: o.stats })) {
      const out: Example[] = [];
      for (const rec of batch) {
        try {
          out.push(jsonlExample(rec, o));
        } catch (e) {
          if (!o.skipInvalid || !(e instanceof DataError)) throw e;
          o.stats.skipped++;
        }
      }
      if (out.length) yield out;
    }
    return;
  }
  for await (const lines of readLineBatches(paths, o.stats, { skipInvalid: o.skipInvalid })) {
    const out: Example[] = [];
    for (const l of lines) {
      try {
        out.push(fasttextExample(l.text, at(l.file, l.line), o.labelPrefix, o.normalize));
        o.stats.records++;
      } catch (e) {
        if (!o.skipInvalid || !(e instanceof DataError)) throw e;
        o.stats.skipped++;
      }
    }
    if (out.length) yield out;
  }
}

/** Call `fn` on every example of some files, configured from the parsed command-line options. */
export async function forEachExample(
  paths: string[],
  argv: Record<string, unknown>,
  format: InputFormat,
  normalize: Normalize,
  labelPrefix: string,
  fn: (e: Example) => void,
  report = true,
): Promise<void> {
  const stats = newReadStats();
  const opts: ExampleOptions = {
    format,
    textField: String(argv['text-field']),
    labelField: String(argv['label-field']),
    labelPrefix,
    normalize,
    skipInvalid: Boolean(argv['skip-invalid']),
    stats,
  };
  for await (const batch of readExamples(paths, opts)) for (const e of batch) fn(e);
  if (report) reportSkipped(stats);
}

export async function readAllExamples(
  paths: string[],
  argv: Record<string, unknown>,
  format: InputFormat,
  normalize: Normalize,
  labelPrefix: string,
): Promise<Example[]> {
  const examples: Example[] = [];
  await forEachExample(paths, argv, format, normalize, labelPrefix, (e) => examples.push(e));
  return examples;
}
