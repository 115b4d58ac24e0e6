// Benchmark-side options and mistakes: --id-field names the item in --removed; a named id field that is
// missing, and an empty benchmark file, stop with exit 65 instead of decontaminating against nothing.
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, lines } from '../helpers.js';

const Q = 'Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. How many clips did Natalia sell altogether?';
const DOCS = [JSON.stringify({ id: 'clean', text: 'Nothing to see here.' }), JSON.stringify({ id: 'dirty', text: `Homework: ${Q}` })].join('\n') + '\n';

t.test('--id-field names the benchmark item; missing named field and empty files are errors', async (t) => {
  const dir = t.testdir();
  const bench = join(dir, 'b.jsonl');
  writeFileSync(bench, JSON.stringify({ id: 'g1', qid: 'Q-17', question: Q, answer: '72' }) + '\n');
  const removed = join(dir, 'removed.jsonl');
  const r = await runCli(['decontam', '--bench', bench, '--id-field', 'qid', '--removed', removed], { input: DOCS });
  t.equal(r.code, 0, r.stderr);
  t.same(lines(r.stdout).map((l) => JSON.parse(l).id), ['clean']);
  t.equal(JSON.parse(readFileSync(removed, 'utf8')).decontam.item, 'Q-17', 'the item id comes from --id-field');

  const typo = await runCli(['decontam', '--bench', bench, '--id-field', 'qidd'], { input: DOCS });
  t.equal(typo.code, 65);
  t.match(typo.stderr, /b\.jsonl:1: no id field "qidd"/);
  const idx = await runCli(['decontam', 'index', '--bench', bench, '--id-field', 'qidd', '-o', join(dir, 'x.idx')]);
  t.equal(idx.code, 65, 'the same for decontam index');

  const empty = join(dir, 'empty.jsonl');
  writeFileSync(empty, '');
  const e = await runCli(['decontam', '--bench', bench, empty, '--'], { input: DOCS });
  t.equal(e.code, 65);
  t.match(e.stderr, /empty\.jsonl: no benchmark items/);
  t.equal(e.stdout, '', 'nothing written');
});
