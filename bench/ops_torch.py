#!/usr/bin/env python3
"""PyTorch's side of `./tito bench ops` (bench/ops_bench.cpp runs it): softmax, log_softmax,
cross_entropy, layer_norm, a 1x1 conv2d and DCGAN's conv_transpose2d, forward and forward+backward,
timed exactly as our side is timed: the median of many calls on one input; forward+backward is the
op on an input (and its weight and bias) that require grad, then torch.autograd.grad for a fixed
grad_output (nothing accumulates into .grad).

Prints one JSON object on its last line, with PyTorch's configuration (bench/torch_bench_common.py).

  /usr/bin/python3 bench/ops_torch.py --threads 1 [--quick]
  /usr/bin/python3 bench/ops_torch.py --describe     (the configuration only)
"""
import json
import statistics
import time

import torch
import torch.nn.functional as F

from torch_bench_common import configuration, worker_arguments

# The same list, in the same order, as bench/ops_bench.cpp's kCases: (op, input shape, and the
# op's dim for softmax, log_softmax and cross_entropy, or its weight's shape, stride and padding
# for a convolution).
CASES = [
    ("softmax", [4096, 1024], {"dim": 1}),
    ("softmax", [65536, 16], {"dim": 1}),
    ("softmax", [8, 1024, 512], {"dim": 1}),
    ("softmax", [1024, 16, 256], {"dim": 1}),
    ("log_softmax", [4096, 1024], {"dim": 1}),
    ("log_softmax", [65536, 16], {"dim": 1}),
    ("log_softmax", [8, 1024, 512], {"dim": 1}),
    ("log_softmax", [1024, 16, 256], {"dim": 1}),
    ("cross_entropy", [8192, 65], {"dim": 1}),
    ("cross_entropy", [256, 1000], {"dim": 1}),
    ("layer_norm", [4096, 256], {}),
    ("layer_norm", [2048, 768], {}),
    ("conv2d", [64, 64, 16, 16], {"weight": [128, 64, 1, 1], "stride": 1, "padding": 0}),
    ("conv_transpose2d", [64, 256, 4, 4], {"weight": [256, 128, 3, 3], "stride": 2, "padding": 1}),
    ("conv_transpose2d", [64, 128, 7, 7], {"weight": [128, 64, 4, 4], "stride": 2, "padding": 1}),
    ("conv_transpose2d", [64, 64, 14, 14], {"weight": [64, 1, 4, 4], "stride": 2, "padding": 1}),
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


def measure(op, shape, how, warmup, count):
    x = torch.randn(*shape) * 3.0
    target = torch.randint(0, shape[1], (shape[0],))
    # The op's parameters, made as our side makes them: layer_norm's weight and bias, conv2d's
    # weight and bias, conv_transpose2d's weight (DCGAN's generator has no bias).
    if op == "layer_norm":
        params = [torch.randn(shape[-1]), torch.randn(shape[-1])]
    elif op == "conv2d":
        params = [torch.randn(*how["weight"]) * 0.1, torch.randn(how["weight"][0])]
    elif op == "conv_transpose2d":
        params = [torch.randn(*how["weight"]) * 0.1]
    else:
        params = []

    def forward(t, p):
        if op == "softmax":
            return torch.softmax(t, how["dim"])
        if op == "log_softmax":
            return torch.log_softmax(t, how["dim"])
        if op == "layer_norm":
            return F.layer_norm(t, [shape[-1]], p[0], p[1])
        if op == "conv2d":
            return F.conv2d(t, p[0], p[1], how["stride"], how["padding"])
        if op == "conv_transpose2d":
            return F.conv_transpose2d(t, p[0], None, how["stride"], how["padding"])
        return F.cross_entropy(t, target)

    grad_output = torch.ones(()) if op == "cross_entropy" else torch.randn(forward(x, params).shape)
    leaves = [t.detach().requires_grad_(True) for t in [x] + params]
    fwd = median_seconds(lambda: forward(x, params), warmup, count)  # nothing needs grad: no graph
    fwd_bwd = median_seconds(
        lambda: torch.autograd.grad(forward(leaves[0], leaves[1:]), leaves, grad_output),
        warmup, count)
    return {"op": op, "shape": shape, "forward_seconds": fwd, "forward_backward_seconds": fwd_bwd}


def main():
    args = worker_arguments(__doc__)
    warmup, count = (2, 5) if args.quick else (10, 50)
    results = [measure(op, shape, how, warmup, count) for op, shape, how in CASES]
    print(json.dumps({"impl": "torch", "threads": torch.get_num_threads(), "results": results,
                      **configuration()}))


if __name__ == "__main__":
    main()
