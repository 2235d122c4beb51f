#!/usr/bin/python3
"""Writes tests/data/module16_reference.json: PyTorch's answers for module 16 (compression).

    /usr/bin/python3 tools/reference/gen_module16.py          # writes the file
    /usr/bin/python3 tools/reference/gen_module16.py --check  # fails if the file is stale

Deterministic: every matrix is a fixed formula (no random numbers). Matrices are nested lists of
float64 values. Cases ("group"):

  svd       {"a": [m][n], "S": torch.linalg.svdvals(a)}              (float64)
  kl_div    {"input", "target", "reduction": none|sum|mean|batchmean, "log_target",
             "expected", "grad_output", "grad_input", "grad_target"}  (torch.nn.functional.kl_div)
            grad_target is null where target = 0 and not log_target: torch 1.13 gives NaN there
            (d/dp of p·log p is −∞ at 0); tinytorch defines it as 0 (the entry is not in the sum)
  distill   {"student", "teacher", "labels", "T", "alpha", "expected", "grad_student"}
            Hinton's loss written out in PyTorch: α·T²·kl_div(log_softmax(s/T), softmax(t/T),
            batchmean) + (1 − α)·cross_entropy(s, labels)
  prune     {"kind": l1_unstructured | global_unstructured | ln_structured,
             "weights": [w...], "amounts": [...], "n"?, "masks": [mask...]}
            from torch.nn.utils.prune on nn.Linear layers (amounts applied one after another;
            an int amount is a count, a float a fraction; ln_structured along dim 0)
"""

import math
import os
import sys
import warnings

import torch
import torch.nn.functional as F
from torch.nn.utils import prune

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from refdata import command_line, header, one_case_per_line, write_or_check  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(REPO, "tests", "data", "module16_reference.json")

CASES = []


def formula(m, n, seed):
    """A fixed, full-rank-looking matrix: sin of an irrational-ish mix of the indices."""
    return torch.tensor([[math.sin(1.3 * i + 0.71 * j * j + 0.37 * seed * (i + 1)) + 0.1 * (i == j)
                          for j in range(n)] for i in range(m)], dtype=torch.float64)


def lst(t):
    """Nested lists; a NaN (torch's gradient of p·log p at p = 0) becomes null."""
    def clean(v):
        if isinstance(v, list):
            return [clean(e) for e in v]
        return None if isinstance(v, float) and math.isnan(v) else v
    return clean(t.detach().tolist())


def svd_cases():
    mats = {
        "tall_7x4": formula(7, 4, 1),
        "wide_3x6": formula(3, 6, 2),
        "square_5x5": formula(5, 5, 3),
        "rank2_6x4": formula(6, 2, 4) @ formula(2, 4, 5),  # rank 2: two zero singular values
        "zero_column_4x3": torch.cat([formula(4, 2, 6), torch.zeros(4, 1, dtype=torch.float64)], 1),
        "one_by_one": torch.tensor([[-3.0]], dtype=torch.float64),
        "graded_5x5": formula(5, 5, 7) @ torch.diag(torch.tensor([1.0, 1e-2, 1e-4, 1e-6, 1e-8],
                                                                 dtype=torch.float64)),
    }
    for name, a in mats.items():
        CASES.append({"name": "svd_" + name, "group": "svd", "a": lst(a),
                      "S": lst(torch.linalg.svdvals(a))})


