#!/usr/bin/python3
"""Writes tests/data/module02_reference.json: PyTorch's answers for module 02's activations.

Run from anywhere (Debian's python3-torch, hence /usr/bin/python3):

    /usr/bin/python3 tools/reference/gen_module02.py          # writes the file
    /usr/bin/python3 tools/reference/gen_module02.py --check  # fails if the file is stale

Deterministic: inputs are fixed integer formulas or written out here (no random numbers).
The tensor encoding and the input description (shape, dtype, values, optional "view" ops) are
those of gen_module01.py, whose helpers this script imports. Each case is

    {"name", "group", "op", "inputs": [x], "args": {"dim"?, "negative_slope"?, "approximate"?},
     "expected": tensor                       forward result of torch
     "grad_output": tensor, "expected_grad": tensor
                                              (floating inputs with finite values: the gradient
                                               w.r.t. x that torch's autograd gives for that
                                               grad_output — what the backward kernel must return)
     or "error": true, "torch_error": "..."   (torch rejects the input)
     "rtol"/"atol": optional tolerances}

op is one of relu, leaky_relu, sigmoid, tanh, gelu, silu, softmax, log_softmax.
"""

import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from refdata import command_line, header, one_case_per_line, write_or_check  # noqa: E402
from gen_module01 import T, enc_tensor, numel  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(REPO, "tests", "data", "module02_reference.json")

CASES = []
NAMES = set()


def spread(shape, dtype, seed=0, scale=1.0):
    """Values spread over about [-4, 4] · scale, with 0 and exact/inexact values mixed in."""
    n = numel(shape)
    vals = []
    for i in range(n):
        k = (i * 7 + seed * 5 + 2) % 23 - 11  # in [-11, 11]
        if dtype == "int64":
            vals.append(k)
        elif dtype == "bool":
            vals.append(k % 3 == 0)
        else:
            v = k * 0.375 if (i + seed) % 4 else k / 3.0
            vals.append(v * scale)
    return vals


def run(op, x, args):
    if op == "relu":
        return torch.relu(x)
    if op == "leaky_relu":
        return F.leaky_relu(x, args["negative_slope"])
    if op == "sigmoid":
        return torch.sigmoid(x)
    if op == "tanh":
        return torch.tanh(x)
    if op == "gelu":
        return F.gelu(x, approximate=args["approximate"])
    if op == "silu":
        return F.silu(x)
    if op == "softmax":
        return torch.softmax(x, args["dim"])
    if op == "log_softmax":
        return torch.log_softmax(x, args["dim"])
    raise ValueError(op)


def case(group, name, op, x, args=None, rtol=None, atol=None, grad=True, expect_error=False):
    args = dict(args or {})
    assert name not in NAMES, name
    NAMES.add(name)
    c = {"name": name, "group": group, "op": op, "inputs": [x.enc()], "args": args}
    try:
        xt = x.torch()
        if xt.is_floating_point():
            xt = xt.detach().clone().requires_grad_(True)
        out = run(op, xt, args)
    except (RuntimeError, IndexError, TypeError, ValueError) as e:
        if not expect_error:
            raise RuntimeError(f"case {name}: PyTorch raised unexpectedly: {e}") from e
        c["error"] = True
        c["torch_error"] = str(e).split("\n")[0][:200]
        CASES.append(c)
        return
    if expect_error:
        raise RuntimeError(f"case {name}: expected PyTorch to raise")
    c["expected"] = enc_tensor(out.detach())
    finite = bool(torch.isfinite(xt.detach()).all()) if xt.is_floating_point() else False
    if grad and xt.is_floating_point() and finite and out.numel() > 0:
        g = T(list(out.shape), x.dtype, values=spread(list(out.shape), x.dtype, seed=3, scale=0.5))
        (gx,) = torch.autograd.grad(out, xt, g.torch())
        c["grad_output"] = g.enc()
        c["expected_grad"] = enc_tensor(gx)
    if rtol is not None:
        c["rtol"] = rtol
    if atol is not None:
        c["atol"] = atol
    CASES.append(c)


def sname(shape):
    return "x".join(str(d) for d in shape) if shape else "scalar"


ELEMENTWISE = [
    ("relu", {}),
    ("leaky_relu", {"negative_slope": 0.01}),
    ("leaky_relu", {"negative_slope": 0.2}),
    ("sigmoid", {}),
    ("tanh", {}),
    ("gelu", {"approximate": "none"}),
    ("gelu", {"approximate": "tanh"}),
    ("silu", {}),
]


def op_tag(op, args):
    if op == "leaky_relu":
        return f"leaky_relu_{args['negative_slope']}".replace(".", "p")
    if op == "gelu":
        return f"gelu_{args['approximate']}"
    return op


