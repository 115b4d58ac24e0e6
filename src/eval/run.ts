// `eval run`: benchmark items -> prompts -> a TextGenerator (HTTP today, a local checkpoint later) ->
// optional Python execution -> the answer checker -> per-question JSONL and a summary.
import { writeOutputFile } from '../cli/output-file.js';
import { resolve } from 'node:path';
import { IoError, UsageError } from '../cli/errors.js';
import { info, warn } from '../cli/log.js';
import { startProgress } from '../cli/progress.js';
import { withWriter } from '../jsonl/index.js';
import { CheckerPool } from '../checker/pool.js';
import { DEEPSEEK_FUNCTIONS, type DeepseekTask } from '../checker/deepseek.js';
import type { GradeContext } from '../checker/grade.js';
import type { Completion, TextGenerator } from '../model/types.js';
import { benchmark, loadBenchmark, loadCustom, type Benchmark, type EvalItem } from './benchmarks.js';
import { CachedGenerator } from './cache.js';
import { HttpGenerator } from './http.js';
import { RejectedRequest } from '../model/types.js';
import { defaultKs, formatTable, summarize, voteGroupsAsync, type SampleResult } from './metrics.js';
import { BUILTIN_FORMATS, PromptBuilder, drawExemplars, findPromptFile, loadPromptFile, type ChatTemplate, type PromptFile, type Style } from './prompts.js';
import { codeBlocks, potProgram, programAnswer, runPython, type ExecOptions } from './python.js';

/** What selects the questions and builds their prompts: shared by `eval run` and `eval prompts`. */
export interface ItemOptions {
  bench?: string;
  input?: string;
  questionField: string;
  answerField: string;
  split: string;
  dataDir: string;
  promptsDir?: string;
  promptFile?: string;
  exemplars: 'file' | 'train';
  shots?: number;
  seed: number;
  style: Style;
  chatTemplate: ChatTemplate;
  system?: string;
  limit?: number;
  output?: string;
}

export interface EvalRunOptions extends ItemOptions {
  chat: boolean;
  api?: string;
  model?: string;
  apiKeyEnv: string;
  concurrency: number;
  retries: number;
  backoffMs: number;
  requestTimeoutMs: number;
  n: number;
  temperature: number;
  topP?: number;
  maxTokens: number;
  stop: string[];
  ks?: number[];
  summary?: string;
  cache?: string | false;
  exec: ExecOptions;
  toolRounds: number;
  checkTimeoutMs: number;
  workers?: number;
  /**
   * Answer extraction: "deepseek" follows DeepSeek-Math's evaluation code for the benchmark and style (the
   * default for the few-shot styles cot and pot), "mathpipe" is mathpipe's checker (the default otherwise).
   */
  extract?: 'deepseek' | 'mathpipe';
  /** A generator supplied by code (a local checkpoint, tests); replaces --api. */
  generator?: TextGenerator;
}

interface Loaded {
  bench: Benchmark;
  items: EvalItem[];
}

export async function loadItems(o: ItemOptions): Promise<Loaded> {
  if (o.input) {
    const bench: Benchmark = { ...benchmark(o.bench ?? 'gsm8k'), name: o.bench ?? 'custom' };
    return { bench, items: await loadCustom(o.input, o.questionField, o.answerField) };
  }
  if (!o.bench) throw new UsageError('name a benchmark (--bench) or an input file (--input)');
  const bench = benchmark(o.bench);
  return { bench, items: await loadBenchmark(bench, o.split, o.dataDir) };
}

