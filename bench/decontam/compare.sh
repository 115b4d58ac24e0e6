#!/usr/bin/env bash
# Scan speed of `decontam --index` here against another commit (default HEAD), in one run, alternating
# the two so that load on a shared machine falls on both alike. Each side builds its own index from the
# same benchmark files and scans the same corpus (bench/decontam/run.sh's generator, MB megabytes).
# Prints the best of RUNS wall and CPU seconds of each side, and the load average.
# Usage: bench/decontam/compare.sh [REF]      Env: MB (default 50), RUNS (default 3).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
REF=${1:-HEAD}
MB=${MB:-50}
RUNS=${RUNS:-3}
OUT=bench/out/decontam/compare
rm -rf "$OUT/base"
mkdir -p "$OUT/base"
[ -x /usr/bin/time ] || { echo "/usr/bin/time is needed (apt-get install time)"; exit 1; }
git archive "$REF" | tar -x -C "$OUT/base"
ln -s "$ROOT/node_modules" "$OUT/base/node_modules"
(cd "$OUT/base" && node scripts/build.mjs)
[ -f dist/src/decontam/run.js ] || npm run --silent build

SHARED=../shared/data/benchmarks
if [ -d "$SHARED" ]; then
  mapfile -t BENCH < <(find "$SHARED" -name '*.jsonl' -o -name '*.json' | sort)
  PLANT=(--plant-from "$SHARED/gsm8k/test.jsonl")
else
  node dist/fixtures/decontam/gen.js --out "$OUT/fixture" --docs 10 2>/dev/null
  BENCH=("$OUT/fixture/bench.jsonl")
  PLANT=()
fi
node dist/fixtures/decontam/gen.js --out "$OUT/corpus" --mb "$MB" --plant-every 500 --seed 1 "${PLANT[@]}" 2>/dev/null
CORPUS=$OUT/corpus/corpus.jsonl
node "$OUT/base/bin/mathpipe" decontam index -q --bench "${BENCH[@]}" -o "$OUT/base.idx"
node bin/mathpipe decontam index -q --bench "${BENCH[@]}" -o "$OUT/here.idx"

best() { sort -n "$1" | head -1; }
: > "$OUT/base.t"
: > "$OUT/here.t"
for ((i = 0; i < RUNS; i++)); do
  for side in base here; do
    bin=bin/mathpipe
    [ "$side" = base ] && bin=$OUT/base/bin/mathpipe
    /usr/bin/time -f '%e %U %S' -o "$OUT/time.txt" node "$bin" decontam -q --index "$OUT/$side.idx" "$CORPUS" > "$OUT/$side.out"
    read -r e u s < "$OUT/time.txt"
    echo "$e $(echo "$u + $s" | bc)" >> "$OUT/$side.t"
  done
done
SIZE=$(stat -c %s "$CORPUS")
for side in base here; do
  read -r e c < <(best "$OUT/$side.t")
  printf '%-5s %-10s best wall %6ss (%5.1f MB/s), cpu %6ss, kept %d docs\n' "$side" "$([ "$side" = base ] && echo "$REF" || echo 'worktree')" \
    "$e" "$(echo "$SIZE / 1000000 / $e" | bc -l)" "$c" "$(wc -l < "$OUT/$side.out")"
done
echo "corpus $((SIZE / 1000000)) MB, ${#BENCH[@]} benchmark files; machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
