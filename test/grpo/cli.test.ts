// `mathpipe grpo` end to end on a tiny random byte-level model and a task it can learn in seconds: every question's
// gold answer is 7, outputs are 3 tokens, the checker reads the last number. The reward rises; a stopped and resumed
// run ends with the weights of the straight one, bit for bit; presets and flags land in the checkpoint; process
// rewards come from an outside scorer; bad input is exit 65 naming file:line.
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lines, runCli } from '../helpers.js';
import { initBackend } from '../../src/train/backend.js';
import { openSafetensors } from '../../src/train/safetensors.js';
import { sevenTask } from './fixtures.js';

let dir = '';
let ck = '';
let q = '';
t.before(async () => {
  await initBackend('cpu');
  dir = t.testdir();
  ({ ck, q } = await sevenTask(dir, 20));
});

const TASK = ['--max-tokens', '3', '--lr', '3e-3', '--extract', 'last-number', '--backend', 'wasm'];
type M = Record<string, number>;
const metrics = (out: string): M[] => lines(out).map((l) => JSON.parse(l) as M);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

t.test('the reward rises on a task the model can learn; the metrics are there', async (t) => {
  const r = await runCli(['grpo', '--init', ck, '-o', join(dir, 'rise'), '-G', '16', '-b', '4', '--steps', '24', ...TASK, q]);
  t.equal(r.code, 0, r.stderr);
  const m = metrics(r.stdout);
  t.equal(m.length, 24);
  const first = mean(m.slice(0, 6).map((x) => x.accuracy));
  const last = mean(m.slice(-6).map((x) => x.accuracy));
  t.ok(last > first + 0.3, `accuracy over the first 6 steps ${first.toFixed(3)}, over the last 6 ${last.toFixed(3)}`);
  for (const k of ['reward_mean', 'reward_std', 'accuracy', 'zero_var_groups', 'kl', 'clip_low', 'clip_high', 'entropy', 'response_len', 'truncated', 'logprob_gap', 'gen_tokens_per_s', 'time_gen', 'time_train'])
    t.type(m[5][k], 'number', `metric ${k}`);
  // Sampler and trainer are one model: the log-probs of the sampled tokens agree to float rounding.
  t.ok(Math.max(...m.map((x) => x.logprob_gap_max)) < 1e-3, `largest sampler/trainer log-prob gap ${Math.max(...m.map((x) => x.logprob_gap_max))}`);
  t.ok(m[0].kl === 0 && m[10].kl > 0, 'KL 0 at the start (policy = reference), then positive');
});

t.test('stopped and resumed: the weights of the straight run, bit for bit; settings saved and checked', async (t) => {
  const common = ['--init', ck, '-G', '8', '-b', '2', '--format-weight', '1', '--preset', 'dapo', '--beta', '0.02', ...TASK, q];
  const a = await runCli(['grpo', '-o', join(dir, 'a'), '--steps', '4', ...common]);
  t.equal(a.code, 0, a.stderr);
  const b1 = await runCli(['grpo', '-o', join(dir, 'b'), '--steps', '2', ...common]);
  t.equal(b1.code, 0, b1.stderr);
  const b2 = await runCli(['grpo', '-o', join(dir, 'b'), '--steps', '4', '--resume', ...common]);
  t.equal(b2.code, 0, b2.stderr);
  const w = (d: string) => openSafetensors(join(d, 'model.safetensors')).get('model.layers.1.mlp.down_proj.weight').data;
  const w0 = w(ck);
  t.notSame(Array.from(w(join(dir, 'a'))), Array.from(w0), 'the run changed the weights');
  t.same(Array.from(w(join(dir, 'b'))), Array.from(w(join(dir, 'a'))), 'resumed weights equal the straight run');
  const keep = (m: M) => [m.step, m.reward_mean, m.accuracy, m.loss, m.grad_norm, m.kl];
  t.same([...metrics(b1.stdout), ...metrics(b2.stdout)].map(keep), metrics(a.stdout).map(keep), 'the same rewards, losses and KL at every step');

  const saved = JSON.parse(readFileSync(join(dir, 'a', 'grpo_config.json'), 'utf8')) as Record<string, unknown>;
  t.match(saved, { preset: 'dapo', epsilon_high: 0.28, aggregation: 'token-mean', dynamic_sampling: true, beta: 0.02, group_size: 8, overridden: ['group_size', 'batch_size', 'max_tokens', 'beta', 'format_weight'] });
  t.match(a.stderr, /preset dapo: group-size 8 \(flag\)/);
  t.match(a.stderr, /epsilon-high 0\.28 /);
  const m = metrics(a.stdout);
  t.type(m[0].groups_dropped, 'number', 'dynamic sampling reports dropped groups');

  const changed = await runCli(['grpo', '-o', join(dir, 'b'), '--steps', '5', '--resume', ...common, '--epsilon-high', '0.3']);
  t.equal(changed.code, 2);
  t.match(changed.stderr, /--resume: grpo was .* now .*resume with the same settings/);
  // Without the knobs, --resume takes the saved run's.
  const bare = await runCli(['grpo', '-o', join(dir, 'b'), '--steps', '5', '--resume', ...TASK, q]);
  t.equal(bare.code, 0, bare.stderr);
  t.match(bare.stderr, /preset dapo: group-size 8 /);
});

