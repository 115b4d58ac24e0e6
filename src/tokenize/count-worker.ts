// A `tokenize train` worker thread: counts pre-tokens of the chunks it is sent; its counts go back once, at the end.
import { serveTasks } from '../cli/worker-pool.js';
import { PreTokenCounter, type CountResult } from './count-chunk.js';
import type { ChunkTask } from './pool.js';
import type { ScanOptions } from './records.js';

serveTasks<ChunkTask, CountResult, { pattern: string; options: ScanOptions }>(({ pattern, options }) => {
  const counter = new PreTokenCounter(pattern, options);
  return { run: (t) => counter.add(t.bytes, t.first), finish: () => counter.counts };
});
