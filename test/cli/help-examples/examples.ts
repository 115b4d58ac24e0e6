// Every example in every command's --help runs (one test file per command group beside this module, so tap runs
// them in parallel and each has its own time limit; coverage.test.ts checks that every group has one). The examples are collected the way --help gets them (each command
// module's builder, recorded instead of parsed from wrapped columns), then run with the real binary in a temp
// directory holding small fixtures under the names the examples use (seeds.jsonl, ckpt/, toks/math, ...), in the
// order --help lists them (a later example may use what an earlier one wrote, as a reader would). Each must exit 0,
// or the outcome its rule documents. A few are rewritten to fixture scale (a paper-size step count, a 2M-bucket
// classifier) and a few cannot run here (the network, a GPU-size preset): RULES says which and why, and a new
// example that is neither runnable nor listed fails the test.
import type { Test } from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CommandModule } from 'yargs';
import { ROOT, runShell, sharedData, type RunResult } from '../../helpers.js';

interface Example {
  path: string;
  cmd: string;
}

/** The examples each command's builder registers, with the command path they belong to. */
export async function collectExamples(): Promise<Example[]> {
  const srcDir = join(ROOT, 'dist', 'src');
  const out: Example[] = [];
  const walk = (mod: CommandModule, path: string[]) => {
    const word = String(Array.isArray(mod.command) ? mod.command[0] : (mod.command ?? '')).split(' ')[0] ?? '';
    const p = word && word !== '$0' && !/^[<[]/.test(word) ? [...path, word] : path;
    const rec: unknown = new Proxy(
      {},
      {
        get: (_t, k) => {
          if (k === 'then') return undefined;
          if (k === 'example')
            return (cmd: string | [string, string][]) => {
              for (const c of Array.isArray(cmd) ? cmd.map((x) => x[0]) : [cmd]) out.push({ path: p.join(' '), cmd: c });
              return rec;
            };
          if (k === 'command')
            return (...a: unknown[]) => {
              const mods = Array.isArray(a[0]) ? a[0] : typeof a[0] === 'object' ? [a[0]] : [{ command: a[0], builder: a[2] }];
              for (const m of mods as CommandModule[]) walk(m, p);
              return rec;
            };
          return () => rec;
        },
      },
    );
    if (typeof mod.builder === 'function') (mod.builder as (y: unknown) => unknown)(rec);
  };
  const names = readdirSync(srcDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(srcDir, d.name, 'command.js')))
    .map((d) => d.name)
    .sort();
  for (const n of names) walk(((await import(pathToFileURL(join(srcDir, n, 'command.js')).href)) as { default: CommandModule }).default, []);
  return out;
}

interface Rule {
  /** Not run here, and why. */
  skip?: string;
  /** Run only when this holds (else skipped with `skip`). */
  when?: () => boolean;
  /** [pattern, replacement] applied to the command line: fixture scale, or an absolute path for ../shared. */
  rewrite?: [RegExp | string, string][];
  /** Run in a fresh directory with the group's fixtures linked in (its outputs would collide with another's). */
  alone?: boolean;
  /** Shell run first in the same directory. */
  pre?: string;
  /** A server: started, checked to answer, then stopped with SIGTERM (exit 0 expected). */
  server?: { url: string; during?: string };
  /** Exit status other than 0, and what stderr says then (documented outcomes only). */
  expect?: { code: number; stderr: RegExp };
}

const SHARED_BENCH = sharedData('benchmarks');
const has = (tool: string) => () => {
  for (const d of (process.env.PATH ?? '').split(':')) if (existsSync(join(d, tool))) return true;
  return false;
};
const NETWORK = 'downloads from the internet (the HTTP client is tested against local servers in test/mine and test/eval)';
const BENCH_API = 'needs the benchmark files (eval fetch, or ../shared/data) and a server whose model takes an 8-shot prompt (4K context); test/serve runs eval run --api against serve';

