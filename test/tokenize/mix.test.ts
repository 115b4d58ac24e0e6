import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers.js';
import { IndexedDataset, IndexedDatasetWriter } from '../../src/dataset/indexed.js';
import { Rng } from '../../src/util/rng.js';
import { readBlendFile } from '../../src/pretrain/data.js';

/**
 * A dataset whose every document is recognisable: tokens [source, doc, doc, ...] with a random length,
 * so a mixture's documents can be traced back to where they came from.
 */
function makeSource(dir: string, name: string, source: number, docs: number, seed: number): { prefix: string; lengths: number[] } {
  const prefix = join(dir, name);
  const w = IndexedDatasetWriter.create(prefix, 'uint16');
  const rng = new Rng(seed);
  const lengths: number[] = [];
  for (let d = 0; d < docs; d++) {
    const n = 2 + rng.int(60);
    const toks = new Uint16Array(n).fill(d % 65536);
    toks[0] = source;
    w.add(toks);
    lengths.push(n);
  }
  w.close();
  return { prefix, lengths };
}

function mixed(prefix: string): { source: number; doc: number; len: number }[] {
  const ds = IndexedDataset.open(prefix);
  const out = [];
  for (let i = 0; i < ds.numSequences; i++) {
    const s = ds.sequence(i);
    out.push({ source: s[0], doc: s[1], len: s.length });
  }
  ds.close();
  return out;
}

t.test('mixture proportions are exact to within one document per source', async (t) => {
  const dir = t.testdir();
  const weights = [56, 4, 10, 20, 10];
  const srcs = weights.map((_, i) => makeSource(dir, `s${i}`, i, 400 + 150 * i, 11 + i));
  const args = weights.map((w, i) => `${w}:${srcs[i].prefix}`);
  const total = 40_000;
  const r = await runCli(['tokenize', 'mix', '-q', '-o', join(dir, 'mix'), '--tokens', String(total), '--seed', '3', ...args]);
  t.equal(r.code, 0, r.stderr);
  const docs = mixed(join(dir, 'mix'));
  const per = weights.map((_, i) => docs.filter((d) => d.source === i).reduce((a, d) => a + d.len, 0));
  weights.forEach((w, i) => {
    const target = Math.round((w / 100) * total);
    const maxLen = Math.max(...srcs[i].lengths);
    t.ok(per[i] >= target && per[i] < target + maxLen, `source ${i}: ${per[i]} tokens for a target of ${target}`);
  });
  // Upsampled sources (s1 has ~1.2K tokens of a 1.6K target... any source short of its target) repeat documents.
  const meta = JSON.parse(readFileSync(join(dir, 'mix.meta.json'), 'utf8'));
  t.same(
    meta.mixture.sources.map((s: { tokens: number }) => s.tokens),
    per,
    'meta accounting matches the tokens actually written',
  );
  const insp = await runCli(['tokenize', 'inspect', '--json', join(dir, 'mix')]);
  t.equal(insp.code, 0, insp.stderr);
  const j = JSON.parse(insp.stdout);
  t.match(j, { tokenizer: null, eos: null, vocab: { size: null }, tokens: per.reduce((x, y) => x + y, 0) }, 'no tokenizer known: ids only');
  t.equal(j.samples[0].text, null);
  t.not(docs[0].source === docs[1].source && docs[1].source === docs[2].source && docs[2].source === docs[3].source, true, 'sources are interleaved');
});

t.test('default size repeats nothing; seeded; validation split is disjoint', async (t) => {
  const dir = t.testdir();
  const a = makeSource(dir, 'a', 0, 500, 1);
  const b = makeSource(dir, 'b', 1, 800, 2);
  const run = (out: string, seed: string) =>
    runCli(['tokenize', 'mix', '-q', '-o', join(dir, out), '--valid-fraction', '0.1', '--seed', seed, `70:${a.prefix}`, `30:${b.prefix}`]);
  t.equal((await run('m1', '5')).code, 0);
  t.equal((await run('m2', '5')).code, 0);
  t.equal((await run('m3', '6')).code, 0);
  const bytes = (p: string) => readFileSync(join(dir, `${p}.bin`));
  t.ok(bytes('m1').equals(bytes('m2')), 'same seed, same mixture');
  t.notOk(bytes('m1').equals(bytes('m3')), 'another seed, another order');
  const train = mixed(join(dir, 'm1'));
  const valid = mixed(join(dir, 'm1.valid'));
  const key = (d: { source: number; doc: number }) => `${d.source}/${d.doc}`;
  const trainKeys = new Set(train.map(key));
  t.equal(trainKeys.size, train.length, 'no document repeated by default');
  t.notOk(valid.some((d) => trainKeys.has(key(d))), 'validation shares no document with training');
  t.ok(valid.length > 0 && valid.length <= 130, `at most the 10% held out (${valid.length})`);
  const vper = [0, 1].map((s) => valid.filter((d) => d.source === s).reduce((x, d) => x + d.len, 0));
  t.ok(Math.abs(vper[0] / (vper[0] + vper[1]) - 0.7) < 0.03, 'validation mixed 70/30 too');
  const per = [0, 1].map((s) => train.filter((d) => d.source === s).reduce((x, d) => x + d.len, 0));
  const share = per[0] / (per[0] + per[1]);
  t.ok(Math.abs(share - 0.7) < 0.01, `70/30 by tokens (${share.toFixed(4)})`);
  const avail = a.lengths.reduce((x, y) => x + y, 0);
  t.ok(per[0] <= avail, 'the limiting source is used up, not repeated');
});

t.test('blend spec is what pretrain reads', async (t) => {
  const dir = t.testdir();
  const a = makeSource(dir, 'a', 0, 50, 1);
  const b = makeSource(dir, 'b', 1, 50, 2);
  const r = await runCli(['tokenize', 'mix', '-q', '--blend', join(dir, 'blend.json'), `56:${a.prefix}`, `44:${b.prefix}`]);
  t.equal(r.code, 0, r.stderr);
  const specs = readBlendFile(join(dir, 'blend.json'));
  t.same(specs.map((s) => s.prefix), [a.prefix, b.prefix]);
  t.same(specs.map((s) => s.weight), [0.56, 0.44]);
  const spec = JSON.parse(readFileSync(join(dir, 'blend.json'), 'utf8'));
  t.equal(spec.megatron_data_path, `0.56 ${a.prefix} 0.44 ${b.prefix}`);
});

t.test('mix errors', async (t) => {
  const dir = t.testdir();
  const a = makeSource(dir, 'a', 0, 5, 1);
  let r = await runCli(['tokenize', 'mix', `1:${a.prefix}`]);
  t.equal(r.code, 2, 'needs -o or --blend');
  r = await runCli(['tokenize', 'mix', '-o', join(dir, 'm'), a.prefix]);
  t.equal(r.code, 2, 'needs WEIGHT:PREFIX');
  t.match(r.stderr, /WEIGHT:PREFIX/);
  r = await runCli(['tokenize', 'mix', '-o', join(dir, 'm'), `1:${join(dir, 'missing')}`]);
  t.equal(r.code, 74, 'a missing dataset is an I/O error');
  t.match(r.stderr, /missing\.idx/);
});
