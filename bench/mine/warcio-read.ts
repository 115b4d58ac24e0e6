// The floor for `mine`: a bare warcio.js pass over the same file, reading every record's payload
// (HTTP headers parsed, chunked/gzip content decoding applied), doing nothing with it.
import { createReadStream, statSync } from 'node:fs';
import { WARCParser } from 'warcio';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: warcio-read.js FILE\n');
  process.exit(2);
}
const t0 = performance.now();
let records = 0;
let responses = 0;
let bytes = 0;
const parser = new WARCParser(createReadStream(file));
for await (const r of parser) {
  records++;
  const body = await r.readFully(true);
  bytes += body.length;
  if (r.warcType === 'response') responses++;
}
const s = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage();
const cpuS = (cpu.user + cpu.system) / 1e6;
const mb = statSync(file).size / 1e6;
process.stdout.write(
  JSON.stringify({ tool: 'warcio', seconds: s, cpuSeconds: cpuS, records, responses, payloadMB: bytes / 1e6, pagesPerS: responses / s, mbPerS: mb / s, maxRssMB: process.resourceUsage().maxRSS / 1024 }) + '\n',
);