export const RULES: Record<string, Rule> = {
  // classify: the paper's settings allocate fastText's 2M-row bucket table (2 GB at dim 256); a smaller one here.
  '$0 classify train -o math.bin --dim 256 --lr 0.1 --wordNgrams 3 --minCount 3 --epoch 3 seeds.jsonl': { rewrite: [['seeds.jsonl', '--bucket 20000 seeds.jsonl']] },
  '$0 classify format train.jsonl > train.txt && fasttext supervised -input train.txt -output m': { when: has('fasttext'), skip: 'fastText is not installed' },
  // decontam: fine as they are.
  // eval
  '$0 eval run -b gsm8k --data-dir ../shared/data/benchmarks --api http://localhost:8000/v1 --model deepseek-math-7b-base -o gsm8k.jsonl --report gsm8k.json': { skip: BENCH_API },
  '$0 eval run -b math500 --style instruct --chat --api $URL --model m --n 16 --temperature 0.7 --report s.json -o out.jsonl': { skip: BENCH_API },
  '$0 eval run -b gsm8k --style pot --api $URL --model m --limit 50': { skip: BENCH_API },
  '$0 eval prompts -b math500 --style instruct --chat-template deepseek --data-dir ../shared/data/benchmarks | head -1': {
    when: () => SHARED_BENCH !== undefined,
    skip: 'needs ../shared/data/benchmarks',
    rewrite: [['../shared/data/benchmarks', SHARED_BENCH ?? '']],
  },
  '$0 eval fetch gsm8k math500': { skip: NETWORK },
  '$0 eval fetch all --cache-dir ./bench-data': { skip: NETWORK },
  '$0 eval fetch prompts gsm8k && $0 eval run -b gsm8k --api $URL --model m': { skip: NETWORK },
  '$0 eval fetch gsm8k && $0 eval run -b gsm8k --api http://localhost:8000/v1 --model m -o out.jsonl': { skip: NETWORK },
  // mine
  'mathpipe mine https://data.commoncrawl.org/crawl-data/CC-MAIN-2024-22/warc.paths.gz -j 8 --resume -o math.jsonl.gz': { skip: NETWORK },
  'mathpipe mine --range 1234:5678 https://data.commoncrawl.org/crawl-data/.../x.warc.gz': { skip: NETWORK },
  'mathpipe mine --cc-index hits.jsonl': { skip: `${NETWORK}: the index hits point into data.commoncrawl.org` },
  // The buckets example above hashed band 0 only; clusters needs every band's pairs.
  '$0 mine dedup clusters -o plan.bin --pairs pairs/*.pairs -- sig/*.sig': { pre: 'for i in $(seq 1 13); do mathpipe -q mine dedup buckets --shard $i/14 -o pairs/$i.pairs sig/*.sig; done' },
  '$0 mine domains --from-counts --prefixes prefixes.jsonl parts/*.counts.jsonl': { pre: 'mkdir -p parts && cp counts/7.jsonl parts/7.counts.jsonl' },
  // The paper's loop trains fastText at dim 256 with a 2M-row bucket table every round: at fixture scale, one
  // round with a small classifier (the fixtures' loop below runs the whole loop to convergence).
  '$0 mine iterate -d loop --seeds owm.jsonl --budget 40e9 --decontam-index bench.idx -- pool/*.jsonl.gz': {
    rewrite: [['--budget 40e9', '--budget 40e9 --max-iterations 1 --train-args="--dim 16 --bucket 20000 --thread 1"']],
  },
  // Its own loop directory: the example above left one there with other settings (a loop resumes only its own).
  '$0 mine iterate -d loop --seeds owm.jsonl -b 40e9 -- pool/*.jsonl.gz': { alone: true, rewrite: [['-b 40e9', '-b 40e9 --max-iterations 1 --train-args="--dim 16 --bucket 20000 --thread 1"']] },
  '$0 mine iterate -d loop --seeds seeds.jsonl -b 46300 --whitespace --negatives 300 --train-args="--dim 16 --lr 0.5 --epoch 10 --thread 1" -- pool.jsonl': { alone: true },
  // pretrain: step counts and batch sizes of a real run, at fixture scale.
  'mathpipe pretrain --data 0.56:toks/math --data 0.44:toks/code -o ckpt --tokens-per-step 65536 --valid toks/val': { alone: true, rewrite: [['--tokens-per-step 65536', '--tokens-per-step 2048 --steps 2']] },
  'mathpipe pretrain --data toks/math -o ckpt --sampling packed --steps 1000': { alone: true, rewrite: [['--steps 1000', '--steps 3']] },
  // serve: started, asked, stopped.
  '$0 serve ckpt': {
    server: { url: 'http://127.0.0.1:8000/v1', during: 'curl -s localhost:8000/v1/completions -H "content-type: application/json" -d \'{"model":"ckpt","prompt":"2+2=","max_tokens":8,"temperature":0}\'' },
  },
  '$0 serve ckpt --port 0 --served-model-name tiny > url.txt &': { server: { url: 'url.txt' } },
  'curl -s localhost:8000/v1/completions -H "content-type: application/json" -d \'{"model":"ckpt","prompt":"2+2=","max_tokens":8,"temperature":0}\'': { skip: 'runs while `serve ckpt` is up (see that example)' },
  'mathpipe eval run -b gsm8k --api http://127.0.0.1:8000/v1 --model ckpt --limit 50': { skip: BENCH_API },
  'MATHPIPE_API_KEY=secret $0 serve ckpt --host 0.0.0.0 -b 64': { server: { url: 'http://0.0.0.0:8000/v1' } },
  // sft: the paper's preset trains 500 steps of 8 x 32 rows of 4K tokens; one short step here.
  'mathpipe sft --init ckpt -o out --preset deepseekmath-instruct data.jsonl': { alone: true, rewrite: [['data.jsonl', '--steps 1 --batch-size 1 --grad-accum 1 --seq-len 64 data.jsonl']] },
  // grpo: the paper's preset samples 64 outputs of up to 1024 tokens per question; fewer and shorter here.
  // grpo and sft examples that write -o out beside another run (a second run there is refused without --overwrite).
  'mathpipe grpo --init ckpt -o out --beta 0 --std-scope none --aggregation seq-mean-token-sum-norm q.jsonl': { alone: true },
  'mathpipe sft --init ckpt -o out --valid test.jsonl --eval-interval 50 --eval-accuracy-interval 100 --gold-field answer train.jsonl': { alone: true },
  'mathpipe grpo --init ckpt -o out --step-scorer "python3 prm.py" q.jsonl': { when: has('python3'), skip: 'python3 is not installed', alone: true },
  // --resume continues a run of the same data and settings: one step of it first, then the rest.
  'mathpipe grpo --init ckpt -o out --resume q.jsonl': {
    alone: true,
    pre: 'mathpipe -q grpo --steps 1 -G 2 -b 2 --max-tokens 16 --eval-samples 2 --init ckpt -o out q.jsonl > /dev/null',
    rewrite: [['--resume', '--resume --steps 2']],
  },
  // A PRM (the rm example after it trains one) and 3 iterations of one step, the PRM relabeled and retrained briefly.
  'mathpipe grpo --init sft -o rl --reward-model prm --iterations 3 q.jsonl': {
    alone: true,
    pre: `mathpipe -q grpo rm label -m sft -n 1 -N 1 --max-tokens 16 q.jsonl -o l.jsonl && mathpipe -q grpo rm train --init sft -o prm --kind prm --steps 1 -b 2 l.jsonl > /dev/null`,
    rewrite: [['--iterations 3', '--iterations 3 --steps 3 --rm-questions 2 --rm-samples 1 --rollouts 1 --rm-steps 1 --rm-batch-size 2']],
  },
  // The grpo example before it trained a PRM in prm (a second one there is refused without --overwrite).
  'mathpipe grpo rm train --init sft -o prm --kind prm --chat labels.jsonl': { pre: 'rm -r prm' },
  'mathpipe sft --init ckpt -o out --resume data.jsonl': {
    alone: true,
    pre: 'mathpipe -q sft --steps 1 --seq-len 64 -b 2 --init ckpt -o out data.jsonl > /dev/null',
    rewrite: [['--resume', '--resume --steps 2']],
  },
  // The tool turns' prompts are longer than the 64 tokens the other sft examples train on.
  'mathpipe sft --init ckpt -o out --chat-template deepseek tool-data.jsonl': { alone: true, rewrite: [['tool-data.jsonl', '--seq-len 256 tool-data.jsonl']] },
  // tokenize: a billion tokens is a real mixture's size.
  '$0 tokenize mix -o data/mix --tokens 1e9 --seed 7 56:data/math 44:data/nl': { rewrite: [['--tokens 1e9', '--tokens 1e4']] },
};

