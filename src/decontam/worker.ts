// A decontam worker thread (cli/worker-pool): scans blocks of whole JSONL lines (block-scan.ts). The index
// arrives once, as a SharedArrayBuffer, or as the path of the index file, which the worker maps: the same
// page-cache pages as the main thread's mapping, with no copy into shared memory.
import { serveTasks } from '../cli/worker-pool.js';
import { parseIndex, reopenIndexFile } from './index-file.js';
import { blockHandler, type ScanWorkerData } from './block-scan.js';

serveTasks((d: ScanWorkerData) =>
  blockHandler(d.index instanceof SharedArrayBuffer ? parseIndex(Buffer.from(d.index), '<index>', false) : reopenIndexFile(d.index.path, d.index.crc), d.opts),
);
