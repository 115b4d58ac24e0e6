#!/usr/bin/env bash
# `mathpipe mine` throughput vs a bare warcio.js read of the same WARC (the floor: parsing only, no
# HTML parsing or extraction). Fixture: >= 50 MB of gzip-per-record WARC from fixtures/mine/warc-gen.
# Prints pages/s, MB/s (compressed input), peak RSS, and the ratio. The CPU may be shared: run twice.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=bench/out/mine
mkdir -p "$OUT"
W="$OUT/bench.warc.gz"
MB=${MINE_BENCH_MB:-50}
if [ ! -f "$W" ] || [ "$(stat -c %s "$W")" -lt $((MB * 1000000)) ]; then
  node dist/fixtures/mine/warc-gen.js --min-mb "$MB" --seed 7 -o "$W"
fi
size=$(stat -c %s "$W")
echo "input: $W ($(awk -v s="$size" 'BEGIN{printf "%.1f", s/1e6}') MB)"

# warcio floor
node dist/bench/mine/warcio-read.js "$W" > "$OUT/warcio.json"
# mine: wall time and peak RSS from GNU time; pages = documents written
/usr/bin/time -f '%e %M' -o "$OUT/mine.time" node bin/mathpipe mine -q "$W" > "$OUT/docs.jsonl"
read -r secs rss_kb < "$OUT/mine.time"
docs=$(wc -l < "$OUT/docs.jsonl")
/usr/bin/time -f '%e %M' -o "$OUT/mine-pre.time" node bin/mathpipe mine -q --prefilter math "$W" > "$OUT/docs-pre.jsonl"
read -r psecs prss_kb < "$OUT/mine-pre.time"

jq -r --arg secs "$secs" --arg rss "$rss_kb" --arg docs "$docs" --arg size "$size" --arg psecs "$psecs" --arg prss "$prss_kb" '
  . as $w |
  ($size|tonumber/1e6) as $mb |
  ($w.responses / ($secs|tonumber)) as $pps |
  "warcio read (floor):       \($w.pagesPerS|floor) pages/s  \($w.mbPerS*10|round/10) MB/s  peak RSS \($w.maxRssMB|round) MB  (\($w.seconds*100|round/100) s)",
  "mathpipe mine:             \($pps|floor) pages/s  \($mb/($secs|tonumber)*10|round/10) MB/s  peak RSS \(($rss|tonumber)/1024|round) MB  (\($secs) s, \($docs) docs)",
  "mathpipe mine --prefilter: \(($w.responses/($psecs|tonumber))|floor) pages/s  \($mb/($psecs|tonumber)*10|round/10) MB/s  peak RSS \(($prss|tonumber)/1024|round) MB  (\($psecs) s)",
  "ratio mine/warcio (pages/s): \(($pps/$w.pagesPerS)*100|round/100)"
' "$OUT/warcio.json"
