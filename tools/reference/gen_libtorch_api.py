#!/usr/bin/python3
"""Writes tests/data/libtorch_api_reference.json: PyTorch's answers for the libtorch calls
tests/libtorch/test_api_gaps.cpp checks — torch::floor_divide, torch::frobenius_norm,
torch::repeat_interleave, torch::where(condition), F::normalize,
nn::utils::parameters_to_vector, and the learning rates ReduceLROnPlateau sets for a sequence of
metrics.

Run from anywhere (Debian's python3-torch, hence /usr/bin/python3):

    /usr/bin/python3 tools/reference/gen_libtorch_api.py          # writes the file
    /usr/bin/python3 tools/reference/gen_libtorch_api.py --check  # fails if the file is stale

Deterministic: tensors are gen_module09_conv.py's `pattern` (a sine of the index) or written out.
Each case is

    {"name", "op", "inputs": [tensor, ...], "args": {...},
     "expected": [tensor, ...]              every output, in order
     "grad_output", "expected_grad"}        for a differentiable op: the gradient of
                                            sum(out * grad_output) w.r.t. inputs[0]

and a "plateau" case {"name", "op": "plateau", "args": {mode, factor, patience, threshold,
threshold_mode, cooldown, min_lr, eps}, "lrs": [lr of each group], "metrics": [...],
"expected": [[lr of each group after each step], ...]}. The plateau cases stay where libtorch's
C++ scheduler and Python's agree (see reduce_on_plateau_scheduler.h): mode min, and mode max
with rel thresholds on positive metrics.
"""

import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from refdata import command_line, header, one_case_per_line, write_or_check  # noqa: E402
from gen_module01 import DTYPE_NAMES, enc_number  # noqa: E402
from gen_module09_conv import pattern  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(REPO, "tests", "data", "libtorch_api_reference.json")

CASES = []


def enc(t):
    """gen_module01's tensor encoding (NaN and the infinities as strings), int32 included."""
    t = t.detach()
    dtype = "int32" if t.dtype == torch.int32 else DTYPE_NAMES[t.dtype]
    flat = t.reshape(-1).tolist() if t.dim() > 0 else [t.item()]
    return {"shape": list(t.shape), "dtype": dtype,
            "values": [enc_number(v, "int64" if dtype == "int32" else dtype) for v in flat]}


def case(name, op, inputs, args, fn, grad=False):
    """Runs fn(*inputs) and records its outputs; with grad, the gradient w.r.t. inputs[0]."""
    x = [t.clone().requires_grad_(grad and i == 0) for i, t in enumerate(inputs)]
    out = fn(*x)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    c = {"name": name, "op": op, "inputs": [enc(t) for t in inputs], "args": args,
         "expected": [enc(o) for o in outs]}
    if grad:
        go = pattern(list(outs[0].shape), 7, outs[0].dtype)
        (g,) = torch.autograd.grad((outs[0] * go).sum(), x[0])
        c["grad_output"] = enc(go)
        c["expected_grad"] = enc(g)
    CASES.append(c)


def floor_divide_cases():
    a = torch.tensor([-7.0, 7.0, -7.5, 5.0, 0.5, -0.5, 3.0, -3.0])
    b = torch.tensor([2.0, -2.0, 2.0, 0.0, 1.0, 1.0, -1.5, 0.0])
    case("floor_divide_float", "floor_divide", [a, b], {}, torch.floor_divide)
    ai = torch.tensor([-7, 7, -8, 8, 0, -1, 9], dtype=torch.int64)
    bi = torch.tensor([2, -2, 3, -3, 5, 4, -1], dtype=torch.int64)
    case("floor_divide_int", "floor_divide", [ai, bi], {}, torch.floor_divide)
    # 1 // 0.1 is 9 (0.1 is a little above a tenth), though 1 / 0.1 rounds to 10
    d = torch.tensor([1.0, -1.0, 0.7, 5.0], dtype=torch.float64)
    case("floor_divide_scalar_float64", "floor_divide_scalar", [d], {"other": 0.1},
         lambda x: torch.floor_divide(x, 0.1))
    case("floor_divide_scalar_int", "floor_divide_scalar", [ai], {"other": 3},
         lambda x: torch.floor_divide(x, 3))
    case("floor_divide_int_by_float", "floor_divide_scalar", [ai], {"other": 2.5},
         lambda x: torch.floor_divide(x, 2.5))
    x = pattern([2, 3], 1, scale=4.0)
    y = pattern([3], 2, scale=2.0)
    case("floor_divide_broadcast", "floor_divide", [x, y], {}, torch.floor_divide)


def frobenius_cases():
    x = pattern([2, 3, 2], 3, torch.float64)
    case("frobenius_all", "frobenius_norm", [x], {}, torch.frobenius_norm, grad=True)
    for dim, keepdim in (([0], False), ([-1, 0], False), ([1, 2], True), ([], True)):
        case(f"frobenius_dim{dim}_keep{keepdim}", "frobenius_norm_dim", [x],
             {"dim": dim, "keepdim": keepdim},
             lambda t, dim=dim, keepdim=keepdim: torch.frobenius_norm(t, dim, keepdim), grad=True)


