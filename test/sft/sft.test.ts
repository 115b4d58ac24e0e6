// `mathpipe sft`: the trained-token mask from incremental chat-template renders, packing without
// cross-contamination, per-token loss normalisation across accumulation, exact resume, the CLI's errors.
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { lines, runCli } from '../helpers.js';
import { loadTokenizer, type Tokenizer } from '../../src/tokenizer/index.js';
import { chatFormat } from '../../src/sample/chat.js';
import { encodeConversation } from '../../src/sft/encode.js';
import { toConversation, type ExampleFields } from '../../src/sft/examples.js';
import { fillRatio, packEpoch, rowsToBatch } from '../../src/sft/pack.js';
import { makeConfig } from '../../src/train/config.js';
import { LlamaModel } from '../../src/train/model.js';
import { Rng } from '../../src/util/rng.js';
import { stepGradients, type TokenBatch } from '../../src/train/step.js';
import { openSafetensors } from '../../src/train/safetensors.js';

const FIELDS: ExampleFields = { prompt: 'prompt', completion: 'completion', lossOn: 'auto', format: 'format' };
const rec = (value: object, line = 1) => ({ value: value as never, raw: JSON.stringify(value), file: 'x.jsonl', line });

function arithmetic(n: number, seed: number): string[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const a = rng.int(20) + 1;
    const b = rng.int(20) + 1;
    return JSON.stringify({ prompt: `What is ${a} plus ${b}?`, completion: `${a} plus ${b} is ${a + b}. The answer is ${a + b}.` });
  });
}

let dir = '';
let tok: Tokenizer;
t.before(async () => {
  dir = t.testdir();
  const train = arithmetic(300, 1);
  writeFileSync(join(dir, 'train.jsonl'), train.join('\n') + '\n');
  writeFileSync(join(dir, 'text.jsonl'), train.map((l, i) => JSON.stringify({ id: String(i), text: Object.values(JSON.parse(l) as object).join(' ') })).join('\n') + '\n');
  const r = await runCli(['tokenize', 'train', '-q', '-v', '400', '-o', join(dir, 'tok'), join(dir, 'text.jsonl')]);
  if (r.code !== 0) throw new Error(r.stderr);
  tok = loadTokenizer(join(dir, 'tok'));
});

t.test('the training render of every prompt prefix is the inference render, token for token', async (t) => {
  for (const [name, fmt] of [
    ['chat markers', chatFormat(join(dir, 'none'), tok)],
    ['deepseek text template', chatFormat(join(dir, 'none'), tok, writeTemplate())],
  ] as const) {
    const c = toConversation(
      rec({ messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'What is 2 plus 3?' }, { role: 'assistant', content: '2 plus 3 is 5.' }, { role: 'user', content: 'And 4 plus 4?' }, { role: 'assistant', content: 'It is 8.' }] }),
      FIELDS,
    );
    const e = encodeConversation(c, fmt.text, tok);
    // Before each assistant turn, the tokens so far are exactly what `sample --chat` sends for that prefix.
    const ids = Array.from(e.ids);
    let checked = 0;
    c.turns.forEach((turn, k) => {
      if (turn.role !== 'assistant') return;
      const prompt = tok.encode(fmt.render(c.turns.slice(0, k)), { allowSpecial: true });
      t.same(ids.slice(0, prompt.length), prompt, `${name}: prompt before turn ${k}`);
      t.equal(e.trained[prompt.length - 1], 0, `${name}: the generation prompt before turn ${k} is not trained`);
      t.equal(e.trained[prompt.length], 1, `${name}: the first token of turn ${k} is trained`);
      checked++;
    });
    t.equal(checked, 2);
    // The end of each assistant turn (end-of-turn marker or EOS) is trained: models that never stop are a known failure.
    const lastTrained = ids[e.trained.lastIndexOf(1)];
    t.ok(lastTrained === tok.eos || lastTrained === tok.chat?.end_of_turn, `${name}: the turn's end token is trained`);
    t.equal(tok.decode(ids.filter((_, i) => e.trained[i])).replace(/<\|[a-z_]+\|>|\s/g, ''), '2plus3is5.Itis8.', `${name}: exactly the assistant text is trained`);
    t.notOk(e.trained.subarray(0, Array.from(e.trained).indexOf(1)).some((x) => x), `${name}: nothing before the first answer is trained`);
  }
});

