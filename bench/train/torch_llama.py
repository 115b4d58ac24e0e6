"""The PyTorch Llama that the benchmarks run against mathpipe (bench/train/torch_train.py trains it,
bench/sample/torch_sample.py generates with it): the architecture of mathpipe's model (RMSNorm, rotary positions
with rotate_half, SwiGLU, causal multi-head attention, untied head, weights drawn from N(0, 0.02)), with an
optional KV cache for generation. One definition, so both benchmarks measure the same model."""
import torch
import torch.nn as nn
import torch.nn.functional as F


def add_model_args(ap):
    """The flags every PyTorch peer takes: threads and the model's shape (mathpipe's `bench` preset by default)."""
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--d", type=int, default=128)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--ffn", type=int, default=352)


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

    def forward(self, x, cos, sin, mask, cache=None, pos=0):
        """x [B, T, D]; cos/sin the rotary tables of its positions, mask the additive attention mask (None: every
        key visible). With a cache (k, v) [B, H, ctx, hd], this step's keys and values are written at positions
        pos..pos+T-1 and the queries attend to every cached position up to them."""
        B, T, D = x.shape
        h = self.ln1(x)
        q = self.q(h).view(B, T, self.h, self.hd).transpose(1, 2)
        k = self.k(h).view(B, T, self.h, self.hd).transpose(1, 2)
        v = self.v(h).view(B, T, self.h, self.hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if cache is not None:
            ck, cv = cache
            ck[:, :, pos : pos + T] = k
            cv[:, :, pos : pos + T] = v
            k, v = ck[:, :, : pos + T], cv[:, :, : pos + T]
        scores = q @ k.transpose(-1, -2) / self.hd**0.5
        if mask is not None:
            scores = scores + mask
        a = torch.softmax(scores, dim=-1) @ v
        x = x + self.o(a.transpose(1, 2).reshape(B, T, D))
        h = self.ln2(x)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


class Llama(nn.Module):
    def __init__(self, vocab, d=128, layers=2, heads=4, ffn=352, seq=128):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.blocks = nn.ModuleList(Block(d, heads, ffn) for _ in range(layers))
        self.norm = RMSNorm(d)
        self.head = nn.Linear(d, vocab, bias=False)
        self.heads, self.hd, self.ctx = heads, d // heads, seq
        inv = 1.0 / (10000 ** (torch.arange(0, self.hd, 2).float() / self.hd))
        emb = torch.cat([torch.outer(torch.arange(seq).float(), inv)] * 2, dim=-1)
        self.register_buffer("cos", emb.cos())
        self.register_buffer("sin", emb.sin())
        self.register_buffer("mask", torch.full((seq, seq), float("-inf")).triu(1))
        for p in self.parameters():
            if p.dim() == 2:
                nn.init.normal_(p, std=0.02)

    def new_cache(self, B):
        """An empty KV cache for B sequences of up to `seq` positions."""
        return [(torch.zeros(B, self.heads, self.ctx, self.hd), torch.zeros(B, self.heads, self.ctx, self.hd)) for _ in self.blocks]

    def forward(self, ids, cache=None, pos=0, last=False):
        """Logits of ids [B, T] at positions pos..: every position's, or with last=True only the last one's."""
        T = ids.shape[1]
        cos, sin = self.cos[pos : pos + T], self.sin[pos : pos + T]
        # Causal: the rows of these positions, over the keys up to them (a single new token sees them all).
        mask = self.mask[pos : pos + T, : pos + T] if T > 1 else None
        x = self.embed(ids)
        for i, b in enumerate(self.blocks):
            x = b(x, cos, sin, mask, None if cache is None else cache[i], pos)
        return self.head(self.norm(x[:, -1] if last else x))
