#!/usr/bin/python3
"""Writes tests/data/module13_norm_reference.json: PyTorch's answers for module 13's LayerNorm and
RMSNorm.

Run from anywhere (Debian's python3-torch 1.13, hence /usr/bin/python3):

    /usr/bin/python3 tools/reference/gen_module13_norm.py          # writes the file
    /usr/bin/python3 tools/reference/gen_module13_norm.py --check  # fails if the file is stale

The output is deterministic: no random numbers. Every input is a fixed formula (`pattern`), written
out in full. Tensors are {"shape", "dtype", "values" (flat, row-major)}.

Cases (one list, "cases"; each has "name" and "op"):

  layer_norm
        F.layer_norm: "normalized_shape", "eps", "input", "weight"/"bias" (or null),
        "grad_output" g, "output", and the gradients of (output * g).sum(): "grad_input",
        "grad_weight", "grad_bias" (null without weight/bias). Ranks 2-4, normalized_shape of one
        and two dims, float32 and float64, rows whose mean is 1000× their spread.
  rms_norm
        The same fields without bias; "eps" null means the dtype's machine epsilon. PyTorch 1.13
        has no rms_norm (2.4 added it), so it is computed by hand in torch, as 2.4's
        composite does: x * rsqrt(mean(x², dims) + eps) * weight, differentiated by autograd.
  repr  repr(nn.LayerNorm(...)): "expected" has True/False spelled true/false (TinyTorch prints
        bools the libtorch way); "torch" is the raw string.
"""

import math
import os
import re
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from refdata import command_line, header, one_case_per_line, write_or_check  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(REPO, "tests", "data", "module13_norm_reference.json")

DTYPE_NAMES = {torch.float32: "float32", torch.float64: "float64", torch.int64: "int64"}
F32, F64 = torch.float32, torch.float64


def enc(t):
    if t is None:
        return None
    t = t.detach()
    return {"shape": list(t.shape), "dtype": DTYPE_NAMES[t.dtype], "values": t.reshape(-1).tolist()}


def pattern(shape, seed, dtype=F32, scale=1.0, offset=0.0):
    """Deterministic values in about offset ± scale: a sine of the index, varied by seed."""
    n = math.prod(shape)
    vals = [offset + scale * math.sin(0.7 * i + 1.3 * seed + 0.1) for i in range(n)]
    return torch.tensor(vals, dtype=F64).reshape(shape).to(dtype)


def rms_norm(x, normalized_shape, weight, eps):
    """PyTorch 2.4's composite rms_norm (torch/nn/functional.py → aten rms_norm)."""
    dims = tuple(range(-len(normalized_shape), 0))
    if eps is None:
        eps = torch.finfo(x.dtype).eps
    y = x * torch.rsqrt(x.pow(2).mean(dim=dims, keepdim=True) + eps)
    return y * weight if weight is not None else y


def norm_case(name, op, shape, normalized_shape, dtype, affine, eps, seed, offset=0.0, scale=1.0):
    x = pattern(shape, seed, dtype, scale=scale, offset=offset).requires_grad_(True)
    w = b = None
    if affine:
        w = pattern(normalized_shape, seed + 1, dtype, scale=0.5, offset=1.0).requires_grad_(True)
        if op == "layer_norm":
            b = pattern(normalized_shape, seed + 2, dtype, scale=0.3).requires_grad_(True)
    if op == "layer_norm":
        y = F.layer_norm(x, normalized_shape, w, b, eps)
    else:
        y = rms_norm(x, normalized_shape, w, eps)
    g = pattern(shape, seed + 3, dtype)
    (y * g).sum().backward()
    case = {"name": name, "op": op, "normalized_shape": normalized_shape, "eps": eps,
            "input": enc(x), "weight": enc(w), "grad_output": enc(g), "output": enc(y),
            "grad_input": enc(x.grad), "grad_weight": enc(w.grad if w is not None else None)}
    if op == "layer_norm":
        case["bias"] = enc(b)
        case["grad_bias"] = enc(b.grad if b is not None else None)
    return case


def gen_norms():
    cases = []
    for op in ("layer_norm", "rms_norm"):
        default_eps = 1e-5 if op == "layer_norm" else None
        specs = [
            # name, shape, normalized_shape, dtype, affine, eps, offset, scale
            ("btd_affine", [2, 3, 8], [8], F32, True, default_eps, 0.0, 1.0),
            ("btd_plain", [2, 3, 8], [8], F32, False, default_eps, 0.0, 1.0),
            ("rows_2d", [4, 5], [5], F32, True, 1e-3, 0.0, 2.0),
            ("two_dims", [2, 3, 4], [3, 4], F32, True, default_eps, 0.0, 1.0),
            ("rank4_two_dims", [2, 2, 3, 4], [3, 4], F64, True, 1e-6, 0.0, 1.0),
            ("one_dim_input", [6], [6], F64, True, default_eps, 0.0, 1.0),
            ("width_33_f64", [3, 33], [33], F64, True, default_eps, 0.0, 1.0),
            ("large_mean", [4, 16], [16], F32, True, default_eps, 1000.0, 1.0),
            ("large_mean_f64", [4, 16], [16], F64, True, default_eps, 1e6, 1.0),
            ("tiny_values_eps", [2, 8], [8], F32, False, 1e-2, 0.0, 1e-3),
        ]
        for i, (name, shape, ns, dtype, affine, eps, offset, scale) in enumerate(specs):
            cases.append(norm_case(f"{op}_{name}", op, shape, ns, dtype, affine, eps, 10 * i,
                                   offset=offset, scale=scale))
    return cases


def gen_repr():
    cases = []
    for name, module in [
        ("repr_layernorm_128", nn.LayerNorm(128)),
        ("repr_layernorm_two_dims", nn.LayerNorm([4, 8], eps=1e-6, elementwise_affine=False)),
    ]:
        text = repr(module)
        cases.append({"name": name, "op": "repr", "torch": text,
                      "expected": re.sub(r"\b(True|False)\b", lambda m: m.group(1).lower(), text)})
    return cases


def main():
    opts = command_line(__doc__, OUT)
    cases = gen_norms() + gen_repr()
    doc = {**header(__file__), "cases": cases}
    return write_or_check(opts.out, one_case_per_line(doc), opts.check, f"{len(cases)} cases")


if __name__ == "__main__":
    sys.exit(main())
