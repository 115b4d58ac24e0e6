// Thread and job counts (-j, --jobs, --workers, --threads, --thread) are capped at 4x the cores with one
// warning, and no allowed value makes Node print a MaxListenersExceededWarning.
import t from 'tap';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { runCli } from '../helpers.js';
import { integer, number, workerCount } from '../../src/cli/options.js';
import { generateWarc } from '../../fixtures/mine/warc-gen.js';

const CAP = 4 * availableParallelism();

t.test('workerCount: checks, caps, and makes room for the workers\' stdio pipes', async (t) => {
  t.throws(() => workerCount(0, '--jobs'), { message: '--jobs must be an integer >= 1 (got 0)' });
  t.throws(() => workerCount(1.5, '--jobs'), /integer >= 1/);
  t.throws(() => workerCount(Number.NaN, '--jobs'), /integer >= 1/);
  t.equal(workerCount(0, '--workers', 0), 0);
  t.equal(workerCount(CAP, '--jobs'), CAP);
  const before = process.stdout.getMaxListeners();
  t.equal(workerCount(CAP * 100, '--jobs'), CAP);
  t.ok(process.stdout.getMaxListeners() >= before + CAP);
});

t.test('integer() and number(): the flag, the range as written, and what was given', async (t) => {
  t.equal(integer(3, '-n', 3, 31), 3);
  t.throws(() => integer(32, '-n', 3, 31), { message: '-n must be an integer in 3..31 (got 32)' });
  t.throws(() => integer(2.5, '--steps', 1), { message: '--steps must be an integer >= 1 (got 2.5)' });
  t.equal(number(1, '--top-p', { above: 0, max: 1 }), 1);
  t.throws(() => number(0, '--top-p', { above: 0, max: 1 }), { message: '--top-p must be a number in (0, 1] (got 0)' });
  t.throws(() => number(1, '--replay', { min: 0, below: 1 }), { message: '--replay must be a number in [0, 1) (got 1)' });
  t.throws(() => number(0, '--lr', { above: 0 }), { message: '--lr must be a number > 0 (got 0)' });
  t.throws(() => number(2, '--x', { below: 2 }), { message: '--x must be a number < 2 (got 2)' });
  t.throws(() => number(Infinity, '--rm-weight'), { message: '--rm-weight must be a number (got Infinity)' });
  // A string option holding a number (--budget 40e9) is read as one; an empty or wordy one is not.
  t.equal(number('40e9', '--budget', { min: 0 }), 40e9);
  t.throws(() => number('', '--budget', { min: 0 }), { message: '--budget must be a number >= 0 (got )' });
  t.throws(() => number('lots', '--budget', { min: 0 }), { message: '--budget must be a number >= 0 (got lots)' });
});

t.test('every thread or job count option: at most 4x cores, one warning past that, no leak warning', async (t) => {
  const dir = t.testdir();
  const docs = join(dir, 'docs.jsonl');
  writeFileSync(docs, Array.from({ length: 300 }, (_, i) => JSON.stringify({ id: `d${i}`, text: `page ${i}: the sum of ${i} and 2 is ${i + 2}`, label: i % 2 ? 'math' : 'other' })).join('\n') + '\n');
  const bench = join(dir, 'bench.jsonl');
  writeFileSync(bench, JSON.stringify({ question: 'Natalia sold clips to 48 of her friends in April and then half as many in May', answer: '72' }) + '\n');
  const model = join(dir, 'm.bin');
  const tr = await runCli(['classify', 'train', '-q', '-o', model, '--dim', '8', '--thread', '1', docs]);
  t.equal(tr.code, 0, tr.stderr);
  const tok = join(dir, 'tok');
  t.equal((await runCli(['tokenize', 'train', '-q', '-v', '300', '-j', '1', '-o', tok, docs])).code, 0);
  const graded = join(dir, 'graded.jsonl');
  writeFileSync(graded, Array.from({ length: 50 }, (_, i) => JSON.stringify({ id: i, response: `The answer is ${i}.`, answer: String(i % 7) })).join('\n') + '\n');
  const warc = join(dir, 'crawl.warc.gz');
  // More than the 200 records after which mine starts its extraction threads.
  writeFileSync(warc, generateWarc({ pages: 120, seed: 4 }).bytes);
  const cases: [string[], string][] = [
    [['decontam', '--bench', bench, '-j', 'N', '--', docs], '--jobs'],
    [['classify', 'predict', '-m', model, '--thread', 'N', docs], '--thread'],
    [['classify', 'train', '-o', join(dir, 'm2.bin'), '--dim', '8', '--epoch', '1', '--thread', 'N', docs], '--thread'],
    [['tokenize', '-t', tok, '-f', 'jsonl', '-j', 'N', docs], '--jobs'],
    [['tokenize', 'train', '-v', '300', '-o', join(dir, 'tok2'), '-j', 'N', docs], '--jobs'],
    [['mine', '-t', 'N', warc], '--threads'],
    [['mine', '-j', 'N', warc, warc], '--jobs'],
    [['grade', '--workers', 'N', graded], '--workers'],
  ];
  for (const [args, flag] of cases) {
    const name = `${args[0]} ${args[1]} ${flag}`;
    const at = await runCli(args.map((a) => (a === 'N' ? String(CAP) : a)));
    t.equal(at.code, 0, `${name} ${CAP}: ${at.stderr}`);
    t.notMatch(at.stderr, /MaxListenersExceededWarning|capped to/, `${name} ${CAP}: no warning`);
    const over = await runCli(args.map((a) => (a === 'N' ? '1000' : a)));
    t.equal(over.code, 0, `${name} 1000: ${over.stderr}`);
    t.equal(over.stderr.split(`${flag} 1000 capped to ${CAP} (4x cores)`).length, 2, `${name} 1000: one cap warning`);
    t.notMatch(over.stderr, /MaxListenersExceededWarning/, `${name} 1000`);
    // (classify train prints timings on stdout)
    if (args[1] !== 'train') t.equal(over.stdout, at.stdout, `${name}: same output`);
  }
  const bad = await runCli(['decontam', '--bench', bench, '-j', '0', '--', docs]);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /--jobs must be an integer >= 1/);
  t.equal((await runCli(['mine', '-j', '0', warc])).code, 2);
});
