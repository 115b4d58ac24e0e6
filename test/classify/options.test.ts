// Options of the classify verbs that the main CLI test leaves at their defaults: custom text and label
// fields for every verb, and fastText text input (--format fasttext) for train and test.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lines, runCli } from '../helpers.js';

const MATH = ['integral', 'theorem', 'proof', 'lemma', 'matrix', 'prime'];
const OTHER = ['football', 'recipe', 'travel', 'music', 'movie', 'garden'];

function rows(): { body: string; cat: string; id: string }[] {
  const out = [];
  for (let i = 0; i < 60; i++) {
    const words = i % 2 === 0 ? MATH : OTHER;
    out.push({ id: `d${i}`, body: `${words[i % 6]} ${words[(i + 1) % 6]} ${words[(i + 3) % 6]} the of`, cat: i % 2 === 0 ? 'math' : 'other' });
  }
  return out;
}

t.test('--text-field and --label-field on train, test, predict and format', async (t) => {
  const dir = t.testdir();
  const data = join(dir, 'd.jsonl');
  writeFileSync(data, rows().map((r) => JSON.stringify(r)).join('\n') + '\n');
  const model = join(dir, 'm.bin');
  const common = ['--text-field', 'body'];
  const tr = await runCli(['classify', 'train', '-q', ...common, '--label-field', 'cat', '--epoch', '20', '--seed', '1', '-o', model, data]);
  t.equal(tr.code, 0, tr.stderr);
  const te = await runCli(['classify', 'test', '-m', model, ...common, '--label-field', 'cat', data]);
  t.equal(te.code, 0, te.stderr);
  t.equal(JSON.parse(te.stdout).precision, 1, 'separable set learnt from the named fields');
  const pr = await runCli(['classify', 'predict', '-m', model, ...common, '--label', '__label__math', data]);
  t.equal(pr.code, 0, pr.stderr);
  const scored = lines(pr.stdout).map((l) => JSON.parse(l));
  t.ok(scored[0].score > 0.5 && scored[1].score < 0.5, 'math first, other second');
  const fm = await runCli(['classify', 'format', ...common, '--label-field', 'cat', data]);
  t.equal(fm.code, 0, fm.stderr);
  t.match(lines(fm.stdout)[0], /^__label__math integral theorem lemma the of$/);
  const wrong = await runCli(['classify', 'train', '-q', '--label-field', 'cat', '-o', join(dir, 'x.bin'), data]);
  t.equal(wrong.code, 65, 'the default text field is absent: bad data');
  t.match(wrong.stderr, /d\.jsonl:1/);
});

t.test('--format fasttext: train and test on "__label__x text" lines', async (t) => {
  const dir = t.testdir();
  const txt = join(dir, 'd.txt');
  writeFileSync(txt, rows().map((r) => `__label__${r.cat} ${r.body}`).join('\n') + '\n');
  const model = join(dir, 'm.bin');
  const tr = await runCli(['classify', 'train', '-q', '--format', 'fasttext', '--epoch', '20', '--seed', '1', '-o', model, txt]);
  t.equal(tr.code, 0, tr.stderr);
  const te = await runCli(['classify', 'test', '-m', model, '--format', 'fasttext', txt]);
  t.equal(te.code, 0, te.stderr);
  t.equal(JSON.parse(te.stdout).examples, 60);
  t.equal(JSON.parse(te.stdout).precision, 1);
});

t.test('a model trained with another --label prefix: predict names the full label, test takes --label', async (t) => {
  const dir = t.testdir();
  const txt = join(dir, 'd.txt');
  writeFileSync(txt, rows().map((r) => `__lab__${r.cat} ${r.body}`).join('\n') + '\n');
  const model = join(dir, 'm.bin');
  const tr = await runCli(['classify', 'train', '-q', '--label', '__lab__', '--format', 'fasttext', '--epoch', '20', '--seed', '1', '-o', model, txt]);
  t.equal(tr.code, 0, tr.stderr);
  const jsonl = join(dir, 'd.jsonl');
  writeFileSync(jsonl, rows().map((r) => JSON.stringify({ id: r.id, text: r.body })).join('\n') + '\n');
  const miss = await runCli(['classify', 'predict', '-m', model, jsonl]);
  t.equal(miss.code, 2, 'the default label "math" is not in the model');
  t.match(miss.stderr, /its labels: __lab__math, __lab__other|its labels: __lab__other, __lab__math/, 'labels listed in full, not cut by the default prefix length');
  const pr = await runCli(['classify', 'predict', '-m', model, '--label', '__lab__math', jsonl]);
  t.equal(pr.code, 0, pr.stderr);
  t.ok(JSON.parse(lines(pr.stdout)[0]).score > 0.5, 'the full label name selects it');
  const te = await runCli(['classify', 'test', '-m', model, '--label', '__lab__', '--format', 'fasttext', txt]);
  t.equal(te.code, 0, te.stderr);
  t.equal(JSON.parse(te.stdout).examples, 60);
  t.same(JSON.parse(te.stdout).labels.map((l: { label: string }) => l.label).sort(), ['math', 'other']);
});
