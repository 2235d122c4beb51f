#!/usr/bin/python3
"""Writes tests/data/amp_ops_reference.json: PyTorch's float16/bfloat16 forward values for the
non-GEMM ops a transformer and a CNN need (tests/amp/test_lowp_ops.cpp reads it).

Run with Debian's python3-torch (1.13), hence /usr/bin/python3:

    /usr/bin/python3 tools/reference/gen_amp_ops.py          # writes the file
    /usr/bin/python3 tools/reference/gen_amp_ops.py --check  # fails if the file is stale

Inputs are a sine of the index (gen_module09_conv.py's `pattern`) rounded to the case's dtype, so
every input is exactly representable. Each case records how its expected output was made:
  "torch"    PyTorch 1.13's own CPU kernel on the 16-bit tensors;
  "float32"  PyTorch 1.13 has no CPU kernel for this op in this dtype ("not implemented for
             'Half'", and scaled_dot_product_attention, which 1.13 lacks): the op computed in
             float32 on the (exact) widened inputs and rounded once to the dtype — the rule
             PyTorch 2.x follows and the one TinyTorch implements.

  cases  {"name", "op", "dtype", "source", "inputs": [tensors], "args": {...}, "output"}
"""

import math
import warnings
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from refdata import command_line, header, one_case_per_line, write_or_check  # noqa: E402
from gen_module09_conv import pattern  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(REPO, "tests", "data", "amp_ops_reference.json")
NAMES = {torch.float16: "float16", torch.bfloat16: "bfloat16", torch.int64: "int64",
         torch.bool: "bool", torch.float32: "float32"}
CASES = []


def enc(t):
    t = t.detach()
    values = t.reshape(-1).long().tolist() if t.dtype in (torch.int64, torch.bool) else \
        t.reshape(-1).double().tolist()
    return {"shape": list(t.shape), "dtype": NAMES[t.dtype], "values": values}


def sdpa(q, k, v, is_causal=False):
    s = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if is_causal:
        L, S = s.shape[-2:]
        s = s.masked_fill(torch.ones(L, S, dtype=torch.bool).triu(1), float("-inf"))
    return torch.softmax(s, -1) @ v


# op name, input makers (dtype -> tensor), args, the function.
def floats(shape, seed, scale=2.0):
    return lambda dt: pattern(shape, seed, scale=scale).to(dt)


def probs(shape, seed):
    return lambda dt: (0.5 + 0.45 * pattern(shape, seed)).to(dt)


def ints(values):
    return lambda dt: torch.tensor(values, dtype=torch.int64)


def float32s(shape, seed):  # a float32 operand next to the 16-bit one (cat promotes)
    return lambda dt: pattern(shape, seed, scale=2.0).float()


def mask(shape, seed):
    return lambda dt: pattern(shape, seed) > 0


def halves(dt):  # -3, -2.5, ..., 2.5: round's ties, which go to the even neighbour
    return (torch.arange(-6, 6) / 2).to(dt)


