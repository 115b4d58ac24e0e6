// GRPO's arithmetic against hand computations: outcome and process advantages, step splitting, DAPO's overlong
// shaping, the KL estimators, every preset's loss against a plain re-computation from the papers' formulas on
// fixed log-probs, and (beta 0, one update) the gradient of the clipped objective against REINFORCE's.
import t, { type Test } from 'tap';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/train/backend.js';
import { makeConfig } from '../../src/train/config.js';
import { LlamaModel } from '../../src/train/model.js';
import { Rng } from '../../src/util/rng.js';
import { STD_EPS, informative, outcomeAdvantages, overlongPenalty, processAdvantages, stepEnds, stepTexts } from '../../src/grpo/advantages.js';
import { grpoGradients, grpoObjective, klEstimate, targetLogprobs, tokenWeights, type LossBatch, type LossSettings } from '../../src/grpo/loss.js';
import { nativeKernels } from '../../src/train/ops/native-kernel.js';
import { PRESETS, checkConfig, resolveConfig, type GrpoConfig } from '../../src/grpo/presets.js';

t.before(async () => {
  await initBackend('wasm');
});

const close = (t: Test, a: number[], b: number[], tol: number, msg: string) => {
  t.equal(a.length, b.length, `${msg}: length`);
  const d = Math.max(0, ...a.map((x, i) => Math.abs(x - b[i])));
  t.ok(d <= tol, `${msg}: max difference ${d}`);
};

t.test('outcome advantages: (r - mean) / (std + 1e-4) per group, sample std; scopes; nulls; sums to 0', async (t) => {
  const r = [1, 0, 0, 1, 1, 1, 1, 1];
  const s1 = Math.sqrt(1 / 3); // group 1: mean 0.5, squares 4 x 0.25 over n - 1 = 3
  close(t, outcomeAdvantages(r, 4, { scope: 'group', baseline: true, eps: STD_EPS }) as number[], [0.5, -0.5, -0.5, 0.5].map((x) => x / (s1 + 1e-4)).concat([0, 0, 0, 0]), 1e-12, 'group std');
  close(t, outcomeAdvantages(r, 4, { scope: 'none', baseline: true, eps: STD_EPS }) as number[], [0.5, -0.5, -0.5, 0.5, 0, 0, 0, 0], 1e-12, 'no std (Dr. GRPO)');
  // batch std: mean 0.75 over 8; squares 6 x 0.0625 + 2 x 0.5625 = 1.5, / 7.
  const sb = Math.sqrt(1.5 / 7);
  close(t, outcomeAdvantages(r, 4, { scope: 'batch', baseline: true, eps: STD_EPS }) as number[], [0.5, -0.5, -0.5, 0.5].map((x) => x / (sb + 1e-4)).concat([0, 0, 0, 0]), 1e-12, 'batch std');
  close(t, outcomeAdvantages(r, 4, { scope: 'none', baseline: false, eps: STD_EPS }) as number[], r, 0, 'online RFT: the reward itself');
  // A null is left out: group [2, null, 0, 1] has mean 1, std 1.
  t.same(outcomeAdvantages([2, null, 0, 1], 4, { scope: 'group', baseline: true, eps: 0 }), [1, null, -1, 0]);
  const rng = new Rng(4);
  for (let k = 0; k < 20; k++) {
    const G = 2 + rng.int(10);
    const rs = Array.from({ length: 3 * G }, () => (rng.next() < 0.3 ? Number(rng.next().toFixed(2)) : rng.int(2)));
    const a = outcomeAdvantages(rs, G, { scope: 'group', baseline: true, eps: STD_EPS }) as number[];
    for (let g = 0; g < 3; g++) {
      const sum = a.slice(g * G, (g + 1) * G).reduce((x, y) => x + y, 0);
      t.ok(Math.abs(sum) < 1e-9, `G ${G} group ${g}: advantages sum to ${sum}`);
    }
  }
  t.equal(informative([1, 1, null, 1]), false);
  t.equal(informative([1, null]), false);
  t.equal(informative([1, 0.5]), true);
});

