// `eval run` and `eval prompts` options that the end-to-end HTTP tests do not reach: request knobs
// (--top-p, --max-tokens, --api-key-env), custom input fields, the cache path, and the limits on
// model-written programs (--exec-timeout, --exec-output, --tool-rounds).
import t, { type Test } from 'tap';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, lines } from '../helpers.js';
import { startFakeServer, type FakeOptions } from './fake-openai.js';

const ITEMS = [
  { key: 'a', q: 'What is 2+3?', gold: '5' },
  { key: 'b', q: 'What is 10+32?', gold: '42' },
];

function sum(prompt: string): number {
  const m = [...prompt.matchAll(/What is (\d+)\+(\d+)\?/g)].pop()!;
  return Number(m[1]) + Number(m[2]);
}

async function setup(t: Test, answer: FakeOptions['answer']) {
  const srv = await startFakeServer({ answer });
  t.teardown(() => srv.close());
  const dir = t.testdir();
  const input = join(dir, 'items.jsonl');
  writeFileSync(input, ITEMS.map((x) => JSON.stringify(x)).join('\n') + '\n');
  const base = ['eval', 'run', '--input', input, '--question-field', 'q', '--answer-field', 'gold', '--api', srv.url, '--model', 'fake', '--backoff', '0.01', '--jobs', '1'];
  return { srv, dir, input, base };
}

t.test('request knobs reach the server; custom question and answer fields', async (t) => {
  const { srv, base } = await setup(t, (p) => `\\boxed{${sum(p)}}`);
  const r = await runCli([...base, '--style', 'instruct', '--top-p', '0.9', '--max-tokens', '64', '--api-key-env', 'MATHPIPE_TEST_KEY'], { env: { MATHPIPE_TEST_KEY: 'sekrit' } });
  t.equal(r.code, 0, r.stderr);
  t.same(lines(r.stdout).map((l) => JSON.parse(l).correct), [[true], [true]], 'questions from "q", gold from "gold"');
  t.match(srv.served[0], { top_p: 0.9, max_tokens: 64 });
  t.same(srv.auth, ['Bearer sekrit', 'Bearer sekrit']);
  const r2 = await runCli([...base, '--style', 'instruct', '--api-key-env', 'MATHPIPE_TEST_NO_SUCH_VAR']);
  t.equal(r2.code, 0, r2.stderr);
  t.equal(srv.auth.at(-1), undefined, 'no key in the environment: no Authorization header');
  t.notOk('top_p' in srv.served.at(-1)!, 'no --top-p: the server default');
});

t.test('--cache names the response cache; --no-cache keeps none', async (t) => {
  const { srv, dir, base } = await setup(t, (p) => `\\boxed{${sum(p)}}`);
  const out = join(dir, 'out.jsonl');
  const cache = join(dir, 'my.cache.jsonl');
  t.equal((await runCli([...base, '--style', 'instruct', '-o', out, '--cache', cache])).code, 0);
  t.ok(existsSync(cache), 'cache at the given path');
  t.notOk(existsSync(`${out}.cache.jsonl`), 'not at the default path');
  const before = srv.served.length;
  t.equal((await runCli([...base, '--style', 'instruct', '-o', out, '--cache', cache])).code, 0);
  t.equal(srv.served.length, before, 'the re-run is answered from the cache');
  const out2 = join(dir, 'out2.jsonl');
  t.equal((await runCli([...base, '--style', 'instruct', '-o', out2, '--no-cache'])).code, 0);
  t.notOk(existsSync(`${out2}.cache.jsonl`), '--no-cache writes no cache');
});

t.test('program limits: --exec-timeout stops a runaway program, --exec-output cuts its output', async (t) => {
  const { dir, base } = await setup(t, (p) =>
    sum(p) === 5 ? 'def solution():\n    while True:\n        pass\n' : `def solution():\n    print("x" * 500)\n    return ${sum(p)}\n`,
  );
  const pf = join(dir, 'pal.json');
  writeFileSync(pf, JSON.stringify({ name: 'pal', template: '{few_shot_prompt}\n\n\nQ: {question}\n\n# solution in Python:', stop_words: ['\nQ:'], exemplars: [{ question: 'What is 1+2?', answer: 'def solution():\n    return 3' }] }));
  const r = await runCli([...base, '--style', 'pot', '--prompt-file', pf, '--exec-timeout', '1', '--exec-output', '50']);
  t.equal(r.code, 0, r.stderr);
  const recs = lines(r.stdout).map((l) => JSON.parse(l));
  t.equal(recs[0].correct[0], false, 'the endless loop is stopped and counts as wrong');
  t.equal(recs[1].program_output[0], `${'x'.repeat(50)}\n...[output truncated]`, 'output cut at 50 characters, and marked');
});

