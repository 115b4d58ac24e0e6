// bench/grpo: where a GRPO step's time goes, against the parts run alone. A random-init model of the `bench` shape
// (2 layers, d 128, vocab 512, byte tokenizer) is saved as a checkpoint; `mathpipe grpo` runs STEPS steps on it
// (random outputs rarely end early, so every output is --tokens long) and its per-step metrics are averaged after
// the first step: time in generation, reward, reference forward and training, and tokens/s of each. Then, in this
// process on the same model and shapes: the Generator alone (what `mathpipe sample` runs: the same requests, n = G)
// and cross-entropy training steps alone (what `mathpipe pretrain` runs: the same rows per micro-batch). The gap
// between the loop's rates and the parts' is the loop's own overhead (row building, advantages, reward, bookkeeping).
// Usage: node dist/bench/grpo/bench.js [--steps 6] [--group 8] [--questions 4] [--tokens 64] [--micro 8] [--d 128] [--layers 2]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '../../src/train/backend.js';
import { makeConfig, parameterCount } from '../../src/train/config.js';
import { LlamaModel } from '../../src/train/model.js';
import { AdamW, DEFAULT_ADAMW } from '../../src/train/optimizer.js';
import { Rng } from '../../src/util/rng.js';
import { saveCheckpoint } from '../../src/train/checkpoint.js';
import { trainStep } from '../../src/train/step.js';
import { Generator } from '../../src/sample/generator.js';
import { NEUTRAL } from '../../src/sample/sampling.js';
import { formatRanks, writeTokenizerDir } from '../../src/tokenizer/files.js';
import { MATH_PATTERN } from '../../src/tokenizer/pattern.js';
import { loadTokenizer } from '../../src/tokenizer/index.js';

const { values: a } = parseArgs({
  options: {
    steps: { type: 'string', default: '6' },
    group: { type: 'string', default: '8' },
    questions: { type: 'string', default: '4' },
    tokens: { type: 'string', default: '64' },
    micro: { type: 'string', default: '8' },
    d: { type: 'string', default: '128' },
    layers: { type: 'string', default: '2' },
  },
});
const n = (s: string | undefined) => Number(s);
const [STEPS, G, Q, TOKENS, MICRO] = [n(a.steps), n(a.group), n(a.questions), n(a.tokens), n(a.micro)];
const backend = await initBackend('auto');
const dir = mkdtempSync(join(tmpdir(), 'bench-grpo-'));
const d = n(a.d);
const config = makeConfig(
  { vocab_size: 512, hidden_size: d, intermediate_size: Math.round((d * 11) / 4), num_hidden_layers: n(a.layers), num_attention_heads: 4, num_key_value_heads: 4, max_position_embeddings: 256, tie_word_embeddings: false },
  { bos_token_id: 256, eos_token_id: 257 },
);
const ck = join(dir, 'ck');
const model = LlamaModel.init(config, new Rng(0));
await saveCheckpoint(ck, {
  config,
  model,
  writeTokenizer: (t) =>
    writeTokenizerDir(t, formatRanks(Array.from({ length: 256 }, (_, i) => Uint8Array.of(i))), {
      format: 'mathpipe-tiktoken',
      version: 1,
      name: 'bytes',
      pat_str: MATH_PATTERN,
      n_vocab: 259,
      special_tokens: { '<|begin_of_text|>': 256, '<|end_of_text|>': 257, '<|pad|>': 258 },
      bos_token: '<|begin_of_text|>',
      eos_token: '<|end_of_text|>',
      pad_token: '<|pad|>',
    }),
});
const questions = Array.from({ length: 64 }, (_, i) => ({ id: String(i), question: `What is ${i} plus ${i + 1}? Think step by step.`, answer: String(2 * i + 1) }));
writeFileSync(join(dir, 'q.jsonl'), questions.map((q) => JSON.stringify(q)).join('\n') + '\n');

