#!/usr/bin/env bash
# mathpipe classify vs fastText 0.9.2 on the labeled web set: same data (normalised once by
# `mathpipe classify format`, so both tools see the same tokens), same hyper-parameters, same threads.
# Prints held-out accuracy, training words/sec/thread, whole-process training wall time (reading the
# data and writing the ~2 GB model included) and CPU time, the model-write time beside `dd` writing
# the same number of bytes (the disk's speed, measured in the same run), prediction docs/s (model load
# included, as a user runs it) and peak RSS, with mathpipe/fastText ratios.
# The paper config is DeepSeekMath's: dim 256, lr 0.1, wordNgrams 3, minCount 3, 10 epochs, 1 thread.
# Env: THREADS (default 1), REPEAT (prediction set = dev repeated REPEAT times, default 10),
#      CONFIGS (default "paper small").
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DATA=${DATA:-$ROOT/../shared/data/web}
OUT=$ROOT/bench/out/classify
THREADS=${THREADS:-1}
REPEAT=${REPEAT:-10}
CONFIGS=${CONFIGS:-"paper small"}
MP="node $ROOT/bin/mathpipe"

if [ ! -f "$DATA/classify.train.jsonl" ]; then echo "bench/classify: skipped ($DATA/classify.train.jsonl absent)"; exit 0; fi
if ! command -v fasttext >/dev/null; then echo "bench/classify: skipped (fasttext not installed: apt-get install fasttext)"; exit 0; fi
if [ ! -x /usr/bin/time ]; then echo "bench/classify: skipped (/usr/bin/time needed for peak RSS)"; exit 0; fi
mkdir -p "$OUT"

$MP -q classify format "$DATA/classify.train.jsonl" -o "$OUT/train.txt"
$MP -q classify format "$DATA/classify.dev.jsonl" -o "$OUT/dev.txt"
: > "$OUT/pred.jsonl"; : > "$OUT/pred.txt"
for _ in $(seq "$REPEAT"); do cat "$DATA/classify.dev.jsonl" >> "$OUT/pred.jsonl"; cat "$OUT/dev.txt" >> "$OUT/pred.txt"; done
NPRED=$(wc -l < "$OUT/pred.txt")

