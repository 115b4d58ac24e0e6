// The real binary on a small separable data set: training, prediction, evaluation, formats, errors.
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lines, runCli, runShell } from '../helpers.js';
import { MinStd } from '../../src/classify/sgd.js';
import { loadModel } from '../../src/classify/modelfile.js';
import type { DenseMatrix } from '../../src/classify/matrix.js';

const MATH = ['integral', 'theorem', 'proof', '$x^2$', 'lemma', 'matrix', '\\frac{a}{b}', 'prime', 'derivative'];
const OTHER = ['football', 'recipe', 'travel', 'music', 'movie', 'weather', 'shop', 'garden', 'holiday'];
const COMMON = ['the', 'a', 'of', 'and', 'is', 'in', 'to', 'we', 'this', 'with'];

function docs(n: number, seed: number): string[] {
  const rng = new MinStd(seed);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const math = i % 2 === 0;
    // one topic word at least, so the set is separable
    const topic = math ? MATH : OTHER;
    const words: string[] = [topic[rng.below(topic.length)]];
    const len = 6 + rng.below(10);
    for (let j = 0; j < len; j++) {
      const pool = rng.uniform() < 0.35 ? (math ? MATH : OTHER) : COMMON;
      words.push(pool[rng.below(pool.length)]);
    }
    out.push(JSON.stringify({ id: `d${seed}-${i}`, text: words.join(' '), label: math ? 'math' : 'other' }));
  }
  return out;
}

const common = ['--dim', '16', '--epoch', '10', '--lr', '0.5', '--wordNgrams', '2', '--bucket', '5000'];
const one = [...common, '--thread', '1'];

