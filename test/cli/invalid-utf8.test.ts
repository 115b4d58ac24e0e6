// --skip-invalid skips lines that are not UTF-8 in every command reading JSONL through the shared reader
// (decontam with and without worker threads, classify, grade); without it they are exit 65 at file:line.
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers.js';

t.test('a line that is not UTF-8: exit 65 naming it, or skipped and counted with --skip-invalid', async (t) => {
  const dir = t.testdir();
  const rec = (id: string, text: string) => `{"id":"${id}","text":"${text}","label":"math","response":"The answer is 4","answer":"4"}`;
  const good = [rec('a', 'caf\u00e9 \u2014 the sum is 4'), rec('c', 'literal \uFFFD is fine')];
  const input = join(dir, 'in.jsonl');
  writeFileSync(input, Buffer.concat([Buffer.from(good[0] + '\n'), Buffer.from(rec('b', 'bad \xff\xfe bytes') + '\n', 'latin1'), Buffer.from(good[1] + '\n')]));
  const bench = join(dir, 'bench.jsonl');
  writeFileSync(bench, JSON.stringify({ question: 'Natalia sold clips to 48 of her friends in April and then half as many in May', answer: '72' }) + '\n');
  const model = join(dir, 'm.bin');
  const train = join(dir, 'train.jsonl');
  writeFileSync(train, Array.from({ length: 20 }, (_, i) => JSON.stringify({ text: `words ${i % 2 ? 'sum' : 'shop'} ${i}`, label: i % 2 ? 'math' : 'other' })).join('\n') + '\n');
  t.equal((await runCli(['classify', 'train', '-q', '-o', model, '--dim', '4', '--thread', '1', train])).code, 0);
  const fasttext = join(dir, 'ft.txt');
  writeFileSync(fasttext, Buffer.from('__label__math the sum\n__label__other caf\xe9 shop\n__label__other the shop\n', 'latin1'));

  const filters: [string, string[]][] = [
    ['decontam', ['decontam', '--bench', bench, '--']],
    ['decontam -j 2', ['decontam', '-j', '2', '--bench', bench, '--']],
    ['grade', ['grade', '--workers', '1']],
    ['classify predict', ['classify', 'predict', '-m', model, '--thread', '1']],
    ['classify predict --thread 2', ['classify', 'predict', '-m', model, '--thread', '2']],
  ];
  for (const [name, args] of filters) {
    const strict = await runCli([...args, input]);
    t.equal(strict.code, 65, name);
    t.match(strict.stderr, `${input}:2: invalid UTF-8`, name);
    // (--bench takes every following word: the inputs come after "--")
    const skip = await runCli([...args.filter((a) => a !== '--'), '--skip-invalid', '--', input]);
    t.equal(skip.code, 0, `${name}: ${skip.stderr}`);
    t.match(skip.stderr, /skipped 1 invalid (line|record)/, name);
    const out = skip.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { id: string });
    t.same(out.map((r) => r.id), ['a', 'c'], name);
  }
  // A filter passes the valid lines through byte for byte.
  const kept = await runCli(['decontam', '--bench', bench, '--skip-invalid', '--', input]);
  t.equal(kept.stdout, good.join('\n') + '\n');

  for (const [name, args] of [['classify train (fastText text)', ['classify', 'train', '-q', '-o', join(dir, 'm2.bin'), '--dim', '4', '--thread', '1']], ['classify test', ['classify', 'test', '-m', model]]] as const) {
    const file = name === 'classify test' ? input : fasttext;
    const strict = await runCli([...args, file]);
    t.equal(strict.code, 65, name);
    t.match(strict.stderr, `${file}:2: invalid UTF-8`, name);
    const skip = await runCli([...args, '--skip-invalid', '--', file]);
    t.equal(skip.code, 0, `${name}: ${skip.stderr}`);
    t.match(skip.stderr, /skipped 1 invalid line/, name);
  }
  t.ok(readFileSync(join(dir, 'm2.bin')).length > 0);
});