def kl_cases():
    # reduction='mean' is tested on purpose (it is ATen's default); PyTorch warns that it is not
    # the KL divergence per sample.
    warnings.filterwarnings("ignore", message="reduction: 'mean' divides")
    x = torch.log_softmax(formula(3, 5, 8) * 2, 1)
    p = torch.softmax(formula(3, 5, 9) * 3, 1)
    p_zero = p.clone()
    p_zero[1, 2] = 0.0  # 0·log 0 = 0, and no gradient for that target entry
    for target_name, target, log_target in [("probs", p_zero, False), ("log_probs", p.log(), True)]:
        for reduction in ["none", "sum", "mean", "batchmean"]:
            xi = x.clone().requires_grad_(True)
            ti = target.clone().requires_grad_(True)
            out = F.kl_div(xi, ti, reduction=reduction, log_target=log_target)
            g = torch.ones_like(out) if reduction != "none" else formula(3, 5, 10)
            if reduction != "none":
                g = torch.tensor(0.75, dtype=torch.float64)
            out.backward(g)
            CASES.append({"name": f"kl_div_{target_name}_{reduction}", "group": "kl_div",
                          "input": lst(x), "target": lst(target), "reduction": reduction,
                          "log_target": log_target, "expected": lst(out), "grad_output": lst(g),
                          "grad_input": lst(xi.grad), "grad_target": lst(ti.grad)})


def distill_cases():
    s0 = formula(4, 5, 11) * 2
    t0 = formula(4, 5, 12) * 3
    labels = torch.tensor([0, 3, 1, 4])
    for T, alpha in [(1.0, 0.5), (4.0, 0.9), (2.0, 0.0), (3.0, 1.0)]:
        s = s0.clone().requires_grad_(True)
        soft = F.kl_div(F.log_softmax(s / T, 1), F.softmax(t0 / T, 1), reduction="batchmean")
        loss = alpha * T * T * soft + (1 - alpha) * F.cross_entropy(s, labels)
        loss.backward()
        CASES.append({"name": f"distill_T{T}_a{alpha}", "group": "distill", "student": lst(s0),
                      "teacher": lst(t0), "labels": labels.tolist(), "T": T, "alpha": alpha,
                      "expected": loss.item(), "grad_student": lst(s.grad)})


def linear_with(w):
    lin = torch.nn.Linear(w.shape[1], w.shape[0]).double()
    with torch.no_grad():
        lin.weight.copy_(w)
    return lin


def prune_cases():
    w1 = formula(4, 6, 13)
    w2 = formula(3, 4, 14) * 0.5
    for amounts in [[0.4], [5], [0.5, 0.5], [0.3, 4], [0.0], [1.0]]:
        lin = linear_with(w1)
        for a in amounts:
            prune.l1_unstructured(lin, "weight", amount=a)
        CASES.append({"name": "l1_unstructured_" + "_".join(map(str, amounts)), "group": "prune",
                      "kind": "l1_unstructured", "weights": [lst(w1)], "amounts": amounts,
                      "masks": [lst(lin.weight_mask)]})
    for amounts in [[0.5], [10], [0.25, 0.5]]:
        a, b = linear_with(w1), linear_with(w2)
        for amt in amounts:
            prune.global_unstructured([(a, "weight"), (b, "weight")],
                                      pruning_method=prune.L1Unstructured, amount=amt)
        CASES.append({"name": "global_unstructured_" + "_".join(map(str, amounts)),
                      "group": "prune", "kind": "global_unstructured", "weights": [lst(w1), lst(w2)],
                      "amounts": amounts, "masks": [lst(a.weight_mask), lst(b.weight_mask)]})
    w3 = formula(6, 4, 15)
    for n in [1, 2]:
        for amt in [0.5, 2]:
            lin = linear_with(w3)
            prune.ln_structured(lin, "weight", amount=amt, n=n, dim=0)
            CASES.append({"name": f"ln_structured_n{n}_{amt}", "group": "prune",
                          "kind": "ln_structured", "n": n, "weights": [lst(w3)], "amounts": [amt],
                          "masks": [lst(lin.weight_mask)]})


def main():
    opts = command_line(__doc__, OUT)
    svd_cases()
    kl_cases()
    distill_cases()
    prune_cases()
    doc = {**header(__file__), "cases": CASES}
    return write_or_check(opts.out, one_case_per_line(doc), opts.check, f"{len(CASES)} cases")


if __name__ == "__main__":
    sys.exit(main())
