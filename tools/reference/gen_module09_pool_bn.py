#!/usr/bin/python3
"""Writes tests/data/module09_pool_bn_reference.json: PyTorch's answers for module 09's pooling and
batch normalisation.

Run from anywhere (Debian's python3-torch, hence /usr/bin/python3):

    /usr/bin/python3 tools/reference/gen_module09_pool_bn.py          # writes the file
    /usr/bin/python3 tools/reference/gen_module09_pool_bn.py --check  # fails if the file is stale

The output is deterministic: no random numbers. Every input is a fixed formula (`pattern`), written
out in full. Tensors are {"shape", "dtype", "values" (flat, row-major; NaN as "nan")}.

Cases (one list, "cases"; each has "name" and "op"):

  max_pool2d / avg_pool2d / adaptive_avg_pool2d
        "args" (the functional arguments), "input", "grad_output" g, "output", for max pooling
        "indices", and "grad_input": the gradient of (output * g).sum(). Ties, NaN, padding,
        dilation, ceil_mode, count_include_pad both ways, divisor_override, unbatched 3-d inputs,
        float64; adaptive 7×7 → 1×1, 3×3, 5×5 (overlapping windows), 5×4 → 2×3.
  pool_error
        "pool" (which op), "args", "input_shape", "torch_error": arguments PyTorch rejects; the
        C++ test checks the message fragment "expected_fragment".
  batch_norm
        F.batch_norm: "args" {training, momentum, eps}, "input", "weight"/"bias" (or null),
        "running_mean"/"running_var" before (or null), "grad_output", "output", "grad_input",
        "grad_weight", "grad_bias", and "running_mean_after"/"running_var_after".
  bn_module
        nn.BatchNorm1d/2d: "options", two training steps on "inputs"[0..1] then one eval forward
        on "inputs"[2]: "state_dicts"[k] after step k (key order and values, num_batches_tracked
        int64), and "eval_output".
  repr  repr(module): "expected" is torch's string with True/False spelled true/false
        (TinyTorch prints bools the libtorch way); "torch" is the raw string.
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
OUT = os.path.join(REPO, "tests", "data", "module09_pool_bn_reference.json")

DTYPE_NAMES = {torch.float32: "float32", torch.float64: "float64", torch.int64: "int64"}


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


def pattern(shape, seed, dtype=torch.float32, scale=1.0, offset=0.0):
    """Deterministic values in about offset ± scale: a sine of the index, varied by seed. Distinct
    enough that no two values in a pooling window tie."""
    n = 1
    for s in shape:
        n *= s
    vals = [offset + scale * math.sin(0.7 * i + 1.3 * seed + 0.1) for i in range(n)]
    return torch.tensor(vals, dtype=torch.float64).reshape(shape).to(dtype)


def torch_bools(s):
    return re.sub(r"\b(True|False)\b", lambda m: m.group(1).lower(), s)


# ── pooling ───────────────────────────────────────────────────────────────────────────────────


def pool_case(name, op, x, args, seed):
    x = x.clone().requires_grad_(True)
    if op == "max_pool2d":
        y, idx = F.max_pool2d(x, return_indices=True, **args)
    elif op == "avg_pool2d":
        y, idx = F.avg_pool2d(x, **args), None
    else:
        y, idx = F.adaptive_avg_pool2d(x, **args), None
    g = pattern(list(y.shape), seed + 50, x.dtype)
    (y * g).sum().backward()
    case = {"name": name, "op": op, "args": args, "input": enc(x), "grad_output": enc(g),
            "output": enc(y)}
    if idx is not None:
        case["indices"] = enc(idx)
    case["grad_input"] = enc(x.grad)
    return case


def gen_pooling():
    cases = []
    f64 = torch.float64
    mp = [
        # name, input shape, args, dtype
        ("k2", [2, 3, 6, 6], dict(kernel_size=2), torch.float32),
        ("k3_s2", [2, 2, 7, 7], dict(kernel_size=3, stride=2), torch.float32),
        ("k3_s1_pad1", [1, 2, 5, 5], dict(kernel_size=3, stride=1, padding=1), torch.float32),
        ("k2_pad1", [1, 1, 5, 5], dict(kernel_size=2, stride=2, padding=1), torch.float32),
        ("rect_kernel", [1, 2, 6, 7], dict(kernel_size=(2, 3), stride=(2, 1), padding=(1, 0)),
         torch.float32),
        ("dilation2", [1, 2, 7, 7], dict(kernel_size=3, stride=1, dilation=2), torch.float32),
        ("dilation_pad", [1, 1, 8, 8], dict(kernel_size=3, stride=2, padding=1, dilation=2),
         torch.float32),
        ("ceil_mode", [1, 2, 5, 5], dict(kernel_size=2, stride=2, ceil_mode=True), torch.float32),
        ("ceil_mode_pad", [1, 1, 6, 6], dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
         torch.float32),
        ("ceil_mode_last_window_dropped", [1, 1, 5, 5],
         dict(kernel_size=2, stride=4, padding=1, ceil_mode=True), torch.float32),
        ("unbatched", [3, 4, 4], dict(kernel_size=2), torch.float32),
        ("float64_overlap", [2, 2, 5, 6], dict(kernel_size=3, stride=1), f64),
        ("lenet_28", [1, 3, 28, 28], dict(kernel_size=2, stride=2), torch.float32),
    ]
    for i, (name, shape, args, dtype) in enumerate(mp):
        cases.append(pool_case("max_" + name, "max_pool2d", pattern(shape, i + 1, dtype), args,
                               i + 1))
    # Ties: the first maximum in the window (row-major) wins, and gets the whole gradient.
    ties = torch.tensor([[[[1., 1., 2., 2.], [1., 1., 2., 2.], [3., 0., 5., 5.],
                           [3., 3., 5., 5.]]]])
    cases.append(pool_case("max_ties", "max_pool2d", ties, dict(kernel_size=2), 90))
    cases.append(pool_case("max_ties_overlap", "max_pool2d", ties, dict(kernel_size=2, stride=1),
                           91))
    # NaN wins its window (and the last NaN of a window is the index).
    nan = pattern([1, 1, 4, 4], 92)
    nan[0, 0, 0, 1] = float("nan")
    nan[0, 0, 3, 2] = float("nan")
    nan[0, 0, 3, 3] = float("nan")
    cases.append(pool_case("max_nan", "max_pool2d", nan, dict(kernel_size=2), 92))
    # -inf everywhere: the index is the window's first element.
    cases.append(pool_case("max_all_neg_inf", "max_pool2d",
                           torch.full([1, 1, 4, 4], float("-inf")), dict(kernel_size=2), 93))

    ap = [
        ("k2", [2, 3, 6, 6], dict(kernel_size=2), torch.float32),
        ("k3_s2", [2, 2, 7, 7], dict(kernel_size=3, stride=2), torch.float32),
        ("pad1_include", [1, 2, 5, 5], dict(kernel_size=3, stride=1, padding=1), torch.float32),
        ("pad1_exclude", [1, 2, 5, 5],
         dict(kernel_size=3, stride=1, padding=1, count_include_pad=False), torch.float32),
        ("ceil_include", [1, 1, 5, 5], dict(kernel_size=2, stride=2, ceil_mode=True),
         torch.float32),
        ("ceil_pad_include", [1, 1, 4, 4],
         dict(kernel_size=3, stride=2, padding=1, ceil_mode=True), torch.float32),
        ("ceil_pad_exclude", [1, 1, 4, 4],
         dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
         torch.float32),
        ("ceil_pad_include_6", [1, 2, 6, 6],
         dict(kernel_size=3, stride=2, padding=1, ceil_mode=True), torch.float32),
        ("divisor_override", [1, 2, 6, 6], dict(kernel_size=2, divisor_override=3),
         torch.float32),
        ("divisor_override_pad", [1, 1, 5, 5],
         dict(kernel_size=3, stride=2, padding=1, divisor_override=5), torch.float32),
        ("rect", [1, 2, 6, 7], dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 1)),
         torch.float32),
        ("unbatched", [3, 4, 4], dict(kernel_size=2), torch.float32),
        ("float64_pad_exclude", [2, 2, 5, 6],
         dict(kernel_size=3, stride=2, padding=1, count_include_pad=False), f64),
    ]
    for i, (name, shape, args, dtype) in enumerate(ap):
        cases.append(pool_case("avg_" + name, "avg_pool2d", pattern(shape, i + 20, dtype), args,
                               i + 20))

    ad = [
        ("7x7_to_1x1", [2, 3, 7, 7], (1, 1), torch.float32),
        ("7x7_to_3x3", [1, 2, 7, 7], (3, 3), torch.float32),
        ("7x7_to_5x5", [1, 2, 7, 7], (5, 5), torch.float32),
        ("5x4_to_2x3", [2, 1, 5, 4], (2, 3), torch.float32),
        ("identity", [1, 2, 4, 4], (4, 4), torch.float32),
        ("upsample_3x3_to_5x5", [1, 1, 3, 3], (5, 5), torch.float32),
        ("unbatched", [3, 6, 6], (2, 2), torch.float32),
        ("float64", [2, 2, 7, 5], (3, 2), f64),
    ]
    for i, (name, shape, out, dtype) in enumerate(ad):
        cases.append(pool_case("adaptive_" + name, "adaptive_avg_pool2d",
                               pattern(shape, i + 40, dtype), dict(output_size=list(out)),
                               i + 40))
    return cases


def gen_pool_errors():
    """Arguments PyTorch rejects. expected_fragment: what TinyTorch's message must contain."""
    errors = [
        ("max_pad_too_big", "max_pool2d", [1, 1, 4, 4], dict(kernel_size=3, padding=2),
         "pad should be at most half of kernel size"),
        ("avg_pad_too_big", "avg_pool2d", [1, 1, 4, 4], dict(kernel_size=3, padding=2),
         "pad should be at most half of kernel size"),
        ("max_output_too_small", "max_pool2d", [1, 1, 4, 4], dict(kernel_size=5),
         "Output size is too small"),
        ("avg_output_too_small", "avg_pool2d", [1, 1, 4, 4], dict(kernel_size=5),
         "Output size is too small"),
        ("max_dilation_zero", "max_pool2d", [1, 1, 4, 4], dict(kernel_size=2, dilation=0),
         "dilation should be greater than zero"),
        ("max_stride_zero", "max_pool2d", [1, 1, 4, 4], dict(kernel_size=2, stride=0),
         "stride should be greater than zero"),
        ("max_empty_channels", "max_pool2d", [1, 0, 4, 4], dict(kernel_size=2),
         "Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input"),
        ("max_2d_input", "max_pool2d", [4, 4], dict(kernel_size=2),
         "Expected 3D or 4D (batch mode) tensor"),
        ("avg_divisor_zero", "avg_pool2d", [1, 1, 4, 4], dict(kernel_size=2, divisor_override=0),
         "divisor must be not zero"),
        ("adaptive_2d_input", "adaptive_avg_pool2d", [4, 4], dict(output_size=[2, 2]),
         "Expected 3D or 4D tensor"),
        ("adaptive_negative", "adaptive_avg_pool2d", [1, 1, 4, 4], dict(output_size=[-1, 2]),
         "elements of output_size must be greater than or equal to 0"),
        ("adaptive_empty_height", "adaptive_avg_pool2d", [1, 1, 0, 4], dict(output_size=[2, 2]),
         "Expected input to have non-zero size for non-batch dimensions"),
    ]
    fns = {"max_pool2d": F.max_pool2d, "avg_pool2d": F.avg_pool2d,
           "adaptive_avg_pool2d": F.adaptive_avg_pool2d}
    cases = []
    for name, op, shape, args, fragment in errors:
        try:
            fns[op](torch.zeros(shape), **args)
            raise SystemExit(f"{name}: PyTorch accepted it")
        except (RuntimeError, IndexError, ValueError) as e:
            msg = str(e).split("\n")[0]
        cases.append({"name": "error_" + name, "op": "pool_error", "pool": op, "args": args,
                      "input_shape": shape, "torch_error": msg, "expected_fragment": fragment})
    return cases


