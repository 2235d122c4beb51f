#!/usr/bin/python3
"""Writes tests/data/module05_higher_reference.json: PyTorch's higher-order gradients.

Run from anywhere (Debian's python3-torch, hence /usr/bin/python3):

    /usr/bin/python3 tools/reference/gen_module05_higher.py          # writes the file
    /usr/bin/python3 tools/reference/gen_module05_higher.py --check  # fails if the file is stale

Every case differentiates a small float64 MLP, out = linear(tanh(linear(x, w1, b1)), w2, b2)
(x [4, 3], w1 [5, 3], w2 [2, 5]), and then differentiates a gradient of it again — the backward
pass recorded with create_graph=True:

    gradient_penalty    g = d(out.sum())/dx;  loss = Σ g²                    → d loss / d params
    wgan_gp             loss = mse(out, target) + mean((‖g_row‖₂ − 1)²)     → d loss / d params
    hessian_vector      g = d mse(out, target) / d w1;  Σ g·v               → d / d (w1, w2, x)

Each case is {"name", "note", "inputs": [{"name", "requires_grad", tensor}...],
"first_order": tensor (g), "value": tensor (the loss, or Σ g·v), "grads": {name: tensor | null}}
— null where PyTorch returns None (the second-order loss does not depend on that input, e.g. b2:
the gradient penalty cannot see a constant shift). The C++ side is
modules/05_autograd/tests/test_higher_order.cpp (GradientPenalty.*, HessianVectorProduct.*).
Inputs come from gen_module05.py's integer recurrence: no torch random numbers.
"""

import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from refdata import command_line, header, one_case_per_line, write_or_check  # noqa: E402
from gen_module01 import enc_tensor  # noqa: E402
from gen_module05 import uniform  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(REPO, "tests", "data", "module05_higher_reference.json")
F64 = torch.float64
SHAPES = {"x": [4, 3], "w1": [5, 3], "b1": [5], "w2": [2, 5], "b2": [2], "target": [4, 2],
          "v": [5, 3]}


def inputs(seed):
    """The MLP's tensors, each from its own stream of the recurrence."""
    out = {}
    for k, (name, shape) in enumerate(SHAPES.items()):
        values = uniform(shape, seed * 10 + k)
        out[name] = torch.tensor(values, dtype=F64).reshape(shape)
    return out


def mlp(t):
    return F.linear(torch.tanh(F.linear(t["x"], t["w1"], t["b1"])), t["w2"], t["b2"])


def case(name, note, seed, wrt, second_order):
    """second_order(t) → (first-order gradient g, the scalar differentiated again)."""
    t = inputs(seed)
    for n in ("x", "w1", "b1", "w2", "b2"):
        t[n].requires_grad_(True)
    g, value = second_order(t)
    grads = torch.autograd.grad(value, [t[n] for n in wrt], allow_unused=True)
    return {
        "name": name, "note": note,
        "inputs": [{"name": n, "requires_grad": t[n].requires_grad, **enc_tensor(t[n].detach())}
                   for n in SHAPES],
        "first_order": enc_tensor(g.detach()), "value": enc_tensor(value.detach()),
        "grads": {n: (enc_tensor(gr) if gr is not None else None) for n, gr in zip(wrt, grads)},
    }


def gradient_penalty(t):
    g, = torch.autograd.grad(mlp(t).sum(), t["x"], create_graph=True)
    return g, (g * g).sum()


def wgan_gp(t):
    out = mlp(t)
    g, = torch.autograd.grad(out.sum(), t["x"], create_graph=True)
    penalty = (g.pow(2).sum(1).sqrt() - 1).pow(2).mean()
    return g, F.mse_loss(out, t["target"]) + penalty


def hessian_vector(t):
    g, = torch.autograd.grad(F.mse_loss(mlp(t), t["target"]), t["w1"], create_graph=True)
    return g, (g * t["v"]).sum()


def main():
    opts = command_line(__doc__, OUT)
    params = ["x", "w1", "b1", "w2", "b2"]
    cases = [
        case("gradient_penalty", "sum of squared input gradients", 1, params, gradient_penalty),
        case("wgan_gp", "mse plus the WGAN-GP penalty (row norms, sqrt)", 2, params, wgan_gp),
        case("hessian_vector", "Hessian of the mse w.r.t. w1 times v, and its mixed terms", 3,
             ["w1", "w2", "x"], hessian_vector),
    ]
    doc = {**header(__file__), "cases": cases}
    return write_or_check(opts.out, one_case_per_line(doc), opts.check, f"{len(cases)} cases")


if __name__ == "__main__":
    sys.exit(main())
