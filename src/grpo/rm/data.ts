// Labeled outputs for reward-model training, as `grpo rm label` writes them and `grpo rm train` reads them:
//   {"id", "question", "answer", "completion", "steps": ["step 1 text", ...], "step_labels": [1, 0, ...], "label": 1}
// An outcome model (ORM) reads "label" (is the response right: 1/0 or true/false) at the response's last token; a
// process model (PRM) reads "step_labels" at each step's last token. "steps" are the completion cut into steps
// (each with its separator); without them the completion is cut as the process advantages cut outputs.
// And the replay of iterative RL: fresh labels with a fixed fraction of historical ones mixed in.
import { DataError, inputsWhere } from '../../cli/errors.js';
import { newReadStats, readJsonl, recordWhere, reportSkipped, type JsonlRecord } from '../../jsonl/index.js';
import type { Rng } from '../../util/rng.js';
import type { Tokenizer } from '../../tokenizer/index.js';
import { stepEnds, type StepSeparator } from '../advantages.js';
import { promptIds, type PromptFormat } from '../data.js';
import type { RmKind } from './kinds.js';

/** One labeled output, as written. */
export interface LabeledRecord {
  id: string;
  question: string;
  answer: string;
  completion: string;
  steps: string[];
  step_labels?: number[];
  label: number;
}

/** A training example: the token ids, where the score is read, and the label there. */
export interface RmExample {
  where: string;
  ids: number[];
  at: number[];
  labels: number[];
}

function label01(v: unknown, what: string, where: string): number {
  if (v === true || v === 1) return 1;
  if (v === false || v === 0) return 0;
  throw new DataError(where, `${what} must be 1/0 or true/false, got ${JSON.stringify(v)?.slice(0, 40)}`);
}

/** Token ids of a completion and the index of each step's last token (steps tokenized one by one when given). */
function completionTokens(rec: Record<string, unknown>, where: string, tok: Tokenizer, sep: StepSeparator): { ids: number[]; ends: number[] } {
  const steps = rec.steps;
  if (steps !== undefined) {
    if (!Array.isArray(steps) || !steps.length || !steps.every((s) => typeof s === 'string')) throw new DataError(where, '"steps" must be a non-empty list of strings');
    const ids: number[] = [];
    const ends: number[] = [];
    for (const s of steps as string[]) {
      ids.push(...tok.encode(s));
      if (!ids.length || (ends.length && ends[ends.length - 1] === ids.length - 1)) throw new DataError(where, 'a step without tokens (an empty string in "steps")');
      ends.push(ids.length - 1);
    }
    return { ids, ends };
  }
  const c = rec.completion;
  if (typeof c !== 'string') throw new DataError(where, c === undefined ? 'missing field "completion" (or "steps")' : '"completion" is not a string');
  const ids = tok.encode(c);
  if (!ids.length) throw new DataError(where, 'the completion is empty');
  return { ids, ends: stepEnds(ids.map((i) => tok.tokenBytes(i)), sep) };
}

/** A labeled record as a training example of a `kind` model. */
export function toExample(rec: JsonlRecord, kind: RmKind, o: { questionField: string; format: PromptFormat; tok: Tokenizer; sep: StepSeparator; context: number }): RmExample {
  const where = recordWhere(rec);
  const v = rec.value as Record<string, unknown>;
  const q = v[o.questionField];
  if (typeof q !== 'string') throw new DataError(where, q === undefined ? `missing field "${o.questionField}" (the question; name it with --question-field)` : `field "${o.questionField}" is not a string`);
  const prompt = promptIds(q, o.format, o.tok);
  const { ids, ends } = completionTokens(v, where, o.tok, o.sep);
  let at: number[];
  let labels: number[];
  if (kind === 'orm') {
    if (v.label === undefined) throw new DataError(where, 'missing field "label" (1 when the response is right; an ORM trains on it)');
    at = [ends[ends.length - 1]];
    labels = [label01(v.label, '"label"', where)];
  } else {
    const sl = v.step_labels;
    if (!Array.isArray(sl)) throw new DataError(where, 'missing field "step_labels" (one 1/0 per step; a PRM trains on them)');
    if (sl.length !== ends.length) throw new DataError(where, `${sl.length} step labels for ${ends.length} steps${v.steps === undefined ? ' (the completion cut at the step separator; give "steps" to cut it yourself)' : ''}`);
    at = ends;
    labels = sl.map((x, i) => label01(x, `step_labels[${i}]`, where));
  }
  const all = [...prompt, ...ids];
  if (all.length > o.context) throw new DataError(where, `${all.length} tokens (prompt and completion) exceed the model's context of ${o.context}`);
  return { where, ids: all, at: at.map((e) => prompt.length + e), labels };
}

/** Every labeled example of the inputs. */
export async function readLabeled(paths: string[], kind: RmKind, o: Parameters<typeof toExample>[2] & { skipInvalid: boolean }): Promise<RmExample[]> {
  const stats = newReadStats();
  const out: RmExample[] = [];
  for await (const rec of readJsonl(paths, { skipInvalid: o.skipInvalid, stats })) {
    try {
      out.push(toExample(rec, kind, o));
    } catch (e) {
      if (!(e instanceof DataError) || !o.skipInvalid) throw e;
      stats.skipped++;
    }
  }
  reportSkipped(stats);
  if (!out.length) throw new DataError(inputsWhere(paths), 'no labeled outputs');
  return out;
}

/**
 * Fresh examples with historical ones replayed: h = round(fraction x n / (1 - fraction)) of the history, drawn
 * without replacement, so the history is `fraction` of the mix (DeepSeekMath's iterative RL replays 10%). Capped
 * at the history's size. Fresh first, then the replayed in the order drawn (the trainer shuffles).
 */
export function replayMix<T>(fresh: T[], history: T[], fraction: number, rng: Rng): { mixed: T[]; replayed: number } {
  if (!(fraction >= 0 && fraction < 1)) throw new RangeError(`replay fraction ${fraction} is not in [0, 1)`);
  const h = Math.min(history.length, Math.round((fraction * fresh.length) / (1 - fraction)));
  const idx = Uint32Array.from({ length: history.length }, (_, i) => i);
  // A partial Fisher-Yates: the first h places get a uniform sample.
  for (let i = 0; i < h; i++) {
    const j = i + rng.int(history.length - i);
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return { mixed: [...fresh, ...Array.from(idx.subarray(0, h), (i) => history[i])], replayed: h };
}
