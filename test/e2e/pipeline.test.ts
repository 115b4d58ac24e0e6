// One end-to-end run of the pipeline at tiny sizes, through the real binary and real files:
// mine -> classify predict -> decontam -> tokenize -> pretrain -> sft -> sample -> grade. Each stage's output is
// checked for what the next stage relies on. Then `make demo`'s own pipeline (fixtures/demo.mk) at tiny sizes:
// the recall loop's second round, decontam of planted items, grpo and the eval of both checkpoints, and a re-run
// that redoes nothing.
import t from 'tap';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runShell, lines, ROOT } from '../helpers.js';
import { IndexedDataset } from '../../src/dataset/indexed.js';

// Seconds alone on 2 cores; many minutes when the machine is shared and loaded.
t.setTimeout(20 * 60_000);

const readJsonl = (f: string) => lines(readFileSync(f, 'utf8')).map((l) => JSON.parse(l) as Record<string, unknown>);

t.test('mine | classify | decontam | tokenize | pretrain | sft | sample | grade', async (t) => {
  const O = t.testdir();
  const sh = async (script: string) => {
    const r = await runShell(`set -e\n${script}`, { cwd: ROOT });
    t.equal(r.code, 0, script.split('\n')[0]);
    if (r.code !== 0) t.comment(r.stderr);
    return r;
  };
  await sh(`node dist/fixtures/mine/warc-gen.js --pages 30 --seed 3 -o ${O}/crawl.warc.gz
mathpipe -q mine ${O}/crawl.warc.gz -o ${O}/docs.jsonl`);
  const docs = readJsonl(join(O, 'docs.jsonl'));
  t.ok(docs.length >= 20, `mined ${docs.length} documents`);
  t.ok(docs.some((d) => /\\frac|\\sqrt|\\int/.test(String(d.text))), 'LaTeX survives extraction');
  t.ok(docs.every((d) => typeof d.id === 'string' && typeof d.url === 'string' && typeof d.domain === 'string'));

  await sh(`node dist/fixtures/classify/labeled.js --docs 600 --seed 1 > ${O}/seeds.jsonl
mathpipe -q classify train -o ${O}/m.bin --dim 16 --lr 0.5 --epoch 5 --wordNgrams 2 --bucket 100000 --thread 1 ${O}/seeds.jsonl
mathpipe -q classify predict -m ${O}/m.bin ${O}/docs.jsonl -o ${O}/scored.jsonl`);
  const scored = readJsonl(join(O, 'scored.jsonl'));
  t.equal(scored.length, docs.length, 'predict keeps every record');
  t.ok(scored.every((d) => typeof d.score === 'number' && d.score >= 0 && d.score <= 1), 'a probability is added');

  await sh(`node dist/fixtures/decontam/gen.js --out ${O}/bench --docs 100 --items 40 --plant-every 10 --seed 2 2>/dev/null
cat ${O}/scored.jsonl ${O}/bench/corpus.jsonl | mathpipe -q decontam --bench ${O}/bench/bench.jsonl --removed ${O}/removed.jsonl -o ${O}/clean.jsonl`);
  const planted = lines(readFileSync(join(O, 'bench', 'planted.txt'), 'utf8'));
  const removed = readJsonl(join(O, 'removed.jsonl')).map((r) => r.id);
  t.ok(planted.length > 0);
  t.same(removed.sort(), [...planted].sort(), 'exactly the planted documents are removed');
  const clean = readJsonl(join(O, 'clean.jsonl'));
  t.equal(clean.length, docs.length + 100 - planted.length, 'everything else is kept');

  await sh(`mathpipe -q tokenize train -v 512 -o ${O}/tok ${O}/clean.jsonl
mathpipe -q tokenize -t ${O}/tok -o ${O}/tokens ${O}/clean.jsonl`);
  const ds = IndexedDataset.open(join(O, 'tokens'));
  t.equal(ds.numSequences, clean.length, 'one sequence per clean document');
  t.ok(ds.numTokens > 1000);
  ds.close();

  const r = await sh(`mathpipe -q pretrain --data ${O}/tokens -o ${O}/ckpt --model tiny --seq-len 32 --batch-size 4 --steps 12 --lr 1e-2 --warmup 2 --log-interval 1 --backend cpu`);
  const metrics = lines(r.stdout).map((l) => JSON.parse(l) as { step?: number; loss?: number });
  const losses = metrics.filter((m) => typeof m.loss === 'number').map((m) => m.loss as number);
  t.equal(losses.length, 12);
  t.ok(losses.every(Number.isFinite));
  t.ok(losses.at(-1)! < losses[0], `loss falls (${losses[0].toFixed(3)} -> ${losses.at(-1)!.toFixed(3)})`);
  for (const f of ['config.json', 'model.safetensors', 'trainer_state.json', 'tokenizer.tiktoken']) t.ok(existsSync(join(O, 'ckpt', f)), f);
  const config = JSON.parse(readFileSync(join(O, 'ckpt', 'config.json'), 'utf8')) as { vocab_size: number; eos_token_id: number };
  const tok = JSON.parse(readFileSync(join(O, 'tok', 'tiktoken_config.json'), 'utf8')) as { n_vocab: number; special_tokens: Record<string, number>; eos_token: string };
  t.equal(config.vocab_size, Math.ceil(tok.n_vocab / 64) * 64, 'the model is sized for the trained vocabulary');
  t.equal(config.eos_token_id, tok.special_tokens[tok.eos_token], 'and knows its end-of-text token');

  // sft on word problems -> greedy answers -> the checker: every later stage reads the earlier one's files.
  await sh(`node dist/fixtures/sft/problems.js --n 40 --levels 1 --max 9 --split train > ${O}/problems.jsonl`);
  const s = await sh(`mathpipe -q sft --init ${O}/ckpt -o ${O}/sft --prompt-field question --completion-field solution --steps 3 --seq-len 64 --batch-size 4 --backend cpu ${O}/problems.jsonl`);
  t.equal(lines(s.stdout).filter((l) => 'loss' in JSON.parse(l)).length, 3);
  const g = await sh(`head -2 ${O}/problems.jsonl | mathpipe -q sample -m ${O}/sft --chat --field question -t 0 --max-tokens 8 --backend cpu | mathpipe -q grade --workers 1 --response-field completion --gold-field answer`);
  const graded = lines(g.stdout).map((l) => JSON.parse(l) as { completion: string; correct: boolean; checkpoint: { step: number } });
  t.equal(graded.length, 2);
  t.ok(graded.every((r) => typeof r.completion === 'string' && typeof r.correct === 'boolean' && r.checkpoint.step === 3), 'completions carry the sft checkpoint and a verdict');
});

