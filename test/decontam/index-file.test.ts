import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildIndex } from '../../src/decontam/bench.js';
import { parseIndex, serializeIndex, shareIndex, writeIndexFile, readIndexFile, MAGIC } from '../../src/decontam/index-file.js';
import { Words, splitWords } from '../../src/decontam/words.js';
import { benchItems } from '../../fixtures/decontam/gen.js';
import { runCli, sharedData } from '../helpers.js';

t.test('serialise -> parse keeps every table, bitset and source', async (t) => {
  const dir = t.testdir();
  const file = join(dir, 'arith.jsonl');
  const items = benchItems(60, 9);
  writeFileSync(file, [...items.map((x) => JSON.stringify(x)), '{"id":"s","question":"What is seven plus two?"}'].join('\n'));
  const gsm = sharedData('benchmarks/gsm8k/test.jsonl');
  const a = await buildIndex(gsm ? [file, gsm] : [file], 10);
  const path = join(dir, 'x.idx');
  const bytes = writeIndexFile(path, a);
  t.equal(bytes, serializeIndex(a).reduce((n, b) => n + b.length, 0));
  const b = readIndexFile(path);
  t.equal(b.n, a.n);
  t.same(b.grams.slots, a.grams.slots);
  t.same(b.short.slots, a.short.slots);
  t.equal(b.shortLengths, a.shortLengths);
  t.same(b.filter, a.filter);
  t.same(b.shortTrigrams, a.shortTrigrams);
  t.same(b.shortFirst, a.shortFirst);
  t.same(b.benchmarks, a.benchmarks);
  t.same(b.rules, a.rules, 'how it was built: --max-items and the stoplist');
  t.same(b.textItem, a.textItem);
  t.same(b.textBench, a.textBench);
  t.same(b.textField, a.textField);
  // Shared for worker threads (an index built in the run, or read without the addon): in shared memory.
  const s = shareIndex(b);
  t.ok(s.backing instanceof SharedArrayBuffer);
  t.same(s.textItem, a.textItem);
  t.same(s.grams.slots, a.grams.slots);
  const w = new Words();
  for (const x of items.slice(0, 20)) {
    const ha = a.firstHit(splitWords(`xx ${x.question} yy`, w));
    const hb = b.firstHit(splitWords(`xx ${x.question} yy`, w));
    t.same(hb, ha);
    t.same(b.source(hb!.text), a.source(ha!.text));
  }
  t.ok(b.firstHit(splitWords('so, what is SEVEN plus two?', w)), 'short texts survive the round trip');
});

t.test('header checks: magic, versions', async (t) => {
  const dir = t.testdir();
  const file = join(dir, 'b.jsonl');
  writeFileSync(file, JSON.stringify({ question: 'one two three four five six seven eight nine ten eleven' }));
  const buf = Buffer.concat(serializeIndex(await buildIndex([file], 10)));
  t.equal(buf.toString('latin1', 0, 8), MAGIC);
  t.equal(buf.readUInt32LE(16), 10, 'n at offset 16');
  const v1 = Buffer.from(buf);
  v1.writeUInt32LE(1, 8);
  v1.writeUInt32LE(1, 12);
  t.throws(() => parseIndex(v1, 'v1.idx'), /format version 1, this mathpipe reads 2: rebuild it with `mathpipe decontam index`/);
  const norm = Buffer.from(buf);
  norm.writeUInt32LE(99, 12);
  t.throws(() => parseIndex(norm, 'n.idx'), /word normaliser v99.*rebuild it/);
  t.equal(parseIndex(buf, 'ok.idx').n, 10);
});

t.test('an index built by an older mathpipe is refused with exit 65, saying to rebuild it', async (t) => {
  const dir = t.testdir();
  const file = join(dir, 'b.jsonl');
  writeFileSync(file, JSON.stringify({ question: 'one two three four five six seven eight nine ten eleven' }));
  const old = Buffer.concat(serializeIndex(await buildIndex([file], 10)));
  old.writeUInt32LE(1, 8); // format 1 with normaliser 1: LaTeX commands dropped, annotations kept
  old.writeUInt32LE(1, 12);
  writeFileSync(join(dir, 'old.idx'), old);
  const r = await runCli(['decontam', '--index', join(dir, 'old.idx')], { input: '{"text":"x"}\n' });
  t.equal(r.code, 65, r.stderr);
  t.match(r.stderr, /old\.idx: not a usable decontam index: format version 1, this mathpipe reads 2: rebuild it with `mathpipe decontam index`/);
  t.equal(r.stdout, '');
});
