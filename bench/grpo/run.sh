#!/usr/bin/env bash
# GRPO step time split into generation, reward, reference forward and training, and the loop's generation and
# training tokens/s against the same work done alone (sample's Generator, pretrain's training step): see bench.ts.
# Env: THREADS (default 2), STEPS (6), GROUP (8), QUESTIONS (4), TOKENS (64), MICRO (8), D (128), LAYERS (2).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
if [ ! -f "$ROOT/dist/bench/grpo/bench.js" ]; then echo "bench/grpo: run npm run build first"; exit 2; fi
MATHPIPE_THREADS=${THREADS:-2} node "$ROOT/dist/bench/grpo/bench.js" --steps "${STEPS:-6}" --group "${GROUP:-8}" \
  --questions "${QUESTIONS:-4}" --tokens "${TOKENS:-64}" --micro "${MICRO:-8}" --d "${D:-128}" --layers "${LAYERS:-2}"
