// A decontam worker thread: receives blocks of whole JSONL lines, returns the kept lines, the removed
// evidence and the counts. The index arrives once, as a SharedArrayBuffer, so it is not copied per thread.
import { parentPort, workerData } from 'node:worker_threads';
import { DataError, at } from '../cli/errors.js';
import { decodeLine, parseLine, type Line } from '../jsonl/index.js';
import { parseIndex } from './index-file.js';
import { Scanner, newCounts, type ScanOptions } from './scan.js';
import type { Block, BlockResult } from './parallel.js';

const { index: shared, opts } = workerData as { index: SharedArrayBuffer; opts: ScanOptions };
const scanner = new Scanner(parseIndex(Buffer.from(shared), '<index>', false), opts);

function run(m: Block): BlockResult {
  const buf = Buffer.from(m.buf);
  const lines: Line[] = [];
  let lineNo = m.firstLine;
  let skipped = 0;
  for (let s = 0; s < buf.length; ) {
    const nl = buf.indexOf(10, s);
    const e = nl < 0 ? buf.length : nl;
    if (!decodeLine(buf, s, e, m.file, lineNo++, lines, opts.skipInvalid)) skipped++;
    s = e + 1;
  }
  for (const l of lines) {
    let value;
    try {
      value = parseLine(l.text, at(l.file, l.line));
    } catch (e) {
      if (!opts.skipInvalid) throw e;
      skipped++;
      continue;
    }
    scanner.record({ value, raw: l.text, file: l.file, line: l.line });
  }
  const { kept, removed } = scanner.drain();
  // One string per block: cloning it to the main thread is one copy, not one object per line.
  const result = { seq: m.seq, kept: kept.join('\n'), removed: removed.join('\n'), counts: scanner.counts, hits: scanner.hits, skipped };
  scanner.counts = newCounts();
  scanner.hits = scanner.hits.map(() => 0);
  return result;
}

parentPort!.on('message', (m: Block) => {
  try {
    parentPort!.postMessage(run(m));
  } catch (e) {
    const error = e instanceof DataError ? { where: e.where, detail: e.detail } : { where: '', detail: (e as Error).stack ?? String(e) };
    parentPort!.postMessage({ seq: m.seq, error });
  }
});
