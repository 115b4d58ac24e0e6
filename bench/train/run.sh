#!/usr/bin/env bash
# Training speed: mathpipe pretrain vs PyTorch (CPU) on the same model, back to back, so the ratio is fair on a
# shared machine. Model: mathpipe's `bench` preset (2 layers, d 128, 4 heads, SwiGLU 352, untied head), batch
# 16 x 128 tokens, AdamW + clipping, vocab 512 and 8192. Prints tokens/s of both, the ratio and peak RSS.
# Env: VOCABS (default "512 8192"), STEPS (measured steps, default 6), THREADS (PyTorch threads, default 2),
#      BACKEND (mathpipe backend, default auto), MP_THREADS (mathpipe's wasm threads, default THREADS).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$ROOT/bench/out/train
VOCABS=${VOCABS:-"512 8192"}
STEPS=${STEPS:-6}
THREADS=${THREADS:-2}
BACKEND=${BACKEND:-auto}
MP_THREADS=${MP_THREADS:-$THREADS}
PY=/usr/bin/python3
MP="node $ROOT/bin/mathpipe"

if ! $PY -c 'import torch' 2>/dev/null; then
  echo "bench/train: skipped (PyTorch not found for $PY: apt-get install python3-torch)"; exit 0
fi
# Debian's python3-torch links whatever libblas.so.3 the alternatives system points to; with only the reference
# BLAS installed PyTorch runs 4-6x slower than with OpenBLAS, which would flatter mathpipe.
BLAS=$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || echo unknown)
case "$BLAS" in
  *openblas*) echo "PyTorch BLAS: $BLAS" ;;
  *) echo "bench/train: WARNING: PyTorch uses $BLAS, not OpenBLAS; the ratio below flatters mathpipe." \
       "Install the fair peer with: apt-get install libopenblas0-pthread" ;;
esac
if [ ! -f "$ROOT/dist/fixtures/train/tokens.js" ]; then echo "bench/train: run npm run build first"; exit 2; fi
mkdir -p "$OUT"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

echo "threads: PyTorch $THREADS, mathpipe $MP_THREADS"
printf '%-7s %14s %14s %8s %12s %12s\n' vocab mathpipe_tok/s pytorch_tok/s ratio mp_rss_MB pt_rss_MB
for V in $VOCABS; do
  node "$ROOT/dist/fixtures/train/tokens.js" "$OUT/tokens-$V" 300000 "$V" 1
  # PyTorch first, then mathpipe, so both see the same machine state.
  OMP_NUM_THREADS=$THREADS /usr/bin/time -f '%M' -o "$OUT/pt-$V.rss" \
    $PY "$ROOT/bench/train/torch_train.py" "$V" --threads "$THREADS" --steps "$STEPS" --warmup 2 > "$OUT/pt-$V.json"
  rm -rf "$OUT/ckpt-$V"
  MATHPIPE_THREADS=$MP_THREADS /usr/bin/time -f '%M' -o "$OUT/mp-$V.rss" \
    $MP pretrain -q --backend "$BACKEND" --model bench --vocab-size "$V" --data "$OUT/tokens-$V" --seq-len 128 --batch-size 16 \
      --steps $((STEPS + 2)) --schedule constant --warmup 0 --save-interval 0 -o "$OUT/ckpt-$V" > "$OUT/mp-$V.jsonl"
  # Steps 1-2 are warm-up (kernel setup, first allocations), as for PyTorch.
  MP_TPS=$(jq -s '[.[] | select(.step > 2) | .tokens_per_s] | (add / length) | floor' "$OUT/mp-$V.jsonl")
  PT_TPS=$(jq '.tokens_per_s' "$OUT/pt-$V.json")
  printf '%-7s %14s %14s %8s %12s %12s\n' "$V" "$MP_TPS" "$PT_TPS" "$(ratio "$MP_TPS" "$PT_TPS")" \
    $(( $(cat "$OUT/mp-$V.rss") / 1024 )) $(( $(cat "$OUT/pt-$V.rss") / 1024 ))
done
echo "(ratio = mathpipe / PyTorch tokens per second; the CPU may be shared: compare ratios, not absolute numbers)"
