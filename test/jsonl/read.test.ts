import t from 'tap';
import { writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { readAllJsonl, newReadStats } from '../../src/jsonl/read.js';
import { withFields } from '../../src/jsonl/write.js';
import { DataError } from '../../src/cli/errors.js';

t.test('reads plain and gzipped files in order, ignoring blank lines, CRLF and BOM', async (t) => {
  const dir = t.testdir();
  const a = join(dir, 'a.jsonl');
  const b = join(dir, 'b.jsonl.gz');
  writeFileSync(a, '\uFEFF{"id":"1"}\r\n\n   \n{"id":"2"}');
  writeFileSync(b, gzipSync('{"id":"3"}\n'));
  const recs = await readAllJsonl([a, b]);
  t.same(recs.map((r) => r.value.id), ['1', '2', '3']);
  t.same(recs.map((r) => r.line), [1, 4, 1]);
});

t.test('keeps the raw line so big numbers and key order survive', async (t) => {
  const dir = t.testdir();
  const f = join(dir, 'big.jsonl');
  const line = '{"z":1,"big":123456789012345678901234567890,"u":"\\u00e9\u4e2d","a":1.50}';
  writeFileSync(f, line + '\n');
  const [r] = await readAllJsonl([f]);
  t.equal(r.raw, line);
  t.equal(withFields(r, { score: 0.5 }), line.slice(0, -1) + ',"score":0.5}');
  t.equal(withFields({ ...r, raw: '{}', value: {} }, { score: 1 }), '{"score":1}');
  t.equal(JSON.parse(withFields(r, { z: 2 })).z, 2, 'replacing an existing key re-serialises');
});

t.test('lines longer than a read chunk are joined intact', async (t) => {
  const dir = t.testdir();
  const f = join(dir, 'long.jsonl');
  const text = 'é'.repeat(3_000_000); // 6 MB, several chunks, multi-byte chars across chunk edges
  writeFileSync(f, JSON.stringify({ text }) + '\n{"id":"x"}\n');
  const recs = await readAllJsonl([f]);
  t.equal(recs.length, 2);
  t.equal((recs[0].value.text as string).length, text.length);
});

t.test('malformed JSON names file and line; --skip-invalid counts', async (t) => {
  const dir = t.testdir();
  const f = join(dir, 'bad.jsonl');
  writeFileSync(f, '{"id":"1"}\nnot json\n[1,2]\n{"id":"4"}\n');
  await t.rejects(readAllJsonl([f]), { name: DataError.name, message: `${f}:2: invalid JSON (Unexpected token` });
  const stats = newReadStats();
  const recs = await readAllJsonl([f], { skipInvalid: true, stats });
  t.same(recs.map((r) => r.value.id), ['1', '4']);
  t.equal(stats.skipped, 2);
});

t.test('invalid UTF-8 is an error, a literal U+FFFD is not', async (t) => {
  const dir = t.testdir();
  const f = join(dir, 'u.jsonl');
  writeFileSync(f, Buffer.concat([Buffer.from('{"t":"\uFFFD"}\n{"t":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}\n')]));
  await t.rejects(readAllJsonl([f]), /u\.jsonl:2: invalid UTF-8/);
});

t.test('--skip-invalid skips (and counts) lines that are not UTF-8; the others pass byte for byte', async (t) => {
  const dir = t.testdir();
  const f = join(dir, 'u.jsonl');
  const good = ['{"t":"\uFFFD literal"}', '{"t":"café — 中文 😀","n":1.50}', '{"t":"\\ud800 escaped"}'];
  const bad = [Buffer.from([0xc3, 0x28]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xf0, 0x9f, 0x98])]; // bad continuation, surrogate, truncated
  const parts: Buffer[] = [];
  good.forEach((g, i) => parts.push(Buffer.from(`${g}\n{"t":"`), bad[i]!, Buffer.from('"}\n')));
  writeFileSync(f, Buffer.concat(parts));
  await t.rejects(readAllJsonl([f]), /u\.jsonl:2: invalid UTF-8/);
  const stats = newReadStats();
  const recs = await readAllJsonl([f], { skipInvalid: true, stats });
  t.same(recs.map((r) => r.raw), good);
  t.same(recs.map((r) => r.line), [1, 3, 5]);
  t.equal(stats.skipped, 3);
  t.equal(stats.records, 3);
});

t.test('truncated gzip is a data error naming the file', async (t) => {
  const dir = t.testdir();
  const f = join(dir, 't.jsonl.gz');
  const gz = gzipSync(Array.from({ length: 2000 }, (_, i) => JSON.stringify({ id: i, pad: 'x'.repeat(50) })).join('\n'));
  writeFileSync(f, gz.subarray(0, gz.length - 40));
  await t.rejects(readAllJsonl([f]), /t\.jsonl\.gz: truncated or corrupt gzip/);
});

t.test('withWriter: the file appears only when the body succeeds', async (t) => {
  const { withWriter } = await import('../../src/jsonl/write.js');
  const { existsSync, readdirSync, readFileSync } = await import('node:fs');
  const dir = t.testdir();
  const ok = join(dir, 'ok.jsonl');
  t.equal(await withWriter(ok, async (w) => (await w.writeJson({ a: 1 }), 7)), 7);
  t.equal(readFileSync(ok, 'utf8'), '{"a":1}\n');
  const bad = join(dir, 'bad.jsonl');
  await t.rejects(withWriter(bad, async (w) => { await w.writeJson({ a: 1 }); throw new Error('boom'); }), /boom/);
  t.notOk(existsSync(bad));
  t.same(readdirSync(dir).sort(), ['ok.jsonl'], 'no temporary file left');
});
