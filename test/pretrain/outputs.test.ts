// `pretrain -o` never destroys what is not a checkpoint, never silently replaces a run, saves when stopped
// (Ctrl-C, SIGTERM, a closed metrics pipe), and --resume refuses what it cannot honour.
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, NO_TAP_HOOKS, lines, runCli, runShell } from '../helpers.js';
import { writeSyntheticTokens } from '../../fixtures/train/tokens.js';

const FAST = ['--seq-len', '32', '--batch-size', '4', '--backend', 'cpu', '-q', '--vocab-size', '320'];
let data = '';
t.before(() => {
  data = join(t.testdir(), 'a');
  writeSyntheticTokens(data, 20000, 300, 1);
});

const step = (dir: string) => (JSON.parse(readFileSync(join(dir, 'trainer_state.json'), 'utf8')) as { step: number }).step;
/** A 2-step run unless `more` gives --steps. */
const train = (out: string, ...more: string[]) => runCli(['pretrain', '--data', data, '-o', out, ...(more.includes('--steps') ? [] : ['--steps', '2']), ...FAST, ...more]);

t.test('-o that is not a checkpoint is refused and left untouched', async (t) => {
  const dir = t.testdir({ foreign: { 'notes.txt': 'mine', sub: { 'a.txt': 'a' } }, 'file.txt': 'precious', ckpt: { 'config.json': '{}', 'notes.txt': 'x' } });
  for (const [what, path, pattern] of [
    ['a directory of other files', join(dir, 'foreign'), /not a checkpoint \(it holds notes\.txt, sub\)/],
    ['a regular file', join(dir, 'file.txt'), /is a file, not a checkpoint directory/],
    ['a device', '/dev/null', /not a directory \(a device or special file\)/],
    ['a checkpoint with foreign files in it', join(dir, 'ckpt'), /not a checkpoint \(it holds notes\.txt\)/],
  ] as const) {
    for (const flag of [[], ['--overwrite']]) {
      const r = await train(path, ...flag);
      t.equal(r.code, 2, `${what} ${flag.join(' ')}: exit 2`);
      t.match(r.stderr, pattern, what);
    }
  }
  t.equal(readFileSync(join(dir, 'foreign', 'notes.txt'), 'utf8'), 'mine');
  t.equal(readFileSync(join(dir, 'foreign', 'sub', 'a.txt'), 'utf8'), 'a');
  t.equal(readFileSync(join(dir, 'file.txt'), 'utf8'), 'precious');
  t.ok(lstatSync('/dev/null').isCharacterDevice(), '/dev/null is still a device');
  t.same(readdirSync(dir).sort(), ['ckpt', 'file.txt', 'foreign']);
});

t.test('an existing checkpoint needs --resume or --overwrite; empty and absent directories are fine', async (t) => {
  const dir = t.testdir({ empty: {} });
  const r0 = await train(join(dir, 'empty'));
  t.equal(r0.code, 0, r0.stderr);
  t.equal(step(join(dir, 'empty')), 2);
  const again = await runCli(['pretrain', '--data', data, '-o', join(dir, 'empty'), '--steps', '5', ...FAST]);
  t.equal(again.code, 2);
  t.match(again.stderr, /already holds a checkpoint; --resume continues it, --overwrite replaces it/);
  t.equal(step(join(dir, 'empty')), 2, 'the run is untouched');
  const ow = await train(join(dir, 'empty'), '--overwrite', '--steps', '1');
  t.equal(ow.code, 0, ow.stderr);
  t.equal(step(join(dir, 'empty')), 1, '--overwrite starts a new run');
  const both = await train(join(dir, 'empty'), '--overwrite', '--resume');
  t.equal(both.code, 2);
  const nested = await train(join(dir, 'a', 'b', 'ck'));
  t.equal(nested.code, 0, 'missing parents are made');
});

t.test('-o a symlink to a checkpoint directory: the target is replaced, the link stays', async (t) => {
  const dir = t.testdir();
  mkdirSync(join(dir, 'real'));
  symlinkSync('real', join(dir, 'link'));
  const r = await train(join(dir, 'link'));
  t.equal(r.code, 0, r.stderr);
  t.ok(lstatSync(join(dir, 'link')).isSymbolicLink());
  t.equal(step(join(dir, 'real')), 2);
  const r2 = await train(join(dir, 'link'), '--resume', '--steps', '3');
  t.equal(r2.code, 0, r2.stderr);
  t.ok(lstatSync(join(dir, 'link')).isSymbolicLink());
  t.equal(step(join(dir, 'real')), 3);
});

