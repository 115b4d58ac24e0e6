// Interoperability with fastText 0.9.2: golden models written by `fasttext` (see golden/make.sh) must
// predict the same probabilities here, and models written here must load in `fasttext` when installed.
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, runCli } from '../helpers.js';
import { Encoder } from '../../src/classify/dictionary.js';
import { loadModel, saveModel } from '../../src/classify/modelfile.js';
import { tokenize } from '../../src/classify/normalize.js';
import { Predictor } from '../../src/classify/predictor.js';

const G = join(ROOT, 'test', 'classify', 'golden');
const queries = readFileSync(join(G, 'query.txt'), 'utf8').split('\n').filter(Boolean);
const hasFasttext = spawnSync('fasttext', [], { stdio: 'ignore' }).error === undefined;

/** fastText predict-prob -1 lines as label -> probability maps. */
function parseExpected(text: string): Map<string, number>[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const f = line.split(' ');
      const m = new Map<string, number>();
      for (let i = 0; i + 1 < f.length; i += 2) m.set(f[i], Number(f[i + 1]));
      return m;
    });
}

function ourProbs(file: string, cache?: boolean): Map<string, number>[] {
  const model = loadModel(file);
  const p = new Predictor(model, { cache });
  const enc = new Encoder();
  const probs = new Float64Array(model.dict.nlabels);
  const labels = model.dict.labels();
  return queries.map((q) => {
    const n = model.dict.encode(tokenize(q, 'none'), enc);
    p.probs(enc.rows, n, probs);
    return new Map(labels.map((l, i) => [l, probs[i]]));
  });
}

for (const [name, file] of [
  ['softmax', 'softmax.bin'],
  ['hs', 'hs.bin'],
  ['ova', 'ova.bin'],
  ['ns', 'ns.bin'],
  ['subword', 'subword.bin'],
  ['labels12-softmax', 'labels12-softmax.bin'],
  ['labels12-hs', 'labels12-hs.bin'],
  ['softmax-ftz', 'softmax.ftz'],
]) {
  t.test(`a fastText ${name} model predicts as fastText does (1e-4)`, async (t) => {
    const want = parseExpected(readFileSync(join(G, `${name}.expected`), 'utf8'));
    // both ways of computing the output layer: through the hidden vector, and through cached row projections
    for (const cache of [false, true]) {
      const got = ourProbs(join(G, file), cache);
      t.equal(got.length, want.length);
      let worst = 0;
      for (let i = 0; i < want.length; i++) {
        for (const [label, p] of want[i]) {
          // fastText prints exp(log(p + 1e-5)); hierarchical softmax carries the 1e-5 inside its scores
          worst = Math.max(worst, Math.abs(got[i].get(label)! - p));
        }
      }
      t.ok(worst < 1e-4, `cache ${cache}: max difference ${worst}`);
    }
  });
}

t.test('.bin round trip: a fastText model saved by mathpipe is byte-identical', async (t) => {
  const dir = t.testdir();
  for (const f of ['softmax.bin', 'hs.bin', 'subword.bin']) {
    const out = join(dir, f);
    saveModel(out, loadModel(join(G, f)));
    t.ok(readFileSync(out).equals(readFileSync(join(G, f))), f);
  }
});

t.test('a mathpipe model loads in fasttext and gives the same probabilities', { skip: hasFasttext ? false : 'fasttext not installed' }, async (t) => {
  const dir = t.testdir();
  const model = join(dir, 'm.bin');
  for (const loss of ['softmax', 'ova', 'hs', 'ns']) {
    const r = await runCli(['classify', 'train', '-q', '-o', model, '--dim', '8', '--epoch', '5', '--lr', '0.5', '--wordNgrams', '2', '--bucket', '500', '--loss', loss, '--thread', '1', join(G, 'train.txt')]);
    t.equal(r.code, 0, r.stderr);
    const ft = parseExpected(execFileSync('fasttext', ['predict-prob', model, join(G, 'query.txt'), '-1'], { encoding: 'utf8' }));
    const got = ourProbs(model);
    let worst = 0;
    for (let i = 0; i < ft.length; i++) for (const [l, p] of ft[i]) worst = Math.max(worst, Math.abs(got[i].get(l)! - p));
    t.ok(worst < 1e-4, `${loss}: max difference ${worst}`);
    const test = execFileSync('fasttext', ['test', model, join(G, 'train.txt')], { encoding: 'utf8' });
    t.match(test, /^N\t240/m, `${loss}: fasttext test reads it`);
  }
});

t.test('predict on JSONL uses fastText tokenisation for fastText models (normalize auto = none)', async (t) => {
  const dir = t.testdir();
  const docs = join(dir, 'docs.jsonl');
  writeFileSync(docs, queries.map((q, i) => JSON.stringify({ id: String(i), text: q })).join('\n') + '\n');
  const r = await runCli(['classify', 'predict', '-m', join(G, 'softmax.bin'), '--label', 'other', '--thread', '2', docs]);
  t.equal(r.code, 0, r.stderr);
  const want = parseExpected(readFileSync(join(G, 'softmax.expected'), 'utf8'));
  const scores = r.stdout.trim().split('\n').map((l) => JSON.parse(l).score as number);
  t.equal(scores.length, want.length);
  t.ok(scores.every((s, i) => Math.abs(s - want[i].get('__label__other')!) < 1e-4));
});
