#!/usr/bin/env python3
"""PyTorch's side of `./tito bench ops` (bench/ops_bench.cpp runs it): softmax, log_softmax and
cross_entropy, forward and forward+backward, timed exactly as our side is timed: the median of many
calls on one input; forward+backward is the op on an input that requires grad, then
torch.autograd.grad for a fixed grad_output (nothing accumulates into .grad).

Prints one JSON object on its last line, with PyTorch's configuration (bench/torch_bench_common.py).

  /usr/bin/python3 bench/ops_torch.py --threads 1 [--quick]
  /usr/bin/python3 bench/ops_torch.py --describe     (the configuration only)
"""
import argparse
import json
import statistics
import sys
import time

import torch
import torch.nn.functional as F

from torch_bench_common import configuration

# (op, shape, dim): the same list, in the same order, as bench/ops_bench.cpp's kCases.
CASES = [
    ("softmax", [4096, 1024], 1),
    ("softmax", [65536, 16], 1),
    ("softmax", [8, 1024, 512], 1),
    ("softmax", [1024, 16, 256], 1),
    ("log_softmax", [4096, 1024], 1),
    ("log_softmax", [65536, 16], 1),
    ("log_softmax", [8, 1024, 512], 1),
    ("log_softmax", [1024, 16, 256], 1),
    ("cross_entropy", [8192, 65], 1),
    ("cross_entropy", [256, 1000], 1),
]


def median_seconds(f, warmup, count):
    for _ in range(warmup):
        f()
    times = []
    for _ in range(count):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def measure(op, shape, dim, warmup, count):
    x = torch.randn(*shape) * 3.0
    target = torch.randint(0, shape[1], (shape[0],))
    if op == "softmax":
        forward = lambda t: torch.softmax(t, dim)  # noqa: E731
    elif op == "log_softmax":
        forward = lambda t: torch.log_softmax(t, dim)  # noqa: E731
    else:
        forward = lambda t: F.cross_entropy(t, target)  # noqa: E731
    grad_output = torch.ones(()) if op == "cross_entropy" else torch.randn(*shape)
    leaf = x.detach().requires_grad_(True)
    fwd = median_seconds(lambda: forward(x), warmup, count)  # x needs no grad: no graph
    fwd_bwd = median_seconds(
        lambda: torch.autograd.grad(forward(leaf), leaf, grad_output), warmup, count)
    return {"op": op, "shape": shape, "dim": dim, "forward_seconds": fwd,
            "forward_backward_seconds": fwd_bwd}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--describe", action="store_true",
                        help="print PyTorch's configuration as JSON and exit")
    args = parser.parse_args()
    if args.describe:
        print(json.dumps(configuration()))
        return
    if args.threads is None or args.threads < 1:
        sys.exit("--threads (at least 1) is required")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    warmup, count = (2, 5) if args.quick else (10, 50)
    results = [measure(op, shape, dim, warmup, count) for op, shape, dim in CASES]
    print(json.dumps({"impl": "torch", "threads": torch.get_num_threads(), "results": results,
                      **configuration()}))


if __name__ == "__main__":
    main()