t.test('held-out evaluation: greedy accuracy, pass@k and maj@k', async (t) => {
  const r = await runCli(['grpo', '--init', ck, '-o', join(dir, 'ev'), '-G', '4', '-b', '2', '--steps', '2', '--valid', q, '--eval-samples', '4', '--eval-interval', '2', ...TASK, q]);
  t.equal(r.code, 0, r.stderr);
  const ev = metrics(r.stdout).find((m) => m.valid_greedy_accuracy !== undefined);
  t.ok(ev, 'an evaluation line');
  for (const k of ['valid_greedy_accuracy', 'valid_mean_accuracy', 'valid_pass@1', 'valid_pass@4', 'valid_maj@4']) t.type(ev?.[k], 'number', k);
});

t.test('process supervision: step rewards from an outside scorer; bad replies are bad data', async (t) => {
  const scorer = join(dir, 'scorer.mjs');
  // A step is good when it holds a 7. Steps end at "7" here (the marker), so outputs have several.
  writeFileSync(
    scorer,
    "import { createInterface } from 'node:readline';\n" +
      "createInterface({ input: process.stdin }).on('line', (l) => { const r = JSON.parse(l); process.stdout.write(JSON.stringify({ step_rewards: r.steps.map((s) => (s.includes('7') ? 1 : 0)) }) + '\\n'); });\n",
  );
  const r = await runCli(['grpo', '--init', ck, '-o', join(dir, 'prm'), '-G', '8', '-b', '2', '--steps', '3', '--step-scorer', `node ${scorer}`, '--step-marker', '7', ...TASK, q]);
  t.equal(r.code, 0, r.stderr);
  t.equal(metrics(r.stdout).length, 3);
  t.match(r.stderr, /process rewards from --step-scorer, steps end with "7"/);
  const badScorer = join(dir, 'bad-scorer.mjs');
  writeFileSync(badScorer, "import { createInterface } from 'node:readline';\ncreateInterface({ input: process.stdin }).on('line', () => process.stdout.write('{\"step_rewards\": [1, 2, 3, 4, 5, 6]}\\n'));\n");
  const bad = await runCli(['grpo', '--init', ck, '-o', join(dir, 'prm2'), '-G', '4', '-b', '1', '--steps', '1', '--step-scorer', `node ${badScorer}`, ...TASK, q]);
  t.equal(bad.code, 65, bad.stderr);
  t.match(bad.stderr, /--step-scorer reply 1: 6 step rewards for an output of 1 steps/);
  const dead = await runCli(['grpo', '--init', ck, '-o', join(dir, 'prm3'), '-G', '4', '-b', '1', '--steps', '1', '--step-scorer', 'exit 3', ...TASK, q]);
  t.equal(dead.code, 74, dead.stderr);
  t.match(dead.stderr, /--step-scorer "exit 3" exited with status 3/);
});

t.test('bad input and usage errors', async (t) => {
  const bad = join(dir, 'bad.jsonl');
  writeFileSync(bad, readFileSync(q, 'utf8').split('\n').slice(0, 2).join('\n') + '\n{"question": "no answer"}\n');
  const r = await runCli(['grpo', '--init', ck, '-o', join(dir, 'x'), ...TASK, bad]);
  t.equal(r.code, 65);
  t.match(r.stderr, /bad\.jsonl:3: missing field "answer" \(the gold answer; name it with --answer-field\)/);
  writeFileSync(bad, '{"question": "q", "answer": "1"}\n{not json\n');
  const j = await runCli(['grpo', '--init', ck, '-o', join(dir, 'x'), ...TASK, bad]);
  t.equal(j.code, 65);
  t.match(j.stderr, /bad\.jsonl:2: invalid JSON/);
  const skip = await runCli(['grpo', '--init', ck, '-o', join(dir, 'x'), '-G', '2', '-b', '1', '--steps', '1', '--skip-invalid', ...TASK, bad]);
  t.equal(skip.code, 0, skip.stderr);
  const fields = await runCli(['grpo', '--init', ck, '-o', join(dir, 'y'), '-G', '2', '-b', '1', '--steps', '1', '--question-field', 'problem', ...TASK, q]);
  t.equal(fields.code, 65);
  t.match(fields.stderr, /q\.jsonl:1 \(id q0\): missing field "problem"/);
  for (const [args, msg] of [
    [['-o', join(dir, 'z'), q], /--init CHECKPOINT/],
    [['--init', ck, '-o', join(dir, 'z'), '--reference', 'none', q], /--beta 0\.04 needs a reference model/],
    [['--init', ck, '-o', join(dir, 'z'), '--kl-estimator', 'k9', q], /kl-estimator/],
    [['--init', ck, '-o', join(dir, 'z'), '--epsilon', '1.5', q], /--epsilon must be below 1/],
    [['--init', ck, '-o', join(dir, 'z'), '-G', '1', q], /--group-size must be at least 2/],
  ] as const) {
    const u = await runCli(['grpo', ...args, '--backend', 'wasm']);
    t.equal(u.code, 2, `${args.join(' ')}: ${u.stderr}`);
    t.match(u.stderr, msg);
  }
  const help = await runCli(['grpo', '--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /--preset[\s\S]*deepseekmath[\s\S]*Examples:/);
});
