#!/usr/bin/python3
"""Writes tests/data/custom_function_reference.json: custom autograd Functions run by PyTorch.

Run from anywhere (Debian's python3-torch, hence /usr/bin/python3):

    /usr/bin/python3 tools/reference/gen_custom_function.py          # writes the file
    /usr/bin/python3 tools/reference/gen_custom_function.py --check  # fails if the file is stale

Each case is a torch.autograd.Function (the Python twin of libtorch's torch::autograd::Function,
with the same rules for mark_dirty, mark_non_differentiable, inputs returned as they are and
materialized gradients) applied to fixed float64 inputs. The C++ side
(modules/05_autograd/tests/test_custom_function.cpp) writes the same Functions with
torch::autograd::Function under the same case names. A case is

    {"name", "note",
     "inputs": [{"name", "requires_grad", "shape", "dtype", "values"}, ...],
     "outputs": [tensor, ...]            every output of the expression, in order
     "grad_outputs": [tensor | null]     the seed of each output (null: the output is not
                                         differentiable and gets none)
     "grads": {"x": tensor, ...}         torch.autograd.grad of the seeded outputs, for every
                                         input with requires_grad}

Inputs come from gen_module05.py's integer recurrence, so the file is deterministic.
"""

import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from refdata import command_line, header, write_or_check  # noqa: E402
from gen_module01 import enc_tensor  # noqa: E402
from gen_module05 import P, uniform  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(REPO, "tests", "data", "custom_function_reference.json")

CASES = []


# ── the Functions (the same ones, in C++, in test_custom_function.cpp) ──────────────────────


class LinearFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        return x.mm(weight.t()) + bias

    @staticmethod
    def backward(ctx, g):
        x, weight = ctx.saved_tensors
        return g.mm(weight), g.t().mm(x), g.sum(0)


class MulInplace(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, k):
        ctx.k = k
        x.mul_(k)
        ctx.mark_dirty(x)
        return x

    @staticmethod
    def backward(ctx, g):
        return g * ctx.k, None


class ExpAndMask(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        e = x.exp()
        mask = (x > 0).to(x.dtype)
        ctx.mark_non_differentiable(mask)
        ctx.save_for_backward(e)
        return e, mask

    @staticmethod
    def backward(ctx, g_e, g_mask):
        (e,) = ctx.saved_tensors
        return g_e * e


class ReturnInput(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, k):
        ctx.k = k
        return x, x * k

    @staticmethod
    def backward(ctx, g_x, g_scaled):
        return g_x + g_scaled * ctx.k, None


# ── cases ────────────────────────────────────────────────────────────────────────────────────


def case(name, fn, inputs, note):
    ts = [i.torch() for i in inputs]
    outs = fn(*ts)
    seeds = []
    for k, o in enumerate(outs):
        if o.requires_grad:
            seeds.append(torch.tensor(uniform(list(o.shape), seed=len(CASES) * 10 + k + 501),
                                      dtype=o.dtype).reshape(o.shape))
        else:
            seeds.append(None)
    diff = [(o, s) for o, s in zip(outs, seeds) if s is not None]
    leaves = [t for t, i in zip(ts, inputs) if i.requires_grad]
    grads = torch.autograd.grad([o for o, _ in diff], leaves, [s for _, s in diff])
    CASES.append({
        "name": name, "note": note, "inputs": [i.enc() for i in inputs],
        "outputs": [enc_tensor(o.detach()) for o in outs],
        "grad_outputs": [enc_tensor(s) if s is not None else None for s in seeds],
        "grads": {i.name: enc_tensor(g) for i, g in
                  zip([i for i in inputs if i.requires_grad], grads)},
    })


def gen():
    case("linear", lambda x, w, b: (LinearFunction.apply(x, w, b),),
         [P("x", [4, 3], 1), P("weight", [2, 3], 2), P("bias", [2], 3)],
         "saved inputs; one gradient per input")

    def mul_inplace_view(x):
        b = x * 2
        MulInplace.apply(b.narrow(0, 1, 2), 3.0)  # rows 1..2 of b, written through a view
        return (b,)
    case("mul_inplace_view", mul_inplace_view, [P("x", [4, 3], 4)],
         "mark_dirty on a view: the base's history becomes CopySlices(the Function)")

    case("exp_and_mask", lambda x: ExpAndMask.apply(x), [P("x", [2, 5], 5)],
         "mark_non_differentiable: the mask gets no gradient; backward receives zeros for it")

    case("return_input", lambda x: ReturnInput.apply(x, 3.0), [P("x", [3, 2], 6)],
         "an input returned as it is: a new tensor over the same data, with the node as history")


def main():
    opts = command_line(__doc__, OUT)
    torch.set_default_dtype(torch.float32)
    gen()
    doc = {**header(__file__)}
    head = json.dumps(doc, separators=(",", ":"))
    body = ",\n".join(json.dumps(c, separators=(",", ":"), allow_nan=False) for c in CASES)
    text = head[:-1] + ',"cases":[\n' + body + "]}\n"
    return write_or_check(opts.out, text, opts.check, f"{len(CASES)} cases")


if __name__ == "__main__":
    sys.exit(main())
