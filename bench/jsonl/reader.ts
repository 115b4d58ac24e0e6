// Why mathpipe reads JSONL with its own byte-level line splitter (src/jsonl) instead of stream-json's
// JSONL parser: both parse every line with JSON.parse, so the difference is pure plumbing cost.
// Usage: node dist/bench/jsonl/reader.js FILE.jsonl   (prints records/s and MB/s of both and the ratio)
import { createReadStream, statSync } from 'node:fs';
import { readJsonlBatches } from '../../src/jsonl/read.js';
import jsonlParser from 'stream-json/jsonl/parser.js';

const file = process.argv[2];
if (!file) throw new Error('usage: reader.js FILE.jsonl');
const mb = statSync(file).size / 1e6;

async function ours(): Promise<number> {
  let n = 0;
  for await (const batch of readJsonlBatches([file])) n += batch.length;
  return n;
}

async function streamJson(): Promise<number> {
  let n = 0;
  const s = createReadStream(file, { highWaterMark: 1 << 20 }).pipe(jsonlParser.asStream());
  for await (const _ of s) n++;
  return n;
}

async function time(name: string, f: () => Promise<number>): Promise<number> {
  const t0 = performance.now();
  const n = await f();
  const s = (performance.now() - t0) / 1000;
  console.log(`${name.padEnd(12)} ${n} records  ${(n / s).toFixed(0)} rec/s  ${(mb / s).toFixed(1)} MB/s`);
  return s;
}

const a = await time('stream-json', streamJson);
const b = await time('mathpipe', ours);
console.log(`ratio (mathpipe speed / stream-json speed): ${(a / b).toFixed(2)}x`);
