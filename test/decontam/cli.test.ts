// The real binary: streams, side files, reports, exit codes, index files, segment mode.
import t, { type Test } from 'tap';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { benchItems, writeCorpus } from '../../fixtures/decontam/gen.js';
import { runCli, runShell, lines } from '../helpers.js';

const Q1 = 'Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. How many clips did Natalia sell altogether in April and May?';
const Q2 = 'Weng earns $12 an hour for babysitting. Yesterday, she just did 50 minutes of babysitting. How much did she earn?';
const BENCH = [
  { id: 'g1', question: Q1, answer: 'Natalia sold 48/2 = <<48/2=24>>24 clips in May.\n#### 72' },
  { id: 'g2', question: Q2, answer: 'Weng earns 12/60 = $<<12/60=0.2>>0.2 per minute.\n#### 10' },
];

function setup(t: Test) {
  const dir = t.testdir();
  const bench = join(dir, 'gsm.jsonl');
  writeFileSync(bench, BENCH.map((x) => JSON.stringify(x)).join('\n') + '\n');
  return { dir, bench };
}

const docs = [
  { id: 'clean', text: 'Nothing to see here. The answer is 72 and \\frac{1}{2}.', n: 0 },
  { id: 'dirty', text: `My homework:\n\n${Q1.toUpperCase().replace(/,/g, '')}\n\nthanks` },
  { id: 'dirty2', text: `Q: ${Q2.replace(/ /g, '\n  ')}` },
];
// The big number is written by hand: JSON.stringify would round it, and the output must keep it as is.
const corpus = docs.map((d) => JSON.stringify(d).replace(/"n":[^,}]+/, '"n":123456789012345678901234567890')).join('\n') + '\n';

t.test('drops contaminated documents, passes the rest byte for byte, writes --removed and --report', async (t) => {
  const { dir, bench } = setup(t);
  const removed = join(dir, 'removed.jsonl');
  const report = join(dir, 'report.json');
  const r = await runCli(['decontam', '--bench', `gsm=${bench}`, '--removed', removed, '--report', report], { input: corpus });
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, corpus.split('\n')[0] + '\n', 'the clean line, unchanged (big number intact)');
  t.match(r.stderr, /3 docs in, 1 out, 2 removed \(gsm 2\)/);
  const rem = lines(readFileSync(removed, 'utf8')).map((l) => JSON.parse(l));
  t.same(rem.map((x) => x.id), ['dirty', 'dirty2']);
  t.same(rem[0].decontam, { ngram: 'natalia sold clips to 48 of her friends in april', benchmark: 'gsm', item: 'g1', field: 'question' });
  const rep = JSON.parse(readFileSync(report, 'utf8'));
  t.match(rep, { mode: 'doc', n: 10, docs_in: 3, docs_out: 1, docs_removed: 2, hits: { gsm: 2 } });
  t.match(rep.benchmarks[0], { name: 'gsm', items: 2, fields: ['question', 'answer'] });
});

t.test('--quiet hides the summary; -o writes a file', async (t) => {
  const { dir, bench } = setup(t);
  const out = join(dir, 'clean.jsonl.gz');
  const r = await runCli(['decontam', '-q', '--bench', bench, '-o', out], { input: corpus });
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stderr, '');
  t.ok(existsSync(out));
});

