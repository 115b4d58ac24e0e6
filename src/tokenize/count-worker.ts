// A `tokenize train` worker thread: counts pre-tokens of the chunks it is sent; its counts go back once, at the end.
import { workerData } from 'node:worker_threads';
import { PreTokenCounter, type CountResult } from './count-chunk.js';
import { serveChunks } from './pool.js';
import type { ScanOptions } from './records.js';

const { pattern, options } = workerData as { pattern: string; options: ScanOptions };
const counter = new PreTokenCounter(pattern, options);

serveChunks<CountResult>({
  run: (bytes, first) => counter.add(bytes, first),
  finish: () => counter.counts,
});
