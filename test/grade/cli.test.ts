// `mathpipe grade` end to end: fields added in place, arrays, labels/agreement, errors with file:line,
// --skip-invalid, `| head`, and the agreement goals on ../shared/data/graded when it is present.
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, runShell, sharedData, lines } from '../helpers.js';

t.test('adds extracted and correct, keeps the rest of the line byte for byte', async (t) => {
  const input = [
    '{"id":"a","big":12345678901234567890123,"response":"so \\\\boxed{\\\\frac12}","answer":"0.5"}',
    '{"id":"b","response":"The answer is 7.","answer":"#### 8"}',
    '{"id":"c","response":"truncated \\\\boxed{3","gold":"3"}',
  ].join('\n');
  const r = await runCli(['grade', '--workers', '1'], { input });
  t.equal(r.code, 0, r.stderr);
  const out = lines(r.stdout);
  t.equal(out.length, 3);
  t.match(out[0], /^\{"id":"a","big":12345678901234567890123,/);
  t.same(out.map((l) => JSON.parse(l).correct), [true, false, false]);
  t.same(out.map((l) => JSON.parse(l).extracted), ['\\frac12', '7', null]);
  t.match(r.stderr, /3 grades, 1 correct \(33\.33%\), 1 without an answer/);
});

t.test('array responses, custom fields, labels, disagreements and summary', async (t) => {
  const dir = t.testdir();
  const f = join(dir, 'in.jsonl');
  writeFileSync(f, '{"idx":1,"code":["\\\\boxed{2}","\\\\boxed{3}"],"gt":"2","score":[true,true]}\n');
  const dis = join(dir, 'dis.jsonl');
  const sum = join(dir, 'sum.json');
  const r = await runCli(['grade', f, '--response-field', 'code', '--gold-field', 'gt', '--labels', 'score', '--disagreements', dis, '--summary', sum, '--correct-field', 'ok', '--extracted-field', 'ans', '--no-symbolic']);
  t.equal(r.code, 0, r.stderr);
  const rec = JSON.parse(r.stdout);
  t.same(rec.ok, [true, false]);
  t.same(rec.ans, ['2', '3']);
  t.match(r.stderr, /agreement with "score": 1\/2 \(50\.00%\)/);
  const d = lines(readFileSync(dis, 'utf8')).map((l) => JSON.parse(l));
  t.equal(d.length, 1);
  t.match(d[0], { id: 1, sample: 1, extracted: '3', gold: '2', ours: false, label: true });
  t.match(JSON.parse(readFileSync(sum, 'utf8')), { grades: 2, correct: 1, compared: 2, agree: 1, disagreements: 1 });
});

t.test('--extract modes and --gold-extract', async (t) => {
  const input = '{"response":"(B) is wrong, I choose (C)","answer":"C"}\n';
  const r = await runCli(['grade', '--extract', 'choice'], { input });
  t.equal(JSON.parse(r.stdout).correct, true);
  const r2 = await runCli(['grade', '--extract', 'last-number', '--gold-extract', 'none'], { input: '{"response":"it is 4 then 5","answer":"5"}\n' });
  t.equal(JSON.parse(r2.stdout).correct, true);
  const r3 = await runCli(['grade', '--extract', 'answer-is', '--cas', 'mathjs', '--timeout', '30'], { input: '{"response":"The answer is x+x.","answer":"2x"}\n' });
  t.equal(JSON.parse(r3.stdout).correct, true, r3.stderr);
});

t.test('--extract deepseek --task: DeepSeek-Math\'s extraction and comparison; the summary says so', async (t) => {
  const dir = t.testdir();
  const sum = join(dir, 's.json');
  const input = [
    // MATH few-shot: the Minerva answer line; the gold is built from the solution's boxes.
    '{"response":"x = \\\\boxed{3}.\\nFinal Answer: The final answer is $\\\\frac12$. I hope it is correct.","solution":"so $\\\\boxed{0.5}$","question":"q"}',
    '{"response":"\\\\boxed{1} and \\\\boxed{-2}","solution":"$\\\\boxed{-2}$ and $\\\\boxed{1}$","question":"Find all solutions."}',
    '{"response":"It is 10000.\\nFinal Answer: The final answer is $10000$. I hope it is correct.","solution":"$\\\\boxed{10{,}000}$"}',
  ].join('\n');
  const r = await runCli(['grade', '--extract', 'deepseek', '--task', 'math-cot', '--gold-field', 'solution', '--summary', sum], { input });
  t.equal(r.code, 0, r.stderr);
  t.same(lines(r.stdout).map((l) => JSON.parse(l).correct), [true, true, false], 'DeepSeek does not read 10{,}000');
  t.same(lines(r.stdout).map((l) => JSON.parse(l).extracted), ['\\frac{1}{2}', '1, -2', '10000']);
  t.match(JSON.parse(readFileSync(sum, 'utf8')), { extract: 'deepseek', deepseek_task: 'math-cot', deepseek_functions: 'extract_math_few_shot_cot_answer / eval_math' });
  t.match(r.stderr, /^mathpipe grade: \[deepseek math-cot\] 3 grades, 2 correct/m);
  const gsm = await runCli(['grade', '--extract', 'deepseek', '--task', 'gsm8k-cot'], { input: '{"response":"The answer is 1,200.","answer":"#### 1,200"}\n' });
  t.same(JSON.parse(gsm.stdout), { response: 'The answer is 1,200.', answer: '#### 1,200', extracted: '200.', correct: false }, 'DeepSeek\'s GSM8K few-shot rule reads 1,200 as 200');
  const dflt = await runCli(['grade'], { input: '{"response":"The answer is 1,200.","answer":"#### 1,200"}\n' });
  t.equal(JSON.parse(dflt.stdout).correct, true, 'mathpipe\'s own extraction reads it right');
  const ord = await runCli(['grade', '--ordered'], { input: '{"response":"\\\\boxed{2, 1}","answer":"1, 2"}\n' });
  t.equal(JSON.parse(ord.stdout).correct, false, '--ordered: list order matters');
  t.equal((await runCli(['grade', '--extract', 'deepseek', '--task', 'nope'])).code, 2);
});

t.test('bad input: file:line and exit 65; --skip-invalid counts; usage errors exit 2', async (t) => {
  const dir = t.testdir();
  const f = join(dir, 'bad.jsonl');
  writeFileSync(f, '{"response":"1","answer":"1"}\n{oops\n{"response":2,"answer":"1"}\n');
  const r = await runCli(['grade', f]);
  t.equal(r.code, 65);
  t.match(r.stderr, /bad\.jsonl:2: invalid JSON/);
  const r2 = await runCli(['grade', f, '--skip-invalid']);
  t.equal(r2.code, 0, 'a non-string response is a bad record, skipped like a bad line');
  t.equal(lines(r2.stdout).length, 1);
  t.match(r2.stderr, /skipped 2 invalid lines/);
  writeFileSync(f, '{"response":"1","answer":"1"}\n{"response":["2",3],"answer":"1"}\n{"id":"x","answer":"1"}\n');
  const rf = await runCli(['grade', f]);
  t.equal(rf.code, 65);
  t.match(rf.stderr, /bad\.jsonl:2: field "response" must be a string or an array of strings/);
  const rs = await runCli(['grade', f, '--skip-invalid', '--response-field', 'response']);
  t.equal(rs.code, 0, rs.stderr);
  t.same(lines(rs.stdout).map((l) => JSON.parse(l).correct), [true]);
  t.match(rs.stderr, /skipped 2 invalid lines/);
  writeFileSync(f, '{"response":"1","answer":"1"}\n{oops\n');
  const r3 = await runCli(['grade', f, '--skip-invalid']);
  t.equal(r3.code, 0);
  t.match(r3.stderr, /skipped 1 invalid line/);
  const r4 = await runCli(['grade'], { input: '{"text":"1"}\n' });
  t.equal(r4.code, 65);
  t.match(r4.stderr, /<stdin>:1: no response field/);
  t.equal((await runCli(['grade', '--timeout', '0'])).code, 2);
  t.equal((await runCli(['grade', '--disagreements', 'x.jsonl'])).code, 2);
  t.equal((await runCli(['grade', '--labels', 'score'], { input: '{"response":"1","answer":"1","score":"maybe"}\n' })).code, 65);
});

t.test('| head exits 0 quietly', async (t) => {
  const r = await runShell(`for i in $(seq 3000); do echo '{"response":"\\\\boxed{'$i'}","answer":"'$i'"}'; done | mathpipe grade -q | head -2`);
  t.equal(r.code, 0, r.stderr);
  t.equal(lines(r.stdout).length, 2);
  t.equal(r.stderr, '');
});

const graded = sharedData('graded');
t.test('agreement goals on the graded data', { skip: graded ? false : '../shared/data/graded absent' }, async (t) => {
  const q = join(graded!, 'qwen25math_eval_rm_maj_math_cot_100.jsonl');
  const r = await runCli(['grade', q, '--response-field', 'pred', '--gold-field', 'gt', '--extract', 'none', '--labels', 'score']);
  t.match(r.stderr, /agreement with "score": 799\/800/, 'Qwen extracted answers: 99.9% (the one miss is a Qwen label error)');
  const r2 = await runCli(['grade', q, '--response-field', 'code', '--gold-field', 'answer', '--labels', 'score']);
  t.match(r2.stderr, /agreement with "score": 791\/800/, 'full responses: the 9 misses are Qwen label errors, judged in bench/grade');
  const g = join(graded!, 'cs336a5_gsm8k_r1zero_sft_qwen25math1.5b.jsonl');
  const r3 = await runCli(['grade', g, '--extract', 'answer-tag', '--gold-field', 'ground_truth', '--labels', 'answer_reward']);
  t.match(r3.stderr, /agreement with "answer_reward": 1000\/1000/);
  const pairs = JSON.parse(readFileSync(join(graded!, 'mario_is_equiv_test_pairs.json'), 'utf8')).pairs as { a: string; b: string; equivalent: boolean }[];
  const input = pairs.map((p) => JSON.stringify({ response: p.a, gold: p.b, label: p.equivalent })).join('\n');
  const r4 = await runCli(['grade', '--extract', 'none', '--gold-extract', 'none', '--labels', 'label'], { input });
  t.match(r4.stderr, /agreement with "label": 60\/60/);
});
