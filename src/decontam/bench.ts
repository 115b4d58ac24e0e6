// Benchmark files -> texts to index. Every benchmark item gives one text per field (question and
// solution are indexed separately, as the rule is stated per text). Field defaults cover the layouts in
// ../shared/data/benchmarks; --fields replaces them for all files.
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { DataError, IoError, at } from '../cli/errors.js';
import { readLineBatches, type Json, type JsonObject } from '../jsonl/index.js';
import { IndexBuilder } from './build.js';
import type { NgramIndex } from './ngram-index.js';
import { loadStopSet } from './stopset.js';

/** Question-side and worked-solution fields, always indexed when present. */
export const DEFAULT_FIELDS = [
  'question', // GSM8K, CMATH, AGIEval, SAT, MMLU-STEM, MARIO
  'problem', // MATH, MATH-500, OCW
  'passage', // AGIEval
  'messages', // MGSM-zh (chat turns; each turn's "content")
  'solution', // MATH, MATH-500, OCW
  'cot', // GSM8K (DeepSeek copy)
  'informal_statement', // miniF2F
  'informal_proof', // miniF2F
];
/**
 * Final-answer fields, indexed only when the item has no worked solution: a final answer is part of
 * its solution, and on its own ("x^2+2x+1") it is a common expression, not a sign of contamination.
 * For GSM8K, "answer" is the whole rationale, so it is indexed.
 */
export const ANSWER_FIELDS = ['answer', 'golden'];
const SOLUTION_FIELDS = ['solution', 'cot', 'informal_proof'];
const ID_FIELDS = ['unique_id', 'id', 'problem_name', 'index', 'idx'];

export interface BenchOptions {
  /** Replaces DEFAULT_FIELDS + ANSWER_FIELDS for every file. */
  fields?: string[];
  idField?: string;
  /** Sequences in this many distinct items or more are not evidence (build.ts; 0: no limit). */
  maxItems?: number;
  /** Stoplist files, "builtin" (the default) or "none". */
  stoplist?: string[];
}

/** "gsm8k/test" for .../gsm8k/test.jsonl; "mgsm_zh" for .../mgsm_zh/mgsm_zh.jsonl; "cmath" for ./cmath.jsonl. */
export function benchName(path: string): string {
  const stem = basename(path).replace(/\.(jsonl|json)(\.gz)?$/i, '');
  const dir = basename(dirname(path));
  return !dir || dir === '.' || dir === stem ? stem : `${dir}/${stem}`;
}

/** A --bench argument: "FILE" or "NAME=FILE" (an existing file whose name holds "=" is taken as a file). */
export function parseBenchArg(arg: string): { name?: string; path: string } {
  const eq = arg.indexOf('=');
  if (eq > 0 && !existsSync(arg)) return { name: arg.slice(0, eq), path: arg.slice(eq + 1) };
  return { path: arg };
}

/** The strings of one field: a string, or each string / {content} of an array (chat messages, options). */
function fieldTexts(v: Json | undefined): string[] {
  if (typeof v === 'string') return [v];
  if (!Array.isArray(v)) return [];
  const out: string[] = [];
  for (const e of v) {
    if (typeof e === 'string') out.push(e);
    else if (e && typeof e === 'object' && !Array.isArray(e) && typeof e.content === 'string') out.push(e.content);
  }
  return out;
}

function itemId(rec: JsonObject, line: number, idField?: string): string {
  for (const f of idField ? [idField] : ID_FIELDS) {
    const v = rec[f];
    if (typeof v === 'string' || typeof v === 'number') return String(v);
  }
  return `line ${line}`;
}

interface Item {
  value: JsonObject;
  where: string;
  line: number;
}

