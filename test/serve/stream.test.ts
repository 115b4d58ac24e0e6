// Generator.submit's onToken (what `serve` streams from): one event per token with the logits row it was drawn
// from, text deltas that add up to the sample's text and never show a stop string (held back while it could
// start one), finish reason on the last event; a callback that throws cancels its own request only.
import t from 'tap';
import { initBackend } from '../../src/train/backend.js';
import { makeConfig } from '../../src/train/config.js';
import { LlamaModel } from '../../src/train/model.js';
import { Rng } from '../../src/util/rng.js';
import { Generator, type TokenEvent } from '../../src/sample/generator.js';
import { NEUTRAL, type SamplingParams } from '../../src/sample/sampling.js';
import { logSumExp, topTokens } from '../../src/serve/engine.js';

const cfg = makeConfig(
  { vocab_size: 64, hidden_size: 32, intermediate_size: 48, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 64, tie_word_embeddings: false },
  { initializer_range: 0.3 },
);
// Ids 0..25 are one letter, 26..51 a two-byte character (U+00C0 + i), 52..63 an emoji (four bytes, two UTF-16
// units), so text positions and token positions differ.
const bytes = (id: number) =>
  id < 26 ? Uint8Array.of(97 + id) : Uint8Array.from(Buffer.from(id < 52 ? String.fromCharCode(0xc0 + id - 26) : String.fromCodePoint(0x1f600 + id - 52)));

let model: LlamaModel;
t.before(async () => {
  await initBackend('wasm');
  model = LlamaModel.init(cfg, new Rng(5));
});
t.teardown(() => model.dispose());

const params = (p: Partial<SamplingParams> = {}): SamplingParams => ({ ...NEUTRAL, maxTokens: 24, ...p });
const prompt = [3, 1, 4, 1, 5, 9, 2, 6];

t.test('one event per token, deltas add up to the text, the last one carries the finish', async (t) => {
  const g = new Generator(model, { batchSize: 4, tokenBytes: bytes });
  const events: TokenEvent[] = [];
  const samples = await g.submit({ prompt, params: params({ n: 3, seed: 2 }) }, undefined, {
    onToken: (e) => {
      const lse = e.logits[e.token] - e.logprob;
      t.ok(Math.abs(lse - logSumExp(e.logits)) < 1e-4, 'the logits row is the one the token was drawn from');
      events.push({ ...e, logits: new Float32Array(0) });
    },
  });
  for (const s of samples) {
    const mine = events.filter((e) => e.index === s.index);
    t.same(mine.map((e) => e.token), s.tokens);
    t.same(mine.map((e) => e.logprob), s.logprobs);
    t.equal(mine.map((e) => e.delta).join(''), s.text);
    t.same(mine.map((e) => e.finishReason), [...s.tokens.slice(1).map(() => undefined), s.finishReason]);
    t.equal(mine.at(-1)!.stopReason, s.stopReason);
  }
});

t.test('stop strings: the deltas never show one, even across tokens; the text is the same as without onToken', async (t) => {
  const g = new Generator(model, { batchSize: 2, tokenBytes: bytes });
  const [free] = await g.submit({ prompt, params: params({ seed: 7, ignoreEos: true }) });
  t.ok(Array.from(free.text).length >= 12);
  t.ok(/[\u{1f600}-\u{1f60b}]/u.test(free.text), 'some emoji in the text');
  const chars = Array.from(free.text);
  for (const at of [2, 5, 9]) {
    const stop = chars.slice(at, at + 3).join('');
    const seen: string[] = [];
    const [s] = await g.submit({ prompt, params: params({ seed: 7, ignoreEos: true, stop: [stop, 'zzzzzz'] }) }, undefined, { onToken: (e) => seen.push(e.delta) });
    const [plain] = await g.submit({ prompt, params: params({ seed: 7, ignoreEos: true, stop: [stop, 'zzzzzz'] }) });
    t.same(s, plain, 'onToken changes nothing');
    t.equal(s.finishReason, 'stop');
    t.equal(seen.join(''), s.text);
    let sofar = '';
    for (const d of seen) {
      sofar += d;
      t.notOk(sofar.includes(stop), 'no delta shows the stop string');
      t.notOk(/[\ud800-\udbff]$/.test(sofar), 'no delta ends inside a surrogate pair');
    }
  }
});

t.test('a callback that throws cancels its own request; others in the batch go on', async (t) => {
  const g = new Generator(model, { batchSize: 4, tokenBytes: bytes });
  const [alone] = await g.submit({ prompt, params: params({ seed: 1, maxTokens: 30, ignoreEos: true }) });
  let calls = 0;
  const bad = g.submit({ prompt: [7, 7], params: params({ n: 2, maxTokens: 30, ignoreEos: true }) }, undefined, {
    onToken: () => {
      if (++calls === 3) throw new Error('stream broke');
    },
  });
  const good = g.submit({ prompt, params: params({ seed: 1, maxTokens: 30, ignoreEos: true }) }, undefined, { onToken: () => {} });
  await t.rejects(bad, /stream broke/);
  t.ok(calls < 10, `the failed request stopped decoding (${calls} events)`);
  t.same((await good)[0], alone);
  // Thrown on the very last token: still a rejection, never a result.
  let n = 0;
  await t.rejects(
    g.submit({ prompt, params: params({ maxTokens: 3, ignoreEos: true }) }, undefined, {
      onToken: () => {
        if (++n === 3) throw new Error('last one');
      },
    }),
    /last one/,
  );
});

t.test('topTokens: the k largest, ties to the lower id, NaN and -Infinity never', async (t) => {
  const row = Float32Array.from([0.5, 2, NaN, 2, -Infinity, 3, 1, 2]);
  t.same(topTokens(row, 1), [5]);
  t.same(topTokens(row, 4), [5, 1, 3, 7]);
  t.same(topTokens(row, 0), []);
  t.same(topTokens(row, 20), [5, 1, 3, 7, 6, 0]);
  const r = new Rng(3);
  const big = Float32Array.from({ length: 1000 }, () => Math.round(r.next() * 50));
  const want = [...big.keys()].sort((a, b) => big[b] - big[a] || a - b).slice(0, 20);
  t.same(topTokens(big, 20), want);
});
