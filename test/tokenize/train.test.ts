import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tiktoken } from 'tiktoken';
import { runCli } from '../helpers.js';
import { loadTokenizer, compilePattern, preTokens } from '../../src/tokenizer/index.js';
import { trainBpe } from '../../src/tokenize/bpe.js';
import { corpus } from '../../fixtures/tokenize/corpus.js';
import { SAMPLES } from './samples.js';

/** tiktoken's algorithm, written plainly: repeatedly merge the adjacent pair whose bytes have the lowest rank. */
function referenceEncode(ranks: Map<string, number>, piece: Uint8Array): number[] {
  let parts = Array.from(piece, (b) => Buffer.from([b]).toString('latin1'));
  for (;;) {
    let best = -1;
    let bestRank = Infinity;
    for (let i = 0; i < parts.length - 1; i++) {
      const r = ranks.get(parts[i] + parts[i + 1]);
      if (r !== undefined && r < bestRank) {
        bestRank = r;
        best = i;
      }
    }
    if (best < 0) break;
    parts = [...parts.slice(0, best), parts[best] + parts[best + 1], ...parts.slice(best + 2)];
  }
  return parts.map((p) => ranks.get(p)!);
}

t.test('tokenize train: tiktoken loads the files and encodes as BPE ranks say; digits split; LaTeX kept', async (t) => {
  const dir = t.testdir();
  const input = join(dir, 'corpus.jsonl');
  const docs = [...corpus(5, 600_000)];
  writeFileSync(input, docs.map((d) => JSON.stringify(d) + '\n').join(''));
  const out = join(dir, 'tok');
  const r = await runCli(['tokenize', 'train', '-v', '1500', '-o', out, '--special', '<|tool|>', input]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /vocabulary 1500 \(1236 merges \+ 256 bytes \+ 8 special\)/);

  const ranksText = readFileSync(join(out, 'tokenizer.tiktoken'), 'utf8');
  const cfg = JSON.parse(readFileSync(join(out, 'tiktoken_config.json'), 'utf8'));
  t.equal(cfg.n_vocab, 1500);
  t.same(Object.keys(cfg.special_tokens), ['<|begin_of_text|>', '<|end_of_text|>', '<|pad|>', '<|system|>', '<|user|>', '<|assistant|>', '<|end_of_turn|>', '<|tool|>']);
  const ranks = new Map<string, number>();
  for (const line of ranksText.trim().split('\n')) {
    const [b64, rank] = line.split(' ');
    const key = Buffer.from(b64, 'base64').toString('latin1');
    if (ranks.has(key)) t.fail(`two ranks for ${JSON.stringify(key)}`);
    ranks.set(key, Number(rank));
  }
  t.equal(ranks.size, 1492);

  // tiktoken's own class, given nothing but the two files, and our loader agree; both match the plain algorithm.
  const raw = new Tiktoken(ranksText, cfg.special_tokens, cfg.pat_str);
  const tok = loadTokenizer(out);
  const re = compilePattern(cfg.pat_str);
  const texts = [...SAMPLES, ...docs.slice(0, 30).map((d) => d.text)];
  for (const text of texts) {
    const ids = Array.from(raw.encode_ordinary(text));
    t.same(tok.encode(text), ids);
    const ref = [...preTokens(re, text)].flatMap((p) => referenceEncode(ranks, Buffer.from(p, 'utf8')));
    t.same(ids, ref, `reference BPE: ${JSON.stringify(text.slice(0, 30))}`);
    t.equal(tok.decode(ids), text, 'round trip');
  }
  t.same(tok.encode('<|end_of_text|>', { allowSpecial: true }), [tok.eos]);
  t.equal(tok.eos, cfg.special_tokens['<|end_of_text|>']);
  t.same(tok.chat, { system: 1495, user: 1496, assistant: 1497, end_of_turn: 1498 });

  // Digit splitting: no token holds two digits, so 12345 is always 5 tokens.
  t.same([...ranks.keys()].filter((k) => /[0-9][0-9]/.test(k)), [], 'no token holds two digits');
  t.equal(tok.encode('12345').length, 5);
  t.ok(ranks.has(' \\frac') || ranks.has('\\frac'), 'a frequent LaTeX command became one token');
  t.equal(tok.encode('$\\frac').length, 2, '"$" then "\\frac"');
  raw.free();
});

