#!/usr/bin/python3
"""Writes tests/data/module15_reference.json: PyTorch's answers for module 15's quantized tensors,
observers and fake quantization.

Run from anywhere (Debian's python3-torch 1.13, hence /usr/bin/python3):

    /usr/bin/python3 tools/reference/gen_module15.py          # writes the file
    /usr/bin/python3 tools/reference/gen_module15.py --check  # fails if the file is stale

The output is deterministic: no random numbers. Every input is a fixed formula (`pattern`), written
out in full. Tensors are {"shape", "dtype", "values" (flat, row-major)}.

Cases (one list, "cases"; each has "name" and "op"):

  quantize_per_tensor
        torch.quantize_per_tensor(input, scale, zero_point, dtype): "int_repr" and "dequantized".
        Includes values clamped at qmin/qmax and exact .5 ties (round half to even).
  quantize_per_channel
        torch.quantize_per_channel(input, scales, zero_points, axis, dtype): the same outputs, for
        axes 0, 1, 2 and -1.
  observer
        MinMaxObserver / PerChannelMinMaxObserver fed "inputs" in order, with "dtype", "qscheme",
        "reduce_range", "ch_axis": "min_val", "max_val", "scale", "zero_point".
  percentile
        numpy.percentile(inputs, [100 - p, p]) ("min_val", "max_val"; numpy's linear
        interpolation), and the qparams PyTorch's observer formula gives for that range.
  fake_quantize_per_tensor / fake_quantize_per_channel
        torch.fake_quantize_per_*_affine(input, ...): "output", and "grad_input" = the gradient of
        (output * grad_output).sum() (the straight-through estimator).
"""

import math
import os
import sys
import warnings

import numpy as np
import torch
from torch.ao.quantization.observer import MinMaxObserver, PerChannelMinMaxObserver

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from refdata import command_line, header, one_case_per_line, write_or_check  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(REPO, "tests", "data", "module15_reference.json")

DTYPE_NAMES = {torch.float32: "float32", torch.float64: "float64", torch.int64: "int64",
               torch.int8: "int8", torch.uint8: "uint8", torch.int32: "int64"}
QDTYPES = {"int8": torch.qint8, "uint8": torch.quint8}
QSCHEMES = {"per_tensor_affine": torch.per_tensor_affine,
            "per_tensor_symmetric": torch.per_tensor_symmetric,
            "per_channel_affine": torch.per_channel_affine,
            "per_channel_symmetric": torch.per_channel_symmetric}
F32, F64 = torch.float32, torch.float64


def enc(t):
    t = t.detach()
    name = DTYPE_NAMES[t.dtype]
    if t.dtype == torch.int32:
        t = t.to(torch.int64)
    return {"shape": list(t.shape), "dtype": name, "values": t.reshape(-1).tolist()}


def pattern(shape, seed, dtype=F32, scale=1.0, offset=0.0):
    """Deterministic values in about offset ± scale: a sine of the index, varied by seed."""
    n = math.prod(shape)
    vals = [offset + scale * math.sin(0.7 * i + 1.3 * seed + 0.1) for i in range(n)]
    return torch.tensor(vals, dtype=F64).reshape(shape).to(dtype)