export async function promptFileFor(o: ItemOptions, bench: Benchmark): Promise<{ file?: PromptFile; drawn?: { question: string; answer: string }[] }> {
  if (o.style !== 'cot' && o.style !== 'pot') return {};
  if (o.exemplars === 'train') {
    if (o.style === 'pot') throw new UsageError('--exemplars train works for chain-of-thought only (train splits hold no programs)');
    const trainName = bench.trainBench;
    if (!trainName) throw new UsageError(`${bench.name} has no train split to draw exemplars from`);
    const fmtName = benchmark(trainName).prompts.cot;
    const fmt = o.promptFile ? loadPromptFile(o.promptFile) : { ...BUILTIN_FORMATS[fmtName]!, exemplars: [] };
    const train = await loadBenchmark(benchmark(trainName), 'train', o.dataDir);
    const shots = o.shots ?? (fmtName === 'cot_gsm_8_shot' ? 8 : 4);
    return { file: fmt, drawn: drawExemplars(train, shots, o.seed, fmtName) };
  }
  if (o.promptFile) return { file: loadPromptFile(o.promptFile) };
  const dir = o.promptsDir ?? resolve(o.dataDir, '..', 'prompts');
  const file = findPromptFile(bench, o.style, dir);
  if (!file) throw new UsageError(`no prompt file for ${bench.name} (${o.style}) in ${dir}: run \`mathpipe eval fetch prompts\` (DeepSeek's, into the default place), or give --prompt-file, --prompts-dir, or use --exemplars train`);
  if (o.shots !== undefined && o.shots < file.exemplars.length) {
    return { file, drawn: file.exemplars.slice(0, o.shots) };
  }
  return { file };
}

function makeGenerator(o: EvalRunOptions): TextGenerator {
  if (o.generator) return o.generator;
  if (!o.api || !o.model) throw new UsageError('--api URL and --model NAME are required');
  return new HttpGenerator({
    api: o.api,
    model: o.model,
    apiKey: process.env[o.apiKeyEnv] || undefined,
    chat: o.chat,
    system: o.system,
    concurrency: o.concurrency,
    retries: o.retries,
    backoffMs: o.backoffMs,
    timeoutMs: o.requestTimeoutMs,
    onRetry: (why, attempt, delay) => warn(`${why}; retry ${attempt}/${o.retries} in ${(delay / 1000).toFixed(1)}s`),
  });
}

/** DeepSeek's extraction/eval pair for a benchmark in a prompt style; undefined where its code has none. */
export function deepseekTask(bench: string, style: Style): DeepseekTask | undefined {
  const math = bench === 'math' || bench === 'math500';
  if (style === 'pot') return bench === 'gsm8k' ? 'gsm8k-pal' : math ? 'math-pal' : undefined;
  if (style === 'cot') {
    if (math) return 'math-cot';
    // MGSM-zh has no few-shot prompt in DeepSeek's code: mathpipe asks it in CMATH's format and reads it the same way.
    const cot: Record<string, DeepseekTask> = { gsm8k: 'gsm8k-cot', sat: 'sat', mmlu_stem: 'mmlu-stem', ocw: 'ocw', cmath: 'cmath-cot', mgsm_zh: 'cmath-cot', 'gaokao-mathcloze': 'gaokao-mathcloze', 'gaokao-mathqa': 'gaokao-mathqa' };
    return cot[bench];
  }
  // Zero-shot (instruct, tool): DeepSeek's zero-shot configs cover GSM8K, MATH, MGSM-zh and CMATH.
  if (math) return 'math';
  return ['gsm8k', 'mgsm_zh', 'cmath'].includes(bench) ? 'last-single' : undefined;
}

/** Tool-integrated reasoning: run the last ```python block, append its output, continue (DeepSeek's protocol). */
async function toolLoop(gen: TextGenerator, prompt: string, first: Completion, o: EvalRunOptions, stop: string[], seed: number): Promise<{ text: string; finish: string; rounds: number }> {
  let text = first.text;
  let finish = first.finishReason;
  let rounds = 0;
  while (rounds < o.toolRounds && finish === 'stop') {
    const blocks = codeBlocks(text);
    const lastFence = text.lastIndexOf('```');
    if (!blocks.length || /\\boxed/.test(text.slice(lastFence))) break;
    if (!text.trimEnd().endsWith('```')) break;
    const r = await runPython(blocks[blocks.length - 1]!, o.exec);
    text = `${text.trimEnd()}\n\`\`\`output\n${r.output}\n\`\`\`\n`;
    rounds++;
    const [next] = await gen.generate({ prompt: prompt + text, maxTokens: o.maxTokens, temperature: o.temperature, topP: o.topP, stop, n: 1, seed: seed + 1000 * rounds });
    text += next!.text;
    finish = next!.finishReason;
  }
  return { text, finish, rounds };
}

