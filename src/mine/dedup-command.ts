// `mathpipe mine dedup`: URL and MinHash-LSH near-duplicate removal, one-shot or as sharded steps.
// Option definitions only; the work is imported lazily.
import type { Argv, CommandModule, Options } from 'yargs';
import { availableParallelism } from 'node:os';
import { inputList, inputs, integer, number, optionalInteger, output, skipInvalid, textField, workerCount } from '../cli/options.js';
import { UsageError } from '../cli/errors.js';
import type { MinHashConfig } from './dedup/minhash.js';
import type { KeepRule } from './dedup/cluster.js';
import { shardCommands } from './dedup-shard-command.js';

export const minhashOptions = {
  ngram: { type: 'number', default: 5, describe: 'Words per shingle (after datatrove\'s normalisation)' },
  bands: { type: 'number', describe: 'LSH bands [default: 14, or chosen from --threshold]' },
  rows: { type: 'number', describe: 'Rows (hashes) per band [default: 8, or chosen from --threshold]' },
  threshold: { type: 'number', describe: 'Jaccard similarity to detect: choose bands x rows (at most --num-perm hashes) minimising false positives + false negatives' },
  'num-perm': { type: 'number', default: 112, describe: 'Hashes available to --threshold' },
  seed: { type: 'number', default: 1, describe: 'Seed of the hash permutations (datatrove: 1); indexes and shards must share it' },
} as const satisfies Record<string, Options>;

export const fieldOptions = {
  ...textField,
  'url-field': { type: 'string', default: 'url', requiresArg: true, describe: 'Field holding the URL' },
  'score-field': { type: 'string', default: 'score', requiresArg: true, describe: 'Field holding the score (--keep best-score)' },
} as const satisfies Record<string, Options>;

export const keepOptions = {
  keep: {
    choices: ['best-score', 'first', 'longest'] as const,
    default: 'best-score' as const,
    describe: 'Which document a cluster keeps: highest score, earliest in input, or longest text (ties: earliest)',
  },
  urls: { type: 'boolean', default: true, describe: 'Documents with the same normalised URL are duplicates (--no-urls: not)' },
  near: { type: 'boolean', default: true, describe: 'Near duplicates by MinHash LSH (--no-near: URL dedup only)' },
} as const satisfies Record<string, Options>;

export function minhashConfig(a: Record<string, unknown>, optimal: (t: number, k: number) => { bands: number; rows: number }): MinHashConfig {
  const int = (k: string, min: number) => optionalInteger(a[k], `--${k}`, min);
  const ngram = int('ngram', 1)!;
  const numPerm = int('num-perm', 1)!;
  let bands = int('bands', 1);
  let rows = int('rows', 1);
  const t = a.threshold as number | undefined;
  if (t !== undefined) {
    number(t, '--threshold', { above: 0, below: 1 });
    if (bands !== undefined || rows !== undefined) throw new UsageError('--threshold chooses --bands and --rows: give one or the other');
    ({ bands, rows } = optimal(t, numPerm));
  }
  return { ngram, bands: bands ?? 14, rows: rows ?? 8, seed: integer(a.seed, '--seed', 0) };
}

const oneShot: CommandModule = {
  command: '$0 [inputs..]',
  describe: 'Remove URL duplicates and near duplicates (MinHash LSH) from document JSONL, keeping one document per cluster',
  builder: (y: Argv) =>
    inputs(y)
      .options({ ...output, ...minhashOptions, ...keepOptions, ...fieldOptions, ...skipInvalid })
      .options({
        verify: { type: 'number', describe: 'Also compute the true Jaccard similarity of each candidate pair and join only pairs at or above this (a second reading of the input)' },
        index: { type: 'string', array: true, requiresArg: true, describe: 'Dedup index(es) of earlier rounds: documents matching them are removed' },
        'write-index': { type: 'string', requiresArg: true, describe: 'Write the kept documents\' keys as an index for later rounds' },
        clusters: { type: 'string', requiresArg: true, describe: 'Write one JSON line per removed document: id, url, file, line, reason (url|near|index), and the document kept' },
        report: { type: 'string', requiresArg: true, describe: 'Write the counts as JSON' },
        jobs: { alias: 'j', type: 'number', default: Math.min(8, availableParallelism()), describe: 'Signature threads (1: this thread), at most 4x cores; the output is the same for any value' },
      })
      .example('$0 mine dedup docs.jsonl.gz -o unique.jsonl.gz --clusters dups.jsonl', 'datatrove\'s defaults (5-grams, 14x8, seed 1); the best-scored page of each cluster is kept')
      .example('$0 mine dedup --threshold 0.8 --verify 0.8 --keep longest docs.jsonl', 'bands x rows chosen for 0.8, candidates checked against the true Jaccard')
      .example('$0 mine dedup --index round1.idx --write-index round2.idx new.jsonl > fresh.jsonl', 'drop what an earlier round already holds, and index this round')
      .example('$0 mine dedup signatures --shard 3/64 -o sig/3.sig shards/*.jsonl.gz', 'the sharded form: see `mine dedup signatures --help`'),
  handler: async (a) => {
    const { optimalBands } = await import('./dedup/bands.js');
    const minhash = minhashConfig(a, optimalBands);
    const verify = a.verify as number | undefined;
    if (verify !== undefined) number(verify, '--verify', { above: 0, max: 1 });
    if (!a.urls && !a.near) throw new UsageError('--no-urls and --no-near together leave nothing to compare');
    const { runDedup } = await import('./dedup/run.js');
    await runDedup({
      inputs: inputList(a.inputs),
      output: a.output as string | undefined,
      jobs: workerCount(a.jobs, '--jobs'),
      keep: a.keep as KeepRule,
      minhash,
      urls: Boolean(a.urls),
      near: Boolean(a.near),
      verify,
      index: (a.index as string[] | undefined) ?? [],
      writeIndex: a['write-index'] as string | undefined,
      clusters: a.clusters as string | undefined,
      report: a.report as string | undefined,
      textField: a['text-field'] as string,
      urlField: a['url-field'] as string,
      scoreField: a['score-field'] as string,
      skipInvalid: Boolean(a['skip-invalid']),
    });
  },
};

export const dedupCommand: CommandModule = {
  command: 'dedup',
  describe: 'URL and near-duplicate (MinHash LSH) removal; one-shot, or sharded: signatures -> buckets -> clusters -> filter',
  builder: (y: Argv) =>
    y
      .command(oneShot)
      .command(shardCommands)
      .epilogue('Verbs: (none) one-shot; signatures, buckets, clusters, filter: the sharded steps. See man mathpipe-mine.'),
  handler: () => {},
};
