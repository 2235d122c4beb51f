#!/usr/bin/python3
"""Writes tests/data/module06_reference.json: PyTorch's optimizer steps, LR schedules and clipping.

Run from anywhere (Debian's python3-torch, hence /usr/bin/python3):

    /usr/bin/python3 tools/reference/gen_module06.py          # writes the file
    /usr/bin/python3 tools/reference/gen_module06.py --check  # fails if the file is stale

Nothing here is random: parameters and gradients come from fixed integer formulas, so the file
is a pure function of this script and PyTorch's update rules. Three lists:

  "optimizers": one case per (optimizer, hyper-parameters, dtype). PyTorch replays a fixed
      sequence of gradients on fixed parameters, with the gradients SET directly (p.grad = g), so
      the C++ test needs no backward pass:
        {"name", "optimizer": "SGD"|"Adam"|"AdamW"|"RMSprop"|"Adagrad", "dtype",
         "groups": [{"options": {...} (overrides of "defaults"), "params": [0, 2]}, ...],
         "defaults": {...},                      libtorch option names (see below)
         "params": [tensor, ...],                initial values, global order
         "grads": [[tensor | null, ...], ...],   one list per step; null = no gradient that step
         "scheduler": {...} | absent,            stepped after every optimizer step
         "expected": [[tensor, ...], ...],       every parameter after each step
         "lrs": [[lr per group], ...],           each group's lr after each step
         "state": {"<i>": {"step": n, "<buffer>": tensor}}   PyTorch's state after the last step}
      Option names: lr, momentum, dampening, weight_decay, nesterov (SGD); lr, beta1, beta2, eps,
      weight_decay, amsgrad (Adam, AdamW); lr, alpha, eps, weight_decay, momentum, centered
      (RMSprop); lr, lr_decay, weight_decay, initial_accumulator_value, eps (Adagrad). State
      buffer names are PyTorch's (momentum_buffer, exp_avg, exp_avg_sq, max_exp_avg_sq,
      square_avg, grad_avg, sum).

  "schedulers": {"name", "scheduler": "StepLR"|"CosineAnnealingLR"|"LinearLR", "args": {...},
      "base_lrs": [...], "lrs": [[...] after construction, [...] after step 1, ...],
      "closed_form": [[...], ...]  (the scheduler's _get_closed_form_lr at the same epochs)}
      StepLR (here and as an optimizer's "scheduler") has libtorch's C++ timing, one step later
      than Python's: refdata.LibtorchStepLR. The other two are Python's; libtorch has no C++ class.

  "clipping": {"name", "fn": "clip_grad_norm_"|"clip_grad_value_", "grads": [tensor, ...],
      "args": {...}, "total_norm": float (norm only), "expected": [tensor, ...]}

Tensors are {"shape", "dtype", "values"} as in module 01's reference file (values flat,
row-major; a float32 value is written as the exact float64 it converts to).
"""

import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from refdata import (LibtorchStepLR, command_line, header, one_case_per_line,  # noqa: E402
                     write_or_check)

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(REPO, "tests", "data", "module06_reference.json")

DTYPES = {"float32": torch.float32, "float64": torch.float64}
DTYPE_NAMES = {v: k for k, v in DTYPES.items()}

# ── encoding ────────────────────────────────────────────────────────────────────────────────


def enc_number(v):
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def enc_tensor(t):
    t = t.detach()
    flat = t.reshape(-1).tolist() if t.dim() > 0 else [t.item()]
    return {"shape": list(t.shape), "dtype": DTYPE_NAMES[t.dtype],
            "values": [enc_number(v) for v in flat]}


# ── deterministic inputs ────────────────────────────────────────────────────────────────────


