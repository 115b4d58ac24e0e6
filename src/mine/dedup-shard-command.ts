// The sharded steps of `mathpipe mine dedup`: signatures -> buckets -> clusters -> filter, each an
// independent job over files (Slurm array tasks, Kubernetes indexed jobs, GNU parallel).
import type { Argv, CommandModule } from 'yargs';
import { availableParallelism } from 'node:os';
import { inputList, inputs, output, skipInvalid, workerCount } from '../cli/options.js';
import { UsageError } from '../cli/errors.js';
import type { KeepRule } from './dedup/cluster.js';
import { fieldOptions, keepOptions, minhashConfig, minhashOptions } from './dedup-command.js';
import { parseShard, shardSlice } from './shard.js';

function sigList(v: unknown): string[] {
  const list = Array.isArray(v) ? v.map(String) : [];
  if (!list.length) throw new UsageError('name the SIG files (from mine dedup signatures)');
  return list;
}

const shardOption = {
  shard: { type: 'string', requiresArg: true, describe: 'i/N: take the i-th of N contiguous slices of the list (0 <= i < N)' },
} as const;

const signatures: CommandModule = {
  command: 'signatures [inputs..]',
  describe: 'Step 1: band keys, URL hashes, scores and line numbers of one shard\'s documents -> a SIG file',
  builder: (y: Argv) =>
    inputs(y, 'Document JSONL files (not stdin: the filter step reads them again)')
      .options({ ...output, ...minhashOptions, ...fieldOptions, ...skipInvalid, ...shardOption })
      .options({
        output: { ...output.output, demandOption: true, describe: 'SIG file to write (appears only when complete)' },
        jobs: { alias: 'j', type: 'number', default: Math.min(8, availableParallelism()), describe: 'Signature threads, at most 4x cores' },
        near: { type: 'boolean', default: true, hidden: true },
      })
      .example('$0 mine dedup signatures --shard $SLURM_ARRAY_TASK_ID/64 -o sig/$SLURM_ARRAY_TASK_ID.sig shards/*.jsonl.gz', 'one array task per shard'),
  handler: async (a) => {
    const { optimalBands } = await import('./dedup/bands.js');
    const { runSignatures } = await import('./dedup/sig-file.js');
    const minhash = minhashConfig(a, optimalBands);
    await runSignatures({
      inputs: shardSlice(inputList(a.inputs), parseShard(a.shard)),
      output: a.output as string,
      jobs: workerCount(a.jobs, '--jobs'),
      describe: { minhash, textField: a['text-field'] as string, urlField: a['url-field'] as string, scoreField: a['score-field'] as string, skipInvalid: Boolean(a['skip-invalid']), near: true },
    });
  },
};

const buckets: CommandModule = {
  command: 'buckets [inputs..]',
  describe: 'Step 2: candidate pairs of the bands this job owns (--shard j/M over bands), from all SIG files -> a PAIRS file',
  builder: (y: Argv) =>
    y
      .positional('inputs', { type: 'string', array: true, describe: 'Every SIG file, in the same order for every job' })
      .options({ output: { ...output.output, demandOption: true, describe: 'PAIRS file to write' } })
      .options({ shard: { type: 'string', requiresArg: true, describe: 'j/M: this job owns the bands b with b mod M = j' } })
      .example('$0 mine dedup buckets --shard 0/14 -o pairs/0.pairs sig/*.sig', 'one job per band (datatrove runs one per bucket too)'),
  handler: async (a) => {
    const { runBuckets } = await import('./dedup/buckets.js');
    runBuckets({ sigs: sigList(a.inputs), output: a.output as string, bands: parseShard(a.shard) });
  },
};

const clusters: CommandModule = {
  command: 'clusters [inputs..]',
  describe: 'Step 3: union the pairs (and URL duplicates, index matches), choose what each cluster keeps -> a PLAN file',
  builder: (y: Argv) =>
    y
      .positional('inputs', { type: 'string', array: true, describe: 'Every SIG file, in the order given to buckets' })
      .options({ output: { ...output.output, demandOption: true, describe: 'PLAN file to write' } })
      .options({
        pairs: { type: 'string', array: true, demandOption: true, requiresArg: true, describe: 'Every PAIRS file (together they must cover all bands); end the list with --' },
        keep: keepOptions.keep,
        urls: keepOptions.urls,
        index: { type: 'string', array: true, requiresArg: true, describe: 'Dedup index(es) of earlier rounds; end the list with --' },
        'write-index': { type: 'string', requiresArg: true, describe: 'Write the kept documents\' keys as an index for later rounds' },
        report: { type: 'string', requiresArg: true, describe: 'Write the counts as JSON' },
      })
      .example('$0 mine dedup clusters -o plan.bin --pairs pairs/*.pairs -- sig/*.sig', 'one job; memory about 30 bytes a document'),
  handler: async (a) => {
    const { runClusters } = await import('./dedup/plan.js');
    runClusters({
      sigs: sigList(a.inputs),
      pairs: (a.pairs as string[]).map(String),
      output: a.output as string,
      keep: a.keep as KeepRule,
      urls: Boolean(a.urls),
      index: (a.index as string[] | undefined) ?? [],
      writeIndex: a['write-index'] as string | undefined,
      report: a.report as string | undefined,
    });
  },
};

const filter: CommandModule = {
  command: 'filter [inputs..]',
  describe: 'Step 4: write one shard\'s kept documents (the inputs its SIG file names, read again)',
  builder: (y: Argv) =>
    y
      .positional('inputs', { type: 'string', array: true, describe: 'SIG file(s); with --shard, the whole list' })
      .options({ ...output, ...shardOption })
      .options({
        plan: { type: 'string', demandOption: true, requiresArg: true, describe: 'PLAN file from the clusters step' },
        clusters: { type: 'string', requiresArg: true, describe: 'Write one JSON line per removed document of this shard (as the one-shot --clusters)' },
      })
      .example('$0 mine dedup filter --plan plan.bin sig/7.sig -o unique/7.jsonl.gz', 'shard 7\'s kept documents')
      .example('$0 mine dedup filter --plan plan.bin --shard $TASK/64 -o unique/$TASK.jsonl.gz sig/{0..63}.sig', 'the same, the SIG file chosen by the task index (a glob would sort sig/10.sig before sig/2.sig)'),
  handler: async (a) => {
    const sigs = shardSlice(sigList(a.inputs), parseShard(a.shard));
    if (sigs.length !== 1) throw new UsageError(`filter writes one shard: give one SIG file, or --shard i/N that selects one (selected ${sigs.length})`);
    const { runFilter } = await import('./dedup/filter.js');
    await runFilter({ plan: a.plan as string, sig: sigs[0]!, output: a.output as string | undefined, clusters: a.clusters as string | undefined });
  },
};

export const shardCommands = [signatures, buckets, clusters, filter];