t.test('segment mode removes only contaminated paragraphs; n-grams do not cross blank lines', async (t) => {
  const { dir, bench } = setup(t);
  // Two 9-word halves of Q1: neither holds a 10-gram on its own.
  const words = Q1.split(' ');
  const a = words.slice(0, 9).join(' ');
  const b = words.slice(9, 18).join(' ');
  const input = [
    { id: 'split-blank', text: `${a}\n\n${b}` },
    { id: 'split-line', text: `${a}\n${b}` },
    { id: 'mixed', text: `Intro paragraph.\n\n${Q2}\n\n  \nOutro paragraph.` },
    { id: 'all', text: Q1 },
  ]
    .map((x) => JSON.stringify(x))
    .join('\n');
  const removed = join(dir, 'removed.jsonl');
  const r = await runCli(['decontam', '--bench', bench, '--mode', 'segment', '--removed', removed], { input });
  t.equal(r.code, 0, r.stderr);
  const out = lines(r.stdout).map((l) => JSON.parse(l));
  t.same(out.map((x) => x.id), ['split-blank', 'mixed'], 'fully contaminated docs are dropped');
  t.equal(out[0].text, `${a}\n\n${b}`, 'a 10-gram split by a blank line is two paragraphs: no match');
  t.equal(out[1].text, 'Intro paragraph.\n\n  \nOutro paragraph.', 'the other paragraphs are kept as they were');
  const rem = lines(readFileSync(removed, 'utf8')).map((l) => JSON.parse(l));
  t.same(rem.map((x) => [x.id, x.segment]), [['split-line', 0], ['mixed', 1], ['all', 0]]);
  t.match(r.stderr, /4 docs in, 2 out, 2 removed; 3 paragraphs removed, 1 docs trimmed/);
  // The same split-by-blank-line document in doc mode is caught: n-grams run across the whole text.
  const d = await runCli(['decontam', '--bench', bench], { input: JSON.stringify({ text: `${a}\n\n${b}` }) });
  t.equal(d.stdout, '');
});

