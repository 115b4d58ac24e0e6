// Line-aligned chunks through the shared worker pool (src/cli/worker-pool.ts): results in input order,
// so output is the same byte for byte whatever the number of workers, each paired with its file. A
// worker may keep state across chunks (pre-token counts) and return it once at the end (finish).
import { WorkerPool, type Handler } from '../cli/worker-pool.js';
import type { Chunk } from './chunks.js';

export interface ChunkTask {
  bytes: Uint8Array;
  /** The first chunk of its file (a UTF-8 byte order mark may open it). */
  first: boolean;
}

export type ChunkHandler<R> = Handler<ChunkTask, R>;

/** `workers` 0 runs `local()` on this thread (debugging, tiny inputs). */
export function chunkPool<R>(workers: number, script: URL, workerData: unknown, local: () => ChunkHandler<R>): WorkerPool<ChunkTask, R> {
  return new WorkerPool<ChunkTask, R>({ script, workerData, workers, local, transfer: (t) => [t.bytes.buffer as ArrayBuffer] });
}

/** Results of the chunks, in input order, with the file each came from. */
export async function* mapChunks<R>(pool: WorkerPool<ChunkTask, R>, chunks: AsyncIterable<Chunk>): AsyncGenerator<{ file: string; res: R }> {
  const files: string[] = [];
  // Own buffers for the threads: moving a slice of Node's shared pool would break it.
  const own = pool.size > 0;
  async function* tasks(): AsyncGenerator<ChunkTask> {
    for await (const c of chunks) {
      files.push(c.file);
      yield { bytes: own ? new Uint8Array(c.bytes) : c.bytes, first: c.first };
    }
  }
  for await (const res of pool.map(tasks())) yield { file: files.shift()!, res };
}
