// Reading WARC/WET files: the fixture, every real sample in ../shared, and files with bad records.
import t from 'tap';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { runCli, runShell, sharedData, lines } from '../helpers.js';
import { generateWarc, httpResponse, warcRecord } from '../../fixtures/mine/warc-gen.js';

function response(url: string, html: string, id: string): Buffer {
  return warcRecord({ 'WARC-Type': 'response', 'WARC-Target-URI': url, 'WARC-Date': '2024-01-01T00:00:00Z', 'WARC-Record-ID': `<urn:uuid:${id}>`, 'Content-Type': 'application/http; msgtype=response' }, httpResponse(html));
}

t.test('fixture WARC: every page becomes a document with its math', async (t) => {
  const dir = t.testdir();
  const file = join(dir, 'fx.warc.gz');
  const g = generateWarc({ pages: 16, seed: 3 });
  writeFileSync(file, g.bytes);
  const r = await runCli(['mine', file]);
  t.equal(r.code, 0, r.stderr);
  const docs = lines(r.stdout).map((l) => JSON.parse(l));
  t.same(docs.map((d) => d.url), g.pages.map((p) => p.url));
  t.match(r.stderr, /16 docs from \d+ records in 1 input; skipped: 17 non-page records, 1 non-HTML, 1 non-2xx/);
  const byKind = new Map(g.pages.map((p, i) => [p.kind, docs[i]]));
  t.match(byKind.get('mathjax').text, '$$x = \\frac{-b \\pm \\sqrt{b^2-4ac}}{2a}$$');
  t.match(byKind.get('katex').text, '$e^{i\\pi} + 1 = 0$');
  t.notMatch(byKind.get('katex').text, 'iπ');
  t.match(byKind.get('mathml').text, '$$c = \\sqrt{a^{2} + b^{2}}$$');
  t.match(byKind.get('image').text, '$\\int_0^1 x^2\\,dx = \\frac{1}{3}$');
  t.notMatch(byKind.get('shop').text, /cookies|Copyright|Home About/);
  const d = docs[0];
  t.same(Object.keys(d), ['id', 'url', 'domain', 'date', 'language', 'title', 'text', 'provenance']);
  t.equal(d.domain, 'stackexchange.com');
  t.equal(d.language, 'en');
  t.equal(d.provenance.file, file);
  t.match(d.id, /^urn:uuid:/);

  const pre = await runCli(['mine', '--prefilter', 'math', file]);
  t.equal(lines(pre.stdout).length, 10);
  t.match(pre.stderr, /6 prefiltered/);
  const min = await runCli(['mine', '--min-chars', '100000', '-q', file]);
  t.equal(min.stdout, '');
  t.equal(min.stderr, '');
});

t.test('provenance offsets point at the records (a byte-range read gives the same document)', async (t) => {
  const dir = t.testdir();
  const file = join(dir, 'fx.warc.gz');
  writeFileSync(file, generateWarc({ pages: 8, seed: 5 }).bytes);
  const all = lines((await runCli(['mine', file])).stdout).map((l) => JSON.parse(l));
  const d = all[5];
  const one = await runCli(['mine', '--range', `${d.provenance.offset}:${d.provenance.length}`, file]);
  t.equal(one.code, 0, one.stderr);
  t.same(JSON.parse(one.stdout), d);
  const bad = await runCli(['mine', '--range', '12', file]);
  t.equal(bad.code, 2);
  const past = await runCli(['mine', '--range', '99999999:100', file]);
  t.equal(past.code, 74, 'a range past the end of a local file is refused (as a server answers 416)');
  t.match(past.stderr, /fx\.warc\.gz: byte range starts at 99999999, past the end of the file/);
  t.equal(past.stdout, '');
});