/** Fixture setup per command group, in that group's directory ($B: the shared base fixtures). */
export const SETUP: Record<string, string> = {
  classify: `cp $B/labeled.jsonl seeds.jsonl; cp $B/labeled.jsonl train.jsonl; cp $B/dev.jsonl dev.jsonl; cp $B/dev.jsonl docs.jsonl; cp $B/dev.jsonl pages.jsonl
gzip -kc pages.jsonl > pages.jsonl.gz
mathpipe -q classify format train.jsonl > train.txt; mathpipe -q classify format dev.jsonl > dev.txt
mathpipe -q classify train -o math.bin --dim 16 --epoch 2 --bucket 20000 train.jsonl; cp math.bin model.bin; cp math.bin fasttext_model.bin`,
  decontam: `mkdir -p gsm8k math; cp $B/gsm8k-test.jsonl gsm8k/test.jsonl; cp $B/math-test.jsonl math/test.jsonl; cp gsm8k/test.jsonl a.jsonl; cp math/test.jsonl b.jsonl
cp $B/web.jsonl web.jsonl; gzip -kc web.jsonl > web.jsonl.gz; cp web.jsonl shard.jsonl; cp web.jsonl.gz shard-00.jsonl.gz; cp web.jsonl docs.jsonl; cp $B/labeled.jsonl clean-web.jsonl`,
  eval: `cp -r $B/ckpt ckpt; ln -s ckpt ckpt-1000; mkdir toks; for n in valid math code; do cp $B/toks.bin toks/$n.bin; cp $B/toks.idx toks/$n.idx; done
cp $B/test.jsonl test.jsonl
node -e 'const r=[];for(let i=0;i<20;i++){const c=Array.from({length:16},(_,k)=>((i*7+k*3)%5)<2);r.push(JSON.stringify({id:"q"+i,correct:c,extracted:c.map((x,k)=>x?"1":String(k%3+2))}))}console.log(r.join("\\n"))' > gsm8k.jsonl
mathpipe -q eval summarize gsm8k.jsonl --report sft.json > /dev/null; cp sft.json rl.json; cp sft.json run.json`,
  grade: `printf '%s\\n' '{"id":"a","response":"So 48 + 24 = 72.\\n#### 72","gold":"72"}' '{"id":"b","response":"The answer is \\\\boxed{\\\\frac{1}{2}}.","gold":"0.5"}' > preds.jsonl
printf '%s\\n' '{"id":"a","code":"The answer is \\\\boxed{3}","answer":"3","score":true}' '{"id":"b","code":"so x = 5","answer":"4","score":false}' > qwen.jsonl
printf '%s\\n' '{"id":"a","response":"<think>2+2</think><answer>4</answer>","ground_truth":"4"}' > r1.jsonl`,
  grpo: `cp -r $B/ckpt ckpt; ln -s ckpt sft-ckpt; ln -s ckpt sft; cp $B/train.jsonl train.jsonl; cp $B/test.jsonl dev.jsonl; cp $B/train.jsonl q.jsonl; mkdir gsm8k; cp $B/train.jsonl gsm8k/train.jsonl
printf '%s\\n' 'import json, sys' 'for line in sys.stdin:' '    r = json.loads(line)' '    print(json.dumps({"step_rewards": [1.0 if r["correct"] else 0.0] * len(r["steps"])}), flush=True)' > prm.py
mathpipe -q grpo --init ckpt -o log-run -G 2 -b 2 --max-tokens 8 --steps 2 --log a.jsonl train.jsonl; for f in b o p; do cp a.jsonl $f.jsonl; done
mathpipe -q grpo rm label -m ckpt -n 1 -N 1 --max-tokens 16 dev.jsonl -o dev-labels.jsonl`,
  mine: `cp $B/crawl.warc.gz crawl.warc.gz; cp crawl.warc.gz CC-MAIN-20240101-00000.warc.gz
node --input-type=module -e 'import { warcRecord } from "${ROOT}/dist/fixtures/mine/warc-gen.js"; import { gzipSync } from "node:zlib"; import { writeFileSync } from "node:fs";
const rec = (u, text) => gzipSync(warcRecord({ "WARC-Type": "conversion", "WARC-Target-URI": u, "WARC-Date": "2024-03-01T00:00:00Z", "WARC-Record-ID": "<urn:uuid:" + u.length + ">", "Content-Type": "text/plain" }, text));
writeFileSync("page.warc.wet.gz", Buffer.concat([rec("https://a.test/x", "The derivative of x^2 is 2x, so the slope at 3 is 6."), rec("https://b.test/y", "Prime numbers: 2, 3, 5, 7, 11.")]));'
cp $B/scored.jsonl docs.jsonl; gzip -kc docs.jsonl > docs.jsonl.gz; cp docs.jsonl scored.jsonl; cp docs.jsonl new.jsonl; cp docs.jsonl pool.jsonl; gzip -kc pool.jsonl > pool.jsonl.gz
mkdir -p shards scored pool sig pairs unique st math counts parts; split -n l/64 -d -a 2 --additional-suffix=.jsonl docs.jsonl shards/; for f in shards/*.jsonl; do b=$(basename $f .jsonl); gzip -c $f > scored/$b.jsonl.gz; cp scored/$b.jsonl.gz pool/$b.jsonl.gz; gzip $f; done
mathpipe -q mine select -b 20000 --whitespace scored.jsonl -o selected.jsonl
node -e 'for (const l of require("fs").readFileSync("scored.jsonl","utf8").split("\\n").filter(Boolean)) { const d = JSON.parse(l); if (d.label === "math") console.log(JSON.stringify({id: d.id, text: d.text, label: "math"})) }' > seeds.jsonl
cp seeds.jsonl owm.jsonl; node -e 'for (const l of require("fs").readFileSync("scored.jsonl","utf8").split("\\n").filter(Boolean).slice(0, 50)) { const d = JSON.parse(l); if (d.label !== "math") console.log(JSON.stringify({id: d.id, text: d.text, label: "nonmath"})) }' > negatives.jsonl
mathpipe -q mine dedup --write-index round1.idx docs.jsonl > /dev/null
mathpipe -q decontam index --bench $B/gsm8k-test.jsonl -o bench.idx`,
  pretrain: `mkdir toks; for n in math code val; do cp $B/toks.bin toks/$n.bin; cp $B/toks.idx toks/$n.idx; done`,
  sample: `cp -r $B/ckpt ckpt; cp $B/test.jsonl test.jsonl
node -e 'const fs=require("fs"); const q=fs.readFileSync("test.jsonl","utf8").trim().split("\\n").map(JSON.parse); fs.writeFileSync("prompts.jsonl", q.map(x=>JSON.stringify({id:x.id,prompt:x.question})).join("\\n")+"\\n"); fs.writeFileSync("gsm8k-prompts.jsonl", q.map(x=>JSON.stringify({id:x.id,prompt:"Q: "+x.question+"\\nA:"})).join("\\n")+"\\n")'`,
  serve: `cp -r $B/ckpt ckpt`,
  sft: `cp -r $B/ckpt ckpt; cp $B/test.jsonl test-problems.jsonl; mkdir gsm8k; cp $B/train.jsonl gsm8k/train.jsonl
node -e 'const fs=require("fs"); const q=fs.readFileSync(process.env.B+"/train.jsonl","utf8").trim().split("\\n").map(JSON.parse); const chat=q.map(x=>JSON.stringify({messages:[{role:"user",content:x.question},{role:"assistant",content:x.solution}]})).join("\\n")+"\\n"; fs.writeFileSync("train.jsonl", chat);
fs.writeFileSync("test.jsonl", fs.readFileSync("test-problems.jsonl","utf8").trim().split("\\n").map(JSON.parse).map(x=>JSON.stringify({messages:[{role:"user",content:x.question},{role:"assistant",content:x.solution}],answer:x.answer})).join("\\n")+"\\n"); fs.writeFileSync("dev.jsonl", chat); fs.writeFileSync("data.jsonl", chat);
fs.writeFileSync("tool-data.jsonl", q.slice(0,4).map(x=>JSON.stringify({messages:[{role:"user",content:x.question},{role:"assistant",content:"Let me compute.\\n\`\`\`python\\nprint(" + x.answer + ")\\n\`\`\`"},{role:"tool",content:x.answer},{role:"assistant",content:x.solution}]})).join("\\n")+"\\n")'`,
  tokenize: `cp $B/corpus.jsonl corpus.jsonl; gzip -kc corpus.jsonl > corpus.jsonl.gz; cp corpus.jsonl docs.jsonl; cp corpus.jsonl.gz docs.jsonl.gz; cp corpus.jsonl.gz cc.jsonl.gz
mathpipe -q tokenize train -v 300 -o tok corpus.jsonl; mkdir data; for n in math nl code algebraic arxiv; do mathpipe -q tokenize -t tok -o data/$n corpus.jsonl; done`,
};

