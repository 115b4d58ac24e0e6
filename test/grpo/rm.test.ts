// Reward models and iterative RL on a tiny random byte-level model: replay mixing is exact; Math-Shepherd labels of
// hand-checkable outputs; an ORM trained on a toy set lowers its loss and ranks right above wrong; grpo with a learned
// reward; the reference resets at an iteration boundary (KL exactly 0 at its first step, mu 1); a run stopped past
// a boundary and resumed ends with the weights of the straight run, reward model included; grpo plot draws the runs.
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lines, runCli } from '../helpers.js';
import { initBackend } from '../../src/train/backend.js';
import { Rng } from '../../src/util/rng.js';
import { openSafetensors } from '../../src/train/safetensors.js';
import { loadTokenizer } from '../../src/tokenizer/index.js';
import { sevenTask } from './fixtures.js';
import { replayMix } from '../../src/grpo/rm/data.js';
import { goodStep } from '../../src/grpo/rm/label.js';
import { RewardModel } from '../../src/grpo/rm/model.js';

let dir = '';
let ck = '';
let q = '';
t.before(async () => {
  await initBackend('cpu');
  dir = t.testdir();
  ({ ck, q } = await sevenTask(dir, 12));
});

type M = Record<string, number>;
const metrics = (out: string): M[] => lines(out).map((l) => JSON.parse(l) as M);
const TASK = ['--max-tokens', '3', '--extract', 'last-number', '--backend', 'wasm'];

t.test('replay: the history is exactly the asked fraction of the mix, drawn without replacement', async (t) => {
  const rng = new Rng(3);
  for (const [n, h, f, want] of [
    [90, 200, 0.1, 10],
    [30, 200, 0.25, 10],
    [9, 200, 0.1, 1],
    [90, 4, 0.1, 4],
    [50, 100, 0, 0],
  ] as const) {
    const fresh = Array.from({ length: n }, (_, i) => `f${i}`);
    const history = Array.from({ length: h }, (_, i) => `h${i}`);
    const { mixed, replayed } = replayMix(fresh, history, f, rng);
    t.equal(replayed, want, `${n} fresh, ${h} history, fraction ${f}: ${want} replayed`);
    t.same(mixed.slice(0, n), fresh, 'every fresh example, once');
    const old = mixed.slice(n);
    t.equal(new Set(old).size, old.length, 'no history example twice');
    t.ok(old.every((x) => x.startsWith('h')), 'the rest from the history');
  }
  // 10% of the mix exactly where it divides.
  const { mixed, replayed } = replayMix(Array(450).fill(0), Array(1000).fill(1), 0.1, rng);
  t.equal(replayed / mixed.length, 0.1);
  t.throws(() => replayMix([1], [2], 1, rng), /not in \[0, 1\)/);
});

