// One grade: extract the answer from a response, then compare it with the gold answer.
import { answersEqual, type CheckOptions } from './equal.js';
import { extractAnswer, type ExtractMode } from './extract.js';

export interface GradeOptions extends CheckOptions {
  extract?: ExtractMode;
  /** How the gold field is written: "none" takes it as the answer itself, "gsm8k" reads "#### N". */
  goldExtract?: ExtractMode;
}

export interface Grade {
  /** The extracted answer, or null when the response holds none. */
  pred: string | null;
  correct: boolean;
}

export function gradeResponse(response: string, gold: string, opts: GradeOptions = {}): Grade {
  const pred = extractAnswer(response, opts.extract ?? 'auto');
  const g = opts.goldExtract && opts.goldExtract !== 'none' ? extractAnswer(gold, opts.goldExtract) : gold;
  if (pred === null || g === null) return { pred, correct: false };
  return { pred, correct: answersEqual(pred, g, opts) };
}
