// `mathpipe eval`: run benchmarks against a model, and the helpers around it (prompts, summarize, fetch, plot).
import type { ArgumentsCamelCase, Argv, CommandModule, Options } from 'yargs';
import type { ItemOptions } from './run.js';
import type { SandboxMode } from './python.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../cli/errors.js';
import { inputs, inputList, integer, number, optionalInteger, output, seed, skipInvalid } from '../cli/options.js';

const BENCH_NAMES = ['gsm8k', 'math', 'math500', 'cmath', 'mgsm_zh', 'gaokao-mathcloze', 'gaokao-mathqa', 'sat', 'ocw', 'mmlu_stem'];
const STYLES = ['cot', 'pot', 'instruct', 'tool'];
const CHAT_TEMPLATES = ['none', 'deepseek', 'chatml', 'llama3'];

const dataOpts = {
  bench: { alias: 'b', choices: BENCH_NAMES, describe: 'Benchmark to evaluate' },
  split: { type: 'string', default: 'test', describe: 'Split of the benchmark' },
  'data-dir': { type: 'string', describe: 'Benchmark files in the ../shared/data/benchmarks layout (default: the `eval fetch` cache)' },
  input: { type: 'string', describe: 'Evaluate your own JSONL instead of a named benchmark (see --question-field, --answer-field)' },
  'question-field': { type: 'string', default: 'question', describe: 'With --input: the question field' },
  'answer-field': { type: 'string', default: 'answer', describe: 'With --input: the gold answer field ("#### N" is read)' },
  limit: { type: 'number', describe: 'Evaluate only the first N items' },
} as const satisfies Record<string, Options>;

const promptOpts = {
  style: { choices: STYLES, default: 'cot', describe: 'cot: few-shot chain-of-thought; pot: few-shot program-of-thought (runs Python); instruct: zero-shot "reason step by step ... \\boxed{}"; tool: zero-shot tool-integrated (runs Python, feeds output back)' },
  'prompts-dir': { type: 'string', describe: 'Few-shot prompt files (the ../shared/data/prompts layout; default: <data-dir>/../prompts)' },
  'prompt-file': { type: 'string', describe: 'One few-shot prompt JSON file (template, exemplars, stop_words)' },
  exemplars: { choices: ['file', 'train'], default: 'file', describe: 'Few-shot exemplars from the prompt file, or drawn from the train split with --seed' },
  shots: { type: 'number', describe: 'Number of exemplars (default: the prompt file\'s, or 8 for GSM8K / 4 for MATH from train)' },
  'chat-template': { choices: CHAT_TEMPLATES, default: 'none', describe: 'Wrap the prompt for an instruct model on a completions endpoint' },
  system: { type: 'string', describe: 'System prompt (chat endpoint or --chat-template)' },
  ...seed,
} as const satisfies Record<string, Options>;

/** Options shared by run and prompts: a bad value is a usage error here, not a surprise later. */
function checkItemOptions(a: Record<string, unknown>): void {
  optionalInteger(a.limit, '--limit', 1);
  optionalInteger(a.shots, '--shots', 0);
}

/** Real numbers that must be positive (or >= 0) for the run to mean anything: 0 s timeouts fail every request or program. */
function checkRunNumbers(a: Record<string, unknown>): void {
  const positive = ['request-timeout', 'exec-timeout', 'check-timeout'] as const;
  for (const k of positive) number(a[k], `--${k}`, { above: 0 });
  for (const k of ['temperature', 'backoff'] as const) number(a[k], `--${k}`, { min: 0 });
  if (a['top-p'] !== undefined) number(a['top-p'], '--top-p', { above: 0, max: 1 });
  for (const [k, min] of [['exec-memory', 1], ['exec-output', 0]] as const) integer(a[k], `--${k}`, min);
  optionalInteger(a.jobs, '--jobs', 1);
}

