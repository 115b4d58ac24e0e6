// The sampler on hand-made logits (what each cut keeps, the reported log-probs, draw frequencies), RNG streams,
// stop strings across tokens and inside UTF-8 characters, and chat templates.
import t from 'tap';
import { join } from 'node:path';
import { rmSync, writeFileSync } from 'node:fs';
import { Sampler, RowSampler, NEUTRAL, nativeSampling, sampleRng, checkParams, type SamplingParams } from '../../src/sample/sampling.js';
import { StopWatch } from '../../src/sample/stops.js';
import { chatFormat, parseMessages, DEEPSEEK_TEMPLATE } from '../../src/sample/chat.js';
import { loadTokenizer } from '../../src/tokenizer/index.js';
import { nativeWith } from '../../src/train/native.js';
import { writeByteTokenizer } from './fixtures.js';

const P = (p: Partial<SamplingParams>): SamplingParams => ({ ...NEUTRAL, ...p });
const logitsOf = (probs: number[]) => Float32Array.from(probs.map(Math.log));

/** Empirical distribution of `draws` tokens, and the sampling log-prob reported for each token. */
function draws(logits: Float32Array, p: SamplingParams, n = 20000): { freq: number[]; slp: Map<number, number>; worstRaw: number } {
  const s = new Sampler();
  const rng = sampleRng(1, 2, 3);
  const counts = new Array<number>(logits.length).fill(0);
  const slp = new Map<number, number>();
  const z = logits.reduce((a, b) => a + Math.exp(b), 0);
  let worstRaw = 0;
  for (let i = 0; i < n; i++) {
    const c = s.choose(logits, p, rng);
    counts[c.token]++;
    slp.set(c.token, c.samplingLogprob);
    worstRaw = Math.max(worstRaw, Math.abs(c.logprob - Math.log(Math.exp(logits[c.token]) / z)));
  }
  return { freq: counts.map((c) => c / n), slp, worstRaw };
}

t.test('cuts: top-k, top-p (the token crossing the mass stays), min-p, temperature; reported sampling log-probs', async (t) => {
  const L = logitsOf([0.1, 0.4, 0.05, 0.3, 0.15]);
  const close = (a: number, b: number, tol: number) => Math.abs(a - b) < tol;
  const check = (name: string, p: SamplingParams, want: number[]) => {
    const { freq, slp, worstRaw } = draws(L, p);
    t.ok(worstRaw < 1e-6, `${name}: raw log-probs are the untempered log-softmax`);
    freq.forEach((f, i) => t.ok(close(f, want[i], 0.015), `${name}: token ${i} drawn ${f.toFixed(3)}, expected ${want[i].toFixed(3)}`));
    for (const [tok, lp] of slp) t.ok(close(lp, Math.log(want[tok]), 1e-6), `${name}: sampling logprob of ${tok}`);
  };
  check('neutral', P({}), [0.1, 0.4, 0.05, 0.3, 0.15]);
  check('top-k 2', P({ topK: 2 }), [0, 0.4 / 0.7, 0, 0.3 / 0.7, 0]);
  check('top-p 0.7', P({ topP: 0.7 }), [0, 0.4 / 0.7, 0, 0.3 / 0.7, 0]);
  check('top-p 0.71', P({ topP: 0.71 }), [0, 0.4 / 0.85, 0, 0.3 / 0.85, 0.15 / 0.85]);
  check('min-p 0.3', P({ minP: 0.3 }), [0, 0.4 / 0.85, 0, 0.3 / 0.85, 0.15 / 0.85]);
  // min-p before top-p (vLLM's order): min-p 0.3 leaves {0.4, 0.3, 0.15}/0.85; top-p 0.8 of that keeps 0.4 and 0.3.
  check('min-p then top-p', P({ minP: 0.3, topP: 0.8 }), [0, 0.4 / 0.7, 0, 0.3 / 0.7, 0]);
  const t2 = [0.1, 0.4, 0.05, 0.3, 0.15].map((p) => Math.sqrt(p));
  check('temperature 2', P({ temperature: 2 }), t2.map((x) => x / t2.reduce((a, b) => a + b)));
  const g = new Sampler().choose(Float32Array.of(1, 3, 3, 2), P({ temperature: 0 }), sampleRng(1, 0, 0));
  t.same([g.token, g.samplingLogprob], [1, 0], 'greedy: first of tied maxima, sampling log-prob 0');
});

