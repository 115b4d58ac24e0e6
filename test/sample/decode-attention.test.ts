// The native single-token attention (native/decode-attention.cc) against its JavaScript reference
// (SequenceCache.attend): the same context rows and caches up to float32 rounding over many steps, for
// multi-head and grouped-query shapes, the specialised and generic head sizes; a row's bits do not depend on the
// other sequences of the call; bad arguments are refused; and the generator gives the same tokens with either.
import t from 'tap';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/train/backend.js';
import { makeConfig } from '../../src/train/config.js';
import { LlamaModel } from '../../src/train/model.js';
import { nativeWith } from '../../src/train/native.js';
import { Rng } from '../../src/util/rng.js';
import { Generator, type GeneratedSample } from '../../src/sample/generator.js';
import { CachePool, PromptCache, Rope, Scratch, SequenceCache, attendRows, decodeAttention, type CacheShape } from '../../src/sample/kv-cache.js';
import { NEUTRAL } from '../../src/sample/sampling.js';

t.before(async () => {
  await initBackend('wasm');
});

const native = decodeAttention() === 'native';
if (!native) t.comment('native decodeAttention not built here: only the JavaScript path is checked');

/** A prompt cache of length P with random keys and values, filled through its observer as a prefill does. */
function promptCache(shape: CacheShape, P: number, rope: Rope, rng: Rng): PromptCache {
  const c = new PromptCache(shape, P);
  const obs = c.observer(rope);
  for (let l = 0; l < shape.layers; l++)
    tf.tidy(() => obs(l, tf.tensor2d(rng.normalArray(P * shape.KV * shape.hd, 1), [P, shape.KV * shape.hd]), tf.tensor2d(rng.normalArray(P * shape.KV * shape.hd, 1), [P, shape.KV * shape.hd])));
  return c;
}

function cloneSeq(s: SequenceCache, prompt: PromptCache): SequenceCache {
  const c = new SequenceCache(prompt, s.capacity);
  c.data.set(s.data);
  c.own = s.own;
  return c;
}

/** Decode `steps` steps of random rows for sequences over `prompts` with both kernels; the worst differences. */
function compare(shape: CacheShape, lengths: number[], steps: number, seed: number): { out: number; cache: number; padding: boolean } {
  const rng = new Rng(seed);
  const rope = new Rope(256, shape.hd, 10000);
  const prompts = lengths.map((P) => promptCache(shape, P, rope, rng));
  const js = prompts.map((p) => new SequenceCache(p, steps + 3));
  const nat = js.map((s, i) => cloneSeq(s, prompts[i]));
  const rows = lengths.length + 1; // one padding row
  const { H, KV, hd } = shape;
  let worstOut = 0;
  let padding = true;
  const scratch = [new Scratch(), new Scratch()];
  for (let step = 0; step < steps; step++) {
    for (let l = 0; l < shape.layers; l++) {
      const q = rng.normalArray(rows * H * hd, 1);
      const k = rng.normalArray(rows * KV * hd, 1);
      const v = rng.normalArray(rows * KV * hd, 1);
      const outs = [new Float32Array(rows * H * hd).fill(7), new Float32Array(rows * H * hd).fill(7)];
      decodeAttention('js');
      attendRows(js, l, rope, scratch[0], q, k, v, outs[0]);
      decodeAttention('native');
      attendRows(nat, l, rope, scratch[1], q, k, v, outs[1]);
      for (let i = 0; i < outs[0].length; i++) worstOut = Math.max(worstOut, Math.abs(outs[0][i] - outs[1][i]));
      for (const o of outs) padding &&= o.subarray(lengths.length * H * hd).every((x) => x === 0);
    }
    for (const s of [...js, ...nat]) s.commit();
  }
  let worstCache = 0;
  js.forEach((s, i) => s.data.forEach((x, j) => (worstCache = Math.max(worstCache, Math.abs(x - nat[i].data[j])))));
  return { out: worstOut, cache: worstCache, padding };
}

t.test('native single-token attention equals the JavaScript reference up to float32 rounding', { skip: !native && 'no native kernel' }, async (t) => {
  t.teardown(() => void decodeAttention('native'));
  const shapes: [string, CacheShape][] = [
    ['multi-head, hd 32', { layers: 2, H: 4, KV: 4, hd: 32 }],
    ['grouped-query 8/2, hd 64', { layers: 1, H: 8, KV: 2, hd: 64 }],
    ['grouped-query 4/1, hd 128', { layers: 1, H: 4, KV: 1, hd: 128 }],
    ['generic hd 10', { layers: 2, H: 3, KV: 1, hd: 10 }],
  ];
  for (const [name, shape] of shapes) {
    // Prompt lengths around the 16-position padding and the 64-position score blocks, and a long prompt.
    const { out, cache, padding } = compare(shape, [1, 15, 16, 17, 63, 64, 65, 150], 70, 5);
    t.ok(padding, `${name}: padding rows are zero`);
    t.ok(out < 2e-5, `${name}: max |native - js| of context rows ${out.toExponential(2)}`);
    t.ok(cache < 2e-5, `${name}: max |native - js| of cached keys/values ${cache.toExponential(2)}`);
  }
});

