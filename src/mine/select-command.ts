// `mathpipe mine select`: top documents by score up to a token budget. Option definitions only.
import type { Argv, CommandModule, Options } from 'yargs';
import { inputList, inputs, number, output, skipInvalid, textField, workerCount } from '../cli/options.js';
import { UsageError } from '../cli/errors.js';
import { parseShard, shardSlice } from './shard.js';

const fields = {
  'score-field': { type: 'string', default: 'score', requiresArg: true, describe: 'Field holding the classifier score (classify predict writes "score")' },
  ...textField,
  'id-field': { type: 'string', default: 'id', requiresArg: true, describe: 'Field whose stable hash breaks score ties' },
} as const satisfies Record<string, Options>;

const counting = {
  tokenizer: { alias: 't', type: 'string', default: 'cl100k_base', requiresArg: true, describe: 'Tokenizer that counts tokens: a tiktoken encoding or a `tokenize train` directory' },
  whitespace: { type: 'boolean', default: false, describe: 'Count whitespace-separated words instead (fast; 0.55x the cl100k_base count on math web pages, where LaTeX splits finely)' },
  'tokens-field': { type: 'string', requiresArg: true, describe: 'Take each document\'s token count from this field' },
} as const satisfies Record<string, Options>;

const jobs = {
  jobs: {
    alias: 'j',
    type: 'number',
    requiresArg: true,
    describe: 'Token-counting threads, at most 4x cores; the output is the same for any value [default: min(4, CPUs) with a tokenizer, 1 with --whitespace or --tokens-field]',
  },
} as const satisfies Record<string, Options>;

const shard = { shard: { type: 'string', requiresArg: true, describe: 'i/N: the i-th of N contiguous slices of the input list (0 <= i < N)' } } as const;

function budgetOf(v: unknown): number {
  return Math.floor(number(v, '--budget', { min: 0 }));
}

type A = Record<string, unknown>;
const countOf = (a: A) => ({ tokenizer: a.tokenizer as string, whitespace: Boolean(a.whitespace), tokensField: a['tokens-field'] as string | undefined });
async function jobsOf(a: A): Promise<number> {
  if (a.jobs !== undefined) return workerCount(a.jobs, '--jobs');
  const { defaultJobs } = await import('./select/scan.js');
  return defaultJobs(countOf(a));
}
const fieldsOf = (a: A) => ({ scoreField: a['score-field'] as string, textField: a['text-field'] as string, idField: a['id-field'] as string });

const oneShot: CommandModule = {
  command: '$0 [inputs..]',
  describe: 'Keep the highest-scoring documents until --budget tokens (never more), in input order; write a manifest',
  builder: (y: Argv) =>
    inputs(y, 'Scored document JSONL (from classify predict); "-" or none reads stdin')
      .options({ ...output, ...fields, ...counting, ...jobs, ...skipInvalid })
      .options({
        budget: { alias: 'b', type: 'string', demandOption: true, requiresArg: true, describe: 'Token budget (numbers like 40e9 work)' },
        manifest: { type: 'string', requiresArg: true, describe: 'Write JSON: budget, tokens and documents kept, the cutoff (score, tie hash, position), the first document that did not fit' },
      })
      .example('$0 mine select --budget 40e9 --manifest sel.json scored/*.jsonl.gz -o math.jsonl.gz', 'iteration 1 of DeepSeekMath: the top 40B tokens')
      .example('$0 mine select -b 1e6 --whitespace scored.jsonl | wc -l', 'a quick look with word counts')
      .example('$0 mine select stats --shard 3/64 -o st/3.stats scored/*.jsonl.gz', 'the sharded form: see `mine select stats --help`'),
  handler: async (a) => {
    const { runSelect } = await import('./select/run.js');
    await runSelect({ inputs: inputList(a.inputs), output: a.output as string | undefined, budget: budgetOf(a.budget), count: countOf(a), manifest: a.manifest as string | undefined, skipInvalid: Boolean(a['skip-invalid']), jobs: await jobsOf(a), ...fieldsOf(a) });
  },
};

const stats: CommandModule = {
  command: 'stats [inputs..]',
  describe: 'Sharded step 1: score, tie hash and tokens of one shard\'s documents, in rank order -> a STATS file',
  builder: (y: Argv) =>
    inputs(y, 'Scored document JSONL files (not stdin)')
      .options({ ...fields, ...counting, ...jobs, ...skipInvalid, ...shard })
      .options({ output: { ...output.output, demandOption: true, describe: 'STATS file to write (appears only when complete)' } })
      .example('$0 mine select stats --shard $TASK/64 -o st/$TASK.stats scored/*.jsonl.gz', 'one array task per shard'),
  handler: async (a) => {
    const { runStats } = await import('./select/sharded.js');
    await runStats({ inputs: shardSlice(inputList(a.inputs), parseShard(a.shard)), output: a.output as string, count: countOf(a), skipInvalid: Boolean(a['skip-invalid']), jobs: await jobsOf(a), ...fieldsOf(a) });
  },
};

const plan: CommandModule = {
  command: 'plan [inputs..]',
  describe: 'Sharded step 2: merge the STATS files in rank order up to the budget -> the plan (the manifest, with the cutoff)',
  builder: (y: Argv) =>
    y
      .positional('inputs', { type: 'string', array: true, describe: 'Every STATS file, in shard order' })
      .options({
        budget: { alias: 'b', type: 'string', demandOption: true, requiresArg: true, describe: 'Token budget' },
        output: { ...output.output, demandOption: true, describe: 'Plan (JSON manifest) to write' },
      })
      .example('$0 mine select plan --budget 40e9 -o plan.json st/*.stats', 'one small job; reads only as far as the cutoff in each list'),
  handler: async (a) => {
    const list = Array.isArray(a.inputs) ? a.inputs.map(String) : [];
    if (!list.length) throw new UsageError('name the STATS files (from mine select stats)');
    const { runPlan } = await import('./select/sharded.js');
    runPlan({ stats: list, budget: budgetOf(a.budget), output: a.output as string });
  },
};

const filter: CommandModule = {
  command: 'filter [inputs..]',
  describe: 'Sharded step 3: one shard\'s documents at or above the plan\'s cutoff',
  builder: (y: Argv) =>
    inputs(y, 'The same input list (and --shard) given to stats')
      .options({ ...output, ...fields, ...skipInvalid, ...shard })
      .options({ plan: { type: 'string', demandOption: true, requiresArg: true, describe: 'Plan from mine select plan' } })
      .example('$0 mine select filter --plan plan.json --shard $TASK/64 -o math/$TASK.jsonl.gz scored/*.jsonl.gz', 'one array task per shard'),
  handler: async (a) => {
    const { runFilter } = await import('./select/sharded.js');
    await runFilter({ plan: a.plan as string, inputs: shardSlice(inputList(a.inputs), parseShard(a.shard)), output: a.output as string | undefined, fields: fieldsOf(a), skipInvalid: Boolean(a['skip-invalid']) });
  },
};

export const selectCommand: CommandModule = {
  command: 'select',
  describe: 'Top documents by score up to a token budget (one-shot, or sharded: stats -> plan -> filter)',
  builder: (y: Argv) => y.command(oneShot).command([stats, plan, filter]).epilogue('Verbs: (none) one-shot; stats, plan, filter: the sharded steps. See man mathpipe-mine.'),
  handler: () => {},
};