t.test('bad records: named with file@offset; --keep-going skips and counts them', async (t) => {
  const dir = t.testdir();
  const good1 = gzipSync(response('http://a.example.com/', '<p>first page</p>', '00000000-0000-4000-a000-000000000001'));
  const clippedRec = response('http://b.example.com/', '<p>clipped</p>', '00000000-0000-4000-a000-000000000002');
  const clipped = gzipSync(Buffer.from(clippedRec.toString('latin1').replace(/Content-Length: (\d+)\r\n\r\nHTTP/, (_m, n) => `Content-Length: ${Number(n) + 500}\r\n\r\nHTTP`), 'latin1'));
  const malformed = gzipSync('HTTP/1.1 200 OK\r\nthis is not a WARC record\r\n\r\n');
  const corrupt = gzipSync(response('http://c.example.com/', `<p>${'corrupt '.repeat(200)}</p>`, '00000000-0000-4000-a000-000000000003'));
  corrupt.fill(0x55, 40, 60);
  const noLength = gzipSync('WARC/1.0\r\nWARC-Type: response\r\n\r\n');
  const good2 = gzipSync(response('http://d.example.com/', '<p>last page</p>', '00000000-0000-4000-a000-000000000004'));
  const truncated = gzipSync(response('http://e.example.com/', `<p>${'truncated '.repeat(500)}</p>`, '00000000-0000-4000-a000-000000000005'));
  const file = join(dir, 'bad.warc.gz');
  const parts = [good1, clipped, corrupt, noLength, good2, malformed, truncated.subarray(0, truncated.length >> 1)];
  writeFileSync(file, Buffer.concat(parts));

  const strict = await runCli(['mine', file]);
  t.equal(strict.code, 65);
  t.match(strict.stderr, `${file}@${good1.length} (<urn:uuid:00000000-0000-4000-a000-000000000002>): clipped record`);

  const r = await runCli(['mine', '--keep-going', file]);
  t.equal(r.code, 0, r.stderr);
  t.same(lines(r.stdout).map((l) => JSON.parse(l).url), ['http://a.example.com/', 'http://d.example.com/']);
  t.match(r.stderr, /clipped record/);
  t.match(r.stderr, /expected a "WARC\/1.x" version line/);
  t.match(r.stderr, /corrupt gzip member|invalid/);
  t.match(r.stderr, /missing Content-Length/);
  t.match(r.stderr, /truncated record/);
  t.match(r.stderr, /5 bad records/);

  const side = join(dir, 'errors.jsonl');
  const withSide = await runCli(['mine', '--keep-going', '--errors', side, file]);
  t.equal(withSide.stdout, r.stdout);
  const listed = lines(readFileSync(side, 'utf8')).map((l) => JSON.parse(l));
  t.same(listed.map((e) => e.offset), [good1.length, good1.length + clipped.length, good1.length + clipped.length + corrupt.length, parts.slice(0, 5).reduce((a, p) => a + p.length, 0), parts.slice(0, 6).reduce((a, p) => a + p.length, 0)]);
  t.match(listed[0], { file, id: '<urn:uuid:00000000-0000-4000-a000-000000000002>', error: /clipped record/ });
  t.equal((await runCli(['mine', '--errors', side, file])).code, 2, '--errors needs --keep-going');
});

t.test('plain WARC with LF line endings, and a Content-Length that lies', async (t) => {
  const dir = t.testdir();
  const rec = (id: string, text: string, cl = Buffer.byteLength(text)) =>
    `WARC/1.0\nWARC-Type: conversion\nWARC-Target-URI: http://x.example.org/${id}\nWARC-Record-ID: <urn:uuid:${id}>\nContent-Length: ${cl}\n\n${text}\n\n`;
  const file = join(dir, 'lf.warc.wet');
  writeFileSync(file, rec('a', 'The derivative of x^2 is 2x.') + rec('b', 'wrong length here', 5) + rec('c', 'Third document.'));
  const r = await runCli(['mine', '--keep-going', file]);
  t.equal(r.code, 0, r.stderr);
  t.same(lines(r.stdout).map((l) => JSON.parse(l).text), ['The derivative of x^2 is 2x.', 'Third document.']);
  t.match(r.stderr, /@\d+ \(<urn:uuid:b>\): Content-Length 5 does not match the record/);
});

const sharedWarc = sharedData('web/warc');
t.test('every sample WARC/WET/WAT in ../shared is read without a crash', { skip: sharedWarc ? false : '../shared/data/web/warc is absent' }, async (t) => {
  const dir = sharedWarc!;
  // One run over all of them (process start-up dominates on small files); every file must contribute.
  const names = readdirSync(dir).sort();
  const r = await runCli(['mine', '--keep-going', ...names.map((f) => join(dir, f))]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, new RegExp(`in ${names.length} inputs`));
  const docs = lines(r.stdout).map((l) => JSON.parse(l));
  t.ok(docs.every((d) => typeof d.id === 'string' && typeof d.text === 'string' && names.some((f) => d.provenance.file.endsWith(f))));
  t.ok(docs.length >= 60, `${docs.length} documents`);
  const clipped = await runCli(['mine', join(dir, 'resiliparse-clipped.warc.gz')]);
  t.equal(clipped.code, 65);
  t.match(clipped.stderr, /resiliparse-clipped\.warc\.gz@0 \(<urn:uuid:[^>]+>\): truncated record/);
  const wet = await runCli(['mine', join(dir, 'whirlwind.warc.wet.gz')]);
  t.equal(JSON.parse(wet.stdout).language, 'es');
  const euc = await runCli(['mine', join(dir, 'resiliparse-clueweb-quirk.warc.gz')]);
  t.match(JSON.parse(lines(euc.stdout)[0]!).text, /[\u3040-\u30ff]/, 'EUC-JP decoded');
});

