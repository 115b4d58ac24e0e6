// `mathpipe mine iterate`: the recall loop. Option definitions only.
import type { Argv, CommandModule } from 'yargs';
import { inputList, inputs, integer, number } from '../cli/options.js';
import { UsageError } from '../cli/errors.js';

const PAPER = '--dim 256 --lr 0.1 --wordNgrams 3 --minCount 3 --epoch 3 --thread 1';

export const iterateCommand: CommandModule = {
  command: 'iterate [inputs..]',
  describe: 'The DeepSeekMath recall loop: train -> score -> dedup -> decontam -> select -> domains -> expand seeds, until a round adds almost nothing',
  builder: (y: Argv) =>
    inputs(y, 'The pool: document JSONL files (from mine), read every round')
      .options({
        dir: { alias: 'd', type: 'string', demandOption: true, requiresArg: true, describe: 'Working directory: round-NN/ with every step\'s output, iterate.json with the state (resumes where it stopped)' },
        seeds: { type: 'string', array: true, demandOption: true, requiresArg: true, describe: 'Seed positives (JSONL with "text"; e.g. OpenWebMath); end the list with --' },
        budget: { alias: 'b', type: 'string', demandOption: true, requiresArg: true, describe: 'Tokens selected each round (the paper: 40e9 in round 1)' },
        negatives: { type: 'number', default: 500000, describe: 'Pool pages sampled (seeded, the same ones every round) as negatives' },
        'max-iterations': { type: 'number', default: 4, describe: 'Rounds at most (the paper ran 4); raise it to continue a stopped loop' },
        stop: { type: 'number', default: 0.98, describe: 'Stop when this fraction of a round\'s selection was already selected by the previous round' },
        seed: { type: 'number', default: 1, describe: 'Seed of the negative sample and of training' },
        'train-args': { type: 'string', default: PAPER, describe: 'Options for classify train, as one word: --train-args="--dim 16 --epoch 10" (the paper\'s by default; one thread, so a round repeats exactly)' },
        tokenizer: { alias: 't', type: 'string', requiresArg: true, describe: 'Tokenizer counting the budget (mine select --tokenizer) [default: cl100k_base]' },
        whitespace: { type: 'boolean', default: false, describe: 'Count the budget in whitespace words (mine select --whitespace)' },
        patterns: { alias: 'p', type: 'string', requiresArg: true, describe: 'A hand-annotated URL-pattern file used for every expansion, instead of each round\'s automatic one' },
        accept: { type: 'number', default: 0.5, describe: 'Automatic annotation: accept prefixes of flagged domains with at least this fraction collected' },
        'min-fraction': { type: 'number', default: 0.1, describe: 'Domains with more than this fraction collected are math-related' },
        index: { type: 'string', array: true, requiresArg: true, describe: 'Dedup indexes of earlier collections (mine dedup --write-index); end the list with --' },
        'decontam-index': { type: 'string', requiresArg: true, describe: 'Benchmark index (decontam index): run decontam on the pool each round' },
        verbose: { type: 'boolean', default: false, describe: 'Show every step\'s summary line' },
      })
      .example('$0 mine iterate -d loop --seeds owm.jsonl --budget 40e9 --decontam-index bench.idx -- pool/*.jsonl.gz', 'the paper\'s loop')
      .example('$0 mine iterate -d loop --seeds seeds.jsonl -b 46300 --whitespace --negatives 300 --train-args="--dim 16 --lr 0.5 --epoch 10 --thread 1" -- pool.jsonl', 'the fixtures\' loop (test/mine/iterate.test.ts)')
      .example('$0 mine iterate -d loop --seeds owm.jsonl -b 40e9 -- pool/*.jsonl.gz', 'again after an interruption: resumes at the first step not done'),
  handler: async (a) => {
    const budget = number(a.budget, '--budget', { min: 0 });
    const max = integer(a['max-iterations'], '--max-iterations', 1);
    const negatives = integer(a.negatives, '--negatives', 1);
    const pool = inputList(a.inputs);
    if (pool.includes('-')) throw new UsageError('the pool is read every round: give files, not stdin');
    const trainArgs = String(a['train-args']).split(/\s+/).filter(Boolean);
    if (!trainArgs.includes('--seed')) trainArgs.push('--seed', String(a.seed));
    const countArgs = a.whitespace ? ['--whitespace'] : a.tokenizer ? ['--tokenizer', String(a.tokenizer)] : [];
    const { runIterate } = await import('./iterate/run.js');
    await runIterate({
      dir: a.dir as string,
      pool,
      seeds: (a.seeds as string[]).map(String),
      budget: Math.floor(budget),
      negatives,
      maxIterations: max,
      stop: Number(a.stop),
      seed: Number(a.seed),
      trainArgs,
      countArgs,
      patterns: a.patterns as string | undefined,
      accept: Number(a.accept),
      minFraction: Number(a['min-fraction']),
      index: (a.index as string[] | undefined) ?? [],
      decontamIndex: a['decontam-index'] as string | undefined,
      verbose: Boolean(a.verbose),
    });
  },
};