t.test('process advantages: steps normalised over the group, a token gets the sum (or min) of the steps ending at or after it', async (t) => {
  // Group of 2. Output A: 6 tokens, steps ending at tokens 1, 3, 5 with rewards 1, 0, 1. Output B: 4 tokens, steps
  // at 0 and 3, rewards 0 and 0. All five rewards [1, 0, 1, 0, 0]: mean 0.4, sample std sqrt(1.2 / 4).
  const std = Math.sqrt((0.36 * 2 + 0.16 * 3) / 4);
  const n = (r: number) => (r - 0.4) / (std + 1e-4);
  const samples = [
    { rewards: [1, 0, 1], ends: [1, 3, 5], length: 6 },
    { rewards: [0, 0], ends: [0, 3], length: 4 },
  ];
  const sum = processAdvantages(samples, 2, { scope: 'group', baseline: true, eps: STD_EPS, aggregation: 'sum' });
  const a = [n(1) + n(0) + n(1), n(0) + n(1), n(1)];
  close(t, Array.from(sum[0]!), [a[0], a[0], a[1], a[1], a[2], a[2]], 1e-12, 'output A, sum');
  close(t, Array.from(sum[1]!), [2 * n(0), n(0), n(0), n(0)], 1e-12, 'output B, sum');
  const min = processAdvantages(samples, 2, { scope: 'group', baseline: true, eps: STD_EPS, aggregation: 'min' });
  close(t, Array.from(min[0]!), [n(0), n(0), n(0), n(0), n(1), n(1)], 1e-12, 'output A, min');
  // One step per output with the outcome reward: process advantages are the outcome advantages on every token.
  const one = processAdvantages([{ rewards: [1], ends: [2], length: 3 }, { rewards: [0], ends: [1], length: 2 }], 2, { scope: 'group', baseline: true, eps: STD_EPS, aggregation: 'sum' });
  const out = outcomeAdvantages([1, 0], 2, { scope: 'group', baseline: true, eps: STD_EPS }) as number[];
  close(t, [...one[0]!, ...one[1]!], [out[0], out[0], out[0], out[1], out[1]], 1e-12, 'single steps = outcome supervision');
  t.equal(processAdvantages([{ rewards: null, ends: [0], length: 1 }, { rewards: [1], ends: [0], length: 1 }], 2, { scope: 'group', baseline: true, eps: 0, aggregation: 'sum' })[0], null, 'a skipped output');
  t.throws(() => processAdvantages([{ rewards: [1, 2], ends: [0], length: 1 }], 1, { scope: 'none', baseline: false, eps: 0, aggregation: 'sum' }), /2 step rewards for 1 steps/);
});

t.test('steps: split on blank lines (or a marker) in the bytes, mapped to the token ending each step', async (t) => {
  const toks = ['a', 'b\n', '\n', 'c', '\n\nd', 'e', ''].map((s) => Buffer.from(s));
  t.same(stepEnds(toks, { kind: 'blank-line' }), [2, 4, 6]);
  t.same(stepTexts(toks, [2, 4, 6]), ['ab\n\n', 'c\n\nd', 'e']);
  // Nothing but white space and an end token after the last separator: no step of its own.
  t.same(stepEnds(['x\n\n', 'y\n', '\n', ' ', ''].map((s) => Buffer.from(s)), { kind: 'blank-line' }), [0, 4]);
  t.same(stepEnds(['Step 1: a ', 'Step', ' 2: b'].map((s) => Buffer.from(s)), { kind: 'marker', text: ' Step' }), [1, 2]);
  t.same(stepEnds(['no steps here'].map((s) => Buffer.from(s)), { kind: 'blank-line' }), [0]);
  t.same(stepEnds([], { kind: 'blank-line' }), []);
  // UTF-8: a marker of several bytes.
  t.same(stepEnds(['α', '→', 'β', '→', 'γ'].map((s) => Buffer.from(s)), { kind: 'marker', text: '→' }), [1, 3, 4]);
});

t.test('overlong shaping (DAPO): 0, then linear to -1 over the buffer', async (t) => {
  t.same([10, 12, 14, 16, 20, 21].map((n) => overlongPenalty(n, 20, 8)), [0, 0, -0.25, -0.5, -1, -1]);
  t.equal(overlongPenalty(20, 20, 0), 0);
});

