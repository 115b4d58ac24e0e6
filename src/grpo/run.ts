// `mathpipe grpo`: the RL loop on the shared training session. One step:
//   draw questions -> G outputs each from the policy as it is now (pi_old; sampler and trainer are one model in one
//   process, so there are no weights to synchronise) -> rewards (the answer checker; or step rewards from a process
//   scorer) -> advantages -> reference log-probs -> mu updates of the clipped objective (src/grpo/loss.ts) -> metrics.
// Questions are drawn in a shuffled order per epoch (a function of --seed and the epoch), and output j of the
// question drawn at position p of epoch e samples from RNG stream (seed, e * questions + p, j): the cursor is all a
// resumed run needs to draw, sample and train exactly what the uninterrupted run would have.
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from '../cli/errors.js';
import { info, warn } from '../cli/log.js';
import { writeOutputFile } from '../cli/output-file.js';
import { loadTokenizer } from '../tokenizer/index.js';
import { chatFormat } from '../sample/chat.js';
import { Generator, type GeneratedSample } from '../sample/generator.js';
import type { SamplingParams } from '../sample/sampling.js';
import { findCheckpoint, openCheckpoint } from '../train/checkpoint.js';
import type { LlamaConfig } from '../train/config.js';
import { LlamaModel } from '../train/model.js';
import { Rng } from '../util/rng.js';
import type { TrainingArgs } from '../train/options.js';
import { TrainingSession, openInit, openRun, runConfig, tokenizerWriter, type StepResult } from '../train/session.js';
import type { SampleResult } from '../eval/metrics.js';
import type { ExtractMode } from '../checker/extract.js';
import { STD_EPS, informative, outcomeAdvantages, overlongPenalty, processAdvantages, stepEnds, stepTexts, type StepSeparator } from './advantages.js';
import { Iterations, openRewardModel, rewardModelScores, type IterativeSettings } from './iterative.js';
import { promptRecord } from './options.js';
import { eosIds, readQuestions, ruleReward, type PromptFormat, type Question, type QuestionFields, type Reward } from './data.js';
import { grpoGradients, klValue, referenceLogprobs, tokenWeights, type LossBatch, type LossSettings } from './loss.js';
import { PRESETS, checkConfig, describeConfig, resolveConfig, type GrpoConfig, type Resolved } from './presets.js';
import { StepScorer } from './step-scorer.js';
import * as tf from '@tensorflow/tfjs';

export interface GrpoOptions extends TrainingArgs {
  inputs: string[];
  valid?: string;
  /** Reference checkpoint (default: the starting policy); "none" runs without one (beta must be 0). */
  reference?: string;
  preset?: string;
  /** Knobs given on the command line (undefined: the preset's). */
  flags: Partial<Record<keyof GrpoConfig, unknown>>;
  fields: QuestionFields;
  prompt: { template: string; chat: boolean; chatTemplate?: string; system?: string; bos: boolean };
  extract: ExtractMode;
  symbolic: boolean;
  stop: string[];
  topP: number;
  stepScorer?: string;
  stepSeparator: StepSeparator;
  /** --step-marker was given (else the separator is the default, and a PRM's own applies). */
  stepMarkerGiven: boolean;
  /** A reward model directory (grpo rm train). */
  rewardModel?: string;
  rmWeight: number;
  /** Iterative RL: iterations the steps are split into. */
  iterations: number;
  iterative: IterativeSettings;
  skipInvalid: boolean;
  epochs: number;
  warmup: number;
  microBatch: number;
  genBatch: number;
  /** Dynamic sampling: questions drawn at most per step, as a multiple of the batch. */
  maxDraws: number;
  evalSamples: number;
  seed: number;
}

