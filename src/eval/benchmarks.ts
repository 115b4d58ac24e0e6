// Benchmarks: where each one lives (relative to --data-dir, the layout of ../shared/data/benchmarks, and
// its canonical public URL pinned to a commit with the sha256 of the file), and how a record becomes an
// eval item (question, gold answer, subject, level).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../cli/errors.js';
import { readAllJsonl, recordWhere, type Json, type JsonObject, type JsonlRecord } from '../jsonl/index.js';
import { DataError, at } from '../cli/errors.js';
import { allBoxed } from '../checker/extract.js';
import { sameAnswer } from '../checker/equal.js';
import { deepseekGold, pyRstrip, pyStrip, stripString, dsExtractMathAnswer } from '../checker/deepseek.js';

export interface EvalItem {
  id: string;
  question: string;
  /** The gold answer (already extracted: "18", "\\frac{1}{2}", "B"). */
  gold: string;
  subject?: string;
  level?: string;
  /** Full reference solution when the benchmark has one (used to build exemplars from train). */
  solution?: string;
  /** Other answers that are also right (a MATH solution that accepts either of two boxes). */
  alternatives?: string[];
  /** The order of a list answer matters (cloze blanks, "from least to greatest"). */
  ordered?: boolean;
  /** The gold as DeepSeek-Math's data processing builds it (for --extract deepseek). */
  deepseekGold?: string | string[];
}

export interface SplitFile {
  path: string;
  url?: string;
  sha256?: string;
}

export interface Benchmark {
  name: string;
  splits: Record<string, SplitFile>;
  /** Split to draw few-shot exemplars from (`--exemplars train`). */
  trainBench?: string;
  /** Prompt files (names in the prompts layout) per style. */
  prompts: { cot: string; pot?: string };
  /** Language of the zero-shot instruct template. */
  lang: 'en' | 'zh';
  /** Multiple choice: answers are letters. */
  choice?: boolean;
  toItem(rec: JsonlRecord, index: number): EvalItem;
}

const DS = 'https://raw.githubusercontent.com/deepseek-ai/DeepSeek-Math/b8b0f8ce093d80bf8e9a641e44142f06d092c305/evaluation/datasets';
const GSM = 'https://raw.githubusercontent.com/openai/grade-school-math/3101c7d5072418e28b9008a6636bde82a006892c/grade_school_math/data';

function str(rec: JsonlRecord, field: string): string {
  const v = rec.value[field];
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  throw new DataError(recordWhere(rec), v === undefined ? `missing field "${field}"` : `field "${field}" is not a string`);
}

function optStr(v: Json | undefined): string | undefined {
  return typeof v === 'string' || typeof v === 'number' ? String(v) : undefined;
}

function gsmGold(rec: JsonlRecord): string {
  const a = str(rec, 'answer');
  const i = a.lastIndexOf('####');
  if (i < 0) throw new DataError(recordWhere(rec), 'GSM8K answer has no "#### N" line');
  return a.slice(i + 4).trim().replace(/,/g, '');
}

const CHOICE_INSTRUCTION = 'What of the following is the right choice? Explain your answer.';

/** Python's str() of an option as DeepSeek's loader reads it: a bare NaN in the file (read here as null) is "nan". */
function pyStr(v: Json | undefined): string {
  if (v === null || v === undefined) return 'nan';
  return String(v);
}

/** MMLU-STEM as DeepSeek's process_mmlu_stem writes it: the first four options "(A) text" (stripped), joined with ", ". */
function mmluQuestion(rec: JsonlRecord): string {
  const opts = Array.isArray(rec.value.options) ? rec.value.options.map(pyStr) : [];
  const labelled = opts.map((o, k) => (k < 4 ? `(${'ABCD'[k]}) ${pyStrip(o)}` : o));
  return `${pyStrip(str(rec, 'question'))}\n${CHOICE_INSTRUCTION}\n${labelled.join(', ')}`;
}

/** SAT as DeepSeek's process_math_sat writes it: "A) x B) y" becomes "(A) x (B) y". */
function satQuestion(rec: JsonlRecord): string {
  let options = pyStrip(str(rec, 'options'));
  if (!options.startsWith('A')) throw new DataError(recordWhere(rec), 'SAT options must start with "A)"');
  options = '(' + options;
  for (const ch of 'BCDEFG') options = options.split(` ${ch}) `).join(` (${ch}) `);
  return `${pyStrip(str(rec, 'question'))}\n${CHOICE_INSTRUCTION}\n${pyStrip(options)}`;
}

