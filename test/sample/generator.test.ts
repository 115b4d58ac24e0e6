// The generator on a tiny random model: KV-cache decoding against full recomputation, reported log-probs against
// the trainer's, batch invariance, seeds, top-k 1 as greedy, stop strings across tokens, continuous batching.
import t from 'tap';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/train/backend.js';
import { makeConfig } from '../../src/train/config.js';
import { LlamaModel } from '../../src/train/model.js';
import { Rng } from '../../src/util/rng.js';
import { Generator, type GenerationRequest, type GeneratedSample } from '../../src/sample/generator.js';
import { BlasDecoder } from '../../src/sample/blas-decode.js';
import { LocalTextGenerator } from '../../src/sample/local-generator.js';
import type { Tokenizer } from '../../src/tokenizer/index.js';
import { NEUTRAL, type SamplingParams } from '../../src/sample/sampling.js';

// Larger than HF's 0.02 init so logits are spread and greedy choices are not near-ties.
const cfg = makeConfig(
  { vocab_size: 64, hidden_size: 32, intermediate_size: 48, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 48, tie_word_embeddings: false },
  { initializer_range: 0.3 },
);
// Every id is one lowercase letter: text positions are token positions.
const letter = (id: number) => Uint8Array.of(97 + (id % 26));

let model: LlamaModel;
t.before(async () => {
  await initBackend('wasm');
  model = LlamaModel.init(cfg, new Rng(11));
});
t.teardown(() => model.dispose());

const params = (p: Partial<SamplingParams> = {}): SamplingParams => ({ ...NEUTRAL, maxTokens: 12, ...p });
const prompts = (k: number, seed = 3): number[][] => {
  const r = new Rng(seed);
  return Array.from({ length: k }, (_, i) => Array.from({ length: 1 + ((i * 7) % 13) }, () => r.int(cfg.vocab_size)));
};

async function run(reqs: GenerationRequest[], batchSize: number, gen?: Generator): Promise<GeneratedSample[][]> {
  const g = gen ?? new Generator(model, { batchSize, tokenBytes: letter });
  const out: GeneratedSample[][] = [];
  for await (const r of g.generate(reqs)) out.push(r.samples);
  return out;
}

function argmaxLast(seq: number[]): number {
  return tf.tidy(() => {
    const logits = model.logits(tf.tensor2d(Int32Array.from(seq), [1, seq.length], 'int32'));
    return tf.argMax(tf.slice(logits, [seq.length - 1, 0], [1, -1]), 1).dataSync()[0];
  });
}

t.test('greedy decoding with the KV cache equals full recomputation at every step', async (t) => {
  const ps = prompts(6);
  const out = await run(ps.map((prompt, i) => ({ prompt, params: params({ temperature: 0, maxTokens: 30 }), stream: i })), 4);
  let steps = 0;
  for (let i = 0; i < ps.length; i++) {
    const s = out[i][0];
    t.equal(s.finishReason, 'length');
    const want: number[] = [];
    for (let k = 0; k < s.tokens.length; k++) want.push(argmaxLast([...ps[i], ...s.tokens.slice(0, k)]));
    t.same(s.tokens, want, `prompt ${i}: ${s.tokens.length} tokens`);
    steps += s.tokens.length;
  }
  t.ok(steps >= 100);
});

t.test('reported log-probs equal the trainer\'s (model.logprobs) on the same sequence', async (t) => {
  const ps = prompts(5, 9);
  const out = await run(ps.map((prompt, i) => ({ prompt, params: params({ n: 2, maxTokens: 20, seed: 5 }), stream: i })), 3);
  let worst = 0;
  for (let i = 0; i < ps.length; i++)
    for (const s of out[i]) {
      const [lp] = await model.logprobs([[...ps[i], ...s.tokens]]);
      for (let k = 0; k < s.tokens.length; k++) worst = Math.max(worst, Math.abs(lp[ps[i].length - 1 + k] - s.logprobs[k]));
      // Temperature 1, no truncation: the sampled distribution is the model's.
      s.logprobs.forEach((l, k) => t.ok(Math.abs(l - s.samplingLogprobs[k]) < 1e-9));
    }
  t.ok(worst < 1e-4, `max |sampler - trainer| = ${worst.toExponential(2)}`);
});

t.test('batch invariance: the same tokens whatever the batch size and the other sequences', async (t) => {
  const ps = prompts(7, 21);
  for (const p of [params({ temperature: 0, maxTokens: 16 }), params({ n: 3, maxTokens: 16, seed: 77, topP: 0.9 })]) {
    const reqs = ps.map((prompt, i) => ({ prompt, params: { ...p, maxTokens: 6 + ((i * 5) % 11) }, stream: i }));
    const base = await run(reqs, 1);
    for (const B of [2, 5, 16]) t.same(await run(reqs, B), base, `temperature ${p.temperature}, batch ${B}`);
    // Another mix of neighbours: the same requests shuffled among others.
    const mixed = await run([...reqs.slice(3), ...ps.map((prompt) => ({ prompt, params: params({ seed: 1234 }) })), ...reqs.slice(0, 3)], 6);
    t.same([...mixed.slice(-3), ...mixed.slice(0, reqs.length - 3)], base, 'shuffled among other requests');
  }
});

