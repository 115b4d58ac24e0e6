// The stoplist through the real binary: measured with `decontam stoplist`, used with --stoplist, counted
// in --report; --max-items; the options chosen at index time cannot be changed with --index.
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUILTIN_STOPLIST } from '../../src/decontam/stoplist-data.js';
import { runCli, lines } from '../helpers.js';

const SOL = 'We list the numbers $1, 2, 3, 4, 5, 6, 7, 8, 9, 10$ and Natalia sold 48 clips.';
const BENCH = [
  { id: 'm1', problem: 'Natalia sold clips to 48 of her friends in April. How many in May?', solution: SOL },
  { id: 'm2', problem: 'Compute $\\cos 315^\\circ$.', solution: 'It is $\\frac{\\sqrt{2}}{2}$.' },
];
// Clean text that lists numbers, as math pages do; and a page holding a leak.
const CLEAN = ['Count: 1, 2, 3, 4, 5, 6, 7, 8, 9, 10.', 'The pages 1 2 3 4 5 6 7 8 9 10 are here.', 'Steps 2, 3, 4, 5, 6, 7, 8, 9, 10 and more.'];
const DOCS = [
  { id: 'generic', text: 'Here: 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11.' },
  { id: 'leak', text: 'Homework: compute $\\cos 315^{\\circ}$ please' },
  { id: 'clean', text: 'Nothing to see.' },
];
const jsonl = (xs: object[]) => xs.map((x) => JSON.stringify(x)).join('\n') + '\n';

t.test('decontam stoplist measures word pairs on a clean corpus; --stoplist uses them; --report counts them', async (t) => {
  const dir = t.testdir();
  const bench = join(dir, 'math.jsonl');
  writeFileSync(bench, jsonl(BENCH));
  const clean = join(dir, 'clean.jsonl');
  writeFileSync(clean, jsonl(CLEAN.map((text, i) => ({ id: i, text }))));
  const stop = join(dir, 'stop.txt');
  const m = await runCli(['decontam', 'stoplist', '--min-docs', '2', '-o', stop, '--bench', bench, '--', clean]);
  t.equal(m.code, 0, m.stderr);
  t.match(m.stderr, /sequences in >= 2 of 3 documents/);
  const entries = lines(readFileSync(stop, 'utf8')).filter((l) => !l.startsWith('#'));
  t.ok(entries.includes('1 2') && entries.includes('9 10'), 'pairs seen in 2 documents or more');
  t.notOk(entries.includes('10 11'), 'not a benchmark pair');
  t.notOk(entries.some((e) => e.includes('natalia')), 'benchmark words the clean corpus lacks');
  t.same(entries.slice(0, 2), ['2 3', '3 4'], 'most documents first, then in order');

  const report = join(dir, 'report.json');
  const removed = join(dir, 'removed.jsonl');
  const r = await runCli(['decontam', '--stoplist', stop, '--report', report, '--removed', removed, '--bench', `math=${bench}`], { input: jsonl(DOCS) });
  t.equal(r.code, 0, r.stderr);
  t.same(lines(r.stdout).map((l) => JSON.parse(l).id), ['generic', 'clean']);
  t.same(lines(readFileSync(removed, 'utf8')).map((l) => JSON.parse(l).decontam), [{ ngram: 'compute \\cos 315 \\circ', benchmark: 'math', item: 'm2', field: 'problem' }]);
  const rep = JSON.parse(readFileSync(report, 'utf8'));
  t.match(rep, { rules: { max_items: 10, stoplist: { sources: [stop], entries: entries.length } } });
  t.ok(rep.stoplist_removed >= 1, `the report says how many n-grams the stoplist removed (${rep.stoplist_removed})`);
  t.equal(rep.stoplist_removed, rep.benchmarks[0].stoplisted);
  t.equal(rep.common_removed, 0);

  const none = await runCli(['decontam', '--stoplist', 'none', '--report', report, '--bench', bench], { input: jsonl(DOCS) });
  t.same(lines(none.stdout).map((l) => JSON.parse(l).id), ['clean'], 'without a stoplist the number list removes the page');
  t.match(JSON.parse(readFileSync(report, 'utf8')), { stoplist_removed: 0, rules: { stoplist: { sources: [], entries: 0 } } });

  const def = await runCli(['decontam', '--report', report, '--bench', bench], { input: jsonl(DOCS) });
  t.equal(def.code, 0, def.stderr);
  t.match(JSON.parse(readFileSync(report, 'utf8')).rules.stoplist, { sources: ['builtin'] }, 'the built-in stoplist is the default');
  const both = await runCli(['decontam', '--stoplist', 'builtin', '--stoplist', stop, '--report', report, '--bench', bench], { input: '' });
  t.equal(both.code, 0, both.stderr);
  t.same(JSON.parse(readFileSync(report, 'utf8')).rules.stoplist.sources, ['builtin', stop]);

  // Chosen when the index is built: an index file remembers them, --index cannot change them.
  const idx = join(dir, 'b.idx');
  const b = await runCli(['decontam', 'index', '--stoplist', stop, '--max-items', '5', '-o', idx, '--bench', bench]);
  t.equal(b.code, 0, b.stderr);
  t.match(b.stderr, /left out: \d+ by the stoplist, 0 in >= 5 items; 0 texts cannot match/);
  const viaIndex = await runCli(['decontam', '--index', idx, '--report', report], { input: jsonl(DOCS) });
  t.equal(viaIndex.stdout, r.stdout);
  t.match(JSON.parse(readFileSync(report, 'utf8')), { rules: { max_items: 5, stoplist: { sources: [stop] } } });
  t.equal((await runCli(['decontam', '--index', idx, '--stoplist', 'none'], { input: '' })).code, 2);
  t.equal((await runCli(['decontam', '--index', idx, '--max-items', '3'], { input: '' })).code, 2);
});