/** Gaokao-MathQA as DeepSeek's few-shot loader writes it: the question without its trailing "\\", then the options. */
function gaokaoQaQuestion(rec: JsonlRecord): string {
  const opts = Array.isArray(rec.value.options) ? rec.value.options.map((o) => pyStrip(String(o))).join(' ') : '';
  return `${pyRstrip(pyStrip(str(rec, 'question')), '\\')}\n从以下选项中选择:    ${opts}`;
}

const ALL_ANSWERS = /separated by commas|enter all|all (?:the )?(?:possible |real |integer |complex )*(?:solutions|values|roots|angles)|find all/i;
const ONE_ANSWER = /\bone of\b|\beither\b|only one/i;
const ALSO_ACCEPTED = /also (?:an? )?(?:accepted|acceptable|correct)|either point is/i;
const ORDER = /in (?:increasing|decreasing|ascending|descending) order|from (?:least|smallest|lowest) to (?:greatest|largest|highest)|from (?:greatest|largest|highest) to (?:least|smallest|lowest)/i;

/**
 * The gold of a MATH problem. The dataset's answer is the last box of the solution; where the solution boxes
 * several different answers that is wrong (algebra/1878 boxes -2 and 1 for "find all solutions"): a question
 * that asks for all of them gets them all as a list, one that asks for one of them ("Enter only one", or a
 * solution that says another "is also accepted") accepts any. Boxes that are the same answer written twice
 * count once; a problem that uses \boxed itself keeps the dataset's answer.
 */
export function mathGold(problem: string, solution: string | undefined, answer: string): { gold: string; alternatives?: string[]; ordered?: boolean } {
  const ordered = ORDER.test(problem) || undefined;
  if (!solution || problem.includes('\\boxed')) return { gold: answer, ordered };
  const boxes: string[] = [];
  for (const b of allBoxed(solution)) if (!boxes.some((x) => sameAnswer(x, b))) boxes.push(b);
  if (boxes.length < 2) return { gold: answer, ordered };
  if (ONE_ANSWER.test(problem) || ALSO_ACCEPTED.test(solution)) {
    const others = boxes.filter((b) => !sameAnswer(b, answer));
    return { gold: answer, alternatives: others, ordered };
  }
  if (ALL_ANSWERS.test(problem)) return { gold: boxes.join(', '), ordered };
  return { gold: answer, ordered };
}

function mathItem(rec: JsonlRecord, id: string, subject: string | undefined, level: string | undefined): EvalItem {
  const problem = str(rec, 'problem');
  const solution = optStr(rec.value.solution);
  const g = mathGold(problem, solution, str(rec, 'answer'));
  return {
    id,
    question: problem,
    gold: g.gold,
    ...(g.alternatives?.length ? { alternatives: g.alternatives } : {}),
    ...(g.ordered ? { ordered: true } : {}),
    subject,
    level,
    solution,
    deepseekGold: solution ? dsExtractMathAnswer(problem, solution) : [stripString(str(rec, 'answer'))],
  };
}

