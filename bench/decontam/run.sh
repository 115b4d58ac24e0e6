#!/usr/bin/env bash
# decontam vs `jq -c .` (an identity pass through a standard JSON tool) on the same >= 200 MB JSONL corpus.
# Prints MB/s of both, the ratio, and peak RSS; RSS is also measured on a 20 MB corpus to show it stays
# flat beyond the index. With ../shared/data present: every benchmark file there, and a corpus of real
# web text (../shared/data/web/*.jsonl repeated up to MB); else the fixture benchmark and the synthetic
# generator's corpus (CORPUS=synthetic forces that one). The scan runs on the native addon when it is
# built; the MATHPIPE_NATIVE=0 row is the JS fallback. Each timing is the best of RUNS runs (default 2):
# the machine may be shared.
# Env: MB (corpus size, default 200), RUNS, CORPUS (web or synthetic).
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

WEB=(../shared/data/web/classify.train.jsonl ../shared/data/web/classify.dev.jsonl)
CORPUS=${CORPUS:-$([ -f "${WEB[0]}" ] && echo web || echo synthetic)}
gen() { # size_mb dir
  if [ ! -s "$2/corpus.jsonl" ] || [ "$(cat "$2/.size" 2>/dev/null)" != "$1 $CORPUS ${PLANT[*]:-}" ]; then
    mkdir -p "$2"
    if [ "$CORPUS" = web ]; then
      # Real web documents (raw UTF-8, LaTeX, escapes), repeated: the scan's speed, not its hit rate, is measured.
      : > "$2/corpus.jsonl"
      rm -f "$2/planted.txt"
      while [ "$(stat -c %s "$2/corpus.jsonl")" -lt $(($1 * 1000000)) ]; do cat "${WEB[@]}" >> "$2/corpus.jsonl"; done
    else
      node dist/fixtures/decontam/gen.js --out "$2" --mb "$1" --plant-every 500 --seed 1 "${PLANT[@]}" 2>/dev/null
    fi
    echo "$1 $CORPUS ${PLANT[*]:-}" > "$2/.size"
  fi
}
gen "$MB" "$OUT/big"
gen 20 "$OUT/small"
BIG=$OUT/big/corpus.jsonl
SMALL=$OUT/small/corpus.jsonl
SIZE=$(stat -c %s "$BIG")
printf 'corpus (%s): %s (%.1f MB, %d docs)\n' "$CORPUS" "$BIG" "$(echo "$SIZE/1000000" | bc -l)" "$(wc -l < "$BIG")"

# best_of CMD...: runs RUNS times, prints "seconds cpu_seconds peak_rss_kb" of the fastest run.
# CPU seconds (user + sys) are shown too: on a shared machine they say more than wall time does.
best_of() {
  local best="" cpu="" rss="" i t u s r
  for ((i = 0; i < RUNS; i++)); do
    /usr/bin/time -f '%e %U %S %M' -o "$OUT/time.txt" "$@" > /dev/null 2> "$OUT/stderr.txt" || { cat "$OUT/stderr.txt"; exit 1; }
    read -r t u s r < "$OUT/time.txt"
    if [ -z "$best" ] || [ "$(echo "$t < $best" | bc)" = 1 ]; then best=$t; cpu=$(echo "$u + $s" | bc); rss=$r; fi
  done
  echo "$best $cpu $rss"
}

$MP decontam index -q --bench "${BENCH[@]}" -o "$OUT/bench.idx"
read -r t_idx c_idx rss_idx < <(best_of $MP decontam index -q --bench "${BENCH[@]}" -o "$OUT/bench.idx")
read -r t_jq c_jq rss_jq < <(best_of jq -c . "$BIG")
read -r t_dc c_dc rss_dc < <(best_of $MP decontam "$BIG" --report "$OUT/report.json" --bench "${BENCH[@]}")
read -r t_dci c_dci rss_dci < <(best_of $MP decontam "$BIG" --index "$OUT/bench.idx")
read -r t_dc2 c_dc2 rss_dc2 < <(best_of $MP decontam "$BIG" --index "$OUT/bench.idx" --jobs 2)
read -r t_js c_js rss_js < <(best_of env MATHPIPE_NATIVE=0 $MP decontam "$BIG" --index "$OUT/bench.idx")
read -r t_small c_small rss_small < <(best_of $MP decontam "$SMALL" --index "$OUT/bench.idx")

mbs() { echo "scale=1; $SIZE / 1000000 / $1" | bc; }
row() { printf '%-50s %8s %9s %8s %9d MB\n' "$1" "$2" "$(mbs "$2")" "$3" $(($4 / 1024)); }
echo
printf '%-50s %8s %9s %8s %12s\n' tool seconds MB/s 'cpu s' 'peak RSS'
row 'jq -c .' "$t_jq" "$c_jq" "$rss_jq"
row "mathpipe decontam --bench (${#BENCH[@]} files)" "$t_dc" "$c_dc" "$rss_dc"
row 'mathpipe decontam --index (prebuilt)' "$t_dci" "$c_dci" "$rss_dci"
row 'mathpipe decontam --index --jobs 2' "$t_dc2" "$c_dc2" "$rss_dc2"
row 'mathpipe decontam --index, JS scan (no addon)' "$t_js" "$c_js" "$rss_js"
printf '%-50s %8s %9s %8s %9d MB\n' 'mathpipe decontam index (build only)' "$t_idx" - "$c_idx" $((rss_idx / 1024))
echo
echo "ratio (jq seconds / decontam seconds, >1: decontam faster): --bench $(echo "scale=2; $t_jq / $t_dc" | bc)x," \
  "--index $(echo "scale=2; $t_jq / $t_dci" | bc)x, --index --jobs 2 $(echo "scale=2; $t_jq / $t_dc2" | bc)x," \
  "JS scan $(echo "scale=2; $t_jq / $t_js" | bc)x"
echo "-j 2 against -j 1: $(echo "scale=2; $t_dci / $t_dc2" | bc)x"
native=$(node -e "import('./dist/src/decontam/native-scan.js').then(m => console.log(m.nativeAvailable() ? 'yes' : 'no (JS scan)'))")
echo "native scan: $native"
echo "CPU-time ratio (jq cpu s / decontam --index cpu s): $(echo "scale=2; $c_jq / $c_dci" | bc)x"
echo "peak RSS, --index: $((rss_small / 1024)) MB on 20 MB, $((rss_dci / 1024)) MB on $MB MB (flat: the index and a few batches)"
echo "machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) (shared machines make wall times noisy)"
echo "removed: $(jq -c '{docs_in, docs_removed, hits: (.hits | with_entries(select(.value > 0)))}' "$OUT/report.json")"
[ -f "$OUT/big/planted.txt" ] && echo "planted: $(wc -l < "$OUT/big/planted.txt") docs (one real benchmark question each, perturbed)"
exit 0