async function readItems(path: string): Promise<Item[]> {
  if (/\.json$/i.test(path)) {
    // A JSON array of items (e.g. MARIO's MATH annotation file); "line" is then the array position.
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(path, 'utf8'));
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code) throw new IoError(`cannot read ${path}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
      throw new DataError(path, `invalid JSON (${err.message})`);
    }
    if (!Array.isArray(data)) throw new DataError(path, 'expected a JSON array of benchmark items (or use .jsonl)');
    return data.map((v, i) => {
      if (!v || typeof v !== 'object' || Array.isArray(v)) throw new DataError(`${path}[${i}]`, 'expected a JSON object');
      return { value: v as JsonObject, where: `${path}[${i}]`, line: i + 1 };
    });
  }
  const items: Item[] = [];
  for await (const batch of readLineBatches([path])) {
    for (const l of batch) {
      const where = at(l.file, l.line);
      const v = parseLenient(l.text, where);
      if (!v || typeof v !== 'object' || Array.isArray(v)) throw new DataError(where, 'expected a JSON object');
      items.push({ value: v as JsonObject, where, line: l.line });
    }
  }
  return items;
}

// Benchmark files written by Python's json module may hold bare NaN / Infinity (MMLU-STEM and OCW
// do): those tokens, outside strings, are read as null. Corpus input stays strict JSON.
const PY_TOKENS = /"(?:[^"\\]|\\.)*"|-?\b(?:NaN|Infinity)\b/g;

function parseLenient(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    try {
      return JSON.parse(text.replace(PY_TOKENS, (m) => (m.startsWith('"') ? m : 'null')));
    } catch {
      throw new DataError(where, `invalid JSON (${(e as Error).message})`);
    }
  }
}

/** Index the benchmark files, in order. An n-gram shared by several texts points at the first. */
export async function buildIndex(args: string[], n: number, opts: BenchOptions = {}): Promise<NgramIndex> {
  const builder = new IndexBuilder(n, { maxItems: opts.maxItems, stop: await loadStopSet(n, opts.stoplist) });
  const names = new Set<string>();
  for (const arg of args) {
    const { name: given, path } = parseBenchArg(arg);
    const base = given ?? benchName(path);
    let name = base;
    for (let k = 2; names.has(name); k++) name = `${base}#${k}`;
    names.add(name);
    const bench = builder.addBenchmark({ name, file: path, fields: [], items: 0 });
    const info = builder.index.benchmarks[bench];
    const used = new Set<string>();
    for (const { value, where, line } of await readItems(path)) {
      const fields = opts.fields ?? defaultFields(value);
      // A named id field that is missing is a typo or the wrong file, not a reason to fall back to line numbers.
      if (opts.idField && typeof value[opts.idField] !== 'string' && typeof value[opts.idField] !== 'number') {
        throw new DataError(where, `no id field "${opts.idField}" (a string or number) in this item`);
      }
      const id = itemId(value, line, opts.idField);
      let group = -1;
      for (const f of fields) {
        const texts = fieldTexts(value[f]);
        if (texts.length) used.add(f);
        for (const t of texts) {
          // Items are told apart by their first text (the question): the same question in two files is one item.
          if (group < 0) group = builder.group(t);
          builder.add(t, bench, id, f, group, ANSWER_FIELDS.includes(f));
        }
      }
      if (group < 0) {
        const wanted = opts.fields ?? [...DEFAULT_FIELDS, ...ANSWER_FIELDS];
        throw new DataError(where, `no benchmark text in fields ${wanted.join(', ')} (choose fields with --fields)`);
      }
      info.items++;
    }
    // An empty benchmark file (a failed download, a wrong path glob) would make every document "clean".
    if (!info.items) throw new DataError(path, 'no benchmark items (the file is empty)');
    info.fields = [...used];
  }
  return builder.finish();
}

function defaultFields(rec: JsonObject): string[] {
  const solved = SOLUTION_FIELDS.some((f) => typeof rec[f] === 'string');
  return solved ? DEFAULT_FIELDS : [...DEFAULT_FIELDS, ...ANSWER_FIELDS];
}
