// mine dedup: datatrove-equal parameters and hashes, detection rates over pairs of exact Jaccard
// similarity, keep rules, URL normalisation, indexes of earlier rounds, verification, and the same
// output for any thread count and for the one-shot and sharded forms.
import t from 'tap';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { permParams } from '../../src/mine/dedup/params.js';
import { DATATROVE, MinHasher, jaccard } from '../../src/mine/dedup/minhash.js';
import { asciiWordBytes, simplifyText, wordString } from '../../src/mine/dedup/simplify.js';
import { normaliseUrl } from '../../src/mine/dedup/url.js';
import { optimalBands } from '../../src/mine/dedup/bands.js';
import { radixOrder } from '../../src/mine/dedup/lsh.js';
import { makePair, corpus } from '../../fixtures/mine/dedup-corpus.js';
import { mulberry32 } from '../../fixtures/rng.js';
import { spawnSync } from 'node:child_process';
import { ROOT, runCli, lines, sharedData } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'mp-dedup-'));
const jsonl = (docs: object[]) => docs.map((d) => JSON.stringify(d)).join('\n') + '\n';
const ids = (out: string) => lines(out).map((l) => (JSON.parse(l) as { id: string }).id);

t.test('permutation parameters equal numpy RandomState(1) as datatrove draws them', async (t) => {
  const { a, b } = permParams(112, 1);
  // Printed by: np.random.RandomState(1); randint(1, P, uint64, (1,112)); randint(0, P, uint64, (1,112)).
  t.same([a[0], a[1], a[2], a[111]], [775169054918279404n, 1758426461858698313n, 2109959069025162n, 223865076026037746n]);
  t.same([b[0], b[1], b[2], b[111]], [1062448801025099917n, 1324811268927594100n, 1217488311597731462n, 1097409548522419201n]);
});

t.test('xxh64 matches the reference vectors', async (t) => {
  const m = new MinHasher(DATATROVE);
  t.equal(m.hash(''), 0xef46db3751d8e999n);
  t.equal(m.hash('a'), 0xd24ec4f1a98c6e5bn);
  t.equal(m.hash('abcdefghijklmnopqrstuvwxyz0123456789abcdef'), 0x36a7a9771e8d543dn);
});

t.test('normalisation follows datatrove simplify_text and NLTK word splits', async (t) => {
  t.equal(simplifyText('  Hello,  World!\tIt costs $4.50 -- Café 2024 '), 'hello world it costs 0  cafe 0');
  t.equal(wordString('I cannot go, wanna come? gonna'), 'i can not go wan na come gon na');
  t.equal(wordString('数学很有趣 ok'), '数 学 很 有 趣 ok');
  t.equal(wordString('a\u00a0b\x1cc\u2003d'), 'a b c d');
});

t.test('the one-pass ASCII normalisation equals the general one', async (t) => {
  const r = mulberry32(11);
  const pieces = ['cannot', 'Gonna', 'wanna', 'gimme', 'lemme', 'gotta', 'can', 'not', '4.50', '1,000', "don't", 'A-B', 'x_y', ' ', '  ', '\t', '\n', '\x1c', '\x01', '\x7f', '$', '(', ')', 'Word', 'e.g.', '3rd', '...', '--', '#tag', '@'];
  let same = 0;
  for (let i = 0; i < 3000; i++) {
    const text = Array.from({ length: 1 + Math.floor(r() * 12) }, () => pieces[Math.floor(r() * pieces.length)]!).join(r() < 0.5 ? ' ' : '');
    const out = new Uint8Array(text.length * 2 + 8);
    const n = asciiWordBytes(text, out);
    if (Buffer.from(out.subarray(0, n)).toString('latin1') === wordString(text)) same++;
    else t.fail(JSON.stringify(text));
  }
  t.equal(same, 3000);
  t.equal(asciiWordBytes('café', new Uint8Array(16)), -1, 'not ASCII: the general path');
});