function withRun(y: Argv) {
  return y
    .options({
      ...dataOpts,
      ...promptOpts,
      ...output,
      api: { type: 'string', describe: 'OpenAI-compatible base URL, e.g. http://localhost:8000/v1' },
      model: { type: 'string', describe: 'Model name sent to the server; without --api, a local checkpoint directory (generated in this process, no server)' },
      'batch-size': { type: 'number', default: 32, describe: 'Local checkpoint: sequences decoded together' },
      backend: { choices: ['auto', 'tensorflow', 'wasm', 'cpu'], describe: 'Local checkpoint: tfjs backend (default: $MATHPIPE_BACKEND or auto)' },
      'api-key-env': { type: 'string', default: 'OPENAI_API_KEY', describe: 'Environment variable holding the API key (sent as a Bearer token if set)' },
      chat: { type: 'boolean', default: false, describe: 'Use /chat/completions (the server applies the chat template) instead of /completions' },
      n: { type: 'number', default: 1, describe: 'Samples per question (maj@K and pass@K need n >= K; n > 1 needs --temperature > 0: greedy decoding gives one answer)' },
      temperature: { type: 'number', default: 0, describe: 'Sampling temperature (0: greedy)' },
      'top-p': { type: 'number', describe: 'Nucleus sampling' },
      'max-tokens': { type: 'number', default: 1024, describe: 'Tokens generated per response' },
      stop: { type: 'string', array: true, default: [] as string[], describe: 'Extra stop strings (the prompt format\'s own are always used). The server gets the first 4 (the OpenAI API\'s limit); any beyond are cut from the text here, after generation, so they save no tokens' },
      concurrency: { type: 'number', default: 8, describe: 'Requests in flight' },
      retries: { type: 'number', default: 6, describe: 'Retries of a failed request (429, 5xx, timeouts, dropped connections) before exit 74' },
      backoff: { type: 'number', default: 1, describe: 'First retry delay in seconds (doubles each retry, with jitter; Retry-After wins)' },
      'request-timeout': { type: 'number', default: 600, describe: 'Seconds to wait for one response' },
      cache: { type: 'string', describe: 'Response cache for resume (default with -o: FILE.cache.jsonl); a re-run sends only missing requests. --no-cache: none' },
      k: { type: 'number', array: true, describe: 'K values for maj@K / pass@K (default 1, 2, 4, ... n)' },
      report: { alias: 'summary', type: 'string', requiresArg: true, describe: 'Write the summary JSON (metrics overall, per subject, per level) to FILE' },
      'exec-timeout': { type: 'number', default: 10, describe: 'Seconds a model-written program may run' },
      'exec-memory': { type: 'number', default: 1024, describe: 'Address-space limit of a program in MiB' },
      'exec-output': { type: 'number', default: 2000, describe: 'Characters of program output kept and fed back' },
      sandbox: { choices: ['auto', 'strict', 'none'], default: 'auto', describe: 'Isolation of model-written programs (no network, no view of this process through /proc): auto: what unshare allows here, warning about what is missing; strict: refuse to run without it; none: none, no warning (see man mathpipe-eval, SANDBOX)' },
      'tool-rounds': { type: 'number', default: 2, describe: 'Program executions per response in --style tool' },
      'check-timeout': { type: 'number', default: 5, describe: 'Seconds one answer check may take' },
      jobs: { alias: ['j', 'workers'], type: 'number', describe: 'Answer-checker worker threads (default: cores, at most 8)' },
      extract: { choices: ['deepseek', 'mathpipe'], describe: 'Answer extraction and comparison: deepseek follows DeepSeek-Math\'s evaluation code for the benchmark (numbers comparable to the paper; default for --style cot and pot), mathpipe is the stronger checker of `mathpipe grade` (default for instruct and tool). The summary says which was used' },
    })
    .check((a) => {
      if (!a.bench && !a.input) throw new UsageError('name a benchmark (--bench) or an input file (--input)');
      if (!a.model) throw new UsageError('give --api URL and --model NAME, or --model CHECKPOINT_DIR to evaluate a local checkpoint');
      if (!a.api && !existsSync(join(a.model as string, 'config.json')))
        throw new UsageError(`--model ${a.model as string}: without --api this must be a checkpoint directory (config.json missing); for a server give --api URL`);
      integer(a['batch-size'], '--batch-size', 1);
      for (const [k, min] of [['n', 1], ['concurrency', 1], ['retries', 0], ['max-tokens', 1], ['tool-rounds', 0]] as const) integer(a[k], `--${k}`, min);
      checkItemOptions(a);
      checkRunNumbers(a);
      if ((a.n as number) > 1 && (a.temperature as number) === 0) throw new UsageError('--n above 1 needs --temperature > 0: greedy decoding gives the same answer every time (servers refuse n > 1 at temperature 0)');
      for (const k of (a.k as number[] | undefined) ?? []) integer(k, '--k', 1, a.n as number);
      return true;
    })
    .example('$0 eval run -b gsm8k --data-dir ../shared/data/benchmarks --api http://localhost:8000/v1 --model deepseek-math-7b-base -o gsm8k.jsonl --report gsm8k.json', 'GSM8K 8-shot CoT, greedy')
    .example('$0 eval run -b math500 --style instruct --chat --api $URL --model m --n 16 --temperature 0.7 --report s.json -o out.jsonl', 'maj@K and pass@K up to 16, zero-shot')
    .example('$0 eval run -b gsm8k --style pot --api $URL --model m --limit 50', 'Program-of-thought: the model writes Python, the program prints the answer')
    .example('$0 eval run --input test.jsonl --style instruct --chat --model ckpt -o out.jsonl', 'A local checkpoint, its own chat template, no server');
}