t.test('grade closes the loop on model answers', async (t) => {
  const input = [
    { id: 'a', response: 'So 48 + 24 = 72.\n#### 72', gold: '72' },
    { id: 'b', response: 'The answer is \\boxed{\\frac{1}{2}}.', gold: '0.5' },
    { id: 'c', response: 'I think it is \\boxed{7', gold: '7' },
  ];
  const r = await runShell(`printf '%s\\n' ${input.map((x) => `'${JSON.stringify(x)}'`).join(' ')} | mathpipe -q grade`);
  t.equal(r.code, 0);
  t.same(lines(r.stdout).map((l) => JSON.parse(l).correct), [true, true, false], 'an unterminated \\boxed{ is no answer');
});

// fixtures/demo.mk at sizes that run in seconds: the same targets `make demo` builds, into a test directory.
const TINY: Record<string, string> = {
  SCALE: '0.3',
  PLANT: '2',
  TRAIN: '60',
  TEST: '6',
  NEGATIVES: '60',
  BUDGET: '12000',
  ROUNDS: '2',
  CLASSIFY_ARGS: '--dim 8 --lr 0.5 --epoch 5 --thread 1',
  VOCAB: '300',
  PRETRAIN_ARGS: '--model tiny --steps 4 --seq-len 32 --batch-size 4 --lr 3e-3 --log-interval 1 --eval-interval 4 --save-interval 0',
  SFT_ARGS: '--steps 3 --seq-len 64 --batch-size 4 --lr 3e-3 --log-interval 1',
  GRPO_ARGS: '--preset deepseekmath -G 2 -b 2 --max-tokens 8 --lr 1e-4 --steps 2 --eval-interval 2 --eval-samples 2',
  K: '2',
  MAX_TOKENS: '8',
};

