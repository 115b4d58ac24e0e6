// Worker thread of CheckerPool: grades checks one at a time. The CAS is loaded before the worker
// reports ready, so loading it is not counted against any check's timeout.
import { serveTasks } from '../cli/worker-pool.js';
import { gradeResponse, type Grade, type GradeContext, type GradeOptions } from './grade.js';
import { sameAnswer } from './equal.js';
import { loadCas } from './symbolic.js';

export interface WorkerJob {
  response: string;
  gold: string;
  ctx?: GradeContext;
  /** Not a grade: are `response` and `gold` two spellings of one answer (maj@k grouping)? */
  same?: boolean;
}

// Fault injection for the pool's own tests: a response equal to this marker never finishes.
const hangMarker = process.env.MATHPIPE_CHECKER_TEST_HANG;

serveTasks<WorkerJob, Grade, GradeOptions>(async (opts) => {
  await loadCas(opts.cas);
  return {
    run(j) {
      if (hangMarker && j.response === hangMarker) for (;;);
      try {
        return j.same ? { pred: null, correct: sameAnswer(j.response, j.gold, opts) } : gradeResponse(j.response, j.gold, opts, j.ctx);
      } catch {
        return { pred: null, correct: false };
      }
    },
  };
});
