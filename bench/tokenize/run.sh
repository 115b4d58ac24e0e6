#!/usr/bin/env bash
# tokenize benchmark: tokens/s of `mathpipe tokenize` with 1 and 2 workers against a bare tiktoken
# encode loop in one thread on the same text (goals: >= 0.9x with 1 worker, >= 1.8x with 2), and
# BPE training time and peak memory for 10 MB and 100 MB of text. Numbers depend on how busy the CPU is.
# Env: BENCH_MB (encode corpus size, default 40), TRAIN_MB (default "10 100"), VOCAB (default 16384).
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=bench/out/tokenize
mkdir -p "$OUT"
M=bin/mathpipe
BENCH_MB=${BENCH_MB:-40}
TRAIN_MB=${TRAIN_MB:-10 100}
VOCAB=${VOCAB:-16384}
ENC=${ENC:-cl100k_base}

corpus() { # corpus MB -> path (generated once, seeded)
  local f="$OUT/corpus-$1mb.jsonl"
  [ -s "$f" ] || node dist/fixtures/tokenize/corpus.js --bytes "$(($1 * 1000000))" --seed 1 > "$f"
  echo "$f"
}
timed() { # timed LOG cmd... : wall seconds, peak RSS (KB) and CPU seconds (user+sys) into LOG
  /usr/bin/time -f '%e %M %U %S' -o "$1" "${@:2}"
}

echo "== encode: $ENC on $BENCH_MB MB of text ($(nproc) cores; load average $(cut -d' ' -f1 /proc/loadavg))"
C=$(corpus "$BENCH_MB")
bare=$(node dist/bench/tokenize/bare.js "$ENC" "$C")
bare_tps=$(jq -r .tokens_per_s <<<"$bare")
bare_cpu=$(jq -r .tokens_per_cpu_s <<<"$bare")
tokens=$(jq -r .tokens <<<"$bare")
# Wall-clock rates depend on how many cores other processes leave free; tokens per CPU-second show what
# the plumbing (start-up, reading, JSON parsing, threads, writing) costs whatever the load.
printf '%-28s %10.0f tokens/s wall %10.0f tokens/CPU-s\n' "bare tiktoken loop, 1 thread" "$bare_tps" "$bare_cpu"
for j in 1 2; do
  timed "$OUT/time-j$j" $M tokenize -q -t "$ENC" -j "$j" -o "$OUT/enc-j$j" "$C"
  read -r secs rss usr sys < "$OUT/time-j$j"
  tps=$(jq -n "$tokens / $secs")
  cps=$(jq -n "$tokens / ($usr + $sys)")
  printf '%-28s %10.0f tokens/s wall %10.0f tokens/CPU-s  wall %.2fx bare, per CPU %.2fx bare  (%.1f s incl. start-up; peak RSS %d MB)\n' \
    "mathpipe tokenize -j $j" "$tps" "$cps" "$(jq -n "$tps / $bare_tps")" "$(jq -n "$cps / $bare_cpu")" "$secs" "$((rss / 1024))"
done
cmp -s "$OUT/enc-j1.bin" "$OUT/enc-j2.bin" && echo "outputs of -j 1 and -j 2 identical: yes" || { echo "outputs differ"; exit 1; }

for mb in $TRAIN_MB; do
  C=$(corpus "$mb")
  timed "$OUT/time-train-$mb" $M tokenize train -v "$VOCAB" -o "$OUT/tok-$mb" "$C" 2> "$OUT/train-$mb.log"
  read -r secs rss usr sys < "$OUT/time-train-$mb"
  printf '== train BPE, vocab %d, %d MB: %.1f s wall, %.1f CPU-s, peak RSS %d MB\n   %s\n' \
    "$VOCAB" "$mb" "$secs" "$(jq -n "$usr + $sys")" "$((rss / 1024))" "$(tail -n1 "$OUT/train-$mb.log")"
done