async function defaultDataDir(a: Record<string, unknown>): Promise<string> {
  if (a['data-dir']) return a['data-dir'] as string;
  const { defaultCacheDir } = await import('./fetch.js');
  return defaultCacheDir();
}

/** The options that pick questions and build prompts, shared by `eval run` and `eval prompts`. */
async function itemOptions(a: ArgumentsCamelCase): Promise<ItemOptions> {
  return {
    bench: a.bench as string | undefined,
    input: a.input as string | undefined,
    questionField: a['question-field'] as string,
    answerField: a['answer-field'] as string,
    split: a.split as string,
    dataDir: await defaultDataDir(a),
    promptsDir: a['prompts-dir'] as string | undefined,
    promptFile: a['prompt-file'] as string | undefined,
    exemplars: a.exemplars as 'file' | 'train',
    shots: a.shots as number | undefined,
    seed: a.seed as number,
    style: a.style as 'cot',
    chatTemplate: a['chat-template'] as 'none',
    system: a.system as string | undefined,
    limit: a.limit as number | undefined,
    output: a.output as string | undefined,
  };
}

const run: CommandModule = {
  command: 'run',
  describe: 'Evaluate a model on a benchmark: per-question JSONL on stdout (or -o), summary table on stderr',
  builder: (y) => withRun(y),
  handler: async (a) => {
    const sandbox = a.sandbox as SandboxMode;
    // Before the first request: strict refuses, auto warns, before any time or money is spent.
    if (a.style === 'pot' || a.style === 'tool') (await import('./python.js')).sandboxPrefix(sandbox);
    const { runEval } = await import('./run.js');
    const local = a.api
      ? undefined
      : await (await import('../sample/local-generator.js')).LocalTextGenerator.open(a.model as string, {
          backend: a.backend as string | undefined,
          batchSize: a['batch-size'] as number,
          chat: Boolean(a.chat),
          system: a.system as string | undefined,
        });
    await runEval({
      generator: local,
      ...(await itemOptions(a)),
      chat: Boolean(a.chat),
      api: a.api as string,
      model: a.model as string,
      apiKeyEnv: a['api-key-env'] as string,
      concurrency: a.concurrency as number,
      retries: a.retries as number,
      backoffMs: (a.backoff as number) * 1000,
      requestTimeoutMs: (a['request-timeout'] as number) * 1000,
      n: a.n as number,
      temperature: a.temperature as number,
      topP: a['top-p'] as number | undefined,
      maxTokens: a['max-tokens'] as number,
      stop: (a.stop as string[]).map(String),
      ks: a.k as number[] | undefined,
      summary: a.summary as string | undefined,
      cache: a.cache === false ? false : (a.cache as string | undefined),
      exec: { timeoutMs: (a['exec-timeout'] as number) * 1000, memoryMb: a['exec-memory'] as number, maxOutput: a['exec-output'] as number, sandbox },
      toolRounds: a['tool-rounds'] as number,
      checkTimeoutMs: (a['check-timeout'] as number) * 1000,
      workers: a.workers as number | undefined,
      extract: a.extract as 'deepseek' | 'mathpipe' | undefined,
    });
  },
};