def numel(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def pattern(shape, seed):
    """Varied values in about [-1.4, 1.4], never exactly 0, from an integer formula."""
    out = []
    for i in range(numel(shape)):
        k = (i * 37 + seed * 11 + 5) % 23 - 11  # in [-11, 11]
        out.append(k / 8.0 + (0.0625 if k >= 0 else -0.0625) + (i % 3) / 96.0)
    return out


def make(shape, seed, dtype, scale=1.0):
    vals = [v * scale for v in pattern(shape, seed)]
    return torch.tensor(vals, dtype=torch.float64).reshape(shape).to(DTYPES[dtype])


# Shapes of the parameters every case optimizes: a matrix, a vector and a scalar-like tensor.
SHAPES = [[3, 4], [5], [1]]
# Gradient scale per step: large, then small (so amsgrad's running max matters), sign flips.
SCALES = [1.0, 0.5, -2.0, 0.1, 1.5, -0.05]


def grads_for(dtype, skip=()):
    """grads[step][param]; (step, param) pairs in `skip` get no gradient (None)."""
    out = []
    for s, scale in enumerate(SCALES):
        row = []
        for p, shape in enumerate(SHAPES):
            row.append(None if (s, p) in skip else make(shape, 100 + 7 * s + p, dtype, scale))
        out.append(row)
    return out


# ── optimizers ──────────────────────────────────────────────────────────────────────────────

OPTIMIZERS = []


def torch_options(opt, o):
    """libtorch option names -> torch.optim keyword arguments."""
    o = dict(o)
    if opt in ("Adam", "AdamW"):
        b1 = o.pop("beta1", None)
        b2 = o.pop("beta2", None)
        if b1 is not None or b2 is not None:
            o["betas"] = (0.9 if b1 is None else b1, 0.999 if b2 is None else b2)
    return o


def torch_state(opt, st):
    out = {}
    for k, v in st.items():
        if k == "step":
            out["step"] = int(v.item()) if torch.is_tensor(v) else int(v)
        elif torch.is_tensor(v):
            out[k] = enc_tensor(v)
    return out


def scheduler_class(kind):
    """The class whose lrs the C++ scheduler `kind` must reproduce: StepLR keeps libtorch's C++
    timing (a step later than Python's, see refdata.LibtorchStepLR); the others, which libtorch's
    C++ API does not have, are Python's."""
    return LibtorchStepLR if kind == "StepLR" else getattr(torch.optim.lr_scheduler, kind)


def make_scheduler(optimizer, spec):
    if spec is None:
        return None
    args = dict(spec)
    kind = args.pop("type")
    return scheduler_class(kind)(optimizer, **args)


def add_optimizer_case(name, opt, defaults, dtype, groups=None, skip=(), scheduler=None):
    """groups: list of (param indices, option overrides); default: one group with everything."""
    if groups is None:
        groups = [(list(range(len(SHAPES))), {})]
    params = [make(shape, 10 + i, dtype).requires_grad_() for i, shape in enumerate(SHAPES)]
    initial = [enc_tensor(p) for p in params]
    cls = getattr(torch.optim, opt)
    torch_groups = [dict(params=[params[i] for i in idx], **torch_options(opt, o))
                    for idx, o in groups]
    kw = torch_options(opt, defaults)
    kw["foreach"] = False  # the single-tensor loop: the reference update rule
    optimizer = cls(torch_groups, **kw)
    sched = make_scheduler(optimizer, scheduler)
    grads = grads_for(dtype, skip)
    expected, lrs = [], []
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = None if g is None else g.clone()
        optimizer.step()
        if sched is not None:
            sched.step()
        expected.append([enc_tensor(p) for p in params])
        lrs.append([float(g["lr"]) for g in optimizer.param_groups])
    state = {}
    for i, p in enumerate(params):
        if p in optimizer.state and len(optimizer.state[p]) > 0:
            state[str(i)] = torch_state(opt, optimizer.state[p])
    case = {
        "name": f"{name}_{dtype}",
        "optimizer": opt,
        "dtype": dtype,
        "defaults": defaults,
        "groups": [{"params": idx, "options": o} for idx, o in groups],
        "params": initial,
        "grads": [[None if g is None else enc_tensor(g) for g in row] for row in grads],
        "expected": expected,
        "lrs": lrs,
        "state": state,
    }
    if scheduler is not None:
        case["scheduler"] = scheduler
    OPTIMIZERS.append(case)


def gen_optimizers():
    two_groups = [([0], {}), ([1, 2], {"lr": 0.01})]
    for dtype in ("float32", "float64"):
        # SGD: plain, momentum (first buffer = the gradient, no dampening), dampening, Nesterov,
        # L2 weight decay, and two parameter groups with their own options.
        add_optimizer_case("sgd_plain", "SGD", {"lr": 0.1}, dtype)
        add_optimizer_case("sgd_momentum", "SGD", {"lr": 0.1, "momentum": 0.9}, dtype)
        add_optimizer_case("sgd_dampening", "SGD",
                           {"lr": 0.05, "momentum": 0.8, "dampening": 0.3}, dtype)
        add_optimizer_case("sgd_nesterov", "SGD",
                           {"lr": 0.1, "momentum": 0.9, "nesterov": True}, dtype)
        add_optimizer_case("sgd_weight_decay", "SGD",
                           {"lr": 0.1, "momentum": 0.5, "weight_decay": 0.1}, dtype)
        add_optimizer_case("sgd_nesterov_weight_decay", "SGD",
                           {"lr": 0.2, "momentum": 0.7, "nesterov": True, "weight_decay": 0.05},
                           dtype)
        add_optimizer_case("sgd_groups", "SGD", {"lr": 0.1, "momentum": 0.9}, dtype,
                           groups=[([0], {}), ([1, 2], {"lr": 0.01, "momentum": 0.5,
                                                         "nesterov": True})])
        add_optimizer_case("sgd_skip", "SGD", {"lr": 0.1, "momentum": 0.9}, dtype,
                           skip={(0, 1), (3, 1), (2, 0)})
        # Adam / AdamW: defaults, L2 vs decoupled decay, amsgrad (grads shrink, so the running
        # max of v differs from v), fast betas, a large eps.
        add_optimizer_case("adam_default", "Adam", {"lr": 0.01}, dtype)
        add_optimizer_case("adam_weight_decay", "Adam", {"lr": 0.01, "weight_decay": 0.1}, dtype)
        add_optimizer_case("adam_amsgrad", "Adam",
                           {"lr": 0.02, "beta1": 0.5, "beta2": 0.6, "amsgrad": True}, dtype)
        add_optimizer_case("adam_eps", "Adam",
                           {"lr": 0.05, "beta1": 0.8, "beta2": 0.9, "eps": 0.1,
                            "weight_decay": 0.02}, dtype)
        add_optimizer_case("adam_groups_skip", "Adam", {"lr": 0.01}, dtype,
                           groups=[([0], {}), ([1, 2], {"lr": 0.03, "amsgrad": True})],
                           skip={(0, 2), (4, 0)})
        add_optimizer_case("adamw_default", "AdamW", {"lr": 0.01}, dtype)
        add_optimizer_case("adamw_amsgrad", "AdamW",
                           {"lr": 0.05, "weight_decay": 0.5, "beta1": 0.5, "beta2": 0.6,
                            "amsgrad": True}, dtype)
        # RMSprop: plain, momentum (buffer starts at zero), centered, all together, fast alpha.
        add_optimizer_case("rmsprop_plain", "RMSprop", {"lr": 0.01}, dtype)
        add_optimizer_case("rmsprop_momentum", "RMSprop", {"lr": 0.01, "momentum": 0.9}, dtype)
        add_optimizer_case("rmsprop_centered", "RMSprop", {"lr": 0.01, "centered": True}, dtype)
        add_optimizer_case("rmsprop_all", "RMSprop",
                           {"lr": 0.02, "alpha": 0.5, "eps": 1e-3, "weight_decay": 0.1,
                            "momentum": 0.5, "centered": True}, dtype)
        # Adagrad: plain, lr_decay (the step-decayed lr), weight decay with a starting
        # accumulator, everything with a large eps, and groups with a skipped step (a parameter's
        # own step count drives its lr decay).
        add_optimizer_case("adagrad_plain", "Adagrad", {"lr": 0.1}, dtype)
        add_optimizer_case("adagrad_lr_decay", "Adagrad", {"lr": 0.1, "lr_decay": 0.5}, dtype)
        add_optimizer_case("adagrad_weight_decay", "Adagrad",
                           {"lr": 0.05, "weight_decay": 0.1, "initial_accumulator_value": 0.3},
                           dtype)
        add_optimizer_case("adagrad_all", "Adagrad",
                           {"lr": 0.2, "lr_decay": 0.1, "weight_decay": 0.05,
                            "initial_accumulator_value": 1.0, "eps": 1e-2}, dtype)
        add_optimizer_case("adagrad_groups_skip", "Adagrad", {"lr": 0.1, "lr_decay": 0.2}, dtype,
                           groups=[([0], {}), ([1, 2], {"lr": 0.03, "weight_decay": 0.2})],
                           skip={(0, 2), (2, 2), (4, 0)})
        # An optimizer driven by a scheduler: each step uses the lr the schedule set.
        add_optimizer_case("sgd_cosine", "SGD", {"lr": 0.1, "momentum": 0.9}, dtype,
                           groups=two_groups,
                           scheduler={"type": "CosineAnnealingLR", "T_max": 4, "eta_min": 0.001})
        add_optimizer_case("adam_linear_warmup", "Adam", {"lr": 0.01}, dtype,
                           scheduler={"type": "LinearLR", "start_factor": 0.25,
                                      "end_factor": 1.0, "total_iters": 3})


# ── schedulers ──────────────────────────────────────────────────────────────────────────────

SCHEDULERS = []


def add_scheduler_case(name, kind, args, steps, base_lrs=(0.1, 0.03)):
    ps = [torch.zeros(1, requires_grad=True) for _ in base_lrs]
    opt = torch.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(ps, base_lrs)], lr=0.5)
    sched = scheduler_class(kind)(opt, **args)
    lrs = [list(sched.get_last_lr())]
    closed = [list(sched._get_closed_form_lr())]
    for _ in range(steps):
        opt.step()
        sched.step()
        lrs.append(list(sched.get_last_lr()))
        closed.append(list(sched._get_closed_form_lr()))
    SCHEDULERS.append({"name": name, "scheduler": kind, "args": args, "base_lrs": list(base_lrs),
                       "lrs": lrs, "closed_form": closed})


