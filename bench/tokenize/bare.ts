// The anchor: a bare tiktoken encode loop in one thread over texts already in memory (what a user
// would write by hand), printing tokens, wall and CPU seconds and both rates as JSON.
//   node dist/bench/tokenize/bare.js ENCODING FILE.jsonl
import { readFileSync } from 'node:fs';
import { get_encoding, type TiktokenEncoding } from 'tiktoken';

const [encoding, file] = process.argv.slice(2);
const texts = readFileSync(file, 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => (JSON.parse(l) as { text: string }).text);
const enc = get_encoding(encoding as TiktokenEncoding);
const t0 = performance.now();
const c0 = process.cpuUsage();
let tokens = 0;
for (const t of texts) tokens += enc.encode_ordinary(t).length;
const seconds = (performance.now() - t0) / 1000;
const c = process.cpuUsage(c0);
const cpuSeconds = (c.user + c.system) / 1e6;
process.stdout.write(JSON.stringify({ tokens, documents: texts.length, seconds, cpu_seconds: cpuSeconds, tokens_per_s: tokens / seconds, tokens_per_cpu_s: tokens / cpuSeconds }) + '\n');
