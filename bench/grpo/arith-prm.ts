// A process verifier for the synthetic arithmetic problems (fixtures/sft/problems.ts), speaking `grpo --step-scorer`'s
// JSONL protocol: one request per line on stdin, {"step_rewards": [...]} per line on stdout. The solutions are
// sentences of equations ("First 9 + 5 = 14. Then 14 - 9 = 5. The answer is 5."), so each step can be checked
// exactly: a step scores 1 when every equation in it is right and takes its operands from the question or from
// results of earlier steps, and "The answer is N" scores 1 when N is the gold answer; otherwise 0. A rule, not a
// learned PRM, but one that judges each step on its own, which is what process supervision needs.
import { createInterface } from 'node:readline';

interface Request {
  question: string;
  gold: string;
  steps: string[];
}

const EQ = /(\d+)\s*([-+*])\s*(\d+)\s*=\s*(\d+)/g;

export function stepRewards(r: Request): number[] {
  const known = new Set((r.question.match(/\d+/g) ?? []).map(Number));
  return r.steps.map((s) => {
    let ok = true;
    let seen = false;
    for (const m of s.matchAll(EQ)) {
      seen = true;
      const [a, b, c] = [Number(m[1]), Number(m[3]), Number(m[4])];
      const v = m[2] === '+' ? a + b : m[2] === '-' ? a - b : a * b;
      if (v !== c || !known.has(a) || !known.has(b)) ok = false;
      known.add(c);
    }
    const ans = /answer is\s*(-?\d+)/.exec(s);
    if (ans) {
      seen = true;
      if (ans[1] !== r.gold.trim()) ok = false;
    }
    return seen && ok ? 1 : 0;
  });
}

if (process.argv[1]?.endsWith('arith-prm.js'))
  createInterface({ input: process.stdin }).on('line', (l) => {
    process.stdout.write(JSON.stringify({ step_rewards: stepRewards(JSON.parse(l) as Request) }) + '\n');
  });