t.test('seeds: n samples reproduce, differ from each other and across seeds; top-k 1 is greedy', async (t) => {
  const [prompt] = prompts(1, 5);
  const a = await run([{ prompt, params: params({ n: 4, seed: 9, maxTokens: 16 }) }], 2);
  const b = await run([{ prompt, params: params({ n: 4, seed: 9, maxTokens: 16 }) }], 3);
  const c = await run([{ prompt, params: params({ n: 4, seed: 10, maxTokens: 16 }) }], 2);
  t.same(a, b);
  t.same(a[0].map((s) => s.index), [0, 1, 2, 3]);
  t.equal(new Set(a[0].map((s) => s.tokens.join())).size, 4, 'the 4 samples differ');
  t.not(a[0][0].tokens.join(), c[0][0].tokens.join());
  const greedy = await run([{ prompt, params: params({ temperature: 0, maxTokens: 16 }) }], 1);
  const k1 = await run([{ prompt, params: params({ topK: 1, n: 2, maxTokens: 16, temperature: 1.5 }) }], 2);
  for (const s of k1[0]) {
    t.same(s.tokens, greedy[0][0].tokens);
    t.same(s.samplingLogprobs, s.tokens.map(() => 0));
  }
});

t.test('stop strings spanning token boundaries cut the completion before them; stop token ids', async (t) => {
  const [prompt] = prompts(1, 8);
  const [[free]] = await run([{ prompt, params: params({ maxTokens: 20, seed: 4 }) }], 1);
  t.equal(free.text.length, 20);
  // Two letters from two tokens, a few tokens in.
  const at = 5;
  const stop = free.text.slice(at, at + 2);
  const first = free.text.indexOf(stop);
  const [[cut]] = await run([{ prompt, params: params({ maxTokens: 20, seed: 4, stop: ['zzzz', stop] }) }], 1);
  t.equal(cut.finishReason, 'stop');
  t.equal(cut.stopReason, stop);
  t.equal(cut.text, free.text.slice(0, first));
  t.same(cut.tokens, free.tokens.slice(0, first + 2), 'tokens run to the one completing the stop string');
  const stopId = free.tokens[7];
  const [[byId]] = await run([{ prompt, params: params({ maxTokens: 20, seed: 4, stopTokenIds: [stopId] }) }], 1);
  const k = free.tokens.indexOf(stopId);
  t.same(byId.tokens, free.tokens.slice(0, k + 1));
  t.equal(byId.text, free.text.slice(0, k));
  t.equal(byId.stopReason, stopId);
  const eos = new Generator(model, { batchSize: 1, tokenBytes: letter, eosIds: [stopId] });
  t.same((await run([{ prompt, params: params({ maxTokens: 20, seed: 4 }) }], 1, eos))[0][0], byId, 'eos stops by default');
  t.same((await run([{ prompt, params: params({ maxTokens: 20, seed: 4, ignoreEos: true }) }], 1, eos))[0][0], free, '--ignore-eos');
});

