#!/usr/bin/python3
"""Writes tests/data/conv_modules_reference.json: PyTorch's answers for the layers libtorch programs
add around Conv2d — conv_transpose2d, conv1d, max_pool1d, avg_pool1d — and the reprs of their
modules (tests/libtorch/test_conv_modules.cpp reads it).

Run from anywhere (Debian's python3-torch, hence /usr/bin/python3):

    /usr/bin/python3 tools/reference/gen_conv_modules.py          # writes the file
    /usr/bin/python3 tools/reference/gen_conv_modules.py --check  # fails if the file is stale

Deterministic: every tensor is gen_module09_conv.py's `pattern` (a sine of the index), written out
in full. Sections:

  cases   {"name", "op", "input", "weight" (or null), "bias" (or null), "args": {...},
           "output", "indices" (max_pool1d), "grad_output" g, and "grad_input", "grad_weight",
           "grad_bias": the gradients of (out * g).sum() (null where there is no such operand)}.
           args: stride, padding, output_padding, dilation, groups (convolutions); kernel_size,
           stride, padding, dilation, ceil_mode, count_include_pad (pools), as lists.
  repr    {"name", "expected"}: repr() of a module built as the name says, Python's True/False
           spelled true/false (libtorch's way).
"""

import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from refdata import command_line, header, one_case_per_line, write_or_check  # noqa: E402
from gen_module09_conv import enc, pattern  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(REPO, "tests", "data", "conv_modules_reference.json")

CASES = []


def run_case(name, op, x, w, b, args, fn, seed):
    leaves = [t.requires_grad_() for t in (x, w, b) if t is not None]
    outs = fn(x, w, b)
    y = outs[0] if isinstance(outs, tuple) else outs
    g = pattern(list(y.shape), seed + 7, y.dtype)
    (y * g).sum().backward()
    c = {"name": name, "op": op, "input": enc(x), "weight": enc(w) if w is not None else None,
         "bias": enc(b) if b is not None else None, "args": args, "output": enc(y),
         "grad_output": enc(g)}
    if isinstance(outs, tuple):
        c["indices"] = {"shape": list(outs[1].shape), "dtype": "int64",
                        "values": outs[1].reshape(-1).tolist()}
    for key, t in (("grad_input", x), ("grad_weight", w), ("grad_bias", b)):
        c[key] = enc(t.grad) if t is not None else None
    assert leaves
    CASES.append(c)


# name, input shape, out_channels, kernel, stride, padding, output_padding, dilation, groups,
# bias, dtype
TRANSPOSED = [
    ("plain", [2, 3, 4, 5], 2, (3, 3), 1, 0, 0, 1, 1, True, torch.float32),
    ("stride2", [2, 3, 4, 4], 4, (3, 3), 2, 0, 0, 1, 1, True, torch.float32),
    ("stride2_padding1_output_padding1", [1, 4, 5, 4], 3, (3, 3), 2, 1, 1, 1, 1, True,
     torch.float32),
    ("upsample_4x4_s2_p1", [2, 4, 3, 3], 2, (4, 4), 2, 1, 0, 1, 1, True, torch.float32),
    ("groups2", [2, 4, 3, 4], 6, (3, 3), 2, 1, 1, 1, 2, True, torch.float32),
    ("depthwise", [1, 3, 4, 4], 3, (3, 3), 1, 1, 0, 1, 3, False, torch.float32),
    ("dilation2", [2, 2, 4, 4], 3, (3, 3), 1, 1, 0, 2, 1, True, torch.float32),
    ("dilation2_output_padding1_stride1", [1, 2, 3, 4], 2, (3, 3), 1, 1, 1, 2, 1, True,
     torch.float32),
    ("no_bias", [2, 3, 3, 3], 2, (2, 2), 2, 0, 0, 1, 1, False, torch.float32),
    ("non_square", [1, 2, 3, 5], 4, (3, 2), (2, 1), (1, 0), (1, 0), (1, 2), 2, True,
     torch.float32),
    ("unbatched", [3, 4, 4], 2, (3, 3), 2, 1, 1, 1, 1, True, torch.float32),
    ("float64", [2, 4, 3, 3], 4, (3, 3), 2, 1, 1, 2, 2, True, torch.float64),
]

# name, input shape, out_channels, kernel, stride, padding, dilation, groups, bias, dtype
CONV1D = [
    ("plain", [2, 3, 9], 4, 3, 1, 0, 1, 1, True, torch.float32),
    ("stride2_padding1", [2, 2, 10], 3, 3, 2, 1, 1, 1, True, torch.float32),
    ("dilation2_groups2", [1, 4, 11], 6, 3, 1, 2, 2, 2, False, torch.float32),
    ("unbatched", [3, 8], 2, 5, 1, 2, 1, 1, True, torch.float32),
    ("float64", [2, 4, 9], 4, 3, 2, 1, 1, 2, True, torch.float64),
]

