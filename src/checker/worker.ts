// Worker thread of CheckerPool: grades batches, publishing progress through shared memory after every
// check so the main thread can tell which check is stuck when a batch overruns its timeout.
import { parentPort, workerData } from 'node:worker_threads';
import { gradeResponse, type GradeContext, type GradeOptions } from './grade.js';
import { sameAnswer } from './equal.js';
import { loadCas } from './symbolic.js';

export interface WorkerJob {
  response: string;
  gold: string;
  ctx?: GradeContext;
  /** Not a grade: are `response` and `gold` two spellings of one answer (maj@k grouping)? */
  same?: boolean;
}
export interface WorkerBatch {
  batch: number;
  jobs: WorkerJob[];
  opts: GradeOptions;
}

const progress = new Int32Array((workerData as { progress: SharedArrayBuffer }).progress);
// Fault injection for the pool's own tests: a response equal to this marker never finishes.
const hangMarker = process.env.MATHPIPE_CHECKER_TEST_HANG;

parentPort!.on('message', async (msg: WorkerBatch) => {
  await loadCas(msg.opts.cas);
  // Loading a CAS is not a check: the pool's clock starts now.
  Atomics.store(progress, 1, 1);
  const out = [];
  for (let k = 0; k < msg.jobs.length; k++) {
    const j = msg.jobs[k]!;
    let r;
    if (hangMarker && j.response === hangMarker) for (;;);
    try {
      r = j.same ? { pred: null, correct: sameAnswer(j.response, j.gold, msg.opts) } : gradeResponse(j.response, j.gold, msg.opts, j.ctx);
    } catch {
      r = { pred: null, correct: false };
    }
    out.push(r);
    Atomics.store(progress, 0, k + 1);
  }
  parentPort!.postMessage({ batch: msg.batch, results: out });
});
