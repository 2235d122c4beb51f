#!/usr/bin/python3
"""Writes tests/data/module11_reference.json: PyTorch's answers for module 11 (embeddings).

Run from anywhere (Debian's python3-torch 1.13, hence /usr/bin/python3):

    /usr/bin/python3 tools/reference/gen_module11.py          # writes the file
    /usr/bin/python3 tools/reference/gen_module11.py --check  # fails if the file is stale

The output is deterministic: no random numbers. Every weight and gradient is a fixed formula
(`pattern`), written out in full. Tensors are {"shape", "dtype", "values" (flat, row-major)}.

Cases (one list, "cases"; each has "name" and "op"):

  embedding
        F.embedding(indices, weight, padding_idx): "padding_idx" (null: none; negative ones as
        passed to PyTorch), "weight", "indices" (int64), "grad_output" g, "output", and
        "grad_weight", the gradient of (output * g).sum(): duplicates summed, the padding row 0.
        1-d, 2-d [B, T], 0-d (one id) and empty index tensors, float32 and float64.
  sinusoidal
        Vaswani et al.'s table, built in torch the usual way (div_term = exp(−ln(base)·2i/d)):
        "max_len", "dim", "base", "pe" (float64 [max_len, dim]), and for a forward case "input"
        x [B, T, dim] and "output" x + pe[:T] (float32). Odd dims too (the last column is a sin).
  repr  repr(nn.Embedding(...)): "expected" (== "torch", PyTorch's string; no bools to respell).
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
OUT = os.path.join(REPO, "tests", "data", "module11_reference.json")

DTYPE_NAMES = {torch.float32: "float32", torch.float64: "float64", torch.int64: "int64"}
F32, F64 = torch.float32, torch.float64


def enc(t):
    t = t.detach()
    return {"shape": list(t.shape), "dtype": DTYPE_NAMES[t.dtype], "values": t.reshape(-1).tolist()}


def pattern(shape, seed, dtype=F32, scale=1.0):
    """Deterministic values in about ±scale: a sine of the index, varied by seed."""
    n = math.prod(shape)
    vals = [scale * math.sin(0.7 * i + 1.3 * seed + 0.1) for i in range(n)]
    return torch.tensor(vals, dtype=F64).reshape(shape).to(dtype)


def embedding_case(name, V, D, indices, padding_idx=None, dtype=F32, seed=0):
    w = pattern([V, D], seed, dtype).requires_grad_(True)
    idx = torch.tensor(indices, dtype=torch.int64)
    y = F.embedding(idx, w, padding_idx=padding_idx)
    g = pattern(list(y.shape), seed + 7, dtype)
    (y * g).sum().backward()
    return {"name": name, "op": "embedding", "padding_idx": padding_idx, "weight": enc(w),
            "indices": enc(idx), "grad_output": enc(g), "output": enc(y),
            "grad_weight": enc(w.grad)}


def gen_embedding():
    return [
        embedding_case("ids_1d", 6, 4, [3, 0, 5, 1]),
        embedding_case("batch_2d_duplicates", 5, 3, [[1, 1, 4, 1], [0, 4, 4, 2]], seed=1),
        embedding_case("scalar_index", 4, 5, 2, seed=2),
        embedding_case("padding_0", 6, 4, [[0, 2, 0, 3], [5, 0, 2, 2]], padding_idx=0, seed=3),
        embedding_case("padding_negative", 6, 4, [5, 1, 5, 5, 0], padding_idx=-1, seed=4),
        embedding_case("float64_all_rows_many_times", 3, 6,
                       [[i % 3 for i in range(8)], [(2 * i) % 3 for i in range(8)]],
                       dtype=F64, seed=5),
        embedding_case("empty_indices", 4, 3, [], seed=6),
        embedding_case("rank3_indices", 7, 2, [[[6, 0], [3, 3]], [[1, 6], [0, 0]]], seed=8),
    ]


def sinusoidal_table(max_len, dim, base=10000.0):
    """The table as the PyTorch tutorials build it (float64)."""
    position = torch.arange(max_len, dtype=F64).unsqueeze(1)
    div_term = torch.exp(torch.arange(0, dim, 2, dtype=F64) * (-math.log(base) / dim))
    pe = torch.zeros(max_len, dim, dtype=F64)
    pe[:, 0::2] = torch.sin(position * div_term)
    pe[:, 1::2] = torch.cos(position * div_term[: dim // 2])
    return pe


def gen_sinusoidal():
    cases = []
    for name, max_len, dim, base, x_shape in [
        ("pe_64x16", 64, 16, 10000.0, [2, 5, 16]),
        ("pe_odd_dim", 10, 7, 10000.0, [3, 7]),
        ("pe_base_100", 12, 4, 100.0, None),
        ("pe_long_1024x4", 1024, 4, 10000.0, None),
    ]:
        pe = sinusoidal_table(max_len, dim, base)
        case = {"name": name, "op": "sinusoidal", "max_len": max_len, "dim": dim, "base": base,
                "pe": enc(pe)}
        if x_shape is not None:
            x = pattern(x_shape, 9, F32)
            T = x_shape[-2]
            case["input"] = enc(x)
            case["output"] = enc(x + pe[:T].to(F32))
        cases.append(case)
    return cases


def gen_repr():
    cases = []
    for name, module in [
        ("repr_embedding", nn.Embedding(10, 3)),
        ("repr_embedding_padding", nn.Embedding(10, 3, padding_idx=0)),
        ("repr_embedding_negative_padding", nn.Embedding(65, 128, padding_idx=-1)),
    ]:
        text = repr(module)
        cases.append({"name": name, "op": "repr", "torch": text, "expected": text})
    return cases


def main():
    opts = command_line(__doc__, OUT)
    cases = gen_embedding() + gen_sinusoidal() + gen_repr()
    doc = {**header(__file__), "cases": cases}
    return write_or_check(opts.out, one_case_per_line(doc), opts.check, f"{len(cases)} cases")


if __name__ == "__main__":
    sys.exit(main())
