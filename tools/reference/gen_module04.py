#!/usr/bin/python3
"""Writes tests/data/module04_reference.json: PyTorch's answers for module 04's losses.

Run from anywhere (Debian's python3-torch, hence /usr/bin/python3):

    /usr/bin/python3 tools/reference/gen_module04.py          # writes the file
    /usr/bin/python3 tools/reference/gen_module04.py --check  # fails if the file is stale

Deterministic: inputs are fixed integer formulas or written out here (no random numbers).
The tensor encoding and the input description (shape, dtype, values, optional "view" ops) are
those of gen_module01.py, whose helpers this script imports. Each case is

    {"name", "group", "op", "inputs": [input, target],
     "args": {"reduction": "none"|"mean"|"sum", "ignore_index"?, "label_smoothing"?},
     "expected": tensor                         torch's loss
     "grad_output": tensor, "expected_grad": tensor
                                                the gradient w.r.t. input that torch's autograd
                                                gives for that grad_output (0-d for mean / sum,
                                                the loss's shape for none)
     or "error": true, "torch_error": "..."     (torch rejects the arguments)
     "rtol"/"atol": optional tolerances}

op is one of mse_loss, l1_loss, nll_loss, binary_cross_entropy,
binary_cross_entropy_with_logits, cross_entropy.
"""

import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from refdata import command_line, header, one_case_per_line, write_or_check  # noqa: E402
from gen_module01 import T, enc_tensor, numel  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(REPO, "tests", "data", "module04_reference.json")

CASES = []
NAMES = set()
REDUCTIONS = ("none", "mean", "sum")


def spread(shape, seed=0, scale=1.0):
    """Floats spread over about [-4, 4] · scale, exact and inexact values mixed."""
    vals = []
    for i in range(numel(shape)):
        k = (i * 7 + seed * 5 + 2) % 23 - 11
        v = k * 0.375 if (i + seed) % 4 else k / 3.0
        vals.append(v * scale)
    return vals


def probs(shape, seed=0):
    """Probabilities in [0.02, 0.98] (never exactly 0 or 1)."""
    return [0.02 + ((i * 5 + seed * 3) % 17) * 0.06 for i in range(numel(shape))]


def soft_targets(shape, seed=0):
    """Targets in [0, 1]: hard 0 / 1 labels mixed with soft ones."""
    choices = [0.0, 1.0, 0.25, 1.0, 0.0, 0.8]
    return [choices[(i * 3 + seed) % len(choices)] for i in range(numel(shape))]


def classes(n, c, seed=0):
    return [(i * 3 + seed) % c for i in range(n)]


def run(op, x, t, args):
    r = args.get("reduction", "mean")
    w = WEIGHTS.get(id(args))
    if op == "mse_loss":
        return F.mse_loss(x, t, reduction=r)
    if op == "l1_loss":
        return F.l1_loss(x, t, reduction=r)
    if op == "nll_loss":
        return F.nll_loss(x, t, weight=w, reduction=r,
                          ignore_index=args.get("ignore_index", -100))
    if op == "binary_cross_entropy":
        return F.binary_cross_entropy(x, t, weight=w, reduction=r)
    if op == "binary_cross_entropy_with_logits":
        return F.binary_cross_entropy_with_logits(x, t, weight=w, reduction=r)
    if op == "cross_entropy":
        return F.cross_entropy(x, t, weight=w, reduction=r,
                               ignore_index=args.get("ignore_index", -100),
                               label_smoothing=args.get("label_smoothing", 0.0))
    raise ValueError(op)


# args dict id -> the torch weight tensor of a "weighted" case (args["weight"] holds its encoding)
WEIGHTS = {}


def weighted(args, w):
    """args plus a class / element weight w (a T), encoded for the C++ side."""
    args = dict(args, weight=w.enc())
    WEIGHTS[id(args)] = w.torch()
    return args


