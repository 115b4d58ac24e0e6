// `mathpipe eval run` end to end over HTTP against a local OpenAI-compatible server with canned answers:
// retries on 429/503/timeouts/dropped connections, exit 74 when they run out, resume from the cache,
// sampling metrics, program-of-thought and tool-integrated execution.
import t, { type Test } from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, lines } from '../helpers.js';
import { startFakeServer, type FakeOptions } from './fake-openai.js';

const ITEMS = [
  { id: 'a', question: 'What is 2+3?', answer: '5', subject: 'add', level: '1' },
  { id: 'b', question: 'What is 10+32?', answer: '42', subject: 'add', level: '2' },
  { id: 'c', question: 'What is 7+8?', answer: '#### 15', subject: 'hard', level: '2' },
  { id: 'd', question: 'What is 1+1?', answer: '2', subject: 'hard', level: '1' },
];

function sum(prompt: string): number | null {
  const m = [...prompt.matchAll(/What is (\d+)\+(\d+)\?/g)].pop();
  return m ? Number(m[1]) + Number(m[2]) : null;
}

/** Right for a, b, d; wrong for c on even sample ids (choice index + request seed; with --seed 0, c's seed is 2). */
const arithmetic: FakeOptions['answer'] = (prompt, sample) => {
  const s = sum(prompt);
  if (s === 15 && sample % 2 === 0) return 'I think it is \\boxed{14}.';
  return `Adding gives \\boxed{${s}}.\nQ: next question leaks past the stop`;
};

async function setup(t: Test, o: FakeOptions) {
  const srv = await startFakeServer(o);
  t.teardown(() => srv.close());
  const dir = t.testdir();
  const input = join(dir, 'items.jsonl');
  writeFileSync(input, ITEMS.map((x) => JSON.stringify(x)).join('\n') + '\n');
  const base = ['eval', 'run', '--input', input, '--api', srv.url, '--model', 'fake', '--style', 'instruct', '--backoff', '0.01', '--workers', '1', '--seed', '0'];
  return { srv, dir, input, base };
}

t.test('greedy run: per-question records, stop strings applied, summary JSON and table', async (t) => {
  const { srv, dir, base } = await setup(t, { answer: arithmetic });
  const summary = join(dir, 's.json');
  const r = await runCli([...base, '--chat', '--stop', '\nQ:', '--summary', summary, '--system', 'be brief']);
  t.equal(r.code, 0, r.stderr);
  const recs = lines(r.stdout).map((l) => JSON.parse(l));
  t.same(recs.map((x) => x.id), ['a', 'b', 'c', 'd']);
  t.same(recs.map((x) => x.correct), [[true], [true], [false], [true]]);
  t.same(recs.map((x) => x.extracted), [['5'], ['42'], ['14'], ['2']]);
  t.equal(recs[0].responses[0], 'Adding gives \\boxed{5}.', 'cut at the stop string');
  t.equal(recs[2].gold, '15', '"#### 15" read as 15');
  t.same(recs[0].finish_reasons, ['stop']);
  const s = JSON.parse(readFileSync(summary, 'utf8'));
  t.match(s, { model: 'fake', style: 'instruct', n: 1, accuracy: 0.75, requests: 4, retries: 0 });
  t.same(Object.keys(s.by_subject), ['add', 'hard']);
  t.equal(s.by_subject.hard.accuracy, 0.5);
  t.match(r.stderr, /all\s+4\s+75\.0/);
  const body = srv.served[0]!;
  t.same((body.messages as { role: string }[]).map((m) => m.role), ['system', 'user'], 'chat endpoint with the system prompt');
  t.match(body, { model: 'fake', temperature: 0, n: 1, max_tokens: 1024 });
});

t.test('429, 503, a dropped connection and a hung request are retried', async (t) => {
  const { srv, dir, base } = await setup(t, { answer: arithmetic, faults: ['429', '503', 'drop', 'hang'] });
  const summary = join(dir, 's.json');
  const r = await runCli([...base, '--concurrency', '1', '--request-timeout', '1', '--summary', summary]);
  t.equal(r.code, 0, r.stderr);
  t.equal(lines(r.stdout).length, 4);
  const s = JSON.parse(readFileSync(summary, 'utf8'));
  t.equal(s.retries, 4);
  t.equal(srv.received, 8);
  t.match(r.stderr, /HTTP 429; retry 1\/6/);
  t.match(r.stderr, /HTTP 503; retry 2\/6/);
});