/** Base fixtures ($B) the groups copy from, each built only for the groups that need it. */
const BASE: Record<string, string> = {
  labeled: `node $R/dist/fixtures/classify/labeled.js --docs 300 --seed 1 > labeled.jsonl
node $R/dist/fixtures/classify/labeled.js --docs 100 --seed 2 > dev.jsonl
node -e 'for (const l of require("fs").readFileSync("labeled.jsonl","utf8").split("\\n").filter(Boolean)) { const d = JSON.parse(l); d.score = d.label === "math" ? 0.9 - (d.text.length % 10) / 100 : 0.1; console.log(JSON.stringify(d)) }' > scored.jsonl`,
  bench: `node $R/dist/fixtures/decontam/gen.js --out dc --docs 40 --items 20 --plant-every 10 --seed 1 2>/dev/null; cp dc/bench.jsonl gsm8k-test.jsonl; cp dc/corpus.jsonl web.jsonl`,
  problems: `node $R/dist/fixtures/sft/problems.js --n 40 --levels 1 --max 9 --split train > train.jsonl
node $R/dist/fixtures/sft/problems.js --n 6 --levels 1 --max 9 --split test --seed 2 > test.jsonl
node -e 'for (const l of require("fs").readFileSync("test.jsonl","utf8").split("\\n").filter(Boolean)) { const p = JSON.parse(l); console.log(JSON.stringify({problem: p.question, solution: p.solution + " \\\\boxed{" + p.answer + "}", level: "Level 1", type: "Prealgebra"})) }' > math-test.jsonl`,
  corpus: `node $R/dist/fixtures/tokenize/corpus.js --bytes 100000 --seed 1 > corpus.jsonl`,
  crawl: `node $R/dist/fixtures/mine/warc-gen.js --pages 20 --seed 1 -o crawl.warc.gz`,
  ckpt: `node -e 'for (const l of require("fs").readFileSync("train.jsonl","utf8").split("\\n").filter(Boolean)) { const p = JSON.parse(l); console.log(JSON.stringify({id: p.id, text: p.question + " " + p.solution})) }' > docs.jsonl
mathpipe -q tokenize train -v 300 -o tok docs.jsonl corpus.jsonl && mathpipe -q tokenize -t tok -o toks docs.jsonl corpus.jsonl
mathpipe -q pretrain --data toks -o ckpt --model tiny --steps 2 --seq-len 64 --batch-size 2 --save-interval 0 > /dev/null`,
};

