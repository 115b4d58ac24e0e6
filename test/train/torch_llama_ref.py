"""Reference forward pass of a mathpipe checkpoint in PyTorch, written from the Hugging Face Llama definition
(rotate_half on split halves, repeat_kv for grouped-query attention, RMSNorm in float32), reading
model.safetensors by parsing the format directly (no safetensors package needed).
Usage: torch_llama_ref.py CHECKPOINT_DIR IDS_JSON  -> prints logits JSON [B][T][V].
With --hf it also loads the directory with transformers' LlamaForCausalLM and prints those logits instead."""
import json
import struct
import sys

import torch


def load_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    header.pop("__metadata__", None)
    out = {}
    for name, e in header.items():
        assert e["dtype"] == "F32", e["dtype"]
        b, en = e["data_offsets"]
        out[name] = torch.frombuffer(bytearray(data[b:en]), dtype=torch.float32).reshape(e["shape"])
    return out


def rms_norm(x, w, eps):
    var = x.pow(2).mean(-1, keepdim=True)
    return w * (x * torch.rsqrt(var + eps))


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def forward(cfg, W, ids):
    B, T = ids.shape
    d = cfg["hidden_size"]
    H = cfg["num_attention_heads"]
    KV = cfg.get("num_key_value_heads", H)
    hd = d // H
    eps = cfg["rms_norm_eps"]
    inv_freq = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, hd, 2, dtype=torch.int64).float() / hd))
    t = torch.arange(T, dtype=torch.float32)
    freqs = torch.outer(t, inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos(), emb.sin()
    mask = torch.full((T, T), float("-inf")).triu(1)
    x = W["model.embed_tokens.weight"][ids]
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        h = rms_norm(x, W[p + "input_layernorm.weight"], eps)
        q = (h @ W[p + "self_attn.q_proj.weight"].T).view(B, T, H, hd).transpose(1, 2)
        k = (h @ W[p + "self_attn.k_proj.weight"].T).view(B, T, KV, hd).transpose(1, 2)
        v = (h @ W[p + "self_attn.v_proj.weight"].T).view(B, T, KV, hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(H // KV, dim=1)
        v = v.repeat_interleave(H // KV, dim=1)
        a = torch.softmax(q @ k.transpose(-1, -2) / hd**0.5 + mask, dim=-1) @ v
        x = x + a.transpose(1, 2).reshape(B, T, d) @ W[p + "self_attn.o_proj.weight"].T
        h = rms_norm(x, W[p + "post_attention_layernorm.weight"], eps)
        g = h @ W[p + "mlp.gate_proj.weight"].T
        u = h @ W[p + "mlp.up_proj.weight"].T
        x = x + (torch.nn.functional.silu(g) * u) @ W[p + "mlp.down_proj.weight"].T
    x = rms_norm(x, W["model.norm.weight"], eps)
    head = W["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings") else W["lm_head.weight"]
    return x @ head.T


def main():
    ckpt, ids_path = sys.argv[1], sys.argv[2]
    ids = torch.tensor(json.load(open(ids_path)), dtype=torch.int64)
    if "--hf" in sys.argv:
        from transformers import LlamaForCausalLM

        model = LlamaForCausalLM.from_pretrained(ckpt, torch_dtype=torch.float32).eval()
        with torch.no_grad():
            logits = model(ids).logits
    else:
        cfg = json.load(open(f"{ckpt}/config.json"))
        W = load_safetensors(f"{ckpt}/model.safetensors")
        with torch.no_grad():
            logits = forward(cfg, W, ids)
    json.dump(logits.tolist(), sys.stdout)


if __name__ == "__main__":
    main()
