#!/usr/bin/python3
"""Writes tests/data/amp_linalg_reference.json: PyTorch's bfloat16 and float16 forward values of
the GEMM ops — matmul (1-d, 2-d, batched, broadcast batch), mm, bmm, addmm, baddbmm, linear,
conv1d, conv2d, conv_transpose2d — read by tests/amp/test_lowp_linalg.cpp.

Run from anywhere (Debian's python3-torch 1.13, hence /usr/bin/python3):

    /usr/bin/python3 tools/reference/gen_amp_linalg.py          # writes the file
    /usr/bin/python3 tools/reference/gen_amp_linalg.py --check  # fails if the file is stale

Every input is a deterministic sine pattern rounded to the case's dtype, so the C++ test reads
the very same 16-bit values. How each output was made ("source"):

  torch     bfloat16 linear (batched input), conv1d, conv2d: PyTorch 1.13's own CPU bfloat16
            kernels (oneDNN), which sum in float32 and round once: on these cases they equal
            `float32` below.
  float32   the op in float32 on the 16-bit inputs, rounded once to the dtype — the library's
            rule, and what PyTorch 2.x's CPU kernels do. Used for float16 (1.13 has no CPU
            float16 kernel for these ops: "not implemented for 'Half'"); for bfloat16 matmul, mm,
            bmm, addmm, baddbmm and linear on a 1-d input (a matrix-vector product there), whose 1.13
            CPU kernel accumulates in bfloat16 on these small
            shapes (errors against float64 up to 10x those of float32 sums: 0.011 against 0.0002
            on matmul_2d); and for bfloat16 conv_transpose2d, whose 1.13 path rejects a weight
            whose two channel counts differ (it reads the weight as a convolution's).

cases: {"name", "op", "dtype", "source", "inputs": [tensors], "args": {...}, "output"}, a tensor
being {"shape", "dtype", "values"}.
"""

import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from refdata import command_line, header, one_case_per_line, write_or_check  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(REPO, "tests", "data", "amp_linalg_reference.json")
NAMES = {torch.bfloat16: "bfloat16", torch.float16: "float16"}


def pattern(shape, seed, dtype):
    """Values in about [-1, 1] (a sine of the index, varied by seed), rounded to dtype."""
    n = math.prod(shape)
    vals = [math.sin(0.7 * i + 1.3 * seed + 0.1) for i in range(n)]
    return torch.tensor(vals, dtype=torch.float64).reshape(shape).to(dtype)


def enc(t):
    return {"shape": list(t.shape), "dtype": NAMES[t.dtype],
            "values": t.float().reshape(-1).tolist()}


def call(op, inputs, args):
    if op == "matmul":
        return torch.matmul(*inputs)
    if op == "mm":
        return torch.mm(*inputs)
    if op == "bmm":
        return torch.bmm(*inputs)
    if op == "addmm":
        return torch.addmm(*inputs, beta=args["beta"], alpha=args["alpha"])
    if op == "baddbmm":
        return torch.baddbmm(*inputs, beta=args["beta"], alpha=args["alpha"])
    if op == "linear":
        return F.linear(*inputs)
    conv = {"conv1d": F.conv1d, "conv2d": F.conv2d}
    if op in conv:
        return conv[op](*inputs, stride=args["stride"], padding=args["padding"],
                        dilation=args["dilation"], groups=args["groups"])
    if op == "conv_transpose2d":
        return F.conv_transpose2d(*inputs, stride=args["stride"], padding=args["padding"],
                                  output_padding=args["output_padding"], groups=args["groups"],
                                  dilation=args["dilation"])
    raise ValueError(op)


# name, op, input shapes, args
SPECS = [
    ("matmul_1d_1d", "matmul", [[7], [7]], {}),
    ("matmul_1d_2d", "matmul", [[5], [5, 3]], {}),
    ("matmul_2d_1d", "matmul", [[4, 6], [6]], {}),
    ("matmul_2d", "matmul", [[5, 9], [9, 7]], {}),
    ("matmul_K1", "matmul", [[4, 1], [1, 5]], {}),
    ("matmul_M1_oddN", "matmul", [[1, 12], [12, 13]], {}),
    ("matmul_batched_broadcast", "matmul", [[2, 1, 3, 8], [3, 8, 5]], {}),
    ("matmul_batch_times_matrix", "matmul", [[2, 3, 6], [6, 4]], {}),
    ("mm", "mm", [[6, 10], [10, 3]], {}),
    ("bmm", "bmm", [[3, 4, 5], [3, 5, 2]], {}),
    ("addmm", "addmm", [[3, 5], [3, 8], [8, 5]], {"beta": 1.0, "alpha": 1.0}),
    ("addmm_scaled", "addmm", [[5], [3, 8], [8, 5]], {"beta": 0.5, "alpha": 2.0}),
    ("baddbmm", "baddbmm", [[2, 3, 4], [2, 3, 6], [2, 6, 4]], {"beta": 1.0, "alpha": 1.0}),
    ("linear_bias", "linear", [[2, 3, 11], [6, 11], [6]], {}),
    ("linear_no_bias", "linear", [[4, 11], [7, 11]], {}),
    ("linear_1d_bias", "linear", [[9], [4, 9], [4]], {}),
    ("conv1d", "conv1d", [[2, 3, 10], [4, 3, 3], [4]],
     {"stride": 2, "padding": 1, "dilation": 1, "groups": 1}),
    ("conv2d_bias", "conv2d", [[2, 3, 6, 7], [4, 3, 3, 3], [4]],
     {"stride": 1, "padding": 1, "dilation": 1, "groups": 1}),
    ("conv2d_stride_dilation", "conv2d", [[1, 2, 9, 8], [3, 2, 3, 2]],
     {"stride": [2, 1], "padding": [1, 0], "dilation": [2, 1], "groups": 1}),
    ("conv2d_groups", "conv2d", [[2, 4, 5, 5], [6, 2, 3, 3], [6]],
     {"stride": 1, "padding": 0, "dilation": 1, "groups": 2}),
    ("conv_transpose2d", "conv_transpose2d", [[2, 2, 4, 4], [2, 3, 3, 3], [3]],
     {"stride": 2, "padding": 1, "output_padding": 1, "dilation": 1, "groups": 1}),
]


def make_cases():
    cases = []
    for dtype in (torch.bfloat16, torch.float16):
        for seed, (name, op, shapes, args) in enumerate(SPECS):
            inputs = [pattern(s, 10 * seed + j, dtype) for j, s in enumerate(shapes)]
            in_float32 = [t.float() for t in inputs]
            # A float32 computation of products of 16-bit values: the float32 sums, rounded once.
            rounded = call(op, in_float32, args).to(dtype)
            source = "float32"
            if dtype == torch.bfloat16 and (op in ("conv1d", "conv2d") or
                                            (op == "linear" and inputs[0].dim() > 1)):
                out, source = call(op, inputs, args), "torch"
                assert out.dtype == dtype, name
            else:
                out = rounded
            cases.append({"name": f"{name}_{NAMES[dtype]}", "op": op, "dtype": NAMES[dtype],
                          "source": source, "inputs": [enc(t) for t in inputs], "args": args,
                          "output": enc(out)})
    return cases


def main():
    opts = command_line(__doc__, OUT)
    torch.set_num_threads(1)
    cases = make_cases()
    doc = {**header(__file__), "cases": cases}
    return write_or_check(opts.out, one_case_per_line(doc), opts.check, f"{len(cases)} cases")


if __name__ == "__main__":
    sys.exit(main())