t.test('KL estimators: k2 and k3 >= 0 everywhere, k1 >= 0 in expectation, all 0 when pi = pi_ref', async (t) => {
  const rng = new Rng(8);
  const a = Float32Array.from({ length: 200 }, () => -5 * rng.next());
  const b = Float32Array.from({ length: 200 }, () => -5 * rng.next());
  for (const est of ['k1', 'k2', 'k3'] as const) {
    const same = tf.tidy(() => klEstimate(tf.tensor1d(a), tf.tensor1d(a), est).dataSync());
    t.ok(same.every((x) => x === 0), `${est}: 0 at pi = pi_ref`);
    if (est !== 'k1') t.ok(tf.tidy(() => klEstimate(tf.tensor1d(a), tf.tensor1d(b), est).dataSync()).every((x) => x >= 0), `${est} >= 0`);
  }
  // Over whole distributions, E_pi[k] is the KL (k1, k3 unbiased) or above... all of them >= 0.
  for (let k = 0; k < 10; k++) {
    const V = 8;
    const norm = (xs: number[]) => {
      const m = Math.log(xs.reduce((s, x) => s + Math.exp(x), 0));
      return xs.map((x) => x - m);
    };
    const lp = norm(Array.from({ length: V }, () => 3 * rng.normal()));
    const lr = norm(Array.from({ length: V }, () => 3 * rng.normal()));
    const exact = lp.reduce((s, x, i) => s + Math.exp(x) * (x - lr[i]), 0);
    for (const est of ['k1', 'k3'] as const) {
      const v = tf.tidy(() => klEstimate(tf.tensor1d(lp), tf.tensor1d(lr), est).dataSync());
      const e = lp.reduce((s, x, i) => s + Math.exp(x) * v[i], 0);
      t.ok(e >= 0 && Math.abs(e - exact) < 1e-4 * (1 + exact), `${est}: E_pi = ${e}, KL = ${exact}`);
    }
  }
});

/** A fixed batch: 3 outputs (rows) after prompts, log-probs given directly. */
function fixedBatch() {
  const B = 3;
  const T = 6;
  // Row 0: prompt 2, output 4 tokens; row 1: prompt 1, output 2; row 2: prompt 3, output 3.
  const spans = [
    [2, 4],
    [1, 2],
    [3, 3],
  ];
  const rng = new Rng(21);
  const logp = Float32Array.from({ length: B * T }, () => -0.2 - 2 * rng.next());
  const old = logp.map((x) => x + 0.3 * rng.normal());
  const ref = logp.map((x) => x + 0.5 * rng.normal());
  const advOf = [1.2, -0.7, 0.4];
  const mask = new Float32Array(B * T);
  const adv = new Float32Array(B * T);
  spans.forEach(([p, n], i) => {
    for (let k = 0; k < n; k++) {
      mask[i * T + p - 1 + k] = 1;
      adv[i * T + p - 1 + k] = advOf[i];
    }
  });
  return { B, T, spans, logp, old, ref, mask, adv, lengths: spans.map(([, n]) => n) };
}

/** The loss as the papers write it, one output and one token at a time. */
function referenceLoss(f: ReturnType<typeof fixedBatch>, c: GrpoConfig): number {
  const clip = (x: number) => Math.min(Math.max(x, 1 - c.epsilon), 1 + c.epsilon_high);
  const kl = (lp: number, lr: number) => (c.kl_estimator === 'k1' ? lp - lr : c.kl_estimator === 'k2' ? 0.5 * (lp - lr) ** 2 : Math.exp(lr - lp) - (lr - lp) - 1);
  const perOutput: number[][] = [];
  f.spans.forEach(([p, n], i) => {
    const idx = Array.from({ length: n }, (_, k) => i * f.T + p - 1 + k);
    const seqRatio = Math.exp(idx.reduce((s, j) => s + f.logp[j] - f.old[j], 0) / n);
    perOutput.push(
      idx.map((j) => {
        const rho = c.ratio === 'sequence' ? seqRatio : Math.exp(f.logp[j] - f.old[j]);
        const A = f.adv[j];
        return -(Math.min(rho * A, clip(rho) * A) - c.beta * kl(f.logp[j], f.ref[j]));
      }),
    );
  });
  const N = perOutput.length;
  if (c.aggregation === 'token-mean') return perOutput.flat().reduce((a, b) => a + b, 0) / perOutput.flat().length;
  if (c.aggregation === 'seq-mean-token-sum-norm') return perOutput.reduce((s, o) => s + o.reduce((a, b) => a + b, 0), 0) / (N * c.max_tokens);
  return perOutput.reduce((s, o) => s + o.reduce((a, b) => a + b, 0) / o.length, 0) / N;
}

