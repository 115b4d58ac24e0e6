// Program-of-thought and tool-integrated SFT data: the built-in templates with tool turns render them as
// `eval run --style tool` continues a generation, the training render of every prefix is the inference render,
// tool output is never trained; format tags and the loss per format; held-out greedy accuracy during training.
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lines, runCli } from '../helpers.js';
import { loadTokenizer, type Tokenizer } from '../../src/tokenizer/index.js';
import { chatFormat } from '../../src/sample/chat.js';
import { applyChatTemplate } from '../../src/eval/prompts.js';
import { encodeConversation } from '../../src/sft/encode.js';
import { formatOf, toConversation, type ExampleFields } from '../../src/sft/examples.js';
import { lossByFormat } from '../../src/sft/format-loss.js';
import { packEpoch, rowsToBatch } from '../../src/sft/pack.js';
import { builtinTemplate, compileTemplate } from '../../src/sft/templates.js';
import { makeConfig } from '../../src/train/config.js';
import { LlamaModel } from '../../src/train/model.js';
import { Rng } from '../../src/util/rng.js';
import { evalLoss } from '../../src/train/step.js';

const FIELDS: ExampleFields = { prompt: 'prompt', completion: 'completion', lossOn: 'auto', format: 'format' };
const rec = (value: object, line = 1) => ({ value: value as never, raw: JSON.stringify(value), file: 'x.jsonl', line });

const QUESTION = 'What is 12 times 7?\nPlease integrate natural language reasoning with programs to solve the problem above, and put your final answer within \\boxed{}.';
const CODE = 'We compute it.\n```python\nprint(12 * 7)\n```\n';
const TOOL = { messages: [{ role: 'user', content: QUESTION }, { role: 'assistant', content: CODE }, { role: 'tool', content: '84' }, { role: 'assistant', content: 'So the product is \\boxed{84}.' }] };

let dir = '';
let tok: Tokenizer;
t.before(async () => {
  dir = t.testdir();
  const rng = new Rng(1);
  const docs = Array.from({ length: 200 }, (_, i) => {
    const [a, b] = [rng.int(20) + 1, rng.int(20) + 1];
    return JSON.stringify({ id: String(i), text: `What is ${a} times ${b}? We compute it.\n\`\`\`python\nprint(${a} * ${b})\n\`\`\`\n\`\`\`output\n${a * b}\n\`\`\`\nSo the product is \\boxed{${a * b}}. The answer is ${a * b}.` });
  });
  writeFileSync(join(dir, 'text.jsonl'), docs.join('\n') + '\n');
  const r = await runCli(['tokenize', 'train', '-q', '-v', '400', '-o', join(dir, 'tok'), join(dir, 'text.jsonl')]);
  if (r.code !== 0) throw new Error(r.stderr);
  tok = loadTokenizer(join(dir, 'tok'));
});