# name, input shape, kernel, stride (None: = kernel), padding, dilation, ceil_mode
MAXPOOL1D = [
    ("k2", [2, 3, 8], 2, None, 0, 1, False),
    ("k3_s2_p1", [2, 2, 9], 3, 2, 1, 1, False),
    ("dilation2_ceil", [1, 3, 10], 3, 2, 1, 2, True),
    ("unbatched", [3, 7], 3, 1, 0, 1, False),
]

# name, input shape, kernel, stride (None: = kernel), padding, ceil_mode, count_include_pad
AVGPOOL1D = [
    ("k2", [2, 3, 8], 2, None, 0, False, True),
    ("k3_s2_p1", [2, 2, 9], 3, 2, 1, False, True),
    ("k3_s2_p1_exclude_pad_ceil", [1, 3, 10], 3, 2, 1, True, False),
    ("unbatched", [3, 7], 4, 2, 2, False, True),
]


def as_list(v, n):
    return [v] * n if isinstance(v, int) else list(v)


def cases():
    for i, (name, shape, out, k, s, p, op, d, g, bias, dt) in enumerate(TRANSPOSED):
        cin = shape[-3]
        x = pattern(shape, 10 * i + 1, dt)
        w = pattern([cin, out // g, *k], 10 * i + 2, dt, 0.5)
        b = pattern([out], 10 * i + 3, dt) if bias else None
        args = {"stride": as_list(s, 2), "padding": as_list(p, 2),
                "output_padding": as_list(op, 2), "dilation": as_list(d, 2), "groups": g}
        run_case("conv_transpose2d_" + name, "conv_transpose2d", x, w, b, args,
                 lambda x, w, b: F.conv_transpose2d(x, w, b, s, p, op, g, d), 10 * i)
    for i, (name, shape, out, k, s, p, d, g, bias, dt) in enumerate(CONV1D):
        cin = shape[-2]
        x = pattern(shape, 10 * i + 101, dt)
        w = pattern([out, cin // g, k], 10 * i + 102, dt, 0.5)
        b = pattern([out], 10 * i + 103, dt) if bias else None
        args = {"stride": [s], "padding": [p], "dilation": [d], "groups": g}
        run_case("conv1d_" + name, "conv1d", x, w, b, args,
                 lambda x, w, b: F.conv1d(x, w, b, s, p, d, g), 10 * i + 100)
    for i, (name, shape, k, s, p, d, ceil) in enumerate(MAXPOOL1D):
        x = pattern(shape, 10 * i + 201)
        args = {"kernel_size": [k], "stride": [] if s is None else [s], "padding": [p],
                "dilation": [d], "ceil_mode": ceil}
        run_case("max_pool1d_" + name, "max_pool1d", x, None, None, args,
                 lambda x, w, b: F.max_pool1d(x, k, s, p, d, ceil, return_indices=True),
                 10 * i + 200)
    for i, (name, shape, k, s, p, ceil, cip) in enumerate(AVGPOOL1D):
        x = pattern(shape, 10 * i + 301)
        args = {"kernel_size": [k], "stride": [] if s is None else [s], "padding": [p],
                "ceil_mode": ceil, "count_include_pad": cip}
        run_case("avg_pool1d_" + name, "avg_pool1d", x, None, None, args,
                 lambda x, w, b: F.avg_pool1d(x, k, s, p, ceil, cip), 10 * i + 300)


def reprs():
    nn = torch.nn
    modules = {
        "ConvTranspose2d(4, 6, 3)": nn.ConvTranspose2d(4, 6, 3),
        "ConvTranspose2d(4, 6, {3, 2}).stride(2).padding(1).output_padding(1).groups(2)"
        ".bias(false).dilation(2)":
            nn.ConvTranspose2d(4, 6, (3, 2), stride=2, padding=1, output_padding=1, groups=2,
                               bias=False, dilation=2),
        "Conv1d(2, 4, 3).stride(2)": nn.Conv1d(2, 4, 3, stride=2),
        "Conv1d(4, 4, 5).padding(2).dilation(2).groups(4).bias(false)":
            nn.Conv1d(4, 4, 5, padding=2, dilation=2, groups=4, bias=False),
        "MaxPool1d(3)": nn.MaxPool1d(3),
        "MaxPool1d(3).stride(2).padding(1).ceil_mode(true)":
            nn.MaxPool1d(3, stride=2, padding=1, ceil_mode=True),
        "AvgPool1d(3)": nn.AvgPool1d(3),
        "Dropout2d(0.3)": nn.Dropout2d(0.3),
    }
    return [{"name": k, "expected": repr(m).replace("False", "false").replace("True", "true")}
            for k, m in modules.items()]


def main():
    opts = command_line(__doc__, OUT)
    cases()
    doc = {**header(__file__), "cases": CASES, "repr": reprs()}
    return write_or_check(opts.out, one_case_per_line(doc), opts.check, f"{len(CASES)} cases")


if __name__ == "__main__":
    sys.exit(main())
