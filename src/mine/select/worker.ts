// A select worker thread: blocks of JSONL lines in, each document's rank key and token count out.
import { serveBlocks } from '../ordered-pool.js';
import { tokenCounter } from './count.js';
import { scanBlock, type ScanBatch, type ScanOptions } from './scan.js';

serveBlocks<ScanOptions, ScanBatch>(
  (o) => {
    const count = tokenCounter(o.count);
    return (b) => scanBlock(b, count, o);
  },
  (r) => [r.score, r.hash, r.tokens, r.line],
);
