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

t.test('out of retries, or a fatal 4xx: exit 74 with the error and no output file', async (t) => {
  const { dir, base } = await setup(t, { answer: arithmetic, faults: ['503', '503', '503', '503'] });
  const out = join(dir, 'out.jsonl');
  const r = await runCli([...base, '--concurrency', '1', '--retries', '2', '-o', out]);
  t.equal(r.code, 74, r.stderr);
  t.match(r.stderr, /HTTP 503 \(gave up after 3 attempts\)/);
  t.throws(() => readFileSync(out), 'no partial output');
  // A 401 (a bad key) is about the run, not one question: every time, exit 74 with the message (never 13).
  for (let k = 0; k < 3; k++) {
    const { srv: srv2, base: base2 } = await setup(t, { answer: arithmetic, faults: ['401'] });
    const r2 = await runCli([...base2, '--concurrency', '1']);
    t.equal(r2.code, 74, r2.stderr);
    t.match(r2.stderr, /HTTP 401: \{"error":"invalid api key"\}/);
    t.notMatch(r2.stderr, /retry/, 'a 401 is not retried');
    t.ok(srv2.received >= 1);
  }
});

t.test('a 400 for one question (context length exceeded): an error item, counted wrong, listed; the run goes on', async (t) => {
  const { dir, base } = await setup(t, { answer: arithmetic, faults: ['400'] });
  const out = join(dir, 'out.jsonl');
  const sum = join(dir, 's.json');
  const r = await runCli([...base, '--concurrency', '1', '-o', out, '--summary', sum]);
  t.equal(r.code, 0, r.stderr);
  const recs = lines(readFileSync(out, 'utf8')).map((l) => JSON.parse(l));
  t.same(recs.map((x) => x.id), ['a', 'b', 'c', 'd'], 'every question has its record');
  t.match(recs[0], { id: 'a', error: /HTTP 400/, correct: [false], extracted: [null], responses: [] });
  t.same(recs.slice(1).map((x) => x.correct), [[true], [false], [true]]);
  const s = JSON.parse(readFileSync(sum, 'utf8'));
  t.equal(s.accuracy, 0.5, 'the refused question counts as wrong');
  t.same(s.errors.map((e: { id: string }) => e.id), ['a']);
  t.match(r.stderr, /1 question refused by the server, counted wrong: a/);
  t.notOk(readFileSync(`${out}.cache.jsonl`, 'utf8').includes('bad request'), 'a refusal is not cached');
  // A re-run asks again for the refused question only.
  const r2 = await runCli([...base, '--concurrency', '1', '-o', out, '--summary', sum]);
  t.equal(r2.code, 0, r2.stderr);
  t.equal(JSON.parse(readFileSync(sum, 'utf8')).accuracy, 0.75);
  // When every request is refused the settings are wrong: exit 74 after writing what there is.
  const { base: b3 } = await setup(t, { answer: arithmetic, faults: ['400', '400', '400', '400'] });
  const r3 = await runCli([...b3, '--concurrency', '1']);
  t.equal(r3.code, 74, r3.stderr);
  t.match(r3.stderr, /every request was refused by the server/);
});