t.test('large vocabularies: the thresholded top-k/top-p equal a full sort', async (t) => {
  const rng = sampleRng(5, 0, 0);
  const V = 50000;
  const L = Float32Array.from({ length: V }, () => (rng.normal() * 3) | 0); // integer logits: many ties
  const order = Array.from({ length: V }, (_, i) => i).sort((a, b) => L[b] - L[a] || a - b);
  const s = new Sampler();
  for (const k of [1, 5, 300]) {
    const keep = new Set(order.slice(0, k));
    const got = new Set<number>();
    for (let i = 0; i < 100; i++) got.add(s.choose(L, P({ topK: k }), rng).token);
    t.ok([...got].every((x) => keep.has(x)), `top-k ${k}: every draw among the first ${k} of a full sort (${got.size} distinct)`);
  }
  const probs = order.map((i) => Math.exp(L[i]));
  const total = probs.reduce((a, b) => a + b);
  for (const p of [0.01, 0.5, 0.95]) {
    let acc = 0;
    let n = 0;
    while (acc < p * total) acc += probs[n++];
    const keep = new Set(order.slice(0, n));
    let ok = true;
    for (let i = 0; i < 100; i++) ok &&= keep.has(s.choose(L, P({ topP: p }), rng).token);
    t.ok(ok, `top-p ${p}: every draw among the ${n} tokens of a full sort`);
  }
});

t.test('the native sampler (native/sample.cc) gives Sampler.choose\'s tokens and log-probs bit for bit', { skip: nativeSampling() !== 'native' && 'the native sampler is not built here' }, async (t) => {
  const rng = sampleRng(7, 0, 0);
  // Spread logits (a trained model), flat ones (a random init: one bucket holds everything) and integer ones
  // (ties); temperatures around 1, cuts on and off, alone and together.
  const rows = (V: number, kind: number) =>
    Float32Array.from({ length: V }, () => (kind === 0 ? rng.normal() * 4 : kind === 1 ? rng.normal() * 0.01 : (rng.normal() * 3) | 0));
  const settings: Partial<SamplingParams>[] = [
    { temperature: 0 },
    {},
    { temperature: 0.7 },
    { temperature: 1.3, topK: 5 },
    { topK: 300 },
    { topP: 0.9 },
    { topP: 0.3, temperature: 0.8 },
    { minP: 0.05 },
    { minP: 0.01, topK: 50, topP: 0.95, temperature: 0.6 },
    { topK: 1 },
  ];
  const js = new Sampler();
  const native = new RowSampler();
  let compared = 0;
  for (const V of [7, 512, 50000])
    for (let kind = 0; kind < 3; kind++) {
      const logits = Array.from({ length: settings.length }, () => rows(V, kind));
      const params = settings.map(P);
      // Each row twice (its own stream in both), so a mismatch in the draw shows as well as one in the cuts.
      const seeds = settings.map((_, i) => [V, kind, i] as const);
      for (let round = 0; round < 2; round++) {
        const got = native.chooseAll(logits, params, seeds.map(([a, b, c]) => sampleRng(a + round, b, c)));
        const want = logits.map((l, i) => js.choose(l, params[i], sampleRng(seeds[i][0] + round, seeds[i][1], seeds[i][2])));
        for (let i = 0; i < want.length; i++, compared++) {
          const same = got[i].token === want[i].token && Object.is(got[i].logprob, want[i].logprob) && Object.is(got[i].samplingLogprob, want[i].samplingLogprob);
          if (!same) t.fail(`V ${V}, logits kind ${kind}, ${JSON.stringify(settings[i])}: native ${JSON.stringify(got[i])}, js ${JSON.stringify(want[i])}`);
        }
      }
    }
  t.pass(`${compared} rows compared`);
  const k = new RowSampler();
  t.throws(() => k.chooseAll([new Float32Array(4), new Float32Array(3)], [NEUTRAL, NEUTRAL], [sampleRng(1, 0, 0), sampleRng(1, 0, 1)]), /row 1 has 3 logits, expected 4/, 'rows of different lengths are refused');
});

t.test("the native sampler's exponential is V8's Math.exp bit for bit, vector lanes and tail", { skip: !nativeWith('jsExp') && 'the native sampler is not built here' }, async (t) => {
  const k = nativeWith<{ jsExp(x: Float64Array, out: Float64Array): void }>('jsExp')!;
  const rng = sampleRng(11, 0, 0);
  const xs: number[] = [NaN, Infinity, -Infinity, 0, -0, 1, -1, 2 ** -28, -(2 ** -28), 2 ** -29, 5e-324, -5e-324, 709.78, 709.79, 709.5, 709.1, -745.1, -745.2, -708.5, -720];
  // Around each of exp's branch points (|x| = ln2/2, 1.5 ln2, 2^-28, the overflow and underflow thresholds),
  // then spreads at every scale the sampler meets (logit gaps, tempered ones) and beyond.
  for (const b of [Math.LN2 / 2, 1.5 * Math.LN2, 2 ** -28, 709.782712893384, 745.1332191019411, 708.39641853226, 1])
    for (let d = -40; d <= 40; d++) for (const sgn of [1, -1]) xs.push(sgn * (b + d * b * Number.EPSILON));
  for (const scale of [1e-9, 0.01, 1, 10, 100, 800]) for (let i = 0; i < 2000; i++) xs.push((rng.next() * 2 - 1) * scale);
  xs.push(0.5); // an odd count: the last lanes run the scalar tail
  const x = Float64Array.from(xs);
  const out = new Float64Array(x.length);
  k.jsExp(x, out);
  const bad = xs.filter((v, i) => !Object.is(out[i], Math.exp(v)));
  t.same(bad.slice(0, 5).map((v) => [v, out[xs.indexOf(v)], Math.exp(v)]), [], `${xs.length} inputs, ${bad.length} differ`);
});