# ── batch norm ────────────────────────────────────────────────────────────────────────────────


def bn_case(name, shape, training, momentum=0.1, eps=1e-5, affine=True, running=True,
            dtype=torch.float32, seed=0):
    C = shape[1]
    x = pattern(shape, seed, dtype, scale=2.0, offset=0.5).requires_grad_(True)
    w = pattern([C], seed + 1, dtype, 0.5, 1.0).requires_grad_(True) if affine else None
    b = pattern([C], seed + 2, dtype, 0.3).requires_grad_(True) if affine else None
    rm = pattern([C], seed + 3, dtype, 0.2) if running else None
    rv = pattern([C], seed + 4, dtype, 0.3, 1.0) if running else None
    rm0 = rm.clone() if running else None
    rv0 = rv.clone() if running else None
    y = F.batch_norm(x, rm, rv, w, b, training=training, momentum=momentum, eps=eps)
    g = pattern(list(y.shape), seed + 5, dtype)
    (y * g).sum().backward()
    return {
        "name": name, "op": "batch_norm",
        "args": {"training": training, "momentum": momentum, "eps": eps},
        "input": enc(x), "weight": enc(w), "bias": enc(b),
        "running_mean": enc(rm0), "running_var": enc(rv0), "grad_output": enc(g),
        "output": enc(y), "grad_input": enc(x.grad),
        "grad_weight": enc(w.grad) if affine else None,
        "grad_bias": enc(b.grad) if affine else None,
        "running_mean_after": enc(rm), "running_var_after": enc(rv),
    }


