#!/usr/bin/python3
"""Writes tests/data/module09_conv_reference.json: PyTorch's answers for module 09's conv2d.

Run from anywhere (Debian's python3-torch, hence /usr/bin/python3):

    /usr/bin/python3 tools/reference/gen_module09_conv.py          # writes the file
    /usr/bin/python3 tools/reference/gen_module09_conv.py --check  # fails if the file is stale

The output is deterministic: no random numbers. Every input, weight, bias and upstream gradient
is a fixed formula (`pattern`), written out in full, so the C++ tests load exactly these values.

Sections (tensors are {"shape", "dtype", "values" (flat, row-major)}):

  conv2d   F.conv2d forward AND backward: input, weight, bias (or null), stride, padding,
           dilation, groups; expected output y and the gradients of (y * g).sum() with respect
           to input, weight and bias for an upstream gradient g. Plain, stride 2, padding,
           dilation 2, groups 2, depthwise, no bias, 1x1, non-square kernel/stride/padding/
           dilation, unbatched 3-d input, LeNet-5's second layer, float64.
  errors   F.conv2d calls PyTorch refuses: the arguments (shapes; tensors are zeros) and torch's
           message; "expected" is the message with torch's doubled brackets ([[5, 2, 3, 3]])
           written once — TinyTorch's message must contain it.
  repr     repr(nn.Conv2d(...)) for several option sets: which options torch shows (padding,
           dilation, groups only when not the default; bias=false only without a bias).
           "expected" is torch's string with Python's False spelled false (libtorch's way).
  init     nn.Conv2d's default init bound 1/sqrt(fan_in), fan_in = in/groups * kH * kW, and the
           largest |w| and |b| torch's own init drew over a large layer (seeded; only these
           measured maxima depend on torch's generator).
"""

import math
import os
import re
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from refdata import command_line, header, one_case_per_line, write_or_check  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(REPO, "tests", "data", "module09_conv_reference.json")

DTYPE_NAMES = {torch.float32: "float32", torch.float64: "float64"}


def enc(t):
    t = t.detach()
    return {"shape": list(t.shape), "dtype": DTYPE_NAMES[t.dtype],
            "values": t.reshape(-1).tolist()}


def pattern(shape, seed, dtype=torch.float32, scale=1.0):
    """Deterministic values in about [-scale, scale]: a sine of the index, varied by seed."""
    n = math.prod(shape)
    vals = [scale * math.sin(0.7 * i + 1.3 * seed + 0.1) for i in range(n)]
    return torch.tensor(vals, dtype=torch.float64).reshape(shape).to(dtype)


def pair(v):
    return [v, v] if isinstance(v, int) else list(v)


# name, input shape, out_channels, kernel (R, S), stride, padding, dilation, groups, bias, dtype
CONV_CASES = [
    ("plain", [2, 3, 7, 6], 4, (3, 3), 1, 0, 1, 1, True, torch.float32),
    ("stride2", [2, 3, 9, 8], 4, (3, 3), 2, 0, 1, 1, True, torch.float32),
    ("padding2_5x5", [1, 2, 6, 6], 3, (5, 5), 1, 2, 1, 1, True, torch.float32),
    ("dilation2", [2, 2, 9, 9], 3, (3, 3), 1, 1, 2, 1, True, torch.float32),
    ("groups2", [2, 4, 6, 6], 6, (3, 3), 1, 1, 1, 2, True, torch.float32),
    ("depthwise", [2, 3, 6, 5], 3, (3, 3), 1, 1, 1, 3, True, torch.float32),
    ("depthwise_multiplier2", [1, 2, 5, 5], 4, (3, 3), 2, 1, 1, 2, False, torch.float32),
    ("no_bias", [2, 3, 5, 5], 2, (3, 3), 1, 0, 1, 1, False, torch.float32),
    ("one_by_one", [2, 5, 4, 4], 3, (1, 1), 1, 0, 1, 1, True, torch.float32),
    ("non_square", [2, 2, 8, 7], 3, (3, 2), (2, 1), (1, 0), (1, 2), 1, True, torch.float32),
    ("stride_exceeds_kernel", [1, 2, 9, 9], 2, (2, 2), 3, 0, 1, 1, True, torch.float32),
    ("unbatched", [3, 6, 6], 2, (3, 3), 1, 1, 1, 1, True, torch.float32),
    ("lenet_conv2", [2, 6, 14, 14], 16, (5, 5), 1, 0, 1, 1, True, torch.float32),
    ("float64", [2, 3, 6, 6], 4, (3, 3), 2, 1, 1, 1, True, torch.float64),
    ("float64_all", [2, 4, 9, 8], 4, (3, 2), (2, 1), (1, 2), (2, 1), 2, True, torch.float64),
]