export const BENCHMARKS: Record<string, Benchmark> = {
  gsm8k: {
    name: 'gsm8k',
    splits: {
      test: { path: 'gsm8k/test.jsonl', url: `${GSM}/test.jsonl`, sha256: '3730d312f6e3440559ace48831e51066acaca737f6eabec99bccb9e4b3c39d14' },
      train: { path: 'gsm8k/train.jsonl', url: `${GSM}/train.jsonl`, sha256: '17f347dc51477c50d4efb83959dbb7c56297aba886e5544ee2aaed3024813465' },
    },
    trainBench: 'gsm8k',
    prompts: { cot: 'cot_gsm_8_shot', pot: 'pal_gsm_8_shot' },
    lang: 'en',
    toItem: (rec, k) => {
      const sol = str(rec, 'answer');
      const gold = gsmGold(rec);
      return { id: optStr(rec.value.id) ?? `gsm8k-${k}`, question: str(rec, 'question'), gold, solution: sol, deepseekGold: gold };
    },
  },
  math: {
    name: 'math',
    splits: { test: { path: 'math/test.jsonl' }, train: { path: 'math/train.jsonl' } },
    trainBench: 'math',
    prompts: { cot: 'cot_minerva_math_4_shot', pot: 'pal_math_4_shot' },
    lang: 'en',
    toItem: (rec, k) => mathItem(rec, optStr(rec.value.unique_id) ?? `math-${k}`, optStr(rec.value.type), optStr(rec.value.level)?.replace(/^Level\s*/, '')),
  },
  math500: {
    name: 'math500',
    splits: {
      test: {
        path: 'math500/test.jsonl',
        url: 'https://raw.githubusercontent.com/MobileLLM/BudgetThinker/f0466b9d37595f46603387baa5930e312fefb7f5/evaluation/data/math500/test_ori.jsonl',
        sha256: '35dc41080a3680858b27fa7e0533d2d547825316fc5dafe5d316f4ccc5a06132',
      },
    },
    trainBench: 'math',
    prompts: { cot: 'cot_minerva_math_4_shot', pot: 'pal_math_4_shot' },
    lang: 'en',
    toItem: (rec, k) => mathItem(rec, optStr(rec.value.unique_id) ?? `math500-${k}`, optStr(rec.value.subject), optStr(rec.value.level)),
  },
  cmath: {
    name: 'cmath',
    splits: { test: { path: 'cmath/test.jsonl', url: `${DS}/cmath/test.jsonl`, sha256: 'cabe17c127c3227912b3384f4755e180f3aa0d9e5865677e7e5e223439bf15eb' } },
    prompts: { cot: 'cot_cmath_6_shot' },
    lang: 'zh',
    toItem: (rec, k) => ({
      id: `cmath-${k}`,
      question: pyStrip(str(rec, 'question')),
      gold: str(rec, 'golden'),
      level: optStr(rec.value.grade),
      deepseekGold: deepseekGold('cmath-cot', str(rec, 'golden')),
    }),
  },
  mgsm_zh: {
    name: 'mgsm_zh',
    splits: { test: { path: 'mgsm_zh/mgsm_zh.jsonl', url: `${DS}/mgsm_zh/mgsm_zh.jsonl`, sha256: '165c3b6753e8a8786183c27b9af7b7590d54dca4d0136edadb24d684c95bb50d' } },
    prompts: { cot: 'cot_cmath_6_shot' },
    lang: 'zh',
    toItem: (rec, k) => {
      const msgs = rec.value.messages;
      const user = Array.isArray(msgs) ? (msgs as JsonObject[]).find((m) => m.role === 'user') : undefined;
      if (!user || typeof user.content !== 'string') throw new DataError(recordWhere(rec), 'no user message');
      // DeepSeek has no few-shot MGSM-zh: mathpipe asks it in CMATH's 6-shot format, with CMATH's loader rule
      // (the question stripped) and CMATH's answer extraction; the gold is process_mgsm_zh's (commas removed).
      const gold = str(rec, 'answer');
      return { id: `mgsm_zh-${optStr(rec.value.id) ?? k}`, question: pyStrip(user.content), gold, deepseekGold: gold.split(',').join('') };
    },
  },
  'gaokao-mathcloze': {
    name: 'gaokao-mathcloze',
    splits: { test: { path: 'agieval/gaokao-mathcloze.jsonl', url: `${DS}/agieval/gaokao-mathcloze.jsonl`, sha256: '088675c147794970a3ed25c7147a3bbc59715d6813837d5f483f46dcb1b5008d' } },
    prompts: { cot: 'cot_gaokao_mathcloze_5_shot' },
    lang: 'zh',
    toItem: (rec, k) => ({
      id: `gaokao-mathcloze-${k}`,
      question: pyStrip(str(rec, 'question')),
      gold: str(rec, 'answer'),
      // The blanks are in order: "$5$;$10$" is a = 5, then b = 10.
      ordered: true,
      deepseekGold: deepseekGold('gaokao-mathcloze', str(rec, 'answer')),
    }),
  },
  'gaokao-mathqa': {
    name: 'gaokao-mathqa',
    splits: { test: { path: 'agieval/gaokao-mathqa.jsonl', url: `${DS}/agieval/gaokao-mathqa.jsonl`, sha256: 'd246f12752d121289ef55cbf1bcf954243cefb65d110f71d09358e24065c808f' } },
    prompts: { cot: 'cot_gaokao_mathqa_5_shot' },
    lang: 'zh',
    choice: true,
    toItem: (rec, k) => ({ id: `gaokao-mathqa-${k}`, question: gaokaoQaQuestion(rec), gold: str(rec, 'label'), deepseekGold: str(rec, 'label') }),
  },
  sat: {
    name: 'sat',
    splits: { test: { path: 'sat/test.jsonl', url: `${DS}/sat/test.jsonl`, sha256: '96720a1dc496ea72f80db55250290cf9c48e95b657ac2183b7deb1dc4627351f' } },
    prompts: { cot: 'cot_math_sat_4_shot' },
    lang: 'en',
    choice: true,
    toItem: (rec, k) => ({
      id: `sat-${optStr(rec.value.id) ?? k}`,
      question: satQuestion(rec),
      gold: str(rec, 'Answer'),
      deepseekGold: str(rec, 'Answer'),
    }),
  },
  ocw: {
    name: 'ocw',
    splits: { test: { path: 'ocw/test.jsonl', url: `${DS}/ocw/test.jsonl`, sha256: '095ba49696fcd401474a5014e2fae5e6b0b8ec1939d8dded0343fcbdb0bf1a9b' } },
    prompts: { cot: 'cot_ocwcourses_4_shot' },
    lang: 'en',
    toItem: (rec, k) => ({
      id: `ocw-${optStr(rec.value.id) ?? k}`,
      question: pyStrip(str(rec, 'problem')),
      gold: str(rec, 'answer'),
      solution: optStr(rec.value.solution),
      deepseekGold: str(rec, 'answer'),
    }),
  },
  mmlu_stem: {
    name: 'mmlu_stem',
    splits: { test: { path: 'mmlu_stem/test.jsonl', url: `${DS}/mmlu_stem/test.jsonl`, sha256: '1c918d1df6de635a0202c989705c34f19b0c4ad858cbdb27135cdfc7fd44f14a' } },
    prompts: { cot: 'cot_mmlu_stem_4_shot' },
    lang: 'en',
    choice: true,
    toItem: (rec, k) => ({
      id: `mmlu_stem-${optStr(rec.value.id) ?? k}`,
      question: mmluQuestion(rec),
      gold: str(rec, 'answer'),
      subject: optStr(rec.value.topic),
      deepseekGold: str(rec, 'answer'),
    }),
  },
};

