import t from 'tap';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { gzipSync, gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { runCli, runShell, lines } from '../helpers.js';
import { IndexedDataset } from '../../src/dataset/indexed.js';
import { loadTokenizer } from '../../src/tokenizer/index.js';
import { corpus } from '../../fixtures/tokenize/corpus.js';
import { SAMPLES } from './samples.js';

function corpusFile(dir: string, bytes: number, seed = 3): string {
  const p = join(dir, 'corpus.jsonl');
  writeFileSync(p, [...corpus(seed, bytes)].map((d) => JSON.stringify(d) + '\n').join(''));
  return p;
}

t.test('.idx golden bytes and .bin ids for two documents (gpt2, uint16, EOS appended)', async (t) => {
  const dir = t.testdir({ 'in.jsonl': '{"id":"a","text":"hello world"}\n{"id":"b","text":"!"}\n' });
  const r = await runCli(['tokenize', '-q', '-t', 'gpt2', '-o', join(dir, 'ds'), join(dir, 'in.jsonl')]);
  t.equal(r.code, 0, r.stderr);
  const idx = readFileSync(join(dir, 'ds.idx')).toString('hex');
  t.equal(
    idx,
    '4d4d49444944580000' + '0100000000000000' + '08' + '0200000000000000' + '0300000000000000' +
      '03000000' + '02000000' + // lengths: [hello, world, eos], [!, eos]
      '0000000000000000' + '0600000000000000' +
      '0000000000000000' + '0100000000000000' + '0200000000000000',
  );
  const bin = readFileSync(join(dir, 'ds.bin'));
  t.same(Array.from(new Uint16Array(bin.buffer, bin.byteOffset, bin.length / 2)), [31373, 995, 50256, 0, 50256]);
  const meta = JSON.parse(readFileSync(join(dir, 'ds.meta.json'), 'utf8'));
  t.match(meta, { tokenizer: 'gpt2', vocab_size: 50257, eos_id: 50256, documents: 2, tokens: 5, dtype: 'uint16' });
});

t.test('round trip through the dataset: decode(sequence) == text + EOS, for unicode, LaTeX and code', async (t) => {
  const docs = SAMPLES.map((text, i) => ({ id: `s${i}`, text }));
  const dir = t.testdir({ 'in.jsonl': docs.map((d) => JSON.stringify(d)).join('\n') + '\n' });
  for (const tk of ['cl100k_base', 'o200k_base']) {
    const prefix = join(dir, tk);
    const r = await runCli(['tokenize', '-q', '-t', tk, '-o', prefix, join(dir, 'in.jsonl')]);
    t.equal(r.code, 0, r.stderr);
    const ds = IndexedDataset.open(prefix);
    const tok = loadTokenizer(tk);
    t.equal(ds.dtype, 'int32', 'a 100K+ vocabulary needs int32');
    t.equal(ds.numSequences, docs.length);
    docs.forEach((d, i) => {
      const seq = Array.from(ds.sequence(i));
      t.equal(seq.at(-1), tok.eos, 'EOS closes every document');
      t.equal(tok.decode(seq.slice(0, -1)), d.text);
    });
    ds.close();
  }
});

t.test('any number of workers gives byte-identical output', async (t) => {
  const dir = t.testdir();
  const input = corpusFile(dir, 200_000);
  const out: Buffer[] = [];
  for (const j of ['0', '1', '2', '3']) {
    const prefix = join(dir, `w${j}`);
    // Small chunks so that many chunks are in flight and finish out of order.
    const r = await runCli(['tokenize', '-q', '-t', 'cl100k_base', '-j', j, '--chunk-bytes', '5000', '-o', prefix, input]);
    t.equal(r.code, 0, r.stderr);
    out.push(Buffer.concat([readFileSync(`${prefix}.bin`), readFileSync(`${prefix}.idx`)]));
  }
  for (let i = 1; i < out.length; i++) t.ok(out[i].equals(out[0]), `workers=${[0, 1, 2, 3][i]} matches workers=0`);
  const ds = IndexedDataset.open(join(dir, 'w2'));
  t.equal(ds.numSequences, lines(readFileSync(input, 'utf8')).length);
});

t.test('--format jsonl, --bos, --no-eos, stdin and gzip input', async (t) => {
  const text = '{"id":"x","text":"hello world"}\n\n{"id":7,"text":""}\n';
  const dir = t.testdir({ 'in.jsonl.gz': gzipSync(text) });
  const r = await runCli(['tokenize', '-q', '-t', 'gpt2', '-f', 'jsonl', join(dir, 'in.jsonl.gz')]);
  t.equal(r.code, 0, r.stderr);
  t.same(lines(r.stdout).map((l) => JSON.parse(l)), [
    { id: 'x', tokens: [31373, 995, 50256] },
    { id: 7, tokens: [50256] },
  ]);
  const r2 = await runCli(['tokenize', '-q', '-t', 'gpt2', '-f', 'jsonl', '--bos', '--no-eos'], { input: text });
  t.same(JSON.parse(lines(r2.stdout)[0]).tokens, [50256, 31373, 995]);
  const r3 = await runCli(['tokenize', '-q', '-t', 'gpt2', '-f', 'jsonl', '--text-field', 'body', '--allow-special'], { input: '{"body":"a<|endoftext|>"}\n' });
  t.same(JSON.parse(r3.stdout).tokens, [64, 50256, 50256]);
  const gz = join(dir, 'ids.jsonl.gz');
  const r4 = await runCli(['tokenize', '-q', '-t', 'gpt2', '-f', 'jsonl', '-o', gz, join(dir, 'in.jsonl.gz')]);
  t.equal(r4.code, 0, r4.stderr);
  t.equal(gunzipSync(readFileSync(gz)).toString(), r.stdout, '-o FILE.gz compresses the same lines');
});

t.test('bad input: exit 65 naming file:line (and id), nothing left behind; --skip-invalid counts', async (t) => {
  const bad = Buffer.concat([
    Buffer.from('{"id":"ok","text":"fine"}\n{"id":"n","text":42}\n'),
    Buffer.from('{"id":"u","text":"caf'),
    Buffer.from([0xff, 0xfe]),
    Buffer.from('"}\n{not json\n["array"]\n{"id":"m"}\n{"id":"last","text":"end"}\n'),
  ]);
  const dir = t.testdir({ 'bad.jsonl': bad });
  const file = join(dir, 'bad.jsonl');
  const r = await runCli(['tokenize', '-t', 'gpt2', '-j', '2', '-o', join(dir, 'out'), file]);
  t.equal(r.code, 65);
  t.match(r.stderr, `${file}:2 (id n): field "text" is not a string but a number`);
  t.notOk(existsSync(join(dir, 'out.bin')) || existsSync(join(dir, 'out.bin.tmp')), 'no partial dataset');
  const cases: [string, RegExp][] = [
    ['{"text":"a"}\n{"text":"caf\xff"}\n', /<stdin>:2: invalid UTF-8/],
    ['{"text":"a"}\n\n{nope}\n', /<stdin>:3: invalid JSON/],
    ['[1]\n', /<stdin>:1: expected a JSON object/],
    ['{"id":"q","title":"t"}\n', /<stdin>:1 \(id q\): missing field "text"/],
  ];
  for (const [input, re] of cases) {
    const rr = await runCli(['tokenize', '-t', 'gpt2', '-f', 'jsonl'], { input: Buffer.from(input, 'latin1') });
    t.equal(rr.code, 65, String(re));
    t.match(rr.stderr, re);
  }
  const s = await runCli(['tokenize', '-t', 'gpt2', '-f', 'jsonl', '--skip-invalid', file]);
  t.equal(s.code, 0, s.stderr);
  t.same(lines(s.stdout).map((l) => JSON.parse(l).id), ['ok', 'last']);
  t.match(s.stderr, /skipped 5 invalid records/);
});

t.test('usage errors and | head', async (t) => {
  const r = await runCli(['tokenize', '-t', 'gpt2'], { input: '{"text":"a"}\n' });
  t.equal(r.code, 2, 'megatron output needs -o');
  t.match(r.stderr, /-o PREFIX/);
  const r2 = await runCli(['tokenize', '-t', 'nope', '-f', 'jsonl'], { input: '{"text":"a"}\n' });
  t.equal(r2.code, 2);
  const r3 = await runCli(['tokenize', '-t', 'cl100k_base', '--dtype', 'uint16', '-o', 'x'], { input: '' });
  t.equal(r3.code, 2, 'uint16 cannot hold cl100k ids');
  const r4 = await runCli(['tokenize', '-t', 'gpt2', '-o', '/nonexistent-dir/x'], { input: '{"text":"a"}\n' });
  t.equal(r4.code, 74, 'an unwritable output is an I/O error');
  t.match(r4.stderr, /cannot write \/nonexistent-dir\/x\.bin/);
  const dir = t.testdir({
    bad: { 'tiktoken_config.json': JSON.stringify({ format: 'mathpipe-tiktoken', version: 1, name: 'x', pat_str: '.', n_vocab: 2, special_tokens: { e: 1 }, bos_token: 'e', eos_token: 'e', pad_token: 'e' }), 'tokenizer.tiktoken': 'garbage\n' },
  });
  for (const j of ['0', '2']) {
    const b = await runCli(['tokenize', '-t', join(dir, 'bad'), '-f', 'jsonl', '-j', j], { input: '{"text":"a"}\n' });
    t.equal(b.code, 65, `a broken ranks file is bad data, also from a worker thread (-j ${j})`);
    t.match(b.stderr, /tokenizer\.tiktoken: tiktoken cannot load/);
  }
  const input = corpusFile(dir, 300_000);
  const h = await runShell(`mathpipe tokenize -t gpt2 -f jsonl --chunk-bytes 4096 ${input} | head -n 2`);
  t.equal(h.code, 0, h.stderr);
  t.equal(lines(h.stdout).length, 2);
  t.equal(h.stderr, '');
});
