"""The PyTorch peer for bench/sample: the same Llama-style model as bench/sample/bench.ts (bench/train/torch_llama.py,
the model bench/train trains), generating with a hand-written KV cache:
the prompt is prefilled in one forward that fills the cache, then one token per sequence per step attends to it
(the cache is preallocated; each step writes its position), sampling at temperature 1 with torch.multinomial.
Prints one JSON line: prefill tokens/s (one prompt at a time) and decode tokens/s per batch size.
Usage: torch_sample.py [--threads 2] [--vocab 512] [--d 128] [--layers 2] [--heads 4] [--ffn 352]
                       [--prompt 32] [--tokens 64] [--batches 1,32]"""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "train"))
from torch_llama import Llama, add_model_args  # noqa: E402


@torch.inference_mode()
def main():
    ap = argparse.ArgumentParser()
    add_model_args(ap)
    for name, default in [("vocab", 512), ("prompt", 32), ("tokens", 64)]:
        ap.add_argument(f"--{name}", type=int, default=default)
    ap.add_argument("--batches", default="1,32")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    ctx = a.prompt + a.tokens + 1
    model = Llama(a.vocab, a.d, a.layers, a.heads, a.ffn, ctx).eval()
    g = torch.Generator().manual_seed(1)
    out = {"tool": "pytorch", "torch": torch.__version__, "threads": a.threads}

    def prefill_one():
        ids = torch.randint(0, a.vocab, (1, a.prompt), generator=g)
        cache = model.new_cache(1)
        return model(ids, cache, 0, last=True), cache

    prefill_one()
    k = 16
    t0 = time.perf_counter()
    for _ in range(k):
        prefill_one()
    out["prefill_tokens_per_s"] = round(k * a.prompt / (time.perf_counter() - t0))
    for B in [int(x) for x in a.batches.split(",")]:
        # Prompts prefilled one at a time into one batch cache (as mathpipe does), not timed.
        cache = model.new_cache(B)
        logits = []
        for i in range(B):
            c1 = [(ck[i : i + 1], cv[i : i + 1]) for ck, cv in cache]
            logits.append(model(torch.randint(0, a.vocab, (1, a.prompt), generator=g), c1, 0, last=True))
        tok = torch.multinomial(torch.softmax(torch.cat(logits), -1), 1, generator=g)
        t0 = time.perf_counter()
        for step in range(a.tokens - 1):
            logits = model(tok, cache, a.prompt + step, last=True)
            tok = torch.multinomial(torch.softmax(logits, -1), 1, generator=g)
            torch.log_softmax(logits, -1).gather(1, tok)  # the log-prob of each token, as mathpipe reports it
        out[f"decode_b{B}_tokens_per_s"] = round(B * (a.tokens - 1) / (time.perf_counter() - t0))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