t.test('-n above 1 at temperature 0 is a usage error (servers refuse it; greedy gives one answer)', async (t) => {
  const { srv, base } = await setup(t, { answer: arithmetic });
  const r = await runCli([...base, '--n', '4']);
  t.equal(r.code, 2);
  t.match(r.stderr, /--n above 1 needs --temperature > 0/);
  t.equal(srv.received, 0, 'no request sent');
  const help = await runCli(['eval', 'run', '--help']);
  t.match(help.stdout.replace(/\s+/g, ' '), /first 4 \(the OpenAI API's limit\); any beyond are cut from the text here/, '--help says where extra stop strings are applied');
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
  // A crash in the middle of an append leaves a line without its newline: it is cut off on open, so the next
  // append does not glue onto it (which would lose that entry too, and break every later resume).
  const cache = `${out}.cache.jsonl`;
  const whole = readFileSync(cache, 'utf8');
  const entries = lines(whole);
  writeFileSync(cache, entries.slice(0, 3).join('\n') + '\n' + entries[3]!.slice(0, 25));
  const r3 = await runCli([...base, '-o', out]);
  t.equal(r3.code, 0);
  t.match(r3.stderr, /ignored 1 unreadable cache line.*unfinished last line was removed/);
  t.equal(srv.served.length, 5, 'only the cut entry was asked again');
  const repaired = readFileSync(cache, 'utf8');
  t.ok(repaired.endsWith('\n'));
  t.equal(lines(repaired).length, 4);
  t.doesNotThrow(() => lines(repaired).map((l) => JSON.parse(l)), 'every line is whole JSON');
  const r3b = await runCli([...base, '-o', out]);
  t.notMatch(r3b.stderr, /unreadable/, 'the repaired cache reads clean');
  t.equal(srv.served.length, 5, 'everything came from the cache');
  const r4 = await runCli([...base, '-o', out, '--no-cache']);
  t.equal(r4.code, 0);
  t.equal(srv.served.length, 9, '--no-cache asks again');
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
  t.equal(s.maj_at_k['4'], 0.875, 'c ties 2-2 between a right and a wrong answer: worth 1/2, whatever came first');
  t.same(lines(r.stdout).map((l) => JSON.parse(l).vote_groups[0]), [0, 0, 0, 0], 'vote groups are stored with each record');
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

t.test('extraction: DeepSeek\'s for the few-shot styles by default, mathpipe\'s on request; the summary says which', async (t) => {
  const { dir, input, srv } = await setup(t, { answer: (p) => (sum(p) === 42 ? 'It is 1,000 + 32 = 42.\nThe answer is 42.' : `So \\boxed{${sum(p)}}.`) });
  const pf = join(dir, 'cot.json');
  writeFileSync(pf, JSON.stringify({ name: 'cot', template: '{few_shot_prompt}\n\n\nQ: {question}\nA: {answer}', stop_words: ['\nQ:'], exemplars: [{ question: 'What is 1+2?', answer: 'The answer is 3.' }] }));
  const common = ['eval', 'run', '--input', input, '--api', srv.url, '--model', 'fake', '--style', 'cot', '--prompt-file', pf, '--workers', '1'];
  const s1 = join(dir, 's1.json');
  const r1 = await runCli([...common, '--summary', s1]);
  t.equal(r1.code, 0, r1.stderr);
  t.match(JSON.parse(readFileSync(s1, 'utf8')), { extract: 'deepseek', deepseek_task: 'gsm8k-cot', deepseek_functions: /extract_gsm_few_shot_cot_answer/ });
  t.match(r1.stderr, /DeepSeek extraction gsm8k-cot/);
  const recs = lines(r1.stdout).map((l) => JSON.parse(l));
  t.same(recs.map((x) => x.extracted[0]), ['5', '42.', '15', '2'], 'DeepSeek\'s GSM8K rule: the last number before the next "Q: "');
  const s2 = join(dir, 's2.json');
  const r2 = await runCli([...common, '--summary', s2, '--extract', 'mathpipe']);
  t.equal(r2.code, 0, r2.stderr);
  t.match(JSON.parse(readFileSync(s2, 'utf8')), { extract: 'mathpipe' });
  t.notOk('deepseek_task' in JSON.parse(readFileSync(s2, 'utf8')));
  t.same(lines(r2.stdout).map((l) => JSON.parse(l).extracted[0]), ['5', '42', '15', '2']);
  // Zero-shot styles default to mathpipe's checker; DeepSeek has no zero-shot SAT to follow.
  const s3 = join(dir, 's3.json');
  t.equal((await runCli(['eval', 'run', '--input', input, '--api', srv.url, '--model', 'fake', '--style', 'instruct', '--workers', '1', '--summary', s3])).code, 0);
  t.match(JSON.parse(readFileSync(s3, 'utf8')), { extract: 'mathpipe' });
  const bad = await runCli(['eval', 'run', '--input', input, '-b', 'sat', '--api', srv.url, '--model', 'fake', '--style', 'instruct', '--extract', 'deepseek']);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /no instruct setting for sat/);
});
