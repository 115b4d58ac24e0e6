// A tokenize worker thread: loads the tokenizer once, then encodes the chunks it is sent.
import { serveTasks } from '../cli/worker-pool.js';
import { loadTokenizer } from '../tokenizer/index.js';
import { encodeChunk, type EncodeSettings, type ChunkResult } from './encode-chunk.js';
import type { ChunkTask } from './pool.js';

serveTasks<ChunkTask, ChunkResult, { spec: string; settings: EncodeSettings }>(({ spec, settings }) => {
  const tok = loadTokenizer(spec);
  return {
    run: (t) => encodeChunk(tok, t.bytes, t.first, settings),
    transfer: (res) => [res.data?.buffer, res.lengths?.buffer].filter((b): b is ArrayBuffer => b instanceof ArrayBuffer),
  };
});