def repeat_interleave_cases():
    x = pattern([2, 3], 4, torch.float64)
    case("repeat_interleave_int_flat", "repeat_interleave_int", [x], {"repeats": 2, "dim": None},
         lambda t: torch.repeat_interleave(t, 2), grad=True)
    case("repeat_interleave_int_dim0", "repeat_interleave_int", [x], {"repeats": 3, "dim": 0},
         lambda t: torch.repeat_interleave(t, 3, 0), grad=True)
    r = torch.tensor([1, 0, 2])
    case("repeat_interleave_tensor_dim1", "repeat_interleave_tensor", [x, r], {"dim": 1},
         lambda t, rr: torch.repeat_interleave(t, rr, 1), grad=True)
    r1 = torch.tensor([2])
    case("repeat_interleave_one_count_dim_neg1", "repeat_interleave_tensor", [x, r1], {"dim": -1},
         lambda t, rr: torch.repeat_interleave(t, rr, -1), grad=True)
    r6 = torch.tensor([0, 1, 2, 0, 1, 3])
    case("repeat_interleave_tensor_flat", "repeat_interleave_tensor", [x, r6], {"dim": None},
         lambda t, rr: torch.repeat_interleave(t, rr), grad=True)
    case("repeat_interleave_counts", "repeat_interleave_counts", [torch.tensor([1, 0, 2, 3])], {},
         torch.repeat_interleave)
    case("repeat_interleave_counts_int32", "repeat_interleave_counts",
         [torch.tensor([2, 1], dtype=torch.int32)], {}, torch.repeat_interleave)


def where_cases():
    m = torch.tensor([[1.0, 0.0, -2.0], [0.0, 0.0, 3.0]])
    case("where_2d", "where_condition", [m], {}, torch.where)
    b = pattern([2, 2, 3], 5) > 0.2
    case("where_3d_bool", "where_condition", [b], {}, torch.where)
    case("where_0d_true", "where_condition", [torch.tensor(True)], {}, torch.where)
    case("where_0d_zero", "where_condition", [torch.tensor(0)], {}, torch.where)


def normalize_cases():
    x = pattern([3, 4], 6, torch.float64)
    x[1] = 0.0  # a zero row: divided by eps, not by 0
    case("normalize_default", "normalize", [x], {"p": 2.0, "dim": 1, "eps": 1e-12},
         lambda t: F.normalize(t), grad=True)
    y = pattern([2, 3, 2], 8, torch.float64)
    case("normalize_p1_dim0", "normalize", [y], {"p": 1.0, "dim": 0, "eps": 1e-12},
         lambda t: F.normalize(t, p=1.0, dim=0), grad=True)
    case("normalize_p3_eps", "normalize", [y], {"p": 3.0, "dim": -1, "eps": 0.5},
         lambda t: F.normalize(t, p=3.0, dim=-1, eps=0.5), grad=True)
    z = pattern([2, 5], 9)
    case("normalize_float32", "normalize", [z], {"p": 2.0, "dim": 1, "eps": 1e-12},
         lambda t: F.normalize(t))


def parameters_to_vector_cases():
    w = pattern([4, 3], 10)
    b = pattern([4], 11)
    case("parameters_to_vector", "parameters_to_vector", [w, b], {},
         lambda *ps: torch.nn.utils.parameters_to_vector(ps))


def plateau_case(name, metrics, lrs, mode="min", factor=0.1, patience=10, threshold=1e-4,
                 threshold_mode="rel", cooldown=0, min_lr=None, eps=1e-8):
    params = [torch.zeros(1, requires_grad=True) for _ in lrs]
    opt = torch.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, lrs)], lr=lrs[0])
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(
        opt, mode=mode, factor=factor, patience=patience, threshold=threshold,
        threshold_mode=threshold_mode, cooldown=cooldown,
        min_lr=min_lr if min_lr is not None else 0, eps=eps)
    expected = []
    for m in metrics:
        sched.step(m)
        expected.append([g["lr"] for g in opt.param_groups])
    CASES.append({"name": name, "op": "plateau",
                  "args": {"mode": mode, "factor": factor, "patience": patience,
                           "threshold": threshold, "threshold_mode": threshold_mode,
                           "cooldown": cooldown, "min_lr": min_lr or [], "eps": eps},
                  "lrs": lrs, "metrics": metrics, "expected": expected})


def plateau_cases():
    falling_then_flat = [1.0, 0.8, 0.7, 0.7, 0.69999, 0.71, 0.72, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5,
                         0.5, 0.5, 0.5]
    plateau_case("plateau_min_rel", falling_then_flat, [0.1], factor=0.5, patience=2)
    plateau_case("plateau_min_abs_cooldown_min_lr", falling_then_flat, [0.1, 0.04],
                 factor=0.5, patience=1, threshold=0.05, threshold_mode="abs", cooldown=2,
                 min_lr=[0.01, 0.02])
    accuracy = [0.5, 0.6, 0.6, 0.6, 0.65, 0.65, 0.65, 0.65, 0.7, 0.7, 0.7, 0.7, 0.7]
    plateau_case("plateau_max_rel", accuracy, [0.2], mode="max", factor=0.25, patience=1,
                 threshold=0.01)
    # a reduction smaller than eps is skipped
    plateau_case("plateau_eps", [3.0] * 12, [1e-3, 2e-7], factor=0.5, patience=0, eps=1e-7)
    plateau_case("plateau_defaults", [2.0 - 0.01 * i for i in range(5)] + [1.99] * 20, [0.1])


def main():
    opts = command_line(__doc__, OUT)
    floor_divide_cases()
    frobenius_cases()
    repeat_interleave_cases()
    where_cases()
    normalize_cases()
    parameters_to_vector_cases()
    plateau_cases()
    doc = {**header(__file__), "cases": CASES}
    return write_or_check(opts.out, one_case_per_line(doc), opts.check, f"{len(CASES)} cases")


if __name__ == "__main__":
    sys.exit(main())
