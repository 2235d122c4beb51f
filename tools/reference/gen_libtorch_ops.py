#!/usr/bin/python3
"""Writes tests/data/libtorch_ops_reference.json: PyTorch's answers for the ops that libtorch
programs use beyond the chapters' own: sort/argsort/topk, cumsum/cumprod, tril/triu, norm,
all/any, sin/cos/log1p (module 01's tests), repeat/flip/roll/diag/meshgrid, bmm/baddbmm/addmm/
outer/einsum, std/prod/logsumexp, one_hot and unique (module 01's test_tensor_api.cpp, group "tensor_api"), the further element-wise ops (group "math"), smooth_l1/huber and [N, C, d1, ...]
cross_entropy/nll_loss (module 04's), pad and interpolate (module 09's), and the activations
past module 02's: softplus, elu, selu, celu, hardtanh, relu6, mish, hardswish, hardsigmoid
(group "activation", module 02's test_libtorch_activations.cpp).

Run from anywhere (Debian's python3-torch, hence /usr/bin/python3):

    /usr/bin/python3 tools/reference/gen_libtorch_ops.py          # writes the file
    /usr/bin/python3 tools/reference/gen_libtorch_ops.py --check  # fails if the file is stale

Deterministic: inputs are fixed integer formulas (gen_module01.py's pattern and its encoding).
Each case is

    {"name", "group": "tensor" | "tensor_api" | "loss" | "spatial", "op", "inputs": [tensor, ...], "args": {...},
     "expected": [tensor, ...]                   every output of the op, in order
     "grad_output": tensor, "expected_grad": tensor
                                                 for a floating first input: the gradient of
                                                 sum(out[0] * grad_output) w.r.t. it, by autograd
     or "error": true, "torch_error": "..."}     (PyTorch rejects the arguments)

and "rtol"/"atol" where float32 rounding needs them.
"""

import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from refdata import command_line, header, one_case_per_line, write_or_check  # noqa: E402
from gen_module01 import T, enc_tensor, numel  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(REPO, "tests", "data", "libtorch_ops_reference.json")

CASES = []
NAMES = set()


