#!/usr/bin/env bash
# SFT training speed, all in one run on the same data: mathpipe sft with packing (bfd) vs padding (one example per
# row), and each against PyTorch doing the same masked loss on the same model (bench/train/torch_llama.py's, imported by
# torch_sft.py) over the same rows (dumped by rows.ts through sft's own encoder and packer).
# Data: synthetic word-problem conversations of 1-8 question/answer turns (40-330 tokens), so rows of --seq-len
# 256 hold several examples when packed and one (plus padding) when not.
# Reported: tokens/s (rows x seq-len per second, padding included: the work done) and data tokens/s (tokens/s x
# the fraction of tokens that are data: how fast the data set goes through), and the ratios.
# Env: STEPS (measured steps, default 6), THREADS (default 2), SEQ (256), BATCH (8), N (problems, 3000),
#      REPEAT (rounds, default 2: each number is the best round's).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$ROOT/bench/out/sft
STEPS=${STEPS:-6}
THREADS=${THREADS:-2}
SEQ=${SEQ:-256}
BATCH=${BATCH:-8}
N=${N:-3000}
REPEAT=${REPEAT:-2}
PY=/usr/bin/python3
MP="node $ROOT/bin/mathpipe"
if [ ! -f "$ROOT/dist/bench/sft/rows.js" ]; then echo "bench/sft: run npm run build first"; exit 2; fi
mkdir -p "$OUT"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

node "$ROOT/dist/fixtures/sft/problems.js" --n "$N" --levels 1,2,3 --split train --seed 1 > "$OUT/problems.jsonl"
node -e '
  const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map(JSON.parse);
  let s = 7, i = 0;
  const out = [];
  while (i < lines.length) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const k = 1 + (s % 8);
    const messages = lines.slice(i, i + k).flatMap((p) => [{ role: "user", content: p.question }, { role: "assistant", content: p.solution }]);
    out.push(JSON.stringify({ messages }));
    i += k;
  }
  process.stdout.write(out.join("\n") + "\n");' "$OUT/problems.jsonl" > "$OUT/data.jsonl"
jq -c '{id: (input_line_number | tostring), text: ([.messages[].content] | join(" "))}' "$OUT/data.jsonl" > "$OUT/text.jsonl"
# (the text is small: tokenize train says it ran out of pairs before 512 ids)
$MP tokenize train -q -v 512 -o "$OUT/tok" "$OUT/text.jsonl" 2> /dev/null
# bench/train's model shape: 2 layers, d 128, 4 heads (multi-head), SwiGLU 352, untied head.
printf '{"vocab_size":512,"hidden_size":128,"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":4,"intermediate_size":352,"max_position_embeddings":%d,"tie_word_embeddings":false}\n' "$SEQ" > "$OUT/config.json"

mp_run() { # PACKING: mean tokens/s of steps 3.. (1-2 warm up), and the data fraction
  rm -rf "$OUT/ckpt-$1"
  MATHPIPE_THREADS=$THREADS $MP sft --tokenizer "$OUT/tok" --model "$OUT/config.json" -o "$OUT/ckpt-$1" --packing "$1" \
    --seq-len "$SEQ" --batch-size "$BATCH" --steps $((STEPS + 2)) --save-interval 0 "$OUT/data.jsonl" > "$OUT/mp-$1.jsonl" 2> "$OUT/mp-$1.err"
  jq -s '[.[] | select(.step > 2) | .tokens_per_s] | (add / length) | floor' "$OUT/mp-$1.jsonl"
}
fill() { grep -o '[0-9.]*% of tokens are data' "$1" | head -1 | awk '{ printf "%.4f", $1 / 100 }'; }

HAVE_TORCH=1
$PY -c 'import torch' 2>/dev/null || { HAVE_TORCH=0; echo "bench/sft: PyTorch not found for $PY (apt-get install python3-torch): mathpipe only"; }
echo "model: d 128, 2 layers, 4 heads, SwiGLU 352; rows of $SEQ tokens, batch $BATCH, $STEPS measured steps, best of $REPEAT rounds; threads $THREADS; load average $(cut -d' ' -f1-3 /proc/loadavg)"
declare -A MPT PT MPD PTD
for P in bfd none; do
  node "$ROOT/dist/bench/sft/rows.js" "$OUT/data.jsonl" "$OUT/tok" "$SEQ" "$P" > "$OUT/rows-$P.jsonl" 2> "$OUT/rows-$P.err"
  MPT[$P]=0
  PT[$P]=0
done
best() { awk -v a="$1" -v b="$2" 'BEGIN { print (b > a ? b : a) }'; }
# Rounds alternate the modes and the tools, and each keeps its best round: on a shared machine a slow round is
# load, not the code.
for R in $(seq "$REPEAT"); do
  for P in bfd none; do
    MPT[$P]=$(best "${MPT[$P]}" "$(mp_run "$P")")
    if [ "$HAVE_TORCH" = 1 ]; then
      # The vocabulary mathpipe sized for the tokenizer (a multiple of 64), so both models have the same shape.
      OMP_NUM_THREADS=$THREADS OMP_WAIT_POLICY=passive $PY "$ROOT/bench/sft/torch_sft.py" "$OUT/rows-$P.jsonl" "$(jq .vocab_size "$OUT/ckpt-$P/config.json")" \
        --threads "$THREADS" --steps "$STEPS" --warmup 2 --batch "$BATCH" > "$OUT/pt-$P.json"
      PT[$P]=$(best "${PT[$P]}" "$(jq '.tokens_per_s | floor' "$OUT/pt-$P.json")")
    fi
  done
done
printf '%-8s %8s %14s %14s %14s %14s %8s\n' packing data mp_tok/s mp_data_tok/s pt_tok/s pt_data_tok/s mp/pt
for P in bfd none; do
  F=$(fill "$OUT/mp-$P.err")
  [ "$HAVE_TORCH" = 1 ] || PT[$P]=n/a
  MPD[$P]=$(awk -v t="${MPT[$P]}" -v f="$F" 'BEGIN { printf "%d", t * f }')
  PTD[$P]=$( [ "${PT[$P]}" = n/a ] && echo n/a || awk -v t="${PT[$P]}" -v f="$F" 'BEGIN { printf "%d", t * f }')
  printf '%-8s %8s %14s %14s %14s %14s %8s\n' "$P" "$F" "${MPT[$P]}" "${MPD[$P]}" "${PT[$P]}" "${PTD[$P]}" "$(ratio "${MPT[$P]}" "${PT[$P]}")"
done
echo "packing / padding, data tokens/s: mathpipe $(ratio "${MPD[bfd]}" "${MPD[none]}"), PyTorch $(ratio "${PTD[bfd]}" "${PTD[none]}")"
echo "mathpipe packed vs PyTorch padded, data tokens/s: $(ratio "${MPD[bfd]}" "${PTD[none]}")"
echo "mathpipe ran with:"; grep -h -E 'backend|native kernels' "$OUT/mp-bfd.err" | sed 's/^/  /'
echo "(tok/s counts padding; data tok/s = tok/s x data fraction. The CPU may be shared: compare ratios, not absolute numbers)"