t.test('out of retries, or a 4xx: exit 74 and no output file', async (t) => {
  const { dir, base } = await setup(t, { answer: arithmetic, faults: ['503', '503', '503', '503'] });
  const out = join(dir, 'out.jsonl');
  const r = await runCli([...base, '--concurrency', '1', '--retries', '2', '-o', out]);
  t.equal(r.code, 74, r.stderr);
  t.match(r.stderr, /HTTP 503 \(gave up after 3 attempts\)/);
  t.throws(() => readFileSync(out), 'no partial output');
  const { srv: srv2, base: base2 } = await setup(t, { answer: arithmetic, faults: ['400'] });
  const r2 = await runCli([...base2, '--concurrency', '1']);
  t.equal(r2.code, 74);
  t.match(r2.stderr, /HTTP 400: \{"error":"bad request"\}/);
  t.notMatch(r2.stderr, /retry/, 'a 400 is not retried');
  t.ok(srv2.received >= 1);
});

t.test('resume: a re-run sends only the requests that are missing', async (t) => {
  const { srv, dir, base } = await setup(t, { answer: arithmetic });
  const out = join(dir, 'out.jsonl');
  const sum = join(dir, 's.json');
  t.equal((await runCli([...base, '--limit', '2', '-o', out])).code, 0);
  t.equal(srv.served.length, 2);
  const r = await runCli([...base, '-o', out, '--summary', sum]);
  t.equal(r.code, 0, r.stderr);
  t.equal(srv.served.length, 4, 'only items c and d were requested');
  t.match(r.stderr, /resuming: 2 cached responses/);
  t.match(JSON.parse(readFileSync(sum, 'utf8')), { cache_hits: 2, requests: 2 });
  t.equal(lines(readFileSync(out, 'utf8')).length, 4);
  // A line cut short by a crash is ignored, and the request is sent again.
  writeFileSync(`${out}.cache.jsonl`, readFileSync(`${out}.cache.jsonl`, 'utf8') + '{"key":"abc","comp');
  const r3 = await runCli([...base, '-o', out]);
  t.equal(r3.code, 0);
  t.match(r3.stderr, /ignored 1 unreadable cache line/);
  t.equal(srv.served.length, 4, 'everything came from the cache');
  const r4 = await runCli([...base, '-o', out, '--no-cache']);
  t.equal(r4.code, 0);
  t.equal(srv.served.length, 8, '--no-cache asks again');
});

t.test('sampling: n=4, maj@K and pass@K; a server that ignores n is asked again', async (t) => {
  const { srv, dir, base } = await setup(t, { answer: arithmetic, singleChoice: true });
  const sum = join(dir, 's.json');
  const r = await runCli([...base, '--n', '4', '--temperature', '0.8', '--summary', sum, '--k', '1', '2', '4']);
  t.equal(r.code, 0, r.stderr);
  t.equal(srv.served.length, 16, 'four requests of one choice per question');
  const s = JSON.parse(readFileSync(sum, 'utf8'));
  t.equal(s.pass_at_k['4'], 1);
  t.equal(s.pass_at_k['1'], 0.875, 'item c is right on half its samples');
  t.equal(s.maj_at_k['4'], 0.75, 'c ties 2-2 and the wrong answer came first (sample 0)');
  t.match(r.stderr, /maj@4\s+pass@4/);
  t.equal((await runCli([...base, '--n', '2', '--k', '4'])).code, 2, '--k above n is a usage error');
});

