// A dedup worker thread: blocks of JSONL lines in, DocBatches out (their arrays transferred, not copied).
import { serveBlocks } from '../ordered-pool.js';
import { describeBlock, type DescribeOptions } from './describe.js';
import { MinHasher } from './minhash.js';
import type { DocBatch } from './table.js';

serveBlocks<DescribeOptions, DocBatch>(
  (o) => {
    const hasher = new MinHasher(o.minhash);
    return (b) => describeBlock(b, hasher, o);
  },
  (r) => [r.keys, r.sig, r.url, r.score, r.length, r.line],
);
