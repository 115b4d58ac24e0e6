// The mathpipe side of bench/sample: generation speed of the Generator (what `mathpipe sample` runs) on a
// random-init model of the given shape. Prints one JSON line: prefill tokens/s (one prompt of --prompt tokens at a
// time, as sample prefills), and decode tokens/s at each batch size (every slot generating --tokens tokens,
// temperature 1, no stops; prefill time excluded) with the shares of that time in the model, in sampling and in
// the rest, plus the row group the products ran in (0: one call for the
// whole batch), which single-token attention and which sampler ran, and the bytes of weights a step reads.
// Usage: node dist/bench/sample/bench.js [--vocab 512] [--d 128] [--layers 2] [--heads 4] [--ffn 352]
//        [--prompt 32] [--tokens 64] [--batches 1,32]
import { parseArgs } from 'node:util';
import { initBackend } from '../../src/train/backend.js';
import { makeConfig, parameterCount } from '../../src/train/config.js';
import { LlamaModel } from '../../src/train/model.js';
import { Rng } from '../../src/util/rng.js';
import { Generator } from '../../src/sample/generator.js';
import { NEUTRAL, nativeSampling } from '../../src/sample/sampling.js';
import { decodeAttention } from '../../src/sample/kv-cache.js';

const { values: a } = parseArgs({
  options: {
    vocab: { type: 'string', default: '512' },
    d: { type: 'string', default: '128' },
    layers: { type: 'string', default: '2' },
    heads: { type: 'string', default: '4' },
    ffn: { type: 'string', default: '352' },
    prompt: { type: 'string', default: '32' },
    tokens: { type: 'string', default: '64' },
    batches: { type: 'string', default: '1,32' },
  },
});
const n = (s: string | undefined) => Number(s);
const backend = await initBackend('auto');
const P = n(a.prompt);
const T = n(a.tokens);
const config = makeConfig({
  vocab_size: n(a.vocab),
  hidden_size: n(a.d),
  intermediate_size: n(a.ffn),
  num_hidden_layers: n(a.layers),
  num_attention_heads: n(a.heads),
  num_key_value_heads: n(a.heads),
  max_position_embeddings: P + T + 1,
  tie_word_embeddings: false,
});
const model = LlamaModel.init(config, new Rng(0));
const rng = new Rng(1);
const prompt = () => Array.from({ length: P }, () => rng.int(config.vocab_size));
const empty = new Uint8Array(0);

/** Shares of the decoding time: the model's forwards, sampling, and the rest (stops, bookkeeping, the event loop). */
interface Split {
  forward: number;
  sampling: number;
  other: number;
}

async function decode(B: number): Promise<{ tokensPerS: number; group: number; split: Split }> {
  const g = new Generator(model, { batchSize: B, tokenBytes: () => empty, caps: backend.caps });
  // Warm-up, the same work once: the JIT compiles the JavaScript loops, buffers and kernels get set up.
  const warm = Array.from({ length: B }, (_, i) => ({ prompt: prompt(), params: { ...NEUTRAL, maxTokens: T, ignoreEos: true, seed: i } }));
  for await (const _ of g.generate(warm));
  const before = { ...g.stats };
  const reqs = Array.from({ length: B }, (_, i) => ({ prompt: prompt(), params: { ...NEUTRAL, maxTokens: T, ignoreEos: true, seed: i } }));
  const t0 = performance.now();
  for await (const _ of g.generate(reqs));
  // Decoding forwards, attention and sampling: the wall time less the prefills. The first token of each sample
  // comes from its prefill, so it is not counted.
  const secs = (performance.now() - t0) / 1000 - (g.stats.prefillSeconds - before.prefillSeconds);
  const forward = (g.stats.decodeSeconds - before.decodeSeconds) / secs;
  const sampling = (g.stats.sampleSeconds - before.sampleSeconds) / secs;
  const split = { forward: +forward.toFixed(3), sampling: +sampling.toFixed(3), other: +(1 - forward - sampling).toFixed(3) };
  return { tokensPerS: (g.stats.generatedTokens - before.generatedTokens - B) / secs, group: g.rowGroup, split };
}

async function prefill(): Promise<number> {
  const g = new Generator(model, { batchSize: 1, tokenBytes: () => empty, caps: backend.caps });
  const one = { ...NEUTRAL, maxTokens: 1, ignoreEos: true };
  for await (const _ of g.generate(Array.from({ length: 4 }, () => ({ prompt: prompt(), params: one }))));
  const s0 = g.stats.prefillSeconds;
  const k = 16;
  for await (const _ of g.generate(Array.from({ length: k }, () => ({ prompt: prompt(), params: one }))));
  return (k * P) / (g.stats.prefillSeconds - s0);
}

// Bytes of weights a decoding step reads once whatever the batch: every matrix, but only one row of an untied
// embedding table per token (a tied one is read whole, as the head).
const D = config.hidden_size;
const weightBytes = 4 * (parameterCount(config) - (config.tie_word_embeddings ? 0 : config.vocab_size * D - D));
const out: Record<string, unknown> = { tool: 'mathpipe', backend: backend.name, native: backend.native ?? null, parameters: parameterCount(config), weight_bytes_per_token: weightBytes, prompt: P, tokens: T };
out.prefill_tokens_per_s = Math.round(await prefill());
for (const B of String(a.batches).split(',').map(Number)) {
  const r = await decode(B);
  out[`decode_b${B}_tokens_per_s`] = Math.round(r.tokensPerS);
  out[`decode_b${B}_split`] = r.split;
  out.row_group = r.group;
  out.attention = decodeAttention();
  out.sampler = nativeSampling();
}
process.stdout.write(JSON.stringify(out) + '\n');
model.dispose();