t.test('train, test and predict on a separable set', async (t) => {
  const dir = t.testdir({ 'train.jsonl': docs(200, 1).join('\n') + '\n', 'dev.jsonl': docs(60, 2).join('\n') + '\n' });
  const model = join(dir, 'm.bin');
  const tr = await runCli(['classify', 'train', '-o', model, ...one, '--valid', join(dir, 'dev.jsonl'), join(dir, 'train.jsonl')]);
  t.equal(tr.code, 0, tr.stderr);
  const epochs = lines(tr.stdout).map((l) => JSON.parse(l));
  t.equal(epochs.length, 10, 'one metrics line per epoch');
  t.same(epochs.map((e) => e.epoch), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  t.equal(epochs[9].valid.examples, 60);
  t.equal(epochs[9].valid.precision, 1, 'learned');
  t.ok(epochs[9].lr < epochs[0].lr, 'learning rate decays');
  t.match(tr.stderr, /200 examples .* words\/sec\/thread/);

  const te = await runCli(['classify', 'test', '-m', model, join(dir, 'dev.jsonl')]);
  t.equal(te.code, 0, te.stderr);
  const rep = JSON.parse(te.stdout);
  t.equal(rep.examples, 60);
  t.equal(rep.precision, 1);
  t.equal(rep.recall, 1);
  t.same(rep.labels.map((l: { label: string }) => l.label).sort(), ['math', 'other']);
  t.ok(rep.labels.every((l: { f1: number }) => l.f1 === 1));

  const pr = await runCli(['classify', 'predict', '-m', model, '--k', '2', join(dir, 'dev.jsonl')]);
  t.equal(pr.code, 0, pr.stderr);
  const recs = lines(pr.stdout).map((l) => JSON.parse(l));
  t.equal(recs.length, 60);
  t.ok(recs.every((r) => (r.label === 'math') === r.score > 0.5), 'score is the math probability');
  t.ok(recs.every((r) => r.labels.length === 2 && Math.abs(r.labels[0].prob + r.labels[1].prob - 1) < 1e-5));

  const th = await runCli(['classify', 'predict', '-m', model, '--threshold', '0.5', '--label', '__label__other', join(dir, 'dev.jsonl')]);
  t.equal(lines(th.stdout).length, 30, '--threshold keeps the 30 "other" documents');
  t.match(th.stderr, /60 documents scored, 30 written \(30 under --threshold\)/);
});

t.test('predict passes records through byte for byte and writes -o files', async (t) => {
  const dir = t.testdir({ 'train.jsonl': docs(100, 3).join('\n') + '\n' });
  const model = join(dir, 'm.bin');
  t.equal((await runCli(['classify', 'train', '-q', '-o', model, ...one, join(dir, 'train.jsonl')])).code, 0);
  const line = '{"z":1,"big":123456789012345678901234567890,"text":"the integral of $x^2$","u":"\\u00e9"}';
  const out = join(dir, 'out.jsonl');
  const r = await runCli(['classify', 'predict', '-m', model, '-o', out, '--score-field', 'p_math', '--thread', '1'], { input: line + '\n' });
  t.equal(r.code, 0, r.stderr);
  const got = readFileSync(out, 'utf8').trim();
  t.ok(got.startsWith(line.slice(0, -1) + ',"p_math":'), got);
  t.ok(JSON.parse(got).p_math > 0.5);
});

t.test('fastText text format, format sub-command, all losses, threads, multi-label', async (t) => {
  const dir = t.testdir({ 'train.jsonl': docs(200, 4).join('\n') + '\n', 'dev.jsonl': docs(40, 5).join('\n') + '\n' });
  const fmt = await runCli(['classify', 'format', join(dir, 'train.jsonl')]);
  t.equal(fmt.code, 0, fmt.stderr);
  const txt = lines(fmt.stdout);
  t.equal(txt.length, 200);
  t.match(txt[0], /^__label__math \S/);
  t.match(fmt.stdout, /\$ x \^ 2 \$/, 'web normalisation splits math symbols');
  writeFileSync(join(dir, 'train.txt'), fmt.stdout);
  for (const loss of ['softmax', 'hs', 'ova', 'ns']) {
    const model = join(dir, `${loss}.bin`);
    const tr = await runCli(['classify', 'train', '-q', '-o', model, ...common, '--thread', '2', '--loss', loss, join(dir, 'train.txt')]);
    t.equal(tr.code, 0, tr.stderr);
    // the text-format model stores normalize "none"; dev is JSONL, so ask for the same normalisation
    const te = await runCli(['classify', 'test', '-m', model, '--normalize', 'web', join(dir, 'dev.jsonl')]);
    t.equal(JSON.parse(te.stdout).precision, 1, `${loss} learns the set`);
  }
  const multi = docs(100, 6).map((l) => {
    const r = JSON.parse(l);
    return JSON.stringify({ ...r, label: r.label === 'math' ? ['math', 'stem'] : ['other'] });
  });
  writeFileSync(join(dir, 'multi.jsonl'), multi.join('\n') + '\n');
  const mm = join(dir, 'multi.bin');
  t.equal((await runCli(['classify', 'train', '-q', '-o', mm, ...one, '--loss', 'one-vs-all', join(dir, 'multi.jsonl')])).code, 0);
  const te = await runCli(['classify', 'test', '-m', mm, '--k', '2', '--threshold', '0.5', join(dir, 'multi.jsonl')]);
  const rep = JSON.parse(te.stdout);
  t.equal(rep.labels.length, 3);
  t.ok(rep.precision > 0.95 && rep.recall > 0.95, `ova multi-label P ${rep.precision} R ${rep.recall}`);
});

t.test('| head ends quietly with 0', async (t) => {
  const dir = t.testdir({ 'train.jsonl': docs(100, 7).join('\n') + '\n' });
  const model = join(dir, 'm.bin');
  t.equal((await runCli(['classify', 'train', '-q', '-o', model, ...one, join(dir, 'train.jsonl')])).code, 0);
  writeFileSync(join(dir, 'many.jsonl'), docs(4000, 8).join('\n') + '\n');
  for (const th of ['1', '2']) {
    const r = await runShell(`mathpipe classify predict -m ${model} --thread ${th} ${join(dir, 'many.jsonl')} | head -n 3`);
    t.equal(r.code, 0, r.stderr);
    t.equal(lines(r.stdout).length, 3);
    t.equal(r.stderr, '');
  }
});

t.test('bad input gets a clear error and exit code', async (t) => {
  const good = docs(20, 9);
  const dir = t.testdir({
    'train.jsonl': good.join('\n') + '\n',
    'nolabel.jsonl': [good[0], '{"id":"x","text":"some words"}'].join('\n') + '\n',
    'empty.jsonl': [good[0], good[1], '{"id":"e","text":"  ","label":"math"}'].join('\n') + '\n',
    'nolabel.txt': '__label__a one two\nthree four\n',
    'notjson.jsonl': good[0] + '\n{"id":\n',
  });
  writeFileSync(join(dir, 'utf8.jsonl'), Buffer.concat([Buffer.from(good[0] + '\n{"text":"bad '), Buffer.from([0xff, 0xfe]), Buffer.from('","label":"math"}\n')]));
  const model = join(dir, 'm.bin');
  const m = ['classify', 'train', '-o', model, ...one];

  let r = await runCli([...m, join(dir, 'nolabel.jsonl')]);
  t.equal(r.code, 65);
  t.match(r.stderr, /nolabel\.jsonl:2 \(id x\): missing label field "label"/);
  r = await runCli([...m, join(dir, 'empty.jsonl')]);
  t.equal(r.code, 65);
  t.match(r.stderr, /empty\.jsonl:3 \(id e\): empty text/);
  r = await runCli([...m, join(dir, 'utf8.jsonl')]);
  t.equal(r.code, 65);
  t.match(r.stderr, /utf8\.jsonl:2: invalid UTF-8/);
  r = await runCli([...m, join(dir, 'nolabel.txt')]);
  t.equal(r.code, 65);
  t.match(r.stderr, /nolabel\.txt:2: no label/);
  r = await runCli([...m, join(dir, 'notjson.jsonl')]);
  t.equal(r.code, 65);
  t.match(r.stderr, /notjson\.jsonl:2: invalid JSON/);
  r = await runCli([...m, '--skip-invalid', join(dir, 'empty.jsonl'), join(dir, 'nolabel.jsonl'), join(dir, 'train.jsonl')]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /skipped 2 invalid lines/);

  r = await runCli(['classify', 'train', '-o', model, '--dim', '0', join(dir, 'train.jsonl')]);
  t.equal(r.code, 2);
  t.match(r.stderr, /--dim must be an integer/);
  r = await runCli(['classify', 'train', join(dir, 'train.jsonl')]);
  t.equal(r.code, 2, 'model path is required');

  t.equal((await runCli([...m, '-q', join(dir, 'train.jsonl')])).code, 0);
  r = await runCli(['classify', 'predict', '-m', model, '--label', 'physics'], { input: good[0] });
  t.equal(r.code, 2);
  t.match(r.stderr, /no label "physics"; its labels: (math, other|other, math)/);
  r = await runCli(['classify', 'predict', '-m', model, '--thread', '1'], { input: good[0] + '\n{"id":"n","txt":"x"}\n' });
  t.equal(r.code, 65);
  t.match(r.stderr, /<stdin>:2 \(id n\): missing field "text" \(the document text; name it with --text-field\)/);
  r = await runCli(['classify', 'predict', '-m', model, '--thread', '2'], { input: good[0] + '\n{"id":"n","text":""}\n' });
  t.equal(r.code, 65, 'errors from worker threads keep their location');
  t.match(r.stderr, /<stdin>:2 \(id n\): empty text/);
  r = await runCli(['classify', 'predict', '-m', model, '--skip-invalid'], { input: good[0] + '\n{"id":"n","text":""}\nnot json\n' });
  t.equal(r.code, 0, r.stderr);
  t.equal(lines(r.stdout).length, 1);
  t.match(r.stderr, /skipped 2 invalid records/);

  const bytes = readFileSync(model);
  const cut = join(dir, 'cut.bin');
  for (const n of [3, 40, 200, bytes.length - 100]) {
    writeFileSync(cut, bytes.subarray(0, n));
    r = await runCli(['classify', 'predict', '-m', cut], { input: good[0] });
    t.equal(r.code, 65, `truncated at ${n}`);
    t.match(r.stderr, /cut\.bin: truncated or corrupt model file/);
  }
  writeFileSync(cut, Buffer.alloc(100, 7));
  r = await runCli(['classify', 'test', '-m', cut, join(dir, 'train.jsonl')]);
  t.equal(r.code, 65);
  t.match(r.stderr, /not a fastText model/);
  r = await runCli(['classify', 'predict', '-m', join(dir, 'absent.bin')], { input: good[0] });
  t.equal(r.code, 74);
  t.match(r.stderr, /cannot open model/);
});

t.test('every sub-command explains itself', async (t) => {
  const top = await runCli(['classify', '--help']);
  t.equal(top.code, 0);
  for (const sub of ['train', 'predict', 'test', 'format']) {
    t.match(top.stdout, new RegExp(`classify ${sub}`));
    const r = await runCli(['classify', sub, '--help']);
    t.equal(r.code, 0, sub);
    t.match(r.stdout, /Examples:/, `${sub} has examples`);
  }
  const r = await runCli(['classify', 'train', '--help']);
  for (const o of ['--dim', '--lr', '--epoch', '--wordNgrams', '--minCount', '--minCountLabel', '--bucket', '--loss', '--neg', '--lrUpdateRate', '--thread', '--seed', '--valid']) {
    t.match(r.stdout, o);
  }
});

t.test('one thread is reproducible; the JavaScript fallback (no wasm) learns the same set', async (t) => {
  const dir = t.testdir({ 'train.jsonl': docs(150, 10).join('\n') + '\n', 'dev.jsonl': docs(40, 11).join('\n') + '\n' });
  const a = join(dir, 'a.bin');
  const b = join(dir, 'b.bin');
  const c = join(dir, 'c.bin');
  t.equal((await runCli(['classify', 'train', '-q', '-o', a, ...one, '--seed', '5', join(dir, 'train.jsonl')])).code, 0);
  t.equal((await runCli(['classify', 'train', '-q', '-o', b, ...one, '--seed', '5', join(dir, 'train.jsonl')])).code, 0);
  t.ok(readFileSync(a).equals(readFileSync(b)), 'same seed, same bytes');
  const s = join(dir, 's.bin');
  const st = await runCli(['classify', 'train', '-q', '-o', s, ...one, '--seed', '5'], { input: readFileSync(join(dir, 'train.jsonl')) });
  t.equal(st.code, 0, st.stderr);
  t.ok(readFileSync(s).equals(readFileSync(a)), 'standard input (read once, kept) trains the same model as a file (read twice)');
  const r = await runCli(['classify', 'train', '-q', '-o', c, ...one, '--seed', '5', join(dir, 'train.jsonl')], { env: { MATHPIPE_NO_WASM: '1' } });
  t.equal(r.code, 0, r.stderr);
  const te = await runCli(['classify', 'test', '-m', c, join(dir, 'dev.jsonl')]);
  t.equal(JSON.parse(te.stdout).precision, 1);
  const diff = maxDiff(a, c);
  t.ok(diff < 1e-3, `JS and SIMD kernels agree up to float rounding (max weight difference ${diff})`);
});

/** Largest difference between the weights of two models of the same shape. */
function maxDiff(a: string, b: string): number {
  const [x, y] = [loadModel(a), loadModel(b)];
  let m = 0;
  for (const [u, v] of [
    [x.input, y.input],
    [x.output, y.output],
  ] as DenseMatrix[][]) {
    for (let i = 0; i < u.data.length; i++) m = Math.max(m, Math.abs(u.data[i] - v.data[i]));
  }
  return m;
}
