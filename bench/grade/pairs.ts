// False-positive probe: random pairs of different MATH test gold answers (seeded) should almost never be
// equal. Every pair the checker calls equal is printed so it can be judged (most are the same value
// written twice: 1.25 vs 1\frac14). Usage: node pairs.js MATH_TEST_JSONL [PAIRS]
import { readFileSync } from 'node:fs';
import { answersEqual } from '../../src/checker/equal.js';

const [path, count = '20000'] = process.argv.slice(2);
if (!path) throw new Error('usage: pairs.js math/test.jsonl [pairs]');
const answers = [...new Set(readFileSync(path, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { answer: string }).answer))];
const symbolic = answers.filter((a) => /[a-zA-Z\\]/.test(a));
let s = 12345;
const rnd = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
for (const [name, pool] of [['all answers', answers], ['non-numeric answers', symbolic]] as const) {
  let n = 0;
  let eq = 0;
  const t0 = performance.now();
  for (let k = 0; k < Number(count); k++) {
    const a = pool[Math.floor(rnd() * pool.length)]!;
    const b = pool[Math.floor(rnd() * pool.length)]!;
    if (a === b) continue;
    n++;
    if (answersEqual(a, b)) {
      eq++;
      console.log(`  equal: ${JSON.stringify(a)} ~ ${JSON.stringify(b)}`);
    }
  }
  console.log(`${name}: ${n} distinct pairs, ${eq} judged equal, ${((performance.now() - t0) / n).toFixed(2)} ms/pair (one thread)`);
}
