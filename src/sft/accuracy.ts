// Greedy accuracy on the validation split while training: each held-out conversation up to its last assistant turn
// is the prompt (rendered and tokenized as `sample --chat` does), the live model answers greedily through sample's
// Generator (one decoding batch; weights read as they are now), and the answer checker compares its answer with the
// gold: a --gold-field of the record ("#### 72" and \boxed{} read as `grade` reads them), else the answer in the
// reference turn itself. Program-of-thought and tool examples are left out: their answers come from running the
// program, which `eval run --style pot|tool` does.
import { DataError, inputsWhere } from '../cli/errors.js';
import { warn } from '../cli/log.js';
import { gradeResponse } from '../checker/index.js';
import { extractAnswer } from '../checker/extract.js';
import { goldAnswer } from '../grade/run.js';
import { newReadStats, readJsonl, reportSkipped } from '../jsonl/index.js';
import { Generator } from '../sample/generator.js';
import { NEUTRAL } from '../sample/sampling.js';
import type { LlamaModel } from '../train/model.js';
import type { Tokenizer } from '../tokenizer/index.js';
import type { Render } from './encode.js';
import { toConversation, type ExampleFields } from './examples.js';

export interface HeldOutQuestion {
  where: string;
  prompt: number[];
  gold: string;
}

/** The held-out questions with a gold answer; the rest are counted on stderr. */
export async function readHeldOut(path: string, fields: ExampleFields, goldField: string | undefined, render: Render, tok: Tokenizer, context: number, skipInvalid: boolean): Promise<HeldOutQuestion[]> {
  const stats = newReadStats();
  const out: HeldOutQuestion[] = [];
  const left = { program: 0, noGold: 0, long: 0 };
  for await (const rec of readJsonl([path], { skipInvalid, stats })) {
    let c;
    try {
      c = toConversation(rec, fields);
    } catch (e) {
      if (!(e instanceof DataError) || !skipInvalid) throw e;
      stats.skipped++;
      continue;
    }
    if (c.tag === 'pot' || c.tag === 'tool') {
      left.program++;
      continue;
    }
    const last = c.turns.map((t) => t.role).lastIndexOf('assistant');
    if (last < 0) {
      left.noGold++;
      continue;
    }
    const g = goldField !== undefined ? rec.value[goldField] : undefined;
    if (goldField !== undefined && typeof g !== 'string' && typeof g !== 'number') throw new DataError(c.where, `missing string or number field "${goldField}" (--gold-field)`);
    const gold = g !== undefined ? goldAnswer(String(g), 'auto') : extractAnswer(c.turns[last].content, 'auto');
    if (gold === null || gold === '') {
      left.noGold++;
      continue;
    }
    const prompt = tok.encode(render(c.turns.slice(0, last).map(({ role, content }) => ({ role, content })), true), { allowSpecial: true });
    if (prompt.length >= context) {
      left.long++;
      continue;
    }
    out.push({ where: c.where, prompt, gold });
  }
  reportSkipped(stats);
  if (left.program) warn(`--eval-accuracy: ${left.program} program-of-thought or tool examples of ${path} left out (their answers come from running the program: eval run --style pot|tool)`);
  if (left.noGold) warn(`--eval-accuracy: ${left.noGold} examples of ${path} without a gold answer left out${goldField === undefined ? ' (no answer found in the reference turn; name one with --gold-field)' : ''}`);
  if (left.long) warn(`--eval-accuracy: ${left.long} examples of ${path} whose prompt fills the context left out`);
  if (!out.length) throw new DataError(inputsWhere([path]), '--eval-accuracy-interval: no held-out question with a gold answer');
  return out;
}

/** Greedy answers of the live model, graded. */
export class HeldOutAccuracy {
  private readonly gen: Generator;

  constructor(
    model: LlamaModel,
    tok: Tokenizer,
    eosIds: number[],
    private readonly questions: HeldOutQuestion[],
    private readonly maxTokens: number,
    batchSize: number,
  ) {
    this.gen = new Generator(model, { batchSize, eosIds, tokenBytes: (id) => tok.tokenBytes(id) });
  }

  async run(): Promise<{ accuracy: number; correct: number; total: number; tokens: number }> {
    const params = { ...NEUTRAL, temperature: 0, maxTokens: this.maxTokens, seed: 0 };
    const outs = await Promise.all(this.questions.map((q, i) => this.gen.submit({ prompt: q.prompt, params, stream: i })));
    let correct = 0;
    let tokens = 0;
    outs.forEach(([s], i) => {
      tokens += s.tokens.length;
      try {
        if (gradeResponse(s.text, this.questions[i].gold).correct) correct++;
      } catch {
        // The checker failing on an answer counts it wrong, as grpo's reward does.
      }
    });
    return { accuracy: correct / this.questions.length, correct, total: this.questions.length, tokens };
  }
}