def gen_elementwise():
    shapes = [[], [7], [3, 5], [2, 3, 4], [0], [2, 0, 3]]
    for op, args in ELEMENTWISE:
        tag = op_tag(op, args)
        for dtype in ("float32", "float64"):
            for shape in shapes:
                case("values", f"{tag}_{sname(shape)}_{dtype}", op, T(shape, dtype,
                     values=spread(shape, dtype)), args)
            # wide range: large magnitudes, where exp overflows if computed naively
            wide = [-1000.0, -100.0, -30.0, -20.0, -5.5, -1.0, -1e-3, 0.0, 1e-3, 1.0, 5.5, 20.0,
                    30.0, 100.0, 1000.0]
            case("stability", f"{tag}_wide_{dtype}", op, T([15], dtype, values=wide), args)
            # non-contiguous inputs: a transpose, a strided slice, a broadcast (expand)
            case("strided", f"{tag}_transposed_{dtype}", op,
                 T([4, 6], dtype, values=spread([4, 6], dtype, seed=1), view=[["transpose", 0, 1]]),
                 args)
            case("strided", f"{tag}_sliced_{dtype}", op,
                 T([5, 8], dtype, values=spread([5, 8], dtype, seed=2),
                   view=[["slice", 1, 1, 8, 3], ["slice", 0, 0, 5, 2]]), args)
            case("strided", f"{tag}_expanded_{dtype}", op,
                 T([1, 5], dtype, values=spread([1, 5], dtype, seed=4), view=[["expand", [3, 5]]]),
                 args)
        # NaN and infinities pass through like PyTorch (forward only)
        special = [float("nan"), float("inf"), float("-inf"), 0.0, -0.5]
        case("special", f"{tag}_nan_inf_float32", op, T([5], "float32", values=special), args)
    # dtypes other than float
    for op, args in ELEMENTWISE:
        tag = op_tag(op, args)
        for dtype in ("int64", "bool"):
            x = T([6], dtype, values=spread([6], dtype))
            ok = op in ("sigmoid", "tanh") or (op == "relu" and dtype == "int64")
            case("dtypes", f"{tag}_{dtype}", op, x, args, expect_error=not ok)


def gen_softmax():
    for op in ("softmax", "log_softmax"):
        for dtype in ("float32", "float64"):
            for shape, dims in [([], [0, -1]), ([6], [0, -1]), ([3, 5], [0, 1, -1, -2]),
                                ([2, 3, 4], [0, 1, 2, -1]), ([2, 3, 1, 4], [2, 3])]:
                for dim in dims:
                    case("values", f"{op}_{sname(shape)}_dim{dim}_{dtype}".replace("-", "m"), op,
                         T(shape, dtype, values=spread(shape, dtype, seed=dim + 2)), {"dim": dim})
            # empty tensors and a size-0 dim
            case("values", f"{op}_0x3_dim1_{dtype}", op, T([0, 3], dtype), {"dim": 1})
            case("values", f"{op}_2x0_dim1_{dtype}", op, T([2, 0], dtype), {"dim": 1})
            # stability: logits of ±1000 (exp overflows) and one huge dominant logit
            rows = [1000.0, -1000.0, 999.0, 0.0,
                    -1000.0, -1000.0, -1000.0, -999.0,
                    1000.0, 1000.0, 1000.0, 1000.0,
                    88.0, 89.0, 90.0, -90.0]
            case("stability", f"{op}_pm1000_{dtype}", op, T([4, 4], dtype, values=rows),
                 {"dim": -1})
            case("stability", f"{op}_pm1000_dim0_{dtype}", op, T([4, 4], dtype, values=rows),
                 {"dim": 0})
            # non-contiguous: softmax over a transposed view, a sliced view, an expanded view
            case("strided", f"{op}_transposed_{dtype}", op,
                 T([4, 6], dtype, values=spread([4, 6], dtype, seed=5), view=[["transpose", 0, 1]]),
                 {"dim": 1})
            case("strided", f"{op}_permuted_dim1_{dtype}", op,
                 T([2, 3, 4], dtype, values=spread([2, 3, 4], dtype, seed=6),
                   view=[["permute", [2, 0, 1]]]), {"dim": 1})
            case("strided", f"{op}_sliced_{dtype}", op,
                 T([5, 8], dtype, values=spread([5, 8], dtype, seed=7),
                   view=[["slice", 1, 0, 8, 2], ["slice", 0, 1, 5, 1]]), {"dim": -1})
            case("strided", f"{op}_expanded_{dtype}", op,
                 T([1, 5], dtype, values=spread([1, 5], dtype, seed=8), view=[["expand", [3, 5]]]),
                 {"dim": 1})
            # a wide row (the typical classifier / attention width)
            case("values", f"{op}_4x257_{dtype}", op,
                 T([4, 257], dtype, values=spread([4, 257], dtype, seed=9, scale=2.0)), {"dim": 1})
        # NaN / infinities in a row (forward only)
        special = [float("nan"), 0.0, 1.0,
                   float("inf"), 0.0, 1.0,
                   float("-inf"), 0.0, 1.0,
                   float("-inf"), float("-inf"), float("-inf")]
        case("special", f"{op}_nan_inf_float32", op, T([4, 3], "float32", values=special),
             {"dim": 1})
        for dtype in ("int64", "bool"):
            case("dtypes", f"{op}_{dtype}", op, T([2, 3], dtype, values=spread([2, 3], dtype)),
                 {"dim": 1}, expect_error=True)
        case("errors", f"{op}_dim_out_of_range", op, T([2, 3], "float32"), {"dim": 2},
             expect_error=True)
        case("errors", f"{op}_dim_out_of_range_neg", op, T([2, 3], "float32"), {"dim": -3},
             expect_error=True)


def main():
    opts = command_line(__doc__, OUT)
    torch.set_default_dtype(torch.float32)

    gen_elementwise()
    gen_softmax()
    case("errors", "gelu_bad_approximate", "gelu", T([3], "float32"), {"approximate": "fast"},
         expect_error=True)

    doc = {
        **header(__file__),
        "cases": CASES,
    }
    text = one_case_per_line(doc)
    return write_or_check(opts.out, text, opts.check,
                          f"{len(CASES)} cases")


if __name__ == "__main__":
    sys.exit(main())
