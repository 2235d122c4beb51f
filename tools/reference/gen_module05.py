#!/usr/bin/python3
"""Writes tests/data/module05_reference.json: PyTorch's gradients of composite expressions.

Run from anywhere (Debian's python3-torch, hence /usr/bin/python3):

    /usr/bin/python3 tools/reference/gen_module05.py          # writes the file
    /usr/bin/python3 tools/reference/gen_module05.py --check  # fails if the file is stale

Module 05's formulas are checked one op at a time by gradcheck (test_gradcheck_ops.cpp). This file
checks them *composed*: a small MLP, softmax and log-softmax built from exp/sum/div, broadcasting
chains, overlapping views, max/min with ties, a layer norm built from mean/var, in-place updates of
non-leaves — each differentiated by torch.autograd, every gradient written out. Only module-01
ops are used (matmul, element-wise, reductions, views), so a mismatch points at the engine or at
a formula in derivatives.cpp, never at a module-02..04 kernel.

Deterministic: every input comes from a fixed integer recurrence (no torch random numbers), cases
are emitted in a fixed order. The tensor encoding is gen_module01.py's. Each case is

    {"name", "group", "note",
     "inputs": [{"name": "x", "requires_grad": true, "shape", "dtype", "values", "view"?}, ...],
     "expected": tensor                  the expression's value
     "grad_output": tensor               (only when the value is not a single element) the seed
     "grads": {"x": tensor, ...}         d(expected)/d(input) · grad_output for every input with
                                         requires_grad, from torch.autograd.backward
     "rtol"/"atol": optional tolerances}

An input's "view" ops are applied to the plain tensor BEFORE requires_grad is set: the result is
a non-contiguous leaf. The C++ side (modules/05_autograd/tests/test_reference.cpp) holds the same
expressions under the same names; a name present on one side only fails the test.

Two more lists test the pieces a learner writes before the engine exists, by calling them
directly (no graph, no engine):

    "sum_to":   [{"name", "grad": tensor, "shape": [...], "expected": tensor}]
                torch's grad.sum_to_size(shape): what derivatives.cpp's sum_to must return.
    "formulas": [{"name", "op", "inputs": [...], "args": {...}, "grad_output": tensor,
                  "grads": [tensor | null, ...]}]
                one op, same-shaped inputs (so no un-broadcasting is involved); "grads" is
                torch's gradient for each input in order (null: the input needs none). The C++
                test calls the op's formula from derivatives.h with the same grad_output.
"""

import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from refdata import command_line, header, write_or_check  # noqa: E402
from gen_module01 import apply_views, enc_tensor, numel  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(REPO, "tests", "data", "module05_reference.json")

CASES = []
NAMES = set()
F64 = torch.float64


# ── inputs ──────────────────────────────────────────────────────────────────────────────────


def uniform(shape, seed, lo=-1.0, hi=1.0):
    """Values in [lo, hi) from a 31-bit linear congruential recurrence: varied, and exact in
    float64 (each is lo + (hi - lo) · k / 2^31 with an integer k), so the JSON round-trips."""
    state = (seed * 2654435761 + 12345) % 2147483648
    out = []
    for _ in range(numel(shape)):
        state = (1103515245 * state + 12345) % 2147483648
        out.append(lo + (hi - lo) * (state / 2147483648.0))
    return out


class In:
    """One input of an expression: a name, values, whether it requires grad, optional views."""

    def __init__(self, name, shape, values, requires_grad=True, dtype="float64", view=None):
        assert len(values) == numel(shape), (name, shape, len(values))
        self.name, self.shape, self.values = name, list(shape), list(values)
        self.requires_grad, self.dtype, self.view = requires_grad, dtype, view or []

    def torch(self):
        dt = {"float64": torch.float64, "float32": torch.float32, "int64": torch.int64,
              "bool": torch.bool}[self.dtype]
        t = apply_views(torch.tensor(self.values, dtype=dt).reshape(self.shape), self.view)
        return t.requires_grad_(True) if self.requires_grad else t

    def enc(self):
        base = torch.tensor(self.values, dtype=getattr(torch, self.dtype)).reshape(self.shape)
        d = {"name": self.name, "requires_grad": self.requires_grad}
        d.update(enc_tensor(base))
        if self.view:
            d["view"] = self.view
        return d