def gen_batch_norm():
    f64 = torch.float64
    return [
        bn_case("train_2d", [4, 3, 5, 5], True, seed=1),
        bn_case("train_1d", [6, 4], True, seed=2),
        bn_case("train_3d_seq", [3, 2, 7], True, seed=3),
        bn_case("train_momentum_0_3_eps_1e-3", [2, 3, 4, 4], True, momentum=0.3, eps=1e-3,
                seed=4),
        bn_case("train_no_affine", [4, 3, 3, 3], True, affine=False, seed=5),
        bn_case("train_no_running_stats", [4, 3, 3, 3], True, running=False, seed=6),
        bn_case("train_n1_spatial", [1, 3, 4, 4], True, seed=7),
        bn_case("train_float64", [3, 2, 4, 5], True, dtype=f64, seed=8),
        bn_case("eval_2d", [4, 3, 5, 5], False, seed=9),
        bn_case("eval_no_affine", [2, 3, 4, 4], False, affine=False, seed=10),
        bn_case("eval_float64", [3, 2, 4, 5], False, dtype=f64, seed=11),
        bn_case("eval_batch_of_one", [1, 3, 1, 1], False, seed=12),
    ]


def gen_bn_modules():
    configs = [
        # name, class, C, kwargs, input shape
        ("bn2d_momentum_0_1", nn.BatchNorm2d, 3, {}, [4, 3, 5, 5]),
        ("bn2d_momentum_none", nn.BatchNorm2d, 3, {"momentum": None}, [4, 3, 5, 5]),
        ("bn2d_no_affine", nn.BatchNorm2d, 2, {"affine": False}, [3, 2, 4, 4]),
        ("bn2d_no_running_stats", nn.BatchNorm2d, 2, {"track_running_stats": False},
         [3, 2, 4, 4]),
        ("bn1d_features", nn.BatchNorm1d, 4, {}, [8, 4]),
        ("bn1d_sequence_momentum_none", nn.BatchNorm1d, 3, {"momentum": None, "eps": 1e-3},
         [2, 3, 6]),
    ]
    cases = []
    for i, (name, cls, C, kwargs, shape) in enumerate(configs):
        m = cls(C, **kwargs)
        if m.affine:
            with torch.no_grad():
                m.weight.copy_(pattern([C], 100 + i, scale=0.5, offset=1.0))
                m.bias.copy_(pattern([C], 110 + i, scale=0.3))
        inputs = [pattern(shape, 120 + 3 * i + k, scale=1.5, offset=0.2 * k) for k in range(3)]
        m.train()
        state_dicts = []
        for k in range(2):
            m(inputs[k])
            state_dicts.append([{"key": key, "tensor": enc(v)}
                                for key, v in m.state_dict().items()])
        m.eval()
        out = m(inputs[2])
        cases.append({
            "name": name, "op": "bn_module", "module": cls.__name__, "num_features": C,
            "options": {"eps": m.eps, "momentum": m.momentum, "affine": m.affine,
                        "track_running_stats": m.track_running_stats},
            "weight": enc(m.weight) if m.affine else None,
            "bias": enc(m.bias) if m.affine else None,
            "inputs": [enc(t) for t in inputs], "state_dicts": state_dicts,
            "eval_output": enc(out),
        })
    return cases