const prompts: CommandModule = {
  command: 'prompts',
  describe: 'Write the prompts an eval would send, as JSONL ({id, prompt, stop, gold, ...}), for generating elsewhere',
  builder: (y) =>
    y
      .options({ ...dataOpts, ...promptOpts, ...output })
      .check((a) => {
        if (!a.bench && !a.input) throw new UsageError('name a benchmark (--bench) or an input file (--input)');
        checkItemOptions(a);
        return true;
      })
      .example('$0 eval prompts -b math500 --style instruct --chat-template deepseek --data-dir ../shared/data/benchmarks | head -1', 'Inspect a prompt'),
  handler: async (a) => {
    const { writePrompts } = await import('./prompts-cmd.js');
    await writePrompts(await itemOptions(a));
  },
};

const summarizeCmd: CommandModule = {
  command: 'summarize [inputs..]',
  describe: 'Recompute the summary (accuracy, maj@K, pass@K, per subject/level) from per-question JSONL with "correct" arrays',
  builder: (y) =>
    inputs(y)
      .options({
        k: { type: 'number', array: true, describe: 'K values (default 1, 2, 4, ... n)' },
        report: { alias: 'summary', type: 'string', requiresArg: true, describe: 'Write the summary JSON to FILE (default: stdout)' },
        ...skipInvalid,
        ...seed,
      })
      .example('$0 eval summarize gsm8k.jsonl --k 1 4 16', 'Table on stderr, JSON on stdout'),
  handler: async (a) => {
    const { summarizeFiles } = await import('./summarize.js');
    await summarizeFiles(inputList(a.inputs), a.k as number[] | undefined, a.summary as string | undefined, a.seed as number, Boolean(a['skip-invalid']));
  },
};

const fetchCmd: CommandModule = {
  command: 'fetch <benches..>',
  describe: 'Download benchmark files from their canonical URLs (pinned commits) into a cache, checking sha256',
  builder: (y) =>
    y
      .positional('benches', { type: 'string', array: true, describe: 'Benchmarks to fetch (all: every downloadable one, and the prompts); prompts: DeepSeek-Math\'s few-shot prompt files (from its repository at a pinned commit, converted into <cache-dir>/../prompts, where --style cot and pot look by default)' })
      .options({
        split: { type: 'string', default: 'test', describe: 'Split to fetch' },
        'cache-dir': { type: 'string', describe: 'Where files go (default: $XDG_CACHE_HOME/mathpipe/benchmarks); use it as --data-dir' },
        mirror: { type: 'string', describe: 'Replace https://raw.githubusercontent.com in the URLs (a mirror)' },
        retries: { type: 'number', default: 4, describe: 'Retries per file before exit 74' },
        backoff: { type: 'number', default: 1, describe: 'First retry delay in seconds (doubles each retry)' },
        force: { type: 'boolean', default: false, describe: 'Download even when a verified copy is cached' },
      })
      .example('$0 eval fetch gsm8k math500', 'Then: mathpipe eval run -b gsm8k ... (the cache is the default --data-dir)')
      .example('$0 eval fetch all --cache-dir ./bench-data', 'Every downloadable benchmark and the few-shot prompts')
      .example('$0 eval fetch prompts gsm8k && $0 eval run -b gsm8k --api $URL --model m', 'What an npm install needs for --style cot'),
  handler: async (a) => {
    integer(a.retries, '--retries', 0);
    number(a.backoff, '--backoff', { min: 0 });
    const { fetchBenchmarks, defaultCacheDir } = await import('./fetch.js');
    const { BENCHMARKS } = await import('./benchmarks.js');
    let benches = (a.benches as string[]).map(String);
    const split = a.split as string;
    if (benches.includes('all')) benches = [...Object.values(BENCHMARKS).filter((b) => b.splits[split]?.url).map((b) => b.name), 'prompts'];
    await fetchBenchmarks({
      benches,
      split,
      cacheDir: (a['cache-dir'] as string | undefined) ?? defaultCacheDir(),
      mirror: a.mirror as string | undefined,
      retries: a.retries as number,
      backoffMs: (a.backoff as number) * 1000,
      force: Boolean(a.force),
    });
  },
};