export async function runEval(o: EvalRunOptions): Promise<void> {
  const { bench, items: all } = await loadItems(o);
  const items = o.limit !== undefined ? all.slice(0, o.limit) : all;
  if (!items.length) throw new UsageError('no items to evaluate');
  if (o.n > 1 && o.temperature === 0) throw new UsageError('--n above 1 needs --temperature > 0: greedy decoding gives the same answer every time');
  if (o.style === 'tool' && o.chat) throw new UsageError('--style tool continues the assistant text after each program: use a completions endpoint (drop --chat; pick --chat-template)');
  const pf = await promptFileFor(o, bench);
  const builder = new PromptBuilder({ style: o.style, bench, promptFile: pf.file, drawn: pf.drawn, chatTemplate: o.chatTemplate, system: o.chat ? undefined : o.system });
  const probe = builder.build(items[0]!);
  const stop = [...new Set([...probe.stop, ...o.stop])];
  let gen = makeGenerator(o);
  const cachePath = o.cache === false ? undefined : (o.cache ?? (o.output ? `${o.output}.cache.jsonl` : undefined));
  const cached = cachePath ? new CachedGenerator(gen, cachePath, JSON.stringify([o.chat, o.system ?? ''])) : null;
  if (cached) {
    if (cached.size) info(`resuming: ${cached.size} cached responses in ${cachePath}`);
    gen = cached;
  }
  const dsTask = deepseekTask(o.input ? (o.bench ?? 'gsm8k') : bench.name, o.style);
  const extraction = o.extract ?? (dsTask && (o.style === 'cot' || o.style === 'pot') ? 'deepseek' : 'mathpipe');
  if (extraction === 'deepseek' && !dsTask) throw new UsageError(`--extract deepseek: DeepSeek-Math's evaluation has no ${o.style} setting for ${bench.name}; use --extract mathpipe`);
  const pool = new CheckerPool({
    workers: o.workers,
    timeoutMs: o.checkTimeoutMs,
    opts: extraction === 'deepseek' ? { extract: 'deepseek', task: dsTask } : { extract: o.style === 'pot' ? 'none' : probe.extract },
  });
  const errors: { id: string; error: string }[] = [];
  let done = 0;
  let execs = 0;
  const progress = startProgress('eval', () => ({ records: done, bytes: 0 }));
  const potFormat = bench.prompts.pot === 'pal_gsm_8_shot' ? 'gsm' : 'math';

  const errorItem = (item: EvalItem, e: Error): { record: Record<string, unknown>; result: SampleResult } => {
    // A request the server refused (context length exceeded): the question counts as wrong, the run goes on.
    errors.push({ id: item.id, error: e.message });
    warn(`${item.id}: ${e.message} (counted wrong)`);
    const none = Array<null>(o.n).fill(null);
    const wrong = Array<boolean>(o.n).fill(false);
    const record: Record<string, unknown> = {
      id: item.id,
      bench: bench.name,
      ...(item.subject !== undefined ? { subject: item.subject } : {}),
      ...(item.level !== undefined ? { level: item.level } : {}),
      gold: item.gold,
      error: e.message,
      responses: [],
      finish_reasons: [],
      extracted: none,
      correct: wrong,
    };
    return { record, result: { id: item.id, subject: item.subject, level: item.level, extracted: none, correct: wrong } };
  };

  const evalItem = async (item: EvalItem, k: number): Promise<{ record: Record<string, unknown>; result: SampleResult }> => {
    try {
      return await evalItemOnce(item, k);
    } catch (e) {
      if (e instanceof RejectedRequest) return errorItem(item, e);
      throw e;
    }
  };

  const evalItemOnce = async (item: EvalItem, k: number): Promise<{ record: Record<string, unknown>; result: SampleResult }> => {
    const p = builder.build(item);
    // Per-question seeds: a re-run asks for exactly the same samples (and hits the cache).
    const seed = o.seed + k;
    const comps = await gen.generate({ prompt: o.chat ? p.user : p.prompt, maxTokens: o.maxTokens, temperature: o.temperature, topP: o.topP, stop, n: o.n, seed });
    const responses: string[] = [];
    const finish: string[] = [];
    const toGrade: string[] = [];
    const programOut: (string | null)[] = [];
    for (let s = 0; s < comps.length; s++) {
      let c = comps[s]!;
      if (o.style === 'tool') {
        const t = await toolLoop(gen, p.prompt, c, o, stop, seed + s);
        execs += t.rounds;
        c = { text: t.text, finishReason: t.finish as Completion['finishReason'] };
      }
      responses.push(c.text);
      finish.push(c.finishReason);
      if (o.style === 'pot') {
        const r = await runPython(potProgram(c.text, potFormat), o.exec);
        execs++;
        programOut.push(r.output);
        toGrade.push(programAnswer(r) ?? '');
      } else toGrade.push(c.text);
    }
    const ctx: GradeContext = { question: item.question };
    if (item.alternatives?.length) ctx.alternatives = item.alternatives;
    if (item.ordered) ctx.ordered = true;
    if (item.deepseekGold !== undefined) ctx.deepseekGold = item.deepseekGold;
    const grades = await Promise.all(toGrade.map((t) => pool.grade(t, item.gold, ctx)));
    const extracted = grades.map((g) => (g.pred === '' ? null : g.pred));
    const correct = grades.map((g) => g.correct);
    // maj@k groups: the checker's equivalence, through the pool (a pathological pair times out as "different").
    const groups = o.n > 1 ? await voteGroupsAsync(extracted, (a, b) => pool.same(a, b)) : undefined;
    const record: Record<string, unknown> = {
      id: item.id,
      bench: bench.name,
      ...(item.subject !== undefined ? { subject: item.subject } : {}),
      ...(item.level !== undefined ? { level: item.level } : {}),
      gold: item.gold,
      responses,
      ...(o.style === 'pot' ? { program_output: programOut } : {}),
      finish_reasons: finish,
      extracted,
      correct,
      ...(groups ? { vote_groups: groups } : {}),
    };
    return { record, result: { id: item.id, subject: item.subject, level: item.level, extracted, correct, ...(groups ? { groups } : {}) } };
  };

  const results: SampleResult[] = [];
  try {
    // The output is opened before any request is sent, so a bad -o fails first.
    await withWriter(o.output, async (out) => {
      const pending = items.map((it, k) => evalItem(it, k));
      // Every item gets a handler now: a failure surfaces at its turn below, never as an unhandled rejection.
      for (const p of pending) p.catch(() => {});
      for (const p of pending) {
        const { record, result } = await p;
        results.push(result);
        await out.writeJson(record);
        done++;
      }
    });
  } finally {
    progress.stop();
    await pool.close();
    await gen.close?.();
  }
  const ks = o.ks ?? defaultKs(o.n);
  const s = summarize(results, ks, o.seed);
  const base = cached ? cached.inner : gen;
  const http = base instanceof HttpGenerator ? base : null;
  const full = {
    bench: bench.name,
    split: o.split,
    model: gen.name,
    style: o.style,
    extract: extraction,
    ...(extraction === 'deepseek' ? { deepseek_task: dsTask, deepseek_functions: DEEPSEEK_FUNCTIONS[dsTask!] } : {}),
    n: o.n,
    temperature: o.temperature,
    max_tokens: o.maxTokens,
    seed: o.seed,
    ...s,
    requests: http?.requests ?? null,
    retries: http?.retried ?? null,
    cache_hits: cached?.hits ?? null,
    program_runs: execs,
    check_timeouts: pool.timeouts,
    // Questions whose request the server refused (counted wrong above).
    errors,
  };
  if (o.summary) writeOutputFile(o.summary, JSON.stringify(full, null, 2) + '\n');
  const how = extraction === 'deepseek' ? `DeepSeek extraction ${dsTask}` : 'mathpipe extraction';
  info(`${bench.name} (${o.style}, n=${o.n}, ${gen.name}, ${how})\n${formatTable(s, 'all')}`);
  if (errors.length) info(`${errors.length} question${errors.length === 1 ? '' : 's'} refused by the server, counted wrong: ${errors.slice(0, 5).map((e) => e.id).join(', ')}${errors.length > 5 ? ', ...' : ''}`);
  if (errors.length === items.length) throw new IoError(`every request was refused by the server (first: ${errors[0]!.error})`);
}

