// Prompts in DeepSeek-Math's formats: the exemplar block is rebuilt exactly, queries are formatted and
// right-stripped like format_prompt(...).rstrip(), exemplars drawn from train are seeded.
import t from 'tap';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { sharedData } from '../helpers.js';
import { BENCHMARKS } from '../../src/eval/benchmarks.js';
import { PromptBuilder, applyChatTemplate, drawExemplars, exemplarAnswer, loadPromptFile, splitTemplate, BUILTIN_FORMATS } from '../../src/eval/prompts.js';
import type { EvalItem } from '../../src/eval/benchmarks.js';

const gsm = BENCHMARKS.gsm8k!;
const item: EvalItem = { id: 'x', question: 'What is 2+2? Cost: $5 and $& too', gold: '4' };

t.test('built-in formats: GSM8K Q:/A: and Minerva Problem:/Solution:', async (t) => {
  const pf = { ...BUILTIN_FORMATS.cot_gsm_8_shot!, exemplars: [{ question: 'q1', answer: 'a1. The answer is 1.' }, { question: 'q2', answer: 'a2' }] };
  const b = new PromptBuilder({ style: 'cot', bench: gsm, promptFile: pf, chatTemplate: 'none' });
  const p = b.build(item);
  t.equal(p.prompt, 'Q: q1\nA: a1. The answer is 1.\n\n\nQ: q2\nA: a2\n\n\nQ: What is 2+2? Cost: $5 and $& too\nA:');
  t.same(p.stop, ['\nQ:']);
  t.equal(p.extract, 'auto');
  const mf = { ...BUILTIN_FORMATS.cot_minerva_math_4_shot!, exemplars: [{ question: 'P', answer: 'S' }] };
  const m = new PromptBuilder({ style: 'cot', bench: BENCHMARKS.math!, promptFile: mf, chatTemplate: 'none' }).build(item);
  t.equal(m.prompt, 'Problem:\nP\n\nSolution:\nS\n\nProblem:\nWhat is 2+2? Cost: $5 and $& too\n\nSolution:');
  t.same(splitTemplate('{few_shot_prompt}\n\n\nQ: {question}\nA: {answer}'), { sep: '\n\n\n', item: 'Q: {question}\nA: {answer}' });
});

t.test('zero-shot instruct and tool templates, chat templates, choice extraction', async (t) => {
  const i = new PromptBuilder({ style: 'instruct', bench: gsm, chatTemplate: 'none' }).build(item);
  t.equal(i.prompt, `${item.question}\nPlease reason step by step, and put your final answer within \\boxed{}.`);
  t.same(i.stop, []);
  const zh = new PromptBuilder({ style: 'instruct', bench: BENCHMARKS.cmath!, chatTemplate: 'deepseek' }).build(item);
  t.equal(zh.prompt, `User: ${item.question}\n请通过逐步推理来解答问题，并把最终答案放置于\\boxed{}中。\n\nAssistant:`);
  const tool = new PromptBuilder({ style: 'tool', bench: gsm, chatTemplate: 'chatml', system: 'sys' }).build(item);
  t.match(tool.prompt, /^<\|im_start\|>system\nsys<\|im_end\|>\n<\|im_start\|>user\n.*integrate natural language reasoning with programs/s);
  t.ok(tool.prompt.endsWith('<|im_start|>assistant\n'));
  t.same(tool.stop, ['```output']);
  t.match(applyChatTemplate('llama3', 'hi'), /^<\|begin_of_text\|><\|start_header_id\|>user<\|end_header_id\|>\n\nhi<\|eot_id\|>/);
  t.equal(new PromptBuilder({ style: 'instruct', bench: BENCHMARKS.mmlu_stem!, chatTemplate: 'none' }).build(item).extract, 'choice');
  t.throws(() => new PromptBuilder({ style: 'cot', bench: gsm, chatTemplate: 'none' }), /prompt file/);
});