def gen_schedulers():
    add_scheduler_case("step_3_half", "StepLR", {"step_size": 3, "gamma": 0.5}, 12)
    add_scheduler_case("step_1_decay", "StepLR", {"step_size": 1, "gamma": 0.9}, 25)
    # Past T_max the cosine turns back up: 3 periods exercise every branch of get_lr().
    add_scheduler_case("cosine_10", "CosineAnnealingLR", {"T_max": 10, "eta_min": 0.001}, 45)
    add_scheduler_case("cosine_7_zero", "CosineAnnealingLR", {"T_max": 7}, 30)
    add_scheduler_case("cosine_1", "CosineAnnealingLR", {"T_max": 1, "eta_min": 0.01}, 6)
    add_scheduler_case("linear_warmup", "LinearLR",
                       {"start_factor": 0.25, "end_factor": 1.0, "total_iters": 8}, 12)
    add_scheduler_case("linear_default", "LinearLR", {}, 8)
    add_scheduler_case("linear_decay", "LinearLR",
                       {"start_factor": 1.0, "end_factor": 0.1, "total_iters": 4}, 7)


# ── gradient clipping ───────────────────────────────────────────────────────────────────────

CLIPPING = []


def add_clip_case(name, fn, dtype, scales, args):
    ps = []
    for i, (shape, scale) in enumerate(zip(SHAPES, scales)):
        p = torch.zeros(shape, dtype=DTYPES[dtype], requires_grad=True)
        p.grad = make(shape, 200 + i, dtype, scale)
        ps.append(p)
    grads = [enc_tensor(p.grad) for p in ps]
    case = {"name": f"{name}_{dtype}", "fn": fn, "grads": grads, "args": args}
    if fn == "clip_grad_norm_":
        total = torch.nn.utils.clip_grad_norm_(ps, **args)
        case["total_norm"] = float(total)
    else:
        torch.nn.utils.clip_grad_value_(ps, **args)
    case["expected"] = [enc_tensor(p.grad) for p in ps]
    CLIPPING.append(case)