function writeTemplate(): string {
  const p = join(dir, 'deepseek.jinja');
  writeFileSync(p, "{% for message in messages %}{% if message['role'] == 'user' %}{{ 'User: ' + message['content'] + '\\n\\n' }}{% elif message['role'] == 'assistant' %}{{ 'Assistant: ' + message['content'] + eos_token }}{% else %}{{ message['content'] + '\\n\\n' }}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}");
  return p;
}

t.test('--loss-on, per-message train: false, tool turns never trained, bad records', async (t) => {
  const msgs = { messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a1' }, { role: 'tool', content: 'out' }, { role: 'assistant', content: 'a2', train: true }, { role: 'user', content: 'thanks' }] };
  const trained = (lossOn: ExampleFields['lossOn'], v: object = msgs) => toConversation(rec(v), { ...FIELDS, lossOn }).turns.map((x) => (x.train ? 1 : 0));
  t.same(trained('auto'), [0, 1, 0, 1, 0], 'auto on messages: every assistant turn');
  t.same(trained('completion'), [0, 0, 0, 1, 0], 'completion: the last assistant turn');
  t.same(trained('all'), [1, 1, 0, 1, 1], 'all: every turn but tool output');
  t.same(trained('last'), [0, 0, 0, 0, 1]);
  const off = { messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a1', train: false }, { role: 'user', content: 'q2' }, { role: 'assistant', content: 'a2' }] };
  t.same(trained('assistant', off), [0, 0, 0, 1], 'train: false wins');
  t.same(trained('auto', { prompt: 'p', completion: 'c' }), [0, 1], 'prompt/completion: the completion');
  t.throws(() => toConversation(rec({ question: 'q' }, 7), FIELDS), /x\.jsonl:7: needs "messages", or string "prompt" and "completion"/);
  t.throws(() => toConversation(rec({ messages: [{ role: 'user', content: 3 }] }), FIELDS), /message 0 needs string "role" and "content"/);
  t.throws(() => toConversation(rec({ messages: [{ role: 'user', content: 'q' }] }), FIELDS), /no turn to train on/);
});

t.test('packing: every example once per epoch, best fit fills rows, no target across examples', async (t) => {
  const rng = new Rng(3);
  const lengths = Array.from({ length: 200 }, () => 5 + rng.int(60));
  for (const mode of ['bfd', 'wrapped', 'none'] as const) {
    const rows = packEpoch(lengths, 64, mode, 1, 0);
    const seen = new Map<number, number>();
    for (const r of rows) {
      t.ok(r.reduce((a, p) => a + p.len, 0) <= 64, `${mode}: a row holds at most T tokens`);
      for (const p of r) seen.set(p.ex, (seen.get(p.ex) ?? 0) + p.len);
    }
    t.same([...seen.entries()].sort((a, b) => a[0] - b[0]).map(([, n]) => n), lengths.map((l) => Math.min(64, l)), `${mode}: every token of every example once`);
    t.same(packEpoch(lengths, 64, mode, 1, 0), rows, `${mode}: an epoch's layout is a function of the seed`);
    t.notSame(packEpoch(lengths, 64, mode, 1, 1), rows, `${mode}: epochs differ`);
  }
  const bfd = fillRatio(packEpoch(lengths, 64, 'bfd', 1, 0), 64);
  t.ok(bfd > 0.95 && bfd > fillRatio(packEpoch(lengths, 64, 'none', 1, 0), 64), `bfd fills ${bfd}`);

  const ex = [
    { ids: Int32Array.of(1, 2, 3), trained: Uint8Array.of(0, 1, 1), tag: 'cot' },
    { ids: Int32Array.of(4, 5), trained: Uint8Array.of(0, 1), tag: 'cot' },
  ];
  const b = rowsToBatch([[{ ex: 0, from: 0, len: 3 }, { ex: 1, from: 0, len: 2 }]], ex, 8, 9);
  t.same(Array.from(b.ids), [1, 2, 3, 4, 5, 9, 9, 9]);
  t.same(Array.from(b.targets), [2, 3, 9, 5, 9, 9, 9, 9], 'the boundary token is not a target; padding targets a valid id');
  t.same(Array.from(b.weights!), [1, 1, 0, 1, 0, 0, 0, 0]);
  t.same(Array.from(b.segments), [0, 0, 0, 3, 3, 5, 5, 5], 'each example (and the padding) its own segment');
  t.equal(b.trained, 3);
  t.same(Array.from(b.example), [0, 0, -1, 1, -1, -1, -1, -1], 'each target knows its example (per-format losses)');
});

function tinyModel(): LlamaModel {
  const cfg = makeConfig({ vocab_size: 64, hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, intermediate_size: 64, max_position_embeddings: 64, tie_word_embeddings: false });
  return LlamaModel.init(cfg, new Rng(7));
}

t.test('packed examples see only themselves: their logits equal those of each alone', async (t) => {
  const model = tinyModel();
  const rng = new Rng(5);
  const seqs = [11, 7, 13].map((n) => Array.from({ length: n }, () => rng.int(64)));
  const T = 32;
  const ids = new Int32Array(T);
  const seg = new Int32Array(T);
  let at = 0;
  for (const s of seqs) {
    ids.set(s, at);
    seg.fill(at, at, at + s.length);
    at += s.length;
  }
  seg.fill(at, at);
  const packed = tf.tidy(() => model.logits(tf.tensor2d(ids, [1, T], 'int32'), seg).arraySync() as number[][]);
  at = 0;
  for (const s of seqs) {
    const alone = tf.tidy(() => model.logits(tf.tensor2d(Int32Array.from(s), [1, s.length], 'int32')).arraySync() as number[][]);
    let diff = 0;
    for (let i = 0; i < s.length; i++) for (let v = 0; v < 64; v++) diff = Math.max(diff, Math.abs(alone[i][v] - packed[at + i][v]));
    t.ok(diff <= 1e-5, `sequence of ${s.length}: max |packed - alone| = ${diff}`);
    at += s.length;
  }
  model.dispose();
});

t.test('the loss is per trained token across accumulation: 4 x 1 rows gives the gradient of 1 x 4', async (t) => {
  const model = tinyModel();
  const rng = new Rng(9);
  const ex = Array.from({ length: 4 }, (_, i) => {
    const n = 6 + 5 * i;
    return { ids: Int32Array.from({ length: n }, () => rng.int(64)), trained: Uint8Array.from({ length: n }, (_, j) => (j > n / 2 ? 1 : 0)), tag: 'cot' };
  });
  const T = 24;
  const rows = ex.map((_, i) => [{ ex: i, from: 0, len: ex[i].ids.length }]);
  const norm = (bs: ReturnType<typeof rowsToBatch>[]): TokenBatch[] => {
    const n = bs.reduce((a, b) => a + b.trained, 0);
    return bs.map((b) => ({ ...b, weights: b.weights!.map((w) => w / n), normalized: true }));
  };
  const one = await stepGradients(model, norm([rowsToBatch(rows, ex, T, 0)]), T);
  const four = await stepGradients(model, norm(rows.map((r) => rowsToBatch([r], ex, T, 0))), T);
  t.ok(Math.abs(one.loss - four.loss) < 1e-6, `loss ${one.loss} vs ${four.loss}`);
  let diff = 0;
  for (const [name, g] of one.grads) {
    const a = g.dataSync();
    const b = four.grads.get(name)!.dataSync();
    for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i] - b[i]));
  }
  t.ok(diff <= 1e-6, `max gradient difference ${diff}`);
  tf.dispose([...one.grads.values(), ...four.grads.values()]);
  model.dispose();
});

