// `eval run --model CHECKPOINT`: a local checkpoint evaluated in process, through the same generator as
// `mathpipe sample`, with the same records and summary as the HTTP path.
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lines, runCli } from '../helpers.js';
import { tinyConfig, writeTinyCheckpoint } from '../sample/fixtures.js';

t.test('eval run --model CHECKPOINT: responses are sample\'s greedy completions of the prompts eval builds', async (t) => {
  const dir = t.testdir();
  const ck = join(dir, 'ck');
  await writeTinyCheckpoint(ck, { step: 7, config: tinyConfig({ max_position_embeddings: 256 }) });
  const items = [
    { id: 'a', question: 'What is 2 + 3?', answer: '5' },
    { id: 'b', question: 'What is 4 + 4?', answer: '8' },
  ];
  writeFileSync(join(dir, 'items.jsonl'), items.map((x) => JSON.stringify(x)).join('\n') + '\n');
  const common = ['--input', join(dir, 'items.jsonl'), '--style', 'instruct'];
  const ev = await runCli(['eval', 'run', ...common, '--model', ck, '--temperature', '0', '--max-tokens', '6', '--backend', 'cpu', '-o', join(dir, 'out.jsonl'), '--summary', join(dir, 's.json'), '--no-cache']);
  t.equal(ev.code, 0, ev.stderr);
  const recs = lines(readFileSync(join(dir, 'out.jsonl'), 'utf8')).map((l) => JSON.parse(l) as { id: string; responses: string[]; correct: boolean[] });
  t.same(recs.map((r) => r.id), ['a', 'b']);
  const summary = JSON.parse(readFileSync(join(dir, 's.json'), 'utf8')) as Record<string, unknown>;
  t.match(summary, { model: ck, questions: 2, samples: 2, temperature: 0 });
  t.ok('pass_at_k' in summary && 'maj_at_k' in summary && 'accuracy' in summary, 'the summary of the HTTP path');

  const pr = await runCli(['eval', 'prompts', ...common]);
  t.equal(pr.code, 0, pr.stderr);
  const sa = await runCli(['sample', '-m', ck, '-t', '0', '--max-tokens', '6', '--backend', 'cpu'], { input: pr.stdout });
  t.equal(sa.code, 0, sa.stderr);
  t.same(recs.map((r) => r.responses[0]), lines(sa.stdout).map((l) => (JSON.parse(l) as { completion: string }).completion), 'the same text as mathpipe sample');

  // A prompt longer than the context is that item's error (counted wrong, listed), as a server's 400.
  writeFileSync(join(dir, 'long.jsonl'), [...items, { id: 'c', question: 'What is '.repeat(40) + '1?', answer: '1' }].map((x) => JSON.stringify(x)).join('\n') + '\n');
  const long = await runCli(['eval', 'run', '--input', join(dir, 'long.jsonl'), '--style', 'instruct', '--model', ck, '--max-tokens', '4', '--backend', 'cpu', '--summary', join(dir, 'l.json'), '--no-cache']);
  t.equal(long.code, 0, long.stderr);
  t.match(long.stderr, /c: .*the prompt has \d+ tokens, more than the model's context of 256 \(counted wrong\)/);
  t.match(JSON.parse(readFileSync(join(dir, 'l.json'), 'utf8')), { questions: 3 });

  const bad = await runCli(['eval', 'run', ...common, '--model', dir]);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /without --api this must be a checkpoint directory/);
});
