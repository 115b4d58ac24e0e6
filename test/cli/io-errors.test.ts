// Review pass: file-system failures on outputs and side files must exit 74 (or 2 for bad options) with
// one line naming the path, never a stack trace, whichever command and whichever output option hits them.
import t, { type Test } from 'tap';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lines, runCli } from '../helpers.js';

function oneLine(t: Test, r: { code: number | null; stderr: string }, code: number, pattern: RegExp, what: string): void {
  t.equal(r.code, code, `${what}: exit ${code}`);
  const err = lines(r.stderr);
  t.equal(err.length, 1, `${what}: one line on stderr (${r.stderr})`);
  t.match(err[0] ?? '', pattern, what);
  t.notMatch(r.stderr, /\n\s+at /, `${what}: no stack trace`);
}

function labeled(dir: string): string {
  const f = join(dir, 'lab.jsonl');
  const rows: string[] = [];
  for (let i = 0; i < 40; i++) {
    const math = i % 2 === 0;
    rows.push(JSON.stringify({ id: `d${i}`, text: math ? `integral theorem proof ${i}` : `football recipe travel ${i}`, label: math ? 'math' : 'other' }));
  }
  writeFileSync(f, rows.join('\n') + '\n');
  return f;
}

const GRADED = JSON.stringify({ id: 'q1', response: 'The answer is 4', gold: '4', correct: [true, false] }) + '\n';

t.test('outputs in a missing directory, a directory as -o, a full device', async (t) => {
  const dir = t.testdir({ sub: {} });
  const lab = labeled(dir);
  const model = join(dir, 'm.bin');
  const tr = await runCli(['classify', 'train', '-q', '--epoch', '1', '-o', model, lab]);
  t.equal(tr.code, 0, tr.stderr);
  const missing = join(dir, 'no', 'such', 'out.json');

  oneLine(t, await runCli(['classify', 'test', '-m', model, '-o', missing, lab]), 74, /cannot write .*no\/such\/out\.json/, 'classify test -o in a missing directory');
  oneLine(t, await runCli(['classify', 'format', '-o', join(dir, 'sub'), lab]), 74, /cannot write .*sub: is a directory/, 'classify format -o DIR');
  oneLine(t, await runCli(['grade', '--workers', '1', '--summary', missing, '-'], { input: GRADED }), 74, /cannot write .*no\/such\/out\.json: no such file or directory$/, 'grade --summary in a missing directory');
  oneLine(t, await runCli(['eval', 'summarize', '--summary', missing], { input: GRADED }), 74, /cannot write .*no\/such\/out\.json: no such file or directory$/, 'eval summarize --summary in a missing directory');
  if (existsSync('/dev/full')) {
    oneLine(t, await runCli(['classify', 'format', '-o', '/dev/full', lab]), 74, /cannot write \/dev\/full: .*no space/, 'classify format -o /dev/full');
  }
});

t.test('a directory where a model or an index file is expected', async (t) => {
  const dir = t.testdir();
  const lab = labeled(dir);
  const d = join(dir, 'adir');
  mkdirSync(d);
  oneLine(t, await runCli(['classify', 'predict', '-m', d, lab]), 74, /cannot open model .*adir: is a directory/, 'classify predict -m DIR');
  oneLine(t, await runCli(['decontam', '--index', d, lab]), 74, /cannot read .*adir: is a directory/, 'decontam --index DIR');
  oneLine(t, await runCli(['eval', 'plot', d]), 74, /cannot read .*adir: is a directory/, 'eval plot DIR');
  oneLine(t, await runCli(['eval', 'plot', join(dir, 'nope.json')]), 74, /cannot read .*nope\.json: no such file/, 'eval plot with a missing file');
});

t.test('bad numeric options are usage errors (exit 2)', async (t) => {
  oneLine(t, await runCli(['mine', '-t', '0']), 2, /--threads must be an integer >= 1/, 'mine -t 0');
  oneLine(t, await runCli(['mine', '--min-chars', 'x']), 2, /--min-chars must be a number >= 0/, 'mine --min-chars x');
  oneLine(t, await runCli(['eval', 'summarize', '-k', '0', '--', '-'], { input: GRADED }), 2, /--k must be an integer >= 1/, 'eval summarize -k 0');
  const seed = await runCli(['eval', 'summarize', '--seed', 'abc', '-'], { input: GRADED });
  t.equal(seed.code, 2, '--seed abc (the shared option) is a usage error');
  t.match(seed.stderr, /--seed must be a number/);
  t.notMatch(seed.stderr, /\n\s+at /, '--seed abc: no stack trace');
  // yargs turns a word given to a numeric option into NaN: the message shows the word, whichever name was typed.
  oneLine(t, await runCli(['grade', '--timeout', 'abc', '-'], { input: GRADED }), 2, /--timeout must be a number > 0 \(got abc\)$/, 'grade --timeout abc');
  oneLine(t, await runCli(['grade', '-j', 'two', '-'], { input: GRADED }), 2, /--jobs must be an integer >= 1 \(got two\)$/, 'grade -j two');
  oneLine(t, await runCli(['grade', '--jobs=x2', '-'], { input: GRADED }), 2, /--jobs must be an integer >= 1 \(got x2\)$/, 'grade --jobs=x2');
  // Hand-written checks once, the shared helpers now: the flag, the range, what was given.
  oneLine(t, await runCli(['tokenize', 'train', '-v', '1.5', '-o', 'x', '-']), 2, /--vocab-size must be an integer in 1\.\.2000000 \(got 1\.5\)$/, 'tokenize train -v 1.5');
  oneLine(t, await runCli(['mine', 'select', '--budget', 'lots', '-']), 2, /--budget must be a number >= 0 \(got lots\)$/, 'mine select --budget lots');
  const run = ['eval', 'run', '-b', 'gsm8k', '--api', 'http://127.0.0.1:9/v1', '--model', 'm', '--temperature', '0.7', '--n', '4'];
  oneLine(t, await runCli([...run, '--k', '1', '8']), 2, /--k must be an integer in 1\.\.4 \(got 8\)$/, 'eval run --k above --n');
  oneLine(t, await runCli([...run, '--top-p', '0']), 2, /--top-p must be a number in \(0, 1\] \(got 0\)$/, 'eval run --top-p 0');
});