t.test("every preset's loss equals the formula computed by hand on fixed log-probs", async (t) => {
  const f = fixedBatch();
  for (const name of Object.keys(PRESETS)) {
    // The preset as it is, and with a KL term of another estimator (most presets have beta 0).
    for (const c of [PRESETS[name].config, { ...PRESETS[name].config, beta: 0.1, kl_estimator: 'k2' as const }]) {
      const w = tokenWeights(f.lengths, c.aggregation, c.max_tokens);
      const weights = new Float32Array(f.B * f.T);
      for (let i = 0; i < f.B; i++) for (let k = 0; k < f.T; k++) weights[i * f.T + k] = f.mask[i * f.T + k] * w[i];
      const b: LossBatch = { B: f.B, T: f.T, ids: new Int32Array(f.B * f.T), targets: new Int32Array(f.B * f.T), mask: f.mask, weights, adv: f.adv, old: f.old, ref: f.ref };
      const s: LossSettings = { epsilon: c.epsilon, epsilonHigh: c.epsilon_high, beta: c.beta, klEstimator: c.kl_estimator, ratio: c.ratio };
      const got = tf.tidy(() => grpoObjective(tf.tensor2d(f.logp, [f.B, f.T]), b, s).loss.dataSync()[0]);
      const want = referenceLoss(f, c);
      t.ok(Math.abs(got - want) <= 1e-5 * Math.max(1, Math.abs(want)), `${name} (beta ${c.beta} ${c.kl_estimator}): ${got} vs ${want}`);
    }
  }
  // The clip is active somewhere (else the test would not see it).
  const s: LossSettings = { epsilon: 0.2, epsilonHigh: 0.2, beta: 0, klEstimator: 'k3', ratio: 'token' };
  const b: LossBatch = { B: f.B, T: f.T, ids: new Int32Array(f.B * f.T), targets: new Int32Array(f.B * f.T), mask: f.mask, weights: f.mask, adv: f.adv, old: f.old, ref: f.ref };
  const clips = tf.tidy(() => {
    const st = grpoObjective(tf.tensor2d(f.logp, [f.B, f.T]), b, s).stats;
    return [st.clipLow.dataSync()[0], st.clipHigh.dataSync()[0]];
  });
  t.ok(clips[0] + clips[1] > 0, `clipped tokens: ${clips}`);
});

t.test('presets: a flag wins over the preset; checks', async (t) => {
  const r = resolveConfig('dapo', { beta: 0.01, group_size: undefined });
  t.equal(r.config.beta, 0.01);
  t.equal(r.config.group_size, 16);
  t.equal(r.config.epsilon_high, 0.28);
  t.same(r.overridden, ['beta']);
  t.same(checkConfig(PRESETS.deepseekmath.config), []);
  t.match(checkConfig({ ...PRESETS.deepseekmath.config, group_size: 1, kl_estimator: 'k4' as never }).join('; '), /--group-size must be at least 2.*--kl-estimator must be one of k1, k2, k3/);
  // Every problem is listed, in the shared helpers' words.
  t.same(checkConfig({ ...PRESETS.deepseekmath.config, group_size: 2.5, beta: -1, overlong_buffer: 2 }), [
    '--group-size must be an integer >= 1 (got 2.5)',
    '--beta must be a number >= 0 (got -1)',
    '--overlong-buffer must be a number in [0, 1] (got 2)',
  ]);
  const d = PRESETS.deepseekmath.config;
  t.same([d.group_size, d.max_tokens, d.beta, d.kl_estimator, d.kl_in, d.epsilon, d.std_scope, d.aggregation, d.mu], [64, 1024, 0.04, 'k3', 'loss', 0.2, 'group', 'seq-mean-token-mean', 1], "the paper's numbers");
});

