// A tokenize worker thread: loads the tokenizer once, then encodes the chunks it is sent.
import { parentPort, workerData } from 'node:worker_threads';
import { loadTokenizer } from '../tokenizer/index.js';
import { encodeChunk, type EncodeSettings } from './encode-chunk.js';

const { spec, settings } = workerData as { spec: string; settings: EncodeSettings };
const tok = loadTokenizer(spec);

parentPort!.on('message', (job: { seq: number; bytes: Uint8Array; first: boolean }) => {
  const res = encodeChunk(tok, job.bytes, job.first, settings);
  const transfer: ArrayBuffer[] = [];
  if (res.data) transfer.push(res.data.buffer as ArrayBuffer);
  if (res.lengths) transfer.push(res.lengths.buffer as ArrayBuffer);
  parentPort!.postMessage({ seq: job.seq, res }, transfer);
});