t.test('signatures: identical texts equal, Jaccard of shingle sets exact', async (t) => {
  const m = new MinHasher(DATATROVE);
  const r = mulberry32(5);
  const [x, y] = makePair(r, 0.9);
  t.same(m.signature(x), m.signature(x));
  t.equal(jaccard(m.shingleSet(x), m.shingleSet(y)), 0.9);
  const [p, q] = makePair(r, 0.4);
  t.equal(jaccard(m.shingleSet(p), m.shingleSet(q)), 0.4);
  t.equal(m.signature('too short'), undefined, 'fewer words than an n-gram: no signature, as datatrove');
});

const web = sharedData('web/classify.dev.jsonl');
const py = '/usr/bin/python3';
const hasReference = spawnSync(py, ['-c', 'import numpy, xxhash'], { stdio: 'ignore' }).status === 0;

t.test('signatures equal the numpy reference on real web text', { skip: web && hasReference ? false : 'needs ../shared/data/web and /usr/bin/python3 with numpy and xxhash' }, async (t) => {
  const docs = lines(readFileSync(web!, 'utf8')).map((l, i) => ({ id: String(i), text: (JSON.parse(l) as { text: string }).text }));
  const file = join(dir, 'web.jsonl');
  writeFileSync(file, jsonl(docs));
  const ref = spawnSync(py, [join(ROOT, 'bench/dedup/reference.py'), 'signatures', file, join(dir, 'web.tsv')], { encoding: 'utf8' });
  t.equal(ref.status, 0, ref.stderr);
  const want = new Map(lines(readFileSync(join(dir, 'web.tsv'), 'utf8')).map((l) => l.split('\t') as [string, string]));
  const m = new MinHasher(DATATROVE);
  const differ = docs.filter((d) => (m.signature(d.text)?.join(' ') ?? '') !== want.get(d.id));
  t.same(differ.map((d) => d.id), [], `${docs.length} documents (math and not, LaTeX, Unicode)`);
});

t.test('--threshold chooses bands x rows as text-dedup does', async (t) => {
  const b = optimalBands(0.7, 112);
  t.ok(b.bands * b.rows <= 112);
  t.ok((1 / b.bands) ** (1 / b.rows) > 0.6 && (1 / b.bands) ** (1 / b.rows) < 0.8, `${b.bands}x${b.rows}`);
  t.ok(optimalBands(0.9, 112).rows > optimalBands(0.5, 112).rows, 'a higher threshold takes more rows per band');
});

t.test('radix order groups equal 64-bit keys, stable', async (t) => {
  const lo = Uint32Array.from([5, 1, 5, 0xffffffff, 1]);
  const hi = Uint32Array.from([0, 2, 0, 1, 2]);
  t.same(Array.from(radixOrder(lo, hi, 5)), [0, 2, 3, 1, 4]);
});

t.test('URL normalisation', async (t) => {
  t.equal(normaliseUrl('HTTPS://www.Example.com:443/a/b/?utm_source=x&z=1&a=2#frag'), 'example.com/a/b?a=2&z=1');
  t.equal(normaliseUrl('http://example.com/a/b'), 'example.com/a/b');
  t.not(normaliseUrl('http://example.com/a?id=1'), normaliseUrl('http://example.com/a?id=2'));
  t.equal(normaliseUrl('mailto:x@y'), undefined);
});

