#!/usr/bin/python3
"""Writes tests/data/module12_reference.json: PyTorch's answers for module 12's attention.

Run from anywhere (Debian's python3-torch 1.13, hence /usr/bin/python3):

    /usr/bin/python3 tools/reference/gen_module12.py          # writes the file
    /usr/bin/python3 tools/reference/gen_module12.py --check  # fails if the file is stale

PyTorch 1.13 has no F.scaled_dot_product_attention, so the attention is written out in torch,
softmax(q kᵀ · scale + mask) v, with PyTorch 2's semantics and the two choices module 12 makes:
is_causal is bottom-right aligned (key j visible to query i when j ≤ i + S − L), and a query row
whose every key is masked gives 0. Gradients come from torch's autograd through that expression.
nn::MultiheadAttention is checked against torch.nn.MultiheadAttention(batch_first=True) itself,
with its parameters exported.

Inputs are drawn from torch.Generator(seed) (deterministic on CPU) and written out in full.
Tensors are {"shape", "dtype", "values" (flat, row-major; NaN/inf as strings)}.

Cases (one list, "cases"; each has "name" and "op"):

  sdpa         "query", "key", "value", "attn_mask" (null, bool: true = may attend, or float:
               added), "is_causal", "scale" (null = 1/sqrt(E)), "grad_output" g, "output", and
               "grad_query"/"grad_key"/"grad_value": the gradients of (output * g).sum().
  masked_fill  "input", "mask", "value", "grad_output", "output", "grad_input".
  mha          nn.MultiheadAttention(embed_dim, num_heads, bias, batch_first=True), eval mode:
               "options", "state_dict" (PyTorch's names and order), "query"/"key"/"value"
               ("self": true when the three are one tensor), "key_padding_mask" (bool, true =
               ignore, or null), "attn_mask" (bool, true = NOT allowed, or float, or null),
               "average_attn_weights", "grad_output", "output", "weights", "grad_query"
               (self-attention: the one input's gradient) and "grad_in_proj_weight".
"""

import math
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from refdata import command_line, header, one_case_per_line, write_or_check  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(REPO, "tests", "data", "module12_reference.json")

DTYPE_NAMES = {torch.float32: "float32", torch.float64: "float64", torch.int64: "int64",
               torch.bool: "bool"}


def number(v):
    if isinstance(v, float) and math.isnan(v):
        return "nan"
    if isinstance(v, float) and math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def enc(t):
    if t is None:
        return None
    t = t.detach()
    return {"shape": list(t.shape), "dtype": DTYPE_NAMES[t.dtype],
            "values": [number(v) for v in t.reshape(-1).tolist()]}


def randn(shape, seed, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=g, dtype=torch.float64).to(dtype)


def bool_mask(shape, seed, keep=0.7):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(shape, generator=g, dtype=torch.float64) < keep


def attention(q, k, v, mask, is_causal, scale):
    """softmax(q kᵀ scale + mask) v, module 12's semantics (see the docstring)."""
    L, S = q.shape[-2], k.shape[-2]
    s = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = q @ k.transpose(-2, -1) * s
    allowed = torch.ones(scores.shape, dtype=torch.bool)
    if mask is not None and mask.dtype == torch.bool:
        allowed = allowed & mask
    elif mask is not None:
        scores = scores + mask
    if is_causal:
        i = torch.arange(L).reshape(L, 1)
        j = torch.arange(S).reshape(1, S)
        allowed = allowed & (j <= i + (S - L))
    scores = scores.masked_fill(~allowed, float("-inf"))
    dead = (scores.max(dim=-1, keepdim=True).values == float("-inf"))
    p = torch.softmax(scores.masked_fill(dead, 0.0), dim=-1).masked_fill(dead, 0.0)
    return p @ v


def sdpa_case(name, batch, L, S, E, Ev, seed, mask_kind=None, mask_shape=None, is_causal=False,
              scale=None, dtype=torch.float64, dead_row=False):
    q = randn(batch + [L, E], seed, dtype).requires_grad_(True)
    k = randn(batch + [S, E], seed + 1, dtype).requires_grad_(True)
    v = randn(batch + [S, Ev], seed + 2, dtype).requires_grad_(True)
    mask = None
    if mask_kind == "bool":
        mask = bool_mask(mask_shape, seed + 3)
        if dead_row:
            mask[..., 0, :] = False
    elif mask_kind == "float":
        mask = randn(mask_shape, seed + 3, dtype)
        if dead_row:
            mask[..., 0, :] = float("-inf")
    out = attention(q, k, v, mask, is_causal, scale)
    g = randn(list(out.shape), seed + 4, dtype)
    (out * g).sum().backward()
    return {"name": name, "op": "sdpa", "query": enc(q), "key": enc(k), "value": enc(v),
            "attn_mask": enc(mask), "is_causal": is_causal, "scale": scale,
            "grad_output": enc(g), "output": enc(out), "grad_query": enc(q.grad),
            "grad_key": enc(k.grad), "grad_value": enc(v.grad)}