OPS = [
    ("softmax", [floats([3, 5], 1, 4.0)], {"dim": -1}, lambda x: F.softmax(x, -1)),
    ("log_softmax", [floats([3, 5], 2, 4.0)], {"dim": 1}, lambda x: F.log_softmax(x, 1)),
    ("gelu", [floats([12], 3)], {"approximate": "none"}, lambda x: F.gelu(x)),
    ("gelu_tanh", [floats([12], 4)], {"approximate": "tanh"},
     lambda x: F.gelu(x, approximate="tanh")),
    ("relu", [floats([12], 5)], {}, F.relu),
    ("sigmoid", [floats([12], 6)], {}, torch.sigmoid),
    ("tanh", [floats([12], 7)], {}, torch.tanh),
    ("silu", [floats([12], 8)], {}, F.silu),
    ("leaky_relu", [floats([12], 9)], {"negative_slope": 0.1}, lambda x: F.leaky_relu(x, 0.1)),
    ("layer_norm", [floats([3, 8], 10), floats([8], 11, 1.0), floats([8], 12, 0.5)], {"eps": 1e-5},
     lambda x, w, b: F.layer_norm(x, (8,), w, b, 1e-5)),
    ("embedding", [floats([5, 4], 13), ints([[0, 4, 2], [2, 2, 1]])], {},
     lambda w, i: F.embedding(i, w)),
    ("cross_entropy", [floats([4, 6], 14, 3.0), ints([0, 5, 3, 1])], {},
     lambda x, t: F.cross_entropy(x, t)),
    ("nll_loss", [floats([4, 6], 15, 3.0), ints([2, 5, 0, 1])], {}, lambda x, t: F.nll_loss(x, t)),
    ("scaled_dot_product_attention", [floats([2, 4, 8], 16), floats([2, 6, 8], 17),
                                      floats([2, 6, 8], 18)], {"is_causal": False}, sdpa),
    ("max_pool2d", [floats([1, 2, 5, 5], 19)], {"kernel_size": 2}, lambda x: F.max_pool2d(x, 2)),
    ("avg_pool2d", [floats([1, 2, 5, 5], 20)], {"kernel_size": 2}, lambda x: F.avg_pool2d(x, 2)),
    ("adaptive_avg_pool2d", [floats([1, 2, 5, 5], 21)], {"output_size": 2},
     lambda x: F.adaptive_avg_pool2d(x, 2)),
    ("batch_norm", [floats([4, 3, 2, 2], 22), floats([3], 23, 1.0), floats([3], 24, 0.5)],
     {"training": True, "eps": 1e-5},
     lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True, eps=1e-5)),
    ("mse_loss", [floats([10], 25), floats([10], 26)], {}, F.mse_loss),
    ("binary_cross_entropy", [probs([10], 27), probs([10], 28)], {}, F.binary_cross_entropy),
    ("binary_cross_entropy_with_logits", [floats([10], 29), probs([10], 30)], {},
     F.binary_cross_entropy_with_logits),
    ("kl_div", [floats([3, 4], 31, 1.0), probs([3, 4], 32)], {"reduction": "batchmean"},
     lambda x, t: F.kl_div(x, t, reduction="batchmean")),
    ("smooth_l1_loss", [floats([10], 33), floats([10], 34)], {"beta": 0.5},
     lambda x, t: F.smooth_l1_loss(x, t, beta=0.5)),
    ("huber_loss", [floats([10], 35), floats([10], 36)], {"delta": 0.5},
     lambda x, t: F.huber_loss(x, t, delta=0.5)),
    # The rest of the list: joins promote, selections and extrema are exact, scans and norms
    # accumulate in float32.
    ("cat", [floats([2, 3], 40), float32s([1, 3], 41)], {"dim": 0}, lambda a, b: torch.cat([a, b])),
    ("stack", [floats([2, 3], 42), float32s([2, 3], 43)], {"dim": 1},
     lambda a, b: torch.stack([a, b], 1)),
    ("index_select", [floats([4, 3], 44), ints([3, 0, 3])], {"dim": 0},
     lambda x, i: x.index_select(0, i)),
    ("gather", [floats([3, 4], 45), ints([[0, 3], [1, 1], [2, 0]])], {"dim": 1},
     lambda x, i: x.gather(1, i)),
    ("masked_fill", [floats([3, 4], 46), mask([3, 4], 47)], {"value": -1.5},
     lambda x, m: x.masked_fill(m, -1.5)),
    ("topk", [floats([3, 6], 48)], {"k": 2}, lambda x: x.topk(2).values),
    ("sort", [floats([3, 6], 49)], {"descending": True}, lambda x: x.sort(1, descending=True).values),
    ("max", [floats([3, 6], 50)], {}, lambda x: x.max()),
    ("max_dim", [floats([3, 6], 51)], {"dim": 1}, lambda x: x.max(1).values),
    ("min_dim", [floats([3, 6], 52)], {"dim": 0}, lambda x: x.min(0).values),
    ("cumsum", [floats([3, 6], 53)], {"dim": 1}, lambda x: x.cumsum(1)),
    ("norm", [floats([3, 6], 54)], {}, lambda x: x.norm()),
    ("var", [floats([3, 6], 55)], {"dim": 1}, lambda x: x.var(1)),
    # Rounding keeps the dtype: computed in float32, exact once rounded back.
    ("floor", [floats([12], 56, 4.0)], {}, torch.floor),
    ("ceil", [floats([12], 57, 4.0)], {}, torch.ceil),
    ("round", [halves], {}, torch.round),
    ("trunc", [floats([12], 58, 4.0)], {}, torch.trunc),
    ("frac", [floats([12], 59, 4.0)], {}, torch.frac),
    ("sign", [floats([12], 60)], {}, torch.sign),
]


def widened(t):
    return t.float() if t.is_floating_point() else t


def main():
    warnings.simplefilter("ignore")  # 1.13 warns that its float16 mse kernel is slow
    for op, makers, args, fn in OPS:
        for dt in (torch.bfloat16, torch.float16):
            inputs = [m(dt) for m in makers]
            source = "torch"
            try:
                if op == "scaled_dot_product_attention":  # not in 1.13
                    raise NotImplementedError
                out = fn(*inputs)
            except (RuntimeError, NotImplementedError):
                source = "float32"
                out = fn(*[widened(t) for t in inputs]).to(dt)
            assert out.dtype == (torch.float32 if op in ("cat", "stack") else dt), (op, out.dtype)
            CASES.append({"name": f"{op}_{NAMES[dt]}", "op": op, "dtype": NAMES[dt],
                          "source": source, "inputs": [enc(t) for t in inputs], "args": args,
                          "output": enc(out)})
    opts = command_line(__doc__, OUT)
    doc = {**header(__file__), "cases": CASES}
    return write_or_check(opts.out, one_case_per_line(doc), opts.check, f"{len(CASES)} cases")


if __name__ == "__main__":
    sys.exit(main())