t.test('detection: >= 99.5% of pairs at Jaccard 0.9, <= 1.5% at 0.4 (14 bands x 8 rows)', async (t) => {
  const r = mulberry32(17);
  const PAIRS = 3000;
  const docs: object[] = [];
  for (const j of [0.9, 0.4]) {
    for (let i = 0; i < PAIRS; i++) {
      const [a, b] = makePair(r, j);
      docs.push({ id: `${j}-${i}-a`, text: a }, { id: `${j}-${i}-b`, text: b });
    }
  }
  const file = join(dir, 'pairs.jsonl');
  writeFileSync(file, jsonl(docs));
  const res = await runCli(['mine', 'dedup', '--keep', 'first', '-q', '-j', '2', '--clusters', join(dir, 'pairs-clusters.jsonl'), file], { timeoutMs: 300_000 });
  t.equal(res.code, 0, res.stderr);
  const removed = new Set(ids(readFileSync(join(dir, 'pairs-clusters.jsonl'), 'utf8')));
  const rate = (j: number) => Array.from({ length: PAIRS }, (_, i) => removed.has(`${j}-${i}-b`)).filter(Boolean).length / PAIRS;
  const hi = rate(0.9);
  const lo = rate(0.4);
  t.ok(hi >= 0.995, `detected at J=0.9: ${(hi * 100).toFixed(2)}%`);
  t.ok(lo <= 0.015, `detected at J=0.4: ${(lo * 100).toFixed(2)}%`);
  t.notOk([...removed].some((id) => id.endsWith('-a')), 'the earlier document of each pair is the one kept');
  for (const l of lines(readFileSync(join(dir, 'pairs-clusters.jsonl'), 'utf8')).slice(0, 3)) {
    const c = JSON.parse(l) as { reason: string; kept: { id: string } };
    t.equal(c.reason, 'near');
    t.match(c.kept.id, /-a$/);
  }
});

const small = join(dir, 'small.jsonl');
writeFileSync(small, [...corpus({ docs: 600, dupFraction: 0.3, words: 120, seed: 3 })].map((d) => JSON.stringify(d)).join('\n') + '\n');

t.test('the output is the same for any thread count, and from stdin', async (t) => {
  const one = await runCli(['mine', 'dedup', '-q', '-j', '1', small]);
  const three = await runCli(['mine', 'dedup', '-q', '-j', '3', small]);
  const stdin = await runCli(['mine', 'dedup', '-q', '-j', '2'], { input: readFileSync(small) });
  t.equal(one.code, 0, one.stderr);
  t.ok(lines(one.stdout).length < 600 && lines(one.stdout).length > 300);
  t.equal(three.stdout, one.stdout);
  t.equal(stdin.stdout, one.stdout);
});

t.test('keep rules: best-score (default), first, longest', async (t) => {
  const r = mulberry32(9);
  const [a, b] = makePair(r, 0.95);
  const docs = [
    { id: 'x', text: a, score: 0.2 },
    { id: 'y', text: `${b} extra words make this one the longest of them`, score: 0.9 },
    { id: 'z', text: a, score: 0.5 },
  ];
  const file = join(dir, 'keep.jsonl');
  writeFileSync(file, jsonl(docs));
  const run = async (...args: string[]) => ids((await runCli(['mine', 'dedup', '-q', ...args, file])).stdout);
  t.same(await run(), ['y']);
  t.same(await run('--keep', 'first'), ['x']);
  t.same(await run('--keep', 'longest'), ['y']);
  t.same(await run('--verify', '0.99'), ['y', 'z'], 'verified: only the identical pair x~z joins (z has the better score); y stays');
});