def case(group, name, op, x, t, args, rtol=None, atol=None, expect_error=False):
    assert name not in NAMES, name
    NAMES.add(name)
    c = {"name": name, "group": group, "op": op, "inputs": [x.enc(), t.enc()], "args": args}
    try:
        xt = x.torch()
        if xt.is_floating_point():
            xt = xt.detach().clone().requires_grad_(True)
        out = run(op, xt, t.torch(), args)
    except (RuntimeError, IndexError, TypeError, ValueError) as e:
        if not expect_error:
            raise RuntimeError(f"case {name}: PyTorch raised unexpectedly: {e}") from e
        c["error"] = True
        c["torch_error"] = str(e).split("\n")[0][:200]
        CASES.append(c)
        return
    if expect_error:
        raise RuntimeError(f"case {name}: expected PyTorch to raise, got {out}")
    c["expected"] = enc_tensor(out.detach())
    # (torch 1.13's backward of a loss with mixed dtypes fails: those cases check the forward only)
    tt = t.torch()
    mixed = tt.is_floating_point() and tt.dtype != xt.dtype
    if xt.requires_grad and xt.numel() > 0 and out.dtype == xt.dtype and not mixed and (
            tt.is_floating_point() or op in ("nll_loss", "cross_entropy")):
        shape = list(out.shape)
        g_dtype = x.dtype
        if shape:
            g = T(shape, g_dtype, values=spread(shape, seed=3, scale=0.5))
        else:
            g = T([], g_dtype, values=[0.75])
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


def gen_regression():
    for op in ("mse_loss", "l1_loss"):
        for dtype in ("float32", "float64"):
            for shape in ([], [5], [3, 4], [2, 3, 4], [0]):
                for r in REDUCTIONS:
                    case("values", f"{op}_{sname(shape)}_{r}_{dtype}", op,
                         T(shape, dtype, values=spread(shape, seed=1)),
                         T(shape, dtype, values=spread(shape, seed=2, scale=0.8)),
                         {"reduction": r})
            for r in REDUCTIONS:
                # non-contiguous input and target
                case("strided", f"{op}_strided_{r}_{dtype}", op,
                     T([4, 3], dtype, values=spread([4, 3], seed=4), view=[["transpose", 0, 1]]),
                     T([3, 8], dtype, values=spread([3, 8], seed=5), view=[["slice", 1, 0, 8, 2]]),
                     {"reduction": r})
                # a target broadcast with expand (a view, same size as the input)
                case("strided", f"{op}_expanded_target_{r}_{dtype}", op,
                     T([3, 4], dtype, values=spread([3, 4], seed=6)),
                     T([4], dtype, values=spread([4], seed=7), view=[["expand", [3, 4]]]),
                     {"reduction": r})
            # large values: the squared error must not lose the mean
            case("values", f"{op}_large_{dtype}", op, T([4], dtype, values=[1e3, -1e3, 1e4, 0.5]),
                 T([4], dtype, values=[-1e3, 1e3, 1e4, 0.25]), {"reduction": "mean"})
        # type promotion: float32 input, float64 target → float64; int64 target → float32
        case("dtypes", f"{op}_float32_float64", op, T([5], "float32", values=spread([5], seed=1)),
             T([5], "float64", values=spread([5], seed=2)), {"reduction": "mean"})
        case("dtypes", f"{op}_float32_int64", op, T([5], "float32", values=spread([5], seed=1)),
             T([5], "int64", values=[1, -2, 0, 3, 2]), {"reduction": "sum"})
    case("errors", "mse_loss_int64_int64", "mse_loss", T([3], "int64", values=[1, 2, 3]),
         T([3], "int64", values=[1, 2, 4]), {"reduction": "mean"}, expect_error=True)