def gen_conv2d():
    cases = []
    for i, (name, xs, k, (r, s), stride, padding, dilation, groups, bias, dtype) in enumerate(
            CONV_CASES):
        c = xs[-3]
        x = pattern(xs, 10 * i + 1, dtype).requires_grad_(True)
        w = pattern([k, c // groups, r, s], 10 * i + 2, dtype, 0.5).requires_grad_(True)
        b = pattern([k], 10 * i + 3, dtype, 0.5).requires_grad_(True) if bias else None
        y = F.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)
        g = pattern(list(y.shape), 10 * i + 4, dtype)
        (y * g).sum().backward()
        cases.append({
            "name": name,
            "dtype": DTYPE_NAMES[dtype],
            "stride": pair(stride),
            "padding": pair(padding),
            "dilation": pair(dilation),
            "groups": groups,
            "input": enc(x),
            "weight": enc(w),
            "bias": enc(b) if bias else None,
            "output": enc(y),
            "grad_output": enc(g),
            "grad_input": enc(x.grad),
            "grad_weight": enc(w.grad),
            "grad_bias": enc(b.grad) if bias else None,
        })
    return cases


# name, input shape, weight shape, bias shape (or None), stride, padding, dilation, groups
ERROR_CASES = [
    ("nhwc_input", [1, 28, 28, 3], [6, 3, 5, 5], [6], 1, 0, 1, 1),
    ("channel_mismatch", [1, 4, 8, 8], [6, 3, 3, 3], [6], 1, 0, 1, 1),
    ("channel_mismatch_groups", [1, 4, 8, 8], [6, 2, 3, 3], None, 1, 0, 1, 3),
    ("input_2d", [4, 8], [6, 4, 3, 3], None, 1, 0, 1, 1),
    ("input_5d", [1, 1, 4, 8, 8], [6, 4, 3, 3], None, 1, 0, 1, 1),
    ("stride_zero", [1, 4, 8, 8], [6, 4, 3, 3], None, 0, 0, 1, 1),
    ("stride_negative", [1, 4, 8, 8], [6, 4, 3, 3], None, (1, -1), 0, 1, 1),
    ("dilation_zero", [1, 4, 8, 8], [6, 4, 3, 3], None, 1, 0, 0, 1),
    ("padding_negative", [1, 4, 8, 8], [6, 4, 3, 3], None, 1, -1, 1, 1),
    ("groups_zero", [1, 4, 8, 8], [6, 4, 3, 3], None, 1, 0, 1, 0),
    ("stride_three_values", [1, 4, 8, 8], [6, 4, 3, 3], None, (1, 2, 3), 0, 1, 1),
    ("kernel_too_large", [1, 4, 3, 3], [6, 4, 5, 5], None, 1, 0, 1, 1),
    ("dilated_kernel_too_large", [1, 4, 4, 4], [6, 4, 3, 3], None, 1, 0, 2, 1),
    ("kernel_too_large_padded", [1, 4, 3, 2], [6, 4, 3, 5], None, 1, (0, 1), 1, 1),
    ("bias_wrong_length", [1, 4, 8, 8], [6, 4, 3, 3], [5], 1, 0, 1, 1),
    ("bias_2d", [1, 4, 8, 8], [6, 4, 3, 3], [6, 1], 1, 0, 1, 1),
    ("out_channels_not_divisible", [1, 4, 8, 8], [5, 2, 3, 3], None, 1, 0, 1, 2),
]


def gen_errors():
    out = []
    for name, xs, ws, bs, stride, padding, dilation, groups in ERROR_CASES:
        x, w = torch.zeros(xs), torch.zeros(ws)
        b = torch.zeros(bs) if bs is not None else None
        try:
            F.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)
        except RuntimeError as e:
            message = str(e)
        else:
            raise SystemExit(f"error case {name}: torch accepted it")
        out.append({
            "name": name,
            "input_shape": xs,
            "weight_shape": ws,
            "bias_shape": bs,
            "stride": [stride] if isinstance(stride, int) else list(stride),
            "padding": [padding] if isinstance(padding, int) else list(padding),
            "dilation": [dilation] if isinstance(dilation, int) else list(dilation),
            "groups": groups,
            "message": message,
            "expected": re.sub(r"\[\[([^\]]*)\]\]", r"[\1]", message),
        })
    return out


# in, out, kernel, stride, padding, dilation, groups, bias
REPR_CASES = [
    (1, 6, 5, 1, 2, 1, 1, True),
    (6, 16, 5, 1, 0, 1, 1, True),
    (3, 16, 3, 2, 1, 1, 1, False),
    (4, 6, (5, 3), 2, (1, 0), 2, 2, False),
    (8, 8, 3, 1, 1, 1, 8, True),
    (4, 6, 3, (2, 1), (0, 1), (1, 2), 1, True),
]


def gen_repr():
    out = []
    for cin, cout, k, stride, padding, dilation, groups, bias in REPR_CASES:
        m = torch.nn.Conv2d(cin, cout, k, stride=stride, padding=padding, dilation=dilation,
                            groups=groups, bias=bias)
        out.append({"in_channels": cin, "out_channels": cout, "kernel_size": pair(k),
                    "stride": pair(stride), "padding": pair(padding),
                    "dilation": pair(dilation), "groups": groups, "bias": bias,
                    "torch": repr(m), "expected": repr(m).replace("False", "false")})
    return out


def gen_init():
    out = []
    torch.manual_seed(0)
    for cin, cout, k, groups in [(1, 6, 5, 1), (6, 16, 5, 1), (64, 64, 3, 1), (32, 32, 3, 32)]:
        m = torch.nn.Conv2d(cin, cout, k, groups=groups)
        fan_in = cin // groups * k * k
        out.append({"in_channels": cin, "out_channels": cout, "kernel_size": [k, k],
                    "groups": groups, "fan_in": fan_in, "bound": 1.0 / math.sqrt(fan_in),
                    "torch_max_abs_weight": m.weight.abs().max().item(),
                    "torch_max_abs_bias": m.bias.abs().max().item()})
    return out


def main():
    opts = command_line(__doc__, OUT)
    conv, errors = gen_conv2d(), gen_errors()
    doc = {**header(__file__), "cases": conv, "errors": errors, "repr": gen_repr(),
           "init": gen_init()}
    return write_or_check(opts.out, one_case_per_line(doc), opts.check,
                          f"{len(conv)} conv2d cases, {len(errors)} error cases")


if __name__ == "__main__":
    sys.exit(main())
