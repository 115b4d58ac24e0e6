// `mathpipe pretrain` end to end through the real binary: metrics, checkpoints, exact resume (also after
// SIGKILL), mixtures and blend files, validation, tokenizer files, errors and exit codes.
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, NO_TAP_HOOKS, lines, runCli, runShell } from '../helpers.js';
import { writeSyntheticTokens } from '../../fixtures/train/tokens.js';
import { IndexedDatasetWriter } from '../../src/dataset/indexed.js';
import { openSafetensors } from '../../src/train/safetensors.js';
import { formatRanks, writeTokenizerDir } from '../../src/tokenizer/files.js';
import { MATH_PATTERN } from '../../src/tokenizer/pattern.js';
import { MixtureSampler, openSources, permute } from '../../src/pretrain/data.js';
import { Rng } from '../../src/util/rng.js';
import { nativeAddon } from '../../src/train/native.js';

const FAST = ['--model', 'tiny', '--seq-len', '32', '--batch-size', '4', '--backend', 'wasm', '-q'];

interface Metric {
  step: number;
  loss?: number;
  lr?: number;
  grad_norm?: number;
  tokens_per_s?: number;
  elapsed?: number;
  valid_loss?: number;
}
const metrics = (s: string): Metric[] => lines(s).map((l) => JSON.parse(l) as Metric);

let data = '';
let data2 = '';
let tokenizer = '';
t.before(() => {
  const dir = t.testdir();
  // A byte-level tokenizer: 256 byte tokens and 2 specials, 258 ids.
  tokenizer = join(dir, 'tok');
  writeTokenizerDir(tokenizer, formatRanks(Array.from({ length: 256 }, (_, i) => Uint8Array.of(i))), {
    format: 'mathpipe-tiktoken',
    version: 1,
    name: 'bytes',
    pat_str: MATH_PATTERN,
    n_vocab: 258,
    special_tokens: { '<|bos|>': 256, '<|eos|>': 257 },
    bos_token: '<|bos|>',
    eos_token: '<|eos|>',
    pad_token: '<|eos|>',
  });
  data = join(dir, 'a');
  data2 = join(dir, 'b');
  writeSyntheticTokens(data, 30000, 258, 1);
  writeSyntheticTokens(data2, 10000, 258, 2);
});

t.test('--help documents every option with examples; --list-presets prints parameter counts', async (t) => {
  const h = await runCli(['pretrain', '--help']);
  t.equal(h.code, 0);
  for (const o of ['--data', '--data-blend', '--valid', '--resume', '--init', '--tokens-per-step', '--schedule', '--warmup', '--clip', '--save-interval', '--tokenizer', '--backend', 'Examples:'])
    t.match(h.stdout, o);
  const p = await runCli(['pretrain', '--list-presets']);
  t.equal(p.code, 0);
  const rows = lines(p.stdout).map((l) => JSON.parse(l) as { preset: string; parameters: number });
  t.ok(rows.find((r) => r.preset === 'deepseek-math-7b' && r.parameters > 6.9e9));
  t.ok(rows.find((r) => r.preset === 'tiny'));
});

t.test('trains, writes metrics JSONL and a Hugging Face style checkpoint', async (t) => {
  const out = join(t.testdir(), 'ck');
  const r = await runCli(['pretrain', '--data', data, '-o', out, '--steps', '6', '--valid', data2, '--eval-interval', '3', '--eval-batches', '2', '--tokenizer', tokenizer, ...FAST.filter((x) => x !== '-q')]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /backend wasm/, 'says which backend runs');
  t.match(r.stderr, /vocab 320:/, 'vocabulary from the tokenizer, rounded up to 64');
  const m = metrics(r.stdout);
  const train = m.filter((x) => x.loss !== undefined);
  t.same(train.map((x) => x.step), [1, 2, 3, 4, 5, 6]);
  for (const k of ['loss', 'lr', 'grad_norm', 'tokens_per_s', 'elapsed']) t.ok(train.every((x) => typeof (x as unknown as Record<string, unknown>)[k] === 'number'), k);
  t.same(m.filter((x) => x.valid_loss !== undefined).map((x) => x.step), [3, 6]);
  t.same(readdirSync(out).sort(), ['config.json', 'generation_config.json', 'model.safetensors', 'optimizer.safetensors', 'tiktoken_config.json', 'tokenizer.json', 'tokenizer.tiktoken', 'tokenizer_config.json', 'trainer_state.json']);
  const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  t.equal(cfg.architectures[0], 'LlamaForCausalLM');
  const st = openSafetensors(join(out, 'model.safetensors'));
  t.ok(st.header['model.embed_tokens.weight']);
  t.same(st.header['model.layers.1.self_attn.k_proj.weight'].shape, [32, 64], 'HF [out, in] layout (2 kv heads x 16)');
  t.notOk(st.header['lm_head.weight'], 'tiny ties embeddings');
  st.close();
  t.equal(readdirSync(join(out, '..')).filter((n) => n.includes('.tmp-') || n.includes('.old-')).length, 0, 'no temporary directories left');
});

