#!/usr/bin/python3
"""Writes tests/data/amp_optim_reference.json: optimizer steps on bfloat16/float16 parameters.

Run from anywhere (Debian's python3-torch 1.13, hence /usr/bin/python3):

    /usr/bin/python3 tools/reference/gen_amp_optim.py          # writes the file
    /usr/bin/python3 tools/reference/gen_amp_optim.py --check  # fails if the file is stale

Nothing is random: parameters and gradients come from integer formulas and are exactly
representable in bfloat16 and float16. Gradients are SET (p.grad = g), so no backward is needed.
Each case: {"name", "optimizer", "options" (libtorch names), "dtype" (the model's), "mode",
"params": [tensor], "grads": [[tensor per param] per step], "expected": [[param after step s]],
"expected_master": [[...]] (mode "master" only)}. Modes — four ways to step a low-precision
parameter, each computed here with torch.optim:

  "pytorch"        torch.optim (1.13, foreach off) on the bfloat16 parameters themselves: every
                   tensor op of the update rounds its result to bfloat16 (exp_avg.mul_(b1) and
                   .add_(g, alpha=1-b1) round twice). TinyTorch's default computes each step in
                   float32 and rounds each stored tensor once, so the test allows a tolerance.
  "round_once"     TinyTorch's default rule, exactly: torch.optim on float32 copies of parameter
                   and state, and after every step parameter AND state rounded to the dtype.
  "float32_state"  the float32_state(true) option: the same, but only the parameter is rounded
                   (the state stays float32).
  "master"         amp::MasterWeights: torch.optim on float32 master copies (gradients widened
                   from the dtype); the model's parameter is the master rounded to the dtype.

The float32 work of the last three is PyTorch's float32 optimizer, which TinyTorch's float32
kernels match to float32 rounding; rounding to 8 (11) significant bits then almost always hides
that difference (see the test for the tolerance).
"""

import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from refdata import command_line, header, one_case_per_line, write_or_check  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(REPO, "tests", "data", "amp_optim_reference.json")

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
DTYPE_NAMES = {v: k for k, v in DTYPES.items()}


def enc_tensor(t):
    t = t.detach()
    return {"shape": list(t.shape), "dtype": DTYPE_NAMES[t.dtype],
            "values": [float(v) for v in t.reshape(-1).float().tolist()]}


# ── deterministic inputs (exact in bfloat16 and float16: at most 8 significant bits) ────────

SHAPES = [[2, 3], [4]]
STEPS = 4


def make(shape, seed, scale):
    n = math.prod(shape)
    vals = []
    for i in range(n):
        k = (i * 37 + seed * 11 + 5) % 23 - 11  # in [-11, 11]
        vals.append((k + (0.5 if k >= 0 else -0.5)) / 8.0 * scale)  # odd multiples of 1/16
    return torch.tensor(vals, dtype=torch.float64).reshape(shape)


def inputs(dtype):
    params = [make(s, p, 1.0).to(dtype) for p, s in enumerate(SHAPES)]
    scales = [1.0, -0.5, 0.25, 2.0]
    grads = [[make(s, 100 + 7 * step + p, scales[step]).to(dtype) for p, s in enumerate(SHAPES)]
             for step in range(STEPS)]
    return params, grads


# ── optimizers (libtorch option names → torch.optim keywords) ────────────────────────────────

OPTIMIZERS = [
    ("SGD", {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01}),
    ("Adam", {"lr": 0.01}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.5}),
    ("Adagrad", {"lr": 0.1}),
]


def make_optimizer(name, params, options):
    cls = getattr(torch.optim, name)
    kwargs = dict(options)
    if name in ("Adam", "AdamW", "RMSprop", "SGD", "Adagrad"):
        kwargs["foreach"] = False  # the single-tensor path: one tensor op per line of the rule
    return cls(params, **kwargs)


def round_(t, dtype):
    """t ← t rounded to dtype (round to nearest even), kept in t's own dtype."""
    with torch.no_grad():
        t.copy_(t.to(dtype).to(t.dtype))


def run(name, options, dtype, mode):
    params, grads = inputs(dtype)
    case = {"name": f"{name}_{DTYPE_NAMES[dtype]}_{mode}", "optimizer": name, "options": options,
            "dtype": DTYPE_NAMES[dtype], "mode": mode,
            "params": [enc_tensor(p) for p in params],
            "grads": [[enc_tensor(g) for g in row] for row in grads], "expected": []}
    if mode == "pytorch":
        work = [p.clone().requires_grad_() for p in params]
    else:
        work = [p.float().requires_grad_() for p in params]
    opt = make_optimizer(name, work, options)
    if mode == "master":
        case["expected_master"] = []
    for row in grads:
        for w, g in zip(work, row):
            w.grad = g.to(w.dtype)  # exact widening
        opt.step()
        if mode in ("round_once", "float32_state"):
            for w in work:
                round_(w, dtype)
                if mode == "round_once":
                    for buf in opt.state[w].values():
                        if torch.is_tensor(buf) and buf.is_floating_point() and buf.dim() > 0:
                            round_(buf, dtype)
        case["expected"].append([enc_tensor(w.detach().to(dtype)) for w in work])
        if mode == "master":
            case["expected_master"].append([enc_tensor(w) for w in work])
    return case


def main():
    opts = command_line(__doc__, OUT)
    cases = []
    for name, options in OPTIMIZERS:
        if name in ("SGD", "Adam", "AdamW"):
            cases.append(run(name, options, torch.bfloat16, "pytorch"))
        for mode in ("round_once", "float32_state", "master"):
            cases.append(run(name, options, torch.bfloat16, mode))
    # float16: PyTorch 1.13 has no CPU float16 sqrt, so no "pytorch" mode; the float32 work is
    # rounded to float16 instead.
    for name, options in OPTIMIZERS:
        if name in ("SGD", "AdamW"):
            for mode in ("round_once", "master"):
                cases.append(run(name, options, torch.float16, mode))
    doc = {**header(__file__), "cases": cases}
    return write_or_check(opts.out, one_case_per_line(doc), opts.check, f"{len(cases)} cases")


if __name__ == "__main__":
    sys.exit(main())