// The loop, as users run it.
const bin = join(import.meta.dirname, '..', '..', '..', 'bin', 'mathpipe');
const run = spawnSync(process.execPath, [bin, 'grpo', '-q', '--init', ck, '-o', join(dir, 'out'), '-G', String(G), '-b', String(Q), '--max-tokens', String(TOKENS), '--micro-batch', String(MICRO), '--steps', String(STEPS), '--lr', '1e-5', '--log', join(dir, 'm.jsonl'), join(dir, 'q.jsonl')], { stdio: ['ignore', 'inherit', 'inherit'] });
if (run.status !== 0) throw new Error(`mathpipe grpo exited ${run.status}`);
const all = readFileSync(join(dir, 'm.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
const m = all.slice(1);
const avg = (k: string) => m.reduce((s, x) => s + x[k], 0) / m.length;
const step = avg('time_gen') + avg('time_reward') + avg('time_ref') + avg('time_train');
const wall = (all[all.length - 1].elapsed - all[0].elapsed) / m.length;

// The parts alone. Generation: the same prompts and sampling, n = G, one batch of 32 slots (grpo's --gen-batch).
const tok = loadTokenizer(ck);
const gen = new Generator(model, { batchSize: 32, eosIds: [257], tokenBytes: (id) => tok.tokenBytes(id), caps: backend.caps });
const reqs = (k: number) => questions.slice(k * Q, (k + 1) * Q).map((q, i) => ({ prompt: tok.encode(q.question), params: { ...NEUTRAL, n: G, maxTokens: TOKENS, seed: 1 }, stream: k * Q + i }));
await Promise.all(reqs(0).map((r) => gen.submit(r)));
const g0 = { tokens: gen.stats.generatedTokens, t: performance.now() };
for (let k = 1; k < STEPS; k++) await Promise.all(reqs(k).map((r) => gen.submit(r)));
const genRate = (gen.stats.generatedTokens - g0.tokens) / ((performance.now() - g0.t) / 1000);

// Training: cross-entropy steps over rows of the loop's length, micro-batches of MICRO rows, Q x G rows a step.
const T = Math.round(avg('trained_tokens') / (Q * G) + tok.encode(questions[0].question).length);
const opt = new AdamW(model.params, DEFAULT_ADAMW, backend.caps);
const rng = new Rng(3);
const batch = () => {
  const ids = Int32Array.from({ length: MICRO * T }, () => rng.int(259));
  return { ids, targets: Int32Array.from({ length: MICRO * T }, () => rng.int(259)) };
};
const micro = Array.from({ length: Math.ceil((Q * G) / MICRO) }, batch);
await trainStep(model, opt, micro, T, 1e-5);
const t0 = performance.now();
for (let k = 1; k < STEPS; k++) await trainStep(model, opt, micro, T, 1e-5);
const ceRate = ((STEPS - 1) * micro.length * MICRO * T) / ((performance.now() - t0) / 1000);

const pct = (x: number) => `${((100 * x) / step).toFixed(0)}%`;
console.log(`backend ${backend.name}${backend.native ? ` (${backend.native})` : ''}; ${parameterCount(config)} parameters; ${Q} questions x G ${G}, ${TOKENS} tokens per output, micro-batch ${MICRO}; mean of steps 2..${STEPS}`);
console.log(`step ${wall.toFixed(3)} s wall: generation ${avg('time_gen').toFixed(3)} s (${pct(avg('time_gen'))}), reward ${avg('time_reward').toFixed(3)} s (${pct(avg('time_reward'))}), reference ${avg('time_ref').toFixed(3)} s (${pct(avg('time_ref'))}), training ${avg('time_train').toFixed(3)} s (${pct(avg('time_train'))}); other ${(wall - step).toFixed(3)} s`);
console.log(`generation: ${Math.round(avg('gen_tokens_per_s'))} tokens/s in the loop, ${Math.round(genRate)} alone (sample's Generator): ${(avg('gen_tokens_per_s') / genRate).toFixed(2)}x`);
console.log(`training: ${Math.round(avg('train_tokens_per_s'))} tokens/s in the loop (GRPO objective, per-token log-probs + entropy), ${Math.round(ceRate)} alone (pretrain's fused cross-entropy step, rows of ${T}): ${(avg('train_tokens_per_s') / ceRate).toFixed(2)}x`);
model.dispose();
opt.dispose();
rmSync(dir, { recursive: true, force: true });
