#!/usr/bin/python3
"""Writes tests/data/module13_gpt_reference.json: a tiny GPT built in PyTorch, its weights, its
logits and loss, and the loss's gradient w.r.t. every parameter, for module 13's forward check.

Run from anywhere (Debian's python3-torch 1.13, hence /usr/bin/python3):

    /usr/bin/python3 tools/reference/gen_module13.py          # writes the file
    /usr/bin/python3 tools/reference/gen_module13.py --check  # fails if the file is stale

The model is nanoGPT's (karpathy/nanoGPT model.py) with TinyTorch's parameter names (no
"transformer." prefix): pre-LN blocks, fused c_attn, exact GELU, learned positions, lm_head
without bias, optionally tied to wte. PyTorch 1.13 has no F.scaled_dot_product_attention, so the
attention is written out: softmax(q kᵀ / √hd + causal mask) v. Dropout is 0.

Weights come from torch.manual_seed(case seed) and N(0, 0.02) like nanoGPT's init, but then get
an extra N(0, 0.3) jitter (LayerNorm weights 1 + jitter) so that every parameter — the biases and
LayerNorm affine parameters too — is non-trivial and visibly affects the logits.

Cases (one list, "cases"; each has "name"):
  "config"   vocab_size, block_size, n_layer, n_head, n_embd, bias, tie_weights
  "dtype"    "float32" or "float64"
  "state_dict"  [[key, tensor], ...] in torch's state_dict order (a tied weight under both keys)
  "idx"      int64 [B, T]; "targets" int64 [B, T]
  "logits"   [B, T, V]; "loss": F.cross_entropy(logits.view(-1, V), targets.view(-1))
  "grads"    [[key, d loss / d param], ...] for every distinct parameter (named_parameters order)
"""

import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from refdata import command_line, header, one_case_per_line, write_or_check  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(REPO, "tests", "data", "module13_gpt_reference.json")

DTYPE_NAMES = {torch.float32: "float32", torch.float64: "float64", torch.int64: "int64"}


def enc(t):
    t = t.detach()
    return {"shape": list(t.shape), "dtype": DTYPE_NAMES[t.dtype],
            "values": t.reshape(-1).tolist()}


class CausalSelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.n_head, self.n_embd = c["n_head"], c["n_embd"]
        self.c_attn = nn.Linear(c["n_embd"], 3 * c["n_embd"], bias=c["bias"])
        self.c_proj = nn.Linear(c["n_embd"], c["n_embd"], bias=c["bias"])

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        hd = C // self.n_head
        q = q.view(B, T, self.n_head, hd).transpose(1, 2)
        k = k.view(B, T, self.n_head, hd).transpose(1, 2)
        v = v.view(B, T, self.n_head, hd).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hd))
        causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
        att = att.masked_fill(~causal, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        return self.c_proj(y)


class MLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c_fc = nn.Linear(c["n_embd"], 4 * c["n_embd"], bias=c["bias"])
        self.gelu = nn.GELU()  # exact (erf)
        self.c_proj = nn.Linear(4 * c["n_embd"], c["n_embd"], bias=c["bias"])

    def forward(self, x):
        return self.c_proj(self.gelu(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.ln_1 = nn.LayerNorm(c["n_embd"], elementwise_affine=True)
        self.attn = CausalSelfAttention(c)
        self.ln_2 = nn.LayerNorm(c["n_embd"], elementwise_affine=True)
        self.mlp = MLP(c)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.wte = nn.Embedding(c["vocab_size"], c["n_embd"])
        self.wpe = nn.Embedding(c["block_size"], c["n_embd"])
        self.h = nn.ModuleList([Block(c) for _ in range(c["n_layer"])])
        self.ln_f = nn.LayerNorm(c["n_embd"])
        self.lm_head = nn.Linear(c["n_embd"], c["vocab_size"], bias=False)
        if c["tie_weights"]:
            self.lm_head.weight = self.wte.weight

    def forward(self, idx):
        T = idx.shape[1]
        x = self.wte(idx) + self.wpe(torch.arange(T))
        for block in self.h:
            x = block(x)
        return self.lm_head(self.ln_f(x))


def make_case(name, config, dtype, seed, B, T):
    torch.manual_seed(seed)
    model = GPT(config).to(dtype)
    with torch.no_grad():
        for pname, p in model.named_parameters():
            jitter = 0.3 * torch.randn(p.shape, dtype=dtype)
            if pname.endswith("ln_1.weight") or pname.endswith("ln_2.weight") or \
                    pname == "ln_f.weight":
                p.copy_(1.0 + jitter)
            else:
                p.copy_(0.02 * torch.randn(p.shape, dtype=dtype) + jitter)
    V = config["vocab_size"]
    idx = torch.randint(0, V, (B, T))
    targets = torch.randint(0, V, (B, T))
    logits = model(idx)
    loss = F.cross_entropy(logits.view(-1, V), targets.view(-1))
    loss.backward()
    return {
        "name": name,
        "config": config,
        "dtype": DTYPE_NAMES[dtype],
        "state_dict": [[k, enc(v)] for k, v in model.state_dict().items()],
        "idx": enc(idx),
        "targets": enc(targets),
        "logits": enc(logits),
        "loss": loss.item(),
        "grads": [[k, enc(p.grad)] for k, p in model.named_parameters()],
    }


def main():
    opts = command_line(__doc__, OUT)
    base = dict(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=8)
    cases = [
        make_case("untied_bias_float32", {**base, "bias": True, "tie_weights": False},
                  torch.float32, 1, B=2, T=6),
        make_case("tied_no_bias_float64", {**base, "bias": False, "tie_weights": True},
                  torch.float64, 2, B=2, T=8),
        make_case("one_head_float64", {**base, "n_head": 1, "n_layer": 1, "bias": True,
                                       "tie_weights": False}, torch.float64, 3, B=1, T=5),
    ]
    doc = {**header(__file__), "cases": cases}
    return write_or_check(opts.out, one_case_per_line(doc), opts.check, f"{len(cases)} cases")


if __name__ == "__main__":
    sys.exit(main())