t.test('--max-items: a sequence in that many items or more is not evidence', async (t) => {
  const dir = t.testdir();
  const bench = join(dir, 'b.jsonl');
  const stock = 'multiplying the numerator and denominator by the conjugate of the denominator';
  writeFileSync(bench, jsonl(Array.from({ length: 4 }, (_, i) => ({ id: `q${i}`, question: `Item ${i}: ${stock} gives ${i + 7}.` }))));
  const doc = jsonl([{ id: 'd', text: `Tip: ${stock}.` }]);
  // (The built-in stoplist would leave this phrase out anyway: its word pairs are all common.)
  const builtin = await runCli(['decontam', '--max-items', '0', '--bench', bench], { input: doc });
  t.equal(builtin.stdout, doc, 'a chain of ordinary pairs by the built-in stoplist');
  const three = await runCli(['decontam', '--stoplist', 'none', '--max-items', '3', '--bench', bench, '--report', join(dir, 'r.json')], { input: doc });
  t.equal(three.stdout, doc, 'in 4 items >= 3: kept');
  t.ok(JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')).common_removed > 0);
  t.equal((await runCli(['decontam', '--stoplist', 'none', '--max-items', '5', '--bench', bench], { input: doc })).stdout, '', 'in 4 items < 5: removed');
  t.equal((await runCli(['decontam', '--stoplist', 'none', '--max-items', '0', '--bench', bench], { input: doc })).stdout, '', '0: no limit');
});

t.test('usage and input errors', async (t) => {
  const dir = t.testdir();
  const bench = join(dir, 'b.jsonl');
  writeFileSync(bench, jsonl(BENCH));
  for (const args of [
    ['--max-items', '-1'],
    ['--max-items', '1.5'],
    ['--stoplist', 'none', '--stoplist', 'builtin'],
  ]) {
    const r = await runCli(['decontam', ...args, '--bench', bench], { input: '' });
    t.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
  }
  const missing = await runCli(['decontam', '--stoplist', join(dir, 'nope.txt'), '--bench', bench], { input: '' });
  t.equal(missing.code, 74, missing.stderr);
  t.match(missing.stderr, /cannot read stoplist .*nope\.txt: no such file/);
  const noBench = await runCli(['decontam', 'stoplist', join(dir, 'x.jsonl')]);
  t.equal(noBench.code, 2, noBench.stderr);
  const minDocs = await runCli(['decontam', 'stoplist', '--min-docs', '0', '--bench', bench], { input: '' });
  t.equal(minDocs.code, 2, minDocs.stderr);
});

t.test('the built-in stoplist is a derived table of word pairs', async (t) => {
  const entries = BUILTIN_STOPLIST.split('\n').filter((l) => l.trim() && !l.startsWith('#'));
  t.ok(entries.length > 10000, `${entries.length} entries`);
  t.ok(entries.every((e) => e.split(' ').length <= 9), 'pairs and short texts, no long passages');
  t.ok(entries.includes('1 2') && entries.includes('of the'), 'number runs and function-word pairs');
});
