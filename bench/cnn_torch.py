#!/usr/bin/env python3
"""PyTorch's side of `./tito bench cnn` (bench/cnn_bench.cpp runs it): LeNet-5 as in milestone
1998 (conv 6@5x5 pad 2 -> ReLU -> maxpool 2 -> conv 16@5x5 -> ReLU -> maxpool 2 -> flatten ->
120 -> ReLU -> 84 -> ReLU -> 10) on Fashion-MNIST, pixels scaled to [0, 1], SGD lr 0.1 momentum
0.9, batch 64, timed exactly as our side is timed:

  * step:    zero_grad -> forward -> cross_entropy -> backward -> SGD step -> loss.item(), median
             of many steps on one batch;
  * epoch:   a pass over the training images in a fresh random order, batches of 64 (the last one
             smaller), each gathered with index_select from in-memory tensors (no
             torch.utils.data workers: this measures the framework, not Python);
  * latency: batch-1 inference in eval mode under torch.inference_mode(), median and 90th
             percentile of many single-image forward passes;
  * the peak resident memory of this process.

PyTorch's convolutions run on oneDNN (mkldnn) on this CPU, its Linear on OpenBLAS: both are named
in the configuration printed with the result (bench/torch_bench_common.py). Data: Fashion-MNIST
from the Debian package, or random images of the same shape when it is missing.

  /usr/bin/python3 bench/cnn_torch.py --threads 1 [--quick] [--data DIR]
  /usr/bin/python3 bench/cnn_torch.py --describe     (the configuration only)
  /usr/bin/python3 bench/cnn_torch.py --threads 1 --quick --profile
      (also: torch.profiler's table of the ops of 50 steps, on standard error)
"""
import argparse
import json
import statistics
import sys
import time

import numpy as np
import torch

from torch_bench_common import (FASHION_MNIST_DIR, configuration, fashion_mnist_train, make_step,
                                peak_rss_bytes, percentile, profile_steps, time_steps, train_epoch)

BATCH = 64
LR, MOMENTUM = 0.1, 0.9


def training_data(directory, samples):
    """images [N, 1, 28, 28] float32 in [0, 1], labels [N] int64."""
    loaded = fashion_mnist_train(directory, samples)
    if loaded is None:
        return torch.rand(samples, 1, 28, 28), torch.randint(0, 10, (samples,)), False
    images, labels = loaded
    x = torch.from_numpy(images.reshape(samples, 1, 28, 28).astype(np.float32)).div_(255.0)
    return x, torch.from_numpy(labels.astype(np.int64)), True


def lenet5():
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--data", default=FASHION_MNIST_DIR)
    parser.add_argument("--describe", action="store_true",
                        help="print PyTorch's configuration as JSON and exit")
    parser.add_argument("--profile", action="store_true",
                        help="also profile 50 steps with torch.profiler (table on stderr)")
    args = parser.parse_args()
    if args.describe:
        print(json.dumps({**configuration(),
                          "torch_mkldnn": torch.backends.mkldnn.is_available()}))
        return
    if args.threads is None or args.threads < 1:
        sys.exit("--threads (at least 1) is required")

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    # The same sizes as bench/cnn_bench.cpp's Workload.
    if args.quick:
        samples, warmup, count, latency_warmup, latency_count = 20 * BATCH, 20, 20, 20, 50
    else:
        samples, warmup, count, latency_warmup, latency_count = 60000, 50, 200, 100, 1000
    x, y, real = training_data(args.data, samples)

    model = lenet5()
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    step = make_step(model, optimizer)

    # The step: one fixed batch, warm-up, then the median of the timed steps.
    xb, yb = x[:BATCH], y[:BATCH]
    times, faults_per_step = time_steps(step, xb, yb, warmup, count)
    if args.profile:
        profile_steps(step, xb, yb, 50, 12)

    # The epoch: every batch of a pass in a fresh random order, by a freshly initialised model
    # (hundreds of steps at lr 0.1 on one batch leave the timed one stuck at chance), so that its
    # mean loss shows whether training makes progress. At lr 0.1, momentum 0.9 LeNet-5 is at the
    # edge of stability: see bench/cnn_bench.cpp.
    torch.manual_seed(0)
    model = lenet5()
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    epoch, batches, mean_loss = train_epoch(make_step(model, optimizer), x, y, BATCH, 1998)

    # Batch-1 inference with the trained model: eval mode, no autograd recording, one image at a
    # time.
    model.eval()
    latencies = []
    with torch.inference_mode():
        for i in range(latency_warmup + latency_count):
            image = x[i % samples : i % samples + 1]
            t0 = time.perf_counter()
            model(image).argmax(1).item()
            if i >= latency_warmup:
                latencies.append(time.perf_counter() - t0)

    print(json.dumps({
        "impl": "torch",
        "threads": torch.get_num_threads(),
        "step_ms": 1e3 * statistics.median(times),
        "step_minor_faults": faults_per_step,
        "epoch_seconds": epoch,
        "samples": samples,
        "batches": batches,
        "samples_per_second": samples / epoch,
        "mean_loss": mean_loss,
        "data": "fashion-mnist" if real else "random",
        "latency_ms": 1e3 * statistics.median(latencies),
        "latency_p90_ms": 1e3 * percentile(latencies, 0.9),
        "latency_count": latency_count,
        "peak_rss_bytes": peak_rss_bytes(),
        **configuration(),
        "torch_mkldnn": torch.backends.mkldnn.is_available(),
    }))


if __name__ == "__main__":
    main()