def gen_bce():
    op = "binary_cross_entropy"
    for dtype in ("float32", "float64"):
        for shape in ([], [6], [3, 4], [0]):
            for r in REDUCTIONS:
                case("values", f"bce_{sname(shape)}_{r}_{dtype}", op,
                     T(shape, dtype, values=probs(shape, seed=1)),
                     T(shape, dtype, values=soft_targets(shape, seed=2)), {"reduction": r})
        for r in REDUCTIONS:
            case("strided", f"bce_strided_{r}_{dtype}", op,
                 T([4, 3], dtype, values=probs([4, 3], seed=3), view=[["transpose", 0, 1]]),
                 T([3, 4], dtype, values=soft_targets([3, 4], seed=4)), {"reduction": r})
        # p = 0 and p = 1 exactly: each log is clamped at -100 (no inf, no NaN); the gradient's
        # denominator is clamped at 1e-12.
        case("stability", f"bce_clamped_{dtype}", op,
             T([6], dtype, values=[0.0, 1.0, 0.0, 1.0, 1e-30 if dtype == "float64" else 1e-20, 0.5]),
             T([6], dtype, values=[1.0, 0.0, 0.0, 1.0, 1.0, 0.5]), {"reduction": "none"})
        case("stability", f"bce_clamped_mean_{dtype}", op,
             T([4], dtype, values=[0.0, 1.0, 0.3, 0.7]), T([4], dtype, values=[1.0, 0.0, 0.0, 1.0]),
             {"reduction": "mean"})
    case("errors", "bce_input_above_1", op, T([2], "float32", values=[0.5, 1.5]),
         T([2], "float32", values=[1.0, 0.0]), {"reduction": "mean"}, expect_error=True)
    case("errors", "bce_input_negative", op, T([2], "float32", values=[-0.1, 0.5]),
         T([2], "float32", values=[1.0, 0.0]), {"reduction": "mean"}, expect_error=True)
    case("errors", "bce_input_nan", op, T([2], "float32", values=[float("nan"), 0.5]),
         T([2], "float32", values=[1.0, 0.0]), {"reduction": "mean"}, expect_error=True)
    case("errors", "bce_shape_mismatch", op, T([2], "float32", values=[0.5, 0.5]),
         T([1], "float32", values=[1.0]), {"reduction": "mean"}, expect_error=True)
    case("errors", "bce_int64_target", op, T([2], "float32", values=[0.5, 0.5]),
         T([2], "int64", values=[1, 0]), {"reduction": "mean"}, expect_error=True)
    case("errors", "bce_float64_target", op, T([2], "float32", values=[0.5, 0.5]),
         T([2], "float64", values=[1.0, 0.0]), {"reduction": "mean"}, expect_error=True)

    op = "binary_cross_entropy_with_logits"
    for dtype in ("float32", "float64"):
        for shape in ([], [6], [3, 4], [0]):
            for r in REDUCTIONS:
                case("values", f"bce_logits_{sname(shape)}_{r}_{dtype}", op,
                     T(shape, dtype, values=spread(shape, seed=1)),
                     T(shape, dtype, values=soft_targets(shape, seed=2)), {"reduction": r})
        for r in REDUCTIONS:
            case("strided", f"bce_logits_strided_{r}_{dtype}", op,
                 T([4, 3], dtype, values=spread([4, 3], seed=3), view=[["transpose", 0, 1]]),
                 T([3, 4], dtype, values=soft_targets([3, 4], seed=4)), {"reduction": r})
        # logits of ±1000: the naive form takes log(0) or overflows exp
        wide = [1000.0, -1000.0, 1000.0, -1000.0, 100.0, -100.0, 30.0, -30.0, 0.0]
        tgt = [0.0, 1.0, 1.0, 0.0, 0.5, 0.5, 0.0, 1.0, 0.3]
        for r in REDUCTIONS:
            case("stability", f"bce_logits_wide_{r}_{dtype}", op, T([9], dtype, values=wide),
                 T([9], dtype, values=tgt), {"reduction": r})
    # (torch computes part of this one in float32 — exp/log of the float32 input — so the
    # float64 result only agrees to float32 precision)
    case("dtypes", "bce_logits_float32_float64", op, T([4], "float32", values=spread([4], 1)),
         T([4], "float64", values=soft_targets([4], 2)), {"reduction": "mean"}, rtol=1e-6)
    case("errors", "bce_logits_shape_mismatch", op, T([2], "float32", values=[0.5, 0.5]),
         T([1], "float32", values=[1.0]), {"reduction": "mean"}, expect_error=True)