def P(name, shape, seed, lo=-1.0, hi=1.0, **kw):
    """A parameter-like input (requires grad) with uniform values."""
    return In(name, shape, uniform(shape, seed, lo, hi), **kw)


def D(name, shape, seed, lo=-1.0, hi=1.0, **kw):
    """A data input (no grad)."""
    return In(name, shape, uniform(shape, seed, lo, hi), requires_grad=False, **kw)


def case(group, name, fn, inputs, note, rtol=None, atol=None):
    assert name not in NAMES, name
    NAMES.add(name)
    ts = [i.torch() for i in inputs]
    out = fn(*ts)
    c = {"name": name, "group": group, "note": note, "inputs": [i.enc() for i in inputs],
         "expected": enc_tensor(out.detach())}
    leaves = [t for t, i in zip(ts, inputs) if i.requires_grad]
    if out.numel() == 1:
        grads = torch.autograd.grad(out, leaves)
    else:
        g = torch.tensor(uniform(list(out.shape), seed=len(CASES) + 101, lo=-1.0, hi=1.0),
                         dtype=out.dtype).reshape(out.shape)
        c["grad_output"] = enc_tensor(g)
        grads = torch.autograd.grad(out, leaves, g)
    c["grads"] = {i.name: enc_tensor(gr) for i, gr in
                  zip([i for i in inputs if i.requires_grad], grads)}
    if rtol is not None:
        c["rtol"] = rtol
    if atol is not None:
        c["atol"] = atol
    CASES.append(c)


# ── the expressions (same names and order in test_reference.cpp) ────────────────────────────


def gen_mlp():
    def mlp2_mse(x, w1, b1, w2, b2, target):
        h = (x @ w1 + b1).clamp(min=0)
        out = h @ w2 + b2
        return (out - target).pow(2).mean()

    case("mlp", "mlp2_mse", mlp2_mse,
         [D("x", [8, 5], 1), P("w1", [5, 7], 2), P("b1", [7], 3), P("w2", [7, 3], 4),
          P("b2", [3], 5), D("target", [8, 3], 6)],
         "2-layer MLP: matmul, broadcast bias add, clamp(min=0) as ReLU, squared error mean")

    def mlp2_linear_layout(x, w1, b1, w2, b2):
        # nn.Linear's layout: weight [out, in], y = x · Wᵀ + b (a transposed view into matmul)
        h = (x @ w1.t() + b1).clamp(min=0)
        return (h @ w2.t() + b2).sum(1)

    case("mlp", "mlp2_linear_layout", mlp2_linear_layout,
         [P("x", [6, 4], 7), P("w1", [5, 4], 8), P("b1", [5], 9), P("w2", [3, 5], 10),
          P("b2", [3], 11)],
         "MLP with [out, in] weights used through .t(); the input requires grad too")

    def mlp_sigmoid_by_hand(x, w, b):
        z = x @ w + b
        s = 1.0 / (1.0 + (-z).exp())
        return (s * (1.0 - s)).sum()

    case("mlp", "mlp_sigmoid_by_hand", mlp_sigmoid_by_hand,
         [D("x", [5, 3], 12), P("w", [3, 4], 13), P("b", [4], 14)],
         "sigmoid from exp/rsub/div, its output used twice")