t.test('URL duplicates, short documents, records kept byte for byte', async (t) => {
  const file = join(dir, 'urls.jsonl');
  writeFileSync(file, '{"id":"1","url":"http://www.site.org/p/","text":"one two","n":1.0e+3}\n{"id":"2","url":"https://site.org/p#top","text":"three four"}\n{"id":"3","url":"https://site.org/q","text":"one two"}\n');
  const res = await runCli(['mine', 'dedup', '--keep', 'first', '--clusters', join(dir, 'urls-cl.jsonl'), file]);
  t.equal(res.code, 0);
  t.same(lines(res.stdout), ['{"id":"1","url":"http://www.site.org/p/","text":"one two","n":1.0e+3}', '{"id":"3","url":"https://site.org/q","text":"one two"}']);
  t.match(readFileSync(join(dir, 'urls-cl.jsonl'), 'utf8'), /"id":"2".*"reason":"url".*"kept":\{"id":"1"/);
  t.match(res.stderr, /3 documents: 1 URL duplicates, 0 near duplicates/);
});

t.test('--write-index then --index: a later round drops what an earlier one kept', async (t) => {
  const idx = join(dir, 'r1.idx');
  const r1 = await runCli(['mine', 'dedup', '-q', '--write-index', idx, small]);
  t.equal(r1.code, 0, r1.stderr);
  const later = join(dir, 'later.jsonl');
  const fresh = { id: 'new', text: Array.from({ length: 50 }, (_, i) => `fresh${String.fromCharCode(97 + (i % 26))}word`).join(' ') };
  writeFileSync(later, jsonl([JSON.parse(lines(r1.stdout)[0]!) as object, fresh]));
  const r2 = await runCli(['mine', 'dedup', '--index', idx, '--', later]);
  t.same(ids(r2.stdout), ['new']);
  t.match(r2.stderr, /1 already in the index/);
  const bad = await runCli(['mine', 'dedup', '--index', idx, '--bands', '7', '--', later]);
  t.equal(bad.code, 65, 'an index made with other settings is refused');
});

t.test('sharded form (signatures -> buckets -> clusters -> filter) equals the one-shot form', async (t) => {
  const parts = [0, 1, 2].map((i) => join(dir, `part${i}.jsonl`));
  const all = lines(readFileSync(small, 'utf8'));
  parts.forEach((p, i) => writeFileSync(p, all.slice(i * 200, i * 200 + 200).join('\n') + '\n'));
  const sigs = [0, 1].map((i) => join(dir, `s${i}.sig`));
  for (const i of [0, 1]) t.equal((await runCli(['mine', 'dedup', 'signatures', '-q', '--shard', `${i}/2`, '-o', sigs[i]!, ...parts])).code, 0);
  const pairs = [0, 1, 2].map((j) => join(dir, `p${j}.pairs`));
  for (const j of [0, 1, 2]) t.equal((await runCli(['mine', 'dedup', 'buckets', '-q', '--shard', `${j}/3`, '-o', pairs[j]!, ...sigs])).code, 0);
  const plan = join(dir, 'plan.bin');
  const missing = await runCli(['mine', 'dedup', 'clusters', '-o', plan, '--pairs', pairs[0]!, '--', ...sigs]);
  t.equal(missing.code, 2, 'bands without a PAIRS file are refused');
  const c = await runCli(['mine', 'dedup', 'clusters', '-q', '-o', plan, '--write-index', join(dir, 'sharded.idx'), '--pairs', ...pairs, '--', ...sigs]);
  t.equal(c.code, 0, c.stderr);
  let sharded = '';
  for (const i of [0, 1]) sharded += (await runCli(['mine', 'dedup', 'filter', '-q', '--plan', plan, '--shard', `${i}/2`, ...sigs])).stdout;
  const oneShot = await runCli(['mine', 'dedup', '-q', '--write-index', join(dir, 'one.idx'), ...parts]);
  t.equal(sharded, oneShot.stdout);
  t.ok(readFileSync(join(dir, 'sharded.idx')).equals(readFileSync(join(dir, 'one.idx'))), 'the same index');
});

t.test('bad input: file and line first, exit 65; --skip-invalid skips', async (t) => {
  const file = join(dir, 'bad.jsonl');
  writeFileSync(file, Buffer.concat([Buffer.from('{"id":"a","text":"x y"}\n{"id":"b"}\nnot json\n{"id":"c","text":"'), Buffer.from([0xff]), Buffer.from('"}\n')]));
  const res = await runCli(['mine', 'dedup', file]);
  t.equal(res.code, 65);
  t.match(res.stderr, /bad\.jsonl:2: missing field "text" \(the document text; name it with --text-field\)/);
  const skip = await runCli(['mine', 'dedup', '--skip-invalid', file]);
  t.equal(skip.code, 0);
  t.same(ids(skip.stdout), ['a']);
  t.match(skip.stderr, /3 invalid lines skipped/, 'invalid UTF-8 included');
});