const plot: CommandModule = {
  command: 'plot <summaries..>',
  describe: 'Draw pass@K and maj@K against K as SVG from one or more summary JSON files (DeepSeekMath Figure 7)',
  builder: (y) =>
    y
      .positional('summaries', { type: 'string', array: true, describe: 'Summary JSON files (from eval run --report); LABEL=FILE names a series' })
      .options({ ...output, title: { type: 'string', default: 'pass@K and maj@K', describe: 'Title of the figure' } })
      .example('$0 eval plot sft=sft.json rl=rl.json -o fig7.svg', 'RL vs SFT: maj@K rises, pass@K does not'),
  handler: async (a) => {
    const { plotFiles } = await import('./summarize.js');
    await plotFiles((a.summaries as string[]).map(String), a.output as string | undefined, a.title as string);
  },
};

const loss: CommandModule = {
  command: 'loss',
  describe: 'Score a checkpoint on token datasets (loss, perplexity) without training: one JSONL line per dataset',
  builder: (y) =>
    y
      .options({
        model: { alias: 'm', type: 'string', demandOption: true, describe: 'Checkpoint directory' },
        data: { type: 'string', array: true, demandOption: true, describe: 'Token dataset PREFIX (.bin/.idx from `mathpipe tokenize`); repeat for several' },
        'seq-len': { type: 'number', describe: 'Tokens per window (default: the length the checkpoint trained on, else its context up to 1024)' },
        'batch-size': { alias: 'b', type: 'number', default: 8, describe: 'Windows per forward pass' },
        'max-windows': { type: 'number', describe: 'Score only the first N windows of each dataset' },
        backend: { choices: ['auto', 'tensorflow', 'wasm', 'cpu'], describe: 'tfjs backend (default: $MATHPIPE_BACKEND or auto)' },
        ...output,
      })
      .check((a) => {
        for (const k of ['seq-len', 'batch-size', 'max-windows'] as const) optionalInteger(a[k], `--${k}`, 1);
        return true;
      })
      .example('$0 eval loss -m ckpt --data toks/valid', 'Loss and perplexity of a checkpoint on a held-out dataset')
      .example('$0 eval loss -m ckpt-1000 --data toks/math --data toks/code --max-windows 200', 'Two datasets, 200 windows each, plus the total'),
  handler: async (a) => {
    const { runLoss } = await import('./loss.js');
    await runLoss({
      model: a.model as string,
      data: a.data as string[],
      seqLen: a['seq-len'] as number | undefined,
      batchSize: a['batch-size'] as number,
      maxWindows: a['max-windows'] as number | undefined,
      backend: a.backend as string | undefined,
      output: a.output as string | undefined,
    });
  },
};

const command: CommandModule = {
  command: 'eval <command>',
  describe: 'Evaluate models on GSM8K, MATH and friends: accuracy, maj@K, pass@K (run, prompts, summarize, fetch, plot)',
  builder: (y) =>
    y
      .command([run, prompts, summarizeCmd, fetchCmd, plot, loss])
      .demandCommand(1, 'Name a sub-command: run, prompts, summarize, fetch, plot or loss.')
      .example('$0 eval fetch gsm8k && $0 eval run -b gsm8k --api http://localhost:8000/v1 --model m -o out.jsonl', 'Download GSM8K, evaluate')
      .example('$0 eval plot run.json -o fig.svg', 'pass@K / maj@K figure'),
  handler: () => {},
};

export default command;
