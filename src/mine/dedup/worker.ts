// A dedup worker thread: blocks of JSONL lines in, DocBatches out (their arrays transferred, not copied).
import { parentPort, workerData } from 'node:worker_threads';
import { DataError } from '../../cli/errors.js';
import { describeBlock, type Block, type DescribeOptions } from './describe.js';
import { MinHasher } from './minhash.js';

const opts = workerData as DescribeOptions;
const hasher = new MinHasher(opts.minhash);

parentPort!.on('message', (b: Block) => {
  try {
    const batch = describeBlock(b, hasher, opts);
    const buffers = [batch.keys, batch.sig, batch.url, batch.score, batch.length, batch.line].map((a) => a.buffer as ArrayBuffer);
    parentPort!.postMessage({ seq: b.seq, batch }, buffers);
  } catch (e) {
    const error = e instanceof DataError ? { where: e.where, detail: e.detail } : { where: '', detail: (e as Error).stack ?? String(e) };
    parentPort!.postMessage({ seq: b.seq, error });
  }
});
