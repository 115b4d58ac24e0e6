// The matching rule on real benchmarks (../shared when present) and always on synthetic fixtures.
import t, { type Test } from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildIndex } from '../../src/decontam/bench.js';
import { Words, splitWords, wordStrings } from '../../src/decontam/words.js';
import type { NgramIndex } from '../../src/decontam/ngram-index.js';
import { readAllJsonl } from '../../src/jsonl/index.js';
import { benchItems, perturb } from '../../fixtures/decontam/gen.js';
import { mulberry32 } from '../../fixtures/rng.js';
import { sharedData } from '../helpers.js';

const WEB = [
  'Welcome to our community forum. Please read the rules before posting and be kind to other members.',
  'Shipping is free on orders over fifty dollars, and returns are accepted within thirty days of delivery.',
  'The weather this weekend looks sunny with a light breeze, perfect for a walk in the park.',
];

const w = new Words();
const hit = (index: NgramIndex, text: string) => index.firstHit(splitWords(text, w));

/** Plant perturbed copies of `texts` inside unrelated web text and check every one is caught. */
function checkPlanted(t: Test, index: NgramIndex, texts: string[], seed: number): void {
  const rnd = mulberry32(seed);
  let caught = 0;
  const missed: string[] = [];
  for (const q of texts) {
    const doc = `${WEB[0]}\n\n${perturb(q, rnd)}\n\n${WEB[1]}`;
    if (hit(index, doc)) caught++;
    else missed.push(q);
  }
  t.same(missed, [], `all ${texts.length} planted texts caught`);
  t.equal(caught, texts.length);
  for (const d of WEB) t.equal(hit(index, d), null, 'unrelated web text is kept');
}

function sample<T>(xs: T[], k: number, seed: number): T[] {
  const rnd = mulberry32(seed);
  return Array.from({ length: k }, () => xs[Math.floor(rnd() * xs.length)]);
}

t.test('synthetic benchmark: planted questions caught, answers alone never', async (t) => {
  const dir = t.testdir();
  const items = benchItems(100, 7);
  const file = join(dir, 'arith.jsonl');
  writeFileSync(file, items.map((x) => JSON.stringify(x)).join('\n') + '\n');
  const index = await buildIndex([file], 10);
  checkPlanted(t, index, sample(items, 40, 1).map((x) => x.question), 11);
  for (const x of items.slice(0, 30)) t.equal(hit(index, `Answer: ${x.answer.split('#### ')[1]}`), null);
  t.equal(hit(index, 'the answer is \\frac{1}{2} or 72'), null);
});

const NO_SHARED = !sharedData('benchmarks') && '../shared/data not present';

t.test('GSM8K test questions planted in web text are caught', { skip: NO_SHARED }, async (t) => {
  const f = sharedData('benchmarks/gsm8k/test.jsonl')!;
  const index = await buildIndex([f], 10);
  const qs = (await readAllJsonl([f])).map((r) => r.value.question as string);
  checkPlanted(t, index, sample(qs, 150, 2), 12);
  const src = index.source(hit(index, `xx ${qs[0].toUpperCase()} yy`)!.text);
  t.same(src, { benchmark: 'gsm8k/test', item: 'line 1', field: 'question' });
});

t.test('MATH test problems and solutions planted in web text are caught', { skip: NO_SHARED }, async (t) => {
  const f = sharedData('benchmarks/math/test.jsonl')!;
  const index = await buildIndex([f], 10);
  const recs = await readAllJsonl([f]);
  // Problems of at least 3 distinct words; shorter ones are below the rule's floor by design.
  const long = recs.filter((r) => wordStrings(splitWords(r.value.problem as string, w)).length >= 10);
  checkPlanted(t, index, sample(long, 150, 3).map((r) => r.value.problem as string), 13);
  checkPlanted(t, index, sample(recs, 50, 4).map((r) => r.value.solution as string), 14);
  const r = recs[0];
  t.same(index.source(hit(index, r.value.problem as string)!.text), { benchmark: 'math/test', item: r.value.unique_id, field: 'problem' });
});

t.test('final answers alone never remove a document', { skip: NO_SHARED }, async (t) => {
  const math = sharedData('benchmarks/math/test.jsonl')!;
  const mario = sharedData('benchmarks/math/mario_math_testset_annotation.json')!;
  const gsm = sharedData('benchmarks/gsm8k/test.deepseek.jsonl')!;
  const index = await buildIndex([math, mario, gsm], 10);
  t.equal(hit(index, '72'), null);
  t.equal(hit(index, '\\frac{1}{2}'), null);
  t.equal(hit(index, 'so x = \\frac{1}{2}, \\frac{1}{2} and 2 \\sqrt{2}'), null);
  t.equal(hit(index, 'Then 12 and 13 are the legs.'), null, 'MARIO answer "12 and 13" is not indexed');
  const answers = (await readAllJsonl([math, gsm])).map((r) => String(r.value.answer));
  let removed = 0;
  for (const a of answers) if (hit(index, `zzq ${a} zzq`)) removed++;
  // MARIO's file holds bare final answers; those of 3+ words with a content word ("12 square units")
  // are short texts and, by the rule, match as exact sequences.
  t.ok(removed < answers.length * 0.015, `${removed} of ${answers.length} answers matched as exact short texts`);
  for (const a of answers.slice(0, 500)) {
    const ws = wordStrings(splitWords(a, w));
    if (ws.length < 3) t.equal(hit(index, `Result: ${a}.`), null, `answer "${a}" (${ws.length} words)`);
  }
});