def gen_sdpa():
    f32 = torch.float32
    return [
        sdpa_case("plain", [2, 3], 4, 4, 5, 5, 1),
        sdpa_case("cross_L_lt_S", [2], 3, 7, 4, 6, 10),
        sdpa_case("L_gt_S", [3], 6, 2, 3, 2, 20),
        sdpa_case("causal", [2, 2], 5, 5, 4, 4, 30, is_causal=True),
        sdpa_case("causal_decode_L_lt_S", [2, 2], 2, 7, 4, 3, 40, is_causal=True),
        sdpa_case("causal_one_query", [3], 1, 9, 4, 4, 50, is_causal=True),
        sdpa_case("causal_L_gt_S_dead_rows", [2], 4, 2, 3, 3, 55, is_causal=True),
        sdpa_case("bool_mask_broadcast", [2, 3], 4, 6, 3, 5, 60, "bool", [4, 6]),
        sdpa_case("bool_padding_mask", [2, 3], 4, 6, 3, 5, 70, "bool", [2, 1, 1, 6]),
        sdpa_case("float_mask", [2], 4, 5, 3, 3, 80, "float", [4, 5], scale=0.7),
        sdpa_case("float_mask_per_batch", [2, 2], 3, 4, 3, 3, 90, "float", [2, 2, 3, 4]),
        sdpa_case("bool_mask_dead_row", [2], 3, 5, 4, 2, 100, "bool", [3, 5], dead_row=True),
        sdpa_case("float_mask_dead_row", [2], 3, 5, 4, 2, 110, "float", [3, 5], dead_row=True),
        sdpa_case("mask_and_causal", [2, 2], 5, 5, 4, 4, 120, "bool", [2, 1, 1, 5],
                  is_causal=True),
        sdpa_case("scale", [1], 3, 3, 8, 2, 130, scale=2.5),
        sdpa_case("no_batch_dims", [], 3, 4, 2, 3, 140),
        sdpa_case("float32_gpt_head", [2, 4], 16, 16, 8, 8, 150, is_causal=True, dtype=f32),
        sdpa_case("float32_mask", [2, 2], 7, 9, 5, 3, 160, "bool", [7, 9], dtype=f32),
    ]


def gen_masked_fill():
    cases = []
    for name, shape, mshape, value, seed in [("row_mask", [3, 4], [4], -1e9, 1),
                                             ("full_mask", [2, 3], [2, 3], 2.5, 2),
                                             ("neg_inf", [2, 2, 3], [2, 1, 3], float("-inf"), 3)]:
        x = randn(shape, seed).requires_grad_(True)
        mask = bool_mask(mshape, seed + 10, 0.5)
        out = x.masked_fill(mask, value)
        g = randn(shape, seed + 20)
        (out * g).sum().backward()
        cases.append({"name": "masked_fill_" + name, "op": "masked_fill", "input": enc(x),
                      "mask": enc(mask), "value": number(value), "grad_output": enc(g),
                      "output": enc(out), "grad_input": enc(x.grad)})
    return cases


def mha_case(name, E, H, B, L, S, seed, bias=True, self_attn=True, padding=False,
             attn_mask=None, average=True, dtype=torch.float64):
    torch.manual_seed(seed)
    m = nn.MultiheadAttention(E, H, bias=bias, batch_first=True).to(dtype).eval()
    with torch.no_grad():  # non-zero biases, so that they are checked too
        for p in m.parameters():
            p.add_(randn(list(p.shape), seed + 7, dtype) * 0.1)
    q = randn([B, L, E], seed + 1, dtype).requires_grad_(True)
    if self_attn:
        k = v = q
    else:
        k = randn([B, S, E], seed + 2, dtype)
        v = randn([B, S, E], seed + 3, dtype)
    kpm = None
    if padding:
        kpm = torch.zeros(B, S, dtype=torch.bool)
        kpm[0, -2:] = True  # the last two keys of sample 0 are padding
    am = None
    if attn_mask == "causal_bool":
        am = torch.triu(torch.ones(L, S, dtype=torch.bool), diagonal=1)  # true = not allowed
    elif attn_mask == "float":
        am = randn([L, S], seed + 4, dtype)
    elif attn_mask == "per_head_bool":
        am = bool_mask([B * H, L, S], seed + 5, 0.25)
        am[:, :, 0] = False  # every query may see key 0 (no NaN rows in PyTorch)
    out, w = m(q, k, v, key_padding_mask=kpm, need_weights=True, attn_mask=am,
               average_attn_weights=average)
    g = randn(list(out.shape), seed + 6, dtype)
    (out * g).sum().backward()
    return {"name": name, "op": "mha",
            "options": {"embed_dim": E, "num_heads": H, "bias": bias},
            "state_dict": [{"key": key, "value": enc(t)} for key, t in m.state_dict().items()],
            "self": self_attn, "query": enc(q), "key": enc(k), "value": enc(v),
            "key_padding_mask": enc(kpm), "attn_mask": enc(am), "average_attn_weights": average,
            "grad_output": enc(g), "output": enc(out), "weights": enc(w),
            "grad_query": enc(q.grad), "grad_in_proj_weight": enc(m.in_proj_weight.grad)}


def gen_mha():
    return [
        mha_case("self", 8, 2, 2, 5, 5, 1),
        mha_case("self_causal_mask", 8, 4, 2, 6, 6, 2, attn_mask="causal_bool"),
        mha_case("self_padding_per_head", 6, 3, 2, 4, 4, 3, padding=True, average=False),
        mha_case("cross_padding_float_mask", 8, 2, 2, 3, 5, 4, self_attn=False, padding=True,
                 attn_mask="float"),
        mha_case("cross_per_head_mask_no_bias", 4, 2, 2, 3, 4, 5, bias=False, self_attn=False,
                 attn_mask="per_head_bool"),
        mha_case("float32", 16, 4, 2, 7, 7, 6, attn_mask="causal_bool", dtype=torch.float32),
    ]


def main():
    opts = command_line(__doc__, OUT)
    cases = gen_sdpa() + gen_masked_fill() + gen_mha()
    doc = {**header(__file__), "cases": cases}
    return write_or_check(opts.out, one_case_per_line(doc), opts.check, f"{len(cases)} cases")


if __name__ == "__main__":
    sys.exit(main())
