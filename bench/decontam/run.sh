#!/usr/bin/env bash
# decontam vs `jq -c .` (an identity pass through a standard JSON tool) on the same >= 200 MB JSONL corpus.
# Prints MB/s of both, the ratio, and peak RSS; RSS is also measured on a 20 MB corpus to show it stays
# flat beyond the index. Uses every file in ../shared/data/benchmarks when present, else the fixture
# benchmark. Each timing is the best of RUNS runs (default 2): the machine may be shared.
# Env: MB (corpus size, default 200), RUNS.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=bench/out/decontam
MB=${MB:-200}
RUNS=${RUNS:-2}
MP="node $ROOT/bin/mathpipe"
mkdir -p "$OUT"
[ -f dist/src/decontam/run.js ] || npm run --silent build

command -v jq >/dev/null || { echo "jq is not installed (apt-get install jq)"; exit 1; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time is needed for peak RSS (apt-get install time)"; exit 1; }

SHARED=../shared/data/benchmarks
if [ -d "$SHARED" ]; then
  mapfile -t BENCH < <(find "$SHARED" -name '*.jsonl' -o -name '*.json' | sort)
  PLANT=(--plant-from "$SHARED/gsm8k/test.jsonl")
  echo "benchmarks: ${#BENCH[@]} files from $SHARED"
else
  node dist/fixtures/decontam/gen.js --out "$OUT/fixture" --docs 10 2>/dev/null
  BENCH=("$OUT/fixture/bench.jsonl")
  PLANT=()
  echo "benchmarks: ../shared absent, using the fixture benchmark"
fi

gen() { # size_mb dir
  if [ ! -s "$2/corpus.jsonl" ] || [ "$(cat "$2/.size" 2>/dev/null)" != "$1 ${PLANT[*]:-}" ]; then
    node dist/fixtures/decontam/gen.js --out "$2" --mb "$1" --plant-every 500 --seed 1 "${PLANT[@]}" 2>/dev/null
    echo "$1 ${PLANT[*]:-}" > "$2/.size"
  fi
}
gen "$MB" "$OUT/big"
gen 20 "$OUT/small"
BIG=$OUT/big/corpus.jsonl
SMALL=$OUT/small/corpus.jsonl
SIZE=$(stat -c %s "$BIG")
printf 'corpus: %s (%.1f MB, %d docs)\n' "$BIG" "$(echo "$SIZE/1000000" | bc -l)" "$(wc -l < "$BIG")"

# best_of CMD...: runs RUNS times, prints "seconds peak_rss_kb" of the fastest run.
best_of() {
  local best="" rss="" i t
  for ((i = 0; i < RUNS; i++)); do
    /usr/bin/time -f '%e %M' -o "$OUT/time.txt" "$@" > /dev/null 2> "$OUT/stderr.txt" || { cat "$OUT/stderr.txt"; exit 1; }
    read -r t r < "$OUT/time.txt"
    if [ -z "$best" ] || [ "$(echo "$t < $best" | bc)" = 1 ]; then best=$t; rss=$r; fi
  done
  echo "$best $rss"
}

$MP decontam index -q --bench "${BENCH[@]}" -o "$OUT/bench.idx"
read -r t_idx rss_idx < <(best_of $MP decontam index -q --bench "${BENCH[@]}" -o "$OUT/bench.idx")
read -r t_jq rss_jq < <(best_of jq -c . "$BIG")
read -r t_dc rss_dc < <(best_of $MP decontam "$BIG" --report "$OUT/report.json" --bench "${BENCH[@]}")
read -r t_dci rss_dci < <(best_of $MP decontam "$BIG" --index "$OUT/bench.idx")
read -r t_small rss_small < <(best_of $MP decontam "$SMALL" --index "$OUT/bench.idx")

mbs() { echo "scale=1; $SIZE / 1000000 / $1" | bc; }
echo
printf '%-44s %8s %9s %12s\n' tool seconds MB/s 'peak RSS'
printf '%-44s %8s %9s %9d MB\n' 'jq -c .' "$t_jq" "$(mbs "$t_jq")" $((rss_jq / 1024))
printf '%-44s %8s %9s %9d MB\n' "mathpipe decontam --bench (${#BENCH[@]} files)" "$t_dc" "$(mbs "$t_dc")" $((rss_dc / 1024))
printf '%-44s %8s %9s %9d MB\n' 'mathpipe decontam --index (prebuilt)' "$t_dci" "$(mbs "$t_dci")" $((rss_dci / 1024))
printf '%-44s %8s %9s %9d MB\n' 'mathpipe decontam index (build only)' "$t_idx" '-' $((rss_idx / 1024))
echo
echo "ratio (jq time / decontam time): --bench $(echo "scale=2; $t_jq / $t_dc" | bc)x, --index $(echo "scale=2; $t_jq / $t_dci" | bc)x  (>1: decontam is faster)"
echo "peak RSS with --index: $((rss_small / 1024)) MB on 20 MB, $((rss_dci / 1024)) MB on $MB MB (flat: the index and one batch)"
echo "removed: $(jq -c '{docs_in, docs_removed, hits: (.hits | with_entries(select(.value > 0)))}' "$OUT/report.json")"
echo "planted: $(wc -l < "$OUT/big/planted.txt") docs (one real benchmark question each, perturbed)"
