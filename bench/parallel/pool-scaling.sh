#!/usr/bin/env bash
# The shared worker pool (src/cli/worker-pool.ts) against an earlier build, side by side in one run:
# wall time of `tokenize` (-j 1, -j 2) and `classify predict` (--thread 1, 2) for this checkout and for
# BEFORE (another checkout of mathpipe, built), interleaved REPEAT times so both see the same load.
# Prints the median of each, the -j 2 / -j 1 speed-up of each build, and after/before ratios (> 1: the
# pool is faster). Usage: bench/parallel/pool-scaling.sh BEFORE_DIR
# Env: MB (corpus size, default 20), REPEAT (default 3).
set -euo pipefail
cd "$(dirname "$0")/../.."
BEFORE=${1:?usage: $0 BEFORE_DIR (a built checkout of an earlier commit)}
MB=${MB:-20}
REPEAT=${REPEAT:-3}
OUT=bench/out/parallel
mkdir -p "$OUT"
C="$OUT/corpus-${MB}mb.jsonl"
[ -s "$C" ] || node dist/fixtures/tokenize/corpus.js --bytes "$((MB * 1000000))" --seed 1 > "$C"
# A labelled copy for a small classifier (the label is arbitrary: only prediction speed is measured).
L="$OUT/labelled.jsonl"
[ -s "$L" ] || head -n 4000 "$C" | jq -c '. + {label: (if (.text | length) % 2 == 0 then "math" else "other" end)}' > "$L"
bin/mathpipe classify train -q -o "$OUT/m.bin" --dim 32 --epoch 1 --thread 1 "$L" > /dev/null
echo "== $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg); $MB MB corpus; $REPEAT rounds; before: $BEFORE ($(git -C "$BEFORE" rev-parse --short HEAD))"
wall() { /usr/bin/time -f '%e' -o "$OUT/t" "$@" > /dev/null 2>&1; cat "$OUT/t"; }
declare -A T
for r in $(seq "$REPEAT"); do
  for side in after before; do
    M=bin/mathpipe
    [ "$side" = before ] && M="$BEFORE/bin/mathpipe"
    for j in 1 2; do
      s=$(wall "$M" tokenize -q -t cl100k_base -j "$j" -o "$OUT/enc-$side-$j" "$C")
      T[$side,tok,$j]+="$s "
      echo "round $r $side tokenize -j $j: $s s"
      s=$(wall "$M" classify predict -q -m "$OUT/m.bin" --thread "$j" -o "$OUT/pred-$side-$j.jsonl" "$C")
      T[$side,pred,$j]+="$s "
      echo "round $r $side classify predict --thread $j: $s s"
    done
  done
done
med() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
for cmd in tok pred; do
  name=$([ $cmd = tok ] && echo "tokenize -j" || echo "classify predict --thread")
  for side in before after; do
    one=$(med "${T[$side,$cmd,1]}"); two=$(med "${T[$side,$cmd,2]}")
    printf '%-28s %-6s  1: %6.2f s  2: %6.2f s  speed-up with 2: %.2fx\n' "$name" "$side" "$one" "$two" "$(jq -n "$one / $two")"
  done
  for j in 1 2; do
    printf '%-28s %d: after/before speed %.2fx\n' "$name" "$j" "$(jq -n "$(med "${T[before,$cmd,$j]}") / $(med "${T[after,$cmd,$j]}")")"
  done
done
for side in before after; do cmp -s "$OUT/enc-$side-1.bin" "$OUT/enc-$side-2.bin" && cmp -s "$OUT/pred-$side-1.jsonl" "$OUT/pred-$side-2.jsonl" || { echo "$side: -j 1 and -j 2 outputs differ"; exit 1; }; done
cmp -s "$OUT/enc-after-2.bin" "$OUT/enc-before-2.bin" && cmp -s "$OUT/pred-after-2.jsonl" "$OUT/pred-before-2.jsonl" && echo "outputs identical before and after, -j 1 and -j 2: yes" || { echo "outputs differ before/after"; exit 1; }
