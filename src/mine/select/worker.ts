// A select worker thread: blocks of JSONL lines in, each document's rank key and token count out.
import { serveTasks } from '../../cli/worker-pool.js';
import type { Block } from '../dedup/describe.js';
import { tokenCounter } from './count.js';
import { scanBlock, type ScanBatch, type ScanOptions } from './scan.js';

serveTasks<Block, ScanBatch, ScanOptions>((o) => {
  const count = tokenCounter(o.count);
  return {
    run: (b) => scanBlock(b, count, o),
    transfer: (r) => [r.score, r.hash, r.tokens, r.line].map((a) => a.buffer as ArrayBuffer),
  };
});
