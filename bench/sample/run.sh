#!/usr/bin/env bash
# Generation speed: mathpipe's Generator (what `mathpipe sample` runs) vs PyTorch running a hand-written KV-cache
# loop of the same model (bench/sample/torch_sample.py), on the same number of threads, back to back and
# alternating, best of ROUNDS for each (the machine may be shared: the load average is printed before and after).
# Shapes: mathpipe's `bench` preset (2 layers, d 128, 4 heads, SwiGLU 352, untied head), `wide` (4 layers, d 256,
# 8 heads, SwiGLU 688) and, on request, `mid` (8 layers, d 768, 12 heads, SwiGLU 2048: 226 MB of weights, more
# than the caches); vocab 512 (VOCAB). Prints prefill tokens/s (one prompt of PROMPT tokens at a time) and decode
# tokens/s at batch 1 and 32 (TOKENS per sample, temperature 1), the ratios, and mathpipe's batch-1 decode against
# the memory-bandwidth bound: a step reads every weight matrix once (4 bytes a weight; one row of the untied
# embedding), so batch 1 runs at most (measured copy bandwidth) / (bytes per token) tokens/s. Weights that fit in
# the caches (bench 2 MB, wide 13 MB; this machine has 32 MB of L3) are not read from memory, so their share can
# pass 100%: the bound means something for `mid`.
# Env: THREADS (default 2), ROUNDS (default 3), SHAPES (default "bench wide"), VOCAB (512), PROMPT (32),
#      TOKENS (64), PY (default /usr/bin/python3; any python with torch).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-3}
SHAPES=${SHAPES:-"bench wide"}
VOCAB=${VOCAB:-512}
PROMPT=${PROMPT:-32}
TOKENS=${TOKENS:-64}
PY=${PY:-/usr/bin/python3}
if [ ! -f "$ROOT/dist/bench/sample/bench.js" ]; then echo "bench/sample: run npm run build first"; exit 2; fi
HAVE_TORCH=1
if ! "$PY" -c 'import torch' 2>/dev/null; then
  HAVE_TORCH=0
  echo "bench/sample: PyTorch not found for $PY (apt-get install python3-torch, or PY=/path/to/python): mathpipe only"
fi

best() { # FIELD JSON-LINES...: the largest value of FIELD
  printf '%s\n' "${@:2}" | jq -s "map(.$1) | max"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

# Memory bandwidth: best of 5 copies of 256 MB (read + write), in bytes/s.
BW=$(node -e '
  const n = 1 << 28, a = Buffer.alloc(n, 1), b = Buffer.alloc(n);
  let best = 0;
  for (let i = 0; i < 5; i++) { const t = process.hrtime.bigint(); a.copy(b); best = Math.max(best, 2 * n / (Number(process.hrtime.bigint() - t) / 1e9)); }
  console.log(Math.round(best));')
echo "threads: $THREADS; prompt $PROMPT, $TOKENS tokens per sample, vocab $VOCAB; copy bandwidth $(awk -v b="$BW" 'BEGIN { printf "%.1f GB/s", b / 1e9 }'); load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
printf '%-6s %-14s %10s %10s %10s %12s\n' shape what mathpipe pytorch ratio "bw_bound"
for SHAPE in $SHAPES; do
  case "$SHAPE" in
    bench) DIMS=(--d 128 --layers 2 --heads 4 --ffn 352) ;;
    wide) DIMS=(--d 256 --layers 4 --heads 8 --ffn 688) ;;
    mid) DIMS=(--d 768 --layers 8 --heads 12 --ffn 2048) ;;
    *) echo "bench/sample: SHAPE must be bench, wide or mid"; exit 2 ;;
  esac
  ARGS=("${DIMS[@]}" --vocab "$VOCAB" --prompt "$PROMPT" --tokens "$TOKENS" --batches 1,32)
  MP=()
  PT=()
  for _ in $(seq "$ROUNDS"); do
    MP+=("$(MATHPIPE_THREADS=$THREADS node "$ROOT/dist/bench/sample/bench.js" "${ARGS[@]}")")
    if [ "$HAVE_TORCH" = 1 ]; then
      # Passive OpenMP waiting, as mathpipe's own threads (spinning threads starve each other on a small machine).
      PT+=("$(OMP_NUM_THREADS=$THREADS OMP_WAIT_POLICY=passive "$PY" "$ROOT/bench/sample/torch_sample.py" --threads "$THREADS" "${ARGS[@]}" 2>/dev/null)")
    fi
  done
  PARAMS=$(printf '%s\n' "${MP[0]}" | jq .parameters)
  BYTES=$(printf '%s\n' "${MP[0]}" | jq .weight_bytes_per_token)
  for F in prefill_tokens_per_s decode_b1_tokens_per_s decode_b32_tokens_per_s; do
    M=$(best "$F" "${MP[@]}")
    P=n/a
    [ "$HAVE_TORCH" = 1 ] && P=$(best "$F" "${PT[@]}")
    BOUND=""
    [ "$F" = decode_b1_tokens_per_s ] && BOUND=$(awk -v m="$M" -v b="$BW" -v w="$BYTES" 'BEGIN { printf "%.1f%%", 100 * m / (b / w) }')
    printf '%-6s %-14s %10s %10s %10s %12s\n' "$SHAPE" "${F%_tokens_per_s}" "$M" "$P" "$(ratio "$M" "$P")" "$BOUND"
  done
  # Where decoding time went, in the first round (shares of the model's forwards, sampling, the rest).
  for B in 1 32; do
    echo "  ($SHAPE batch $B decoding time: $(printf '%s\n' "${MP[0]}" | jq -r ".decode_b${B}_split | \"forward \\(100 * .forward | round)%, sampling \\(100 * .sampling | round)%, other \\(100 * .other | round)%\""))"
  done
  echo "  ($SHAPE: $PARAMS parameters, $(awk -v w="$BYTES" 'BEGIN { printf "%.1f MB", w / 1e6 }') of weights read per step, bandwidth bound $(awk -v b="$BW" -v w="$BYTES" 'BEGIN { printf "%.0f", b / w }') tokens/s at batch 1; mathpipe $(printf '%s\n' "${MP[0]}" | jq -r '"\(.backend), \(.native // "no native kernels"), \(.attention) attention, \(.sampler // "js") sampler, decoding products in \(if .row_group == 0 then "one call per step" else "groups of \(.row_group) rows" end)"'))"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "(tokens per second, best of $ROUNDS; ratio = mathpipe / PyTorch; bw_bound = batch-1 decode as a share of the bandwidth bound)"
