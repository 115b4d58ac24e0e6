// Extraction worker: turns batches of WARC records into outcomes (document lines or skip reasons).
import { parentPort } from 'node:worker_threads';
import { outcomeOf, type DocOptions } from './document.js';
import type { BatchMessage } from './pool.js';

parentPort!.on('message', (m: BatchMessage & { opts: DocOptions }) => {
  const buf = Buffer.from(m.buf);
  const outcomes = m.metas.map((x) =>
    outcomeOf({ offset: x.offset, length: x.length, headers: new Map(x.headers), block: buf.subarray(x.start, x.end) }, m.file, m.opts),
  );
  parentPort!.postMessage({ id: m.id, outcomes });
});