export function benchmark(name: string): Benchmark {
  const b = BENCHMARKS[name];
  if (!b) throw new UsageError(`unknown benchmark "${name}" (known: ${Object.keys(BENCHMARKS).join(', ')})`);
  return b;
}

export function splitFile(b: Benchmark, split: string): SplitFile {
  const f = b.splits[split];
  if (!f) throw new UsageError(`benchmark ${b.name} has no split "${split}" (has: ${Object.keys(b.splits).join(', ')})`);
  return f;
}

/** Load a benchmark split from a data directory (the ../shared/data/benchmarks layout or a fetch cache). */
export async function loadBenchmark(b: Benchmark, split: string, dataDir: string): Promise<EvalItem[]> {
  const f = splitFile(b, split);
  const path = join(dataDir, f.path);
  if (!existsSync(path)) {
    const hint = f.url ? `run: mathpipe eval fetch ${b.name} --split ${split} --cache-dir ${dataDir}` : 'this benchmark is not downloadable; point --data-dir at a copy';
    throw new UsageError(`${path} not found (${hint})`);
  }
  return readBenchmarkFile(path).map((r, k) => b.toItem(r, k));
}

/**
 * A benchmark file, read whole. Some were written by Python's json.dumps and hold bare NaN (MMLU-STEM's
 * options): those become null instead of failing the file.
 */
export function readBenchmarkFile(path: string): JsonlRecord[] {
  const out: JsonlRecord[] = [];
  readFileSync(path, 'utf8').split('\n').forEach((text, i) => {
    const raw = text.replace(/\r$/, '');
    if (raw.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (e) {
      try {
        value = JSON.parse(raw.replace(/([[,:]\s*)(?:NaN|-?Infinity)(?=\s*[,\]}])/g, '$1null'));
      } catch {
        throw new DataError(at(path, i + 1), `invalid JSON (${(e as Error).message})`);
      }
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new DataError(at(path, i + 1), 'expected a JSON object');
    out.push({ value: value as JsonObject, raw, file: path, line: i + 1 });
  });
  return out;
}

/** Items from a user's own JSONL: question and answer fields by name. */
export async function loadCustom(path: string, questionField: string, answerField: string): Promise<EvalItem[]> {
  const recs = await readAllJsonl([path]);
  return recs.map((r, k) => {
    const id = optStr(r.value.id) ?? String(k);
    let gold = str(r, answerField);
    const hash = gold.lastIndexOf('####');
    if (hash >= 0) gold = gold.slice(hash + 4).trim();
    return { id, question: str(r, questionField), gold, subject: optStr(r.value.subject ?? r.value.type), level: optStr(r.value.level) };
  });
}
