// A tokenize worker thread: loads the tokenizer once, then encodes the chunks it is sent.
import { workerData } from 'node:worker_threads';
import { loadTokenizer } from '../tokenizer/index.js';
import { encodeChunk, type EncodeSettings, type ChunkResult } from './encode-chunk.js';
import { serveChunks } from './pool.js';

const { spec, settings } = workerData as { spec: string; settings: EncodeSettings };
const tok = loadTokenizer(spec);

serveChunks<ChunkResult>({
  run: (bytes, first) => encodeChunk(tok, bytes, first, settings),
  transfer: (res) => [res.data?.buffer, res.lengths?.buffer].filter((b): b is ArrayBuffer => b instanceof ArrayBuffer),
});
