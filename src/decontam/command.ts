// CLI definition only; the work is imported lazily so `mathpipe --help` stays fast.
import type { Argv, CommandModule, Options } from 'yargs';
import { inputList, inputs, integer, optionalInteger, output, skipInvalid, workerCount } from '../cli/options.js';
import { UsageError } from '../cli/errors.js';
import { DEFAULT_MAX_ITEMS } from './defaults.js';

const benchOptions = {
  bench: {
    type: 'string',
    array: true,
    requiresArg: true,
    describe: 'Benchmark JSONL (or JSON array) files to index; NAME=FILE names the benchmark in reports. Takes all following words: end the list with --',
  },
  n: {
    type: 'number',
    requiresArg: true,
    describe: 'n-gram length in words (default 10, the paper); benchmark texts of 3..n-1 words match exactly',
  },
  fields: {
    type: 'string',
    array: true,
    requiresArg: true,
    describe: 'Benchmark fields to index, for every file (comma-separated or repeated). Default: see man page',
  },
  'id-field': { type: 'string', requiresArg: true, describe: 'Benchmark item id field; an item without it is an error (default: the first of unique_id, id, problem_name, index, idx; else the line)' },
} as const satisfies Record<string, Options>;

// How the index decides what is evidence (build.ts); chosen when an index is built.
const ruleOptions = {
  stoplist: {
    type: 'string',
    array: true,
    requiresArg: true,
    describe:
      'Word sequences frequent in ordinary text, never evidence: FILE (from `decontam stoplist`), "builtin" (the default, measured on real web text) or "none"; repeat to combine',
  },
  'max-items': {
    type: 'number',
    requiresArg: true,
    describe: `Sequences found in this many distinct benchmark items or more are not evidence (default ${DEFAULT_MAX_ITEMS}; 0: no limit)`,
  },
} as const satisfies Record<string, Options>;

interface BenchArgs {
  bench?: string[];
  n?: number;
  fields?: string[];
  'id-field'?: string;
  stoplist?: string[];
  'max-items'?: number;
}

function benchOpts(a: BenchArgs) {
  optionalInteger(a.n, '-n', 3, 31);
  const fields = a.fields?.flatMap((f) => f.split(',')).map((f) => f.trim()).filter(Boolean);
  if (a.fields && !fields?.length) throw new UsageError('--fields needs at least one field name');
  const maxItems = optionalInteger(a['max-items'], '--max-items', 0);
  const stoplist = a.stoplist?.flatMap((f) => f.split(',')).map((f) => f.trim()).filter(Boolean);
  if (a.stoplist && !stoplist?.length) throw new UsageError('--stoplist needs a file, "builtin" or "none"');
  if (stoplist?.includes('none') && stoplist.length > 1) throw new UsageError('--stoplist none cannot be combined with other stoplists');
  return { bench: a.bench, n: a.n, fields, idField: a['id-field'], maxItems, stoplist };
}

const indexCommand: CommandModule<object, BenchArgs & { output?: string }> = {
  command: 'index',
  describe: 'Build the benchmark n-gram index once into a file, for `decontam --index` on many shards',
  builder: (y) =>
    y
      .options(benchOptions)
      .options(ruleOptions)
      .option('output', { ...output.output, describe: 'Index file to write (required)' })
      .demandOption(['bench', 'output'])
      .example('$0 decontam index --bench gsm8k/test.jsonl math/test.jsonl -o bench.idx', 'Index two benchmarks')
      .example('$0 decontam --index bench.idx shard-00.jsonl.gz -o clean-00.jsonl.gz', 'Then use it on each shard') as Argv<
      BenchArgs & { output?: string }
    >,
  handler: async (a) => {
    const { runIndex } = await import('./run-index.js');
    await runIndex({ ...benchOpts(a), output: a.output! });
  },
};

interface Args extends BenchArgs {
  inputs?: string[];
  index?: string;
  'text-field': string;
  mode: string;
  output?: string;
  removed?: string;
  report?: string;
  jobs: number;
  'skip-invalid': boolean;
}

