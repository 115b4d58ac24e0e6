#!/usr/bin/env bash
# eval pipeline overhead: GSM8K test (1319 questions, 8-shot CoT prompts, n=4) against a zero-latency local
# OpenAI-compatible server, so the numbers are mathpipe's own cost (prompting, HTTP, cache, grading,
# metrics); then the same command again, which must be served entirely from the resume cache.
set -euo pipefail
cd "$(dirname "$0")/../.."
D=../shared/data
OUT=bench/out/eval
if [ ! -f "$D/benchmarks/gsm8k/test.jsonl" ]; then echo "bench/eval: $D absent, skipped"; exit 0; fi
mkdir -p "$OUT"
rm -f "$OUT"/gsm8k.jsonl*
node dist/bench/eval/server.js "$D/benchmarks/gsm8k/test.jsonl" > "$OUT/url" &
SRV=$!
trap 'kill $SRV 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -s "$OUT/url" ] && break; sleep 0.1; done
URL=$(cat "$OUT/url")
run() {
  local t0 t1
  t0=$(date +%s.%N)
  node bin/mathpipe eval run -q -b gsm8k --data-dir "$D/benchmarks" --api "$URL" --model bench --n 4 --temperature 0.7 \
    --concurrency 16 -o "$OUT/gsm8k.jsonl" --summary "$OUT/$1.json"
  t1=$(date +%s.%N)
  echo "$1: $(echo "$t1 - $t0" | bc) s wall for 1319 questions x 4 samples; $(jq -r '"requests \(.requests), cache hits \(.cache_hits), acc \(.accuracy*1000|round/10)%, maj@4 \(.maj_at_k["4"]*1000|round/10)%, pass@4 \(.pass_at_k["4"]*1000|round/10)%"' "$OUT/$1.json")"
}
run first
run resume
echo "(shared 2-core machine: other engineers' jobs run at the same time; no anchor tool runs offline here)"