def distinct(shape, seed=0, dtype="float32"):
    """Pairwise-distinct values (no ties: sort and topk indices are then unique)."""
    n = numel(shape)
    m = 2 * n + 3
    while m <= 7 or any(m % d == 0 for d in range(2, int(m ** 0.5) + 1)):
        m += 1  # a prime m > 7: i → 5·i mod m is one-to-one on [0, n)
    return T(shape, dtype, [((i * 5 + seed * 3) % m - m // 2) * 0.25 + 0.125 for i in range(n)])


def with_ties(shape, seed=0, dtype="float32"):
    """Few distinct values: many ties (stability of sort shows)."""
    n = numel(shape)
    return T(shape, dtype, [float((i * 5 + seed) % 4 - 1) for i in range(n)])


def positive(shape, seed=0, dtype="float32"):
    n = numel(shape)
    return T(shape, dtype, [0.5 + ((i * 7 + seed) % 9) * 0.25 for i in range(n)])


def ints(shape, seed=0, lo=-3, hi=4):
    n = numel(shape)
    return T(shape, "int64", [lo + (i * 5 + seed) % (hi - lo) for i in range(n)])


def classes(shape, c, seed=0, ignore=None):
    n = numel(shape)
    vals = [(i * 3 + seed) % c for i in range(n)]
    if ignore is not None:
        vals = [ignore if i % 5 == 2 else v for i, v in enumerate(vals)]
    return T(shape, "int64", vals)


UNARY_MATH = ("floor", "ceil", "round", "trunc", "sign", "frac", "reciprocal", "rsqrt", "square",
              "erf", "expm1", "log2", "log10", "tan", "asin", "acos", "atan", "sinh", "cosh")

REDUCTIONS = {"none": "none", "mean": "mean", "sum": "sum"}

# F.<op>(x, **args); args are libtorch's option names, which are F's keyword arguments.
ACTIVATIONS = ("softplus", "elu", "selu", "celu", "hardtanh", "relu6", "mish", "hardswish",
               "hardsigmoid")


def run(op, ins, args):
    """The op in PyTorch: a tuple of output tensors."""
    if op == "linspace":  # a factory: no input
        dtype = getattr(torch, args.get("dtype", "float32"))
        return (torch.linspace(args["start"], args["end"], args["steps"], dtype=dtype),)
    x = ins[0]
    if op == "sort":
        v, i = torch.sort(x, dim=args["dim"], descending=args["descending"], stable=True)
        return (v, i)
    if op == "argsort":
        return (torch.sort(x, dim=args["dim"], descending=args["descending"], stable=True)[1],)
    if op == "topk":
        v, i = torch.topk(x, args["k"], dim=args["dim"], largest=args["largest"], sorted=True)
        return (v, i)
    if op == "cumsum":
        dtype = {"float64": torch.float64, "int64": torch.int64, None: None}[args.get("dtype")]
        return (torch.cumsum(x, args["dim"], dtype=dtype),)
    if op == "cumprod":
        return (torch.cumprod(x, args["dim"]),)
    if op == "tril":
        return (torch.tril(x, args["diagonal"]),)
    if op == "triu":
        return (torch.triu(x, args["diagonal"]),)
    if op == "norm":
        p = args["p"]
        p = float(p) if isinstance(p, str) else p  # "inf" / "-inf"
        if "dim" in args:
            return (torch.norm(x, p=p, dim=args["dim"], keepdim=args["keepdim"]),)
        return (torch.norm(x, p=p),)
    if op in ("sin", "cos", "log1p") + UNARY_MATH + ("isnan", "isinf", "isfinite", "logical_not"):
        return (getattr(torch, op)(x),)
    if op in ("fmod", "remainder"):
        other = args["other"] if "other" in args else ins[1]
        return (getattr(torch, op)(x, other),)
    if op in ("atan2", "logical_and", "logical_or", "logical_xor"):
        return (getattr(torch, op)(x, ins[1]),)
    if op == "lerp":
        return (torch.lerp(x, ins[1], args["weight"] if "weight" in args else ins[2]),)
    if op in ("addcmul", "addcdiv"):
        return (getattr(torch, op)(x, ins[1], ins[2], value=args["value"]),)
    if op == "nan_to_num":
        return (torch.nan_to_num(x, **args),)
    if op == "masked_fill":
        return (x.masked_fill(ins[1], args["value"]),)
    if op == "index_fill":
        return (x.index_fill(args["dim"], ins[1], args["value"]),)
    if op == "split":
        return tuple(torch.split(x, args["split_size"], dim=args["dim"]))
    if op == "chunk":
        return tuple(torch.chunk(x, args["chunks"], dim=args["dim"]))
    if op in ("all", "any"):
        fn = torch.all if op == "all" else torch.any
        if "dim" in args:
            return (fn(x, dim=args["dim"], keepdim=args["keepdim"]),)
        return (fn(x),)
    # group "tensor_api" (modules/01_tensor/tests/test_tensor_api.cpp)
    if op == "repeat":
        return (x.repeat(*args["repeats"]),)
    if op == "flip":
        return (torch.flip(x, args["dims"]),)
    if op == "roll":
        if "dims" in args:
            return (torch.roll(x, args["shifts"], args["dims"]),)
        return (torch.roll(x, args["shifts"]),)
    if op == "diag":
        return (torch.diag(x, args["diagonal"]),)
    if op == "meshgrid":
        return tuple(torch.meshgrid(*ins, indexing=args["indexing"]))
    if op == "bmm":
        return (torch.bmm(x, ins[1]),)
    if op in ("baddbmm", "addmm"):
        return (getattr(torch, op)(x, ins[1], ins[2], beta=args["beta"], alpha=args["alpha"]),)
    if op == "outer":
        return (torch.outer(x, ins[1]),)
    if op == "einsum":
        return (torch.einsum(args["equation"], *ins),)
    if op == "std":
        if "dim" in args:
            return (torch.std(x, args["dim"], unbiased=args["unbiased"], keepdim=args["keepdim"]),)
        return (torch.std(x, unbiased=args["unbiased"]),)
    if op == "prod":
        if "dim" in args:
            return (torch.prod(x, args["dim"], keepdim=args["keepdim"]),)
        return (torch.prod(x),)
    if op == "logsumexp":
        return (torch.logsumexp(x, args["dim"], keepdim=args["keepdim"]),)
    if op == "one_hot":
        return (F.one_hot(x, args["num_classes"]),)
    if op == "unique":
        return torch._unique2(x, True, args["return_inverse"], args["return_counts"])
    if op == "unique_consecutive":
        return torch._C._VariableFunctions.unique_consecutive(x, return_inverse=True, return_counts=True,
                                                              dim=args.get("dim"))
    if op == "unique_dim":  # libtorch's: inverse and counts always come back
        return torch._C._VariableFunctions.unique_dim(x, args["dim"], True, False, False)
    if op == "smooth_l1_loss":
        return (F.smooth_l1_loss(x, ins[1], reduction=args["reduction"], beta=args["beta"]),)
    if op == "huber_loss":
        return (F.huber_loss(x, ins[1], reduction=args["reduction"], delta=args["delta"]),)
    if op == "binary_cross_entropy_with_logits":  # inputs: x, y, then weight / pos_weight per args
        extra = dict(zip(args["weights"], ins[2:]))
        return (F.binary_cross_entropy_with_logits(x, ins[1], reduction=args["reduction"], **extra),)
    if op in ("cross_entropy", "nll_loss"):
        w = ins[2] if len(ins) > 2 else None
        kw = dict(weight=w, reduction=args["reduction"], ignore_index=args.get("ignore_index", -100))
        if op == "cross_entropy":
            return (F.cross_entropy(x, ins[1], label_smoothing=args.get("label_smoothing", 0.0), **kw),)
        return (F.nll_loss(x, ins[1], **kw),)
    if op == "pad":
        if args["mode"] == "constant":
            return (F.pad(x, args["pad"], mode="constant", value=args.get("value", 0.0)),)
        return (F.pad(x, args["pad"], mode=args["mode"]),)
    if op in ACTIVATIONS:
        return (getattr(F, op)(x, **args),)
    if op == "interpolate":
        kw = {"mode": args["mode"]}
        if "size" in args:
            kw["size"] = args["size"]
        if "scale_factor" in args:
            kw["scale_factor"] = args["scale_factor"]
        if "align_corners" in args:
            kw["align_corners"] = args["align_corners"]
        return (F.interpolate(x, **kw),)
    raise ValueError(op)


def case(group, name, op, inputs, args, grad=True, expect_error=False, rtol=None, atol=None):
    assert name not in NAMES, name
    NAMES.add(name)
    c = {"name": name, "group": group, "op": op, "inputs": [i.enc() for i in inputs], "args": args}
    ins = [i.torch() for i in inputs]
    leaf = None
    if grad and ins and ins[0].is_floating_point():
        leaf = ins[0].detach().clone().requires_grad_(True)
        ins[0] = leaf
    try:
        outs = run(op, ins, args)
    except (RuntimeError, IndexError, ValueError) as e:
        if not expect_error:
            raise RuntimeError(f"case {name}: PyTorch raised unexpectedly: {e}") from e
        c["error"] = True
        c["torch_error"] = str(e).split("\n")[0][:200]
        CASES.append(c)
        return
    if expect_error:
        raise RuntimeError(f"case {name}: expected PyTorch to raise")
    c["expected"] = [enc_tensor(o.detach()) for o in outs]
    if leaf is not None and outs[0].requires_grad:
        out = outs[0]
        n = out.numel()
        gvals = [((k * 3) % 7 - 3) * 0.5 + 0.25 for k in range(n)]
        g = torch.tensor(gvals, dtype=out.dtype).reshape(out.shape)
        (out * g).sum().backward()
        c["grad_output"] = enc_tensor(g)
        # (norm with p = 0 leaves no gradient at all: it is zero everywhere.)
        grad = leaf.grad if leaf.grad is not None else torch.zeros_like(leaf)
        c["expected_grad"] = enc_tensor(grad)
    if rtol is not None:
        c["rtol"] = rtol
    if atol is not None:
        c["atol"] = atol
    CASES.append(c)


def tensor_cases():
    g = "tensor"
    for dt in ("float32", "float64"):
        case(g, f"sort_last_{dt}", "sort", [distinct([3, 5], 1, dt)], {"dim": -1, "descending": False})
        case(g, f"sort_dim0_desc_{dt}", "sort", [distinct([4, 3], 2, dt)], {"dim": 0, "descending": True})
    case(g, "sort_ties_stable", "sort", [with_ties([2, 9])], {"dim": 1, "descending": False})
    case(g, "sort_ties_stable_desc", "sort", [with_ties([2, 9], 1)], {"dim": 1, "descending": True})
    case(g, "sort_3d_middle", "sort", [distinct([2, 4, 3], 3)], {"dim": 1, "descending": False})
    case(g, "sort_noncontiguous", "sort", [T([3, 4], "float32", distinct([3, 4], 4).values, view=[["t"]])],
         {"dim": 1, "descending": True})
    case(g, "sort_nan", "sort", [T([6], "float32", [1.5, float("nan"), -2.0, 0.5, float("nan"), 3.0])],
         {"dim": 0, "descending": False}, grad=False)
    case(g, "sort_nan_desc", "sort", [T([6], "float32", [1.5, float("nan"), -2.0, 0.5, float("nan"), 3.0])],
         {"dim": 0, "descending": True}, grad=False)
    case(g, "sort_int64", "sort", [ints([3, 4])], {"dim": 1, "descending": False})
    case(g, "sort_0d", "sort", [T([], "float32", [2.5])], {"dim": 0, "descending": False})
    case(g, "sort_bad_dim", "sort", [distinct([2, 3])], {"dim": 2, "descending": False}, expect_error=True)
    case(g, "argsort_desc", "argsort", [with_ties([3, 5], 2)], {"dim": 1, "descending": True})
    case(g, "argsort_dim0", "argsort", [distinct([4, 2], 5)], {"dim": 0, "descending": False})
    for largest in (True, False):
        case(g, f"topk_k2_{'largest' if largest else 'smallest'}", "topk", [distinct([3, 6], 6)],
             {"k": 2, "dim": 1, "largest": largest})
    case(g, "topk_dim0", "topk", [distinct([5, 3], 7, "float64")], {"k": 3, "dim": 0, "largest": True})
    case(g, "topk_all", "topk", [distinct([4], 8)], {"k": 4, "dim": 0, "largest": True})
    case(g, "topk_zero", "topk", [distinct([2, 4], 9)], {"k": 0, "dim": 1, "largest": True}, grad=False)
    case(g, "topk_k_too_large", "topk", [distinct([2, 4])], {"k": 5, "dim": 1, "largest": True},
         expect_error=True)
    for dt in ("float32", "float64"):
        case(g, f"cumsum_dim1_{dt}", "cumsum", [distinct([3, 5], 10, dt)], {"dim": 1})
    case(g, "cumsum_dim0_3d", "cumsum", [distinct([4, 2, 3], 11)], {"dim": 0})
    case(g, "cumsum_neg_dim", "cumsum", [distinct([2, 3, 4], 12, "float64")], {"dim": -2})
    case(g, "cumsum_int64", "cumsum", [ints([2, 5])], {"dim": 1})
    case(g, "cumsum_bool", "cumsum", [T([6], "bool")], {"dim": 0})
    case(g, "cumsum_dtype_float64", "cumsum", [distinct([2, 4], 13)], {"dim": 1, "dtype": "float64"})
    case(g, "cumsum_noncontiguous", "cumsum", [T([3, 4], "float64", distinct([3, 4], 14).values, view=[["t"]])],
         {"dim": 1})
    case(g, "cumprod_dim1", "cumprod", [positive([3, 4], 15, "float64")], {"dim": 1})
    case(g, "cumprod_with_zeros", "cumprod", [T([2, 5], "float64", [1.5, 0.0, 2.0, -1.0, 0.5,
                                                                     2.0, -0.5, 0.0, 0.0, 3.0])], {"dim": 1})
    case(g, "cumprod_zero_first", "cumprod", [T([4], "float64", [0.0, 2.0, -3.0, 0.5])], {"dim": 0})
    case(g, "cumprod_int64", "cumprod", [ints([2, 4], 1, 1, 4)], {"dim": 1})
    for diag in (0, 1, -1, 5, -5):
        case(g, f"tril_{diag}", "tril", [distinct([4, 5], 16)], {"diagonal": diag})
        case(g, f"triu_{diag}", "triu", [distinct([4, 5], 17)], {"diagonal": diag})
    case(g, "tril_batched", "tril", [distinct([2, 3, 3], 18, "float64")], {"diagonal": 0})
    case(g, "triu_batched_wide", "triu", [distinct([2, 2, 4], 19)], {"diagonal": 1})
    case(g, "tril_int64", "tril", [ints([3, 3])], {"diagonal": 0})
    case(g, "tril_1d", "tril", [distinct([4])], {"diagonal": 0}, expect_error=True)
    x = distinct([3, 4], 20)
    for p, tag in ((2, "2"), (1, "1"), ("inf", "inf"), ("-inf", "neginf"), (0, "0"), (3, "3"), (0.5, "half")):
        case(g, f"norm_all_p{tag}", "norm", [x], {"p": p}, rtol=1e-5)
        case(g, f"norm_dim1_p{tag}", "norm", [x], {"p": p, "dim": [1], "keepdim": False}, rtol=1e-5)
    case(g, "norm_dims_keepdim", "norm", [distinct([2, 3, 4], 21, "float64")],
         {"p": 2, "dim": [0, 2], "keepdim": True})
    case(g, "norm_inf_ties", "norm", [T([2, 3], "float64", [1.0, -3.0, 3.0, 2.0, -2.0, 0.5])],
         {"p": "inf", "dim": [1], "keepdim": False})
    case(g, "norm_zero_row", "norm", [T([2, 3], "float64", [0.0, 0.0, 0.0, 1.0, 2.0, 2.0])],
         {"p": 2, "dim": [1], "keepdim": True})
    case(g, "norm_int", "norm", [ints([2, 2])], {"p": 2}, expect_error=True)
    b = T([3, 4], "bool", [bool((i * 7) % 5) for i in range(12)])
    f = T([2, 3], "float32", [1.0, 0.0, float("nan"), 2.0, 3.0, -1.0])
    for op in ("all", "any"):
        case(g, f"{op}_bool", op, [b], {})
        case(g, f"{op}_bool_dim0", op, [b], {"dim": 0, "keepdim": False})
        case(g, f"{op}_bool_dim1_keepdim", op, [b], {"dim": 1, "keepdim": True})
        case(g, f"{op}_float_dim1", op, [f], {"dim": 1, "keepdim": False})
        case(g, f"{op}_int", op, [ints([2, 3], 2)], {})
        case(g, f"{op}_empty", op, [T([0], "float32", [])], {})
    for op in ("sin", "cos", "log1p"):
        for dt in ("float32", "float64"):
            x = positive([3, 4], 3, dt) if op == "log1p" else distinct([3, 4], 3, dt)
            case(g, f"{op}_{dt}", op, [x], {})
        case(g, f"{op}_noncontiguous", op,
             [T([3, 4], "float64", distinct([3, 4], 4).values, view=[["t"]])], {})
        case(g, f"{op}_int64_promotes", op, [ints([2, 3], 1, 0, 5)], {})  # to float32
        case(g, f"{op}_bool_promotes", op, [T([4], "bool", [True, False, True, True])], {})
        case(g, f"{op}_0d", op, [T([], "float64", [0.75])], {})
        case(g, f"{op}_empty", op, [T([0], "float32", [])], {})
    # log1p near 0, where ln(1 + x) would lose x's digits; in (−1, 0); and its edges: −1 → −inf,
    # below −1 → nan, +inf → +inf (no gradient there: it is infinite or undefined).
    case(g, "log1p_tiny", "log1p", [T([4], "float64", [1e-12, -3e-15, 2.5e-9, 0.0])], {})
    case(g, "log1p_tiny_float32", "log1p", [T([3], "float32", [1e-7, -2e-8, 3e-6])], {})
    case(g, "log1p_negative", "log1p", [T([4], "float64", [-0.5, -0.25, -0.875, -0.125])], {})
    case(g, "log1p_edges", "log1p", [T([4], "float64", [-1.0, -2.0, float("inf"), float("nan")])],
         {}, grad=False)
    case(g, "sin_large", "sin", [T([3], "float64", [1e5, -314.159, 1e3])], {})
    case(g, "cos_large", "cos", [T([3], "float64", [1e5, -314.159, 1e3])], {})
    # linspace: the two halves computed from their own ends; integer outputs truncate.
    for name, a in (("linspace_5", {"start": 0, "end": 1, "steps": 5}),
                    ("linspace_7_float32", {"start": 0.1, "end": 0.7, "steps": 7}),
                    ("linspace_float64", {"start": -1, "end": 1, "steps": 4, "dtype": "float64"}),
                    ("linspace_descending", {"start": 3.5, "end": -2.25, "steps": 6}),
                    ("linspace_int64", {"start": 0, "end": 10, "steps": 4, "dtype": "int64"}),
                    ("linspace_int64_negative", {"start": 0, "end": -7, "steps": 5, "dtype": "int64"}),
                    ("linspace_one", {"start": 2.5, "end": -1, "steps": 1}),
                    ("linspace_zero", {"start": 0, "end": 1, "steps": 0})):
        case(g, name, "linspace", [], a, grad=False)
    case(g, "linspace_negative_steps", "linspace", [], {"start": 0, "end": 1, "steps": -1}, grad=False,
         expect_error=True)
    # split / chunk: every piece's values; the gradient of the first piece (the others get 0).
    case(g, "split_2_dim1", "split", [distinct([3, 5], 22)], {"split_size": 2, "dim": 1})
    case(g, "split_exact_dim0", "split", [distinct([6, 2], 23, "float64")], {"split_size": 3, "dim": 0})
    case(g, "split_larger_than_dim", "split", [distinct([2, 3], 24)], {"split_size": 7, "dim": 1})
    case(g, "split_sizes_dim0", "split", [distinct([5, 2], 25)], {"split_size": [1, 3, 1], "dim": 0})
    case(g, "split_sizes_with_empty", "split", [distinct([2, 5], 26)], {"split_size": [0, 3, 2], "dim": -1})
    case(g, "split_noncontiguous", "split", [T([3, 4], "float64", distinct([3, 4], 27).values, view=[["t"]])],
         {"split_size": 2, "dim": 1})
    case(g, "split_empty_dim", "split", [T([0, 3], "float32", [])], {"split_size": 2, "dim": 0})
    case(g, "split_int64", "split", [ints([4, 3])], {"split_size": 3, "dim": 0})
    case(g, "chunk_4_of_6", "chunk", [distinct([6, 2], 28)], {"chunks": 4, "dim": 0})
    case(g, "chunk_3_of_7_last_dim", "chunk", [distinct([2, 7], 29, "float64")], {"chunks": 3, "dim": -1})
    case(g, "chunk_more_than_dim", "chunk", [distinct([2, 3], 30)], {"chunks": 5, "dim": 1})
    case(g, "chunk_empty_dim", "chunk", [T([0, 3], "float32", [])], {"chunks": 3, "dim": 0})
    case(g, "split_zero_size", "split", [distinct([5])], {"split_size": 0, "dim": 0}, expect_error=True)
    case(g, "split_negative_size", "split", [distinct([5])], {"split_size": -1, "dim": 0}, expect_error=True)
    case(g, "split_sizes_bad_sum", "split", [distinct([5])], {"split_size": [2, 2], "dim": 0}, expect_error=True)
    case(g, "split_sizes_negative", "split", [distinct([5])], {"split_size": [6, -1], "dim": 0},
         expect_error=True)
    case(g, "split_0d", "split", [T([], "float32", [1.0])], {"split_size": 1, "dim": 0}, expect_error=True)
    case(g, "split_bad_dim", "split", [distinct([2, 3])], {"split_size": 1, "dim": 2}, expect_error=True)
    case(g, "chunk_zero", "chunk", [distinct([5])], {"chunks": 0, "dim": 0}, expect_error=True)
    case(g, "chunk_0d", "chunk", [T([], "float32", [1.0])], {"chunks": 1, "dim": 0}, expect_error=True)


def tensor_api_cases():
    g = "tensor_api"
    case(g, "repeat_2d", "repeat", [distinct([2, 3], 40)], {"repeats": [2, 3]})
    case(g, "repeat_more_dims", "repeat", [distinct([3], 41, "float64")], {"repeats": [2, 1, 2]})
    case(g, "repeat_noncontiguous", "repeat", [T([3, 2], "float64", distinct([3, 2], 42).values, view=[["t"]])],
         {"repeats": [1, 2]})
    case(g, "repeat_zero", "repeat", [distinct([2, 2], 43)], {"repeats": [0, 2]})
    case(g, "repeat_int64", "repeat", [ints([2, 2])], {"repeats": [2, 1]})
    case(g, "repeat_too_few", "repeat", [distinct([2, 3])], {"repeats": [2]}, expect_error=True)
    case(g, "flip_dim0", "flip", [distinct([3, 4], 44)], {"dims": [0]})
    case(g, "flip_two_dims", "flip", [distinct([2, 3, 2], 45, "float64")], {"dims": [0, -1]})
    case(g, "flip_bool", "flip", [T([4], "bool")], {"dims": [0]})
    case(g, "flip_repeated_dim", "flip", [distinct([2, 3])], {"dims": [0, 0]}, expect_error=True)
    case(g, "roll_dim1", "roll", [distinct([2, 5], 46)], {"shifts": [2], "dims": [1]})
    case(g, "roll_negative_two_dims", "roll", [distinct([3, 4], 47, "float64")], {"shifts": [-1, 5], "dims": [0, 1]})
    case(g, "roll_flattened", "roll", [distinct([2, 3], 48)], {"shifts": [4]})
    case(g, "roll_misaligned", "roll", [distinct([2, 3])], {"shifts": [1, 2], "dims": [0]}, expect_error=True)
    for k in (0, 2, -1):
        case(g, f"diag_vector_{k}".replace("-", "m"), "diag", [distinct([3], 49 + k, "float64")], {"diagonal": k})
    for k in (0, 1, -2, 3):
        case(g, f"diag_matrix_{k}".replace("-", "m"), "diag", [distinct([3, 4], 53 + k)], {"diagonal": k})
    case(g, "diag_matrix_transposed", "diag", [T([4, 3], "float64", distinct([4, 3], 60).values, view=[["t"]])],
         {"diagonal": 1})
    case(g, "diag_3d", "diag", [distinct([2, 2, 2])], {"diagonal": 0}, expect_error=True)
    case(g, "meshgrid_ij", "meshgrid", [distinct([3], 61, "float64"), distinct([2], 62, "float64")], {"indexing": "ij"})
    case(g, "meshgrid_xy", "meshgrid", [distinct([3], 63), distinct([2], 64), distinct([4], 65)], {"indexing": "xy"})
    case(g, "bmm", "bmm", [distinct([2, 3, 4], 66, "float64"), distinct([2, 4, 5], 67, "float64")], {})
    case(g, "bmm_float32_transposed", "bmm", [T([2, 4, 3], "float32", distinct([2, 4, 3], 68).values,
                                                  view=[["transpose", 1, 2]]), distinct([2, 4, 2], 69)],
         {}, rtol=1e-5, atol=1e-5)
    case(g, "bmm_bad_inner", "bmm", [distinct([2, 3, 4]), distinct([2, 3, 4])], {}, expect_error=True)
    case(g, "bmm_2d", "bmm", [distinct([3, 4]), distinct([4, 3])], {}, expect_error=True)
    case(g, "baddbmm", "baddbmm", [distinct([2, 3, 5], 70, "float64"), distinct([2, 3, 4], 71, "float64"),
                                   distinct([2, 4, 5], 72, "float64")], {"beta": 0.5, "alpha": 2.0})
    case(g, "baddbmm_broadcast_self", "baddbmm", [distinct([5], 73, "float64"), distinct([2, 3, 4], 74, "float64"),
                                                  distinct([2, 4, 5], 75, "float64")], {"beta": 1.0, "alpha": 1.0})
    case(g, "addmm", "addmm", [distinct([3, 2], 76, "float64"), distinct([3, 4], 77, "float64"),
                               distinct([4, 2], 78, "float64")], {"beta": 2.0, "alpha": -0.5})
    case(g, "addmm_row_self", "addmm", [distinct([2], 79, "float64"), distinct([3, 4], 80, "float64"),
                                        distinct([4, 2], 81, "float64")], {"beta": 1.0, "alpha": 1.0})
    case(g, "addmm_bad_self", "addmm", [distinct([3], 82), distinct([3, 4]), distinct([4, 2])],
         {"beta": 1.0, "alpha": 1.0}, expect_error=True)
    case(g, "outer", "outer", [distinct([3], 83, "float64"), distinct([4], 84, "float64")], {})
    case(g, "outer_2d", "outer", [distinct([2, 2]), distinct([4])], {}, expect_error=True)
    for name, eq, shapes in (("mm", "ij,jk->ik", ([3, 4], [4, 2])),
                             ("bmm", "bij,bjk->bik", ([2, 3, 4], [2, 4, 2])),
                             ("attention_scores", "bhqd,bhkd->bhqk", ([2, 2, 3, 4], [2, 2, 5, 4])),
                             ("outer", "i,j->ij", ([3], [4])),
                             ("dot", "i,i->", ([5], [5])),
                             ("transposed_out", "ij,jk->ki", ([3, 4], [4, 2])),
                             ("summed_free", "ij,jk->i", ([3, 4], [4, 2])),
                             ("implicit", "ij,jk", ([3, 4], [4, 2])),
                             ("elementwise", "ij,ij->ij", ([2, 3], [2, 3])),
                             ("transpose", "ij->ji", ([3, 4],)),
                             ("row_sums", "ij->i", ([3, 4],)),
                             ("total", "ij->", ([3, 4],))):
        ins = [distinct(s, 85 + i, "float64") for i, s in enumerate(shapes)]
        case(g, f"einsum_{name}", "einsum", ins, {"equation": eq})
    case(g, "einsum_size_mismatch", "einsum", [distinct([3, 4]), distinct([5, 2])], {"equation": "ij,jk->ik"},
         expect_error=True)
    case(g, "std_all", "std", [distinct([3, 4], 90, "float64")], {"unbiased": True})
    case(g, "std_all_biased", "std", [distinct([3, 4], 91)], {"unbiased": False})
    case(g, "std_dims_keepdim", "std", [distinct([2, 3, 4], 92, "float64")], {"dim": [0, 2], "unbiased": True, "keepdim": True})
    case(g, "std_dim1_biased", "std", [distinct([3, 4], 93)], {"dim": [1], "unbiased": False, "keepdim": False})
    case(g, "prod_all", "prod", [positive([2, 3], 94, "float64")], {})
    case(g, "prod_dim1", "prod", [distinct([3, 4], 95, "float64")], {"dim": 1, "keepdim": False})
    case(g, "prod_dim0_keepdim", "prod", [distinct([3, 4], 96)], {"dim": 0, "keepdim": True})
    zs = T([2, 4], "float64", [1.5, 0.0, 2.0, -1.0, 0.0, 0.5, 0.0, 3.0])
    case(g, "prod_zeros_dim1", "prod", [zs], {"dim": 1, "keepdim": False})
    case(g, "prod_zeros_all", "prod", [T([4], "float64", [1.5, 0.0, 2.0, -1.0])], {})
    case(g, "prod_int64", "prod", [ints([2, 3])], {"dim": 1, "keepdim": False})
    case(g, "prod_empty_dim", "prod", [T([2, 0], "float32", [])], {"dim": 1, "keepdim": False})
    case(g, "logsumexp_dim1", "logsumexp", [distinct([3, 4], 97, "float64")], {"dim": [1], "keepdim": False})
    case(g, "logsumexp_two_dims_keepdim", "logsumexp", [distinct([2, 3, 4], 98)], {"dim": [0, 2], "keepdim": True})
    case(g, "logsumexp_large", "logsumexp", [T([2, 3], "float64", [1000.0, 1001.0, 999.0, -1000.0, -1001.0, -999.0])],
         {"dim": [1], "keepdim": False})
    case(g, "logsumexp_inf", "logsumexp", [T([2, 2], "float64", [float("-inf"), float("-inf"), float("inf"), 1.0])],
         {"dim": [1], "keepdim": False}, grad=False)
    case(g, "logsumexp_int64", "logsumexp", [ints([2, 3])], {"dim": [1], "keepdim": False})
    case(g, "one_hot", "one_hot", [classes([2, 3], 4)], {"num_classes": 5})
    case(g, "one_hot_inferred", "one_hot", [classes([5], 4, 1)], {"num_classes": -1})
    case(g, "one_hot_too_small", "one_hot", [classes([5], 4, 1)], {"num_classes": 2}, expect_error=True)
    case(g, "one_hot_float", "one_hot", [distinct([3])], {"num_classes": 3}, expect_error=True)
    case(g, "unique_all", "unique", [ints([3, 4], 1)], {"return_inverse": True, "return_counts": True})
    case(g, "unique_values_only", "unique", [with_ties([2, 5], 2)], {"return_inverse": False, "return_counts": False},
         grad=False)
    case(g, "unique_bool", "unique", [T([5], "bool")], {"return_inverse": True, "return_counts": False})
    case(g, "unique_consecutive", "unique_consecutive", [T([7], "int64", [1, 1, 2, 2, 3, 1, 1])], {})
    rows = T([4, 2], "int64", [1, 2, 0, 5, 1, 2, 0, 1])
    case(g, "unique_dim0", "unique_dim", [rows], {"dim": 0})
    case(g, "unique_dim1", "unique_dim", [T([2, 3], "float32", [1.0, 0.5, 1.0, 2.0, -1.0, 2.0])], {"dim": -1},
         grad=False)
    case(g, "unique_consecutive_dim0", "unique_consecutive", [T([4, 2], "int64", [1, 2, 1, 2, 0, 1, 1, 2])],
         {"dim": 0})


def loss_cases():
    g = "loss"
    x = distinct([3, 4], 30, "float64")
    y = T([3, 4], "float64", [v * 0.7 - 0.3 for v in distinct([3, 4], 31).values])
    for r in REDUCTIONS:
        for beta in (1.0, 0.5, 0.0):
            case(g, f"smooth_l1_{r}_beta{beta}", "smooth_l1_loss", [x, y], {"reduction": r, "beta": beta})
        for delta in (1.0, 0.3, 2.5):
            case(g, f"huber_{r}_delta{delta}", "huber_loss", [x, y], {"reduction": r, "delta": delta})
    case(g, "smooth_l1_float32", "smooth_l1_loss", [distinct([5], 32), distinct([5], 33)],
         {"reduction": "mean", "beta": 1.0})
    case(g, "smooth_l1_negative_beta", "smooth_l1_loss", [x, y], {"reduction": "mean", "beta": -1.0},
         expect_error=True)
    case(g, "huber_zero_delta", "huber_loss", [x, y], {"reduction": "mean", "delta": 0.0}, expect_error=True)
    # [N, C, d1] and [N, C, H, W] scores with [N, d1] / [N, H, W] targets.
    x3 = distinct([2, 4, 3], 34, "float64")
    t3 = classes([2, 3], 4, 1)
    x4 = distinct([2, 3, 2, 2], 35, "float64")
    t4 = classes([2, 2, 2], 3, 2, ignore=-100)
    w4 = T([3], "float64", [0.5, 2.0, 1.25])
    for op in ("cross_entropy", "nll_loss"):
        for r in REDUCTIONS:
            case(g, f"{op}_3d_{r}", op, [x3, t3], {"reduction": r})
            case(g, f"{op}_4d_weighted_ignore_{r}", op, [x4, t4, w4], {"reduction": r, "ignore_index": -100})
        case(g, f"{op}_4d_target_mismatch", op, [x4, classes([2, 2, 3], 3)], {"reduction": "mean"},
             expect_error=True)
    case(g, "cross_entropy_4d_label_smoothing", "cross_entropy", [x4, t4, w4],
         {"reduction": "mean", "label_smoothing": 0.2})
    case(g, "cross_entropy_4d_ignore_class", "cross_entropy", [x4, classes([2, 2, 2], 3, 4)],
         {"reduction": "sum", "ignore_index": 1})
    # BCE with logits: pos_weight one per class [4] (an imbalanced multi-label set), with and
    # without an element weight; targets in [0, 1]; a logit of exactly 0 in x0.
    xb = distinct([3, 4], 36, "float64")
    x0 = T([3, 4], "float64", [0.0] + xb.values[1:])
    yb = T([3, 4], "float64", [abs(v) % 1.0 for v in distinct([3, 4], 37).values])
    pos = T([4], "float64", [3.0, 0.5, 1.0, 10.0])
    wb = T([3, 1], "float64", [0.5, 2.0, 1.0])
    for r in REDUCTIONS:
        case(g, f"bce_logits_pos_weight_{r}", "binary_cross_entropy_with_logits", [xb, yb, pos],
             {"reduction": r, "weights": ["pos_weight"]})
        case(g, f"bce_logits_weight_pos_weight_{r}", "binary_cross_entropy_with_logits",
             [x0, yb, wb, pos], {"reduction": r, "weights": ["weight", "pos_weight"]})
    case(g, "bce_logits_pos_weight_float32", "binary_cross_entropy_with_logits",
         [distinct([2, 3], 38), T([2, 3], "float32", [0, 1, 1, 0, 1, 0]), T([3], "float32", [2, 1, 4])],
         {"reduction": "mean", "weights": ["pos_weight"]})


def spatial_cases():
    g = "spatial"
    img = distinct([1, 2, 3, 4], 40)
    seq = distinct([2, 3, 5], 41, "float64")
    case(g, "pad_constant_1d", "pad", [seq], {"pad": [1, 2], "mode": "constant"})
    case(g, "pad_constant_value_2d", "pad", [img], {"pad": [1, 0, 2, 1], "mode": "constant", "value": -1.5})
    case(g, "pad_constant_crop", "pad", [img], {"pad": [-1, 1, 0, -1], "mode": "constant"})
    case(g, "pad_constant_all_dims", "pad", [distinct([2, 3], 42)], {"pad": [1, 1, 1, 0], "mode": "constant"})
    for mode in ("reflect", "replicate", "circular"):
        case(g, f"pad_{mode}_1d", "pad", [seq], {"pad": [2, 1], "mode": mode})
        case(g, f"pad_{mode}_2d", "pad", [img], {"pad": [1, 2, 2, 1], "mode": mode})
        if mode != "circular":  # (torch 1.13's circular padding needs the batch dim)
            case(g, f"pad_{mode}_2d_unbatched", "pad", [distinct([2, 3, 4], 43, "float64")],
                 {"pad": [1, 1, 1, 1], "mode": mode})
        case(g, f"pad_{mode}_3d", "pad", [distinct([1, 1, 2, 3, 3], 44, "float64")],
             {"pad": [1, 1, 1, 0, 1, 1], "mode": mode})
    case(g, "pad_reflect_too_large", "pad", [img], {"pad": [4, 0, 0, 0], "mode": "reflect"}, expect_error=True)
    case(g, "pad_odd_length", "pad", [img], {"pad": [1, 1, 1], "mode": "constant"}, expect_error=True)
    small = distinct([1, 2, 3, 3], 45)
    for mode in ("nearest", "bilinear"):
        case(g, f"interp_{mode}_size_up", "interpolate", [small], {"mode": mode, "size": [5, 7]}, rtol=1e-5)
        case(g, f"interp_{mode}_size_down", "interpolate", [distinct([1, 1, 5, 6], 46)],
             {"mode": mode, "size": [2, 4]}, rtol=1e-5)
        case(g, f"interp_{mode}_scale2", "interpolate", [small], {"mode": mode, "scale_factor": [2.0, 2.0]},
             rtol=1e-5)
        case(g, f"interp_{mode}_scale_frac", "interpolate", [distinct([2, 1, 4, 5], 47, "float64")],
             {"mode": mode, "scale_factor": [1.5, 0.7]})
    case(g, "interp_bilinear_align", "interpolate", [small],
         {"mode": "bilinear", "size": [5, 4], "align_corners": True}, rtol=1e-5)
    case(g, "interp_bilinear_align_scale", "interpolate", [distinct([1, 2, 3, 4], 48, "float64")],
         {"mode": "bilinear", "scale_factor": [2.0, 1.5], "align_corners": True})
    case(g, "interp_nearest_align_corners", "interpolate", [small],
         {"mode": "nearest", "size": [4, 4], "align_corners": True}, expect_error=True)


def math_cases():
    """Module 01's further element-wise ops (test_math_ops.cpp)."""
    g = "math"
    inf, nan = float("inf"), float("nan")
    unit = lambda shape, seed, dt: T(shape, dt, [((i * 7 + seed) % 19 - 9) / 10.0 + 0.03  # in (−1, 1)
                                                   for i in range(numel(shape))])
    for op in UNARY_MATH:
        for dt in ("float32", "float64"):
            x = (positive([3, 4], 5, dt) if op in ("rsqrt", "log2", "log10")
                 else unit([3, 4], 5, dt) if op in ("asin", "acos", "tan")
                 else distinct([3, 4], 5, dt))
            case(g, f"{op}_{dt}", op, [x], {})
        if op != "frac":  # (refused: frac_int64 below)
            case(g, f"{op}_int64", op, [ints([2, 3], 1, 1, 5)], {})
        case(g, f"{op}_noncontiguous", op,
             [T([3, 4], "float64", unit([3, 4], 6, "float64").values, view=[["t"]])], {})
    # round: halves go to the even neighbour; sign and rounding of ±0, ±inf, NaN.
    halves = T([8], "float64", [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.5, -3.49])
    case(g, "round_half_even", "round", [halves], {})
    edges = T([5], "float64", [-0.0, 0.0, inf, -inf, nan])
    for op in ("floor", "ceil", "round", "trunc", "sign", "frac", "reciprocal", "rsqrt", "erf",
               "expm1", "log2", "atan"):
        case(g, f"{op}_edges", op, [edges], {}, grad=False)
    case(g, "sign_bool", "sign", [T([3], "bool", [True, False, True])], {})
    case(g, "frac_int64", "frac", [ints([2, 3], 1, 1, 5)], {}, expect_error=True)
    case(g, "floor_bool", "floor", [T([2], "bool", [True, False])], {}, expect_error=True)
    case(g, "expm1_tiny", "expm1", [T([3], "float64", [1e-12, -3e-15, 2e-9])], {})
    # fmod (the sign of self) and remainder (the sign of other), both operand signs.
    a = T([8], "float64", [5.5, -5.5, 5.5, -5.5, 3.0, -3.0, 0.25, -7.0])
    b = T([8], "float64", [2.0, 2.0, -2.0, -2.0, 1.5, 1.5, -0.75, 2.5])
    ia = T([6], "int64", [7, -7, 7, -7, 0, -9])
    ib = T([6], "int64", [3, 3, -3, -3, 5, 4])
    for op in ("fmod", "remainder"):
        case(g, f"{op}_signs", op, [a, b], {})
        case(g, f"{op}_int64", op, [ia, ib], {})
        case(g, f"{op}_scalar", op, [distinct([3, 4], 7)], {"other": 1.5})
        case(g, f"{op}_scalar_negative", op, [distinct([2, 3], 8, "float64")], {"other": -2})
        case(g, f"{op}_int64_scalar", op, [ia], {"other": -4})
        case(g, f"{op}_int64_float_scalar", op, [ia], {"other": 2.5})
        case(g, f"{op}_broadcast", op, [distinct([2, 3], 9, "float64"), T([3], "float64", [1.5, -2.0, 0.75])], {})
        case(g, f"{op}_edges", op, [T([5], "float64", [-0.0, 5.0, -3.0, inf, 1.0]),
                                    T([5], "float64", [2.0, inf, inf, 2.0, 0.0])], {}, grad=False)
        case(g, f"{op}_int_by_zero", op, [ia, T([6], "int64", [1, 0, 1, 1, 1, 1])], {}, expect_error=True)
    case(g, "atan2", "atan2", [distinct([3, 4], 10, "float64"), distinct([3, 4], 11, "float64")], {})
    case(g, "atan2_float32_broadcast", "atan2", [distinct([2, 3], 12), T([3], "float32", [1.0, -2.0, 0.5])], {})
    case(g, "atan2_quadrants", "atan2", [T([6], "float64", [0.0, -0.0, 1.0, -1.0, 0.0, -0.0]),
                                         T([6], "float64", [-1.0, -1.0, 0.0, 0.0, 1.0, 1.0])], {})
    case(g, "atan2_int64", "atan2", [ints([4], 1), ints([4], 2, 1, 4)], {})
    case(g, "lerp_scalar", "lerp", [distinct([3, 4], 13, "float64"), distinct([3, 4], 14, "float64")],
         {"weight": 0.3})
    case(g, "lerp_scalar_float32_high", "lerp", [distinct([3, 4], 15), distinct([3, 4], 16)], {"weight": 0.75})
    case(g, "lerp_tensor", "lerp", [distinct([2, 3], 17, "float64"), distinct([2, 3], 18, "float64"),
                                    T([3], "float64", [0.0, 0.25, 1.0])], {})
    case(g, "lerp_dtype_mismatch", "lerp", [distinct([3]), distinct([3], 1, "float64")], {"weight": 0.5},
         expect_error=True)
    for op in ("addcmul", "addcdiv"):
        t2 = positive([3, 4], 20, "float64")
        case(g, f"{op}", op, [distinct([3, 4], 18, "float64"), distinct([3, 4], 19, "float64"), t2],
             {"value": 0.5})
        case(g, f"{op}_broadcast", op, [distinct([3, 1], 21), distinct([1, 4], 22), positive([4], 23)],
             {"value": -2})
    case(g, "addcmul_int64", "addcmul", [ints([4]), ints([4], 1), ints([4], 2)], {"value": 3})
    case(g, "addcdiv_int64", "addcdiv", [ints([4]), ints([4], 1), ints([4], 2, 1, 4)], {"value": 1},
         expect_error=True)
    odd = T([6], "float64", [1.5, nan, inf, -inf, -2.0, 0.0])
    for dt in ("float32", "float64"):
        for op in ("isnan", "isinf", "isfinite", "logical_not"):
            case(g, f"{op}_{dt}", op, [T([6], dt, odd.values)], {})
        case(g, f"nan_to_num_{dt}", "nan_to_num", [T([6], dt, odd.values)], {})
    case(g, "nan_to_num_given", "nan_to_num", [odd], {"nan": 1.0, "posinf": 9.0, "neginf": -9.0})
    for op in ("isnan", "isinf", "isfinite", "logical_not", "nan_to_num"):
        case(g, f"{op}_int64", op, [ints([4])], {})
    case(g, "logical_not_bool", "logical_not", [T([3], "bool", [True, False, True])], {})
    for op in ("logical_and", "logical_or", "logical_xor"):
        case(g, f"{op}", op, [T([2, 3], "float32", [1.0, 0.0, nan, 0.0, -2.0, 0.0]),
                              T([3], "int64", [0, 3, 1])], {})
        case(g, f"{op}_bool", op, [T([4], "bool", [True, True, False, False]),
                                   T([4], "bool", [True, False, True, False])], {})
    mask = T([3, 1], "bool", [True, False, True])
    case(g, "masked_fill_method", "masked_fill", [distinct([3, 4], 24, "float64"), mask], {"value": -1.5})
    case(g, "masked_fill_int64", "masked_fill", [ints([3, 4]), T([4], "bool", [False, True, True, False])],
         {"value": 7})
    idx = T([2], "int64", [2, 0])
    case(g, "index_fill_dim1", "index_fill", [distinct([3, 4], 25, "float64"), idx], {"dim": 1, "value": -2.0})
    case(g, "index_fill_dim0_neg", "index_fill", [distinct([3, 4], 26), idx], {"dim": -2, "value": 0.5})
    case(g, "index_fill_0d_index", "index_fill", [distinct([2, 3], 27, "float64"), T([], "int64", [1])],
         {"dim": 0, "value": 3.0})
    case(g, "index_fill_bad_index_dtype", "index_fill", [distinct([3]), T([1], "float32", [0.0])],
         {"dim": 0, "value": 1.0}, expect_error=True)
    case(g, "index_fill_out_of_range", "index_fill", [distinct([3]), T([1], "int64", [5])],
         {"dim": 0, "value": 1.0}, expect_error=True)


def activation_cases():
    """The activations past module 02's, through F (module 02's test_libtorch_activations.cpp):
    spread values, each kink exactly (where PyTorch's backward picks a side), and magnitudes
    where a naive exp overflows (±100, and beta·x past softplus's threshold)."""
    g = "activation"
    inf, nan = float("inf"), float("nan")
    kinks = [-100.0, -20.0, -6.0, -3.0, -2.0, -1.0, -0.5, -1e-3, 0.0, 1e-3, 0.5, 1.0, 2.0, 3.0,
             6.0, 10.0, 19.5, 20.0, 21.0, 100.0]
    variants = [
        ("softplus", {}), ("softplus", {"beta": 2.0, "threshold": 10.0}),
        ("softplus", {"beta": 0.5, "threshold": 5.0}),
        ("elu", {}), ("elu", {"alpha": 0.5}), ("selu", {}), ("celu", {}), ("celu", {"alpha": 2.0}),
        ("hardtanh", {}), ("hardtanh", {"min_val": -2.0, "max_val": 3.0}), ("relu6", {}),
        ("mish", {}), ("hardswish", {}), ("hardsigmoid", {}),
    ]
    # Two PyTorch 1.13 quirks the cases step around: hardswish's gradient at x = 3 is 1.5 on its
    # scalar path and 1 on its vectorised one (so it depends on the element's position: 3 is
    # left out of its kinks), and hardsigmoid's float64 backward multiplies by 1/6 rounded to
    # float32 (a relative 3e-8 from ours, which is exact: rtol 1e-7 for it).
    for op, args in variants:
        tag = op + "".join(f"_{k}{v}" for k, v in args.items()).replace(".", "p").replace("-", "m")
        points = [k for k in kinks if not (op == "hardswish" and k == 3.0)]
        rtol = 1e-7 if op == "hardsigmoid" else None
        for dt in ("float32", "float64"):
            case(g, f"{tag}_{dt}", op, [distinct([4, 5], 3, dt)], args, rtol=rtol)
            case(g, f"{tag}_kinks_{dt}", op, [T([len(points)], dt, points)], args, rtol=rtol)
        case(g, f"{tag}_noncontiguous", op,
             [T([3, 4], "float64", distinct([3, 4], 4, "float64").values, view=[["t"]])], args,
             rtol=rtol)
        case(g, f"{tag}_nan_inf", op, [T([3], "float32", [nan, inf, -inf])], args, grad=False)
    case(g, "celu_alpha0", "celu", [distinct([3])], {"alpha": 0.0}, expect_error=True)
    # Integers: hardtanh and relu6 keep them (clamp); the others compute in floating point only.
    for op in dict(variants):  # each op once, with its default options
        case(g, f"{op}_int64", op, [ints([2, 4], 1, -8, 9)], {},
             expect_error=op not in ("hardtanh", "relu6"))


def main():
    opts = command_line(__doc__, OUT)
    tensor_cases()
    math_cases()
    activation_cases()
    tensor_api_cases()
    loss_cases()
    spatial_cases()
    doc = {**header(__file__), "cases": CASES}
    return write_or_check(opts.out, one_case_per_line(doc), opts.check, f"{len(CASES)} cases")


if __name__ == "__main__":
    sys.exit(main())
