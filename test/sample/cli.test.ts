// `mathpipe sample` through the real binary on a saved tiny checkpoint: the completion record, order, seeds and
// batch sizes, stops, chat, token-id prompts, -o, and the exit codes of bad input and bad options.
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend } from '../../src/train/backend.js';
import { lines, runCli, runShell } from '../helpers.js';
import { writeTinyCheckpoint } from './fixtures.js';

interface Out {
  id: number;
  prompt: string;
  completion: string;
  tokens: number[];
  logprobs: number[];
  sampling_logprobs: number[];
  finish_reason: string;
  stop_reason: string | number | null;
  prompt_index: number;
  sample_index: number;
  checkpoint: { path: string; step: number | null };
}
const parse = (s: string): Out[] => lines(s).map((l) => JSON.parse(l) as Out);

let ck = '';
let input = '';
const BASE = ['--backend', 'wasm', '-q'];
t.before(async () => {
  await initBackend('wasm');
  const dir = t.testdir();
  ck = join(dir, 'ck');
  await writeTinyCheckpoint(ck, { step: 7 });
  input = join(dir, 'in.jsonl');
  writeFileSync(input, ['{"id":1,"prompt":"Hello","big":12345678901234567890}', '', '{"id":2,"prompt":"2+2="}', '{"id":3,"prompt":"x"}'].join('\n') + '\n');
});

const sample = (args: string[], opts: { input?: string | Buffer } = {}) => runCli(['sample', '-m', ck, ...BASE, ...args], opts);

t.test('--help explains the options with examples', async (t) => {
  const h = await runCli(['sample', '--help']);
  t.equal(h.code, 0);
  for (const o of ['--model', '--chat', '--temperature', '--top-p', '--top-k', '--min-p', '--max-tokens', '--stop', '--stop-token-id', '--ignore-eos', '--batch-size', '--seed', 'Examples:']) t.match(h.stdout, o);
});