/** The reference model, and a digest of its weights: a resumed run must use the same one. */
function loadReference(path: string, policy: LlamaConfig): { model: LlamaModel; id: { path: string; sha256: string } } {
  const dir = findCheckpoint(path);
  if (!dir) throw new UsageError(`--reference ${path}: no checkpoint there (config.json missing)`);
  const ck = openCheckpoint(dir);
  const keys = ['vocab_size', 'hidden_size', 'num_hidden_layers', 'num_attention_heads', 'num_key_value_heads', 'intermediate_size', 'tie_word_embeddings'] as const;
  const diff = keys.filter((k) => ck.config[k] !== policy[k]);
  if (diff.length) {
    ck.weights.close();
    throw new UsageError(`--reference ${path}: ${diff.map((k) => `${k} ${String(ck.config[k])}`).join(', ')}; the policy has ${diff.map((k) => `${k} ${String(policy[k])}`).join(', ')}`);
  }
  const h = createHash('sha256');
  try {
    const model = LlamaModel.fromTensors(ck.config, (n) => {
      const t = ck.weights.get(n);
      const d = t.data as Float32Array;
      h.update(n);
      h.update(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
      return t;
    }, `${dir}/model.safetensors`, { namePrefix: 'reference.', trainable: false });
    return { model, id: { path: resolve(dir), sha256: h.digest('hex') } };
  } finally {
    ck.weights.close();
  }
}

/** The order questions are drawn in during an epoch. */
function epochOrder(n: number, seed: number, epoch: number): Uint32Array {
  const order = Uint32Array.from({ length: n }, (_, i) => i);
  const rng = new Rng(seed * 1000003 + epoch * 7919 + 17);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/** A question's G outputs and what they earned. */
interface Group {
  q: Question;
  samples: GeneratedSample[];
  rewards: Reward[];
  /** Final rewards (shaping, and KL in the reward, applied); null: left out. */
  final: (number | null)[];
  /** Process supervision: per output, its step ends and step rewards. */
  steps?: { ends: number[]; rewards: number[] | null }[];
  /** A learned reward's mean probability over the group (an ORM's, a PRM's at the last step). */
  rmScore?: number;
}

/** An output as a training row: its sequence, which positions train, and where its tokens sit. */
interface Row {
  group: number;
  sample: number;
  seq: number[];
  /** Position (target index) of the output's first token. */
  from: number;
  n: number;
}

const round = (x: number, d = 6) => Number(x.toFixed(d));

export async function runGrpo(o: GrpoOptions): Promise<void> {
  const target = await openRun(o);
  const { resumed } = target;
  if (!resumed && !o.init) throw new UsageError('--init CHECKPOINT (the policy to start from) is required');
  const init = o.init && !resumed ? openInit(o.init) : undefined;
  const from = (resumed ?? init)!;
  const saved = resumed?.state?.fingerprint as { grpo?: GrpoConfig; preset?: string; reference?: { path: string; sha256: string } | null; init?: string } | undefined;

  // The loss settings: the preset (or the resumed run's), flags on top; every value said once.
  const preset = o.preset ?? saved?.preset ?? 'deepseekmath';
  const resolved: Resolved = resolveConfig(preset, o.flags, o.preset ? undefined : saved?.grpo);
  const cfg = resolved.config;
  const bad = checkConfig(cfg);
  if (bad.length) throw new UsageError(bad.join('; '));
  const refPath = o.reference ?? (saved ? (saved.reference === null ? 'none' : saved.reference?.path) : o.init);
  if (refPath === 'none' && cfg.beta > 0) throw new UsageError(`--beta ${cfg.beta} needs a reference model (--reference none is for beta 0)`);
  info(`preset ${preset}: ${PRESETS[preset].describe}`);
  info(describeConfig(resolved));
  info(`lr ${o.lr} (${o.schedule}, warmup ${o.warmup}), weight decay ${o.weightDecay}, clip ${o.clip}, micro-batch ${o.microBatch} outputs, ${o.stepScorer ? `process rewards from --step-scorer, ${o.stepSeparator.kind === 'marker' ? `steps end with ${JSON.stringify(o.stepSeparator.text)}` : 'steps end at blank lines'}` : 'outcome rewards from the answer checker'}`);

  const tok = loadTokenizer(from.dir);
  const chat = o.prompt.chat ? chatFormat(from.dir, tok, o.prompt.chatTemplate) : undefined;
  if (chat) info(`chat template: ${chat.source}`);
  const context = (resumed ?? init)!.config.max_position_embeddings;
  const config = runConfig({ seqLen: 1, defaultModel: 'tiny' }, { resumed, init }, tok);
  const format: PromptFormat = { template: o.prompt.template, chat, system: o.prompt.system, bos: o.prompt.bos };
  const questions = await readQuestions(o.inputs, o.fields, format, tok, context, o.skipInvalid);
  const valid = o.valid ? await readQuestions([o.valid], o.fields, format, tok, context, o.skipInvalid) : undefined;
  const longest = Math.max(...questions.map((q) => q.prompt.length));
  if (longest + cfg.max_tokens > context) warn(`prompts up to ${longest} tokens + --max-tokens ${cfg.max_tokens} exceed the context of ${context}: outputs stop at the context (counted as truncated)`);
  const steps = o.steps ?? Math.max(1, Math.ceil((o.epochs * questions.length) / cfg.batch_size));
  info(`${questions.length} questions, ${steps} steps of ${cfg.batch_size} questions x ${cfg.group_size} outputs${valid ? `; ${valid.length} held-out questions every ${o.evalInterval} steps` : ''}`);

  const ref = refPath && refPath !== 'none' ? loadReference(refPath, config) : undefined;
  if (ref && saved?.reference && ref.id.sha256 !== saved.reference.sha256) {
    ref.model.dispose();
    throw new UsageError(`--resume: the reference ${ref.id.path} has other weights than the saved run's (${saved.reference.path}); it must not change`);
  }

  // A learned reward, and iterative RL (src/grpo/iterative.ts).
  const promptRec = promptRecord(o.prompt);
  const rm = o.rewardModel
    ? openRewardModel(o.rewardModel, { resumedDir: resumed?.dir, prompt: promptRec, vocab: config.vocab_size, marker: o.stepMarkerGiven ? o.stepSeparator : undefined, trainable: o.iterations > 1 })
    : undefined;
  const prm = rm?.rm.kind === 'prm';
  let iterations: Iterations | undefined;
  const savedIter = (saved as { iterations?: { count: number; steps: number } } | undefined)?.iterations;
  const iterSteps = savedIter && savedIter.count === o.iterations ? savedIter.steps : Math.ceil(steps / o.iterations);
  if (o.iterations > 1) info(`iterative RL: ${o.iterations} iterations of ${iterSteps} steps; between two the reference resets to the policy${rm ? `, and the reward model retrains on ${o.iterative.questions} questions x ${o.iterative.samples} samples of the policy${prm ? ` (step labels from ${o.iterative.rollouts} rollouts, rule ${o.iterative.rule})` : ''} with ${o.iterative.replay} replay` : ''}`);

  let cursor = { epoch: 0, next: 0 };
  const fingerprint = {
    trainer: 'grpo',
    data: o.inputs,
    fields: o.fields,
    prompt: { template: o.prompt.template, chat: o.prompt.chat, system: o.prompt.system ?? null, bos: o.prompt.bos },
    extract: o.extract,
    preset,
    grpo: cfg,
    reference: ref ? ref.id : null,
    process: o.stepScorer ? { scorer: o.stepScorer, separator: o.stepSeparator } : null,
    micro_batch: o.microBatch,
    seed: o.seed,
    ...(o.rewardModel ? { reward_model: { path: resolve(o.rewardModel), kind: rm!.rm.kind, weight: o.rmWeight } } : {}),
    ...(o.iterations > 1 ? { iterations: { count: o.iterations, steps: iterSteps, ...(rm ? o.iterative : {}) } } : {}),
  };
  const writeTokenizer = tokenizerWriter(target.out, undefined, from);
  const session = new TrainingSession({
    target,
    init,
    config,
    fingerprint,
    schedule: { name: o.schedule, lr: o.lr, warmup: o.warmup, totalSteps: steps },
    optimizer: { beta1: o.beta1, beta2: o.beta2, eps: o.eps, weightDecay: o.weightDecay, clip: o.clip },
    seed: o.seed,
    writeTokenizer: (dir) => {
      writeTokenizer?.(dir);
      if (o.prompt.chatTemplate && chat) {
        const path = join(dir, 'tokenizer_config.json');
        const c = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>) : {};
        writeOutputFile(path, JSON.stringify({ ...c, chat_template: chat.template }, null, 2) + '\n');
      }
      writeOutputFile(join(dir, 'grpo_config.json'), JSON.stringify({ preset, overridden: resolved.overridden.map(String), ...cfg, lr: o.lr, schedule: o.schedule, warmup: o.warmup, reference: fingerprint.reference, process: fingerprint.process, reward_model: fingerprint.reward_model ?? null, iterations: fingerprint.iterations ?? null }, null, 2) + '\n');
      iterations?.save(dir);
    },
    extraState: () => ({ packed: [{ ...cursor }] }),
  });
  if (session.state0?.packed?.[0]) cursor = { ...session.state0.packed[0] };

  const gen = new Generator(session.model, { batchSize: o.genBatch, eosIds: eosIds(from.dir, tok, chat), tokenBytes: (id) => tok.tokenBytes(id), caps: target.backend.caps });
  const scorer = o.stepScorer ? new StepScorer(o.stepScorer) : undefined;
  const bytesOf = (id: number): Uint8Array => {
    try {
      return tok.tokenBytes(id);
    } catch {
      return new Uint8Array(0);
    }
  };
  const sampling = (n: number, temperature: number, seed: number): SamplingParams => ({ temperature, topP: o.topP, topK: 0, minP: 0, maxTokens: cfg.max_tokens, stop: o.stop, stopTokenIds: [], ignoreEos: false, n, seed });
  const grade = { extract: o.extract, symbolic: o.symbolic };
  const settings: LossSettings = { epsilon: cfg.epsilon, epsilonHigh: cfg.epsilon_high, beta: cfg.kl_in === 'loss' ? cfg.beta : 0, klEstimator: cfg.kl_estimator, ratio: cfg.ratio };
  const overlong = Math.round(cfg.overlong_buffer * cfg.max_tokens);
  if (o.iterations > 1) {
    iterations = new Iterations({ policy: session.model, reference: ref?.model, rm, gen, tok, format, questions, grade, sampling: (n, seed) => sampling(n, cfg.temperature, seed), bytesOf, seed: o.seed, context, microBatch: o.microBatch, settings: o.iterative, caps: target.backend.caps });
    // Boundary i (the start of step i x L + 1) is done once the run is past step i x L.
    if (resumed) iterations.restore(resumed.dir, Math.floor((session.step - 1) / iterSteps));
  }
  let order = epochOrder(questions.length, o.seed, cursor.epoch);

  /** Draw the next question: its index and its RNG stream. */
  const draw = (): { q: Question; stream: number } => {
    if (cursor.next >= questions.length) {
      cursor = { epoch: cursor.epoch + 1, next: 0 };
      order = epochOrder(questions.length, o.seed, cursor.epoch);
    }
    const stream = cursor.epoch * questions.length + cursor.next;
    return { q: questions[order[cursor.next++]], stream };
  };

  async function rollout(n: number, time: { gen: number; reward: number }): Promise<Group[]> {
    const drawn = Array.from({ length: n }, draw);
    let t = performance.now();
    const outs = await Promise.all(drawn.map((d) => gen.submit({ prompt: d.q.prompt, params: sampling(cfg.group_size, cfg.temperature, o.seed), stream: d.stream })));
    time.gen += (performance.now() - t) / 1000;
    t = performance.now();
    const groups: Group[] = drawn.map((d, i) => {
      const rewards = outs[i].map((s) => ruleReward(s.text, d.q.gold, { correct: cfg.correct_weight, format: cfg.format_weight }, grade));
      const final = rewards.map((r, j) => (r.reward === null ? null : r.reward + (overlong ? overlongPenalty(outs[i][j].tokens.length, cfg.max_tokens, overlong) : 0)));
      return { q: d.q, samples: outs[i], rewards, final };
    });
    if (rm) {
      // The learned reward: an ORM's probability joins each output's reward; a PRM's become the step rewards, the
      // output's rule reward added to its last step.
      const scored = rewardModelScores(rm, groups.flatMap((g) => g.samples.map((sample) => ({ prompt: g.q.prompt, sample }))), bytesOf, tok.pad, o.microBatch);
      let k = 0;
      for (const g of groups) {
        if (prm) g.steps = [];
        g.samples.forEach((_, j) => {
          const { probs, ends } = scored[k++];
          g.rmScore = (g.rmScore ?? 0) + probs[probs.length - 1] / g.samples.length;
          const f = g.final[j];
          if (!prm) g.final[j] = f === null ? null : f + o.rmWeight * probs[0];
          else g.steps!.push({ ends, rewards: f === null ? null : probs.map((p, s) => o.rmWeight * p + (s === probs.length - 1 ? f : 0)) });
        });
      }
    }
    time.reward += (performance.now() - t) / 1000;
    return groups;
  }

  async function update(_rng: Rng, lr: number): Promise<StepResult> {
    const time = { gen: 0, reward: 0, ref: 0, train: 0, iteration: 0 };
    let boundary: Record<string, number> = {};
    if (iterations && session.step > 0 && session.step % iterSteps === 0) {
      const t = performance.now();
      boundary = await iterations.begin(session.step / iterSteps);
      time.iteration = (performance.now() - t) / 1000;
    }
    const genTokens0 = gen.stats.generatedTokens;
    // Questions and their outputs; with dynamic sampling, groups whose rewards are all equal are replaced.
    const drawnGroups: Group[] = [];
    let groups: Group[] = [];
    const limit = o.maxDraws * cfg.batch_size;
    while (groups.length < cfg.batch_size && drawnGroups.length < limit) {
      const fresh = await rollout(Math.min(cfg.batch_size - groups.length, limit - drawnGroups.length), time);
      drawnGroups.push(...fresh);
      groups.push(...fresh.filter((g) => !cfg.dynamic_sampling || informative(g.final)));
      if (!cfg.dynamic_sampling) break;
    }
    groups = groups.slice(0, cfg.batch_size);

    // Process supervision: the scorer's step rewards.
    if (scorer) {
      const t = performance.now();
      const reqs = groups.flatMap((g) =>
        g.samples.map((s, j) => {
          const bytes = s.tokens.map(bytesOf);
          const ends = stepEnds(bytes, o.stepSeparator);
          return { ends, req: { question: g.q.question, gold: g.q.gold, completion: s.text, steps: stepTexts(bytes, ends), correct: g.rewards[j].correct } };
        }),
      );
      const scores = await scorer.score(reqs.map((r) => r.req));
      let k = 0;
      for (const g of groups) g.steps = g.samples.map(() => ({ ends: reqs[k].ends, rewards: scores[k++] }));
      time.reward += (performance.now() - t) / 1000;
    }

    // Rows: every output with a reward (and, with --mask-truncated, not cut by max-tokens).
    const G = cfg.group_size;
    const rows: Row[] = [];
    groups.forEach((g, gi) =>
      g.samples.forEach((s, j) => {
        const scored = g.final[j] !== null && (!g.steps || g.steps[j].rewards !== null);
        if (!scored || !s.tokens.length || (cfg.mask_truncated && s.finishReason === 'length')) return;
        const seq = [...g.q.prompt, ...s.tokens];
        rows.push({ group: gi, sample: j, seq, from: g.q.prompt.length - 1, n: s.tokens.length });
      }),
    );
    const micro: (LossBatch & { rows: Row[] })[] = [];
    for (let i = 0; i < rows.length; i += o.microBatch) {
      const rs = rows.slice(i, i + o.microBatch);
      const B = rs.length;
      const T = Math.max(...rs.map((r) => r.seq.length - 1));
      const b = { B, T, rows: rs, ids: new Int32Array(B * T).fill(tok.pad), targets: new Int32Array(B * T).fill(tok.pad), mask: new Float32Array(B * T), weights: new Float32Array(B * T), adv: new Float32Array(B * T) };
      rs.forEach((r, k) => {
        for (let p = 0; p < r.seq.length - 1; p++) {
          b.ids[k * T + p] = r.seq[p];
          b.targets[k * T + p] = r.seq[p + 1];
        }
        b.mask.fill(1, k * T + r.from, k * T + r.from + r.n);
      });
      micro.push(b);
    }

    // Reference log-probs; with the KL in the reward, each output's summed KL (at pi_old: the sampler's log-probs).
    if (ref) {
      const t = performance.now();
      for (const b of micro) b.ref = referenceLogprobs(ref.model, b);
      time.ref += (performance.now() - t) / 1000;
      if (cfg.kl_in === 'reward' && cfg.beta > 0)
        for (const b of micro)
          b.rows.forEach((r, k) => {
            const s = groups[r.group].samples[r.sample];
            let kl = 0;
            for (let i = 0; i < r.n; i++) kl += klValue(s.logprobs[i], b.ref![k * b.T + r.from + i], cfg.kl_estimator);
            groups[r.group].final[r.sample]! -= cfg.beta * kl;
          });
    }

    // Advantages, and each token's weight in the step's loss.
    const advOpts = { scope: cfg.std_scope, baseline: cfg.baseline === 'mean', eps: STD_EPS };
    let tokenAdv: (r: Row) => (k: number) => number;
    if (scorer || prm) {
      const adv = processAdvantages(
        groups.flatMap((g) => g.samples.map((s, j) => ({ rewards: g.steps![j].rewards, ends: g.steps![j].ends, length: s.tokens.length }))),
        G,
        { ...advOpts, aggregation: cfg.step_aggregation },
      );
      tokenAdv = (r) => (k) => adv[r.group * G + r.sample]![k];
    } else {
      const adv = outcomeAdvantages(groups.flatMap((g) => g.final), G, advOpts);
      tokenAdv = (r) => () => adv[r.group * G + r.sample]!;
    }
    const w = tokenWeights(rows.map((r) => r.n), cfg.aggregation, cfg.max_tokens);
    let ri = 0;
    for (const b of micro)
      b.rows.forEach((r, k) => {
        const a = tokenAdv(r);
        for (let i = 0; i < r.n; i++) {
          b.adv[k * b.T + r.from + i] = a(i);
          b.weights[k * b.T + r.from + i] = w[ri];
        }
        ri++;
      });

    // mu updates: the first on-policy (pi_old is the policy, its log-probs kept for the others).
    let loss = 0;
    let gradNorm = 0;
    const trainedTokens = rows.reduce((a, r) => a + r.n, 0);
    const stats = { kl: 0, entropy: 0, clipLow: 0, clipHigh: 0, gap: 0, gapMax: 0 };
    const t = performance.now();
    if (micro.length) {
      for (let it = 0; it < cfg.mu; it++) {
        const g = await grpoGradients(session.model, micro, settings, { entropy: it === 0 });
        const norm = await session.opt.step(g.grads, lr);
        tf.dispose([...g.grads.values()]);
        stats.clipLow += g.clipLow / trainedTokens / cfg.mu;
        stats.clipHigh += g.clipHigh / trainedTokens / cfg.mu;
        if (it > 0) continue;
        loss = g.loss;
        gradNorm = norm;
        stats.kl = g.kl / trainedTokens;
        stats.entropy = (g.entropy ?? 0) / trainedTokens;
        micro.forEach((b, m) => {
          b.old = g.logp[m];
          b.rows.forEach((r, k) => {
            const s = groups[r.group].samples[r.sample];
            for (let i = 0; i < r.n; i++) {
              const d = Math.abs(s.logprobs[i] - b.old![k * b.T + r.from + i]);
              stats.gap += d / trainedTokens;
              stats.gapMax = Math.max(stats.gapMax, d);
            }
          });
        });
      }
    } else warn(`step ${session.step + 1}: no output to train on (${drawnGroups.length} groups drawn${cfg.dynamic_sampling ? ', all with equal rewards' : ''}); no update`);
    time.train = (performance.now() - t) / 1000;

    // Metrics over everything sampled this step (the policy's behaviour), and over what was trained.
    const all = drawnGroups.flatMap((g) => g.samples.map((s, j) => ({ s, r: g.rewards[j], f: g.final[j] })));
    const finals = all.map((x) => x.f).filter((x): x is number => x !== null);
    const mean = finals.reduce((a, b) => a + b, 0) / Math.max(1, finals.length);
    const genTokens = gen.stats.generatedTokens - genTokens0;
    const metrics: Record<string, number> = {
      reward_mean: round(mean),
      reward_std: round(Math.sqrt(finals.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, finals.length))),
      accuracy: round(all.filter((x) => x.r.correct).length / all.length),
      format_rate: round(all.filter((x) => x.r.formatted).length / all.length),
      zero_var_groups: round(drawnGroups.filter((g) => !informative(g.final)).length / drawnGroups.length),
      ...(cfg.dynamic_sampling ? { groups: groups.length, groups_dropped: drawnGroups.length - groups.length } : {}),
      skipped: all.filter((x) => x.f === null).length,
      ...(ref && micro.length ? { kl: round(stats.kl, 8) } : {}),
      clip_low: round(stats.clipLow),
      clip_high: round(stats.clipHigh),
      entropy: round(stats.entropy),
      response_len: round(all.reduce((a, x) => a + x.s.tokens.length, 0) / all.length, 2),
      truncated: round(all.filter((x) => x.s.finishReason === 'length').length / all.length),
      logprob_gap: round(stats.gap, 9),
      logprob_gap_max: round(stats.gapMax, 9),
      trained_tokens: trainedTokens,
      gen_tokens_per_s: Math.round(genTokens / Math.max(time.gen, 1e-9)),
      train_tokens_per_s: Math.round((cfg.mu * rows.reduce((a, r) => a + r.seq.length - 1, 0)) / Math.max(time.train, 1e-9)),
      time_gen: round(time.gen, 3),
      time_reward: round(time.reward, 3),
      time_ref: round(time.ref, 3),
      time_train: round(time.train, 3),
      ...(rm ? { rm_score: round(groups.reduce((a, g) => a + (g.rmScore ?? 0), 0) / Math.max(1, groups.length)) } : {}),
      ...(iterations ? { iteration: Math.floor((session.step) / iterSteps) + 1, ...boundary, ...(time.iteration ? { time_iteration: round(time.iteration, 3) } : {}) } : {}),
      epoch: cursor.epoch,
    };
    return { loss, gradNorm, tokens: rows.reduce((a, r) => a + r.seq.length - 1, 0), metrics };
  }

  /** Held-out: greedy accuracy, and pass@k / maj@k over --eval-samples outputs at the training temperature, fixed seed. */
  async function evaluate(): Promise<Record<string, number>> {
    const qs = valid!;
    const seed = o.seed + 0x5eed;
    const greedy = await Promise.all(qs.map((q, i) => gen.submit({ prompt: q.prompt, params: sampling(1, 0, seed), stream: i })));
    const out: Record<string, number> = { valid_greedy_accuracy: round(greedy.filter((s, i) => ruleReward(s[0].text, qs[i].gold, { correct: 1, format: 0 }, grade).correct).length / qs.length) };
    if (o.evalSamples > 1) {
      const sampled = await Promise.all(qs.map((q, i) => gen.submit({ prompt: q.prompt, params: sampling(o.evalSamples, cfg.temperature, seed), stream: i })));
      const results: SampleResult[] = sampled.map((ss, i) => {
        const g = ss.map((s) => ruleReward(s.text, qs[i].gold, { correct: 1, format: 0 }, grade));
        return { id: qs[i].id, extracted: g.map((x) => x.pred), correct: g.map((x) => x.correct) };
      });
      const ks = [1, 4, 16, 64].filter((k) => k <= o.evalSamples);
      const { metrics } = await import('../eval/metrics.js');
      const m = metrics(results, ks, o.seed);
      out.valid_mean_accuracy = round(m.mean_accuracy);
      for (const k of ks) out[`valid_pass@${k}`] = round(m.pass_at_k[k]);
      for (const k of ks) if (k > 1) out[`valid_maj@${k}`] = round(m.maj_at_k[k]);
    }
    return out;
  }

  try {
    // The starting policy's held-out numbers, so a run shows what RL changed.
    if (valid && session.step === 0) {
      const line = JSON.stringify({ step: 0, ...(await evaluate()) }) + '\n';
      if (o.log) {
        mkdirSync(dirname(o.log), { recursive: true });
        appendFileSync(o.log, line);
      }
      else process.stdout.write(line);
    }
    await session.train({ steps, seqLen: context, logInterval: o.logInterval, evalInterval: o.evalInterval, saveInterval: o.saveInterval, log: o.log, update, evaluate: valid ? evaluate : undefined });
  } finally {
    scorer?.close();
    iterations?.dispose();
    rm?.dispose();
    session.dispose();
    ref?.model.dispose();
    tok.free();
  }
}
