// A zero-latency OpenAI-compatible server for bench/eval/run.sh: answers GSM8K questions with their gold
// answer (wrong on every third sample), so the bench measures mathpipe's own overhead per request.
import { readFileSync } from 'node:fs';
import { startFakeServer, lastQuestion } from '../../test/eval/fake-openai.js';

const gold = new Map<string, string>();
for (const l of readFileSync(process.argv[2]!, 'utf8').trim().split('\n')) {
  const r = JSON.parse(l) as { question: string; answer: string };
  gold.set(r.question.trim(), r.answer.split('####')[1]!.trim());
}
const srv = await startFakeServer({
  answer: (prompt, i) => {
    const g = gold.get(lastQuestion(prompt));
    return g === undefined ? 'I do not know.' : i % 3 === 2 ? 'Hmm. The answer is 0.' : `We compute step by step. The answer is ${g}.`;
  },
});
process.stdout.write(`${srv.url}\n`);
process.on('SIGTERM', () => void srv.close().then(() => process.exit(0)));
