// decontam's blocks on the native scan, -j N: a batch of blocks at a time goes to the addon, which scans them on
// N threads at once (OpenMP; this thread is one of them), and each block is then finished here, in order
// (BlockScanner.scanBatch). The threads share this process's memory: the index, the mapped input and the
// block views the output is written from, with nothing copied, posted or parsed twice, and no second
// JavaScript engine to start, which is what a worker thread costs (~0.3 s of CPU for the scan's worker).
import type { OrderedPool } from '../jsonl/index.js';
import type { BlockResult, BlockScanner } from './block-scan.js';

export interface ScanBlock {
  buf: Buffer;
  file: string;
  firstLine: number;
}

export class NativeBatchPool implements OrderedPool<ScanBlock, BlockResult> {
  /** Blocks per native call: enough for the threads to balance blocks of unequal cost between them. */
  readonly window: number;

  constructor(
    private readonly scanner: BlockScanner,
    private readonly threads: number,
  ) {
    this.window = 4 * threads;
  }

  async *map(blocks: AsyncIterable<ScanBlock>): AsyncGenerator<BlockResult> {
    let batch: ScanBlock[] = [];
    for await (const b of blocks) {
      batch.push(b);
      if (batch.length < this.window) continue;
      yield* this.scanner.scanBatch(batch, this.threads);
      batch = [];
    }
    if (batch.length) yield* this.scanner.scanBatch(batch, this.threads);
  }

  async close(): Promise<void> {}
}