t.test('an unwritable -o fails before training', async (t) => {
  const dir = t.testdir({ file: 'x' });
  const r = await train(join(dir, 'file', 'ck'));
  t.equal(r.code, 74);
  t.match(r.stderr, /cannot write .*file\/ck/);
});

t.test('| head ends training with a final checkpoint and exit 0', async (t) => {
  const dir = t.testdir();
  const out = join(dir, 'ck');
  const r = await runShell(`mathpipe pretrain --data ${data} -o ${out} --steps 100000 --save-interval 0 ${FAST.join(' ')} | head -3`);
  t.equal(r.code, 0, r.stderr);
  t.equal(lines(r.stdout).length, 3);
  t.ok(step(out) >= 3, `saved at step ${step(out)}`);
  t.same(readdirSync(dir), ['ck'], 'no temporaries');
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  t.test(`${signal} saves a checkpoint at the step reached and exits 130; --resume continues`, async (t) => {
    const dir = t.testdir();
    const out = join(dir, 'ck');
    const p = spawn('env', [...NO_TAP_HOOKS, process.execPath, BIN, 'pretrain', '--data', data, '-o', out, '--steps', '100000', '--save-interval', '0', ...FAST], { stdio: ['ignore', 'pipe', 'pipe'] });
    let seen = 0;
    let err = '';
    p.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const code = new Promise<number | null>((res) => p.on('close', res));
    await new Promise<void>((res) =>
      p.stdout.on('data', (b: Buffer) => {
        seen += lines(b.toString()).length;
        if (seen >= 2) res();
      }),
    );
    p.kill(signal);
    t.equal(await code, 130, err);
    t.match(err, /interrupted at step \d+; the checkpoint in .* resumes with --resume/);
    const at = step(out);
    t.ok(at >= 2, `saved at step ${at}`);
    t.same(readdirSync(dir), ['ck'], 'no temporaries');
    const r = await train(out, '--resume', '--steps', String(at + 1));
    t.equal(r.code, 0, r.stderr);
    t.equal(step(out), at + 1);
  });
}

t.test('--resume refuses another model or vocabulary, notes a changed schedule, validates the state', async (t) => {
  const dir = t.testdir();
  const out = join(dir, 'ck');
  t.equal((await train(out)).code, 0);
  const m = await train(out, '--resume', '--model', 'bench');
  t.equal(m.code, 2);
  t.match(m.stderr, /--resume: --model bench has hidden_size 128.*; the saved run has hidden_size 64/);
  const same = await train(out, '--resume', '--model', 'tiny', '--steps', '2');
  t.equal(same.code, 0, 'the same preset is fine');
  const v = await runCli(['pretrain', '--data', data, '-o', out, '--resume', '--steps', '3', ...FAST.slice(0, -2), '--vocab-size', '384']);
  t.equal(v.code, 2);
  t.match(v.stderr, /--vocab-size 384 differs from the saved run's 320/);
  const lr = await runCli(['pretrain', '--data', data, '-o', out, '--resume', '--steps', '3', '--lr', '5e-4', ...FAST.filter((x) => x !== '-q')]);
  t.equal(lr.code, 0, lr.stderr);
  t.match(lr.stderr, /--resume: --lr 0\.001 -> 0\.0005.*applies from step 2/);
  const st = JSON.parse(readFileSync(join(out, 'trainer_state.json'), 'utf8')) as Record<string, unknown>;
  for (const [field, value, pattern] of [
    ['step', 'abc', /"step" must be a non-negative integer, not "abc"/],
    ['rng', [1, 2], /"rng" must be 4 integers/],
    ['schedule', null, /"schedule" must be an object/],
  ] as const) {
    writeFileSync(join(out, 'trainer_state.json'), JSON.stringify({ ...st, [field]: value }));
    const r = await train(out, '--resume', '--steps', '5');
    t.equal(r.code, 65, `${field}: exit 65`);
    t.match(r.stderr, pattern);
    t.match(r.stderr, /trainer_state\.json: trainer state:/, 'names the file');
  }
  t.ok(existsSync(join(out, 'model.safetensors')));
});
