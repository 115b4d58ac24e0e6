#!/usr/bin/env bash
# GRPO on the project's synthetic arithmetic word problems (fixtures/sft/problems.ts, levels 1-2, numbers to 20):
# a tiny model pretrained on the problems' text and fine-tuned on question -> solution (as `make demo` does, with a
# longer SFT), then GRPO runs on the same budget, side by side: outcome supervision with the deepseekmath and
# dr-grpo presets, and process supervision (step rewards from bench/grpo/arith-prm.ts, a verifier of each
# equation), and learned reward models: an ORM and a PRM trained on Math-Shepherd labels of the SFT policy's own
# samples (`grpo rm label`, `grpo rm train`), the PRM also in iterative RL (3 iterations, relabeled and retrained
# with 10% replay between them, the reference reset). Each run evaluates the 100 held-out problems every
# EVAL_EVERY steps (greedy accuracy, pass@k and maj@k over 16 samples, fixed seed); the script prints the table
# and writes pass@K / maj@K plots (DeepSeekMath Figure 7, through `mathpipe eval plot`) and the curves over steps
# of every run (`mathpipe grpo plot`, OUT/steps.svg) into OUT.
# Env: STEPS (300), LR (1e-4), B (16 questions per step), G (8), EVAL_EVERY (60), OUT (bench/out/grpo-arith),
#      RUNS (all: "deepseekmath dr-grpo process orm prm prm-iter"), LABEL_Q (questions labeled for the reward
#      models, 200), RM_Q (questions relabeled per iteration in prm-iter, 16).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export PATH="$ROOT/bin:$PATH"
STEPS=${STEPS:-300}
LR=${LR:-1e-4}
B=${B:-16}
G=${G:-8}
O=${OUT:-$ROOT/bench/out/grpo-arith}
RUNS=${RUNS-"deepseekmath dr-grpo process orm prm prm-iter"}
EVAL_EVERY=${EVAL_EVERY:-60}
LABEL_Q=${LABEL_Q:-200}
mkdir -p "$O"
if [ ! -f "$ROOT/dist/bench/grpo/arith-prm.js" ]; then echo "bench/grpo: run npm run build first"; exit 2; fi

if [ ! -f "$O/sft/config.json" ]; then
  node "$ROOT/dist/fixtures/sft/problems.js" --n 3000 --levels 1,2 --max 20 --split train > "$O/train.jsonl"
  node "$ROOT/dist/fixtures/sft/problems.js" --n 100 --levels 1,2 --max 20 --split test --seed 2 > "$O/test.jsonl"
  node -e 'const fs=require("fs"); fs.writeFileSync(process.argv[2], fs.readFileSync(process.argv[1],"utf8").trim().split("\n").map(JSON.parse).map(p=>JSON.stringify({id:p.id,text:p.question+" "+p.solution})).join("\n")+"\n")' "$O/train.jsonl" "$O/docs.jsonl"
  mathpipe tokenize train -q -v 400 -o "$O/tok" "$O/docs.jsonl" 2>/dev/null
  mathpipe tokenize -q -t "$O/tok" -o "$O/tokens" "$O/docs.jsonl"
  mathpipe pretrain -q --data "$O/tokens" -o "$O/base" --overwrite --steps 150 --seq-len 64 --batch-size 16 --lr 3e-3 > /dev/null
  mathpipe sft -q --init "$O/base" -o "$O/sft" --overwrite --prompt-field question --completion-field solution \
    --steps 1000 --seq-len 128 --batch-size 8 --lr 3e-3 --schedule cosine --warmup 20 "$O/train.jsonl" > /dev/null
fi

# Reward models: the SFT policy's samples of LABEL_Q training questions (4 each), every step judged by 4 rollouts
# (Math-Shepherd, rule any); an ORM on the outcome labels and a PRM on the step labels of the same file.
if [[ " $RUNS " == *" orm "* || " $RUNS " == *" prm"* ]]; then
  S=$(date +%s)
  if [ ! -f "$O/labels-valid.jsonl" ]; then
    head -n "$LABEL_Q" "$O/train.jsonl" > "$O/label-q.jsonl"
    mathpipe grpo rm label -q -m "$O/sft" --chat -n 4 -N 4 --max-tokens 40 --step-marker ". " "$O/label-q.jsonl" -o "$O/labels.jsonl"
    tail -n 100 "$O/train.jsonl" | head -n 50 > "$O/label-v.jsonl"
    mathpipe grpo rm label -q -m "$O/sft" --chat -n 2 -N 4 --max-tokens 40 --step-marker ". " --seed 7 "$O/label-v.jsonl" -o "$O/labels-valid.jsonl"
  fi
  for K in orm prm; do
    [ -f "$O/$K/rm_config.json" ] || mathpipe grpo rm train -q --init "$O/sft" -o "$O/$K" --overwrite --kind "$K" --chat --step-marker ". " \
      --epochs 4 -b 16 --lr 1e-3 --valid "$O/labels-valid.jsonl" "$O/labels.jsonl" > "$O/$K-train.jsonl"
  done
  echo "$(( $(date +%s) - S ))" > "$O/rm.seconds"
