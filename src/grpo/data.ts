// GRPO's input: questions with gold answers (JSONL, fields named as `eval --input` names them), turned into prompt
// token ids once, with the chat template or a plain prompt template; and the reward of an output from the answer
// checker.
import { DataError, inputsWhere } from '../cli/errors.js';
import { newReadStats, readJsonl, recordWhere, reportSkipped, type JsonlRecord } from '../jsonl/index.js';
import { gradeResponse, type GradeOptions } from '../checker/index.js';
import { goldAnswer } from '../grade/run.js';
import type { ExtractMode } from '../checker/extract.js';
import type { ChatFormat } from '../sample/chat.js';
import type { Tokenizer } from '../tokenizer/index.js';
import { generationEos } from '../sample/load.js';

export interface Question {
  /** file:line (id X) of the record, for messages. */
  where: string;
  id: string;
  question: string;
  /** The gold answer as the checker compares it ("#### 72" and \boxed{} already read). */
  gold: string;
  prompt: number[];
}

export interface PromptFormat {
  /** The prompt text around the question: "{question}" is replaced by it. */
  template: string;
  /** Render as one user turn (after an optional system turn) with the chat template. */
  chat?: ChatFormat;
  system?: string;
  /** Prepend BOS to plain prompts. */
  bos: boolean;
}

export interface QuestionFields {
  question: string;
  answer: string;
  goldExtract: 'auto' | ExtractMode;
}

/** Prompt token ids for a question. */
export function promptIds(question: string, f: PromptFormat, tok: Tokenizer): number[] {
  const text = f.template.split('{question}').join(question);
  if (f.chat) {
    const messages = [...(f.system !== undefined ? [{ role: 'system', content: f.system }] : []), { role: 'user', content: text }];
    return tok.encode(f.chat.render(messages), { allowSpecial: true });
  }
  const ids = tok.encode(text);
  return f.bos ? [tok.bos, ...ids] : ids;
}

/** A question record (file:line in errors) as a Question with its prompt ids. */
export function toQuestion(rec: JsonlRecord, fields: QuestionFields, format: PromptFormat, tok: Tokenizer, context: number, index: number): Question {
  const where = recordWhere(rec);
  const q = rec.value[fields.question];
  if (typeof q !== 'string') throw new DataError(where, q === undefined ? `missing field "${fields.question}" (the question; name it with --question-field)` : `field "${fields.question}" is not a string`);
  const a = rec.value[fields.answer];
  const goldText = typeof a === 'number' ? String(a) : a;
  if (typeof goldText !== 'string') throw new DataError(where, a === undefined ? `missing field "${fields.answer}" (the gold answer; name it with --answer-field)` : `field "${fields.answer}" is not a string or number`);
  const gold = goldAnswer(goldText, fields.goldExtract);
  if (gold === null || gold === '') throw new DataError(where, `no gold answer in field "${fields.answer}" (--gold-extract ${fields.goldExtract})`);
  let prompt: number[];
  try {
    prompt = promptIds(q, format, tok);
  } catch (e) {
    throw new DataError(where, `chat template (${format.chat?.source}): ${(e as Error).message}`);
  }
  if (!prompt.length) throw new DataError(where, 'the prompt is empty');
  if (prompt.length >= context) throw new DataError(where, `the prompt has ${prompt.length} tokens, leaving no room in the model's context of ${context}`);
  const id = rec.value.id;
  return { where, id: typeof id === 'string' || typeof id === 'number' ? String(id) : String(index), question: q, gold, prompt };
}

/** Every question of the inputs (held in memory: a GRPO set is thousands of questions, not millions). */
export async function readQuestions(paths: string[], fields: QuestionFields, format: PromptFormat, tok: Tokenizer, context: number, skipInvalid: boolean): Promise<Question[]> {
  const stats = newReadStats();
  const out: Question[] = [];
  for await (const rec of readJsonl(paths, { skipInvalid, stats })) {
    try {
      out.push(toQuestion(rec, fields, format, tok, context, out.length));
    } catch (e) {
      if (!(e instanceof DataError) || !skipInvalid) throw e;
      stats.skipped++;
    }
  }
  reportSkipped(stats);
  if (!out.length) throw new DataError(inputsWhere(paths), 'no questions');
  return out;
}

export interface Reward {
  /** The weighted reward, or null when the checker failed on this output (it is then left out). */
  reward: number | null;
  correct: boolean;
  /** An answer could be extracted. */
  formatted: boolean;
  /** The extracted answer. */
  pred: string | null;
}

/** Rule-based reward: correct_weight * [checker accepts] + format_weight * [an answer was extracted]. */
export function ruleReward(text: string, gold: string, w: { correct: number; format: number }, opts: GradeOptions): Reward {
  try {
    const g = gradeResponse(text, gold, opts);
    const formatted = g.pred !== null;
    return { reward: w.correct * (g.correct ? 1 : 0) + w.format * (formatted ? 1 : 0), correct: g.correct, formatted, pred: g.pred };
  } catch {
    return { reward: null, correct: false, formatted: false, pred: null };
  }
}

/** The end-of-sequence ids of a checkpoint: its tokenizer's, generation_config.json's, a chat format's. */
export function eosIds(dir: string, tok: Tokenizer, chat: ChatFormat | undefined): number[] {
  const chatIds = chat ? [...chat.stopIds, ...(tok.chat ? [tok.chat.end_of_turn] : [])] : [];
  return [...new Set([tok.eos, ...generationEos(dir), ...chatIds])];
}
