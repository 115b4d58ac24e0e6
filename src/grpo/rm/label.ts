// Process labels without human annotators, as Math-Shepherd (Wang et al. 2024) makes them: cut a policy output into
// steps; from the prefix that ends with step k, roll out N completions with the policy; step k is good when any of
// them reaches the gold answer (the paper's hard estimate; `most`: more than half). The last step needs no rollouts:
// it is good when the output itself is right, which is also the outcome label. Rollouts run in this process on
// src/sample's Generator, all at once so it batches them; rollout j of step k of output i draws from RNG stream
// (seed, base + i * MAX_STEPS + k, j), so labels are a function of the seed.
import type { GradeOptions } from '../../checker/index.js';
import type { GeneratedSample, Generator } from '../../sample/generator.js';
import type { SamplingParams } from '../../sample/sampling.js';
import { stepEnds, stepTexts, type StepSeparator } from '../advantages.js';
import { ruleReward, type Question } from '../data.js';
import type { LabeledRecord } from './data.js';
import type { LabelRule } from './kinds.js';


/** Steps an output may have for distinct rollout streams. */
const MAX_STEPS = 4096;

/** A step's label from whether each rollout after it reached the gold answer. */
export function goodStep(reached: boolean[], rule: LabelRule): boolean {
  const n = reached.filter(Boolean).length;
  return rule === 'any' ? n > 0 : n * 2 > reached.length;
}

/** An output to label: its question and its tokens (without a stop token). */
export interface LabelItem {
  q: Question;
  tokens: number[];
}

export interface LabelSettings {
  /** Rollouts per step prefix (0: outcome labels only, no step labels). */
  rollouts: number;
  rule: LabelRule;
  sep: StepSeparator;
  /** Sampling of the rollouts: n of them. */
  sampling: (n: number) => SamplingParams;
  grade: GradeOptions;
  /** First RNG stream of this batch of outputs (callers keep batches apart). */
  streamBase: number;
}

/** The tokens of a sample that are its text: a stop token at the end is not (its text is not in the completion). */
export function contentTokens(s: GeneratedSample): number[] {
  return s.finishReason === 'stop' && typeof s.stopReason === 'number' ? s.tokens.slice(0, -1) : s.tokens;
}

const correct = (text: string, gold: string, grade: GradeOptions): boolean => ruleReward(text, gold, { correct: 1, format: 0 }, grade).correct;

/** Labeled records of the outputs (outputs without tokens are left out). */
export async function labelOutputs(gen: Generator, items: LabelItem[], bytesOf: (id: number) => Uint8Array, s: LabelSettings): Promise<LabeledRecord[]> {
  const cut = items
    .filter((it) => it.tokens.length)
    .map((it, i) => {
      const bytes = it.tokens.map(bytesOf);
      const ends = stepEnds(bytes, s.sep).slice(0, MAX_STEPS);
      return { it, i, ends, texts: stepTexts(bytes, ends) };
    });
  // Every step but the last, of every output: its rollouts, in one batch of requests.
  const reqs = cut.flatMap((c) =>
    s.rollouts > 0
      ? c.ends.slice(0, -1).map((e, k) => ({ c, k, done: gen.submit({ prompt: [...c.it.q.prompt, ...c.it.tokens.slice(0, e + 1)], params: s.sampling(s.rollouts), stream: s.streamBase + c.i * MAX_STEPS + k }) }))
      : [],
  );
  const rolled = await Promise.all(reqs.map((r) => r.done));
  const reached = new Map<string, boolean[]>();
  reqs.forEach((r, n) => {
    const prefix = r.c.texts.slice(0, r.k + 1).join('');
    reached.set(`${r.c.i}:${r.k}`, rolled[n].map((x) => correct(prefix + x.text, r.c.it.q.gold, s.grade)));
  });
  return cut.map((c) => {
    const completion = c.texts.join('');
    const right = correct(completion, c.it.q.gold, s.grade);
    const rec: LabeledRecord = { id: c.it.q.id, question: c.it.q.question, answer: c.it.q.gold, completion, steps: c.texts, label: right ? 1 : 0 };
    if (s.rollouts > 0) rec.step_labels = c.ends.map((_, k) => (k === c.ends.length - 1 ? rec.label : goodStep(reached.get(`${c.i}:${k}`)!, s.rule) ? 1 : 0));
    return rec;
  });
}
