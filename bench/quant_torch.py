#!/usr/bin/env python3
"""PyTorch's side of `./tito bench quant` (bench/quant_bench.cpp runs it): nn.Linear in float32
and torch.ao.quantization.quantize_dynamic's int8 Linear (qint8 per-tensor weights, activations
quantized per call), timed exactly as our side is timed: the median of many forward calls on one
input, under no_grad, weights prepared once. Layers 784->256 and 1024->1024, batch 64, 128, 256.

Prints one JSON object on its last line, with PyTorch's configuration (bench/torch_bench_common.py)
and its quantized engine (Debian's 1.13: onednn by default, qnnpack too; no fbgemm).

  /usr/bin/python3 bench/quant_torch.py --threads 1 [--quick]
  /usr/bin/python3 bench/quant_torch.py --describe     (the configuration only)
"""
import json
import statistics
import time

import torch

from torch_bench_common import configuration, worker_arguments

LAYERS = [(784, 256), (1024, 1024)]  # the same as bench/quant_bench.cpp's
BATCHES = [64, 128, 256]


def median_seconds(f, warmup, count):
    for _ in range(warmup):
        f()
    times = []
    for _ in range(count):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    args = worker_arguments(
        __doc__, lambda: {"torch_engine": torch.backends.quantized.engine})
    warmup, count = (3, 10) if args.quick else (20, 200)
    results = []
    with torch.no_grad():
        for fan_in, fan_out in LAYERS:
            layer = torch.nn.Linear(fan_in, fan_out)
            quantized = torch.ao.quantization.quantize_dynamic(
                torch.nn.Sequential(layer), {torch.nn.Linear}, dtype=torch.qint8)
            for batch in BATCHES:
                x = torch.randn(batch, fan_in)
                results.append({
                    "in_features": fan_in, "out_features": fan_out, "batch": batch,
                    "fp32_seconds": median_seconds(lambda: layer(x), warmup, count),
                    "int8_seconds": median_seconds(lambda: quantized(x), warmup, count),
                })
    print(json.dumps({"impl": "torch", "threads": torch.get_num_threads(),
                      "torch_engine": torch.backends.quantized.engine, "results": results,
                      **configuration()}))


if __name__ == "__main__":
    main()
