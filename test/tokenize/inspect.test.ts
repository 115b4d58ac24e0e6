import t from 'tap';
import { join } from 'node:path';
import { runCli } from '../helpers.js';

t.test('inspect: counts, histogram, vocabulary use, decoded sample (JSON and text)', async (t) => {
  const docs = ['hello world', 'hello', 'a b c d e f g h i j k l m n o p'].map((text, i) => JSON.stringify({ id: i, text })).join('\n');
  const dir = t.testdir({ 'in.jsonl': docs + '\n' });
  const prefix = join(dir, 'ds');
  t.equal((await runCli(['tokenize', '-q', '-t', 'gpt2', '-o', prefix, join(dir, 'in.jsonl')])).code, 0);
  const r = await runCli(['tokenize', 'inspect', '--json', '--top', '2', prefix]);
  t.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  t.match(j, { documents: 3, tokens: 3 + 2 + 17, dtype: 'uint16', tokenizer: 'gpt2', length: { min: 2, max: 17, median: 3 } });
  t.same(j.histogram, [
    { lo: 2, hi: 4, documents: 2 },
    { lo: 16, hi: 32, documents: 1 },
  ]);
  t.same(j.eos, { id: 50256, count: 3, documents_ending_with_eos: 3 });
  t.equal(j.vocab.size, 50257);
  t.equal(j.vocab.used, 2 + 16 + 1, 'hello, world, 16 letters, eos');
  t.same(j.top_tokens[0], { id: 50256, count: 3, text: '<|endoftext|>' });
  t.equal(j.samples[0].text, 'hello world<|endoftext|>');
  const txt = await runCli(['tokenize', 'inspect', prefix]);
  t.equal(txt.code, 0);
  t.match(txt.stdout, /documents\s+3\n/);
  t.match(txt.stdout, /sample: document 0 \(3 tokens\)\nhello world<\|endoftext\|>/);
  const bad = await runCli(['tokenize', 'inspect', join(dir, 'nope')]);
  t.equal(bad.code, 74, 'a missing dataset is an I/O error');
});
