// The answer checker, shared by `grade`, `eval` and GRPO's reward. answersEqual/gradeResponse run in the
// calling thread; CheckerPool runs them in worker threads under a per-check timeout.
export { answersEqual, scalarEqual, type CheckOptions } from './equal.js';
export { extractAnswer, lastBoxed, answerTag, answerIs, gsm8kHashes, lastNumber, choiceLetter, EXTRACT_MODES, type ExtractMode } from './extract.js';
export { normalizeAnswer } from './normalize.js';
export { gradeResponse, type Grade, type GradeOptions } from './grade.js';
export { CheckerPool, type PoolGrade, type PoolOptions } from './pool.js';
export { loadCas, CAS_NAMES, type CasName } from './symbolic.js';
