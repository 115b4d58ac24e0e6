// decontam's blocks on the native scan, -j N: each block is queued for N - 1 addon threads as it is read, and
// this thread finishes the blocks in order (BlockScanner.complete: the few lines the native scan hands back,
// the counts, the output pieces), scanning queued blocks itself whenever it would otherwise wait. The threads
// share this process's memory (the index, the mapped input, the block views the output is written from):
// nothing is copied, posted or parsed twice, and no second JavaScript engine starts, which is what a worker
// thread cost (~0.3 s of CPU for the scan's worker).
import type { OrderedPool } from '../jsonl/index.js';
import type { BlockResult, BlockScanner, Pending, ScanBlock } from './block-scan.js';

export class NativeBatchPool implements OrderedPool<ScanBlock, BlockResult> {
  /** Blocks queued ahead of the one being finished: enough to keep the threads busy while this one finishes. */
  readonly window: number;

  constructor(
    private readonly scanner: BlockScanner,
    private readonly jobs: number,
  ) {
    this.window = 4 * jobs;
  }

  async *map(blocks: AsyncIterable<ScanBlock>): AsyncGenerator<BlockResult> {
    const pending: Pending[] = [];
    try {
      for await (const b of blocks) {
        pending.push(this.scanner.submit(b, this.jobs - 1));
        while (pending.length > this.window) yield this.scanner.complete(pending.shift()!);
      }
      while (pending.length) yield this.scanner.complete(pending.shift()!);
    } finally {
      // Stopped early (an error, a closed pipe): no thread may still read a block once the caller lets it go.
      for (const p of pending) this.scanner.abandon(p);
    }
  }

  async close(): Promise<void> {}
}
