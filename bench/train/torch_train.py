"""The PyTorch peer for bench/train: the same Llama-style model as mathpipe's `bench` preset (RMSNorm, rotary
positions with rotate_half, SwiGLU, causal attention, untied head), AdamW (0.9, 0.95, wd 0.1), gradient clipping
at 1.0, on CPU with a fixed thread count. Prints one JSON line: tokens per second over the measured steps.
Usage: torch_train.py VOCAB [--threads 2] [--steps 8] [--warmup 2] [--batch 16] [--seq 128]
                      [--d 128] [--layers 2] [--heads 4] [--ffn 352]"""
import argparse
import json
import time

import torch
import torch.nn.functional as F

from torch_llama import Llama, add_model_args


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("vocab", type=int)
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seq", type=int, default=128)
    add_model_args(ap)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = Llama(a.vocab, d=a.d, layers=a.layers, heads=a.heads, ffn=a.ffn, seq=a.seq)
    decay = [p for n, p in model.named_parameters() if p.dim() == 2]
    other = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": other, "weight_decay": 0.0}], lr=1e-3, betas=(0.9, 0.95))
    g = torch.Generator().manual_seed(1)
    times = []
    for step in range(a.warmup + a.steps):
        ids = torch.randint(0, a.vocab, (a.batch, a.seq + 1), generator=g)
        t0 = time.perf_counter()
        logits = model(ids[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, a.vocab), ids[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        loss.item()
        if step >= a.warmup:
            times.append(time.perf_counter() - t0)
    toks = a.batch * a.seq * len(times)
    print(json.dumps({"tool": "pytorch", "torch": torch.__version__, "threads": a.threads, "vocab": a.vocab, "tokens_per_s": round(toks / sum(times), 1)}))


if __name__ == "__main__":
    main()
