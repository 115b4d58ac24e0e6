// Documents described on worker threads (dedup/worker.ts) or on this thread, in input order.
import { mapBlocks } from './blocks.js';
import { describeBlock, type Block, type DescribeOptions } from './describe.js';
import { MinHasher } from './minhash.js';
import type { DocBatch } from './table.js';

export function describeAll(blocks: AsyncIterable<Block>, o: DescribeOptions, jobs: number): AsyncGenerator<DocBatch> {
  return mapBlocks(blocks, jobs, new URL('./worker.js', import.meta.url), o, () => {
    const hasher = new MinHasher(o.minhash);
    return (b) => describeBlock(b, hasher, o);
  });
}
