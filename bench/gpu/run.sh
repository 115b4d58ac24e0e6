#!/usr/bin/env bash
# The GPU engine, measured in one command the first time a GPU is at hand: installs @tensorflow/tfjs-node-gpu
# (its install downloads libtensorflow 2.9.1 built for CUDA 11.2 / cuDNN 8.1, so it needs the internet or a
# mirror in TFJS_NODE_CDN_STORAGE), then trains the bench model (2 layers, d 128, batch 16 x 128) on the
# tensorflow backend and on the CPU engine (wasm + native kernels), and prints tokens/s side by side.
# With `mathpipe sample` built, generation is measured the same way.
# Env: VOCAB (default 8192), STEPS (measured steps, default 6), SKIP_INSTALL=1 uses what is installed.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$ROOT/bench/out/gpu
V=${VOCAB:-8192}
STEPS=${STEPS:-6}
MP="node $ROOT/bin/mathpipe"
cd "$ROOT"

if ! command -v nvidia-smi > /dev/null || ! nvidia-smi -L > /dev/null 2>&1; then
  echo "bench/gpu: skipped (no NVIDIA GPU visible: nvidia-smi -L failed)"; exit 0
fi
nvidia-smi -L
if [ "${SKIP_INSTALL:-0}" != 1 ] && ! node -e "require.resolve('@tensorflow/tfjs-node-gpu/package.json')" 2> /dev/null; then
  if ! npm install --no-save @tensorflow/tfjs-node-gpu@4.22.0 > "$ROOT/bench/out/gpu-install.log" 2>&1; then
    echo "bench/gpu: could not install @tensorflow/tfjs-node-gpu (see bench/out/gpu-install.log; libtensorflow is downloaded at install)"
    exit 0
  fi
fi
if [ ! -f "$ROOT/dist/fixtures/train/tokens.js" ]; then echo "bench/gpu: run npm run build first"; exit 2; fi
mkdir -p "$OUT"
node "$ROOT/dist/fixtures/train/tokens.js" "$OUT/tokens" 300000 "$V" 1
printf '{"vocab_size":%d,"hidden_size":128,"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":4,"intermediate_size":352,"max_position_embeddings":128,"tie_word_embeddings":false}\n' "$V" > "$OUT/config.json"

train() { # BACKEND: mean tokens/s after two warm-up steps
  rm -rf "$OUT/ckpt-$1"
  $MP pretrain --backend "$1" --model "$OUT/config.json" --data "$OUT/tokens" --seq-len 128 --batch-size 16 \
    --steps $((STEPS + 2)) --schedule constant --warmup 0 --save-interval 0 -o "$OUT/ckpt-$1" > "$OUT/train-$1.jsonl" 2> "$OUT/train-$1.err" \
    || { echo "bench/gpu: pretrain --backend $1 failed:" >&2; cat "$OUT/train-$1.err" >&2; return 1; }
  grep -m1 'backend' "$OUT/train-$1.err" >&2 || true
  node -e 'const r=require("fs").readFileSync(process.argv[1],"utf8").trim().split("\n").map(JSON.parse).filter(m=>m.step>2); console.log(Math.round(r.reduce((a,m)=>a+m.tokens_per_s,0)/r.length))' "$OUT/train-$1.jsonl"
}
gpu=$(train tensorflow)
cpu=$(train wasm)
echo "training, vocab $V: tensorflow (GPU) $gpu tokens/s, wasm + native (CPU) $cpu tokens/s, ratio $(awk -v a="$gpu" -v b="$cpu" 'BEGIN{printf "%.2f", a/b}')x"

if $MP sample --help > /dev/null 2>&1; then
  for b in tensorflow wasm; do
    node -e 'for (let i=0;i<32;i++) console.log(JSON.stringify({prompt:"The answer to question "+i+" is"}))' > "$OUT/prompts.jsonl"
    start=$(date +%s.%N)
    $MP sample -m "$OUT/ckpt-$b" --backend "$b" --max-tokens 64 --temperature 0 --ignore-eos --batch-size 32 "$OUT/prompts.jsonl" > "$OUT/sample-$b.jsonl" 2> "$OUT/sample-$b.err"
    end=$(date +%s.%N)
    n=$(node -e 'console.log(require("fs").readFileSync(process.argv[1],"utf8").trim().split("\n").map(JSON.parse).reduce((a,r)=>a+r.tokens.length,0))' "$OUT/sample-$b.jsonl")
    echo "sample, batch 32: $b $(awk -v n="$n" -v s="$start" -v e="$end" 'BEGIN{printf "%.0f", n/(e-s)}') generated tokens/s (process wall time, model load included)"
  done
fi