t.test('resume: 20 steps == 10 steps + resume to 20 (loss equal within 1e-5)', async (t) => {
  const dir = t.testdir();
  const common = ['--data', data, '--schedule', 'constant', '--warmup', '2', '--lr', '3e-3', ...FAST];
  const full = await runCli(['pretrain', ...common, '-o', join(dir, 'full'), '--steps', '20']);
  t.equal(full.code, 0, full.stderr);
  const first = await runCli(['pretrain', ...common, '-o', join(dir, 'split'), '--steps', '10']);
  t.equal(first.code, 0, first.stderr);
  const second = await runCli(['pretrain', ...common, '-o', join(dir, 'split'), '--steps', '20', '--resume']);
  t.equal(second.code, 0, second.stderr);
  const a = metrics(full.stdout);
  const b = [...metrics(first.stdout), ...metrics(second.stdout)];
  t.same(b.map((x) => x.step), a.map((x) => x.step), 'the resumed run continues at step 11');
  for (let i = 0; i < a.length; i++) t.ok(Math.abs(a[i].loss! - b[i].loss!) < 1e-5, `step ${a[i].step}: ${a[i].loss} vs ${b[i].loss}`);
  const wa = openSafetensors(join(dir, 'full', 'model.safetensors'));
  const wb = openSafetensors(join(dir, 'split', 'model.safetensors'));
  let maxDiff = 0;
  for (const n of Object.keys(wa.header)) {
    const x = wa.get(n).data;
    const y = wb.get(n).data;
    for (let i = 0; i < x.length; i++) maxDiff = Math.max(maxDiff, Math.abs(x[i] - y[i]));
  }
  t.ok(maxDiff < 1e-6, `final weights agree (max diff ${maxDiff})`);
  // Only --batch-size's value changes (4 -> 2): the rest of the settings are those of the run resumed.
  const batch = common.indexOf('--batch-size') + 1;
  t.equal(common[batch], '4');
  const changed = await runCli(['pretrain', ...common.map((x, i) => (i === batch ? '2' : x)), '-o', join(dir, 'split'), '--steps', '30', '--resume']);
  t.equal(changed.code, 2, 'resuming with another batch size is a usage error');
  t.match(changed.stderr, /batch_size/);
});

