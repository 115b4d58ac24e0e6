// A dedup worker thread: blocks of JSONL lines in, DocBatches out (their arrays transferred, not copied).
import { serveTasks } from '../../cli/worker-pool.js';
import { describeBlock, type Block, type DescribeOptions } from './describe.js';
import { MinHasher } from './minhash.js';
import type { DocBatch } from './table.js';

serveTasks<Block, DocBatch, DescribeOptions>((o) => {
  const hasher = new MinHasher(o.minhash);
  return {
    run: (b) => describeBlock(b, hasher, o),
    transfer: (r) => [r.keys, r.sig, r.url, r.score, r.length, r.line].map((a) => a.buffer as ArrayBuffer),
  };
});
