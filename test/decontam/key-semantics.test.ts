// The key semantics of the matching rule that match.test.ts checks on the real benchmarks when ../shared is
// present, here on synthetic files in the same layouts, so a clone without ../shared runs them too:
// GSM8K (question + "#### N" rationale, no id: items are "line N"), MATH (problem + solution, unique_id),
// MARIO's JSON array of bare final answers and DeepSeek's GSM8K (answer + cot). Names come from the paths
// (gsm8k/test), as for the real files.
import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildIndex } from '../../src/decontam/bench.js';
import type { NgramIndex } from '../../src/decontam/ngram-index.js';
import { Words, splitWords, wordStrings } from '../../src/decontam/words.js';
import { benchItems, perturb } from '../../fixtures/decontam/gen.js';
import { mulberry32 } from '../../fixtures/rng.js';

const WEB = [
  'Welcome to our community forum. Please read the rules before posting and be kind to other members.',
  'Shipping is free on orders over fifty dollars, and returns are accepted within thirty days of delivery.',
];
const w = new Words();
const hit = (index: NgramIndex, text: string) => index.firstHit(splitWords(text, w));

function planted(index: NgramIndex, texts: string[], seed: number): string[] {
  const rnd = mulberry32(seed);
  return texts.filter((q) => !hit(index, `${WEB[0]}\n\n${perturb(q, rnd)}\n\n${WEB[1]}`));
}

function write(dir: string, path: string, body: string): string {
  const f = join(dir, path);
  mkdirSync(join(f, '..'), { recursive: true });
  writeFileSync(f, body);
  return f;
}
const jsonl = (rows: object[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

const SUBJECTS = ['polynomial', 'triangle', 'sequence', 'function', 'circle', 'parabola'];
/** MATH-like items: a problem of 10+ words, a worked solution, a boxed answer, a unique_id. */
function mathItems(n: number): { problem: string; solution: string; answer: string; level: string; type: string; unique_id: string }[] {
  return Array.from({ length: n }, (_, i) => {
    const s = SUBJECTS[i % SUBJECTS.length];
    const a = 3 + i;
    const b = 7 + 2 * i;
    return {
      problem: `Let $f(x) = ${a}x^2 + ${b}x - ${i + 1}$ describe the ${s} number ${i}. Find the sum of the roots of $f$ and express it as a common fraction.`,
      solution: `By Vieta's formulas the sum of the roots of the ${s} ${a}x^2 + ${b}x - ${i + 1} is $-\\frac{${b}}{${a}}$, so the answer is $\\boxed{-\\frac{${b}}{${a}}}$.`,
      answer: `-\\frac{${b}}{${a}}`,
      level: `Level ${1 + (i % 5)}`,
      type: 'Algebra',
      unique_id: `test/algebra/${i}.json`,
    };
  });
}

t.test('GSM8K layout: perturbed questions planted in web text are caught; items without id are "line N"', async (t) => {
  const dir = t.testdir();
  const items = benchItems(80, 21).map(({ question, answer }) => ({ question, answer }));
  const f = write(dir, 'gsm8k/test.jsonl', jsonl(items));
  const index = await buildIndex([f], 10);
  t.same(planted(index, items.map((x) => x.question), 12), [], 'every planted question caught');
  for (const d of WEB) t.equal(hit(index, d), null, 'unrelated web text is kept');
  const src = index.source(hit(index, `xx ${items[0].question.toUpperCase()} yy`)!.text);
  t.same(src, { benchmark: 'gsm8k/test', item: 'line 1', field: 'question' });
});

t.test('MATH layout: problems and solutions caught; the source names unique_id and the field', async (t) => {
  const dir = t.testdir();
  const recs = mathItems(40);
  const f = write(dir, 'math/test.jsonl', jsonl(recs));
  const index = await buildIndex([f], 10);
  t.ok(recs.every((r) => wordStrings(splitWords(r.problem, w)).length >= 10), 'problems above the short-text floor');
  t.same(planted(index, recs.map((r) => r.problem), 13), [], 'problems');
  t.same(planted(index, recs.map((r) => r.solution), 14), [], 'solutions');
  t.same(index.source(hit(index, recs[0].problem)!.text), { benchmark: 'math/test', item: 'test/algebra/0.json', field: 'problem' });
});

t.test('final answers alone never remove a document (MATH + MARIO + DeepSeek GSM8K layouts)', async (t) => {
  const dir = t.testdir();
  const recs = mathItems(20);
  const math = write(dir, 'math/test.jsonl', jsonl(recs));
  const marioAnswers = ['72', '\\frac{1}{2}', '12 and 13', '2 \\sqrt{2}', '(3, -1)', 'x = 5', '12 square units'];
  const mario = write(
    dir,
    'math/mario_math_testset_annotation.json',
    JSON.stringify(marioAnswers.map((answer, i) => ({ index: i + 1, question: recs[i].problem, answer, human_type: 'Real' })), null, 4),
  );
  const gsmItems = benchItems(20, 5).map(({ question, answer }) => ({ question, answer: answer.split('#### ')[1], cot: answer.split('\n#### ')[0] }));
  const gsm = write(dir, 'gsm8k/test.deepseek.jsonl', jsonl(gsmItems));
  const index = await buildIndex([math, mario, gsm], 10);
  t.equal(hit(index, '72'), null);
  t.equal(hit(index, '\\frac{1}{2}'), null);
  t.equal(hit(index, 'so x = \\frac{1}{2}, \\frac{1}{2} and 2 \\sqrt{2}'), null);
  t.equal(hit(index, 'Then 12 and 13 are the legs.'), null, 'MARIO answer "12 and 13" is not indexed');
  t.equal(hit(index, 'The area is 12 square units in all.'), null, 'a final answer is a value: never matched whole, even of 3+ words');
  const answers = [...recs.map((r) => r.answer), ...gsmItems.map((x) => x.answer), ...marioAnswers];
  for (const a of answers) {
    if (wordStrings(splitWords(a, w)).length < 3) t.equal(hit(index, `Result: ${a}.`), null, `answer "${a}"`);
  }
  t.ok(hit(index, gsmItems[3].question), 'the questions next to those answers are still caught');
  t.same(index.source(hit(index, recs[2].problem)!.text), { benchmark: 'math/test', item: 'test/algebra/2.json', field: 'problem' }, 'a question in two files points at the first');
});