def logprobs(n, c, dtype, seed=0, view=None):
    """log_softmax of a fixed pattern, as a base tensor (computed by torch, then written out)."""
    x = torch.tensor(spread([n, c], seed=seed), dtype=torch.float64).reshape(n, c)
    lp = torch.log_softmax(x, 1).to(torch.float32 if dtype == "float32" else torch.float64)
    return T([n, c], dtype, values=lp.reshape(-1).tolist(), view=view)


def gen_nll():
    op = "nll_loss"
    for dtype in ("float32", "float64"):
        for r in REDUCTIONS:
            case("values", f"nll_5x4_{r}_{dtype}", op, logprobs(5, 4, dtype, seed=1),
                 T([5], "int64", values=classes(5, 4)), {"reduction": r})
            # default ignore_index -100 present in the targets
            case("ignore", f"nll_ignore_default_{r}_{dtype}", op, logprobs(5, 4, dtype, seed=2),
                 T([5], "int64", values=[1, -100, 3, -100, 0]), {"reduction": r})
            # ignore_index inside [0, C): that class is skipped
            case("ignore", f"nll_ignore_class2_{r}_{dtype}", op, logprobs(6, 4, dtype, seed=3),
                 T([6], "int64", values=[2, 0, 2, 1, 3, 2]), {"reduction": r, "ignore_index": 2})
            # every target ignored: mean is 0 / 0 = NaN, sum is 0, none is all zeros
            case("ignore", f"nll_all_ignored_{r}_{dtype}", op, logprobs(3, 4, dtype, seed=4),
                 T([3], "int64", values=[-100, -100, -100]), {"reduction": r})
            # a [C] input with a 0-d target
            case("values", f"nll_1d_{r}_{dtype}", op,
                 T([5], dtype, values=logprobs(1, 5, dtype, seed=5).values),
                 T([], "int64", values=[3]), {"reduction": r})
            # non-contiguous input: a transposed [C, N] buffer
            case("strided", f"nll_transposed_{r}_{dtype}", op,
                 logprobs(4, 5, dtype, seed=6, view=[["transpose", 0, 1]]),
                 T([5], "int64", values=[0, 3, 1, 2, 1]), {"reduction": r})
        case("values", f"nll_empty_mean_{dtype}", op, T([0, 3], dtype, values=[]),
             T([0], "int64", values=[]), {"reduction": "mean"})
    base = logprobs(3, 4, "float32", seed=7)
    case("errors", "nll_target_out_of_range", op, base, T([3], "int64", values=[0, 4, 1]),
         {"reduction": "mean"}, expect_error=True)
    case("errors", "nll_target_negative", op, base, T([3], "int64", values=[0, -1, 1]),
         {"reduction": "mean"}, expect_error=True)
    case("errors", "nll_float_target", op, base, T([3], "float32", values=[0.0, 1.0, 2.0]),
         {"reduction": "mean"}, expect_error=True)
    case("errors", "nll_batch_mismatch", op, base, T([2], "int64", values=[0, 1]),
         {"reduction": "mean"}, expect_error=True)
    case("errors", "nll_2d_target", op, base, T([3, 1], "int64", values=[0, 1, 2]),
         {"reduction": "mean"}, expect_error=True)
    case("errors", "nll_0d_input", op, T([], "float32", values=[1.0]),
         T([], "int64", values=[0]), {"reduction": "mean"}, expect_error=True)
    case("errors", "nll_1d_input_1d_target", op, T([4], "float32", values=[-1.0] * 4),
         T([1], "int64", values=[2]), {"reduction": "mean"}, expect_error=True)
    case("errors", "nll_int64_input", op, T([1, 2], "int64", values=[1, 2]),
         T([1], "int64", values=[0]), {"reduction": "mean"}, expect_error=True)


