#!/usr/bin/python3
"""Writes tests/data/amp_autocast_reference.json: what PyTorch's CPU autocast does to each op
TinyTorch hooks (tests/amp/test_autocast.cpp reads it).

Run from anywhere (Debian's python3-torch 1.13, hence /usr/bin/python3):

    /usr/bin/python3 tools/reference/gen_amp_autocast.py          # writes the file
    /usr/bin/python3 tools/reference/gen_amp_autocast.py --check  # fails if the file is stale

Sections:

  dtype_cases  {"name", "input_dtype", "output_dtype"}: the op run under
               torch.autocast("cpu", torch.bfloat16) with every floating operand of input_dtype
               (float32 or bfloat16); output_dtype is the result's dtype, or "error" where
               PyTorch 1.13 raises (layer_norm with a bfloat16 input and float32 weight: not in
               any autocast list, so the mixed operands reach the kernel). The values of the
               operands do not matter here; the C++ test builds its own of the same shapes.
  cases        {"name": "mlp", ...}: Linear(8→16) → ReLU → Linear(16→5) → cross_entropy on
               float32 parameters, forward under autocast, backward() outside it. Every input is
               a bfloat16-representable float32 (so the casts are exact and only the ops round):
               x, w1, b1, w2, b2, target; h (the first Linear's bfloat16 output), logits
               (bfloat16), loss (float32), and the float32 gradients of w1, b1, w2, b2.
"""

import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from refdata import command_line, header, one_case_per_line, write_or_check  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(REPO, "tests", "data", "amp_autocast_reference.json")

DTYPE_NAMES = {torch.float32: "float32", torch.bfloat16: "bfloat16", torch.float64: "float64",
               torch.int64: "int64"}


def rnd(*shape, dt):
    return torch.randn(*shape).to(dt)


def pos(*shape, dt):  # in (0, 1): probabilities and targets of binary_cross_entropy
    return torch.rand(*shape).mul(0.8).add(0.1).to(dt)


def idx(*values):
    return torch.tensor(values)


# name → the op on operands of dtype d. The C++ test has one runner per name (same shapes).
OPS = {
    # lower_precision_fp
    "linear": lambda d: F.linear(rnd(2, 3, dt=d), rnd(4, 3, dt=d), rnd(4, dt=d)),
    "matmul": lambda d: torch.matmul(rnd(2, 3, dt=d), rnd(3, 4, dt=d)),
    "mm": lambda d: torch.mm(rnd(2, 3, dt=d), rnd(3, 4, dt=d)),
    "mm_with_bf16": lambda d: torch.mm(rnd(2, 3, dt=d), rnd(3, 4, dt=torch.bfloat16)),
    "bmm": lambda d: torch.bmm(rnd(2, 2, 3, dt=d), rnd(2, 3, 4, dt=d)),
    "addmm": lambda d: torch.addmm(rnd(2, 4, dt=d), rnd(2, 3, dt=d), rnd(3, 4, dt=d)),
    "baddbmm": lambda d: torch.baddbmm(rnd(2, 2, 4, dt=d), rnd(2, 2, 3, dt=d), rnd(2, 3, 4, dt=d)),
    "conv1d": lambda d: F.conv1d(rnd(1, 2, 5, dt=d), rnd(3, 2, 3, dt=d), rnd(3, dt=d)),
    "conv2d": lambda d: F.conv2d(rnd(1, 2, 5, 5, dt=d), rnd(3, 2, 3, 3, dt=d), rnd(3, dt=d)),
    # 1.13 has no scaled_dot_product_attention: its multi-head attention (linear, bmm, softmax)
    # is the attention entry; the C++ runner is nn::MultiheadAttention.
    "multi_head_attention": lambda d: F.multi_head_attention_forward(
        rnd(3, 1, 4, dt=d), rnd(3, 1, 4, dt=d), rnd(3, 1, 4, dt=d), 4, 2, rnd(12, 4, dt=d),
        rnd(12, dt=d), None, None, False, 0.0, rnd(4, 4, dt=d), rnd(4, dt=d), training=False,
        need_weights=False)[0],
    # in no list: run in the dtype that arrives
    "softmax": lambda d: F.softmax(rnd(2, 3, dt=d), -1),
    "log_softmax": lambda d: F.log_softmax(rnd(2, 3, dt=d), -1),
    "layer_norm": lambda d: F.layer_norm(rnd(2, 3, dt=d), (3,), rnd(3, dt=d), rnd(3, dt=d)),
    "layer_norm_f32_weight": lambda d: F.layer_norm(rnd(2, 3, dt=d), (3,),
                                                    rnd(3, dt=torch.float32),
                                                    rnd(3, dt=torch.float32)),
    "gelu": lambda d: F.gelu(rnd(2, 3, dt=d)),
    "relu": lambda d: F.relu(rnd(2, 3, dt=d)),
    "sum": lambda d: rnd(2, 3, dt=d).sum(),
    "mean": lambda d: rnd(2, 3, dt=d).mean(),
    "embedding": lambda d: F.embedding(idx(0, 2), rnd(3, 4, dt=d)),
    "batch_norm": lambda d: F.batch_norm(rnd(2, 3, dt=d), rnd(3, dt=d), pos(3, dt=d),
                                         rnd(3, dt=d), rnd(3, dt=d), training=False),
    "max_pool2d": lambda d: F.max_pool2d(rnd(1, 1, 4, 4, dt=d), 2),
    "avg_pool2d": lambda d: F.avg_pool2d(rnd(1, 1, 4, 4, dt=d), 2),
    "adaptive_avg_pool2d": lambda d: F.adaptive_avg_pool2d(rnd(1, 1, 4, 4, dt=d), 1),
    # fp32
    "conv_transpose2d": lambda d: F.conv_transpose2d(rnd(1, 2, 5, 5, dt=d), rnd(2, 3, 3, 3, dt=d),
                                                     rnd(3, dt=d)),
    # reflect over 1 or 2 dims, replicate over 1 to 3 (reflection_pad1d/2d, replication_pad1d/2d/3d).
    # The other modes are in no list, but TinyTorch's pad has no bfloat16 kernel to run them on.
    "pad_reflect_1d": lambda d: F.pad(rnd(1, 2, 5, dt=d), (2, 1), mode="reflect"),
    "pad_reflect_2d": lambda d: F.pad(rnd(1, 2, 4, 4, dt=d), (1, 2, 2, 1), mode="reflect"),
    "pad_replicate_2d": lambda d: F.pad(rnd(1, 2, 4, 4, dt=d), (1, 2, 2, 1), mode="replicate"),
    "pad_replicate_3d": lambda d: F.pad(rnd(1, 1, 3, 3, 3, dt=d), (1, 1, 1, 0, 1, 1),
                                        mode="replicate"),
    "prod": lambda d: rnd(2, 3, dt=d).prod(),
    "cross_entropy": lambda d: F.cross_entropy(rnd(2, 3, dt=d), idx(0, 2)),
    "nll_loss": lambda d: F.nll_loss(rnd(2, 3, dt=d), idx(0, 2)),
    "mse_loss": lambda d: F.mse_loss(rnd(2, 3, dt=d), rnd(2, 3, dt=d)),
    "l1_loss": lambda d: F.l1_loss(rnd(2, 3, dt=d), rnd(2, 3, dt=d)),
    "smooth_l1_loss": lambda d: F.smooth_l1_loss(rnd(2, 3, dt=d), rnd(2, 3, dt=d)),
    "huber_loss": lambda d: F.huber_loss(rnd(2, 3, dt=d), rnd(2, 3, dt=d)),
    "binary_cross_entropy": lambda d: F.binary_cross_entropy(pos(2, 3, dt=d), pos(2, 3, dt=d)),
    "binary_cross_entropy_with_logits": lambda d: F.binary_cross_entropy_with_logits(
        rnd(2, 3, dt=d), pos(2, 3, dt=d)),
    "kl_div": lambda d: F.kl_div(rnd(2, 3, dt=d), pos(2, 3, dt=d)),
    # operands of both dtypes: the result is the wider one (cat and stack under autocast's
    # promote rule, where and add by their own type promotion)
    "cat_with_bf16": lambda d: torch.cat([rnd(2, 3, dt=d), rnd(2, 3, dt=torch.bfloat16)]),
    "stack_with_bf16": lambda d: torch.stack([rnd(2, 3, dt=d), rnd(2, 3, dt=torch.bfloat16)]),
    "where_with_bf16": lambda d: torch.where(rnd(2, 3, dt=torch.float32) > 0, rnd(2, 3, dt=d),
                                             rnd(2, 3, dt=torch.bfloat16)),
    "add_with_bf16": lambda d: rnd(2, 3, dt=d) + rnd(2, 3, dt=torch.bfloat16),
    # float64 is never cast
    "linear_float64": lambda d: F.linear(rnd(2, 3, dt=torch.float64), rnd(4, 3, dt=torch.float64)),
}


