// Prompts in DeepSeek-Math's evaluation formats. A few-shot prompt is the exemplar block followed by the
// query formatted with the same template, right-stripped (format_prompt(...).rstrip() in their code).
// Exemplars come from a prompt file (the ../shared/data/prompts JSON layout; its few_shot_prompt is used
// verbatim when all its exemplars are used) or are drawn from the train split with a seed.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataError, UsageError } from '../cli/errors.js';
import type { Benchmark, EvalItem } from './benchmarks.js';
import type { ExtractMode } from '../checker/extract.js';
import { pyLstrip, pyRstrip } from '../checker/deepseek.js';

export const STYLES = ['cot', 'pot', 'instruct', 'tool'] as const;
export type Style = (typeof STYLES)[number];

export const CHAT_TEMPLATES = ['none', 'deepseek', 'chatml', 'llama3'] as const;
export type ChatTemplate = (typeof CHAT_TEMPLATES)[number];

export interface PromptFile {
  name: string;
  template: string;
  stop_words: string[];
  exemplars: { question: string; answer: string }[];
  few_shot_prompt?: string;
}

/** Query templates and stops of the formats that can be built from train exemplars (DeepSeek-Math). */
export const BUILTIN_FORMATS: Record<string, Omit<PromptFile, 'exemplars'>> = {
  cot_gsm_8_shot: { name: 'cot_gsm_8_shot', template: '{few_shot_prompt}\n\n\nQ: {question}\nA: {answer}', stop_words: ['\nQ:'] },
  cot_minerva_math_4_shot: { name: 'cot_minerva_math_4_shot', template: '{few_shot_prompt}\n\nProblem:\n{question}\n\nSolution:\n{answer}', stop_words: ['\nProblem:'] },
};

const INSTRUCT: Record<'cot' | 'tool', Record<'en' | 'zh', string>> = {
  cot: {
    en: '{question}\nPlease reason step by step, and put your final answer within \\boxed{}.',
    zh: '{question}\n请通过逐步推理来解答问题，并把最终答案放置于\\boxed{}中。',
  },
  tool: {
    en: '{question}\nPlease integrate natural language reasoning with programs to solve the problem above, and put your final answer within \\boxed{}.',
    zh: '{question}\n请结合自然语言和Python程序语言来解答问题，并把最终答案放置于\\boxed{}中。',
  },
};

export interface BuiltPrompt {
  /** Text for a completions endpoint (chat template applied if any). */
  prompt: string;
  /** The user message, for a chat endpoint. */
  user: string;
  stop: string[];
  extract: ExtractMode;
}

export function loadPromptFile(path: string): PromptFile {
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new DataError(path, `cannot read prompt file: ${(e as Error).message}`);
  }
  const p = v as PromptFile;
  if (typeof p?.template !== 'string' || !p.template.includes('{question}') || !Array.isArray(p.exemplars)) {
    throw new DataError(path, 'not a prompt file: needs template (with {question}), exemplars[] and stop_words[]');
  }
  p.stop_words = Array.isArray(p.stop_words) ? p.stop_words : [];
  return p;
}

/** Separator and per-exemplar template: "{few_shot_prompt}\n\n\nQ: {question}\nA: {answer}" -> "\n\n\n", "Q: ...". */
export function splitTemplate(template: string): { sep: string; item: string } {
  const marker = '{few_shot_prompt}';
  const i = template.indexOf(marker);
  const rest = i >= 0 ? template.slice(i + marker.length) : template;
  const sep = /^\s*/.exec(rest)![0];
  return { sep, item: rest.slice(sep.length) };
}

function fill(t: string, q: string, a: string): string {
  // Function replacers: a question containing "$&" must not be interpreted.
  return t.replace('{question}', () => q).replace('{answer}', () => a);
}

