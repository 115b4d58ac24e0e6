// eval fetch against a local server (sha256 checked, nothing kept on mismatch), the Python runner's
// limits, and the summarize/plot/prompts sub-commands.
import t from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, sharedData, lines } from '../helpers.js';
import { runPython, potProgram, programAnswer, codeBlocks, isolation } from '../../src/eval/python.js';

async function serve(t: { teardown(f: () => unknown): void }, files: Record<string, Buffer | number>) {
  let hits = 0;
  const srv = createServer((req, res) => {
    hits++;
    const f = files[req.url ?? ''];
    if (typeof f === 'number') {
      res.writeHead(f);
      res.end();
    } else if (f) {
      res.writeHead(200);
      res.end(f);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => srv.close(() => r())));
  return { url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`, hits: () => hits };
}

const SAT = '/deepseek-ai/DeepSeek-Math/b8b0f8ce093d80bf8e9a641e44142f06d092c305/evaluation/datasets/sat/test.jsonl';

t.test('fetch: a wrong sha256 is exit 74 and leaves nothing; 5xx is retried; 404 is not', async (t) => {
  const dir = t.testdir();
  const s = await serve(t, { [SAT]: Buffer.from('{"not":"the real file"}\n') });
  const r = await runCli(['eval', 'fetch', 'sat', '--cache-dir', dir, '--mirror', s.url]);
  t.equal(r.code, 74);
  t.match(r.stderr, /sha256 mismatch/);
  t.notOk(existsSync(join(dir, 'sat/test.jsonl')));
  const s2 = await serve(t, { [SAT]: 503 });
  const r2 = await runCli(['eval', 'fetch', 'sat', '--cache-dir', dir, '--mirror', s2.url, '--retries', '2', '--backoff', '0.01']);
  t.equal(r2.code, 74);
  t.equal(s2.hits(), 3);
  const s3 = await serve(t, {});
  const r3 = await runCli(['eval', 'fetch', 'ocw', '--cache-dir', dir, '--mirror', s3.url]);
  t.equal(r3.code, 74);
  t.equal(s3.hits(), 1);
  t.equal((await runCli(['eval', 'fetch', 'math', '--cache-dir', dir])).code, 2, 'MATH has no single-file URL');
});

const sat = sharedData('benchmarks/sat/test.jsonl');
t.test('fetch: the real bytes pass, are cached, and load', { skip: sat ? false : '../shared/data absent' }, async (t) => {
  const dir = t.testdir();
  const s = await serve(t, { [SAT]: readFileSync(sat!) });
  const r = await runCli(['eval', 'fetch', 'sat', '--cache-dir', dir, '--mirror', s.url]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /sha256 ok/);
  t.same(readFileSync(join(dir, 'sat/test.jsonl')), readFileSync(sat!));
  const again = await runCli(['eval', 'fetch', 'sat', '--cache-dir', dir, '--mirror', s.url]);
  t.match(again.stderr, /cached at/);
  t.equal(s.hits(), 1, 'a verified cached file is not downloaded again');
  const forced = await runCli(['eval', 'fetch', 'sat', '--cache-dir', dir, '--mirror', s.url, '--force']);
  t.equal(forced.code, 0, forced.stderr);
  t.equal(s.hits(), 2, '--force downloads even a verified cached file');
  const p = await runCli(['eval', 'prompts', '-b', 'sat', '--data-dir', dir, '--style', 'instruct', '--limit', '2']);
  t.equal(p.code, 0, p.stderr);
  const recs = lines(p.stdout).map((l) => JSON.parse(l));
  t.equal(recs.length, 2);
  t.match(recs[0], { id: 'sat-0', gold: 'A', extract: 'choice' });
  t.match(recs[0].prompt, /What of the following is the right choice\? Explain your answer\.\n\(A\) \$f\(-6\)=0\$ \(B\) /, 'options as DeepSeek writes them: (A) ... (B) ...');
});

t.test('python runner: output, errors, timeout, memory limit, truncation, no network', async (t) => {
  // A generous limit: nothing here is about speed, and a loaded machine must not turn results into timeouts.
  const o = { timeoutMs: 60_000, memoryMb: 512, maxOutput: 200 };
  t.same(await runPython('print(6*7)', o), { output: '42', ok: true, timedOut: false });
  const err = await runPython('x = 1/0', o);
  t.equal(err.ok, false);
  t.match(err.output, /ZeroDivisionError: division by zero/);
  const slow = await runPython('while True: pass', { ...o, timeoutMs: 500 });
  t.equal(slow.timedOut, true);
  t.match(slow.output, /TimeoutError/);
  const mem = await runPython('x = bytearray(2 * 1024 * 1024 * 1024)\nprint("allocated")', o);
  t.equal(mem.ok, false);
  t.match(mem.output, /MemoryError/);
  const big = await runPython('print("x" * 10000)', o);
  t.equal(big.output.length, 200 + '\n...[output truncated]'.length);
  if (isolation().network) {
    const net = await runPython('import socket\ns = socket.create_connection(("1.1.1.1", 80), timeout=2)\nprint("connected")', o);
    t.equal(net.ok, false, 'no route out of the network namespace');
  }
  t.equal(programAnswer(await runPython(potProgram('def solution():\n    return 7\n', 'gsm'), o)), '7');
  const math = potProgram('```\nanswer = sqrt(16)\n```\nThe imports required for this program are\n```\nfrom math import sqrt\n```', 'math');
  t.equal(programAnswer(await runPython(math, o)), '4.0', 'imports run first, then `answer` is printed');
  t.same(codeBlocks('a\n```python\nx=1\n```\nb\n```\ny=2\n```'), ['x=1\n', 'y=2\n']);
});

t.test('summarize and plot', async (t) => {
  const dir = t.testdir();
  const f = join(dir, 'r.jsonl');
  writeFileSync(f, ['{"id":"1","level":"1","extracted":["2","2"],"correct":[true,true]}', '{"id":"2","level":"2","extracted":["3","4"],"correct":[false,true]}'].join('\n'));
  const r = await runCli(['eval', 'summarize', f]);
  t.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  // Question 2 ties 1-1 between a wrong and a right answer: the vote is worth 1/2 (its expectation), not the first seen.
  t.match(s, { questions: 2, accuracy: 0.5, pass_at_k: { 1: 0.75, 2: 1 }, maj_at_k: { 2: 0.75 } });
  t.equal((await runCli(['eval', 'summarize', f, '--k', '3'])).code, 2);
  writeFileSync(join(dir, 's.json'), r.stdout);
  const p = await runCli(['eval', 'plot', `base=${join(dir, 's.json')}`, '-o', join(dir, 'fig.svg'), '--title', 'Fig 7']);
  t.equal(p.code, 0, p.stderr);
  const svg = readFileSync(join(dir, 'fig.svg'), 'utf8');
  t.match(svg, /Fig 7/);
  t.match(svg, /base maj@K/);
  writeFileSync(join(dir, 'bad.json'), '{"x":1}');
  t.equal((await runCli(['eval', 'plot', join(dir, 'bad.json')])).code, 65);
  writeFileSync(join(dir, 'bad.jsonl'), '{"correct":"yes"}\n');
  const b = await runCli(['eval', 'summarize', join(dir, 'bad.jsonl')]);
  t.equal(b.code, 65);
  t.match(b.stderr, /bad\.jsonl:1: field "correct" must be/);
});

t.test('summarize --skip-invalid: bad lines skipped and counted; without it, exit 65 at file:line', async (t) => {
  const dir = t.testdir();
  const f = join(dir, 'mixed.jsonl');
  writeFileSync(f, ['{"id":"1","correct":[true]}', '{oops', '{"id":"3","correct":"yes"}', '{"id":"4"}', '{"id":"5","correct":[]}', '{"id":"6","correct":false}'].join('\n') + '\n');
  const strict = await runCli(['eval', 'summarize', f]);
  t.equal(strict.code, 65);
  t.match(strict.stderr, /mixed\.jsonl:2: invalid JSON/);
  const r = await runCli(['eval', 'summarize', f, '--skip-invalid']);
  t.equal(r.code, 0, r.stderr);
  t.match(JSON.parse(r.stdout), { questions: 2, accuracy: 0.5 });
  t.match(r.stderr, /skipped 4 invalid lines \(--skip-invalid\)/);
  writeFileSync(f, '{"id":"1","correct":[true]}\n{"id":"2","correct":null}\n');
  const noField = await runCli(['eval', 'summarize', f]);
  t.equal(noField.code, 65);
  t.match(noField.stderr, /mixed\.jsonl:2 \(id 2\): field "correct" must be/);
});

const bench = sharedData('benchmarks');
t.test('loaders: every named benchmark loads from the shared layout', { skip: bench ? false : '../shared/data absent' }, async (t) => {
  const counts: Record<string, number> = { gsm8k: 1319, math: 5000, math500: 500, cmath: 1098, mgsm_zh: 250, 'gaokao-mathcloze': 118, 'gaokao-mathqa': 351, sat: 32, ocw: 272, mmlu_stem: 3018 };
  for (const [b, n] of Object.entries(counts)) {
    const r = await runCli(['eval', 'prompts', '-b', b, '--data-dir', bench!, '--style', 'instruct']);
    t.equal(r.code, 0, `${b}: ${r.stderr}`);
    const recs = lines(r.stdout).map((l) => JSON.parse(l));
    t.equal(recs.length, n, b);
    t.ok(recs.every((x) => typeof x.gold === 'string' && x.gold !== ''), `${b}: every item has a gold answer`);
  }
  const fs = await runCli(['eval', 'prompts', '-b', 'gsm8k', '--data-dir', bench!, '--exemplars', 'train', '--shots', '2', '--seed', '5', '--limit', '1']);
  t.equal(fs.code, 0, fs.stderr);
  const p = JSON.parse(fs.stdout).prompt as string;
  t.equal((p.match(/\nA: /g) ?? []).length + (p.startsWith('Q: ') ? 0 : 0), 2, 'two exemplars with answers');
  t.match(p, /The answer is \d+\.\n\n\nQ: Janet’s ducks/);
  const m = await runCli(['eval', 'prompts', '-b', 'math500', '--data-dir', bench!, '--limit', '1']);
  t.match(JSON.parse(m.stdout), { id: 'test/precalculus/807.json', subject: 'Precalculus', level: '2', gold: '\\left( 3, \\frac{\\pi}{2} \\right)' });
});

t.test('every gold answer of every benchmark, boxed (or as a letter), grades correct', { skip: bench ? false : '../shared/data absent' }, async (t) => {
  const { BENCHMARKS, loadBenchmark } = await import('../../src/eval/benchmarks.js');
  const { gradeResponse } = await import('../../src/checker/grade.js');
  for (const b of Object.values(BENCHMARKS)) {
    const items = await loadBenchmark(b, 'test', bench!);
    const mode = b.choice ? 'choice' : 'auto';
    const wrong = items.filter((it) => !gradeResponse(b.choice ? `The answer is (${it.gold}).` : `So it is $\\boxed{${it.gold}}$.`, it.gold, { extract: mode }).correct);
    t.same(wrong.map((w) => w.gold), [], `${b.name}: ${items.length} items`);
  }
});

/** A few_shot_prompts/*.py file in DeepSeek's own shape (triple-quoted block, doubled backslashes, f-string). */
function deepseekPy(p: { few_shot_prompt: string; template: string; stop_words: string[] }, decoy = false): string {
  const lit = (s: string) => s.replace(/\\/g, '\\\\').replace(/"""/g, '\\"\\"\\"');
  const fstr = (s: string) => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"').replace(/\{/g, '{{').replace(/\}/g, '}}')
    .replace(/\{\{few_shot_prompt\}\}/g, '{few_shot_prompt}').replace(/\{\{question\}\}/g, '{task_input}').replace(/\{\{answer\}\}/g, '{task_output}');
  return [
    'from .few_shot_prompting import FewShotPrompting', '',
    ...(decoy ? ['few_shot_prompt = """', 'an older block', '""".strip()', ''] : []),
    `few_shot_prompt = """\n${lit(p.few_shot_prompt)}\n""".strip()`, '',
    'class P(FewShotPrompting):', '    def __init__(self):', '        super().__init__()', '',
    '    def format_prompt(self, task_input, task_output):', `        prompt = f"${fstr(p.template)}"`, '        return prompt.rstrip()', '',
    '    def stop_words(self):', `        return [${p.stop_words.map((w) => JSON.stringify(w)).join(', ')}]`, '',
  ].join('\n');
}

t.test('eval fetch prompts: DeepSeek\'s .py prompt files parsed without Python (escapes, f-string, stop words)', async (t) => {
  const { parsePromptPy, splitExemplars } = await import('../../src/eval/prompt-files.js');
  const src = [
    "few_shot_prompt = '''",
    'Q: What is 1+1?\\nA: It is $\\\\frac{2}{1}$, """quoted""". The answer is 2.',
    '',
    '',
    'Q: \\u00bd of 4?',
    'A: The answer is 2.',
    "'''.strip()",
    'class X:',
    '    def format_prompt(self, task_input, task_output):',
    '        prompt = f"{few_shot_prompt}\\n\\n\\nQ: {task_input}\\nA: {task_output}"',
    '        return prompt.rstrip()',
    '    def stop_words(self):',
    '        return ["\\nQ:", \'Q: \']',
  ].join('\n');
  const p = parsePromptPy(src, 'x');
  t.equal(p.few_shot_prompt, 'Q: What is 1+1?\nA: It is $\\frac{2}{1}$, """quoted""". The answer is 2.\n\n\nQ: ½ of 4?\nA: The answer is 2.');
  t.equal(p.template, '{few_shot_prompt}\n\n\nQ: {question}\nA: {answer}');
  t.same(p.stop_words, ['\nQ:', 'Q: ']);
  t.same(p.exemplars.map((e) => e.question), ['What is 1+1?', '½ of 4?'], 'the block splits into its exemplars');
  t.same(splitExemplars('odd block', p.template), [], 'a block that does not split cleanly is kept whole');
  t.throws(() => parsePromptPy('x = 1', 'bad'), /no module-level few_shot_prompt/);
});

const promptsDir = sharedData('prompts');
t.test('eval fetch prompts: files in DeepSeek\'s shape become the prompt files eval run reads', { skip: promptsDir && sat ? false : '../shared/data absent' }, async (t) => {
  const { PROMPT_FILES, DEEPSEEK_COMMIT } = await import('../../src/eval/prompt-files.js');
  const files: Record<string, Buffer> = {};
  const shared: Record<string, { few_shot_prompt: string; template: string; stop_words: string[]; exemplars: unknown[] }> = {};
  for (const name of PROMPT_FILES) {
    shared[name] = JSON.parse(readFileSync(join(promptsDir!, `${name}.json`), 'utf8'));
    files[`/deepseek-ai/DeepSeek-Math/${DEEPSEEK_COMMIT}/evaluation/few_shot_prompts/${name}.py`] = Buffer.from(deepseekPy(shared[name]!, name === 'cot_ocwcourses_4_shot'));
  }
  files[SAT] = readFileSync(sat!);
  const s = await serve(t, files);
  const root = t.testdir();
  const cache = join(root, 'benchmarks');
  const r = await runCli(['eval', 'fetch', 'prompts', 'sat', '--cache-dir', cache, '--mirror', s.url]);
  t.equal(r.code, 0, r.stderr);
  for (const name of PROMPT_FILES) {
    const got = JSON.parse(readFileSync(join(root, 'prompts', `${name}.json`), 'utf8'));
    t.equal(got.few_shot_prompt, shared[name]!.few_shot_prompt, `${name}: block`);
    t.equal(got.template, shared[name]!.template, `${name}: template`);
    t.same(got.stop_words, shared[name]!.stop_words, `${name}: stop words`);
    if (!/gaokao|ocwcourses|pal_gsm/.test(name)) t.same(got.exemplars, shared[name]!.exemplars, `${name}: exemplars`);
  }
  const hits = s.hits();
  t.match((await runCli(['eval', 'fetch', 'prompts', '--cache-dir', cache, '--mirror', s.url])).stderr, /prompts: cached/);
  t.equal(s.hits(), hits, 'fetched prompts are not downloaded again');
  // With the default places (the fetch cache), cot works with no --prompts-dir: the same prompts as the shared files.
  const a = await runCli(['eval', 'prompts', '-b', 'sat', '--data-dir', cache, '--limit', '3']);
  const b = await runCli(['eval', 'prompts', '-b', 'sat', '--data-dir', cache, '--prompts-dir', promptsDir!, '--limit', '3']);
  t.equal(a.code, 0, a.stderr);
  t.equal(a.stdout, b.stdout);
});