t.test('sft end to end: trains on the completion, resumes exactly, reports bad input', async (t) => {
  const ck = join(dir, 'ck');
  const toks = join(dir, 'toks');
  t.equal((await runCli(['tokenize', '-q', '-t', join(dir, 'tok'), '-o', toks, join(dir, 'text.jsonl')])).code, 0);
  const pre = await runCli(['pretrain', '-q', '--data', toks, '-o', ck, '--steps', '10', '--seq-len', '64', '--batch-size', '8']);
  t.equal(pre.code, 0, pre.stderr);
  const common = ['--init', ck, '--seq-len', '96', '--batch-size', '4', '--lr', '2e-3', '--valid', join(dir, 'train.jsonl'), '--eval-interval', '3'];
  const straight = await runCli(['sft', '-o', join(dir, 'a'), '--steps', '6', ...common, join(dir, 'train.jsonl')]);
  t.equal(straight.code, 0, straight.stderr);
  const m = lines(straight.stdout).map((l) => JSON.parse(l) as { step: number; loss?: number; trained_fraction?: number; valid_loss?: number });
  t.equal(m.filter((x) => x.loss !== undefined).length, 6);
  t.ok(m.some((x) => x.valid_loss !== undefined), 'validation loss reported');
  t.ok(m[0].trained_fraction! > 0 && m[0].trained_fraction! < 1, 'trained-token fraction reported');
  t.match(straight.stderr, /300 examples .* packed bfd into \d+ rows of 96: [\d.]+% of tokens are data/);

  const half = await runCli(['sft', '-o', join(dir, 'b'), '--steps', '3', ...common, join(dir, 'train.jsonl')]);
  t.equal(half.code, 0, half.stderr);
  const rest = await runCli(['sft', '-o', join(dir, 'b'), '--steps', '6', '--resume', ...common, join(dir, 'train.jsonl')]);
  t.equal(rest.code, 0, rest.stderr);
  const w = (d: string) => openSafetensors(join(d, 'model.safetensors')).get('model.layers.0.mlp.up_proj.weight').data;
  t.same(Array.from(w(join(dir, 'b'))), Array.from(w(join(dir, 'a'))), 'stopped at 3 and resumed: the weights of the straight run, bit for bit');

  writeFileSync(join(dir, 'bad.jsonl'), readFileSync(join(dir, 'train.jsonl'), 'utf8') + '{"question":"no completion"}\n');
  const bad = await runCli(['sft', '-o', join(dir, 'c'), '--steps', '1', ...common, join(dir, 'bad.jsonl')]);
  t.equal(bad.code, 65);
  t.match(bad.stderr, /bad\.jsonl:301: needs "messages", or string "prompt" and "completion" fields/);
  const skip = await runCli(['sft', '-o', join(dir, 'c'), '--steps', '1', '--skip-invalid', ...common, join(dir, 'bad.jsonl')]);
  t.equal(skip.code, 0, skip.stderr);
  t.match(skip.stderr, /skipped 1 invalid line/);
  const tpl = await runCli(['sft', '-o', join(dir, 'e'), '--steps', '1', '--chat-template', writeTemplate(), ...common, join(dir, 'train.jsonl')]);
  t.equal(tpl.code, 0, tpl.stderr);
  t.equal((JSON.parse(readFileSync(join(dir, 'e', 'tokenizer_config.json'), 'utf8')) as { chat_template: string }).chat_template, readFileSync(join(dir, 'deepseek.jinja'), 'utf8'), 'the checkpoint carries the template it was trained with');
  const usage = await runCli(['sft', '-o', join(dir, 'd'), join(dir, 'train.jsonl')]);
  t.equal(usage.code, 2);
  t.match(usage.stderr, /give --init CHECKPOINT/);
});
