// Extraction worker: turns batches of WARC records into outcomes (document lines or skip reasons).
import { serveTasks } from '../cli/worker-pool.js';
import { outcomeOf, type DocOptions, type Outcome } from './document.js';
import type { BatchMessage } from './pool.js';

serveTasks<BatchMessage, Outcome[], DocOptions>((opts) => ({
  run: (m) => {
    const buf = Buffer.from(m.buf);
    return m.metas.map((x) => outcomeOf({ offset: x.offset, length: x.length, headers: new Map(x.headers), block: buf.subarray(x.start, x.end) }, m.file, opts));
  },
}));