def gen_cross_entropy():
    op = "cross_entropy"
    for dtype in ("float32", "float64"):
        for ls in (0.0, 0.1, 0.25, 1.0):
            tag = f"ls{ls}".replace(".", "p")
            for r in REDUCTIONS:
                case("values", f"ce_6x5_{tag}_{r}_{dtype}", op,
                     T([6, 5], dtype, values=spread([6, 5], seed=1, scale=1.5)),
                     T([6], "int64", values=[4, 0, 2, 2, 1, 3]),
                     {"reduction": r, "label_smoothing": ls})
                case("ignore", f"ce_ignore_{tag}_{r}_{dtype}", op,
                     T([5, 4], dtype, values=spread([5, 4], seed=2, scale=1.5)),
                     T([5], "int64", values=[1, -100, 3, -100, 0]),
                     {"reduction": r, "label_smoothing": ls})
                case("ignore", f"ce_ignore_class1_{tag}_{r}_{dtype}", op,
                     T([5, 4], dtype, values=spread([5, 4], seed=3, scale=1.5)),
                     T([5], "int64", values=[1, 2, 1, 0, 3]),
                     {"reduction": r, "ignore_index": 1, "label_smoothing": ls})
                case("values", f"ce_1d_{tag}_{r}_{dtype}", op,
                     T([4], dtype, values=[0.5, -1.25, 2.0, 0.125]), T([], "int64", values=[1]),
                     {"reduction": r, "label_smoothing": ls})
            case("ignore", f"ce_all_ignored_{tag}_{dtype}", op,
                 T([3, 4], dtype, values=spread([3, 4], seed=4)),
                 T([3], "int64", values=[-100, -100, -100]),
                 {"reduction": "mean", "label_smoothing": ls})
        for r in REDUCTIONS:
            case("strided", f"ce_transposed_{r}_{dtype}", op,
                 T([5, 6], dtype, values=spread([5, 6], seed=5), view=[["transpose", 0, 1]]),
                 T([6], "int64", values=[0, 4, 1, 3, 2, 2]),
                 {"reduction": r, "label_smoothing": 0.1})
            # logits of ±1000: a naive softmax gives inf / inf = NaN
            case("stability", f"ce_pm1000_{r}_{dtype}", op,
                 T([3, 4], dtype, values=[1000.0, -1000.0, 999.0, 0.0, -1000.0, -1000.0, -1000.0,
                                          -999.0, 1000.0, 1000.0, 1000.0, 1000.0]),
                 T([3], "int64", values=[2, 3, 0]), {"reduction": r, "label_smoothing": 0.1})
        # the MLP's shape: a batch of 64 over 10 classes
        case("values", f"ce_64x10_{dtype}", op,
             T([64, 10], dtype, values=spread([64, 10], seed=6)),
             T([64], "int64", values=classes(64, 10, seed=1)), {"reduction": "mean"})
    base = T([3, 4], "float32", values=spread([3, 4], seed=7))
    case("errors", "ce_target_out_of_range", op, base, T([3], "int64", values=[0, 5, 1]),
         {"reduction": "mean"}, expect_error=True)
    case("errors", "ce_batch_mismatch", op, base, T([2], "int64", values=[0, 1]),
         {"reduction": "mean"}, expect_error=True)
    case("errors", "ce_label_smoothing_above_1", op, base, T([3], "int64", values=[0, 1, 2]),
         {"reduction": "mean", "label_smoothing": 1.5}, expect_error=True)
    case("errors", "ce_float_target", op, base, T([3], "float32", values=[0.0, 1.0, 2.0]),
         {"reduction": "mean"}, expect_error=True)
    case("errors", "ce_int64_input", op, T([1, 2], "int64", values=[1, 2]),
         T([1], "int64", values=[0]), {"reduction": "mean"}, expect_error=True)


