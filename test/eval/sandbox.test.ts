// The runner of model-written programs: whatever a program starts, its verdict comes at its limit (or at its
// exit); interpreter start-up does not count towards the limit; the child never sees the parent's
// environment; --sandbox auto|strict|none. No assertion here is about elapsed time: each sub-test's own tap
// timeout is the safety net that fails a runner that waits for a leftover `sleep 30`.
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, lines } from '../helpers.js';
import { startFakeServer } from './fake-openai.js';
import { isolation, programAnswer, runPython, type SandboxMode } from '../../src/eval/python.js';

const LIMIT = { timeoutMs: 60_000, memoryMb: 512, maxOutput: 2000 };
const modes: SandboxMode[] = ['auto', 'none'];

for (const sandbox of modes) {
  t.test(`--sandbox ${sandbox}: a child holding stdout does not hold the verdict`, { timeout: 20_000 }, async (t) => {
    const o = { ...LIMIT, sandbox };
    t.same(await runPython("import subprocess\nsubprocess.Popen(['sleep', '30'])\nprint(42)", o), { output: '42', ok: true, timedOut: false });
    // A child that left the process group (setsid) too: ended by the PID namespace, or no longer waited for.
    const escaped = await runPython("import subprocess\np = subprocess.Popen(['sleep', '30'], start_new_session=True)\nprint(p.pid)\nprint(7)", o);
    t.equal(programAnswer(escaped), '7');
    // Outside a PID namespace the escaped sleep is still there: end it (its pid is a real one only then).
    if (sandbox === 'none' || !isolation().proc) {
      const pid = Number(escaped.output.split('\n')[0]);
      t.teardown(() => {
        try {
          process.kill(pid);
        } catch {
          // already gone
        }
      });
    }
    const late = await runPython("import subprocess, time\nsubprocess.Popen(['sleep', '30'])\nprint('started', flush=True)\ntime.sleep(30)", { ...o, timeoutMs: 3000 });
    t.equal(late.timedOut, true, 'the deadline kills the whole group');
    t.equal(late.ok, false);
    t.match(late.output, /^started\nTimeoutError: execution exceeded 3s$/);
  });

  t.test(`--sandbox ${sandbox}: the parent's environment is not passed on`, async (t) => {
    const saved = process.env.OPENAI_API_KEY;
    process.env.OPENAI_API_KEY = 'sk-canary-env';
    t.teardown(() => {
      if (saved === undefined) delete process.env.OPENAI_API_KEY;
      else process.env.OPENAI_API_KEY = saved;
    });
    const r = await runPython("import os\nprint(sorted(os.environ))\nprint(any('sk-canary' in v for v in os.environ.values()))", { ...LIMIT, sandbox });
    t.equal(r.ok, true, r.output);
    t.notMatch(r.output, /OPENAI_API_KEY/);
    t.equal(programAnswer(r), 'False');
  });
}

t.test('interpreter start-up does not count towards the limit', async (t) => {
  // An interpreter that takes 4 s to start (a cold pyenv shim on a loaded machine), a 3 s limit.
  const dir = t.testdir();
  const slow = join(dir, 'slow-python');
  writeFileSync(slow, '#!/bin/sh\nsleep 4\nexec python3 "$@"\n');
  chmodSync(slow, 0o755);
  const r = await runPython('print(6*7)', { ...LIMIT, timeoutMs: 3000, python: slow });
  t.same(r, { output: '42', ok: true, timedOut: false });
});

const PROBE = `def solution():
    import os
    for pid in os.listdir('/proc'):
        try:
            if b'sk-canary-proc' in open('/proc/%s/environ' % pid, 'rb').read():
                return 'LEAK'
        except OSError:
            pass
    return 'SAFE'
`;

async function potRun(t: Test, dir: string, extra: string[], env: Record<string, string> = {}) {
  const srv = await startFakeServer({ answer: () => PROBE });
  t.teardown(() => srv.close());
  const input = join(dir, 'items.jsonl');
  writeFileSync(input, '{"id":"a","question":"Is it safe?","answer":"SAFE"}\n{"id":"b","question":"Still?","answer":"SAFE"}\n');
  const pf = join(dir, 'pal.json');
  writeFileSync(pf, JSON.stringify({ name: 'pal', template: '{few_shot_prompt}\n\n\nQ: {question}\n\n# solution in Python:', stop_words: ['\nQ:'], exemplars: [] }));
  const r = await runCli(['eval', 'run', '--input', input, '--api', srv.url, '--model', 'fake', '--style', 'pot', '--prompt-file', pf, '--workers', '1', ...extra], {
    env: { OPENAI_API_KEY: 'sk-canary-proc', ...env },
  });
  return { r, srv, recs: lines(r.stdout).map((l) => JSON.parse(l) as { program_output: string[] }) };
}

const iso = isolation();
t.test('with a PID namespace, /proc shows nothing of the parent (its API key)', { skip: iso.proc ? false : 'unshare cannot make a PID namespace here' }, async (t) => {
  const { r, recs } = await potRun(t, t.testdir(), ['--sandbox', 'strict']);
  t.equal(r.code, 0, r.stderr);
  t.same(recs.map((x) => x.program_output[0]), ['SAFE', 'SAFE']);
  t.notMatch(r.stderr, /warning/, 'full isolation: nothing to warn about');
});

/** A PATH with no unshare on it: `env` (for the test helper) and the real Python only. */
function pathWithoutUnshare(root: string): string {
  const dir = join(root, 'bin');
  mkdirSync(dir);
  const python = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).stdout.trim();
  symlinkSync(python, join(dir, 'python3'));
  symlinkSync(spawnSync('sh', ['-c', 'command -v env'], { encoding: 'utf8' }).stdout.trim(), join(dir, 'env'));
  return dir;
}

t.test('without unshare: auto warns once naming what is missing, strict refuses before any request, none is silent', async (t) => {
  const dir = t.testdir();
  const PATH = pathWithoutUnshare(dir);
  const auto = await potRun(t, dir, [], { PATH });
  t.equal(auto.r.code, 0, auto.r.stderr);
  t.same(auto.recs.map((x) => x.program_output[0]).length, 2, 'the programs still run');
  t.equal(auto.r.stderr.match(/warning: model-written programs run with incomplete isolation/g)?.length, 1, 'one warning per process');
  t.match(auto.r.stderr, /no network namespace: programs can reach the network/);
  t.match(auto.r.stderr, /\/proc\/PPID\/environ/);
  const strict = await potRun(t, dir, ['--sandbox', 'strict'], { PATH });
  t.equal(strict.r.code, 2);
  t.match(strict.r.stderr, /--sandbox strict: model-written programs cannot be isolated here/);
  t.equal(strict.srv.received, 0, 'refused before the first request');
  const none = await potRun(t, dir, ['--sandbox', 'none'], { PATH });
  t.equal(none.r.code, 0, none.r.stderr);
  t.notMatch(none.r.stderr, /warning/);
  t.equal((await runCli(['eval', 'run', '--input', 'x', '--api', 'http://127.0.0.1:9', '--model', 'm', '--sandbox', 'maybe'])).code, 2);
});