t.test('stdin, | head, missing file, --help', async (t) => {
  const dir = t.testdir();
  const file = join(dir, 'fx.warc.gz');
  writeFileSync(file, generateWarc({ pages: 200, seed: 2 }).bytes);
  const head = await runShell(`mathpipe mine < ${file} | head -2`);
  t.equal(head.code, 0, head.stderr);
  t.equal(lines(head.stdout).length, 2);
  const missing = await runCli(['mine', join(dir, 'nope.warc.gz')]);
  t.equal(missing.code, 74);
  t.match(missing.stderr, 'no such file');
  const help = await runCli(['mine', '--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /--prefilter.*--keep-going.*--resume/s);
  t.match(help.stdout, /Examples:/);
});

t.test('worker threads, whole-file gzip and plain input all give the same documents', async (t) => {
  const dir = t.testdir();
  const g = generateWarc({ pages: 150, seed: 9 });
  // A bad record in the middle, after the point where extraction moves to worker threads.
  const bad = gzipSync('WARC/1.0\r\nWARC-Type: response\r\n\r\n');
  const cut = g.bytes.length >> 1;
  let at = cut;
  while (!(g.bytes[at] === 0x1f && g.bytes[at + 1] === 0x8b && g.bytes[at + 2] === 8)) at++;
  const file = join(dir, 'mixed.warc.gz');
  writeFileSync(file, Buffer.concat([g.bytes.subarray(0, at), bad, g.bytes.subarray(at)]));
  const one = await runCli(['mine', '--keep-going', '-t', '1', file]);
  const two = await runCli(['mine', '--keep-going', '-t', '2', file]);
  t.equal(one.code, 0, one.stderr);
  t.equal(two.stdout, one.stdout);
  t.equal(lines(one.stdout).length, 150);
  t.match(two.stderr, /1 bad records/);
  const strict = await runCli(['mine', '-t', '2', file]);
  t.equal(strict.code, 65);
  t.equal(strict.stdout, one.stdout.slice(0, strict.stdout.length), 'documents before the bad record were written in order');

  const { gunzipSync } = await import('node:zlib');
  const plain = gunzipSync(g.bytes);
  writeFileSync(join(dir, 'p.warc'), plain);
  writeFileSync(join(dir, 'w.warc.gz'), gzipSync(plain));
  const strip = (s: string) => lines(s).map((l) => { const d = JSON.parse(l); delete d.provenance; return JSON.stringify(d); });
  const p = await runCli(['mine', join(dir, 'p.warc')]);
  const w = await runCli(['mine', join(dir, 'w.warc.gz')]);
  const m = await runCli(['mine', '-t', '1', '--keep-going', file]);
  t.same(strip(p.stdout), strip(m.stdout));
  t.same(strip(w.stdout), strip(m.stdout));
});

/** A response record whose HTTP body, `size` bytes of spaces, is sent with Content-Encoding `enc`. */
function bombResponse(id: string, enc: 'gzip' | 'br', size: number): Buffer {
  const zeros = Buffer.alloc(size, 0x20);
  const body = enc === 'gzip' ? gzipSync(zeros) : brotliCompressSync(zeros);
  const http = Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: ${enc}\r\n\r\n`), body]);
  return warcRecord({ 'WARC-Type': 'response', 'WARC-Target-URI': `http://${id}.example.com/`, 'WARC-Record-ID': `<urn:uuid:${id}>`, 'Content-Type': 'application/http; msgtype=response' }, http);
}

t.test('decompression bombs are bad records, not a crash: Content-Encoding gzip/br and the gzip member itself', async (t) => {
  const dir = t.testdir();
  const MB = 1 << 20;
  // Enough records first for extraction to move to worker threads (-t 2), so both paths meet the bombs.
  const crawl = generateWarc({ pages: 100, seed: 21 });
  const wet = (id: string, text: string) => warcRecord({ 'WARC-Type': 'conversion', 'WARC-Target-URI': `http://${id}.example.com/`, 'WARC-Record-ID': `<urn:uuid:${id}>` }, text);
  const members = [
    crawl.bytes,
    gzipSync(bombResponse('gzip-bomb', 'gzip', 20 * MB)),
    gzipSync(bombResponse('br-bomb', 'br', 20 * MB)),
    gzipSync(wet('after-http-bombs', 'The derivative of x^2 is 2x.')),
    // A member that itself inflates to 20 MB: an honest Content-Length, then one that lies.
    gzipSync(wet('big-member', 'x'.repeat(20 * MB))),
    gzipSync(Buffer.concat([Buffer.from('WARC/1.0\r\nWARC-Type: conversion\r\nWARC-Record-ID: <urn:uuid:liar>\r\nContent-Length: 5\r\n\r\nhello'), Buffer.alloc(20 * MB)])),
    // And one that claims 1 GiB: the skip stops at the next member.
    gzipSync(Buffer.concat([Buffer.from(`WARC/1.0\r\nWARC-Type: conversion\r\nWARC-Record-ID: <urn:uuid:huge-claim>\r\nContent-Length: ${1024 * MB}\r\n\r\n`), Buffer.alloc(3 * MB, 0x78)])),
    gzipSync(wet('last', 'The integral of 2x is x^2 + C.')),
  ];
  const offsets = members.map((_, i) => members.slice(0, i).reduce((n, m) => n + m.length, 0));
  const file = join(dir, 'bombs.warc.gz');
  writeFileSync(file, Buffer.concat(members));
  t.ok(members.slice(1).every((m) => m.length < 64 << 10), 'each bomb is a few KB of gzip');

  const strict = await runCli(['mine', '--max-record-size', '1M', file]);
  t.equal(strict.code, 65);
  t.match(strict.stderr, `${file}@${offsets[1]} (<urn:uuid:gzip-bomb>): record too large: its HTTP body (Content-Encoding: gzip) decodes to more than --max-record-size 1048576 bytes`);

  const side = join(dir, 'errors.jsonl');
  const one = await runCli(['mine', '--max-record-size', '1M', '--keep-going', '--errors', side, '-t', '1', file]);
  t.equal(one.code, 0, one.stderr);
  t.match(one.stderr, /5 bad records/);
  const docs = lines(one.stdout).map((l) => JSON.parse(l));
  t.same(docs.slice(-2).map((d) => [d.id, d.provenance.offset]), [['urn:uuid:after-http-bombs', offsets[3]], ['urn:uuid:last', offsets[7]]], 'records after a streamed member keep their own offsets');
  t.equal(docs.length, crawl.pages.length + 2);
  const listed = lines(readFileSync(side, 'utf8')).map((l) => JSON.parse(l));
  t.same(listed.map((e) => [e.offset, e.id]), [[offsets[1], '<urn:uuid:gzip-bomb>'], [offsets[2], '<urn:uuid:br-bomb>'], [offsets[4], '<urn:uuid:big-member>'], [offsets[5], '<urn:uuid:liar>'], [offsets[6], '<urn:uuid:huge-claim>']]);
  t.match(listed[1].error, 'Content-Encoding: br) decodes to more than');
  t.match(listed[2].error, 'record too large: Content-Length 20971520 is over --max-record-size 1048576 bytes');
  t.match(listed[3].error, 'Content-Length 5 does not match the record');

  const two = await runCli(['mine', '--max-record-size', '1M', '--keep-going', '-t', '2', file]);
  t.equal(two.stdout, one.stdout, 'worker threads cap the same way');
  // Under the default cap (50M) the 20 MB records are read.
  const dflt = await runCli(['mine', '--keep-going', '-t', '1', file]);
  t.match(dflt.stderr, /2 bad records/, 'only the lying records');
  t.equal(lines(dflt.stdout).length, crawl.pages.length + 3);
});

t.test('--max-record-size: a size with K/M/G; whole-file gzip beyond it is streamed with the same documents', async (t) => {
  const dir = t.testdir();
  const g = generateWarc({ pages: 40, seed: 8 });
  const { gunzipSync } = await import('node:zlib');
  const whole = join(dir, 'whole.warc.gz');
  writeFileSync(whole, gzipSync(gunzipSync(g.bytes)));
  const plain = await runCli(['mine', whole]);
  const small = await runCli(['mine', '--max-record-size', '64K', whole]);
  t.equal(small.code, 0, small.stderr);
  t.equal(small.stdout, plain.stdout);
  // Plain input: the long record is stepped over, the next one read.
  const wet = (id: string, text: string) => warcRecord({ 'WARC-Type': 'conversion', 'WARC-Target-URI': `http://${id}.example.com/`, 'WARC-Record-ID': `<urn:uuid:${id}>` }, text);
  const flat = join(dir, 'flat.warc');
  writeFileSync(flat, Buffer.concat([wet('long', 'y'.repeat(3 << 20)), wet('next', 'The sum of 2 and 2 is 4.')]));
  const r = await runCli(['mine', '--max-record-size', '1.5M', '--keep-going', flat]);
  t.equal(r.code, 0, r.stderr);
  t.same(lines(r.stdout).map((l) => JSON.parse(l).id), ['urn:uuid:next']);
  t.match(r.stderr, `${flat}@0 (<urn:uuid:long>): record too large: Content-Length 3145728 is over --max-record-size 1572864 bytes; skipped`);
  for (const bad of ['0', 'abc', '1X', '-5']) {
    const r = await runCli(['mine', '--max-record-size', bad, whole]);
    t.equal(r.code, 2, bad);
    t.match(r.stderr, /--max-record-size must be a size in bytes/, bad);
  }
  t.match((await runCli(['mine', '--help'])).stdout, /--max-record-size/);
});