def gen_weighted():
    """The `weight` argument: per class for nll_loss / cross_entropy, per element for BCE."""
    for dtype in ("float32", "float64"):
        cw = T([4], dtype, values=[0.5, 2.0, 1.0, 0.25])
        for r in REDUCTIONS:
            case("weighted", f"nll_weighted_{r}_{dtype}", "nll_loss",
                 logprobs(6, 4, dtype, seed=5), T([6], "int64", values=[1, 0, 3, 1, 2, 0]),
                 weighted({"reduction": r}, cw))
            case("weighted", f"nll_weighted_ignore_{r}_{dtype}", "nll_loss",
                 logprobs(5, 4, dtype, seed=6), T([5], "int64", values=[1, -100, 3, 2, -100]),
                 weighted({"reduction": r}, cw))
            for ls in (0.0, 0.2):
                tag = f"ls{ls}".replace(".", "p")
                case("weighted", f"ce_weighted_{tag}_{r}_{dtype}", "cross_entropy",
                     T([6, 4], dtype, values=spread([6, 4], seed=8, scale=1.5)),
                     T([6], "int64", values=[3, 0, 2, 1, 1, 0]),
                     weighted({"reduction": r, "label_smoothing": ls}, cw))
                case("weighted", f"ce_weighted_ignore2_{tag}_{r}_{dtype}", "cross_entropy",
                     T([5, 4], dtype, values=spread([5, 4], seed=9, scale=1.5)),
                     T([5], "int64", values=[2, 1, 0, 2, 3]),
                     weighted({"reduction": r, "ignore_index": 2, "label_smoothing": ls}, cw))
            case("weighted", f"ce_weighted_1d_{r}_{dtype}", "cross_entropy",
                 T([4], dtype, values=[0.5, -1.25, 2.0, 0.125]), T([], "int64", values=[1]),
                 weighted({"reduction": r, "label_smoothing": 0.1}, cw))
            # BCE: a weight per element, broadcast from [3] over [2, 3]
            ew = T([3], dtype, values=[0.5, 1.5, 3.0])
            case("weighted", f"bce_weighted_{r}_{dtype}", "binary_cross_entropy",
                 T([2, 3], dtype, values=probs([2, 3], seed=4)),
                 T([2, 3], dtype, values=soft_targets([2, 3], seed=2)), weighted({"reduction": r}, ew))
            case("weighted", f"bce_logits_weighted_{r}_{dtype}", "binary_cross_entropy_with_logits",
                 T([2, 3], dtype, values=spread([2, 3], seed=3)),
                 T([2, 3], dtype, values=soft_targets([2, 3], seed=5)), weighted({"reduction": r}, ew))
    base = logprobs(3, 4, "float32", seed=7)
    case("errors", "nll_weight_wrong_size", "nll_loss", base, T([3], "int64", values=[0, 1, 2]),
         weighted({"reduction": "mean"}, T([3], "float32", values=[1.0, 1.0, 1.0])),
         expect_error=True)
    case("errors", "ce_weight_wrong_size", "cross_entropy", base,
         T([3], "int64", values=[0, 1, 2]),
         weighted({"reduction": "mean"}, T([5], "float32", values=[1.0] * 5)), expect_error=True)


def main():
    opts = command_line(__doc__, OUT)
    torch.set_default_dtype(torch.float32)

    gen_regression()
    gen_bce()
    gen_nll()
    gen_cross_entropy()
    gen_weighted()

    doc = {
        **header(__file__),
        "cases": CASES,
    }
    text = one_case_per_line(doc)
    return write_or_check(opts.out, text, opts.check,
                          f"{len(CASES)} cases")


if __name__ == "__main__":
    sys.exit(main())
