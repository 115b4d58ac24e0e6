// A decontam worker thread (cli/worker-pool): scans blocks of whole JSONL lines (block-scan.ts). The index
// arrives once, as a SharedArrayBuffer, so it is not copied per thread.
import { serveTasks } from '../cli/worker-pool.js';
import { parseIndex } from './index-file.js';
import { blockHandler, type ScanWorkerData } from './block-scan.js';

serveTasks((d: ScanWorkerData) => blockHandler(parseIndex(Buffer.from(d.index), '<index>', false), d.opts));
