// Options the other tokenize tests leave at their defaults: inspect --samples/--sample-tokens/-t, and
// tokenize train --name (stored in the config and reported by datasets encoded with it).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers.js';

const DOCS = ['hello world', 'hello there world', 'one two three four five six seven eight nine ten'].map((text, i) => JSON.stringify({ id: i, text })).join('\n') + '\n';

t.test('inspect: --samples, --sample-tokens, -t overrides the recorded tokenizer, -t none', async (t) => {
  const dir = t.testdir({ 'in.jsonl': DOCS });
  const prefix = join(dir, 'ds');
  t.equal((await runCli(['tokenize', '-q', '-t', 'gpt2', '-o', prefix, join(dir, 'in.jsonl')])).code, 0);
  const r = await runCli(['tokenize', 'inspect', '--json', '--samples', '2', '--sample-tokens', '1', prefix]);
  t.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  t.equal(j.samples.length, 2, 'two samples');
  t.equal(j.samples[0].text, 'hello', 'the first document, cut to one token');
  const none = await runCli(['tokenize', 'inspect', '--json', '-t', 'none', '--samples', '1', prefix]);
  t.equal(none.code, 0, none.stderr);
  t.notOk(JSON.parse(none.stdout).samples?.[0]?.text, '-t none: ids only, no decoded text');
  const other = await runCli(['tokenize', 'inspect', '--json', '-t', 'cl100k_base', prefix]);
  t.equal(other.code, 0, other.stderr);
  t.equal(JSON.parse(other.stdout).tokenizer, 'cl100k_base', '-t wins over PREFIX.meta.json');
  const bad = await runCli(['tokenize', 'inspect', '--samples', '-1', prefix]);
  t.equal(bad.code, 2, 'negative --samples is a usage error');
});

t.test('train --name is stored in the tokenizer config', async (t) => {
  const dir = t.testdir({ 'in.jsonl': DOCS });
  const tok = join(dir, 'tok');
  const r = await runCli(['tokenize', 'train', '-q', '-v', '270', '--name', 'my-bpe', '-o', tok, join(dir, 'in.jsonl')]);
  t.equal(r.code, 0, r.stderr);
  t.equal(JSON.parse(readFileSync(join(tok, 'tiktoken_config.json'), 'utf8')).name, 'my-bpe');
});
