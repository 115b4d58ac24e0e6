#!/usr/bin/env bash
# `mathpipe mine` throughput vs a bare warcio.js read of the same WARC (the floor: WARC parsing and payload
# decoding only, no HTML parsing or extraction). Fixture: >= 50 MB of gzip-per-record WARC written by
# fixtures/mine/warc-gen into bench/out/mine. Prints pages/s (HTML responses per second), MB/s of compressed
# input, peak RSS, and the ratios; then peak RSS on a 5x smaller file, to show memory stays flat.
# The CPU may be shared with other work: numbers vary, compare within one run.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=bench/out/mine
mkdir -p "$OUT"
MB=${MINE_BENCH_MB:-50}
W="$OUT/bench-${MB}mb.warc.gz"
S="$OUT/bench-$((MB / 5))mb.warc.gz"
[ -f "$W" ] || node dist/fixtures/mine/warc-gen.js --min-mb "$MB" --seed 7 -o "$W"
[ -f "$S" ] || node dist/fixtures/mine/warc-gen.js --min-mb "$((MB / 5))" --seed 7 -o "$S"
size=$(stat -c %s "$W")
echo "input: $W ($(awk -v s="$size" 'BEGIN{printf "%.1f", s/1e6}') MB compressed, $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg))"

node dist/bench/mine/warcio-read.js "$W" > "$OUT/warcio.json"
responses=$(jq .responses "$OUT/warcio.json")
wsecs=$(jq .seconds "$OUT/warcio.json")
wcpu=$(jq .cpuSeconds "$OUT/warcio.json")
printf '%-34s %8.0f pages/s %6.1f MB/s  peak RSS %4.0f MB  (%.1f s wall, %.1f s CPU)\n' "warcio.js read (floor)" \
  "$(jq .pagesPerS "$OUT/warcio.json")" "$(jq .mbPerS "$OUT/warcio.json")" "$(jq .maxRssMB "$OUT/warcio.json")" "$wsecs" "$wcpu"

node dist/bench/mine/reader-read.js "$W" > "$OUT/reader.json"
printf '%-34s %8.0f pages/s %6.1f MB/s  peak RSS %4.0f MB  (%.1f s wall, %.1f s CPU)  x%.2f of warcio (CPU)\n' "mathpipe WARC reader alone" \
  "$(jq .pagesPerS "$OUT/reader.json")" "$(jq .mbPerS "$OUT/reader.json")" "$(jq .maxRssMB "$OUT/reader.json")" "$(jq .seconds "$OUT/reader.json")" \
  "$(jq .cpuSeconds "$OUT/reader.json")" "$(jq -n --argjson w "$wcpu" --argjson r "$(jq .cpuSeconds "$OUT/reader.json")" '$w/$r')"

measure() { # label, file, mine args...
  local label=$1 file=$2; shift 2
  /usr/bin/time -f '%e %M %U %S' -o "$OUT/time" node bin/mathpipe mine -q "$@" "$file" > "$OUT/docs.jsonl"
  read -r secs rss_kb us ss < "$OUT/time"
  local fsize; fsize=$(stat -c %s "$file")
  local pages; pages=$(awk -v r="$responses" -v f="$fsize" -v s="$size" 'BEGIN{print r*f/s}')
  printf '%-34s %8.0f pages/s %6.1f MB/s  peak RSS %4.0f MB  (%.1f s wall, %.1f s CPU, %d docs)  x%.2f of floor (wall), x%.2f (CPU)\n' "$label" \
    "$(awk -v p="$pages" -v s="$secs" 'BEGIN{print p/s}')" "$(awk -v f="$fsize" -v s="$secs" 'BEGIN{print f/1e6/s}')" \
    "$(awk -v k="$rss_kb" 'BEGIN{print k/1024}')" "$secs" "$(awk -v u="$us" -v s="$ss" 'BEGIN{print u+s}')" "$(wc -l < "$OUT/docs.jsonl")" \
    "$(awk -v w="$wsecs" -v s="$secs" -v f="$fsize" -v z="$size" 'BEGIN{print (w*f/z)/s}')" \
    "$(awk -v w="$wcpu" -v u="$us" -v s="$ss" -v f="$fsize" -v z="$size" 'BEGIN{print (w*f/z)/(u+s)}')"
}
measure "mathpipe mine --threads 1" "$W" --threads 1
measure "mathpipe mine (threads: $(nproc))" "$W"
measure "mathpipe mine --prefilter math" "$W" --prefilter math
measure "mine on the 1/5-size file (for RSS)" "$S"