params() { # config -> "--dim 256 ..." (mathpipe spelling; fastText takes the same names with one dash)
  case $1 in
    paper) echo "--dim 256 --lr 0.1 --wordNgrams 3 --minCount 3 --epoch 10" ;;
    small) echo "--dim 100 --lr 0.5 --wordNgrams 2 --epoch 25" ;;
    *) echo "unknown config $1" >&2; exit 2 ;;
  esac
}
timed() { # file cmd... : run, record "wall_s maxrss_kb cpu_s"
  local f=$1; shift
  /usr/bin/time -f '%e %M %U %S' -o "$f" "$@"
  awk '{ printf "%s %s %.2f\n", $1, $2, $3 + $4 }' "$f" > "$f.tmp" && mv "$f.tmp" "$f"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

echo "bench/classify: $(nproc) CPUs (shared machine: load $(cut -d' ' -f1 /proc/loadavg)), threads $THREADS, $NPRED docs for prediction"
printf '%-6s %-28s %14s %14s %8s\n' config metric mathpipe fastText ratio
for cfg in $CONFIGS; do
  P=$(params "$cfg")
  FP=${P//--/-}
  # fastText
  timed "$OUT/ft.time" fasttext supervised -input "$OUT/train.txt" -output "$OUT/ft_$cfg" $FP -thread "$THREADS" -verbose 2 > /dev/null 2> "$OUT/ft_train.log"
  ft_wps=$(tr '\r' '\n' < "$OUT/ft_train.log" | grep -o 'words/sec/thread: *[0-9]*' | tail -1 | awk '{print $2}')
  read -r ft_wall ft_rss ft_cpu < "$OUT/ft.time"
  ft_acc=$(fasttext test "$OUT/ft_$cfg.bin" "$OUT/dev.txt" | awk '/^P@1/ {print $2}')
  timed "$OUT/ftp.time" fasttext predict-prob "$OUT/ft_$cfg.bin" "$OUT/pred.txt" > /dev/null
  read -r ftp_wall ftp_rss _ < "$OUT/ftp.time"
  # mathpipe
  timed "$OUT/mp.time" $MP classify train -o "$OUT/mp_$cfg.bin" $P --thread "$THREADS" "$DATA/classify.train.jsonl" > "$OUT/mp_train_$cfg.jsonl" 2> "$OUT/mp_train.log"
  mp_wps=$(grep -o '[0-9]* words/sec/thread' "$OUT/mp_train.log" | awk '{print $1}')
  read -r mp_wall mp_rss mp_cpu < "$OUT/mp.time"
  mp_write=$(grep -o 'write [0-9.]*s' "$OUT/mp_train.log" | tr -dc '0-9.')
  # the disk's speed for the same bytes: dd around the page cache (oflag=direct), as mathpipe writes a model this
  # large; through the page cache if the file system refuses O_DIRECT
  model_bytes=$(stat -c %s "$OUT/mp_$cfg.bin")
  /usr/bin/time -f '%e' -o "$OUT/dd.time" dd if=/dev/zero of="$OUT/dd.bin" bs=8M oflag=direct count=$(( (model_bytes + 8388607) / 8388608 )) 2> /dev/null \
    || /usr/bin/time -f '%e' -o "$OUT/dd.time" dd if=/dev/zero of="$OUT/dd.bin" bs=8M count=$(( (model_bytes + 8388607) / 8388608 )) 2> /dev/null
  dd_s=$(cat "$OUT/dd.time")
  rm -f "$OUT/dd.bin"
  mp_acc=$($MP -q classify test -m "$OUT/mp_$cfg.bin" "$DATA/classify.dev.jsonl" | jq .precision)
  timed "$OUT/mpp.time" $MP -q classify predict -m "$OUT/mp_$cfg.bin" "$OUT/pred.jsonl" > /dev/null
  read -r mpp_wall mpp_rss _ < "$OUT/mpp.time"
  # interoperability: mathpipe scoring with fastText's own model, against fasttext predict-prob
  $MP -q classify predict -m "$OUT/ft_$cfg.bin" --normalize web "$DATA/classify.dev.jsonl" | jq -r .score > "$OUT/interop_mp.txt"
  fasttext predict-prob "$OUT/ft_$cfg.bin" "$OUT/dev.txt" -1 | awk '{for (i = 1; i < NF; i += 2) if ($i == "__label__math") print $(i + 1)}' > "$OUT/interop_ft.txt"
  maxdiff=$(paste "$OUT/interop_mp.txt" "$OUT/interop_ft.txt" | awk '{d = $1 - $2; if (d < 0) d = -d; if (d > m) m = d} END {printf "%.2g", m}')

  acc_mp=$(awk -v a="$mp_acc" 'BEGIN {printf "%.2f", a * 100}'); acc_ft=$(awk -v a="$ft_acc" 'BEGIN {printf "%.2f", a * 100}')
  dps_mp=$(awk -v n="$NPRED" -v t="$mpp_wall" 'BEGIN {printf "%.0f", n / t}'); dps_ft=$(awk -v n="$NPRED" -v t="$ftp_wall" 'BEGIN {printf "%.0f", n / t}')
  printf '%-6s %-28s %14s %14s %8s\n' "$cfg" "dev accuracy %" "$acc_mp" "$acc_ft" "$(awk -v a="$acc_mp" -v b="$acc_ft" 'BEGIN {printf "%+.2f pt", a - b}')"
  printf '%-6s %-28s %14s %14s %8s\n' "$cfg" "train words/sec/thread" "$mp_wps" "$ft_wps" "$(ratio "$mp_wps" "$ft_wps")"
  printf '%-6s %-28s %14s %14s %8s\n' "$cfg" "train wall s (end to end)" "$mp_wall" "$ft_wall" "$(ratio "$ft_wall" "$mp_wall")"
  printf '%-6s %-28s %14s %14s %8s\n' "$cfg" "train CPU s (user+sys)" "$mp_cpu" "$ft_cpu" "$(ratio "$ft_cpu" "$mp_cpu")"
  printf '%-6s %-28s %14s %14s %8s\n' "$cfg" "model write s | dd same MB" "$mp_write" "$dd_s" "$(awk -v b="$model_bytes" 'BEGIN {printf "%d MB", b / 1048576}')"
  printf '%-6s %-28s %14s %14s %8s\n' "$cfg" "train peak RSS MB" "$((mp_rss / 1024))" "$((ft_rss / 1024))" "$(ratio "$mp_rss" "$ft_rss")"
  printf '%-6s %-28s %14s %14s %8s\n' "$cfg" "predict docs/s (with load)" "$dps_mp" "$dps_ft" "$(ratio "$dps_mp" "$dps_ft")"
  printf '%-6s %-28s %14s %14s %8s\n' "$cfg" "predict peak RSS MB" "$((mpp_rss / 1024))" "$((ftp_rss / 1024))" "$(ratio "$mpp_rss" "$ftp_rss")"
  printf '%-6s %-28s %14s\n' "$cfg" "fastText model in mathpipe" "max |p - p_ft| = $maxdiff"
  rm -f "$OUT/ft_$cfg.bin" "$OUT/ft_$cfg.vec" "$OUT/mp_$cfg.bin" # 1-2 GB each
done
echo "(ratios: mathpipe/fastText; for wall and CPU time fastText/mathpipe, so > 1 means mathpipe is faster;"
echo " 'model write' is mathpipe's time to write its model, in the dd column the disk's time for as many bytes)"