t.test('exemplars drawn from train: seeded, in the format of the prompt', async (t) => {
  const train: EvalItem[] = Array.from({ length: 30 }, (_, k) => ({ id: String(k), question: `q${k}`, gold: String(k), solution: `Add <<1+1=2>>2 things.\n#### ${k}` }));
  const a = drawExemplars(train, 8, 1, 'cot_gsm_8_shot');
  t.equal(a.length, 8);
  t.same(drawExemplars(train, 8, 1, 'cot_gsm_8_shot'), a, 'same seed, same exemplars');
  t.notSame(drawExemplars(train, 8, 2, 'cot_gsm_8_shot'), a, 'another seed, others');
  t.equal(exemplarAnswer('cot_gsm_8_shot', train[3]!), 'Add 2 things. The answer is 3.');
  t.equal(exemplarAnswer('cot_minerva_math_4_shot', { ...train[3]!, solution: 'So $\\boxed{3}$.' }), 'So $\\boxed{3}$.\nFinal Answer: The final answer is $3$. I hope it is correct.');
});

const prompts = sharedData('prompts');
t.test('the DeepSeek prompt files: exemplar blocks rebuilt byte for byte', { skip: prompts ? false : '../shared/data/prompts absent' }, async (t) => {
  for (const name of readdirSync(prompts!).filter((f) => /^(cot|pal)_.*\.json$/.test(f))) {
    const pf = loadPromptFile(join(prompts!, name));
    const { sep, item: it } = splitTemplate(pf.template);
    const rebuilt = pf.exemplars.map((e) => it.replace('{question}', () => e.question).replace('{answer}', () => e.answer)).join(sep);
    // Three files keep a quirk of the original (numbered 问题 lines, OCW's trailing spaces, PAL-GSM ignores answers).
    if (/gaokao|ocwcourses|pal_gsm/.test(name)) continue;
    t.equal(rebuilt, pf.few_shot_prompt, name);
  }
  const pf = loadPromptFile(join(prompts!, 'cot_gsm_8_shot.json'));
  const p = new PromptBuilder({ style: 'cot', bench: gsm, promptFile: pf, chatTemplate: 'none' }).build(item);
  t.ok(p.prompt.startsWith(pf.few_shot_prompt!), 'the stored few-shot block is used verbatim');
  t.ok(p.prompt.endsWith(`\n\n\nQ: ${item.question}\nA:`));
  const pal = loadPromptFile(join(prompts!, 'pal_gsm_8_shot.json'));
  const pp = new PromptBuilder({ style: 'pot', bench: gsm, promptFile: pal, chatTemplate: 'none' }).build(item);
  t.ok(pp.prompt.endsWith(`Q: ${item.question}\n\n# solution in Python:`));
  t.equal(pp.extract, 'none');
});

// Every benchmark's prompts against a golden file generated from DeepSeek-Math's own rules (process_utils.py,
// format_prompt, the .lstrip() of run_cot_eval.py) by test/eval/golden/deepseek_prompts.py. The golden
// holds hashes only; the prompts are rebuilt here from ../shared/data.
const benchDir = sharedData('benchmarks');
t.test('prompts are byte-identical to DeepSeek\'s for every benchmark (golden hashes)', { skip: prompts && benchDir ? false : '../shared/data absent' }, async (t) => {
  const { readFileSync } = await import('node:fs');
  const { createHash } = await import('node:crypto');
  const { loadBenchmark } = await import('../../src/eval/benchmarks.js');
  const golden = JSON.parse(readFileSync(new URL('../../../test/eval/golden/deepseek-prompts.json', import.meta.url), 'utf8')) as {
    benches: Record<string, { prompt: string; count: number; chunks: string[] }>;
  };
  const CHUNK = 16;
  for (const [key, g] of Object.entries(golden.benches)) {
    const [name, style] = key.split('/') as [string, 'cot' | 'pot'];
    const items = await loadBenchmark(BENCHMARKS[name]!, 'test', benchDir!);
    const pf = loadPromptFile(join(prompts!, `${g.prompt}.json`));
    const b = new PromptBuilder({ style, bench: BENCHMARKS[name]!, promptFile: pf, chatTemplate: 'none' });
    t.equal(items.length, g.count, `${key}: question count`);
    const bad: string[] = [];
    for (let k = 0; k * CHUNK < items.length; k++) {
      const h = createHash('sha256');
      for (const it of items.slice(k * CHUNK, (k + 1) * CHUNK)) h.update(createHash('sha256').update(b.build(it).prompt, 'utf8').digest());
      if (h.digest('hex').slice(0, 16) !== g.chunks[k]) bad.push(`${items[k * CHUNK]!.id}..`);
    }
    t.same(bad, [], `${key}: ${items.length} prompts${bad.length ? `; chunks that differ start at ${bad.slice(0, 5).join(', ')}` : ''}`);
  }
});