def gen_quantize():
    cases = []
    # (shape, seed, amplitude, offset, scale, zero_point, dtype): amplitudes reach past the range.
    per_tensor = [
        ([4, 6], 0, 1.0, 0.0, 0.01, 0, "int8"),     # ±1 / 0.01 = ±100: inside [-128, 127]
        ([4, 6], 1, 2.0, 0.0, 0.01, 0, "int8"),     # ±200: clamped at both ends
        ([3, 5], 2, 1.0, 0.5, 0.007, 10, "uint8"),  # [-0.5, 1.5]: negatives clamp at 0
        ([2, 3, 4], 3, 3.0, 0.0, 0.05, -20, "int8"),
        ([7], 4, 1.0, 1.0, 0.0078125, 0, "uint8"),  # scale 2^-7
    ]
    for i, (shape, seed, amp, off, scale, zp, dt) in enumerate(per_tensor):
        x = pattern(shape, seed, F32, amp, off)
        q = torch.quantize_per_tensor(x, scale, zp, QDTYPES[dt])
        cases.append({"name": f"quantize_per_tensor_{i}", "op": "quantize_per_tensor",
                      "input": enc(x), "scale": scale, "zero_point": zp, "dtype": dt,
                      "int_repr": enc(q.int_repr()), "dequantized": enc(q.dequantize())})
    # Exact ties: x / 0.5 = k + 0.5 exactly; round half to even gives 0, 2, 2, 4, -2, -2, ...
    x = torch.tensor([0.25, 0.75, 1.25, 1.75, -0.25, -0.75, -1.25, 0.0, 100.0, -100.0], dtype=F32)
    for dt, zp in (("int8", 0), ("uint8", 128)):
        q = torch.quantize_per_tensor(x, 0.5, zp, QDTYPES[dt])
        cases.append({"name": f"quantize_per_tensor_ties_{dt}", "op": "quantize_per_tensor",
                      "input": enc(x), "scale": 0.5, "zero_point": zp, "dtype": dt,
                      "int_repr": enc(q.int_repr()), "dequantized": enc(q.dequantize())})
    per_channel = [([3, 4, 5], 0, "int8"), ([3, 4, 5], 1, "uint8"), ([3, 4, 5], 2, "int8"),
                   ([4, 6], 1, "int8"), ([5, 8], 0, "uint8")]
    for i, (shape, axis, dt) in enumerate(per_channel):
        x = pattern(shape, 10 + i, F32, 1.5)
        c = shape[axis]
        scales = torch.tensor([0.004 + 0.003 * k for k in range(c)], dtype=F64)
        zps = torch.tensor([(k * 7) % 11 - (5 if dt == "int8" else 0) for k in range(c)],
                           dtype=torch.int64)
        q = torch.quantize_per_channel(x, scales, zps, axis, QDTYPES[dt])
        cases.append({"name": f"quantize_per_channel_{i}", "op": "quantize_per_channel",
                      "input": enc(x), "scales": enc(scales), "zero_points": enc(zps),
                      "axis": axis, "dtype": dt, "int_repr": enc(q.int_repr()),
                      "dequantized": enc(q.dequantize())})
    return cases


