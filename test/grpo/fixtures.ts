// The grpo tests' task: a tiny random byte-level checkpoint and N questions whose gold answer is 7 ("Say seven i:"),
// which such a model learns in a few steps.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeTinyCheckpoint } from '../sample/fixtures.js';

export async function sevenTask(dir: string, n: number): Promise<{ ck: string; q: string }> {
  const ck = join(dir, 'ck');
  await writeTinyCheckpoint(ck, { seed: 1 });
  const q = join(dir, 'q.jsonl');
  writeFileSync(q, Array.from({ length: n }, (_, i) => JSON.stringify({ id: `q${i}`, question: `Say seven ${i}:`, answer: '7' })).join('\n') + '\n');
  return { ck, q };
}