def gen_clipping():
    for dtype in ("float32", "float64"):
        add_clip_case("norm2_clips", "clip_grad_norm_", dtype, [1, 2, 3], {"max_norm": 1.0})
        add_clip_case("norm2_no_clip", "clip_grad_norm_", dtype, [1, 1, 1], {"max_norm": 100.0})
        add_clip_case("norm1", "clip_grad_norm_", dtype, [1, 0.5, 2],
                      {"max_norm": 2.0, "norm_type": 1.0})
        add_clip_case("norm3", "clip_grad_norm_", dtype, [1, 0.5, 2],
                      {"max_norm": 0.5, "norm_type": 3.0})
        add_clip_case("norm_inf", "clip_grad_norm_", dtype, [1, 0.5, 4],
                      {"max_norm": 0.75, "norm_type": float("inf")})
        add_clip_case("value", "clip_grad_value_", dtype, [1, 0.5, 2], {"clip_value": 0.5})


def main():
    opts = command_line(__doc__, OUT)
    torch.set_default_dtype(torch.float32)
    import warnings
    warnings.simplefilter("ignore")  # the scheduler's "call optimizer.step() first" warnings

    gen_optimizers()
    gen_schedulers()
    gen_clipping()

    def clean(obj):  # JSON has no infinity: write it as module 01 does
        if isinstance(obj, float) and math.isinf(obj):
            return "inf" if obj > 0 else "-inf"
        if isinstance(obj, dict):
            return {k: clean(v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [clean(v) for v in obj]
        return obj

    doc = clean({
        **header(__file__),
        "optimizers": OPTIMIZERS,
        "schedulers": SCHEDULERS,
        "clipping": CLIPPING,
    })
    text = one_case_per_line(doc)
    n = len(OPTIMIZERS) + len(SCHEDULERS) + len(CLIPPING)
    return write_or_check(opts.out, text, opts.check,
                          f"{n} cases ({len(OPTIMIZERS)} optimizer, {len(SCHEDULERS)} scheduler, "
                          f"{len(CLIPPING)} clipping)")


if __name__ == "__main__":
    sys.exit(main())
