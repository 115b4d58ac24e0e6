// Our own WARC reader doing what warcio-read.js does (every record read, HTTP payloads decoded), so the
// reader itself can be compared with warcio.js on the same file.
import { createReadStream, statSync } from 'node:fs';
import { readWarc } from '../../src/mine/warc.js';
import { parseHttpResponse } from '../../src/mine/http.js';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: reader-read.js FILE\n');
  process.exit(2);
}
const t0 = performance.now();
let records = 0;
let responses = 0;
let bytes = 0;
for await (const r of readWarc(createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>)) {
  if ('error' in r) continue;
  records++;
  if (r.headers.get('warc-type') === 'response') {
    responses++;
    bytes += parseHttpResponse(r.block)?.body.length ?? 0;
  } else bytes += r.block.length;
}
const s = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage();
const mb = statSync(file).size / 1e6;
process.stdout.write(
  JSON.stringify({ tool: 'mathpipe-reader', seconds: s, cpuSeconds: (cpu.user + cpu.system) / 1e6, records, responses, payloadMB: bytes / 1e6, pagesPerS: responses / s, mbPerS: mb / s, maxRssMB: process.resourceUsage().maxRSS / 1024 }) + '\n',
);
