// The CLI contract every command shares: exit codes, quiet EPIPE, interruption, usage errors.
// decontam serves as the carrier because it is the simplest streaming filter.
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, NO_TAP_HOOKS, runCli, runShell, lines } from '../helpers.js';

function bench(dir: string): string {
  const f = join(dir, 'bench.jsonl');
  writeFileSync(f, JSON.stringify({ question: 'Natalia sold clips to 48 of her friends in April and then half as many in May', answer: '72' }) + '\n');
  return f;
}

t.test('--version and --help', async (t) => {
  const v = await runCli(['--version']);
  t.equal(v.code, 0);
  t.match(v.stdout, /^\d+\.\d+\.\d+/);
  const h = await runCli(['--help']);
  t.equal(h.code, 0);
  for (const c of ['mine', 'classify', 'decontam', 'tokenize', 'pretrain', 'eval', 'grade']) t.match(h.stdout, new RegExp(`mathpipe ${c}\\b`));
});

t.test('usage errors exit 2 with a hint', async (t) => {
  for (const args of [['no-such-command'], [], ['decontam', '--no-such-option']]) {
    const r = await runCli(args);
    t.equal(r.code, 2, args.join(' '));
    t.match(r.stderr, /Run with --help/);
  }
});

t.test('bad JSON exits 65 naming the line; --skip-invalid counts', async (t) => {
  const b = bench(t.testdir());
  const r = await runCli(['decontam', '--bench', b], { input: 'not json\n' });
  t.equal(r.code, 65);
  t.match(r.stderr, /<stdin>:1: invalid JSON/);
  const s = await runCli(['decontam', '--bench', b, '--skip-invalid'], { input: '{"id":"a","text":"hello"}\nnot json\n{"id":"b","text":"x"}\n' });
  t.equal(s.code, 0);
  t.equal(lines(s.stdout).length, 2);
  t.match(s.stderr, /skipped 1 invalid line/);
});

t.test('a missing input file is an I/O error (74)', async (t) => {
  const b = bench(t.testdir());
  const r = await runCli(['decontam', '--bench', b, '--', '/no/such/file.jsonl']);
  t.equal(r.code, 74);
  t.match(r.stderr, /no such file/);
});

t.test('| head ends quietly with status 0', async (t) => {
  const dir = t.testdir();
  const b = bench(dir);
  const docs = join(dir, 'docs.jsonl');
  writeFileSync(docs, Array.from({ length: 200_000 }, (_, i) => JSON.stringify({ id: `d${i}`, text: `document number ${i} about nothing` })).join('\n') + '\n');
  const r = await runShell(`mathpipe decontam --bench ${b} -- ${docs} | head -1`);
  t.equal(r.code, 0);
  t.equal(lines(r.stdout).length, 1);
  t.equal(r.stderr, '');
});

t.test('SIGINT exits 130 and leaves no partial output file', async (t) => {
  const dir = t.testdir();
  const b = bench(dir);
  const out = join(dir, 'out.jsonl');
  const p = spawn('env', [...NO_TAP_HOOKS, process.execPath, BIN, 'decontam', '--bench', b, '-o', out], { stdio: ['pipe', 'ignore', 'pipe'] });
  p.stdin.write('{"id":"1","text":"a document"}\n');
  await new Promise((r) => setTimeout(r, 1500)); // the command is now blocked reading stdin
  p.kill('SIGINT');
  const code = await new Promise<number | null>((r) => p.on('exit', (c) => r(c)));
  p.stdin.destroy();
  t.equal(code, 130);
  t.notOk(existsSync(out));
  t.same(readdirSync(dir).filter((f) => f.startsWith('out.jsonl')), []);
});
