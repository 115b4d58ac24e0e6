import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SAMPLES } from './samples.js';
import { UsageError } from '../../src/cli/errors.js';
import { loadTokenizer, MATH_PATTERN, compilePattern, preTokens, BUILTIN_ENCODINGS } from '../../src/tokenizer/index.js';


t.test('decode(encode(x)) == x for every built-in encoding', async (t) => {
  for (const name of BUILTIN_ENCODINGS) {
    const tok = loadTokenizer(name);
    for (const s of SAMPLES) t.equal(tok.decode(tok.encode(s)), s, `${name}: ${JSON.stringify(s.slice(0, 20))}`);
    const ids = tok.encode('a b c 12345');
    t.ok(ids.every((id) => id < tok.vocabSize), `${name}: ids below vocabSize ${tok.vocabSize}`);
    tok.free();
  }
});

t.test('built-in ids match OpenAI reference values', async (t) => {
  const tok = loadTokenizer('cl100k_base');
  t.same(tok.encode('hello world'), [15339, 1917]);
  t.equal(tok.eos, 100257);
  t.equal(tok.vocabSize, 100277);
  t.same(tok.encode('<|endoftext|>', { allowSpecial: true }), [100257]);
  t.not(tok.encode('<|endoftext|>').length, 1, 'special text is not special by default');
  t.equal(loadTokenizer('p50k_base').vocabSize, 50281, 'p50k has ordinary ranks above its special token');
  t.equal(loadTokenizer('o200k_base').vocabSize, 200019);
});

t.test('decode rejects ids outside the vocabulary instead of crashing wasm', async (t) => {
  const tok = loadTokenizer('cl100k_base');
  t.throws(() => tok.decode([100256]), RangeError, 'a gap before the special tokens');
  t.throws(() => tok.decode([5_000_000]), RangeError);
  t.equal(tok.decode([15339]), 'hello', 'still usable afterwards');
});

t.test('math pattern splits every digit and keeps LaTeX commands whole', async (t) => {
  const re = compilePattern(MATH_PATTERN);
  const parts = [...preTokens(re, 'x = 12345.67 and \\frac{3}{4} + \\sqrt{2}, \\alpha\\beta')];
  for (const d of '1234567') t.ok(parts.includes(d), `digit ${d} alone`);
  t.notOk(parts.some((p) => /\d\d/.test(p)), 'no pre-token holds two digits');
  t.ok(parts.includes(' \\frac'));
  t.ok(parts.includes(' \\sqrt'));
  t.ok(parts.includes(' \\alpha'));
  t.ok(parts.includes('\\beta'));
  t.equal(parts.join(''), 'x = 12345.67 and \\frac{3}{4} + \\sqrt{2}, \\alpha\\beta', 'pre-tokens cover the text');
});

t.test('save() writes a self-contained tokenizer directory that loads back identically', async (t) => {
  const dir = t.testdir();
  const tok = loadTokenizer('gpt2');
  tok.save(join(dir, 'tk'));
  const back = loadTokenizer(join(dir, 'tk'));
  for (const s of SAMPLES) t.same(back.encode(s), tok.encode(s));
  t.equal(back.vocabSize, tok.vocabSize);
  t.equal(back.eos, tok.eos);
  const cfg = JSON.parse(readFileSync(join(dir, 'tk', 'tiktoken_config.json'), 'utf8'));
  t.equal(cfg.eos_token, '<|endoftext|>');
  t.match(readFileSync(join(dir, 'tk', 'tokenizer.tiktoken'), 'utf8').split('\n')[0], /^[A-Za-z0-9+/=]+ 0$/);
});

t.test('unknown tokenizer is a usage error', async (t) => {
  t.throws(() => loadTokenizer('no_such_encoding'), UsageError);
});