t.test('beta 0, one update: the gradient is the policy gradient sum w A grad log pi (REINFORCE with the advantages)', async (t) => {
  const cfg = makeConfig({ vocab_size: 40, hidden_size: 16, intermediate_size: 32, num_hidden_layers: 1, num_attention_heads: 2, num_key_value_heads: 1, max_position_embeddings: 16, tie_word_embeddings: false }, { initializer_range: 0.3 });
  const model = LlamaModel.init(cfg, new Rng(3));
  const f = fixedBatch();
  const rng = new Rng(5);
  const ids = Int32Array.from({ length: f.B * f.T }, () => rng.int(40));
  const targets = Int32Array.from({ length: f.B * f.T }, () => rng.int(40));
  const w = tokenWeights(f.lengths, 'seq-mean-token-mean', 8);
  const weights = f.mask.map((m, j) => m * w[Math.floor(j / f.T)]);
  for (const ratio of ['token', 'sequence'] as const) {
    const b: LossBatch = { B: f.B, T: f.T, ids, targets, mask: f.mask, weights, adv: f.adv, ref: f.ref };
    const got = await grpoGradients(model, [b], { epsilon: 0.2, epsilonHigh: 0.28, beta: 0, klEstimator: 'k3', ratio });
    const want = tf.tidy(() =>
      tf.variableGrads(() => {
        // log pi by plain autodiff of log-softmax (not the fused op the trainer uses).
        const logits = model.logits(tf.tensor2d(ids, [f.B, f.T], 'int32'));
        const N = f.B * f.T;
        const logp = tf.sub(tf.gather(tf.reshape(logits, [-1]), tf.add(tf.mul(tf.range(0, N, 1, 'int32'), tf.scalar(40, 'int32')), tf.tensor1d(targets, 'int32'))), tf.logSumExp(logits, 1));
        return tf.neg(tf.sum(tf.mul(logp, tf.tensor1d(weights.map((x, j) => x * f.adv[j]))))) as tf.Scalar;
      }, [...model.params.values()]),
    );
    let diff = 0;
    let norm = 0;
    for (const [name, g] of got.grads) {
      const a = g.dataSync();
      const e = want.grads[name].dataSync();
      for (let i = 0; i < a.length; i++) {
        diff = Math.max(diff, Math.abs(a[i] - e[i]));
        norm = Math.max(norm, Math.abs(e[i]));
      }
    }
    t.ok(norm > 1e-3 && diff <= 2e-6 * Math.max(1, norm), `${ratio} ratio: max |grad - REINFORCE grad| ${diff} (max |grad| ${norm})`);
    t.ok(Math.abs(got.ratio - f.lengths.reduce((a, x) => a + x, 0)) < 1e-4, 'the first update is on-policy: every ratio is 1');
    t.equal(got.clipLow + got.clipHigh, 0);
    tf.dispose([...got.grads.values(), want.value, ...Object.values(want.grads)]);
  }
  model.dispose();
});

t.test('per-token log-probs with the fused gradient (native kernels and composition) equal autodiff of log-softmax', async (t) => {
  const rng = new Rng(12);
  const N = 37;
  const V = 53;
  const logits = tf.tensor2d(Float32Array.from({ length: N * V }, () => 3 * rng.normal()), [N, V]);
  const targets = tf.tensor1d(Int32Array.from({ length: N }, () => rng.int(V)), 'int32');
  const dy = tf.tensor1d(Float32Array.from({ length: N }, () => rng.normal()));
  const reference = (x: tf.Tensor2D) => tf.sum(tf.mul(tf.sub(tf.gather(tf.reshape(x, [-1]), tf.add(tf.mul(tf.range(0, N, 1, 'int32'), tf.scalar(V, 'int32')), targets)), tf.logSumExp(x, 1)), dy));
  const want = tf.grad((x: tf.Tensor) => reference(x as tf.Tensor2D))(logits);
  const wantValue = tf.tidy(() => tf.sub(tf.gather(tf.reshape(logits, [-1]), tf.add(tf.mul(tf.range(0, N, 1, 'int32'), tf.scalar(V, 'int32')), targets)), tf.logSumExp(logits, 1)));
  t.ok(nativeKernels('ceForward') || process.env.MATHPIPE_NATIVE === '0', 'the native cross-entropy kernels run here (wasm + addon)');
  for (const composed of [false, true]) {
    const value = tf.tidy(() => targetLogprobs(logits, targets, { composed }));
    const got = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(targetLogprobs(x as tf.Tensor2D, targets, { composed }), dy)))(logits);
    close(t, Array.from(value.dataSync()), Array.from(wantValue.dataSync()), 1e-5, `${composed ? 'composed' : 'native'}: values`);
    close(t, Array.from(got.dataSync()), Array.from(want.dataSync()), 1e-5, `${composed ? 'composed' : 'native'}: gradient`);
    tf.dispose([value, got]);
  }
  tf.dispose([logits, targets, dy, want, wantValue]);
});