t.test('program-of-thought: the program runs and its output is the answer', async (t) => {
  const { dir, input, srv } = await setup(t, {
    answer: (p) => `def solution():\n    x = ${sum(p)}\n    return x\n`,
  });
  const pf = join(dir, 'pal.json');
  writeFileSync(pf, JSON.stringify({ name: 'pal', template: '{few_shot_prompt}\n\n\nQ: {question}\n\n# solution in Python:', stop_words: ['\nQ:'], exemplars: [{ question: 'What is 1+2?', answer: 'def solution():\n    return 3' }] }));
  const r = await runCli(['eval', 'run', '--input', input, '--api', srv.url, '--model', 'fake', '--style', 'pot', '--prompt-file', pf, '--workers', '1']);
  t.equal(r.code, 0, r.stderr);
  const recs = lines(r.stdout).map((l) => JSON.parse(l));
  t.same(recs.map((x) => x.program_output[0]), ['5', '42', '15', '2']);
  t.same(recs.map((x) => x.correct[0]), [true, true, true, true]);
  t.match(String(srv.served[0]!.prompt), /Q: What is 1\+2\?\n\n# solution in Python:\n\n\nQ: What is 2\+3\?\n\n# solution in Python:$/);
});

t.test('tool-integrated: code block, its output fed back, then the final answer', async (t) => {
  const { input, srv } = await setup(t, {
    answer: (p) => {
      const out = /```output\n([\s\S]*?)\n```\n$/.exec(p);
      if (out) return `So the answer is \\boxed{${out[1]}}.`;
      const m = [...p.matchAll(/What is (\d+)\+(\d+)\?/g)].pop()!;
      return `Let me compute.\n\`\`\`python\nprint(${m[1]} + ${m[2]})\n\`\`\``;
    },
  });
  const r = await runCli(['eval', 'run', '--input', input, '--api', srv.url, '--model', 'fake', '--style', 'tool', '--chat-template', 'deepseek', '--workers', '1', '--limit', '2']);
  t.equal(r.code, 0, r.stderr);
  const recs = lines(r.stdout).map((l) => JSON.parse(l));
  t.same(recs.map((x) => x.correct[0]), [true, true]);
  t.match(recs[0].responses[0], /```python\nprint\(2 \+ 3\)\n```\n```output\n5\n```\nSo the answer is \\boxed\{5\}\./);
  t.equal(srv.served.length, 4, 'two rounds per question');
  t.ok(srv.served.some((b) => /^User: What is 2\+3\?[\s\S]*```output\n5\n```\n$/.test(String(b.prompt))), 'round two continues the same text');
  t.same(srv.served[0]!.stop, ['```output']);
  const bad = await runCli(['eval', 'run', '--input', input, '--api', srv.url, '--model', 'fake', '--style', 'tool', '--chat']);
  t.equal(bad.code, 2, 'tool style needs the completions endpoint');
});

t.test('usage errors', async (t) => {
  t.equal((await runCli(['eval', 'run', '--bench', 'gsm8k'])).code, 2, 'no --api');
  t.equal((await runCli(['eval', 'run', '--api', 'http://x', '--model', 'm'])).code, 2, 'no benchmark');
  const r = await runCli(['eval', 'run', '-b', 'gsm8k', '--api', 'http://127.0.0.1:9', '--model', 'm', '--data-dir', '/nonexistent']);
  t.equal(r.code, 2);
  t.match(r.stderr, /gsm8k\/test\.jsonl not found \(run: mathpipe eval fetch gsm8k/);
  t.equal((await runCli(['eval', 'run', '-b', 'gsm8k', '--api', 'http://x', '--model', 'm', '--n', '0'])).code, 2);
});

t.test('Ctrl-C: exit 130, no output file, the cache keeps what finished; the re-run sends the rest', async (t) => {
  const { existsSync } = await import('node:fs');
  const { runShell } = await import('../helpers.js');
  const { dir, base: stalled } = await setup(t, { answer: arithmetic, hangAfter: 2 });
  const out = join(dir, 'out.jsonl');
  const cache = `${out}.cache.jsonl`;
  const q = (a: string) => `'${a.replace(/'/g, "'\\''")}'`;
  // Job control on (set -m), so the background command does not start with SIGINT ignored. The wait for
  // the cache is generous because the machine may be busy.
  const sh = await runShell(`set -m
mathpipe ${[...stalled, '--concurrency', '1', '-o', out].map(q).join(' ')} & pid=$!
for i in $(seq 1200); do [ -f ${q(cache)} ] && [ "$(wc -l < ${q(cache)})" -ge 2 ] && break; sleep 0.05; done
kill -INT $pid; wait $pid; echo "rc=$?"`);
  const code = Number(/rc=(\d+)/.exec(sh.stdout)?.[1]);
  t.equal(existsSync(cache) ? lines(readFileSync(cache, 'utf8')).length : 0, 2, 'two responses cached before the server stalled');
  if (code !== 130) t.comment(sh.stderr);
  t.equal(code, 130);
  t.notOk(existsSync(out), 'no half-written output');
  // The same command against a server that answers (a second setup() would empty the test directory).
  const srv = await startFakeServer({ answer: arithmetic });
  t.teardown(() => srv.close());
  const api = stalled.indexOf('--api') + 1;
  const r = await runCli([...stalled.slice(0, api), srv.url, ...stalled.slice(api + 1), '-o', out]);
  t.equal(r.code, 0, r.stderr);
  t.equal(srv.served.length, 2, 'only the two unfinished questions are asked');
  t.equal(lines(readFileSync(out, 'utf8')).length, 4);
});