def dtype_cases():
    torch.manual_seed(0)
    cases = []
    for name, fn in OPS.items():
        for d in (torch.float32, torch.bfloat16):
            try:
                with torch.autocast("cpu", torch.bfloat16):
                    out = DTYPE_NAMES[fn(d).dtype]
            except RuntimeError:
                out = "error"
            cases.append({"name": name, "input_dtype": DTYPE_NAMES[d], "output_dtype": out})
    return cases


def enc(t):
    t = t.detach()
    return {"shape": list(t.shape), "dtype": DTYPE_NAMES[t.dtype],
            "values": t.reshape(-1).tolist()}


def pattern(shape, seed, scale):
    """Deterministic values in about [-scale, scale], rounded to bfloat16 and held as float32."""
    n = math.prod(shape)
    vals = [scale * math.sin(0.7 * i + 1.3 * seed + 0.1) for i in range(n)]
    return torch.tensor(vals).reshape(shape).bfloat16().float()


def mlp_case():
    x = pattern((4, 8), 0, 1.0)
    w1 = pattern((16, 8), 1, 0.5).requires_grad_()
    b1 = pattern((16,), 2, 0.1).requires_grad_()
    w2 = pattern((5, 16), 3, 0.5).requires_grad_()
    b2 = pattern((5,), 4, 0.1).requires_grad_()
    target = torch.tensor([0, 3, 1, 4])
    with torch.autocast("cpu", torch.bfloat16):
        h = F.linear(x, w1, b1)
        logits = F.linear(F.relu(h), w2, b2)
        loss = F.cross_entropy(logits, target)
    loss.backward()
    return {"name": "mlp", "x": enc(x), "w1": enc(w1), "b1": enc(b1), "w2": enc(w2),
            "b2": enc(b2), "target": enc(target), "h": enc(h), "logits": enc(logits),
            "loss": enc(loss), "grad_w1": enc(w1.grad), "grad_b1": enc(b1.grad),
            "grad_w2": enc(w2.grad), "grad_b2": enc(b2.grad)}


def main():
    opts = command_line(__doc__, OUT)
    dcases = dtype_cases()
    doc = {**header(__file__), "dtype_cases": dcases, "cases": [mlp_case()]}
    return write_or_check(opts.out, one_case_per_line(doc), opts.check,
                          f"{len(dcases)} dtype cases, 1 value case")


if __name__ == "__main__":
    sys.exit(main())