/** A train solution as a few-shot answer in the format's own style. */
export function exemplarAnswer(format: string, item: EvalItem): string {
  const sol = (item.solution ?? '').trim();
  if (format === 'cot_gsm_8_shot') {
    const body = sol.replace(/<<[^>]*>>/g, '').replace(/\n?####.*$/s, '').trim();
    return `${body.replace(/\n/g, ' ')} The answer is ${item.gold}.`;
  }
  return `${sol}\nFinal Answer: The final answer is $${item.gold}$. I hope it is correct.`;
}

/** Draw k exemplars from train items with a seeded shuffle (skipping any with the same question as the query). */
export function drawExemplars(train: EvalItem[], k: number, seed: number, format: string): { question: string; answer: string }[] {
  let s = (seed >>> 0) ^ 0x9e3779b9;
  const rand = () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return s / 2 ** 32;
  };
  const idx = train.map((_, i) => i);
  for (let i = idx.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return idx.slice(0, k).map((i) => ({ question: train[i]!.question, answer: exemplarAnswer(format, train[i]!) }));
}

export function applyChatTemplate(tpl: ChatTemplate, user: string, system?: string): string {
  switch (tpl) {
    case 'none':
      return system ? `${system}\n\n${user}` : user;
    case 'deepseek':
      return `${system ? `${system}\n\n` : ''}User: ${user}\n\nAssistant:`;
    case 'chatml':
      return `${system ? `<|im_start|>system\n${system}<|im_end|>\n` : ''}<|im_start|>user\n${user}<|im_end|>\n<|im_start|>assistant\n`;
    case 'llama3':
      return `<|begin_of_text|>${system ? `<|start_header_id|>system<|end_header_id|>\n\n${system}<|eot_id|>` : ''}<|start_header_id|>user<|end_header_id|>\n\n${user}<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n`;
  }
}

export interface PromptOptions {
  style: Style;
  bench: Benchmark;
  /** Exemplar source for few-shot styles. */
  promptFile?: PromptFile;
  drawn?: { question: string; answer: string }[];
  chatTemplate: ChatTemplate;
  system?: string;
}

export class PromptBuilder {
  private readonly block: string = '';
  private readonly template: string = '';
  private readonly stops: string[] = [];

  constructor(private readonly o: PromptOptions) {
    if (o.style === 'cot' || o.style === 'pot') {
      const pf = o.promptFile;
      if (!pf) throw new UsageError('few-shot prompts need a prompt file (--prompts-dir or --prompt-file) or --exemplars train');
      this.template = pf.template;
      this.stops = pf.stop_words;
      const { sep, item } = splitTemplate(pf.template);
      if (o.drawn) this.block = o.drawn.map((e) => fill(item, e.question, e.answer)).join(sep);
      else this.block = pf.few_shot_prompt ?? pf.exemplars.map((e) => fill(item, e.question, e.answer)).join(sep);
    }
  }

  build(item: EvalItem): BuiltPrompt {
    const o = this.o;
    let user: string;
    let stop: string[] = [];
    if (o.style === 'instruct' || o.style === 'tool') {
      user = fill(INSTRUCT[o.style === 'tool' ? 'tool' : 'cot'][o.bench.lang], item.question, '');
      if (o.style === 'tool') stop = ['```output'];
    } else {
      // format_prompt(question, '').rstrip(), then .lstrip() (run_cot_eval.py), with Python's whitespace.
      user = pyLstrip(pyRstrip(fill(this.template.replace('{few_shot_prompt}', () => this.block), item.question, '')));
      stop = [...this.stops];
    }
    const extract: ExtractMode = o.bench.choice ? 'choice' : o.style === 'pot' ? 'none' : 'auto';
    return { prompt: applyChatTemplate(o.chatTemplate, user, o.system), user, stop, extract };
  }
}

/** The prompt file for a benchmark and style from a prompts directory, if present. */
export function findPromptFile(bench: Benchmark, style: Style, dir: string | undefined): PromptFile | undefined {
  const name = style === 'pot' ? bench.prompts.pot : bench.prompts.cot;
  if (!name) throw new UsageError(`benchmark ${bench.name} has no program-of-thought prompt`);
  if (dir) {
    const p = join(dir, `${name}.json`);
    if (existsSync(p)) return loadPromptFile(p);
  }
  return undefined;
}