def gen_softmax():
    def softmax_stable(z, w):
        m = z.max(1, keepdim=True)[0]
        e = (z - m).exp()
        p = e / e.sum(1, keepdim=True)
        return (p * w).sum()

    case("softmax", "softmax_stable", softmax_stable,
         [P("z", [4, 6], 20, -3, 3), D("w", [4, 6], 21)],
         "softmax with the row max subtracted (max(dim) values are differentiated too)")

    def softmax_detached_max(z):
        m = z.max(1, keepdim=True)[0].detach()
        e = (z - m).exp()
        return e / e.sum(-1, keepdim=True)

    case("softmax", "softmax_detached_max", softmax_detached_max, [P("z", [3, 5], 22, -2, 2)],
         "softmax with a detached max: the same gradient, one path fewer")

    def log_softmax_nll(z, onehot):
        logp = z - z.exp().sum(1, keepdim=True).log()
        return -(logp * onehot).sum() / z.shape[0]

    onehot = [1.0 if j == (i * 3 + 1) % 5 else 0.0 for i in range(4) for j in range(5)]
    case("softmax", "log_softmax_nll", log_softmax_nll,
         [P("z", [4, 5], 23, -2, 2), In("onehot", [4, 5], onehot, requires_grad=False)],
         "cross entropy by hand: log-sum-exp, a one-hot mask, a mean over the batch")

    def softmax_dim0_transposed(z):
        e = z.exp()
        return e / e.sum(0)

    case("softmax", "softmax_dim0_transposed", softmax_dim0_transposed,
         [P("z", [5, 3], 24, view=[["t"]])],
         "softmax over dim 0 of a non-contiguous (transposed) leaf")


def gen_broadcast():
    def broadcast_chain(a, b, c):
        return (a * b + c) / (b.abs() + 1.5)

    case("broadcast", "broadcast_chain", broadcast_chain,
         [P("a", [3, 1, 4], 30), P("b", [2, 1], 31), P("c", [4], 32)],
         "[3,1,4] · [2,1] + [4], divided by a [2,1]: every input is summed back differently")

    def broadcast_scalar_0d(s, x):
        return (x * s - s.pow(2)).sum(0)

    case("broadcast", "broadcast_scalar_0d", broadcast_scalar_0d,
         [P("s", [], 33), P("x", [2, 3], 34)],
         "a 0-d tensor broadcast against a matrix (its gradient sums every position)")

    def broadcast_expand_explicit(r, x):
        return r.expand(3, 4) * x + r.squeeze(0)

    case("broadcast", "broadcast_expand_explicit", broadcast_expand_explicit,
         [P("r", [1, 4], 35), P("x", [3, 4], 36)],
         "an explicit expand and an implicit broadcast of the same leaf")

    def broadcast_batch_bias(x, b):
        return (x + b).mean((0, 1))

    case("broadcast", "broadcast_batch_bias", broadcast_batch_bias,
         [P("x", [2, 3, 4], 37), P("b", [3, 1], 38)],
         "a [3,1] bias over a [2,3,4] batch, then a mean over two dims")

    def sum_to_keepdim(x, y):
        return (x.expand(2, 3, 4) * y).sum((0, 2), keepdim=True)

    case("broadcast", "sum_to_keepdim", sum_to_keepdim,
         [P("x", [1, 3, 1], 39), P("y", [2, 3, 4], 40)],
         "expand a [1,3,1] leaf and reduce with keepdim")