t.test('short benchmark texts (3-9 words) match only as exact word sequences; LaTeX commands are words', async (t) => {
  const dir = t.testdir();
  const file = join(dir, 'short.jsonl');
  const texts = [
    'Compute \\dbinom{8}{4}.',
    'Add 2 and 3 apples?',
    'Simplify it',
    '12 and 13',
    'What is 2 + 3?',
    'The k-means algorithm:',
    'Compute $\\cos 315^\\circ$.',
    'What is $\\frac{1}{2} + \\frac{1}{3}$?',
  ];
  writeFileSync(file, texts.map((q, i) => JSON.stringify({ id: `s${i}`, question: q })).join('\n'));
  const index = await buildIndex([file], 10);
  t.ok(hit(index, 'Homework: COMPUTE $\\binom{8}{4}$ please'), '\\dbinom and \\binom are one word');
  t.ok(hit(index, 'so: add 2 and 3 apples, easy'), 'short text, exact sequence');
  t.equal(hit(index, 'add 2 and 3 red apples'), null, 'not contiguous');
  t.ok(hit(index, 'We use the K-Means algorithm.'));
  t.equal(hit(index, 'add 2 and 4 apples'), null, 'numbers matter');
  t.equal(hit(index, 'simplify it'), null, 'two words never match');
  t.ok(hit(index, 'the answer: 12 and 13'), 'a whole question of 3 words is matched, whatever its words');
  t.ok(hit(index, 'what is 2 + 3'));
  t.ok(hit(index, 'Q: COMPUTE $\\cos 315^{\\circ}$!'), 'command words make "Compute $\\cos 315^\\circ$." four words');
  t.equal(hit(index, 'compute $\\cos 316^\\circ$'), null);
  t.equal(hit(index, 'compute $\\sin 315^\\circ$'), null, 'the command is part of the text');
  t.ok(hit(index, 'what is $\\dfrac{1}{2}+\\tfrac{1}{3}$ ?'));
  t.match(index.benchmarks[0], { short: 7, tooShort: 1, answers: 0 });
});

t.test('CMATH (Chinese) questions are caught, unrelated Chinese text is not', async (t) => {
  const dir = t.testdir();
  const own = join(dir, 'zh.jsonl');
  const zh = ['妈咪买了3盒茶叶，一盒茶叶有6小包，一共买了多少小包茶叶？', '小明有15个苹果，给了小红4个，还剩多少个？'];
  writeFileSync(own, zh.map((q, i) => JSON.stringify({ id: i, question: q, golden: '18' })).join('\n'));
  const f = sharedData('benchmarks/cmath/test.jsonl');
  const index = await buildIndex(f ? [own, f] : [own], 10);
  t.ok(hit(index, `今天我们来做题。${zh[0].replace('，', ', ').replace('？', '?')}答案是18。`), 'punctuation and spacing changes');
  t.ok(hit(index, `欢迎。\n小明有15个苹果，\n给了小红4个，还剩多少个`));
  t.equal(hit(index, '今天天气很好，我们去公园散步。这家店的价格很便宜，服务也不错。'), null);
  t.equal(hit(index, '妈咪买了4盒茶叶，一盒茶叶有6'), null, 'a changed number breaks every 10-gram through it');
  if (f) {
    const qs = (await readAllJsonl([f])).map((r) => r.value.question as string).filter((q) => q.length >= 10);
    let caught = 0;
    for (const q of sample(qs, 100, 5)) if (hit(index, `网友提问：${q.replace(/，/g, ',')} 谢谢！`)) caught++;
    t.equal(caught, 100, 'CMATH questions planted in Chinese text');
  }
});

t.test('-n changes the n-gram length', async (t) => {
  const dir = t.testdir();
  const file = join(dir, 'b.jsonl');
  writeFileSync(file, JSON.stringify({ question: 'one two three four five six seven eight nine ten eleven twelve' }) + '\n');
  const ten = await buildIndex([file], 10);
  const five = await buildIndex([file], 5);
  const doc = 'zero four five six seven eight zero';
  t.equal(hit(ten, doc), null);
  t.same(hit(five, doc), { text: 0, word: 1, words: 5 });
});