t.test('rm label: Math-Shepherd step labels of hand-checkable outputs', async (t) => {
  t.equal(goodStep([false, true, false], 'any'), true);
  t.equal(goodStep([false, true, false], 'most'), false);
  t.equal(goodStep([true, true, false], 'most'), true);
  t.equal(goodStep([true, false], 'most'), false, 'half is not most');
  // The checker reads the last \boxed{}; a rollout of one token cannot write another, so a prefix reaches the
  // gold answer exactly when its own last box holds 7, whatever the random model samples.
  const f = join(dir, 'given.jsonl');
  const rows = [
    { id: 'a', question: 'Q', answer: '7', completion: '\\boxed{3}\n\n\\boxed{7}' },
    { id: 'b', question: 'Q', answer: '7', completion: '\\boxed{7}\n\n\\boxed{3}' },
    { id: 'c', question: 'Q', answer: '7', completion: 'so\n\n\\boxed{7}\n\nend' },
  ];
  writeFileSync(f, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  // And questions without a completion: --samples of the policy's outputs each, labeled the same way.
  writeFileSync(f, [...rows, { id: 'd', question: 'Q', answer: '7' }].map((r) => JSON.stringify(r)).join('\n') + '\n');
  const r = await runCli(['grpo', 'rm', 'label', '-m', ck, '--extract', 'boxed', '--max-tokens', '1', '-n', '3', '-N', '4', '--backend', 'wasm', f]);
  t.equal(r.code, 0, r.stderr);
  const out = lines(r.stdout).map((l) => JSON.parse(l) as { id: string; steps: string[]; step_labels: number[]; label: number });
  t.same(
    out.slice(0, 3).map((o) => [o.id, o.steps, o.step_labels, o.label]),
    [
      ['a', ['\\boxed{3}\n\n', '\\boxed{7}'], [0, 1], 1],
      ['b', ['\\boxed{7}\n\n', '\\boxed{3}'], [1, 0], 0],
      ['c', ['so\n\n', '\\boxed{7}\n\n', 'end'], [0, 1, 1], 1],
    ],
  );
  const sampled = out.slice(3);
  t.ok(sampled.length > 0 && sampled.length <= 3 && sampled.every((x) => x.id === 'd' && x.step_labels.length === x.steps.length && x.step_labels[x.step_labels.length - 1] === x.label), 'sampled outputs: a label per step, the last the outcome');
});

t.test('rm train: an ORM on a toy set lowers its loss and ranks right above wrong; a PRM trains on step labels', async (t) => {
  const labels = join(dir, 'toy.jsonl');
  const recs = Array.from({ length: 12 }, (_, i) => [
    { id: `r${i}`, question: `Say seven ${i}:`, completion: ' 7', label: 1 },
    { id: `w${i}`, question: `Say seven ${i}:`, completion: ` ${i % 6}`, label: 0 },
  ]).flat();
  writeFileSync(labels, recs.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const orm = join(dir, 'orm');
  const r = await runCli(['grpo', 'rm', 'train', '--init', ck, '-o', orm, '--kind', 'orm', '--steps', '30', '-b', '8', '--lr', '3e-3', '--valid', labels, '--backend', 'wasm', labels]);
  t.equal(r.code, 0, r.stderr);
  const m = metrics(r.stdout);
  const v = m.filter((x) => x.valid_loss !== undefined);
  t.equal(v.length, 2);
  t.ok(v[1].valid_loss < v[0].valid_loss * 0.5, `held-out loss ${v[0].valid_loss} -> ${v[1].valid_loss}`);
  t.equal(v[1].valid_accuracy, 1);
  // Loaded back: the head is in model.safetensors; every right answer scores above the wrong one of its question.
  t.equal(openSafetensors(join(orm, 'model.safetensors')).get('score.weight').shape[0], 1, 'score.weight [1, hidden]');
  const rm = RewardModel.load(orm);
  const tok = loadTokenizer(orm);
  const seq = (qq: string, c: string) => {
    const ids = [...tok.encode(qq), ...tok.encode(c)];
    return { ids, at: [ids.length - 1] };
  };
  const s = rm.score(Array.from({ length: 12 }, (_, i) => [seq(`Say seven ${i}:`, ' 7'), seq(`Say seven ${i}:`, ` ${i % 6}`)]).flat(), 0, 8);
  for (let i = 0; i < 12; i++) t.ok(s[2 * i][0] > s[2 * i + 1][0], `question ${i}: right ${s[2 * i][0].toFixed(3)} > wrong ${s[2 * i + 1][0].toFixed(3)}`);
  rm.dispose();
  tok.free();
  t.match(JSON.parse(readFileSync(join(orm, 'rm_config.json'), 'utf8')), { kind: 'orm', data: [labels] });

  const prmLabels = join(dir, 'prm-labels.jsonl');
  writeFileSync(prmLabels, recs.map((x) => JSON.stringify({ ...x, steps: [` ${x.label ? 7 : 5}7`, x.completion], step_labels: [x.label, x.label] })).join('\n') + '\n');
  const p = await runCli(['grpo', 'rm', 'train', '--init', ck, '-o', join(dir, 'prm'), '--kind', 'prm', '--step-marker', '7', '--steps', '4', '--backend', 'wasm', prmLabels]);
  t.equal(p.code, 0, p.stderr);
  t.equal(metrics(p.stdout).length, 4);
  const bad = await runCli(['grpo', 'rm', 'train', '--init', ck, '-o', join(dir, 'prm2'), '--kind', 'prm', '--backend', 'wasm', labels]);
  t.equal(bad.code, 65);
  t.match(bad.stderr, /toy\.jsonl:1 \(id r0\): missing field "step_labels"/);
  const nokind = await runCli(['grpo', 'rm', 'train', '--init', ck, '-o', join(dir, 'x'), '--backend', 'wasm', labels]);
  t.equal(nokind.code, 2);
  t.match(nokind.stderr, /--kind orm\|prm is required/);
});

t.test('grpo with a learned reward; iterative RL: the reference resets at the boundary; resume across it is exact', async (t) => {
  const orm = join(dir, 'orm');
  // KL to the reference: positive once the policy moved, exactly 0 at the first step of iteration 2 (mu 1).
  // (The ORM's rewards differ within every group, so every step moves the policy.)
  const it = await runCli(['grpo', '--init', ck, '-o', join(dir, 'it'), '-G', '4', '-b', '2', '--steps', '4', '--iterations', '2', '--lr', '3e-3', '--mu', '1', '--reward-model', orm, '--rm-questions', '2', '--rm-samples', '2', '--rm-steps', '1', ...TASK, q]);
  t.equal(it.code, 0, it.stderr);
  const km = metrics(it.stdout);
  t.ok(km[1].kl > 0, `KL at step 2: ${km[1].kl}`);
  t.equal(km[2].kl, 0, 'KL at step 3, the first of iteration 2');
  t.ok(km[3].kl > 0, `KL at step 4: ${km[3].kl}`);
  t.same(km.map((x) => x.iteration), [1, 1, 2, 2]);
  t.ok(km.every((x) => typeof x.rm_score === 'number'), 'the reward model\'s mean probability is logged');
  t.match(it.stderr, /reward model .*outcome \(ORM\)/);
  t.equal(km[2].rm_labels, 4, 'iteration 2 labeled 2 questions x 2 samples');

  // With a PRM retrained between iterations: straight, and stopped after the boundary then resumed.
  const prm = join(dir, 'prm');
  const common = ['--init', ck, '-G', '4', '-b', '2', '--iterations', '2', '--reward-model', prm, '--step-marker', '7', '--rm-questions', '3', '--rm-samples', '2', '--rollouts', '2', '--rm-steps', '2', '--rm-batch-size', '4', '--replay', '0.5', '--lr', '3e-3', '--beta', '0.04', ...TASK, q];
  const a = await runCli(['grpo', '-o', join(dir, 'ia'), '--steps', '4', ...common]);
  t.equal(a.code, 0, a.stderr);
  t.match(a.stderr, /iteration 2: the reference is the policy now; 6 outputs labeled .*older labels replayed/);
  const b1 = await runCli(['grpo', '-o', join(dir, 'ib'), '--steps', '3', ...common]);
  t.equal(b1.code, 0, b1.stderr);
  const b2 = await runCli(['grpo', '-o', join(dir, 'ib'), '--steps', '4', '--resume', ...common]);
  t.equal(b2.code, 0, b2.stderr);
  const w = (d: string, f: string, n: string) => Array.from(openSafetensors(join(dir, d, f)).get(n).data as Float32Array);
  t.same(w('ib', 'model.safetensors', 'model.layers.1.mlp.down_proj.weight'), w('ia', 'model.safetensors', 'model.layers.1.mlp.down_proj.weight'), 'policy weights equal the straight run');
  t.same(w('ib', 'reward_model/model.safetensors', 'score.weight'), w('ia', 'reward_model/model.safetensors', 'score.weight'), 'reward model head equals the straight run');
  t.same(w('ib', 'reference.safetensors', 'model.norm.weight'), w('ia', 'reference.safetensors', 'model.norm.weight'), 'the reset reference is saved');
  const keep = (m: M) => [m.step, m.reward_mean, m.loss, m.kl, m.rm_score];
  t.same([...metrics(b1.stdout), ...metrics(b2.stdout)].map(keep), metrics(a.stdout).map(keep), 'the same rewards, losses, KL and reward-model scores at every step');
  t.equal(readFileSync(join(dir, 'ib', 'rm_data', 'iter-02.jsonl'), 'utf8'), readFileSync(join(dir, 'ia', 'rm_data', 'iter-02.jsonl'), 'utf8'), 'the same labels');

  // The runs as curves over steps.
  writeFileSync(join(dir, 'a.jsonl'), a.stdout);
  writeFileSync(join(dir, 'it.jsonl'), it.stdout);
  const p = await runCli(['grpo', 'plot', `prm=${join(dir, 'a.jsonl')}`, `it=${join(dir, 'it.jsonl')}`, '-o', join(dir, 'runs.svg')]);
  t.equal(p.code, 0, p.stderr);
  const svg = readFileSync(join(dir, 'runs.svg'), 'utf8');
  t.match(svg, /^<svg[\s\S]*training reward[\s\S]*held-out pass@K[\s\S]*<\/svg>\n$/);

  const u = await runCli(['grpo', '--init', ck, '-o', join(dir, 'z'), '--reward-model', ck, ...TASK, q]);
  t.equal(u.code, 2);
  t.match(u.stderr, /is not a reward model/);
});