def gen_views():
    def overlapping_slices(x):
        return x[0:3] * x[2:5] + x[1:4]

    case("views", "overlapping_slices", overlapping_slices, [P("x", [5, 4], 50)],
         "three overlapping row slices of one leaf: gradients add where they overlap")

    def strided_slices(x):
        a = torch.ops.aten.slice(torch.ops.aten.slice(x, 0, 0, 6, 2), 1, 1, 5, 2)
        b = torch.ops.aten.slice(torch.ops.aten.slice(x, 0, 1, 6, 2), 1, 0, 4, 2)
        return a * b

    case("views", "strided_slices", strided_slices, [P("x", [6, 5], 51)],
         "step-2 slices in both dims (x[::2, 1::2] · x[1::2, :4:2])")

    def transpose_permute_reshape(x):
        y = x.permute(2, 0, 1).reshape(4, 6) @ x.reshape(6, 4)
        return y.t() * 2.0

    case("views", "transpose_permute_reshape", transpose_permute_reshape, [P("x", [2, 3, 4], 52)],
         "reshape of a permuted (non-contiguous) tensor copies; reshape of the leaf is a view")

    def select_narrow_unsqueeze(x):
        return x.select(0, 1).unsqueeze(0) * x.narrow(0, 2, 2) + x[3].pow(2).sum()

    case("views", "select_narrow_unsqueeze", select_narrow_unsqueeze, [P("x", [4, 5], 53)],
         "select, unsqueeze, narrow and x[3] of one leaf")

    def as_strided_overlap(x):
        return x.as_strided([3, 3], [2, 1], 1) * x.as_strided([3, 3], [1, 3], 0)

    case("views", "as_strided_overlap", as_strided_overlap, [P("x", [3, 4], 54)],
         "as_strided windows that read storage elements several times")

    def flatten_squeeze_view(x):
        return x.squeeze(1).flatten() * x.view(6) + x.transpose(0, 2).reshape(-1)

    case("views", "flatten_squeeze_view", flatten_squeeze_view, [P("x", [2, 1, 3], 55)],
         "squeeze, flatten, view and a transposed reshape of a [2,1,3] leaf")

    def views_of_transposed_leaf(x):
        return x[1:, :3] * 3.0 + x.t()[0]

    case("views", "views_of_transposed_leaf", views_of_transposed_leaf,
         [P("x", [4, 3], 56, view=[["transpose", 0, 1]])],
         "slices of a non-contiguous leaf ([3,4] stored transposed)")


def ties_matrix():
    # Row maxima and minima with ties, and ties of the global max (2.5, three times) and
    # global min (-1.5, twice).
    return [0.5, 2.5, -1.5, 2.5,
            1.0, 1.0, 0.25, -0.75,
            2.5, -1.5, 0.125, 0.125]


def gen_extrema():
    def max_all_ties(x):
        return x.max() * 2.0 + x.min()

    case("extrema", "max_all_ties", max_all_ties, [In("x", [3, 4], ties_matrix())],
         "max()/min() over all elements: tied positions share the gradient evenly")

    def max_dim_ties(x, w):
        v = x.max(1)[0]
        return (v * w).sum() + x.min(0, keepdim=True)[0].sum()

    case("extrema", "max_dim_ties", max_dim_ties,
         [In("x", [3, 4], ties_matrix()), In("w", [3], [1.0, 2.0, 3.0], requires_grad=False)],
         "max(dim)/min(dim) with ties: the gradient goes to the (first) index returned")

    a = [0.5, -1.0, 2.0, 0.0, 1.5, -0.25]
    b = [0.5, 1.0, -2.0, 0.0, 1.25, -0.25]

    def maximum_minimum_ties(a, b):
        return a.maximum(b) * 2.0 + a.minimum(b) * 3.0

    case("extrema", "maximum_minimum_ties", maximum_minimum_ties,
         [In("a", [2, 3], a), In("b", [2, 3], b)],
         "maximum/minimum with equal entries: each side gets half")

    def maximum_broadcast(a, r):
        return a.maximum(r)

    case("extrema", "maximum_broadcast", maximum_broadcast,
         [In("a", [2, 3], a), In("r", [3], [0.5, 0.0, 0.0])],
         "maximum against a broadcast row, with ties: half of each tie, summed over rows")

    def clamp_boundaries(x):
        return x.clamp(-0.5, 0.5) * x

    case("extrema", "clamp_boundaries", clamp_boundaries,
         [In("x", [6], [-1.0, -0.5, 0.0, 0.25, 0.5, 2.0])],
         "clamp with values exactly on the bounds (the gradient passes there)")

    def abs_at_zero(x):
        return x.abs() + x * 0.5

    case("extrema", "abs_at_zero", abs_at_zero, [In("x", [5], [-2.0, -0.0, 0.0, 1e-300, 3.0])],
         "abs at ±0 has gradient 0 (sign(0))")


