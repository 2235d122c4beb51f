#!/usr/bin/python3
"""Writes tests/data/module15_qgemm.json: integer GEMM products and PyTorch's dynamically quantized
Linear, for module 15's int8 GEMM (kernels/qgemm.h).

Run from anywhere (Debian's python3-torch 1.13 and python3-numpy, hence /usr/bin/python3):

    /usr/bin/python3 tools/reference/gen_module15_qgemm.py          # writes the file
    /usr/bin/python3 tools/reference/gen_module15_qgemm.py --check  # fails if the file is stale

Deterministic: every input is a fixed formula, written out in full (flat, row-major).

Cases (one list, "cases"; each has "name" and "op"):

  qgemm  "M", "N", "K", "A" (uint8 [M, K]), "B" (int8 [N, K]), "C" = A · Bᵀ (int32 [M, N]),
         computed by NumPy in int64 (so no overflow can hide). Shapes with tails in every
         dimension (K not a multiple of 4 or 32, N not of 16, M not of 4 or 8), full-range
         activations (> 127), and the saturation edges A = 127 / 255 against B = −128.
  dynamic_linear
         "M", "N", "K", "x" [M, K], "weight" [N, K], "bias" [N] (float32), "y_float" = x·Wᵀ + b in
         float64, and "y_torch": torch.ao.quantization.quantize_dynamic(nn.Linear) on PyTorch's default
         engine, named in "torch_engine" (Debian's 1.13 has onednn and qnnpack, no fbgemm), with
         int8 weights per tensor, for a sanity comparison.
"""

import os
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from refdata import command_line, header, one_case_per_line, write_or_check  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(REPO, "tests", "data", "module15_qgemm.json")


def qgemm_case(name, M, N, K, a_fn, b_fn):
    A = np.array([[a_fn(m, k) for k in range(K)] for m in range(M)], dtype=np.int64)
    B = np.array([[b_fn(n, k) for k in range(K)] for n in range(N)], dtype=np.int64)
    assert A.min() >= 0 and A.max() <= 255 and B.min() >= -128 and B.max() <= 127
    C = A @ B.T
    return {"name": name, "op": "qgemm", "M": M, "N": N, "K": K,
            "A": A.flatten().tolist(), "B": B.flatten().tolist(), "C": C.flatten().tolist()}


def full_a(m, k):
    return (37 * m + 11 * k + 5) % 256


def seven_bit_a(m, k):
    return (29 * m + 13 * k + 1) % 128


def b_pattern(n, k):
    return (13 * n + 7 * k + 3) % 256 - 128


def linear_case(name, M, N, K):
    x = np.array([[np.sin(0.37 * m + 0.11 * k) * 2.0 + 0.3 for k in range(K)] for m in range(M)],
                 dtype=np.float32)
    w = np.array([[np.cos(0.23 * n + 0.19 * k) * 0.1 for k in range(K)] for n in range(N)],
                 dtype=np.float32)
    b = np.array([0.05 * n - 0.2 for n in range(N)], dtype=np.float32)
    y_float = x.astype(np.float64) @ w.astype(np.float64).T + b.astype(np.float64)
    layer = nn.Linear(K, N)
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(w))
        layer.bias.copy_(torch.from_numpy(b))
    q = torch.ao.quantization.quantize_dynamic(nn.Sequential(layer), {nn.Linear}, dtype=torch.qint8)
    with torch.no_grad():
        y_torch = q(torch.from_numpy(x)).numpy()
    return {"name": name, "op": "dynamic_linear", "M": M, "N": N, "K": K,
            "x": x.flatten().tolist(), "weight": w.flatten().tolist(), "bias": b.flatten().tolist(),
            "y_float": y_float.flatten().tolist(), "y_torch": y_torch.flatten().tolist(),
            "torch_engine": torch.backends.quantized.engine}


CASES = [
    qgemm_case("1x1x1", 1, 1, 1, full_a, b_pattern),
    qgemm_case("3x5x7_full_range", 3, 5, 7, full_a, b_pattern),
    qgemm_case("5x17x33_full_range", 5, 17, 33, full_a, b_pattern),
    qgemm_case("9x33x13_seven_bit", 9, 33, 13, seven_bit_a, b_pattern),
    qgemm_case("13x31x70_seven_bit", 13, 31, 70, seven_bit_a, b_pattern),
    qgemm_case("8x16x64_a127_b-128", 8, 16, 64, lambda m, k: 127, lambda n, k: -128),
    qgemm_case("5x19x66_a255_b-128", 5, 19, 66, lambda m, k: 255, lambda n, k: -128),
    linear_case("linear_4x6x10", 4, 6, 10),
    linear_case("linear_7x19x37", 7, 19, 37),
]


def main():
    opts = command_line(__doc__, OUT)
    doc = {**header(__file__), "cases": CASES}
    return write_or_check(opts.out, one_case_per_line(doc), opts.check, f"{len(CASES)} cases")


if __name__ == "__main__":
    sys.exit(main())