t.test('continuous batching: more samples than slots, ragged lengths, the context bounds generation', async (t) => {
  const ps = prompts(9, 30);
  const g = new Generator(model, { batchSize: 3, tokenBytes: letter });
  const reqs = ps.map((prompt, i) => ({ prompt, params: params({ n: 1 + (i % 3), maxTokens: 1 + ((i * 13) % 17), seed: i }), stream: i }));
  const out = await run(reqs, 3, g);
  t.equal(out.length, 9);
  out.forEach((samples, i) => {
    t.equal(samples.length, reqs[i].params.n);
    for (const s of samples) t.equal(s.tokens.length, reqs[i].params.maxTokens);
  });
  t.equal(g.stats.prompts, 9, 'each prompt prefilled once');
  t.equal(g.stats.generatedTokens, reqs.reduce((a, r) => a + r.params.n * r.params.maxTokens, 0));
  // A prompt of 45 tokens in a context of 48 leaves room for 4 tokens (the last one is never fed back).
  const long = Array.from({ length: 45 }, (_, i) => i % 64);
  const [[s]] = await run([{ prompt: long, params: params({ maxTokens: 100 }) }], 2);
  t.equal(s.tokens.length, 4);
  t.equal(s.finishReason, 'length');
  const whole = Array.from({ length: 48 }, (_, i) => i % 64);
  t.equal((await run([{ prompt: whole, params: params({ maxTokens: 5 }) }], 1))[0][0].tokens.length, 1, 'a prompt filling the context still gets one token');
  await t.rejects(g.submit({ prompt: [...whole, 1], params: params() }), /49 tokens, more than the model's context of 48/);
  await t.rejects(g.submit({ prompt: [], params: params() }), /empty/);
  await t.rejects(g.submit({ prompt: [64], params: params() }), /outside the model's vocabulary/);
});

t.test('concurrent submit() calls share one batch and the tensor count does not grow', async (t) => {
  const ps = prompts(6, 40);
  const g = new Generator(model, { batchSize: 4, tokenBytes: letter });
  const solo = await run(ps.map((prompt, i) => ({ prompt, params: params({ seed: i }) })), 1);
  const before = tf.memory().numTensors;
  const together = await Promise.all(ps.map((prompt, i) => g.submit({ prompt, params: params({ seed: i }) })));
  t.same(together, solo);
  t.equal(tf.memory().numTensors, before);
});

t.test('direct kernel calls agree with the tfjs ops path (tokens; log-probs to float rounding)', async (t) => {
  const direct = new Generator(model, { batchSize: 5, tokenBytes: letter });
  // The tfjs path with its own row groups (OpenBLAS) or none: its products are OpenBLAS's or XNNPACK's, the
  // direct path's native/decode.cc's, so the bits differ; the tokens and the numbers must not, beyond rounding.
  const viaTf = new Generator(model, { batchSize: 5, tokenBytes: letter, directKernels: false });
  if (!BlasDecoder.for(model)) t.comment('direct path not available here (no native addon): both runs take the tfjs ops');
  else t.equal(direct.rowGroup, 0, 'the direct path needs no row groups');
  const ps = prompts(7, 50);
  const reqs = ps.map((prompt, i) => ({ prompt, params: params({ n: 2, maxTokens: 14, seed: i, temperature: 0.8 }), stream: i }));
  const [a, b] = [await run(reqs, 5, direct), await run(reqs, 5, viaTf)];
  let worst = 0;
  a.forEach((samples, i) =>
    samples.forEach((s, j) => {
      t.same(s.tokens, b[i][j].tokens, `request ${i} sample ${j}`);
      s.logprobs.forEach((l, k) => (worst = Math.max(worst, Math.abs(l - b[i][j].logprobs[k]))));
    }),
  );
  t.ok(worst < 1e-4, `max |direct - tfjs| log-prob ${worst.toExponential(2)}`);
});

t.test('LocalTextGenerator: the TextGenerator interface of eval over the generator', async (t) => {
  // Text as bytes, each byte a token of the tiny vocabulary; the letters come back out.
  const tok = { encode: (s: string) => [...Buffer.from(s)].map((b) => b % cfg.vocab_size) } as unknown as Tokenizer;
  const local = new LocalTextGenerator('tiny', new Generator(model, { batchSize: 4, tokenBytes: letter }), tok);
  const req = { prompt: 'Q: 1+1?', maxTokens: 12, temperature: 0.9, n: 3, stop: ['e'], seed: 4 };
  const [a, b] = await Promise.all([local.generate(req), local.generate(req)]);
  t.same(a, b, 'the same request, the same samples, even sharing a batch');
  t.equal(a.length, 3);
  for (const c of a) {
    t.equal(c.tokens!.length, c.logprobs!.length);
    t.notOk(c.text.includes('e'));
    if (c.finishReason === 'length') t.equal(c.tokens!.length, 12);
  }
  t.notSame(a[0].tokens, a[1].tokens);
});

t.test('an aborted request leaves the batch at once; the others go on unchanged', async (t) => {
  const ps = prompts(4, 60);
  const g = new Generator(model, { batchSize: 2, tokenBytes: letter });
  const alone = await run(ps.slice(1).map((prompt, i) => ({ prompt, params: params({ seed: i, maxTokens: 30 }) })), 2);
  const ac = new AbortController();
  const long = g.submit({ prompt: ps[0], params: params({ n: 3, maxTokens: 40, seed: 9 }) }, ac.signal);
  const others = Promise.all(ps.slice(1).map((prompt, i) => g.submit({ prompt, params: params({ seed: i, maxTokens: 30 }) })));
  setImmediate(() => ac.abort(new Error('client went away')));
  await t.rejects(long, /client went away/);
  t.same(await others, alone);
  await t.rejects(g.submit({ prompt: ps[0], params: params() }, ac.signal), /client went away/, 'an aborted signal is refused at once');
  // Breaking off a generate() cancels its own requests only.
  const bystander = g.submit({ prompt: ps[1], params: params({ seed: 0, maxTokens: 30 }) });
  for await (const _ of g.generate(ps.map((prompt) => ({ prompt, params: params({ maxTokens: 20 }) })))) break;
  t.same(await bystander, alone[0]);
});