t.test('--tool-rounds bounds program executions per response', async (t) => {
  // A model that always asks for one more program: the number of requests per question is the bound.
  const { srv, base } = await setup(t, () => 'Again.\n```python\nprint(1)\n```');
  const r = await runCli([...base, '--style', 'tool', '--tool-rounds', '1', '--limit', '1']);
  t.equal(r.code, 0, r.stderr);
  const one = srv.served.length;
  const r3 = await runCli([...base, '--style', 'tool', '--tool-rounds', '3', '--limit', '1', '--no-cache']);
  t.equal(r3.code, 0, r3.stderr);
  t.ok(srv.served.length - one > one, `more rounds, more requests (${one} then ${srv.served.length - one})`);
});

t.test('eval prompts: custom fields, and an unknown split is a clear error', async (t) => {
  const dir = t.testdir();
  const input = join(dir, 'items.jsonl');
  writeFileSync(input, ITEMS.map((x) => JSON.stringify(x)).join('\n') + '\n');
  const r = await runCli(['eval', 'prompts', '--input', input, '--question-field', 'q', '--answer-field', 'gold', '--style', 'instruct']);
  t.equal(r.code, 0, r.stderr);
  const recs = lines(r.stdout).map((l) => JSON.parse(l));
  t.same(recs.map((x) => x.gold), ['5', '42']);
  t.match(recs[0].prompt, /^What is 2\+3\?/);
  const bad = await runCli(['eval', 'prompts', '--input', input, '--style', 'instruct']);
  t.equal(bad.code, 65, 'default field names absent: bad data');
  t.match(bad.stderr, /items\.jsonl:1: missing field/);
});

t.test('bad numbers are usage errors before any request (exit 2 naming the option)', async (t) => {
  const dir = t.testdir();
  const input = join(dir, 'items.jsonl');
  writeFileSync(input, ITEMS.map((x) => JSON.stringify(x)).join('\n') + '\n');
  // Port 9 (discard) is never contacted: every case must fail in the option checks.
  const base = ['eval', 'run', '--input', input, '--question-field', 'q', '--answer-field', 'gold', '--style', 'instruct', '--api', 'http://127.0.0.1:9/v1', '--model', 'm', '--retries', '0'];
  const cases: [string, string][] = [
    ['--limit', '0'],
    ['--shots', '-1'],
    ['--temperature', '-1'],
    ['--top-p', '2'],
    ['--request-timeout', '0'],
    ['--backoff', '-1'],
    ['--exec-timeout', '0'],
    ['--exec-memory', '0'],
    ['--exec-output', '-5'],
    ['--check-timeout', '0'],
    ['--jobs', '0'],
  ];
  for (const [opt, v] of cases) {
    const r = await runCli([...base, opt, v]);
    t.equal(r.code, 2, `${opt} ${v}`);
    t.match(r.stderr, new RegExp(`${opt} must be`), `${opt} ${v}: the message names the option`);
  }
  const p = await runCli(['eval', 'prompts', '--input', input, '--question-field', 'q', '--answer-field', 'gold', '--style', 'instruct', '--limit', '-1']);
  t.equal(p.code, 2, 'eval prompts --limit -1');
  for (const [opt, v] of [['--retries', '-1'], ['--backoff', '-2']]) {
    const f = await runCli(['eval', 'fetch', 'sat', '--cache-dir', dir, '--mirror', 'http://127.0.0.1:9', opt, v]);
    t.equal(f.code, 2, `eval fetch ${opt} ${v}`);
  }
});

t.test('eval summarize: -k swallowing the file name is a usage error with a hint, not "no records"', async (t) => {
  const dir = t.testdir();
  const f = join(dir, 'graded.jsonl');
  writeFileSync(f, JSON.stringify({ id: 'q1', correct: [true, false] }) + '\n');
  const r = await runCli(['eval', 'summarize', '-k', '1', f]);
  t.equal(r.code, 2);
  t.match(r.stderr, /-k takes all following words/);
  const ok = await runCli(['eval', 'summarize', f, '-k', '1', '2']);
  t.equal(ok.code, 0, ok.stderr);
  t.same(Object.keys(JSON.parse(ok.stdout).pass_at_k), ['1', '2']);
});