// `decontam` holds two sub-commands, the default one (scan documents) and `index`, so each has only
// its own options (yargs would otherwise show, and accept, the scan options under `decontam index`).
const scanCommand: CommandModule<object, Args> = {
  command: '$0 [inputs..]',
  describe: 'Remove documents that contain benchmark text',
  builder: (y) =>
    inputs(
      y
        .options(benchOptions)
        .options(ruleOptions)
        .options({
          index: {
            type: 'string',
            requiresArg: true,
            conflicts: ['bench', 'fields', 'id-field', 'stoplist', 'max-items'],
            describe: 'Use an index file built by `decontam index` instead of --bench (fields were chosen when it was built)',
          },
          'text-field': { type: 'string', default: 'text', requiresArg: true, describe: 'Document field holding the text' },
          mode: {
            choices: ['doc', 'segment'],
            default: 'doc',
            describe: 'doc: drop contaminated documents (the paper). segment: drop only contaminated paragraphs (blank-line separated)',
          },
          removed: { type: 'string', requiresArg: true, describe: 'Write removed documents (or paragraphs) with the matching n-gram, benchmark and item to FILE' },
          report: {
            type: 'string',
            requiresArg: true,
            describe: 'Write the JSON summary (docs in/out, hits per benchmark, what the stoplist and --max-items left out of the index) to FILE',
          },
          jobs: {
            alias: 'j',
            type: 'number',
            requiresArg: true,
            default: 1,
            describe: 'Threads that parse and match: this one and N-1 more (at most 4x cores); output order is kept',
          },
          ...output,
          ...skipInvalid,
        }),
    )
      .example('$0 decontam web.jsonl.gz --bench gsm8k/test.jsonl math/test.jsonl > clean.jsonl', 'Drop web documents that contain GSM8K or MATH text')
      .example('$0 decontam --index bench.idx --removed removed.jsonl --report report.json shard.jsonl -o clean.jsonl', 'Use a prebuilt index, keep evidence and a JSON report')
      .example('$0 decontam --bench a.jsonl b.jsonl -- web.jsonl', '--bench takes every following word: end it with -- or put inputs first')
      .example('$0 decontam --bench math=math/test.jsonl --mode segment < docs.jsonl', 'Cut only the contaminated paragraphs')
      .epilogue(
        'Words: NFKC, lowercase, punctuation and calculator annotations removed, LaTeX commands are words (markup commands dropped), CJK characters one word each. ' +
          'Sequences frequent in ordinary text (--stoplist) or shared by --max-items benchmark items are not evidence. See man mathpipe-decontam.',
      ) as Argv<Args>,
  handler: async (a) => {
    const opts = benchOpts(a);
    const jobs = workerCount(a.jobs, '--jobs');
    const { runDecontam } = await import('./run.js');
    await runDecontam({
      ...opts,
      inputs: inputList(a.inputs),
      index: a.index,
      textField: a['text-field'],
      mode: a.mode === 'segment' ? 'segment' : 'doc',
      output: a.output,
      removed: a.removed,
      report: a.report,
      skipInvalid: a['skip-invalid'],
      jobs,
    });
  },
};

interface StoplistArgs extends BenchArgs {
  inputs?: string[];
  'min-docs': number;
  'text-field': string;
  output?: string;
  'skip-invalid': boolean;
}

const stoplistCommand: CommandModule<object, StoplistArgs> = {
  command: 'stoplist [inputs..]',
  describe: 'Measure a stoplist: benchmark word pairs and short texts found in --min-docs documents of a clean corpus',
  builder: (y) =>
    inputs(
      y
        .options(benchOptions)
        .options({
          'min-docs': { type: 'number', default: 2, requiresArg: true, describe: 'Keep sequences found in at least this many documents' },
          'text-field': { type: 'string', default: 'text', requiresArg: true, describe: 'Document field holding the text' },
          ...output,
          ...skipInvalid,
        })
        .demandOption(['bench']),
      'Clean documents (JSONL): text known not to copy the benchmarks; "-" or none reads stdin',
    )
      .example('$0 decontam stoplist --bench gsm8k/test.jsonl math/test.jsonl -o stop.txt -- clean-web.jsonl', 'Measure a stoplist')
      .example('$0 decontam index --bench gsm8k/test.jsonl --stoplist builtin --stoplist stop.txt -o bench.idx', 'Use it with the built-in one') as Argv<StoplistArgs>,
  handler: async (a) => {
    const opts = benchOpts(a);
    const minDocs = integer(a['min-docs'], '--min-docs', 1);
    const { runStoplist } = await import('./stoplist.js');
    await runStoplist({
      ...opts,
      bench: opts.bench ?? [],
      n: opts.n ?? 10,
      inputs: inputList(a.inputs),
      textField: a['text-field'],
      minDocs,
      output: a.output,
      skipInvalid: a['skip-invalid'],
    });
  },
};

const command: CommandModule = {
  command: 'decontam',
  describe: 'Remove documents that contain benchmark text (DeepSeekMath 10-gram rule)',
  builder: (y) =>
    y
      .command(indexCommand as unknown as CommandModule)
      .command(stoplistCommand as unknown as CommandModule)
      .command(scanCommand as unknown as CommandModule),
  handler: () => {},
};

export default command;