t.test('a run killed with SIGKILL resumes from its last complete checkpoint', async (t) => {
  const out = join(t.testdir(), 'ck');
  const args = [BIN, 'pretrain', '--data', data, '-o', out, '--steps', '100000', '--save-interval', '3', ...FAST];
  // env execs node in place, so the pid we kill is node's.
  const p = spawn('env', [...NO_TAP_HOOKS, process.execPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const closed = new Promise((r) => p.on('close', r));
  p.stdout.resume();
  let err = '';
  p.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const statePath = join(out, 'trainer_state.json');
  const deadline = Date.now() + 90_000;
  while (!existsSync(statePath) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  // Let it get into its next save, then kill it wherever it is.
  await new Promise((r) => setTimeout(r, 700));
  p.kill('SIGKILL');
  await closed;
  t.ok(existsSync(statePath) || readdirSync(join(out, '..')).some((n) => n.startsWith('ck.old-')), `a checkpoint survived ${err}`);
  const saved = JSON.parse(readFileSync(findState(out), 'utf8')) as { step: number };
  t.ok(saved.step >= 3 && saved.step % 3 === 0, `saved at step ${saved.step}`);
  const r = await runCli(['pretrain', '--data', data, '-o', out, '--steps', String(saved.step + 2), '--save-interval', '3', '--resume', ...FAST]);
  t.equal(r.code, 0, r.stderr);
  t.same(metrics(r.stdout).map((x) => x.step), [saved.step + 1, saved.step + 2]);
  t.equal(readdirSync(join(out, '..')).filter((n) => n.includes('.tmp-')).length, 0, 'stale temporary directory removed');
});

function findState(out: string): string {
  if (existsSync(join(out, 'trainer_state.json'))) return join(out, 'trainer_state.json');
  const old = readdirSync(join(out, '..')).find((n) => n.startsWith('ck.old-'))!;
  return join(out, '..', old, 'trainer_state.json');
}

t.test('mixtures: weights, blend files, accumulation', async (t) => {
  const dir = t.testdir();
  const blend = join(dir, 'blend.json');
  writeFileSync(blend, JSON.stringify([{ weight: 0.7, prefix: data }, { weight: 0.3, prefix: data2 }]));
  const r = await runCli(['pretrain', '--data-blend', blend, '-o', join(dir, 'a'), '--steps', '2', ...FAST.filter((x) => x !== '-q')]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /70\.0% .*\/a .*30\.0% .*\/b/);
  const m = await runCli(['pretrain', '--data', `0.56:${data}`, '--data', `0.44:${data2}`, '-o', join(dir, 'b'), '--steps', '2', '--tokens-per-step', '256', ...FAST.filter((x) => x !== '-q')]);
  t.equal(m.code, 0, m.stderr);
  t.match(m.stderr, /56\.0% .*44\.0%.*256 tokens\/step \(2 x 4 x 32\)/);
  const bad = await runCli(['pretrain', '--data', data, '-o', join(dir, 'c'), '--steps', '2', '--tokens-per-step', '100', ...FAST]);
  t.equal(bad.code, 2);
});

t.test('errors: missing data, out-of-vocabulary tokens, unknown backend, absent tfjs-node', async (t) => {
  const dir = t.testdir();
  const missing = await runCli(['pretrain', '--data', join(dir, 'nope'), '-o', join(dir, 'x'), ...FAST]);
  t.equal(missing.code, 74, 'a missing dataset is an I/O error, like any missing input');
  t.match(missing.stderr, /nope\.idx/);
  const big = join(dir, 'big');
  const w = IndexedDatasetWriter.create(big, 'uint16');
  w.add(Array.from({ length: 100 }, (_, i) => (i === 50 ? 9000 : 5)));
  w.close();
  const oov = await runCli(['pretrain', '--data', big, '-o', join(dir, 'y'), '--steps', '3', ...FAST]);
  t.equal(oov.code, 65);
  t.match(oov.stderr, /big\.bin: token 9000 at position 50 is outside the model's vocabulary of 512/);
  const nb = await runCli(['pretrain', '--data', data, '-o', join(dir, 'z'), '--backend', 'gpu']);
  t.equal(nb.code, 2);
  const env = await runCli(['pretrain', '--data', data, '-o', join(dir, 'z'), '--steps', '1', '-q'], { env: { MATHPIPE_BACKEND: 'nonsense' } });
  t.equal(env.code, 2);
  t.match(env.stderr, /unknown backend "nonsense"/);
  const tfn = await runCli(['pretrain', '--data', data, '-o', join(dir, 'z'), '--backend', 'tensorflow', '--steps', '1']);
  t.equal(tfn.code, 2);
  t.match(tfn.stderr, /tfjs-node/);
  t.ok(lines(tfn.stderr).length <= 2, 'one clear line, no warning flood');
  const nodata = await runCli(['pretrain', '-o', join(dir, 'z')]);
  t.equal(nodata.code, 2);
  for (const bad of [['--warmup', '-1'], ['--beta2', '1'], ['--clip', '-1'], ['--steps', '0'], ['--vocab-size', '1.5']]) {
    const r = await runCli(['pretrain', '--data', data, '-o', join(dir, 'z'), ...bad]);
    t.equal(r.code, 2, `${bad.join(' ')} is a usage error`);
    t.match(r.stderr, bad[0]);
  }
});

t.test('--log appends metrics to a file; | head exits 0 quietly', async (t) => {
  const dir = t.testdir();
  const log = join(dir, 'm.jsonl');
  const r = await runCli(['pretrain', '--data', data, '-o', join(dir, 'ck'), '--steps', '2', '--log', log, ...FAST]);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, '');
  t.equal(lines(readFileSync(log, 'utf8')).length, 2);
  const h = await runShell(`mathpipe pretrain --data ${data} -o ${join(dir, 'ck2')} --steps 30 ${FAST.join(' ')} | head -1`);
  t.equal(h.code, 0, h.stderr);
  t.equal(lines(h.stdout).length, 1);
  t.equal(h.stderr, '');
});

t.test('tokenize | pretrain: the tokenizer recorded by tokenize is picked up and stored in the checkpoint', async (t) => {
  const dir = t.testdir();
  const docs = Array.from({ length: 60 }, (_, i) => JSON.stringify({ id: `d${i}`, text: `Problem ${i}: compute ${i} + ${i * 3} = ${i * 4}. ` + 'The answer follows. '.repeat(5) })).join('\n') + '\n';
  const tok = await runCli(['tokenize', '-t', tokenizer, '-o', join(dir, 'toks'), '-q'], { input: docs });
  t.equal(tok.code, 0, tok.stderr);
  const out = join(dir, 'ck');
  const r = await runCli(['pretrain', '--data', join(dir, 'toks'), '-o', out, '--steps', '2', ...FAST.filter((x) => x !== '-q')]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /tokenizer bytes \(from the datasets' \.meta\.json\)/);
  const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  t.equal(cfg.vocab_size, 320);
  t.equal(cfg.eos_token_id, 257);
  t.ok(existsSync(join(out, 'tokenizer.tiktoken')));
});


t.test('--init starts from another checkpoint; --backend cpu and MATHPIPE_BACKEND select the backend', async (t) => {
  const dir = t.testdir();
  const base = await runCli(['pretrain', '--data', data, '-o', join(dir, 'base'), '--steps', '3', ...FAST]);
  t.equal(base.code, 0, base.stderr);
  const init = await runCli(['pretrain', '--data', data2, '-o', join(dir, 'cont'), '--init', join(dir, 'base'), '--steps', '2', '--seq-len', '32', '--batch-size', '4', '--backend', 'cpu']);
  t.equal(init.code, 0, init.stderr);
  t.match(init.stderr, /backend cpu .*UnsortedSegmentSum/);
  t.same(metrics(init.stdout).map((x) => x.step), [1, 2], 'a new run: steps restart at 1');
  const a = openSafetensors(join(dir, 'base', 'model.safetensors'));
  const b = openSafetensors(join(dir, 'cont', 'model.safetensors'));
  t.same(Object.keys(b.header).sort(), Object.keys(a.header).sort(), 'same architecture as the init checkpoint');
  const env = await runCli(['pretrain', '--data', data, '-o', join(dir, 'e'), '--steps', '1', '--seq-len', '16', '--batch-size', '2'], { env: { MATHPIPE_BACKEND: 'cpu' } });
  t.equal(env.code, 0, env.stderr);
  t.match(env.stderr, /backend cpu/);
  const none = await runCli(['pretrain', '--data', data, '-o', join(dir, 'f'), '--init', join(dir, 'missing'), '--steps', '1']);
  t.equal(none.code, 2);
});

t.test('a crash between the two renames of a save: --resume uses DIR.old-PID and cleans it up', async (t) => {
  const dir = t.testdir();
  const out = join(dir, 'ck');
  const first = await runCli(['pretrain', '--data', data, '-o', out, '--steps', '2', ...FAST]);
  t.equal(first.code, 0, first.stderr);
  renameSync(out, `${out}.old-999999`);
  const r = await runCli(['pretrain', '--data', data, '-o', out, '--steps', '3', '--resume', ...FAST.filter((x) => x !== '-q')]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /ck\.old-999999 left by an interrupted save/);
  t.same(metrics(r.stdout).map((x) => x.step), [3]);
  t.same(readdirSync(dir), ['ck'], 'only the new checkpoint remains');
});

t.test('packed sequences: each used once per epoch in a keyed shuffle; resume continues exactly', async (t) => {
  for (const n of [1, 2, 3, 5, 17, 64, 1000, 4099]) {
    const seen = new Set<number>();
    for (let i = 0; i < n; i++) seen.add(permute(i, n, 42));
    t.equal(seen.size, n, `permute is a bijection on [0, ${n})`);
    t.ok([...seen].every((x) => x >= 0 && x < n));
  }
  const order = (key: number) => Array.from({ length: 64 }, (_, i) => permute(i, 64, key));
  t.notSame(order(1), order(2), 'another key, another order');
  t.notSame(order(1), Array.from({ length: 64 }, (_, i) => i), 'shuffled');

  // 3 sequences of 4 tokens in 13 tokens; every epoch covers each start exactly once.
  const dir = t.testdir();
  const prefix = join(dir, 'small');
  const w = IndexedDatasetWriter.create(prefix, 'int32');
  w.add(Int32Array.from({ length: 13 }, (_, i) => i));
  w.close();
  const [src] = openSources([{ weight: 1, prefix }], 4);
  const sampler = new MixtureSampler([src], 4, 100, 'packed', 7);
  const rng = new Rng(1);
  const starts = Array.from({ length: 3 }, () => sampler.batch(3, rng).ids.filter((_, i) => i % 4 === 0));
  for (const e of starts) t.same([...e].sort(), [0, 4, 8], 'one epoch = every packed sequence once');
  t.same(sampler.cursors, [{ epoch: 3, next: 0 }]);
  const b = sampler.batch(1, rng);
  t.same(Array.from(b.targets), Array.from(b.ids, (x) => x + 1), 'targets are the next tokens');
  sampler.cursors = [{ epoch: 5, next: 99 }];
  sampler.batch(1, rng);
  t.same(sampler.cursors, [{ epoch: 6, next: 1 }], 'a cursor past the end (dataset rebuilt shorter) starts the next epoch');
  src.ds.close();

  const common = ['--data', data, '--sampling', 'packed', '--schedule', 'constant', '--lr', '3e-3', ...FAST];
  const full = await runCli(['pretrain', ...common, '-o', join(dir, 'full'), '--steps', '8']);
  t.equal(full.code, 0, full.stderr);
  const first = await runCli(['pretrain', ...common, '-o', join(dir, 'split'), '--steps', '4']);
  const state = JSON.parse(readFileSync(join(dir, 'split', 'trainer_state.json'), 'utf8')) as { packed: unknown };
  t.same(state.packed, [{ epoch: 0, next: 16 }], '4 steps x 4 sequences used');
  const second = await runCli(['pretrain', ...common, '-o', join(dir, 'split'), '--steps', '8', '--resume']);
  t.equal(second.code, 0, second.stderr);
  const a = metrics(full.stdout);
  const b2 = [...metrics(first.stdout), ...metrics(second.stdout)];
  for (let i = 0; i < a.length; i++) t.ok(Math.abs(a[i].loss! - b2[i].loss!) < 1e-5, `step ${a[i].step}: ${a[i].loss} vs ${b2[i].loss}`);
  const random = await runCli(['pretrain', ...common.filter((x) => x !== '--sampling' && x !== 'packed'), '-o', join(dir, 'split'), '--steps', '9', '--resume']);
  t.equal(random.code, 2, 'resuming a packed run with random windows is a usage error');
  t.match(random.stderr, /sampling was "packed"/);
});

t.test('two runs with the same MATHPIPE_THREADS give identical metrics and weights', async (t) => {
  const dir = t.testdir();
  const args = ['pretrain', '--data', data, '--steps', '4', '--save-interval', '0', ...FAST];
  const env = { MATHPIPE_THREADS: '2' };
  const a = await runCli([...args, '-o', join(dir, 'a')], { env });
  const b = await runCli([...args, '-o', join(dir, 'b')], { env });
  t.same([a.code, b.code], [0, 0], a.stderr + b.stderr);
  const pick = (s: string) => metrics(s).map((m) => [m.step, m.loss, m.grad_norm]);
  t.same(pick(b.stdout), pick(a.stdout));
  t.ok(readFileSync(join(dir, 'a', 'model.safetensors')).equals(readFileSync(join(dir, 'b', 'model.safetensors'))), 'byte-identical weights');
});

t.test('the summary names the kernels: native with OpenBLAS, MATHPIPE_BLAS=none, MATHPIPE_NATIVE=0', async (t) => {
  const dir = t.testdir();
  const args = ['pretrain', '--data', data, '--model', 'tiny', '--seq-len', '16', '--batch-size', '2', '--steps', '1', '--backend', 'wasm'];
  const off = await runCli([...args, '-o', join(dir, 'off')], { env: { MATHPIPE_NATIVE: '0' } });
  t.equal(off.code, 0, off.stderr);
  t.match(off.stderr, /native kernels: off/);
  t.notMatch(off.stderr, /BatchMatMul \(OpenBLAS\)/);
  const addon = nativeAddon();
  if (!addon) return;
  const none = await runCli([...args, '-o', join(dir, 'none')], { env: { MATHPIPE_BLAS: 'none' } });
  t.equal(none.code, 0, none.stderr);
  t.match(none.stderr, /native kernels \(.*products on XNNPACK\)/);
  if (!addon.blasInfo()) return;
  const blas = await runCli([...args, '-o', join(dir, 'blas')]);
  t.match(blas.stderr, /native kernels \(products on libopenblas/);
  t.match(blas.stderr, /BatchMatMul \(OpenBLAS\)/);
});

t.test('MATHPIPE_NATIVE=0 at build time skips the addon build', async (t) => {
  const r = await runShell('MATHPIPE_NATIVE=0 node scripts/build-native.mjs');
  t.equal(r.code, 0);
  t.match(r.stderr, /build-native: skipped \(MATHPIPE_NATIVE=0\)/);
});
