// Encode chunks on worker threads and hand the results back in input order, so the output is the same
// byte for byte whatever the number of workers. At most 2 chunks per worker are in flight, which keeps
// memory flat however large the input is.
import { Worker } from 'node:worker_threads';
import type { Chunk } from './chunks.js';
import { encodeChunk, type ChunkResult, type EncodeSettings } from './encode-chunk.js';
import { loadTokenizer } from '../tokenizer/index.js';

export interface Encoded {
  file: string;
  res: ChunkResult;
}

interface Slot {
  worker: Worker;
  busy: number;
  waiting: Map<number, { resolve: (r: ChunkResult) => void; reject: (e: Error) => void }>;
}

function startWorker(spec: string, settings: EncodeSettings): Slot {
  const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: { spec, settings } });
  const slot: Slot = { worker, busy: 0, waiting: new Map() };
  worker.on('message', (m: { seq: number; res: ChunkResult }) => {
    const w = slot.waiting.get(m.seq);
    slot.waiting.delete(m.seq);
    slot.busy--;
    w?.resolve(m.res);
  });
  const failAll = (e: Error) => {
    for (const w of slot.waiting.values()) w.reject(e);
    slot.waiting.clear();
  };
  worker.on('error', failAll);
  worker.on('exit', (code) => {
    if (slot.waiting.size) failAll(new Error(`tokenize worker exited with code ${code}`));
  });
  return slot;
}

export async function* encodeInOrder(chunks: AsyncIterable<Chunk>, workers: number, spec: string, settings: EncodeSettings): AsyncGenerator<Encoded> {
  if (workers <= 0) {
    // In-process: no threads at all (debugging, or tiny inputs where thread start-up dominates).
    const tok = loadTokenizer(spec);
    try {
      for await (const c of chunks) yield { file: c.file, res: encodeChunk(tok, c.bytes, c.first, settings) };
    } finally {
      tok.free();
    }
    return;
  }
  const slots = Array.from({ length: workers }, () => startWorker(spec, settings));
  const pending: { file: string; done: Promise<ChunkResult> }[] = [];
  let seq = 0;
  try {
    for await (const c of chunks) {
      const slot = slots.reduce((a, b) => (b.busy < a.busy ? b : a));
      const s = seq++;
      const bytes = new Uint8Array(c.bytes); // own buffer: transferring a slice of Node's shared pool would break it
      const done = new Promise<ChunkResult>((resolve, reject) => slot.waiting.set(s, { resolve, reject }));
      done.catch(() => {}); // observed below, in order; avoid an unhandled rejection meanwhile
      slot.busy++;
      slot.worker.postMessage({ seq: s, bytes, first: c.first }, [bytes.buffer]);
      pending.push({ file: c.file, done });
      if (pending.length >= 2 * workers) {
        const p = pending.shift()!;
        yield { file: p.file, res: await p.done };
      }
    }
    while (pending.length) {
      const p = pending.shift()!;
      yield { file: p.file, res: await p.done };
    }
  } finally {
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }
}