t.test('index file: build once, same results as --bench, corruption detected', async (t) => {
  const { dir, bench } = setup(t);
  const idx = join(dir, 'bench.idx');
  const b = await runCli(['decontam', 'index', '--bench', bench, '-o', idx]);
  t.equal(b.code, 0, b.stderr);
  t.match(b.stderr, /10-grams/);
  const viaBench = await runCli(['decontam', '--bench', bench, '--report', join(dir, 'r1.json')], { input: corpus });
  const viaIndex = await runCli(['decontam', '--index', idx, '--report', join(dir, 'r2.json')], { input: corpus });
  t.equal(viaIndex.code, 0, viaIndex.stderr);
  t.equal(viaIndex.stdout, viaBench.stdout);
  const r1 = JSON.parse(readFileSync(join(dir, 'r1.json'), 'utf8'));
  const r2 = JSON.parse(readFileSync(join(dir, 'r2.json'), 'utf8'));
  t.same({ ...r2, seconds: 0 }, { ...r1, seconds: 0 });

  const both = await runCli(['decontam', '--index', idx, '--fields', 'question'], { input: corpus });
  t.equal(both.code, 2, 'fields are chosen when the index is built');
  const mismatch = await runCli(['decontam', '--index', idx, '-n', '8'], { input: corpus });
  t.equal(mismatch.code, 2, mismatch.stderr);
  t.match(mismatch.stderr, /-n 8 differs from the index's n = 10/);

  const buf = readFileSync(idx);
  const flipped = Buffer.from(buf);
  flipped[buf.length - 5] ^= 0xff;
  writeFileSync(join(dir, 'bad.idx'), flipped);
  const bad = await runCli(['decontam', '--index', join(dir, 'bad.idx')], { input: corpus });
  t.equal(bad.code, 65, bad.stderr);
  t.match(bad.stderr, /bad\.idx: not a usable decontam index: checksum mismatch/);
  writeFileSync(join(dir, 'short.idx'), buf.subarray(0, buf.length - 100));
  const short = await runCli(['decontam', '--index', join(dir, 'short.idx')], { input: corpus });
  t.equal(short.code, 65, short.stderr);
  t.match(short.stderr, /truncated/);
  writeFileSync(join(dir, 'junk.idx'), 'not an index');
  t.equal((await runCli(['decontam', '--index', join(dir, 'junk.idx')], { input: corpus })).code, 65);
  t.equal((await runCli(['decontam', '--index', join(dir, 'missing.idx')], { input: corpus })).code, 74);
});

t.test('bad input: exit 65 naming the line; --skip-invalid counts; | head exits 0', async (t) => {
  const { dir, bench } = setup(t);
  const r = await runCli(['decontam', '--bench', bench], { input: 'not json\n' });
  t.equal(r.code, 65, r.stderr);
  t.match(r.stderr, /mathpipe decontam: <stdin>:1: invalid JSON/);

  const noText = await runCli(['decontam', '--bench', bench], { input: '{"id":"x1","body":"hi"}\n' });
  t.equal(noText.code, 65, noText.stderr);
  t.match(noText.stderr, /<stdin>:1 \(id x1\): missing field "text"/);
  const body = await runCli(['decontam', '--bench', bench, '--text-field', 'body'], { input: `{"id":"x1","body":${JSON.stringify(Q1)}}\n{"body":"ok"}\n` });
  t.equal(body.stdout, '{"body":"ok"}\n', '--text-field');

  const mixed = `${corpus}garbage\n{"id":"nt"}\n{broken\n`;
  const report = join(dir, 'rep.json');
  const s = await runCli(['decontam', '--bench', bench, '--skip-invalid', '--report', report], { input: mixed });
  t.equal(s.code, 0, s.stderr);
  t.match(s.stderr, /skipped 2 invalid lines/);
  t.match(s.stderr, /skipped 1 record\(s\) without a string "text" field/);
  t.match(JSON.parse(readFileSync(report, 'utf8')), { skipped_invalid_lines: 2, skipped_records_without_text: 1, docs_out: 1 });

  const big = join(dir, 'big.jsonl');
  const items = benchItems(50, 3);
  writeFileSync(join(dir, 'arith.jsonl'), items.map((x) => JSON.stringify(x)).join('\n'));
  await writeCorpus(big, items, { seed: 3, docs: 20000, plantEvery: 10 });
  const h = await runShell(`mathpipe decontam ${big} --bench ${join(dir, 'arith.jsonl')} | head -1`);
  t.equal(h.code, 0, h.stderr);
  t.equal(lines(h.stdout).length, 1);
  t.notMatch(h.stderr, /EPIPE|Error/);
});

t.test('usage errors exit 2', async (t) => {
  const { bench } = setup(t);
  const none = await runCli(['decontam'], { input: '' });
  t.equal(none.code, 2, none.stderr);
  t.match(none.stderr, /--bench/);
  t.equal((await runCli(['decontam', '--bench', bench, '-n', '2'], { input: '' })).code, 2);
  t.equal((await runCli(['decontam', '--bench', bench, '--mode', 'line'], { input: '' })).code, 2);
  t.equal((await runCli(['decontam', 'index', '--bench', bench])).code, 2, 'index needs -o');
  const help = await runCli(['decontam', '--help']);
  t.match(help.stdout, /Examples:/);
});

t.test('benchmark files: missing -> 74, malformed -> 65 naming the line, unknown layout -> 65, --fields', async (t) => {
  const { dir } = setup(t);
  const missing = await runCli(['decontam', '--bench', join(dir, 'nope.jsonl')], { input: '' });
  t.equal(missing.code, 74, missing.stderr);
  const bad = join(dir, 'bad.jsonl');
  writeFileSync(bad, '{"question":"a b c"}\n{oops\n');
  const m = await runCli(['decontam', '--bench', bad], { input: '' });
  t.equal(m.code, 65, m.stderr);
  t.match(m.stderr, /bad\.jsonl:2: invalid JSON/);
  const odd = join(dir, 'odd.jsonl');
  writeFileSync(odd, `{"stem":${JSON.stringify(Q1)},"key":"A"}\n`);
  const u = await runCli(['decontam', '--bench', odd], { input: '' });
  t.equal(u.code, 65, u.stderr);
  t.match(u.stderr, /odd\.jsonl:1: no benchmark text in fields/);
  const f = await runCli(['decontam', '--bench', odd, '--fields', 'stem,key'], { input: JSON.stringify({ text: Q1 }) });
  t.equal(f.code, 0, f.stderr);
  t.equal(f.stdout, '');
  // Python-written files with NaN (MMLU-STEM) load; the NaN reads as null.
  const nan = join(dir, 'nan.jsonl');
  writeFileSync(nan, `{"question":${JSON.stringify(Q2)},"options":[NaN, "x"],"answer":"B"}\n`);
  const n = await runCli(['decontam', '--bench', nan], { input: JSON.stringify({ text: Q2 }) });
  t.equal(n.code, 0, n.stderr);
  t.equal(n.stdout, '');
  // A JSON array file (MARIO's layout).
  const arr = join(dir, 'arr.json');
  writeFileSync(arr, JSON.stringify([{ index: 7, question: Q2, answer: '10' }]));
  const a = await runCli(['decontam', '--bench', arr, '--removed', join(dir, 'rm.jsonl')], { input: JSON.stringify({ text: Q2 }) });
  t.equal(a.code, 0, a.stderr);
  t.match(JSON.parse(readFileSync(join(dir, 'rm.jsonl'), 'utf8')).decontam, { benchmark: 'arr', item: '7' });
});

t.test('-o to a FIFO writes in place (no temp file renamed over it)', async (t) => {
  const { dir, bench } = setup(t);
  const fifo = join(dir, 'fifo');
  const corpusFile = join(dir, 'in.jsonl');
  writeFileSync(corpusFile, corpus);
  const r = await runShell(`mkfifo ${fifo} && { cat ${fifo} > ${dir}/got & } && mathpipe decontam -q ${corpusFile} --bench ${bench} -o ${fifo}; rc=$?; wait; test -p ${fifo} && exit $rc`);
  t.equal(r.code, 0, r.stderr);
  t.equal(readFileSync(join(dir, 'got'), 'utf8'), corpus.split('\n')[0] + '\n');
});

t.test('--jobs: worker threads give the same output, in order, and name the right line on errors', async (t) => {
  const { dir } = setup(t);
  const items = benchItems(50, 4);
  const bench = join(dir, 'arith.jsonl');
  writeFileSync(bench, items.map((x) => JSON.stringify(x)).join('\n'));
  const big = join(dir, 'big.jsonl');
  await writeCorpus(big, items, { seed: 4, docs: 6000, plantEvery: 7 }); // several 1 MB blocks
  const outs: string[] = [];
  for (const j of ['1', '2', '3']) {
    const rem = join(dir, `rem${j}.jsonl`);
    const r = await runCli(['decontam', big, '-j', j, '--bench', bench, '--removed', rem, '--report', join(dir, `rep${j}.json`)]);
    t.equal(r.code, 0, r.stderr);
    outs.push(r.stdout + readFileSync(rem, 'utf8'));
    t.match(JSON.parse(readFileSync(join(dir, `rep${j}.json`), 'utf8')), { docs_in: 6000, docs_removed: 857, jobs: Number(j) });
  }
  t.equal(outs[1], outs[0]);
  t.equal(outs[2], outs[0]);
  // A bad line deep inside: the message names its line whatever the number of threads.
  const src = readFileSync(big, 'utf8').split('\n');
  src.splice(4999, 0, '{"id": broken');
  writeFileSync(join(dir, 'bad.jsonl'), src.join('\n'));
  for (const j of ['1', '2']) {
    const r = await runCli(['decontam', join(dir, 'bad.jsonl'), '-j', j, '--bench', bench]);
    t.equal(r.code, 65, r.stderr);
    t.match(r.stderr, /bad\.jsonl:5000: invalid JSON/);
    const s = await runCli(['decontam', join(dir, 'bad.jsonl'), '-j', j, '--skip-invalid', '--bench', bench, '-q']);
    t.equal(s.code, 0, s.stderr);
    t.match(s.stderr, /skipped 1 invalid line/);
  }
  t.equal((await runCli(['decontam', '-j', '0', '--bench', bench])).code, 2);
});