t.test('training is deterministic and bounded by --min-frequency', async (t) => {
  const dir = t.testdir();
  const input = join(dir, 'c.jsonl');
  writeFileSync(input, [...corpus(9, 100_000)].map((d) => JSON.stringify(d) + '\n').join(''));
  // Tiny chunks are not an option of train, so use several input files to spread the counting over threads.
  const parts = [0, 1, 2].map((i) => join(dir, `p${i}.jsonl`));
  const all = readFileSync(input, 'utf8').split('\n');
  parts.forEach((p, i) => writeFileSync(p, all.filter((_, k) => k % 3 === i).join('\n')));
  for (const [o, j] of [['a', '0'], ['b', '1'], ['c', '3']]) {
    const r = await runCli(['tokenize', 'train', '-q', '-v', '600', '-j', j, '-o', join(dir, o), ...parts]);
    t.equal(r.code, 0, r.stderr);
  }
  const ranks = (o: string) => readFileSync(join(dir, o, 'tokenizer.tiktoken'), 'utf8');
  t.equal(ranks('b'), ranks('a'), '1 thread = in-process');
  t.equal(ranks('c'), ranks('a'), '3 threads = in-process');
  const docsIn = (f: string) => readFileSync(f, 'utf8').split('\n').filter((l) => l.trim()).length;
  const m = await runCli(['tokenize', 'train', '-v', '600', '--max-bytes', '1', '-o', join(dir, 'm'), ...parts]);
  t.equal(m.code, 0, m.stderr);
  t.match(m.stderr, new RegExp(`: ${docsIn(parts[0])} documents`), '--max-bytes stops after the first (1 MB) chunk');
  const r = await runCli(['tokenize', 'train', '-v', '5000', '--min-frequency', '1000', '-o', join(dir, 'd'), input]);
  t.equal(r.code, 0);
  t.match(r.stderr, /warning: only \d+ ordinary tokens/);
  const cfg = JSON.parse(readFileSync(join(dir, 'd', 'tiktoken_config.json'), 'utf8'));
  t.ok(cfg.n_vocab < 5000, 'stopped early');
  t.equal(Math.max(...Object.values(cfg.special_tokens as Record<string, number>)), cfg.n_vocab - 1, 'specials follow the ranks');
});

t.test('trainBpe: merges by frequency, ties by smaller pair, and joins equal byte strings', async (t) => {
  // "ab" x5, "abc" x3: first merge a+b (8), then ab+c (3).
  const r = trainBpe(new Map([['ab', 5], ['abc', 3], ['bc', 1]]), { ranks: 258, minFrequency: 1 });
  t.same(r.tokens.slice(256).map((b) => Buffer.from(b).toString()), ['ab', 'abc']);
  t.equal(r.corpusBytes, 10 + 9 + 2);
  t.equal(r.corpusTokens, 5 + 3 + 2);
  // "xyz" reachable as (xy)z and x(yz): one token, not two ranks with the same bytes.
  const r2 = trainBpe(new Map([['xy', 9], ['yz', 8], ['xyz', 1], ['xy z', 0]]), { ranks: 300, minFrequency: 1 });
  const strs = r2.tokens.slice(256).map((b) => Buffer.from(b).toString());
  t.equal(new Set(strs).size, strs.length);
});

t.test('train: usage and data errors', async (t) => {
  const dir = t.testdir({ 'c.jsonl': '{"text":"a b"}\n{"text":5}\n' });
  let r = await runCli(['tokenize', 'train', '-v', '100', '-o', join(dir, 'x'), join(dir, 'c.jsonl')]);
  t.equal(r.code, 2);
  t.match(r.stderr, /at least 263/);
  r = await runCli(['tokenize', 'train', '-v', '300', '-o', join(dir, 'x'), join(dir, 'c.jsonl')]);
  t.equal(r.code, 65);
  t.match(r.stderr, /c\.jsonl:2: field "text" is not a string/);
  r = await runCli(['tokenize', 'train', '-q', '-v', '300', '--skip-invalid', '-o', join(dir, 'x'), join(dir, 'c.jsonl')]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /skipped 1 invalid line/);
  r = await runCli(['tokenize', 'train', '-v', '300', '--pattern', '(?i:a)', '-o', join(dir, 'y'), join(dir, 'c.jsonl')]);
  t.equal(r.code, 2, 'a pattern JavaScript cannot run');
  t.match(r.stderr, /--pattern/);
});