t.test('not evidence: sequences frequent in ordinary text (stoplist) or shared by many items', async (t) => {
  const dir = t.testdir();
  const file = join(dir, 'f.jsonl');
  const stock = 'Multiplying the numerator and denominator by the conjugate of the denominator gives';
  const long = Array.from({ length: 40 }, (_, i) => ['we', 'see', 'that', 'this', 'is', 'so'][i % 6]).join(' ');
  const items = [
    {
      problem: 'Find the largest value of the sum of the squares of four reals.',
      solution: 'We have that $a^2 + b^2 + c^2 + d^2 = 1$, so the numbers $1, 2, 3, 4, 5, 6, 7, 8, 9, 10$ are listed here.',
    },
    { problem: 'Compute \\[\\frac{1990^3 - 1000^3 - 990^3}{(1990)(1000)(990)}.\\]', solution: 'It is $3$.' },
    { problem: 'On the other hand', solution: long },
    ...Array.from({ length: 12 }, (_, i) => ({ problem: `Rationalize the denominator of item ${i + 1000}.`, solution: `${stock} $${i + 2}$.` })),
  ];
  writeFileSync(file, items.map((x) => JSON.stringify(x)).join('\n'));
  // Word pairs seen in ordinary text; and a line holding a short benchmark text.
  const pairs = ['1 2', '2 3', '3 4', '4 5', '5 6', '6 7', '7 8', '8 9', '9 10', 'a 2', '2 b', 'b 2', '2 c', 'c 2', '2 d', 'd 2', '2 1'];
  const formula = ['compute \\frac', '\\frac 1990', '1990 3', '3 1000', '1000 3', '3 990', '990 3', '3 1990', '1990 1000', '1000 990'];
  const stop = join(dir, 'stop.txt');
  writeFileSync(stop, ['# a comment', ...pairs, ...formula, 'we see that this is so', 'so we see', 'it is easy to see that on the other hand'].join('\n') + '\n');
  const index = await buildIndex([file], 10, { stoplist: [stop] });
  const bare = await buildIndex([file], 10, { stoplist: ['none'], maxItems: 0 });

  const list = 'the list is 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 again';
  t.equal(hit(index, list), null, 'a chain of ordinary word pairs is not evidence');
  t.ok(hit(bare, list), 'without the stoplist it is');
  t.equal(hit(index, 'so a^2 + b^2 + c^2 + d^2 = 1 holds'), null);
  t.ok(hit(index, 'We have that a^2 + b^2 + c^2 + d^2 = 1, so the numbers'), "a benchmark's own words break the chain");
  t.ok(hit(index, 'FIND the largest value of the sum of the squares'));

  t.equal(hit(index, `Hint: ${stock} the answer.`), null, 'shared by 12 items (>= --max-items 10): not evidence');
  t.ok(hit(bare, `Hint: ${stock} the answer.`));
  t.ok(hit(await buildIndex([file], 10, { stoplist: [stop], maxItems: 13 }), `${stock} x`), '--max-items 13 keeps it');

  t.equal(hit(index, 'and on the other hand, it'), null, 'a short text inside a stoplist line is not evidence');
  t.ok(hit(bare, 'and on the other hand, it'));

  // A text none of whose n-grams is left is matched whole; a longer one by its windows of 31 words.
  t.ok(hit(index, 'Compute $\\frac{1990^3 - 1000^3 - 990^3}{(1990)(1000)(990)}$ now'), 'an all-formula problem, copied whole');
  t.equal(hit(index, 'so $\\frac{1990^3 - 1000^3 - 990^3}{(1990)(1000)(990)}$'), null, 'part of it is not evidence');
  const words = long.split(' ');
  t.ok(hit(index, `xx ${words.slice(3, 34).join(' ')} yy`), '31 words of a long ordinary text');
  t.equal(hit(index, `xx ${words.slice(3, 33).join(' ')} yy`), null, '30 are not');

  const info = index.benchmarks[0];
  t.ok(info.stoplisted >= 5, `${info.stoplisted} left out by the stoplist`);
  t.ok(info.common >= 1, `${info.common} left out as shared by >= 10 items`);
  t.match(info, { whole: 2, short: 14, unmatchable: 1 }); // "On the other hand": stoplisted whole
  t.same(index.rules, { max_items: 10, stoplist: { sources: [stop], entries: 30 } });
  t.same(bare.rules, { max_items: 0, stoplist: { sources: [], entries: 0 } });
  t.match(bare.benchmarks[0], { stoplisted: 0, common: 0, whole: 0 });
});

t.test('final answers are values: their n-grams count, they are never matched whole', async (t) => {
  const dir = t.testdir();
  const file = join(dir, 'a.json');
  const rationale = 'Natalia sold 48/2 = <<48/2=24>>24 clips in May and 48+24 = <<48+24=72>>72 clips in all.';
  writeFileSync(file, JSON.stringify([{ index: 1, question: 'Factor $r^2+10r+25$.', answer: '(r+5)^2' }, { index: 2, question: 'How many clips did Natalia sell?', answer: rationale }]));
  const index = await buildIndex([file], 10);
  t.equal(hit(index, 'so it is (r+5)^2 here'), null, '"r 5 2" is a value');
  t.ok(hit(index, 'FACTOR $r^2 + 10r + 25$'), 'the question is a short text');
  t.ok(hit(index, 'natalia sold 48/2 = 24 clips in may and 48+24 = 72 clips'), 'a rationale answer: annotations dropped on both sides');
  t.match(index.benchmarks[0], { answers: 1, short: 2, texts: 1 });
});
