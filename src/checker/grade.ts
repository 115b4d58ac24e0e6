// One grade: extract the answer from a response, then compare it with the gold answer. Two extractions:
// mathpipe's own (the default: `auto` and friends, then the checker in equal.ts), and `deepseek`, which
// follows DeepSeek-Math's evaluation code function by function (deepseek.ts), so numbers compare with the paper's.
import { answersEqual, type CheckOptions } from './equal.js';
import { allBoxed, extractAnswer, type ExtractMode } from './extract.js';
import { deepseekGrade, type DeepseekTask } from './deepseek.js';
import { compactForm, normalizeAnswer } from './normalize.js';
import { shapeOf } from './structure.js';

export interface GradeOptions extends CheckOptions {
  extract?: ExtractMode;
  /** How the gold field is written: "none" takes it as the answer itself, "gsm8k" reads "#### N". */
  goldExtract?: ExtractMode;
  /** With extract "deepseek": which of DeepSeek's answer-extraction/eval function pairs (default "math"). */
  task?: DeepseekTask;
}

/** What a grade may know about its question besides the gold answer. */
export interface GradeContext {
  /** Other answers that are also right (a MATH solution that accepts either of two boxes). */
  alternatives?: string[];
  /** The question text (DeepSeek's extraction splits "separated by commas" answers). */
  question?: string;
  /** The order of a list answer matters (overrides the option for this check). */
  ordered?: boolean;
  /** DeepSeek's own gold answer(s), as its data processing builds them; else derived from `gold`. */
  deepseekGold?: string | string[];
}

export interface Grade {
  /** The extracted answer, or null when the response holds none. */
  pred: string | null;
  correct: boolean;
}

function distinct(xs: string[]): string[] {
  const seen = new Set<string>();
  return xs.filter((x) => {
    const k = compactForm(normalizeAnswer(x));
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Number of items a list gold holds ("2, 3" -> 2; a scalar -> 1). */
function goldItems(gold: string): number {
  const s = shapeOf(normalizeAnswer(gold));
  return s.kind === 'list' || s.kind === 'set' ? s.items.length : 1;
}

export function gradeResponse(response: string, gold: string, opts: GradeOptions = {}, ctx: GradeContext = {}): Grade {
  if (opts.extract === 'deepseek') return deepseekGrade(opts.task ?? 'math', response, ctx.deepseekGold ?? gold, ctx.question ?? '', opts);
  const mode = opts.extract ?? 'auto';
  const pred = extractAnswer(response, mode);
  const g = opts.goldExtract && opts.goldExtract !== 'none' ? extractAnswer(gold, opts.goldExtract) : gold;
  if (pred === null || g === null) return { pred, correct: false };
  const o: CheckOptions = ctx.ordered === undefined ? opts : { ...opts, ordered: ctx.ordered };
  const golds = [g, ...(ctx.alternatives ?? [])];
  if (golds.some((x) => answersEqual(pred, x, o))) return { pred, correct: true };
  // Several boxes for a gold of several answers ("\boxed{2} and \boxed{3}" for "2, 3"): the last k distinct
  // boxes together are the answer (DeepSeek's rule for MATH), when the last box alone is not.
  if ((mode === 'auto' || mode === 'boxed') && response.indexOf('\\boxed') !== response.lastIndexOf('\\boxed')) {
    let boxes: string[] | null = null;
    for (const x of golds) {
      const k = goldItems(x);
      if (k < 2) continue;
      boxes ??= distinct(allBoxed(response));
      if (boxes.length < k) continue;
      const joined = boxes.slice(-k).join(', ');
      if (answersEqual(joined, x, o)) return { pred: joined, correct: true };
    }
  }
  return { pred, correct: false };
}