def gen_var():
    def var_unbiased_dim(x):
        return x.var(1)

    case("var", "var_unbiased_dim", var_unbiased_dim, [P("x", [4, 5], 60)],
         "var over dim 1 with Bessel's correction")

    def var_all_and_biased(x):
        return x.var() + x.var(0, unbiased=False, keepdim=True).sum()

    case("var", "var_all_and_biased", var_all_and_biased, [P("x", [3, 4], 61)],
         "var over everything plus a biased var(0, keepdim)")

    def layernorm_by_hand(x, gamma, beta, w):
        mu = x.mean(-1, keepdim=True)
        v = x.var(-1, unbiased=False, keepdim=True)
        y = (x - mu) / (v + 1e-5).sqrt() * gamma + beta
        return (y * w).sum()

    case("var", "layernorm_by_hand", layernorm_by_hand,
         [P("x", [4, 6], 62, -2, 2), P("gamma", [6], 63, 0.5, 1.5), P("beta", [6], 64),
          D("w", [4, 6], 65)],
         "layer norm from mean, var, sqrt and division, with an affine transform")


def gen_matmul():
    def matmul_1d_cases(v, m, u):
        return (v @ m) @ u + (m @ u) @ v

    case("matmul", "matmul_1d_cases", matmul_1d_cases,
         [P("v", [4], 70), P("m", [4, 3], 71), P("u", [3], 72)],
         "vector·matrix, matrix·vector and vector·vector (a 0-d result)")

    def matmul_batched_broadcast(a, b):
        return a @ b

    case("matmul", "matmul_batched_broadcast", matmul_batched_broadcast,
         [P("a", [2, 1, 3, 4], 73), P("b", [3, 4, 2], 74)],
         "batched matmul whose batch dims broadcast ([2,1] with [3])")

    def matmul_batch_times_matrix(a, w):
        return (a @ w).exp().sum((0, 2))

    case("matmul", "matmul_batch_times_matrix", matmul_batch_times_matrix,
         [P("a", [2, 3, 4], 75), P("w", [4, 5], 76)],
         "a batch of inputs times one matrix: the weight's gradient sums over the batch")

    def matmul_vec_batched(v, b):
        return v @ b

    case("matmul", "matmul_vec_batched", matmul_vec_batched,
         [P("v", [4], 77), P("b", [2, 4, 3], 78)],
         "a 1-d vector times a batch of matrices")

    def matmul_transposed_operands(a, b):
        return a.t() @ b.t()

    case("matmul", "matmul_transposed_operands", matmul_transposed_operands,
         [P("a", [4, 3], 79), P("b", [2, 4], 80)],
         "both operands transposed views")


def gen_elementwise():
    def pow_exp_log_sqrt(x, e):
        return x.pow(e) + x.log() * x.sqrt() - (x * 0.5).exp()

    case("elementwise", "pow_exp_log_sqrt", pow_exp_log_sqrt,
         [P("x", [2, 3], 90, 0.5, 2.0), P("e", [3], 91, -1.0, 2.0)],
         "pow with a tensor exponent (both gradients), log, sqrt, exp")

    def pow_scalar_base(x):
        return torch.pow(2.0, x) + x.pow(3.0)

    case("elementwise", "pow_scalar_base", pow_scalar_base, [P("x", [5], 92)],
         "2^x and x^3")

    def pow_zero_base(x, e):
        return x.pow(e)

    case("elementwise", "pow_zero_base", pow_zero_base,
         [In("x", [4], [0.0, 0.0, 2.0, 0.5]), In("e", [4], [2.0, 0.0, 0.0, 3.0])],
         "0^e and x^0: the special cases of pow's two gradients")

    def div_rsub_neg(x):
        return 1.0 / x + (2.0 - x) * (-x)

    case("elementwise", "div_rsub_neg", div_rsub_neg, [P("x", [2, 3], 93, 0.5, 2.0)],
         "scalar / tensor, scalar - tensor, unary minus")

    def where_select(x, y):
        return torch.where(x > 0, x * y, y.pow(2))

    case("elementwise", "where_select", where_select, [P("x", [3, 4], 94), P("y", [4], 95)],
         "where with a broadcast operand on both branches")