def gen_repr():
    mods = [
        ("maxpool_2", nn.MaxPool2d(2)),
        ("maxpool_3_s2_p1", nn.MaxPool2d(3, stride=2, padding=1)),
        ("maxpool_rect", nn.MaxPool2d((2, 3), stride=1, padding=(1, 0), dilation=2,
                                      ceil_mode=True)),
        ("avgpool_2", nn.AvgPool2d(2)),
        ("avgpool_3_s1_p1", nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)),
        ("adaptive_1x1", nn.AdaptiveAvgPool2d((1, 1))),
        ("adaptive_3x2", nn.AdaptiveAvgPool2d((3, 2))),
        ("bn2d_16", nn.BatchNorm2d(16)),
        ("bn2d_options", nn.BatchNorm2d(8, eps=1e-3, momentum=None, affine=False,
                                        track_running_stats=False)),
        ("bn1d_4", nn.BatchNorm1d(4, momentum=0.01)),
        ("cnn_block", nn.Sequential(nn.BatchNorm2d(6), nn.ReLU(), nn.MaxPool2d(2, 2),
                                    nn.AdaptiveAvgPool2d((1, 1)))),
    ]
    return [{"name": "repr_" + n, "op": "repr", "torch": repr(m), "expected": torch_bools(repr(m))}
            for n, m in mods]


def main():
    opts = command_line(__doc__, OUT)
    cases = gen_pooling() + gen_pool_errors() + gen_batch_norm() + gen_bn_modules() + gen_repr()
    doc = {**header(__file__), "cases": cases}
    return write_or_check(opts.out, one_case_per_line(doc), opts.check, f"{len(cases)} cases")


if __name__ == "__main__":
    sys.exit(main())