/** The base fixtures each group's setup copies (in build order). */
const NEEDS: Record<string, string[]> = {
  classify: ['labeled'],
  decontam: ['labeled', 'bench', 'problems'],
  eval: ['problems', 'corpus', 'ckpt'],
  grade: [],
  grpo: ['problems', 'corpus', 'ckpt'],
  mine: ['labeled', 'bench', 'crawl'],
  pretrain: ['problems', 'corpus', 'ckpt'],
  sample: ['problems', 'corpus', 'ckpt'],
  serve: ['problems', 'corpus', 'ckpt'],
  sft: ['problems', 'corpus', 'ckpt'],
  tokenize: ['corpus'],
};

/** Trainer examples at fixture scale: the size flags an example leaves at their defaults are set small. */
const SCALE: [RegExp, string[][]][] = [
  [/mathpipe grpo rm label /, [['-n', '--samples', '1'], ['-N', '--rollouts', '2'], ['--max-tokens', '16']]],
  [/mathpipe grpo rm train /, [['--steps', '2'], ['-b', '--batch-size', '2']]],
  [/mathpipe grpo (?!rm |plot )/, [['--steps', '1'], ['-G', '--group-size', '2'], ['-b', '--batch-size', '2'], ['--max-tokens', '16'], ['--eval-samples', '2']]],
  [/mathpipe sft /, [['--steps', '2'], ['--seq-len', '64'], ['-b', '--batch-size', '2']]],
];