def gen_graphs():
    def diamond_reuse(x):
        y = x * 3.0
        return (y.exp() + y * y).sum()

    case("graph", "diamond_reuse", diamond_reuse, [P("x", [4], 100)],
         "one intermediate feeding three uses: its node runs once with the sum")

    def inplace_non_leaf(x, b, c):
        y = x * 2.0
        y.add_(b)
        y.mul_(c)
        y.div_(c + 1.0)
        y.sub_(x, alpha=0.5)
        return y * y

    case("graph", "inplace_non_leaf", inplace_non_leaf,
         [P("x", [3, 4], 101), P("b", [4], 102), P("c", [4], 103, 0.5, 2.0)],
         "in-place add_/mul_/div_/sub_ on a non-leaf, with broadcast operands")

    def inplace_copy_into_buffer(x):
        buf = torch.zeros(3, 4, dtype=F64)
        buf.copy_(x.t())
        return buf * buf.sum(0)

    case("graph", "inplace_copy_into_buffer", inplace_copy_into_buffer, [P("x", [4, 3], 104)],
         "copy_ into a plain buffer: the buffer joins the graph (CopyBackwards)")

    def long_chain(x):
        y = x
        for k in range(50):
            y = y * 1.01 + 0.001 * k
        return y.sum()

    case("graph", "long_chain", long_chain, [P("x", [3], 105)], "50 ops in a row")

    def mixed_dtype(w, x):
        return (w * x).sum()

    case("graph", "mixed_dtype", mixed_dtype,
         [P("w", [3], 106, dtype="float32"), D("x", [3], 107)],
         "a float32 leaf in a float64 expression: its gradient comes back in float32")


# ── the pieces on their own: sum_to and one formula at a time ───────────────────────────────

SUM_TO = []
FORMULAS = []


def sum_to_case(name, grad_shape, shape, seed):
    g = torch.tensor(uniform(grad_shape, seed), dtype=F64).reshape(grad_shape)
    SUM_TO.append({"name": name, "grad": enc_tensor(g), "shape": list(shape),
                   "expected": enc_tensor(g.sum_to_size(shape))})


def gen_sum_to():
    sum_to_case("same_shape", [3, 4], [3, 4], 200)
    sum_to_case("leading_dim", [2, 3, 4], [3, 4], 201)
    sum_to_case("stretched_dims", [2, 3, 4], [1, 3, 1], 202)
    sum_to_case("leading_and_stretched", [2, 3, 4], [3, 1], 203)
    sum_to_case("to_vector", [5, 2, 4], [4], 204)
    sum_to_case("to_scalar", [2, 3], [], 205)
    sum_to_case("to_size_one", [2, 3], [1], 206)
    sum_to_case("keep_ones", [4, 1, 3], [1, 1, 3], 207)


def formula(name, op, inputs, args=None, needs=None):
    """inputs: list of In; torch differentiates w.r.t. those with requires_grad."""
    ts = [i.torch() for i in inputs]
    args = args or {}
    out = FORMULA_OPS[op](*ts, **args)
    g = torch.tensor(uniform(list(out.shape), seed=len(FORMULAS) + 300), dtype=out.dtype).reshape(
        out.shape)
    wrt = [t for t, i in zip(ts, inputs) if i.requires_grad]
    got = iter(torch.autograd.grad(out, wrt, g, allow_unused=True))
    grads = []
    for i in inputs:
        gi = next(got) if i.requires_grad else None
        grads.append(enc_tensor(gi) if gi is not None else None)
    FORMULAS.append({"name": name, "op": op, "inputs": [i.enc() for i in inputs], "args": args,
                     "grad_output": enc_tensor(g), "grads": grads})