t.test('tool turns: every prefix renders as inference does, the output untrained, eval tool style text', async (t) => {
  for (const name of ['markers', 'deepseek'] as const) {
    const template = builtinTemplate(name, tok);
    const render = compileTemplate(template, name, tok);
    const c = toConversation(rec(TOOL), FIELDS);
    const e = encodeConversation(c, render, tok);
    const ids = Array.from(e.ids);
    const turns = c.turns.map(({ role, content }) => ({ role, content }));
    for (const k of [1, 3]) {
      const prompt = tok.encode(render(turns.slice(0, k), true), { allowSpecial: true });
      t.same(ids.slice(0, prompt.length), prompt, `${name}: the tokens before turn ${k} are the inference prompt`);
      t.equal(e.trained[prompt.length - 1], 0, `${name}: the prompt before turn ${k} is not trained`);
      t.equal(e.trained[prompt.length], 1, `${name}: turn ${k} starts trained`);
    }
    const trainedText = tok.decode(ids.filter((_, i) => e.trained[i]));
    t.match(trainedText, /print\(12 \* 7\)\n```\n```output\n/, `${name}: the program and the opening of its output block (eval's stop string) are trained`);
    t.notMatch(trainedText, /84\n```\n/, `${name}: the tool output is not trained`);
    t.match(trainedText, /So the product is \\boxed\{84\}\./, `${name}: the continuation is trained`);
    // The text before the continuation is what eval's tool loop sends: prompt + trimEnd(program) + output block.
    const beforeContinuation = render(turns.slice(0, 3), true);
    const evalText = `${CODE.trimEnd()}\n\`\`\`output\n84\n\`\`\`\n`;
    if (name === 'deepseek') t.equal(beforeContinuation, applyChatTemplate('deepseek', QUESTION) + ' ' + evalText, 'deepseek: eval run --style tool --chat-template deepseek sends this text');
    else t.ok(beforeContinuation.endsWith(`${tok.decode([tok.chat!.assistant])}${evalText}`), 'markers: the output block follows the program inside the assistant turn');
  }
});

t.test('without tool turns the built-ins render as the templates they extend', async (t) => {
  const markers = compileTemplate(builtinTemplate('markers', tok), 'markers', tok);
  const plain = chatFormat(join(dir, 'none'), tok);
  t.equal(plain.source, 'built-in markers');
  const deepseek = compileTemplate(builtinTemplate('deepseek', tok), 'deepseek', tok);
  const convs = [
    [{ role: 'user', content: 'q' }],
    [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'q' }, { role: 'assistant', content: 'a' }, { role: 'user', content: 'q2' }],
    [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a' }],
  ];
  for (const m of convs)
    for (const gen of [true, false]) t.equal(markers(m, gen), plain.text(m, gen), `markers: ${m.length} turns, generation prompt ${gen}`);
  t.equal(deepseek([{ role: 'system', content: 'S' }, { role: 'user', content: 'q' }], true), applyChatTemplate('deepseek', 'q', 'S'), 'deepseek: the prompt eval --chat-template deepseek writes');
  t.throws(() => markers([{ role: 'critic', content: 'x' }], false), /unsupported chat role: critic/);
});

t.test('a template that drops tool turns is refused, naming the record', async (t) => {
  const ds = chatFormat(join(dir, 'none'), tok, writeDeepseek());
  t.throws(() => encodeConversation(toConversation(rec(TOOL, 4), FIELDS), ds.text, tok), /x\.jsonl:4: the chat template renders nothing for turn 2 \(tool\)/);
});

function writeDeepseek(): string {
  const p = join(dir, 'deepseek.jinja');
  // DeepSeek's own template renders system, user and assistant turns only.
  writeFileSync(p, "{% for message in messages %}{% if message['role'] == 'user' %}{{ 'User: ' + message['content'] + '\\n\\n' }}{% elif message['role'] == 'assistant' %}{{ 'Assistant: ' + message['content'] + eos_token }}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}");
  return p;
}

t.test('format tags: detected from content, or from --format-field', async (t) => {
  const conv = (v: object, f = FIELDS) => toConversation(rec(v), f);
  t.equal(conv(TOOL).tag, 'tool', 'a tool turn: tool-integrated');
  t.equal(conv({ prompt: 'q', completion: '```python\nprint(1)\n```' }).tag, 'pot', 'a trained code block: program of thought');
  t.equal(conv({ prompt: 'Write ```code```?', completion: 'No.' }).tag, 'cot', 'a code block in the (untrained) prompt does not count');
  t.equal(conv({ prompt: 'q', completion: 'a', format: 'PoT' }).tag, 'pot', 'the field wins, lower-cased');
  t.equal(conv({ prompt: 'q', completion: 'a', kind: 'tool' }, { ...FIELDS, format: 'kind' }).tag, 'tool', '--format-field');
  t.throws(() => conv({ prompt: 'q', completion: 'a', format: 'a b' }), /x\.jsonl:1: "format" \(the format tag\) must be a short name/);
  t.equal(formatOf([{ role: 'user', content: 'q', train: false }]), 'cot');
});

t.test('the loss per format splits the step loss exactly', async (t) => {
  const cfg = makeConfig({ vocab_size: 64, hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, intermediate_size: 64, max_position_embeddings: 64, tie_word_embeddings: false });
  const model = LlamaModel.init(cfg, new Rng(7));
  const rng = new Rng(3);
  const tags = ['cot', 'pot', 'tool'];
  const ex = Array.from({ length: 12 }, (_, i) => {
    const n = 5 + rng.int(20);
    return { ids: Int32Array.from({ length: n }, () => rng.int(64)), trained: Uint8Array.from({ length: n }, (_, j) => (j > n / 3 ? 1 : 0)), tag: tags[i % 3] };
  });
  const T = 32;
  const rows = packEpoch(ex.map((e) => e.ids.length), T, 'bfd', 1, 0);
  const batches = [rowsToBatch(rows.slice(0, 3), ex, T, 0), rowsToBatch(rows.slice(3), ex, T, 0)];
  const n = batches.reduce((a, b) => a + b.trained, 0);
  const norm = batches.map((b) => ({ ...b, weights: b.weights!.map((w) => w / n), normalized: true }));
  const per = lossByFormat(model, norm, ex, T);
  t.same(Object.keys(per), ['loss_cot', 'loss_pot', 'loss_tool']);
  const count = (tag: string) => norm.reduce((a, b) => a + Array.from(b.example).filter((x, i) => x >= 0 && ex[x].tag === tag && b.weights![i] > 0).length, 0);
  const total = tags.reduce((a, tag) => a + per[`loss_${tag}`] * count(tag), 0) / n;
  const step = await evalLoss(model, norm, T);
  t.ok(Math.abs(total - step) < 1e-5, `sum over formats ${total} vs the step's loss ${step}`);
  model.dispose();
});

t.test('sft on mixed formats: loss per format, the tool template carried, held-out greedy accuracy', async (t) => {
  const ck = join(dir, 'ck');
  t.equal((await runCli(['tokenize', '-q', '-t', join(dir, 'tok'), '-o', join(dir, 'toks'), join(dir, 'text.jsonl')])).code, 0);
  const pre = await runCli(['pretrain', '-q', '--data', join(dir, 'toks'), '-o', ck, '--steps', '5', '--seq-len', '64', '--batch-size', '8']);
  t.equal(pre.code, 0, pre.stderr);
  const rng = new Rng(4);
  const data = Array.from({ length: 40 }, (_, i) => {
    const [a, b] = [rng.int(20) + 1, rng.int(20) + 1];
    const q = `What is ${a} times ${b}?`;
    if (i % 2) return { messages: [{ role: 'user', content: q }, { role: 'assistant', content: `We compute it.\n\`\`\`python\nprint(${a} * ${b})\n\`\`\`` }, { role: 'tool', content: String(a * b) }, { role: 'assistant', content: `So the product is \\boxed{${a * b}}.` }], answer: a * b };
    return { prompt: q, completion: `${a} times ${b} is ${a * b}. The answer is ${a * b}.`, answer: a * b };
  });
  writeFileSync(join(dir, 'mixed.jsonl'), data.map((d) => JSON.stringify(d)).join('\n') + '\n');
  const args = ['--init', ck, '--seq-len', '96', '--batch-size', '4', '--lr', '2e-3', '--log-interval', '2', '--valid', join(dir, 'mixed.jsonl')];
  const r = await runCli(['sft', '-o', join(dir, 'm'), '--steps', '4', ...args, '--eval-interval', '2', '--eval-accuracy-interval', '4', '--eval-max-tokens', '12', '--gold-field', 'answer', join(dir, 'mixed.jsonl')]);
  t.equal(r.code, 0, r.stderr);
  const m = lines(r.stdout).map((l) => JSON.parse(l) as Record<string, number>);
  const logged = m.filter((x) => x.loss !== undefined);
  t.same(logged.map((x) => x.step), [2, 4], 'metrics every --log-interval steps');
  for (const x of logged) t.ok(x.loss_cot > 0 && x.loss_tool > 0, `step ${x.step}: loss_cot ${x.loss_cot}, loss_tool ${x.loss_tool}`);
  const evals = m.filter((x) => x.valid_loss !== undefined);
  t.same(evals.map((x) => x.step), [2, 4]);
  t.notOk('valid_accuracy' in evals[0], 'no accuracy at step 2 (every 4 steps)');
  t.ok(evals[1].valid_accuracy >= 0 && evals[1].valid_accuracy <= 1, `valid_accuracy ${evals[1].valid_accuracy}`);
  t.match(r.stderr, /chat template: built-in markers with tool turns/);
  t.match(r.stderr, /formats: cot 20, tool 20/);
  t.match(r.stderr, /20 program-of-thought or tool examples .* left out/);
  t.match(r.stderr, /step 4: held-out greedy accuracy [\d.]+% \(\d+\/20\)/);
  const saved = JSON.parse(readFileSync(join(dir, 'm', 'tokenizer_config.json'), 'utf8')) as { chat_template: string };
  t.equal(saved.chat_template, builtinTemplate('markers', tok), 'the checkpoint carries the template with tool turns');

  const bad = await runCli(['sft', '-o', join(dir, 'n'), '--steps', '4', ...args, '--eval-interval', '3', '--eval-accuracy-interval', '4', join(dir, 'mixed.jsonl')]);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /--eval-accuracy-interval 4 must be a multiple of --eval-interval 3/);
});