export function fixtureScale(cmd: string): string {
  for (const [re, flags] of SCALE) {
    const m = re.exec(cmd);
    if (!m) continue;
    const missing = flags.filter((f) => !f.slice(0, -1).some((name) => new RegExp(`(^|\\s)${name}(\\s|=)`).test(cmd)));
    const add = missing.map((f) => `${f[0]} ${f.at(-1)}`).join(' ');
    if (add) cmd = cmd.slice(0, m.index + m[0].length) + add + ' ' + cmd.slice(m.index + m[0].length);
  }
  return cmd;
}

// TASK and SLURM_ARRAY_TASK_ID: the array-job examples' task index.
const sh = (script: string, cwd: string): Promise<RunResult> =>
  runShell(`set -e; export R=${JSON.stringify(ROOT)} B=${JSON.stringify(join(work, 'base'))} TASK=7 SLURM_ARRAY_TASK_ID=7\n${script}`, { cwd });

const work = mkdtempSync(join(tmpdir(), 'mp-help-examples-'));

/** A fresh directory with the group directory's setup files linked in. */
function aloneDir(group: string, names: string[], i: number): string {
  const d = join(work, `${group}-alone-${i}`);
  mkdirSync(d);
  for (const n of names) symlinkSync(join(work, group, n), join(d, n));
  return d;
}

