"""The PyTorch peer for bench/sft: the benchmarks' PyTorch Llama (bench/train/torch_llama.py, imported) trained on the rows
mathpipe sft trains on (rows.jsonl from bench/sft/rows.ts) with the same masked loss: the sum of the trained tokens'
cross-entropy over their number, each packed example attending only to itself (block-diagonal causal mask from the
segment starts; rotary positions restart per example), AdamW (0.9, 0.95, wd 0), clipping at 1.0, on CPU with a
fixed thread count. Prints one JSON line: tokens (rows x seq) per second over the measured steps.
Usage: torch_sft.py ROWS.jsonl VOCAB [--threads 2] [--steps 8] [--warmup 2] [--batch 8] [--d 128] [--layers 2]
                    [--heads 4] [--ffn 352]"""
import argparse
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "train"))
from torch_llama import Llama, add_model_args  # noqa: E402


def forward(model, ids, seg):
    """Logits of packed rows: block-diagonal causal attention and per-example positions, through the model's own blocks."""
    B, T = ids.shape
    i = torch.arange(T)
    allowed = (i[None, :, None] >= i[None, None, :]) & (seg[:, :, None] == seg[:, None, :])
    mask = torch.zeros(B, 1, T, T).masked_fill(~allowed[:, None], float("-inf"))
    pos = i[None, :] - seg
    cos, sin = model.cos[pos][:, None], model.sin[pos][:, None]
    x = model.embed(ids)
    for b in model.blocks:
        x = b(x, cos, sin, mask)
    return model.head(model.norm(x))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("rows")
    ap.add_argument("vocab", type=int)
    add_model_args(ap)
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--batch", type=int, default=8)
    a = ap.parse_args()
    with open(a.rows) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    T = len(rows[0]["ids"])
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = Llama(a.vocab, d=a.d, layers=a.layers, heads=a.heads, ffn=a.ffn, seq=T)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.95), weight_decay=0.0)
    times = []
    for step in range(a.warmup + a.steps):
        batch = [rows[(step * a.batch + k) % len(rows)] for k in range(a.batch)]
        ids, targets, seg = (torch.tensor([r[key] for r in batch]) for key in ("ids", "targets", "segments"))
        w = torch.tensor([r["weights"] for r in batch], dtype=torch.float32)
        t0 = time.perf_counter()
        logits = forward(model, ids, seg)
        ce = F.cross_entropy(logits.reshape(-1, a.vocab), targets.reshape(-1), reduction="none")
        loss = (ce * w.reshape(-1)).sum() / w.sum().clamp(min=1)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        loss.item()
        if step >= a.warmup:
            times.append(time.perf_counter() - t0)
    toks = a.batch * T * len(times)
    print(json.dumps({"tool": "pytorch", "torch": torch.__version__, "threads": a.threads, "tokens_per_s": round(toks / sum(times), 1)}))


if __name__ == "__main__":
    main()