fi

COMMON=(--init "$O/sft" --chat -G "$G" -b "$B" --max-tokens 40 --lr "$LR" --steps "$STEPS" --valid "$O/test.jsonl"
  --eval-samples 16 --eval-interval "$EVAL_EVERY" -q)
for RUN in $RUNS; do
  case "$RUN" in
    process) ARGS=(--preset deepseekmath --step-scorer "node $ROOT/dist/bench/grpo/arith-prm.js" --step-marker ". ") ;;
    orm) ARGS=(--preset deepseekmath --reward-model "$O/orm") ;;
    prm) ARGS=(--preset deepseekmath --reward-model "$O/prm" --step-marker ". ") ;;
    prm-iter) ARGS=(--preset deepseekmath --reward-model "$O/prm" --step-marker ". " --iterations 3 --rm-questions "${RM_Q:-16}" --rm-samples 4 --rollouts 4 --rm-steps 20 --rm-lr 1e-3 --rm-batch-size 16 --replay 0.1) ;;
    *) ARGS=(--preset "$RUN") ;;
  esac
  rm -f "$O/$RUN.jsonl"
  S=$(date +%s)
  mathpipe grpo "${COMMON[@]}" "${ARGS[@]}" -o "$O/rl-$RUN" --overwrite --log "$O/$RUN.jsonl" "$O/train.jsonl"
  echo "$(( $(date +%s) - S ))" > "$O/$RUN.seconds"
done

# The table, and summaries for the plots: step 0 (the SFT model) and the end of each run.
node -e '
const fs = require("fs"); const [O, ...runs] = process.argv.slice(1);
const f = (x) => x === undefined ? "-" : x.toFixed(3);
const summary = (m) => ({ pass_at_k: Object.fromEntries(Object.entries(m).filter(([k]) => k.startsWith("valid_pass@")).map(([k, v]) => [k.slice(11), v])),
  maj_at_k: Object.fromEntries([["1", m["valid_pass@1"]], ...Object.entries(m).filter(([k]) => k.startsWith("valid_maj@")).map(([k, v]) => [k.slice(10), v])]) });
console.log(["run", "steps", "minutes", "reward first/last 10", "greedy", "maj@4", "maj@16", "pass@4", "pass@16"].join(" | "));
for (const r of runs) {
  const lines = fs.readFileSync(`${O}/${r}.jsonl`, "utf8").trim().split("\n").map(JSON.parse);
  const ev = lines.filter((l) => l.valid_greedy_accuracy !== undefined);
  const tr = lines.filter((l) => l.reward_mean !== undefined);
  const [a, b] = [ev[0], ev[ev.length - 1]];
  const mean = (xs) => xs.reduce((s, x) => s + x.accuracy, 0) / xs.length;
  const cell = (k) => `${f(a[k])} -> ${f(b[k])}`;
  console.log([r, tr.length, (Number(fs.readFileSync(`${O}/${r}.seconds`, "utf8")) / 60).toFixed(1), `${f(mean(tr.slice(0, 10)))} / ${f(mean(tr.slice(-10)))}`,
    cell("valid_greedy_accuracy"), cell("valid_maj@4"), cell("valid_maj@16"), cell("valid_pass@4"), cell("valid_pass@16")].join(" | "));
  fs.writeFileSync(`${O}/sft.summary.json`, JSON.stringify(summary(a)));
  fs.writeFileSync(`${O}/${r}.summary.json`, JSON.stringify(summary(b)));
}' "$O" $RUNS
for RUN in $RUNS; do
  mathpipe eval plot -q --title "arithmetic, held out: SFT vs GRPO ($RUN)" "sft=$O/sft.summary.json" "$RUN=$O/$RUN.summary.json" -o "$O/$RUN.svg"
done
mathpipe grpo plot -q --title "arithmetic: GRPO runs over steps (held-out every $EVAL_EVERY steps)" $(for RUN in $RUNS; do printf '%s ' "$RUN=$O/$RUN.jsonl"; done) -o "$O/steps.svg"
for K in orm prm; do
  [ -f "$O/$K-train.jsonl" ] && node -e 'const l=require("fs").readFileSync(process.argv[1],"utf8").trim().split("\n").map(JSON.parse).filter(x=>x.valid_loss!==undefined); console.log(`${process.argv[2]} on held-out labels: loss ${l[0].valid_loss} -> ${l[l.length-1].valid_loss}, accuracy ${l[0].valid_accuracy} -> ${l[l.length-1].valid_accuracy}`)' "$O/$K-train.jsonl" "$K"
done
echo "plots: $(for RUN in $RUNS; do printf '%s ' "$O/$RUN.svg"; done)$O/steps.svg"