/** Start a server example, wait for its URL, run `during`, stop it with SIGTERM; the exit status and outputs. */
async function runServer(cmd: string, cwd: string, rule: NonNullable<Rule['server']>): Promise<{ code: number | null; log: string; during?: RunResult }> {
  const p = spawn('env', ['-u', 'NODE_OPTIONS', 'bash', '-c', `${cmd.replace(/\s*&\s*$/, '').replace(/^((?:\w+=\S*\s+)*)/, '$1exec ')}`], {
    cwd,
    env: { ...process.env, PATH: `${join(ROOT, 'bin')}:${process.env.PATH}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  p.stdout.on('data', (b: Buffer) => (log += b.toString()));
  p.stderr.on('data', (b: Buffer) => (log += b.toString()));
  const exited = new Promise<number | null>((res) => p.on('close', (code) => res(code)));
  const ready = () => (rule.url.endsWith('.txt') ? existsSync(join(cwd, rule.url)) && /http:\/\//.test(readFileSync(join(cwd, rule.url), 'utf8')) : /http:\/\//.test(log));
  for (let i = 0; i < 600 && !ready() && p.exitCode === null; i++) await new Promise((r) => setTimeout(r, 100));
  const during = rule.during && ready() ? await sh(rule.during, cwd) : undefined;
  p.kill('SIGTERM');
  return { code: await exited, log, during };
}

/** Build the base fixtures a group needs, its own fixtures, then run its examples in order. */
export async function runGroup(t: Test, g: string): Promise<void> {
  // A group is a few dozen process starts and tiny trainings: a minute or two alone, far more on a loaded machine.
  t.setTimeout(20 * 60_000);
  const examples = (await collectExamples()).filter((e) => e.path.split(' ')[0] === g);
  t.ok(examples.length > 0, `${g} has examples`);
  mkdirSync(join(work, 'base'), { recursive: true });
  for (const need of NEEDS[g] ?? []) {
    const r = await sh(BASE[need]!, join(work, 'base'));
    t.equal(r.code, 0, `base fixtures: ${need}`);
    if (r.code !== 0) return void t.comment(r.stderr);
  }
  const dir = join(work, g);
  mkdirSync(dir);
  const s = await sh(SETUP[g] ?? 'false', dir);
  t.equal(s.code, 0, `${g} fixtures`);
  if (s.code !== 0) return void t.comment(s.stderr);
  const names = readdirSync(dir);
  let i = 0;
  for (const ex of examples) {
    const rule = RULES[ex.cmd] ?? {};
    const label = `${ex.path}: ${ex.cmd}`;
    if (rule.skip && !(rule.when?.() ?? false)) {
      t.comment(`not run: ${label} (${rule.skip})`);
      continue;
    }
    let cmd = ex.cmd.replace(/\$0/g, 'mathpipe');
    for (const [a, b] of rule.rewrite ?? []) cmd = cmd.replace(a, b);
    cmd = fixtureScale(cmd);
    const cwd = rule.alone ? aloneDir(g, names, i++) : dir;
    if (rule.pre) await sh(rule.pre, cwd);
    if (rule.server) {
      const r = await runServer(cmd, cwd, rule.server);
      t.equal(r.code, 0, `${label} (served, then SIGTERM)`);
      if (r.code !== 0) t.comment(r.log);
      if (r.during) {
        t.equal(r.during.code, 0, `while it serves: ${rule.server.during}`);
        t.match(r.during.stdout, /"choices"/, 'an OpenAI-style completion');
      }
      continue;
    }
    const r = await sh(cmd, cwd);
    if (rule.expect) {
      t.equal(r.code, rule.expect.code, label);
      t.match(r.stderr, rule.expect.stderr);
    } else {
      t.equal(r.code, 0, label);
      if (r.code !== 0) t.comment(`${cmd}\n${r.stderr.slice(-2000)}`);
    }
  }
}