def gen_observers():
    cases = []
    configs = [
        ("MinMaxObserver", "uint8", "per_tensor_affine", False, 0),
        ("MinMaxObserver", "uint8", "per_tensor_affine", True, 0),
        ("MinMaxObserver", "int8", "per_tensor_affine", False, 0),
        ("MinMaxObserver", "int8", "per_tensor_symmetric", False, 0),
        ("MinMaxObserver", "int8", "per_tensor_symmetric", True, 0),
        ("MinMaxObserver", "uint8", "per_tensor_symmetric", False, 0),
        ("PerChannelMinMaxObserver", "int8", "per_channel_symmetric", False, 0),
        ("PerChannelMinMaxObserver", "int8", "per_channel_affine", False, 1),
        ("PerChannelMinMaxObserver", "uint8", "per_channel_affine", True, 0),
    ]
    for i, (kind, dt, qs, rr, axis) in enumerate(configs):
        # Two batches with different ranges (the second widens the max); the last config sees
        # positive-only data, where the range still has to include 0.
        offset = 0.7 if i == len(configs) - 1 else 0.2
        inputs = [pattern([4, 6], 20 + i, F32, 1.0, offset),
                  pattern([4, 6], 30 + i, F32, 1.6, offset)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if kind == "MinMaxObserver":
                obs = MinMaxObserver(dtype=QDTYPES[dt], qscheme=QSCHEMES[qs], reduce_range=rr)
            else:
                obs = PerChannelMinMaxObserver(ch_axis=axis, dtype=QDTYPES[dt],
                                               qscheme=QSCHEMES[qs], reduce_range=rr)
            for x in inputs:
                obs(x)
            scale, zp = obs.calculate_qparams()
        mn, mx = obs.min_val.reshape(-1), obs.max_val.reshape(-1)
        cases.append({"name": f"observer_{i}", "op": "observer", "observer": kind, "dtype": dt,
                      "qscheme": qs, "reduce_range": rr, "ch_axis": axis,
                      "inputs": [enc(x) for x in inputs], "min_val": enc(mn), "max_val": enc(mx),
                      "scale": enc(scale), "zero_point": enc(zp.to(torch.int64))})
    return cases


def gen_percentile():
    cases = []
    for i, p in enumerate((99.0, 99.9)):
        x = pattern([40, 25], 50 + i, F32, 1.0)
        x[3, 4] = 25.0  # two outliers a min/max observer would stretch its range to
        x[7, 1] = -18.0
        lo, hi = np.percentile(x.numpy().astype(np.float64), [100 - p, p])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            obs = MinMaxObserver(dtype=torch.quint8)
            obs(torch.tensor([lo, hi], dtype=F32))
            scale, zp = obs.calculate_qparams()
        cases.append({"name": f"percentile_{i}", "op": "percentile", "percentile": p,
                      "input": enc(x), "min_val": float(np.float32(lo)),
                      "max_val": float(np.float32(hi)), "scale": enc(scale),
                      "zero_point": enc(zp.to(torch.int64))})
    return cases


def gen_fake_quantize():
    cases = []
    for i, (scale, zp, qmin, qmax, amp) in enumerate(
            ((0.01, 0, -128, 127, 1.0), (0.02, 3, -128, 127, 3.0), (0.013, 64, 0, 127, 1.2),
             (0.05, 10, 0, 255, 2.0))):
        x = pattern([5, 7], 60 + i, F32, amp).requires_grad_()
        g = pattern([5, 7], 70 + i, F32, 1.0)
        out = torch.fake_quantize_per_tensor_affine(x, scale, zp, qmin, qmax)
        (out * g).sum().backward()
        cases.append({"name": f"fake_quantize_per_tensor_{i}", "op": "fake_quantize_per_tensor",
                      "input": enc(x), "scale": scale, "zero_point": zp, "quant_min": qmin,
                      "quant_max": qmax, "grad_output": enc(g), "output": enc(out),
                      "grad_input": enc(x.grad)})
    for i, (shape, axis) in enumerate((([4, 6], 0), ([2, 3, 5], 1), ([3, 4], 1))):
        c = shape[axis]
        x = pattern(shape, 80 + i, F32, 1.5).requires_grad_()
        g = pattern(shape, 90 + i, F32, 1.0)
        scales = torch.tensor([0.005 + 0.002 * k for k in range(c)], dtype=F32)
        zps = torch.tensor([(k * 5) % 9 - 4 for k in range(c)], dtype=torch.int32)
        out = torch.fake_quantize_per_channel_affine(x, scales, zps, axis, -128, 127)
        (out * g).sum().backward()
        cases.append({"name": f"fake_quantize_per_channel_{i}",
                      "op": "fake_quantize_per_channel", "input": enc(x), "scales": enc(scales),
                      "zero_points": enc(zps), "axis": axis, "quant_min": -128, "quant_max": 127,
                      "grad_output": enc(g), "output": enc(out), "grad_input": enc(x.grad)})
    return cases


def main():
    opts = command_line(__doc__, OUT)
    cases = gen_quantize() + gen_observers() + gen_percentile() + gen_fake_quantize()
    doc = {**header(__file__), "cases": cases}
    return write_or_check(opts.out, one_case_per_line(doc), opts.check, f"{len(cases)} cases")


if __name__ == "__main__":
    sys.exit(main())