t.test('RNG streams: one per (seed, stream, sample); parameters are checked', async (t) => {
  const first = (a: number, b: number, c: number) => sampleRng(a, b, c).nextU32();
  const seen = new Set<number>();
  for (const s of [0, 1, 2 ** 33]) for (const p of [0, 1, 2]) for (const j of [0, 1, 2]) seen.add(first(s, p, j));
  t.equal(seen.size, 27);
  t.equal(first(3, 4, 5), first(3, 4, 5));
  t.same(checkParams(NEUTRAL), []);
  t.equal(checkParams(P({ temperature: -1, topP: 0, topK: -1, minP: 2, maxTokens: 0, n: 0, stop: [''], stopTokenIds: [-1] })).length, 8);
});

t.test('stop strings: across tokens, inside a UTF-8 character, the earliest of several', async (t) => {
  const enc = (s: string) => new Uint8Array(Buffer.from(s));
  const w = new StopWatch(['cd', 'é!', 'zzz']);
  t.equal(w.push(enc('abc')), undefined);
  t.same(w.push(enc('de')), { at: 2, stop: 'cd' });
  const u = new StopWatch(['é!']);
  const e = enc('é');
  t.equal(u.push(enc('x')), undefined);
  t.equal(u.push(e.subarray(0, 1)), undefined, 'half a character decodes to nothing yet');
  t.equal(u.push(e.subarray(1)), undefined);
  t.same(u.push(enc('!?')), { at: 1, stop: 'é!' });
  const both = new StopWatch(['bc', 'ab']);
  t.same(both.push(enc('abc')), { at: 0, stop: 'ab' }, 'the earliest occurrence wins');
  const tail = new StopWatch([]);
  tail.push(enc('ok'));
  tail.push(e.subarray(0, 1));
  t.equal(tail.finish(), 'ok\ufffd', 'an unfinished character at the end is U+FFFD, as decode shows it');
});

t.test('chat templates: checkpoint, file, built-ins; messages with text parts', async (t) => {
  const dir = t.testdir();
  const withChat = join(dir, 'chat');
  writeByteTokenizer(withChat, true);
  const plain = join(dir, 'plain');
  writeByteTokenizer(plain, false);
  // The built-ins serve checkpoints without a Hugging Face tokenizer_config.json (older ones).
  for (const d of [withChat, plain]) rmSync(join(d, 'tokenizer_config.json'), { force: true });
  const msgs = [
    { role: 'system', content: 'S' },
    { role: 'user', content: 'Q' },
  ];
  const marker = chatFormat(withChat, loadTokenizer(withChat));
  t.equal(marker.source, 'built-in markers');
  t.equal(marker.render(msgs), '<|system|>S<|end_of_turn|><|user|>Q<|end_of_turn|><|assistant|>');
  t.same(marker.stopIds, [262]);
  const ds = chatFormat(plain, loadTokenizer(plain));
  t.equal(ds.template, DEEPSEEK_TEMPLATE);
  t.equal(ds.render(msgs), '<|begin_of_text|>S\n\nUser: Q\n\nAssistant:');
  writeFileSync(join(plain, 'tokenizer_config.json'), JSON.stringify({ chat_template: '{{ bos_token }}{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}', bos_token: { content: '<B>' } }));
  const hf = chatFormat(plain, loadTokenizer(plain));
  t.equal(hf.source, join(plain, 'tokenizer_config.json'));
  t.equal(hf.render(msgs), '<B>[system]S[user]Q');
  const file = join(dir, 't.jinja');
  writeFileSync(file, '{% for m in messages %}{{ m.content }};{% endfor %}{% if add_generation_prompt %}>{% endif %}');
  t.equal(chatFormat(plain, loadTokenizer(plain), file).render(msgs), 'S;Q;>');
  const parts = parseMessages([{ role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'image_url' }, { type: 'text', text: 'b' }] }]);
  t.same(parts, [{ role: 'user', content: 'ab' }]);
  t.type(parseMessages([{ role: 'user' }]), 'string');
  t.type(parseMessages([]), 'string');
  t.throws(() => chatFormat(plain, loadTokenizer(plain), join(dir, 'missing.jinja')), /cannot read chat template/);
});