t.test('a sequence\'s native row is the same bits alone and among other sequences', { skip: !native && 'no native kernel' }, async (t) => {
  const shape: CacheShape = { layers: 1, H: 8, KV: 2, hd: 64 };
  const { H, KV, hd } = shape;
  const rng = new Rng(8);
  const rope = new Rope(1024, hd, 10000);
  // About 3M multiply-adds per step together (the threaded path), a few thousand alone.
  const prompts = [3, 290, 600, 17, 64, 900, 1, 140, 450, 333].map((P) => promptCache(shape, P, rope, rng));
  const seqs = prompts.map((p) => new SequenceCache(p, 8));
  const alone = seqs.map((s, i) => cloneSeq(s, prompts[i]));
  const scratch = new Scratch();
  for (let step = 0; step < 6; step++) {
    // Enough sequences for the threaded path, and the same rows one sequence at a time.
    const q = rng.normalArray(seqs.length * H * hd, 1);
    const k = rng.normalArray(seqs.length * KV * hd, 1);
    const v = rng.normalArray(seqs.length * KV * hd, 1);
    const together = new Float32Array(seqs.length * H * hd);
    attendRows(seqs, 0, rope, scratch, q, k, v, together);
    for (let i = 0; i < seqs.length; i++) {
      const one = new Float32Array(2 * H * hd);
      attendRows([alone[i]], 0, rope, scratch, q.slice(i * H * hd, (i + 1) * H * hd), k.slice(i * KV * hd), v.slice(i * KV * hd), one.subarray(0, H * hd));
      t.same(Array.from(one.subarray(0, H * hd)), Array.from(together.subarray(i * H * hd, (i + 1) * H * hd)), `step ${step}, sequence ${i}`);
    }
    for (const s of [...seqs, ...alone]) s.commit();
  }
});

t.test('the native kernel refuses arguments that do not fit', { skip: !native && 'no native kernel' }, async (t) => {
  const k = nativeWith<{ decodeAttention(...a: unknown[]): void }>('decodeAttention')!;
  const shape: CacheShape = { layers: 1, H: 2, KV: 2, hd: 4 };
  const rope = new Rope(16, 4, 10000);
  const p = new PromptCache(shape, 3);
  const s = new SequenceCache(p, 2);
  const row = () => new Float32Array(8);
  const call = (meta: number[], caches = [p.data, s.data], layer = 0) => () => k.decodeAttention(layer, row(), row(), row(), row(), rope.cos, rope.sin, caches, Int32Array.from(meta), 2, 2, 4, 1);
  t.doesNotThrow(call([3, 0, 2]));
  t.throws(call([3, 2, 2]), /sequence 0/, 'own positions at capacity');
  t.throws(call([70, 0, 2]), /sequence 0/, 'a prompt length the buffer does not hold');
  t.throws(call([3, 0, 2], [p.data, new Float32Array(3)]), /sequence 0/, 'short own buffer');
  t.throws(call([3, 0, 2, 3, 0, 2], [p.data, s.data, p.data, s.data, p.data, s.data]), /do not fit/, 'more sequences than rows');
  t.throws(call([3, 0, 2], [p.data, s.data], 1), /bad shape/, 'layer out of range');
  t.throws(() => k.decodeAttention(0, row(), row(), row(), row(), rope.cos, rope.sin, [p.data, s.data], Int32Array.of(3, 0, 2), 0, 2, 4, 1), /bad shape/, 'no heads');
  t.throws(call([3, 0, 2], [p.data, 5 as unknown as Float32Array]), /Float32Arrays/);
  t.throws(call([16, 0, 2], [new PromptCache(shape, 16).data, s.data]), /rotary/, 'positions past the rotary tables');
});

t.test('the generator gives the same tokens with the native and the JavaScript attention', { skip: !native && 'no native kernel' }, async (t) => {
  const cfg = makeConfig(
    { vocab_size: 64, hidden_size: 64, intermediate_size: 96, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 96, tie_word_embeddings: false },
    { initializer_range: 0.3 },
  );
  const model = LlamaModel.init(cfg, new Rng(3));
  t.teardown(() => {
    model.dispose();
    decodeAttention('native');
  });
  const r = new Rng(4);
  const reqs = Array.from({ length: 6 }, (_, i) => ({
    prompt: Array.from({ length: 1 + ((i * 17) % 70) }, () => r.int(64)),
    params: { ...NEUTRAL, temperature: i % 2 ? 0 : 0.9, n: 2, maxTokens: 24, seed: i },
    stream: i,
  }));
  const run = async (impl: 'native' | 'js') => {
    decodeAttention(impl);
    const g = new Generator(model, { batchSize: 5, tokenBytes: () => new Uint8Array(0) });
    const out: GeneratedSample[][] = [];
    for await (const x of g.generate(reqs)) out.push(x.samples);
    return out;
  };
  const [a, b] = [await run('js'), await run('native')];
  let worst = 0;
  a.forEach((samples, i) =>
    samples.forEach((s, j) => {
      t.same(b[i][j].tokens, s.tokens, `request ${i} sample ${j}`);
      s.logprobs.forEach((l, k) => (worst = Math.max(worst, Math.abs(l - b[i][j].logprobs[k]))));
    }),
  );
  t.ok(worst < 1e-4, `max |log-prob native - js| = ${worst.toExponential(2)}`);
});

t.test('CachePool: a finished sequence\'s buffer goes to the next one of its size, zeroed; at most `limit` held', async (t) => {
  const shape: CacheShape = { layers: 2, H: 2, KV: 1, hd: 4 };
  const pool = new CachePool(1);
  const prompt = new PromptCache(shape, 3, pool);
  const a = new SequenceCache(prompt, 5, pool);
  a.data.fill(7);
  pool.give(a.data);
  pool.give(new Float32Array(a.data.length)); // past the limit: dropped
  const b = new SequenceCache(prompt, 5, pool);
  t.equal(b.data, a.data, 'the same buffer');
  t.ok(b.data.every((x) => x === 0), 'zeroed');
  t.not(new SequenceCache(prompt, 5, pool).data, a.data, 'the pool held one buffer');
  const other = new SequenceCache(prompt, 40, pool);
  t.equal(other.data.length, 2 * 2 * 1 * 4 * 48, 'another size is a new buffer');
});
