#!/usr/bin/env python3
"""PyTorch's side of `./tito bench mlp` (bench/mlp_bench.cpp runs it): the 1986 MLP
(784-256-128-10, ReLU, batch 64; SGD lr 0.1 momentum 0.9, or Adam lr 1e-3) timed exactly as our
side is timed.

  * step:  zero_grad -> forward -> cross_entropy -> backward -> optimizer step -> loss.item(),
           median of many steps on one batch;
  * epoch: a reshuffled pass over the training images in batches of 64 (last one smaller),
           each gathered with index_select from in-memory tensors (no torch.utils.data workers:
           the fastest way to feed PyTorch, so this measures the framework, not Python);
  * the peak resident memory of this process.

Prints one JSON object on its last line, with PyTorch's configuration: its version, the BLAS its
Linear calls and, when that is OpenBLAS, the core whose kernels OpenBLAS runs (see
bench/sgemm_bench.cpp on OPENBLAS_CORETYPE; bench/torch_bench_common.py). Data: Fashion-MNIST from the Debian package, or random
images of the same shape when it is missing (as the C++ side does).

  /usr/bin/python3 bench/mlp_torch.py --threads 1 --optimizer sgd|adam [--quick] [--data DIR]
  /usr/bin/python3 bench/mlp_torch.py --describe     (the configuration only)
  /usr/bin/python3 bench/mlp_torch.py --threads 1 --optimizer adam --quick --profile
      (also: torch.profiler's table of the ops of 100 steps, on standard error)
"""
import argparse
import json
import statistics
import sys

import numpy as np
import torch

from torch_bench_common import (FASHION_MNIST_DIR, configuration, fashion_mnist_train, make_step,
                                peak_rss_bytes, profile_steps, time_steps, train_epoch)

BATCH = 64
SGD_LR, SGD_MOMENTUM, ADAM_LR = 0.1, 0.9, 1e-3


def training_data(directory, samples):
    """images [N, 784] standardised with their own mean and std, labels [N] int64."""
    loaded = fashion_mnist_train(directory, samples)
    if loaded is None:
        return torch.randn(samples, 784), torch.randint(0, 10, (samples,)), False
    images, labels = loaded
    # One float copy, standardised in place (as the C++ side does): no dataset-sized temporaries.
    x = torch.from_numpy(images.reshape(samples, 784).astype(np.float32)).div_(255.0)
    x.sub_(x.mean()).div_(x.std())
    return x, torch.from_numpy(labels.astype(np.int64)), True


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int)
    parser.add_argument("--optimizer", choices=["sgd", "adam"])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--data", default=FASHION_MNIST_DIR)
    parser.add_argument("--describe", action="store_true",
                        help="print PyTorch's configuration as JSON and exit")
    parser.add_argument("--profile", action="store_true",
                        help="also profile 100 steps with torch.profiler (table on stderr)")
    args = parser.parse_args()
    if args.describe:
        print(json.dumps(configuration()))
        return
    if args.threads is None or args.threads < 1 or args.optimizer is None:
        sys.exit("--threads (at least 1) and --optimizer are required")

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    samples, warmup, count = (100 * BATCH, 5, 30) if args.quick else (60000, 20, 200)
    x, y, real = training_data(args.data, samples)

    model = torch.nn.Sequential(
        torch.nn.Linear(784, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, 128), torch.nn.ReLU(),
        torch.nn.Linear(128, 10))
    if args.optimizer == "sgd":
        optimizer = torch.optim.SGD(model.parameters(), lr=SGD_LR, momentum=SGD_MOMENTUM)
    else:
        optimizer = torch.optim.Adam(model.parameters(), lr=ADAM_LR)
    step = make_step(model, optimizer)
    xb, yb = x[:BATCH], y[:BATCH]
    times, faults_per_step = time_steps(step, xb, yb, warmup, count)
    if args.profile:
        profile_steps(step, xb, yb, 100, 8)
    epoch, batches, mean_loss = train_epoch(step, x, y, BATCH, 1986)

    print(json.dumps({
        "impl": "torch",
        "optimizer": args.optimizer,
        "threads": torch.get_num_threads(),
        "step_ms": 1e3 * statistics.median(times),
        "step_minor_faults": faults_per_step,
        "epoch_seconds": epoch,
        "samples": samples,
        "batches": batches,
        "samples_per_second": samples / epoch,
        "mean_loss": mean_loss,
        "data": "fashion-mnist" if real else "random",
        "peak_rss_bytes": peak_rss_bytes(),
        **configuration(),
    }))


if __name__ == "__main__":
    main()
