#!/usr/bin/env python3
"""PyTorch's side of bench/conv_layers_bench.cpp: the convolution layers of LeNet-5 and of the
North Star CNN, timed per pass exactly as our side is timed.

For each layer and each pass it prints one JSON object per line:
  {"layer": "lenet_conv1", "pass": "forward", "threads": 1, "seconds": 1.2e-4, "gflops": 123.4}

  forward          torch.nn.functional.conv2d(x, w, b)
  backward_input   the input gradient alone      (aten.convolution_backward, output_mask
  backward_weight  the weight and bias gradients  [True, False, False] / [False, True, True]:
                   the two halves of what autograd calls for conv2d's backward)

Each figure is the median of 9 repetitions of a timed batch of calls (the batch sized to take
about 20 ms), after warm-up calls; timed by the calling thread's CPU clock (time.thread_time) at
1 thread, by the wall clock at more. Run with OPENBLAS_CORETYPE unset (oneDNN does the convolutions
either way; it only keeps OpenBLAS, used elsewhere, at its default kernels).

  /usr/bin/python3 bench/conv_layers_torch.py --threads 1 [--quick]
"""
import argparse
import json
import statistics
import sys
import time

import torch

# name, batch, C, H, W, K, kernel, padding: the same table as conv_layers_bench.cpp.
LAYERS = [
    ("lenet_conv1", 64, 1, 28, 28, 6, 5, 2),
    ("lenet_conv2", 64, 6, 14, 14, 16, 5, 0),
    ("ns_conv1", 128, 1, 28, 28, 32, 3, 1),
    ("ns_conv2", 128, 32, 14, 14, 64, 3, 1),
    ("ns_conv3", 128, 64, 7, 7, 128, 3, 1),
]


def time_call(call, repetitions, target_seconds, clock):
    for _ in range(3):
        call()
    start = clock()
    call()
    once = max(clock() - start, 1e-7)
    calls = max(1, int(target_seconds / once))
    samples = []
    for _ in range(repetitions):
        start = clock()
        for _ in range(calls):
            call()
        samples.append((clock() - start) / calls)
    return statistics.median(samples)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    repetitions, target = (3, 0.005) if args.quick else (9, 0.02)
    # One thread runs on the calling thread: its CPU clock ignores other programs' time slices.
    clock = time.thread_time if args.threads == 1 else time.perf_counter
    for name, n, c, h, w, k, r, pad in LAYERS:
        x = torch.rand(n, c, h, w)
        weight = torch.rand(k, c, r, r) - 0.5
        bias = torch.rand(k) - 0.5
        y = torch.nn.functional.conv2d(x, weight, bias, padding=pad)
        gy = torch.rand_like(y)
        p, q = y.shape[2], y.shape[3]
        flops = 2.0 * n * k * c * r * r * p * q

        def backward(mask):
            return lambda: torch.ops.aten.convolution_backward(
                gy, x, weight, [k], [1, 1], [pad, pad], [1, 1], False, [0, 0], 1, mask)

        passes = {
            "forward": lambda: torch.nn.functional.conv2d(x, weight, bias, padding=pad),
            "backward_input": backward([True, False, False]),
            "backward_weight": backward([False, True, True]),
        }
        with torch.no_grad():
            for pass_name, call in passes.items():
                seconds = time_call(call, repetitions, target, clock)
                print(json.dumps({"layer": name, "pass": pass_name, "threads": args.threads,
                                  "seconds": seconds, "gflops": flops / seconds / 1e9}))
                sys.stdout.flush()


if __name__ == "__main__":
    main()