def _max_dim(x, dim, keepdim):
    return x.max(dim, keepdim=keepdim)[0]


def _min_dim(x, dim, keepdim):
    return x.min(dim, keepdim=keepdim)[0]


FORMULA_OPS = {
    "add": lambda a, b, alpha: torch.add(a, b, alpha=alpha),
    "sub": lambda a, b, alpha: torch.sub(a, b, alpha=alpha),
    "mul": torch.mul,
    "div": torch.div,
    "pow": torch.pow,
    "neg": torch.neg,
    "exp": torch.exp,
    "log": torch.log,
    "sqrt": torch.sqrt,
    "abs": torch.abs,
    "clamp": lambda x, min=None, max=None: torch.clamp(x, min=min, max=max),
    "maximum": torch.maximum,
    "minimum": torch.minimum,
    "where": lambda c, a, b: torch.where(c, a, b),
    "sum": lambda x, dims, keepdim: x.sum(dims, keepdim=keepdim) if dims else x.sum(),
    "mean": lambda x, dims, keepdim: x.mean(dims, keepdim=keepdim) if dims else x.mean(),
    "var": lambda x, dims, unbiased, keepdim: x.var(dims, unbiased=unbiased, keepdim=keepdim),
    "max_all": lambda x: x.max(),
    "min_all": lambda x: x.min(),
    "max_dim": _max_dim,
    "min_dim": _min_dim,
    "matmul": torch.matmul,
    "reshape": lambda x, shape: x.reshape(shape),
    "transpose": lambda x, dim0, dim1: x.transpose(dim0, dim1),
    "permute": lambda x, dims: x.permute(dims),
    "unsqueeze": lambda x, dim: x.unsqueeze(dim),
    "squeeze": lambda x, dim: x.squeeze(dim),
    "expand": lambda x, sizes: x.expand(sizes),
    "select": lambda x, dim, index: x.select(dim, index),
    "slice": lambda x, dim, start, end, step: torch.ops.aten.slice(x, dim, start, end, step),
    "as_strided": lambda x, sizes, strides, offset: x.as_strided(sizes, strides, offset),
}


