"""The PyTorch peer for bench/sample: the same Llama-style model as bench/sample/bench.ts (RMSNorm, rotary positions
with rotate_half, SwiGLU, multi-head attention, untied head, random init), generating with a hand-written KV cache:
the prompt is prefilled in one forward that fills the cache, then one token per sequence per step attends to it
(the cache is preallocated; each step writes its position), sampling at temperature 1 with torch.multinomial.
Prints one JSON line: prefill tokens/s (one prompt at a time) and decode tokens/s per batch size.
Usage: torch_sample.py [--threads 2] [--vocab 512] [--d 128] [--layers 2] [--heads 4] [--ffn 352]
                       [--prompt 32] [--tokens 64] [--batches 1,32]"""
import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class RMSNorm(nn.Module):
    def __init__(self, d, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


class Block(nn.Module):
    def __init__(self, d, heads, ffn):
        super().__init__()
        self.h, self.hd = heads, d // heads
        self.ln1, self.ln2 = RMSNorm(d), RMSNorm(d)
        self.q, self.k, self.v, self.o = (nn.Linear(d, d, bias=False) for _ in range(4))
        self.gate, self.up = nn.Linear(d, ffn, bias=False), nn.Linear(d, ffn, bias=False)
        self.down = nn.Linear(ffn, d, bias=False)

    def forward(self, x, cos, sin, cache, pos):
        """x [B, T, D] at positions pos..pos+T-1; cache (k, v) [B, H, maxT, hd] is written at those positions."""
        B, T, D = x.shape
        h = self.ln1(x)
        q = self.q(h).view(B, T, self.h, self.hd).transpose(1, 2)
        k = self.k(h).view(B, T, self.h, self.hd).transpose(1, 2)
        v = self.v(h).view(B, T, self.h, self.hd).transpose(1, 2)
        c, s = cos[pos : pos + T], sin[pos : pos + T]
        q = q * c + rotate_half(q) * s
        k = k * c + rotate_half(k) * s
        ck, cv = cache
        ck[:, :, pos : pos + T] = k
        cv[:, :, pos : pos + T] = v
        keys, vals = ck[:, :, : pos + T], cv[:, :, : pos + T]
        scores = q @ keys.transpose(-1, -2) / self.hd**0.5
        if T > 1:
            scores = scores + torch.full((T, pos + T), float("-inf")).triu(pos + 1)
        a = torch.softmax(scores, dim=-1) @ vals
        x = x + self.o(a.transpose(1, 2).reshape(B, T, D))
        h = self.ln2(x)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


class Llama(nn.Module):
    def __init__(self, vocab, d, layers, heads, ffn, ctx):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.blocks = nn.ModuleList(Block(d, heads, ffn) for _ in range(layers))
        self.norm = RMSNorm(d)
        self.head = nn.Linear(d, vocab, bias=False)
        self.heads, self.hd, self.ctx = heads, d // heads, ctx
        inv = 1.0 / (10000 ** (torch.arange(0, self.hd, 2).float() / self.hd))
        emb = torch.cat([torch.outer(torch.arange(ctx).float(), inv)] * 2, dim=-1)
        self.cos, self.sin = emb.cos(), emb.sin()
        for p in self.parameters():
            if p.dim() == 2:
                nn.init.normal_(p, std=0.02)

    def new_cache(self, B):
        return [(torch.zeros(B, self.heads, self.ctx, self.hd), torch.zeros(B, self.heads, self.ctx, self.hd)) for _ in self.blocks]

    def forward(self, ids, cache, pos):
        x = self.embed(ids)
        for b, c in zip(self.blocks, cache):
            x = b(x, self.cos, self.sin, c, pos)
        return self.head(self.norm(x[:, -1]))


@torch.inference_mode()
def main():
    ap = argparse.ArgumentParser()
    for name, default in [("threads", 2), ("vocab", 512), ("d", 128), ("layers", 2), ("heads", 4), ("ffn", 352), ("prompt", 32), ("tokens", 64)]:
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
        return model(ids, cache, 0), cache

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
            logits.append(model(torch.randint(0, a.vocab, (1, a.prompt), generator=g), c1, 0))
        tok = torch.multinomial(torch.softmax(torch.cat(logits), -1), 1, generator=g)
        t0 = time.perf_counter()
        for step in range(a.tokens - 1):
            logits = model(tok, cache, a.prompt + step)
            tok = torch.multinomial(torch.softmax(logits, -1), 1, generator=g)
            torch.log_softmax(logits, -1).gather(1, tok)  # the log-prob of each token, as mathpipe reports it
        out[f"decode_b{B}_tokens_per_s"] = round(B * (a.tokens - 1) / (time.perf_counter() - t0))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
