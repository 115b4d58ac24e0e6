// `mathpipe mine domains` and `mathpipe mine expand`: domain discovery and seed expansion. Options only.
import type { Argv, CommandModule, Options } from 'yargs';
import { inputList, inputs, integer, output, skipInvalid } from '../cli/options.js';
import { UsageError } from '../cli/errors.js';
import type { MatchBy } from './domains/collected.js';
import { parseShard, shardSlice } from './shard.js';

const matching = {
  collected: { alias: 'c', type: 'string', array: true, requiresArg: true, describe: 'The collected documents (JSONL, e.g. from mine select); end the list with --' },
  match: { choices: ['id', 'url'] as const, default: 'id' as const, describe: 'Match collected documents to pool pages by id, or by normalised URL' },
  'id-field': { type: 'string', default: 'id', requiresArg: true, describe: 'Field holding the id' },
  'url-field': { type: 'string', default: 'url', requiresArg: true, describe: 'Field holding the URL' },
  shard: { type: 'string', requiresArg: true, describe: 'i/N: only the i-th of N contiguous slices of the pool files (0 <= i < N)' },
} as const satisfies Record<string, Options>;

function fraction(v: unknown, flag: string): number {
  const n = Number(v);
  if (!(n >= 0 && n <= 1)) throw new UsageError(`${flag} must be a fraction from 0 to 1 (got ${String(v)})`);
  return n;
}

export const domainsCommand: CommandModule = {
  command: 'domains [inputs..]',
  describe: 'Per-domain statistics of the pool and the collected set; flag math domains; URL-prefix statistics inside them',
  builder: (y: Argv) =>
    inputs(y, 'The pool: document JSONL with "url" (and "domain") fields; with --from-counts, counts files')
      .options({ ...output, ...matching, ...skipInvalid })
      .options({
        'min-fraction': { type: 'number', default: 0.1, describe: 'A domain with more than this fraction of its pages collected is math-related (DeepSeekMath: 10%)' },
        'min-pages': { type: 'number', default: 1, describe: 'Flag only domains with at least this many pool pages' },
        depth: { type: 'number', default: 1, describe: 'Path segments in a prefix: 1 gives mathoverflow.net/questions' },
        prefixes: { type: 'string', requiresArg: true, describe: 'Write the prefixes of flagged domains as JSONL ({domain, prefix, pages, collected, fraction})' },
        patterns: { type: 'string', requiresArg: true, describe: 'Write an annotation file for mine expand: prefixes of flagged domains, those at --accept or above accepted' },
        accept: { type: 'number', default: 0.5, describe: 'In --patterns, prefixes with at least this fraction collected start accepted' },
        counts: { type: 'string', requiresArg: true, describe: 'Write raw mergeable counts (every domain and prefix) as JSONL, for sharded runs' },
        'from-counts': { type: 'boolean', default: false, describe: 'Inputs are --counts files of shards: sum them, then report' },
      })
      .example('$0 mine domains -c selected.jsonl --prefixes prefixes.jsonl --patterns math-urls.txt -- pool.jsonl.gz', 'domains by collected fraction; an annotation file to edit')
      .example('$0 mine domains -c selected.jsonl --counts counts/$TASK.jsonl --shard $TASK/64 -- pool/*.jsonl.gz', 'one shard\'s counts (an array task)')
      .example('$0 mine domains --from-counts --prefixes prefixes.jsonl parts/*.counts.jsonl', 'sum the shards and report'),
  handler: async (a) => {
    const depth = integer(a.depth, '--depth', 0);
    if (!a['from-counts'] && !(a.collected as string[] | undefined)?.length) throw new UsageError('name the collected set with --collected (or sum shards with --from-counts)');
    const { runDomains } = await import('./domains/run.js');
    await runDomains({
      inputs: shardSlice(inputList(a.inputs), parseShard(a.shard)),
      collected: (a.collected as string[] | undefined) ?? [],
      fromCounts: Boolean(a['from-counts']),
      counts: a.counts as string | undefined,
      output: a.output as string | undefined,
      prefixes: a.prefixes as string | undefined,
      patterns: a.patterns as string | undefined,
      minFraction: fraction(a['min-fraction'], '--min-fraction'),
      minPages: Number(a['min-pages']),
      accept: fraction(a.accept, '--accept'),
      depth,
      match: a.match as MatchBy,
      idField: a['id-field'] as string,
      urlField: a['url-field'] as string,
      skipInvalid: Boolean(a['skip-invalid']),
    });
  },
};

export const expandCommand: CommandModule = {
  command: 'expand [inputs..]',
  describe: 'Seed expansion: pool pages under accepted URL patterns that are not collected yet, labeled as positives',
  builder: (y: Argv) =>
    inputs(y, 'The pool: document JSONL with "url" fields')
      .options({ ...output, ...matching, ...skipInvalid })
      .options({
        patterns: { alias: 'p', type: 'string', demandOption: true, requiresArg: true, describe: 'Annotated URL-pattern file: host/path-prefix lines (mine domains --patterns writes one to edit)' },
        label: { type: 'string', default: 'math', describe: 'Label to add (for classify train); "" adds none' },
        'label-field': { type: 'string', default: 'label', requiresArg: true, describe: 'Field the label goes to' },
      })
      .example('$0 mine expand -p math-urls.txt -c selected.jsonl -- pool.jsonl.gz > new-seeds.jsonl', 'the next round\'s extra positives')
      .example('cat seeds.jsonl new-seeds.jsonl negatives.jsonl | $0 classify train -o round2.bin', 'retrain with them'),
  handler: async (a) => {
    const { runExpand } = await import('./domains/expand.js');
    await runExpand({
      inputs: shardSlice(inputList(a.inputs), parseShard(a.shard)),
      patterns: a.patterns as string,
      collected: (a.collected as string[] | undefined) ?? [],
      output: a.output as string | undefined,
      label: (a.label as string) || undefined,
      labelField: a['label-field'] as string,
      match: a.match as MatchBy,
      idField: a['id-field'] as string,
      urlField: a['url-field'] as string,
      skipInvalid: Boolean(a['skip-invalid']),
    });
  },
};
