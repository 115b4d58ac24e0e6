// Inputs cut into blocks of whole lines (about 1 MB), numbered in input order, for worker threads.
// Standard input is also copied to a spill file as it is read, because dedup reads its input twice
// (once to find duplicates, once to write what it keeps).
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trackTemp, untrackTemp } from '../../cli/cleanup.js';
import { mapOrdered } from '../../cli/worker-pool.js';
import { decodeLine, readBytes, STDIN, type Line } from '../../jsonl/index.js';
import type { Block } from './describe.js';

const BLOCK = 1 << 20;

function countLines(buf: Uint8Array): number {
  let n = 0;
  for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) n++;
  return n;
}

/** A temporary file for stdin's bytes, removed on every exit path. */
export function spillPath(): string {
  const p = join(tmpdir(), `mathpipe-dedup-stdin.tmp-${process.pid}`);
  trackTemp(p);
  return p;
}

export function removeSpill(p: string | undefined): void {
  if (!p) return;
  rmSync(p, { force: true });
  untrackTemp(p);
}

/**
 * Yield blocks of whole lines from every input in order. `spill` (when stdin is among the inputs) names
 * the file its bytes are copied to.
 */
export async function* lineBlocks(inputs: string[], stats: { bytes: number }, spill?: string): AsyncGenerator<Block> {
  let seq = 0;
  for (let f = 0; f < inputs.length; f++) {
    const file = inputs[f]!;
    const fd = file === STDIN && spill ? openSync(spill, 'w') : undefined;
    try {
      let line = 1;
      let parts: Buffer[] = [];
      let size = 0;
      const make = (bytes: Buffer): Block => {
        const own = new Uint8Array(bytes.length);
        own.set(bytes);
        const b: Block = { seq: seq++, file: f, fileName: file, firstLine: line, buf: own.buffer };
        line += countLines(own);
        return b;
      };
      for await (const chunk of readBytes(file, (n) => (stats.bytes += n))) {
        if (fd !== undefined) writeSync(fd, chunk);
        parts.push(chunk);
        size += chunk.length;
        if (size < BLOCK) continue;
        const cut = chunk.lastIndexOf(10);
        if (cut === -1) continue;
        yield make(Buffer.concat([...parts.slice(0, -1), chunk.subarray(0, cut + 1)]));
        parts = cut + 1 < chunk.length ? [chunk.subarray(cut + 1)] : [];
        size = parts.length ? parts[0]!.length : 0;
      }
      if (size) yield make(Buffer.concat(parts));
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
}

/**
 * The lines of a block one at a time, each decoded when it is reached (so the first bad line is the
 * one reported). Lines that are not UTF-8 are skipped and counted with `skipInvalid`.
 */
export function* linesOf(block: Block, skipInvalid: boolean, skipped: { n: number }): Generator<Line> {
  const buf = Buffer.from(block.buf);
  const one: Line[] = [];
  let lineNo = block.firstLine;
  for (let pos = 0; pos < buf.length; ) {
    const nl = buf.indexOf(10, pos);
    const e = nl < 0 ? buf.length : nl;
    one.length = 0;
    if (!decodeLine(buf, pos, e, block.fileName, lineNo++, one, skipInvalid)) skipped.n++;
    pos = e + 1;
    if (one.length) yield one[0]!;
  }
}

/** Lines in a block (an upper bound on its documents). */
export function lineCount(block: Block): number {
  const buf = new Uint8Array(block.buf);
  let n = countLines(buf);
  if (buf.length && buf[buf.length - 1] !== 10) n++;
  return n;
}

/**
 * `run` over blocks on `jobs` worker threads (`script` calls serveTasks with `data`) or, for jobs <= 1,
 * on this thread; results in block order, at most three blocks a worker in flight, the blocks' bytes
 * moved to the workers rather than copied.
 */
export function mapBlocks<D, R>(blocks: AsyncIterable<Block>, jobs: number, script: URL, data: D, local: () => (b: Block) => R): AsyncGenerator<R> {
  return mapOrdered(blocks, {
    script,
    workerData: data,
    workers: jobs <= 1 ? 0 : jobs,
    perWorker: 3,
    transfer: (b) => [b.buf],
    local: () => ({ run: local() }),
  });
}