interface DemoReport {
  recall: { round: number; selected: number; new_documents: number; math_selected: number }[];
  decontam: { planted: number; planted_selected: number; removed: number; removed_planted: number };
  tokens: Record<string, { documents: number; tokens: number }>;
  pretrain: { steps: number; loss_first: number; loss_last: number };
  sft: { steps: number };
  grpo: { steps: number };
  eval: Record<string, { greedy: number; k: number; maj: number; pass: number; questions: number }>;
  plots: string[];
}

t.test('make demo at tiny sizes: crawl -> recall round 2 -> decontam -> tokenize -> pretrain -> sft -> grpo -> eval', async (t) => {
  const D = t.testdir();
  const make = () => runShell(`make --no-print-directory -f fixtures/demo.mk D=${D} ${Object.entries(TINY).map(([k, v]) => `${k}='${v}'`).join(' ')}`, { cwd: ROOT });
  const r = await make();
  t.equal(r.code, 0, 'the demo pipeline runs');
  if (r.code !== 0) return void t.comment(r.stderr.slice(-3000));
  t.match(r.stdout, /eval after GRPO\s+\| greedy \d+%/, 'the table is printed');
  const rep = JSON.parse(readFileSync(join(D, 'report.json'), 'utf8')) as DemoReport;
  t.same(rep.recall.map((x) => x.round), [1, 2], 'classify, then a second recall round');
  t.ok(rep.recall.every((x) => x.selected > 0 && x.math_selected > 0), 'each round selects math pages');
  t.ok(rep.decontam.planted > 0 && rep.decontam.planted_selected > 0, `planted ${rep.decontam.planted}, selected ${rep.decontam.planted_selected}`);
  t.equal(rep.decontam.removed_planted, rep.decontam.planted_selected, 'every planted page that reached the selection is removed');
  t.equal(rep.decontam.removed, rep.decontam.removed_planted, 'and nothing else');
  t.ok(rep.tokens.web!.tokens > 0 && rep.tokens.problems!.tokens > 0, 'both datasets have tokens');
  t.ok(Number.isFinite(rep.pretrain.loss_first) && Number.isFinite(rep.pretrain.loss_last), 'pretrain losses');
  t.equal(rep.sft.steps, 3);
  t.equal(rep.grpo.steps, 2);
  for (const m of ['sft', 'rl']) {
    const e = rep.eval[m]!;
    t.equal(e.questions, 6, `${m}: every held-out problem`);
    t.equal(e.k, 2);
    t.ok([e.greedy, e.maj, e.pass].every((v) => v >= 0 && v <= 1), `${m}: greedy, maj@2, pass@2 are fractions`);
    t.ok(e.pass >= e.maj - 1e-9, `${m}: pass@K >= maj@K`);
  }
  for (const p of ['passk.svg', 'grpo.svg']) t.match(readFileSync(join(D, 'plots', p), 'utf8'), /^<svg[^>]*>/, p);

  const before = statSync(join(D, 'rl', 'config.json')).mtimeMs;
  const again = await make();
  t.equal(again.code, 0);
  t.notMatch(again.stdout, /== /, 'a re-run redoes no stage');
  t.equal(statSync(join(D, 'rl', 'config.json')).mtimeMs, before, 'the checkpoints are reused');
  t.match(again.stdout, /eval after SFT/, 'and prints the table again');
});
