// How decontam reads and writes its blocks: a plain file is mapped (native/map-file.cc) and must give the
// same blocks as the stream reader (stdin, gzip, no addon); a block whose every line is kept as it is comes
// back as a view of itself, any other is copied, and the bytes are the same either way.
import t from 'tap';
import { closeSync, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { BLOCK, isMapped, readBlocks } from '../../src/decontam/blocks.js';
import { BlockScanner, resolveKept } from '../../src/decontam/block-scan.js';
import { buildIndex } from '../../src/decontam/bench.js';
import { mapFile, nativeAvailable } from '../../src/decontam/native-scan.js';

const dir = mkdtempSync(join(tmpdir(), 'mp-blocks-'));

async function blocksOf(path: string) {
  const stats = { bytes: 0, lines: 0 };
  const blocks: { firstLine: number; buf: Buffer; mapped: boolean }[] = [];
  for await (const b of readBlocks([path], stats)) blocks.push({ firstLine: b.firstLine, buf: Buffer.from(b.buf), mapped: isMapped(b.buf) });
  return { blocks, stats };
}

/** Lines of varied length, one longer than a block (the mapped window must widen), no "\n" at the end. */
function content(): Buffer {
  const lines: string[] = [];
  for (let i = 0; i < 9000; i++) lines.push(JSON.stringify({ id: i, text: 'word '.repeat(i % 97) + 'é' }));
  lines.splice(4000, 0, JSON.stringify({ id: 'long', text: 'x'.repeat(3 * BLOCK) }));
  return Buffer.from(lines.join('\n'));
}

t.test('a mapped file gives the blocks the stream reader gives', async (t) => {
  const data = content();
  const plain = join(dir, 'c.jsonl');
  const gz = join(dir, 'c.jsonl.gz');
  writeFileSync(plain, data);
  writeFileSync(gz, gzipSync(data));
  const a = await blocksOf(plain);
  const b = await blocksOf(gz);
  const fd = openSync(plain, 'r');
  const canMap = mapFile(fd, 0, 1) !== undefined;
  closeSync(fd);
  t.equal(canMap, nativeAvailable(), 'the addon maps files');
  t.ok(a.blocks.every((x) => x.mapped === canMap), canMap ? 'a plain file is mapped' : 'no addon: read as a stream');
  t.notOk(b.blocks.some((x) => x.mapped), 'gzip is read as a stream');
  t.ok(Buffer.concat(a.blocks.map((x) => x.buf)).equals(data), 'mapped blocks: the file, in order');
  t.ok(Buffer.concat(b.blocks.map((x) => x.buf)).equals(data), 'streamed blocks: the file, in order');
  t.equal(a.stats.lines, 9001);
  t.equal(b.stats.lines, 9001);
  t.equal(a.stats.bytes, data.length);
  for (const { blocks } of [a, b]) {
    let line = 1;
    for (const x of blocks) {
      t.equal(x.firstLine, line);
      line += x.buf.filter((c) => c === 10).length;
      t.ok(x.buf[x.buf.length - 1] === 10 || x === blocks[blocks.length - 1], 'whole lines');
    }
  }
  t.ok(a.blocks.some((x) => x.buf.length > 3 * BLOCK), 'the long line is whole');
});

t.test('kept lines are written as views of the block, only rewritten ones copied, the same bytes', async (t) => {
  const bench = join(dir, 'bench.jsonl');
  const q = 'Natalia sold clips to forty eight of her friends in April and then half as many in May';
  writeFileSync(bench, JSON.stringify({ id: 'q1', question: q }) + '\n');
  const index = await buildIndex([bench], 10, { stoplist: ['none'], maxItems: 0 });
  const clean = Array.from({ length: 50 }, (_, i) => JSON.stringify({ id: i, text: `document ${i} about something else entirely, ½ a page` }));
  const cases: [string, string, string][] = [
    // name, block, expected output
    ['all kept', clean.join('\n') + '\n', clean.join('\n') + '\n'],
    ['one removed', [...clean.slice(0, 20), JSON.stringify({ text: q }), ...clean.slice(20)].join('\n') + '\n', clean.join('\n') + '\n'],
    ['a CRLF line', clean.slice(0, 10).join('\n') + '\r\n' + clean.slice(10).join('\n') + '\n', clean.join('\n') + '\n'],
    ['no final newline', clean.join('\n'), clean.join('\n') + '\n'],
    ['a blank line', clean.slice(0, 10).join('\n') + '\n\n' + clean.slice(10).join('\n') + '\n', clean.join('\n') + '\n'],
  ];
  for (const native of [false, true]) {
    const sc = new BlockScanner(index, { textField: 'text', mode: 'doc', skipInvalid: false, evidence: false }, native);
    for (const [name, block, want] of cases) {
      const buf = Buffer.from(block);
      const r = sc.scan(buf, 'c.jsonl', 1);
      const what = `${name} (${sc.isNative ? 'native' : 'JS'} scan)`;
      const pieces = resolveKept(r, buf);
      t.equal(Buffer.concat(pieces).toString(), want, `${what}: output`);
      t.equal(r.keptLines, 50, `${what}: lines`);
      const copied = pieces.filter((p) => p.buffer !== buf.buffer).reduce((n, p) => n + p.length, 0);
      // A removed or blank line only splits the block's view in two; "\r\n" puts the rest of the block in a copy.
      const wantCopied = { 'all kept': 0, 'one removed': 0, 'a blank line': 0, 'no final newline': Buffer.byteLength(clean[49]) + 1 }[name];
      if (wantCopied === undefined) t.ok(copied > 0 && copied < want.length, `${what}: the lines from the "\\r" on copied`);
      else t.equal(copied, wantCopied, `${what}: ${copied} bytes copied`);
      t.equal(pieces.length, { 'all kept': 1, 'one removed': 2, 'a blank line': 2, 'no final newline': 2 }[name] ?? 2, `${what}: pieces`);
      // "½" is not its own NFKC but maps to one run of stable characters: the native scan normalises it itself.
      if (name === 'all kept' && sc.isNative) t.equal(sc.handedBack, 0, `${what}: no line handed back to JavaScript`);
    }
  }
});

t.test('a batch scan gives what the block scan gives, also past the lines it records per block', { skip: nativeAvailable() ? false : 'no native addon' }, async (t) => {
  const bench = join(dir, 'bench2.jsonl');
  const q = 'Natalia sold clips to forty eight of her friends in April and then half as many in May';
  writeFileSync(bench, JSON.stringify({ id: 'q1', question: q }) + '\n');
  const index = await buildIndex([bench], 10, { stoplist: ['none'], maxItems: 0 });
  const doc = (i: number) => JSON.stringify({ id: i, text: i % 50 === 7 ? `${q} (${i})` : `document ${i}, ½ a page about something else` });
  const lines = Array.from({ length: 5000 }, (_, i) => doc(i));
  const blocks = [
    // "\r\n" from line 100 on: 4,900 lines the batch scan must record, more than it has room for (4,096).
    lines.slice(0, 100).join('\n') + '\n' + lines.slice(100).join('\r\n') + '\r\n',
    '\ufeff' + lines.join('\n') + '\n',
    lines.join('\n'),
    lines.slice(0, 3).join('\n') + '\n\n' + lines.slice(3).join('\n') + '\n',
  ].map((b, i) => ({ buf: Buffer.from(b), file: `b${i}.jsonl`, firstLine: i === 1 ? 1 : 10 * i + 2 }));
  const o = { textField: 'text', mode: 'doc' as const, skipInvalid: false, evidence: true };
  const one = new BlockScanner(index, o);
  const want = blocks.map((b) => one.scan(b.buf, b.file, b.firstLine));
  for (const threads of [1, 2, 3]) {
    const got = new BlockScanner(index, o).scanBatch(blocks, threads);
    got.forEach((r, i) => {
      const what = `block ${i}, ${threads} thread(s)`;
      t.equal(Buffer.concat(resolveKept(r, blocks[i].buf)).toString(), Buffer.concat(resolveKept(want[i], blocks[i].buf)).toString(), `${what}: output`);
      t.same([r.keptLines, r.counts, r.hits, r.removed], [want[i].keptLines, want[i].counts, want[i].hits, want[i].removed], `${what}: counts, hits and evidence`);
    });
  }
  t.equal(want[0].counts.docs_removed, 100, 'the planted documents are removed');
});