def gen_formulas():
    a, b = P("self", [3, 4], 310), P("other", [3, 4], 311)
    pos = P("self", [3, 4], 312, 0.5, 2.0)
    formula("add_alpha", "add", [a, b], {"alpha": 2.5})
    formula("sub_alpha", "sub", [a, b], {"alpha": 0.5})
    formula("mul", "mul", [a, b])
    formula("mul_only_other", "mul", [D("self", [3, 4], 313), b])
    formula("div", "div", [a, P("other", [3, 4], 314, 0.5, 2.0)])
    formula("pow_tensor", "pow", [pos, P("other", [3, 4], 315, -1.0, 2.0)])
    formula("pow_zero_cases", "pow", [In("self", [4], [0.0, 0.0, 2.0, 0.5]),
                                      In("other", [4], [2.0, 0.0, 0.0, 3.0])])
    formula("neg", "neg", [a])
    formula("exp", "exp", [a])
    formula("log", "log", [pos])
    formula("sqrt", "sqrt", [pos])
    formula("abs", "abs", [In("self", [5], [-2.0, -0.5, 0.0, 0.5, 2.0])])
    formula("clamp_both", "clamp", [In("self", [6], [-1.0, -0.5, 0.0, 0.25, 0.5, 2.0])],
            {"min": -0.5, "max": 0.5})
    formula("clamp_min", "clamp", [a], {"min": 0.0})
    ties_a = In("self", [2, 3], [0.5, -1.0, 2.0, 0.0, 1.5, -0.25])
    ties_b = In("other", [2, 3], [0.5, 1.0, -2.0, 0.0, 1.25, -0.25])
    formula("maximum_ties", "maximum", [ties_a, ties_b])
    formula("minimum_ties", "minimum", [ties_a, ties_b])
    cond = In("condition", [3, 4], [k % 3 == 0 for k in range(12)], requires_grad=False,
              dtype="bool")
    formula("where", "where", [cond, a, b])
    x = P("self", [2, 3, 4], 316)
    formula("sum_all", "sum", [x], {"dims": [], "keepdim": False})
    formula("sum_dims", "sum", [x], {"dims": [0, 2], "keepdim": False})
    formula("sum_keepdim", "sum", [x], {"dims": [-1], "keepdim": True})
    formula("mean_all", "mean", [x], {"dims": [], "keepdim": False})
    formula("mean_dim", "mean", [x], {"dims": [1], "keepdim": False})
    formula("var_unbiased", "var", [x], {"dims": [2], "unbiased": True, "keepdim": False})
    formula("var_biased_keepdim", "var", [x], {"dims": [0, 1], "unbiased": False,
                                               "keepdim": True})
    ties = In("self", [3, 4], ties_matrix())
    formula("max_all_ties", "max_all", [ties])
    formula("min_all_ties", "min_all", [ties])
    formula("max_dim_ties", "max_dim", [ties], {"dim": 1, "keepdim": False})
    formula("min_dim_keepdim", "min_dim", [ties], {"dim": 0, "keepdim": True})
    formula("matmul_2d", "matmul", [P("self", [3, 4], 317), P("other", [4, 2], 318)])
    formula("matmul_1d_2d", "matmul", [P("self", [4], 319), P("other", [4, 3], 320)])
    formula("matmul_2d_1d", "matmul", [P("self", [3, 4], 321), P("other", [4], 322)])
    formula("matmul_1d_1d", "matmul", [P("self", [4], 323), P("other", [4], 324)])
    formula("matmul_batch_matrix", "matmul", [P("self", [2, 3, 4], 325), P("other", [4, 2], 326)])
    formula("matmul_broadcast_batch", "matmul",
            [P("self", [2, 1, 3, 4], 327), P("other", [3, 4, 2], 328)])
    formula("matmul_only_other", "matmul", [D("self", [3, 4], 329), P("other", [4, 2], 330)])
    formula("reshape", "reshape", [x], {"shape": [4, 6]})
    formula("transpose", "transpose", [x], {"dim0": 0, "dim1": 2})
    formula("permute", "permute", [x], {"dims": [2, 0, 1]})
    formula("unsqueeze", "unsqueeze", [a], {"dim": 1})
    formula("squeeze", "squeeze", [P("self", [3, 1, 2], 331)], {"dim": 1})
    formula("expand", "expand", [P("self", [3, 1], 332)], {"sizes": [2, 3, 4]})
    formula("select", "select", [x], {"dim": 1, "index": -1})
    formula("slice_step", "slice", [P("self", [7, 3], 333)],
            {"dim": 0, "start": 1, "end": 6, "step": 2})
    formula("as_strided_overlap", "as_strided", [a], {"sizes": [3, 3], "strides": [2, 1],
                                                      "offset": 1})


def main():
    opts = command_line(__doc__, OUT)
    torch.set_default_dtype(torch.float32)

    gen_mlp()
    gen_softmax()
    gen_broadcast()
    gen_views()
    gen_extrema()
    gen_var()
    gen_matmul()
    gen_elementwise()
    gen_graphs()
    gen_sum_to()
    gen_formulas()

    doc = {
        **header(__file__),
    }
    # One case per line (inputs also have a "name" key, so the cases are joined explicitly).
    def lines(items):
        return ",\n".join(json.dumps(c, separators=(",", ":"), allow_nan=False) for c in items)

    head = json.dumps(doc, separators=(",", ":"))
    text = (head[:-1] + ',"cases":[\n' + lines(CASES) + '],\n"sum_to":[\n' + lines(SUM_TO) +
            '],\n"formulas":[\n' + lines(FORMULAS) + "]}\n")
    return write_or_check(opts.out, text, opts.check,
                          f"{len(CASES)} cases, {len(SUM_TO)} sum_to, {len(FORMULAS)} formulas")


if __name__ == "__main__":
    sys.exit(main())