t.test('completion records: input fields kept, n per prompt in order, checkpoint identity', async (t) => {
  const r = await sample(['-n', '3', '--max-tokens', '10', '--seed', '5', input]);
  t.equal(r.code, 0, r.stderr);
  const out = parse(r.stdout);
  t.equal(out.length, 9);
  t.same(out.map((o) => [o.prompt_index, o.sample_index]), [0, 1, 2].flatMap((p) => [0, 1, 2].map((s) => [p, s])));
  t.match(lines(r.stdout)[0], /^\{"id":1,"prompt":"Hello","big":12345678901234567890,"completion":/, 'the input line is kept byte for byte');
  for (const o of out) {
    t.same(o.checkpoint, { path: ck, step: 7 });
    t.equal(o.logprobs.length, o.tokens.length);
    t.equal(o.sampling_logprobs.length, o.tokens.length);
    t.ok(o.tokens.length >= 1 && o.tokens.length <= 10);
    t.ok(['stop', 'length'].includes(o.finish_reason));
    if (o.finish_reason === 'length') t.equal(o.tokens.length, 10);
    else t.equal(o.stop_reason, 257, 'the checkpoint\'s eos stops');
  }
  // Same seed, other batch sizes: the same bytes.
  for (const b of ['1', '2', '7']) {
    const again = await sample(['-n', '3', '--max-tokens', '10', '--seed', '5', '--batch-size', b, input]);
    t.equal(again.stdout, r.stdout, `--batch-size ${b}`);
  }
  const other = await sample(['-n', '3', '--max-tokens', '10', '--seed', '6', input]);
  t.not(other.stdout, r.stdout, 'another seed, other samples');
});

t.test('greedy, top-k 1, --stop, --ignore-eos, token-id prompts, stdin and -o', async (t) => {
  const greedy = parse((await sample(['-t', '0', '--max-tokens', '12', '--ignore-eos', input])).stdout);
  const k1 = parse((await sample(['--top-k', '1', '--max-tokens', '12', '--ignore-eos', '--seed', '9', input])).stdout);
  t.same(k1.map((o) => o.tokens), greedy.map((o) => o.tokens));
  for (const o of greedy) {
    t.equal(o.finish_reason, 'length');
    t.same(o.sampling_logprobs, o.tokens.map(() => 0));
  }
  // A stop string made of two bytes (two tokens) of a greedy completion.
  const g = greedy[0];
  const stop = g.completion.slice(3, 5);
  const cut = parse((await sample(['-t', '0', '--max-tokens', '12', '--ignore-eos', '--stop', stop, '--stop', 'never', input])).stdout)[0];
  t.equal(cut.completion, g.completion.slice(0, g.completion.indexOf(stop)));
  t.equal(cut.finish_reason, 'stop');
  t.equal(cut.stop_reason, stop);
  const ids = [...Buffer.from('Hello')];
  const byIds = parse((await sample(['-t', '0', '--max-tokens', '12', '--ignore-eos', '--field', 'ids'], { input: JSON.stringify({ ids }) + '\n' })).stdout)[0];
  t.same(byIds.tokens, g.tokens, 'a prompt given as token ids');
  const o = join(t.testdir(), 'out.jsonl');
  const w = await sample(['-t', '0', '--max-tokens', '12', '--ignore-eos', '-o', o, '-'], { input: readFileSync(input) });
  t.equal(w.code, 0);
  t.equal(w.stdout, '');
  t.same(parse(readFileSync(o, 'utf8')).map((x) => x.tokens), greedy.map((x) => x.tokens));
});

t.test('a closed pipe (| head -1) ends quietly with 0', async (t) => {
  const many = join(t.testdir(), 'many.jsonl');
  writeFileSync(many, '{"prompt":"a"}\n'.repeat(200));
  const r = await runShell(`mathpipe sample -m ${ck} ${BASE.join(' ')} -n 3 --max-tokens 60 --ignore-eos ${many} | head -1`);
  t.equal(r.code, 0);
  t.equal(lines(r.stdout).length, 1);
  t.equal(r.stderr, '', 'nothing on stderr');
});

t.test('--chat renders messages (or the prompt) with the template', async (t) => {
  const msgs = { messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }] };
  const r = await sample(['--chat', '-t', '0', '--max-tokens', '4', '--ignore-eos'], { input: JSON.stringify(msgs) + '\n' + JSON.stringify({ prompt: 'Hi' }) + '\n' });
  t.equal(r.code, 0, r.stderr);
  const out = parse(r.stdout);
  t.equal(out.length, 2);
  t.notSame(out[0].tokens, out[1].tokens, 'the system message changes the prompt');
  // The same prompt text rendered by hand, as token ids: the same completion.
  const sys = await sample(['--chat', '--system', 'Be brief.', '-t', '0', '--max-tokens', '4', '--ignore-eos'], { input: JSON.stringify({ prompt: 'Hi' }) + '\n' });
  t.same(parse(sys.stdout)[0].tokens, out[0].tokens, '--system is the same as a system message');
  const bad = await sample(['--chat'], { input: '{"messages":[{"role":"tool","content":"x"}]}\n' });
  t.equal(bad.code, 65);
  t.match(bad.stderr, /<stdin>:1: chat template .*unsupported chat role: tool/);
});

t.test('bad input is exit 65 naming file:line; bad options exit 2', async (t) => {
  const dir = t.testdir();
  const long = join(dir, 'long.jsonl');
  writeFileSync(long, '{"prompt":"ok"}\n{"prompt":"' + 'x'.repeat(80) + '"}\n');
  const r = await sample([long]);
  t.equal(r.code, 65);
  t.match(r.stderr, `${long}:2: the prompt has 80 tokens, more than the model's context of 64`);
  const cases: [string, string[], number, RegExp][] = [
    ['invalid JSON', ['-'], 65, /<stdin>:1: invalid JSON/],
    ['no prompt field', ['--field', 'question', '-'], 65, /<stdin>:1: "question" must be a string/],
  ];
  for (const [name, args, code, msg] of cases) {
    const c = await sample(args, { input: name === 'invalid JSON' ? '{"prompt": \n' : '{"prompt":"a"}\n' });
    t.equal(c.code, code, name);
    t.match(c.stderr, msg, name);
  }
  for (const args of [['--temperature', '-1'], ['--top-p', '0'], ['--top-k', '1.5'], ['--min-p', '2'], ['--max-tokens', '0'], ['-n', '0'], ['--batch-size', '0'], ['--stop', ''], ['--chat-template', 'x.jinja']]) {
    const c = await sample([...args, input]);
    t.equal(c.code, 2, `${args.join(' ')}: ${c.signal ?? ''} ${c.stderr.slice(0, 300)}`);
  }
  const noModel = await runCli(['sample', input]);
  t.equal(noModel.code, 2);
  t.match(noModel.stderr, /--model/);
  const missing = await runCli(['sample', '-m', join(dir, 'nope'), input]);
  t.equal(missing.code, 2);
  t.match(missing.stderr, /no checkpoint there/);
  const badId = await sample(['--stop-token-id', '999', input]);
  t.equal(badId.code, 2);
});
