"""What PyTorch's sides of `./tito bench` share (bench/mlp_torch.py, bench/cnn_torch.py): PyTorch's
configuration as JSON fields (version, BLAS, and the OpenBLAS core its matrix products run on),
Fashion-MNIST's IDX files read with the standard library, the peak resident memory, and the
median / percentile of a list of timings.

Imported by scripts in this folder (Python puts a script's own folder first on sys.path).
"""
import argparse
import ctypes
import json
import gzip
import os
import re
import resource
import sys
import time

import numpy as np
import torch

FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"


def openblas_in_process():
    """(path, config, core) of the OpenBLAS this process has loaded, or None.

    Debian's PyTorch is built against the generic BLAS interface (BLAS_INFO=generic): its Linear
    calls libblas.so.3, which Debian's alternatives point at OpenBLAS. Every loaded library that
    exports openblas_get_corename is asked (dlopen of a loaded library returns that library)."""
    with open("/proc/self/maps") as maps:
        paths = sorted({line.split()[-1] for line in maps if "blas" in line.split()[-1]})
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
            corename, config = lib.openblas_get_corename, lib.openblas_get_config
        except (OSError, AttributeError):
            continue
        corename.restype = config.restype = ctypes.c_char_p
        return path, config().decode(), corename().decode()
    return None


def worker_arguments(doc, describe_extra=None):
    """The command line of a single-thread-count worker (ops, lstm, quant, resnet): --threads N
    [--quick], or --describe (print configuration(), plus the dict describe_extra() returns, as
    JSON and exit). Sets the thread count and seed 0; returns the parsed arguments."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--threads", type=int)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--describe", action="store_true",
                        help="print PyTorch's configuration as JSON and exit")
    args = parser.parse_args()
    if args.describe:
        print(json.dumps({**configuration(), **(describe_extra() if describe_extra else {})}))
        sys.exit(0)
    if args.threads is None or args.threads < 1:
        sys.exit("--threads (at least 1) is required")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    return args


def configuration():
    """PyTorch's version and BLAS, and what OPENBLAS_CORETYPE did to it, as JSON fields."""
    shown = torch.__config__.show()
    blas_info = re.search(r"BLAS_INFO=(\w+)", shown)
    capability = re.search(r"CPU capability usage: (\w+)", shown)
    blas = "BLAS_INFO=" + (blas_info.group(1) if blas_info else "?")
    fields = {"torch_version": torch.__version__,
              "torch_cpu_capability": capability.group(1) if capability else None}
    found = openblas_in_process()
    if found is None:
        fields["torch_blas"] = blas
        return fields
    path, config, core = found
    fields["torch_blas"] = f"{blas}: {os.path.basename(path)} = {config}"
    pinned = os.environ.get("OPENBLAS_CORETYPE")
    cleared = os.environ.get("TINYTORCH_BENCH_CLEARED_OPENBLAS_CORETYPE")
    fields["openblas_core"] = core
    fields["openblas_coretype"] = pinned if pinned is not None else cleared
    fields["openblas_coretype_cleared"] = pinned is None and cleared is not None
    return fields


def read_idx(path, magic, dims):
    """An IDX file (plain or .gz) as a uint8 array, with its header checked."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    header = np.frombuffer(raw[: 4 + 4 * dims], dtype=">u4")
    if header[0] != magic:
        sys.exit(f"{path}: magic number {header[0]:#x}, expected {magic:#x}")
    shape = tuple(int(s) for s in header[1:])
    body = np.frombuffer(raw[4 + 4 * dims :], dtype=np.uint8)
    if body.size != int(np.prod(shape)):
        sys.exit(f"{path}: {body.size} bytes of data, the header announces {int(np.prod(shape))}")
    return body.reshape(shape)


def find(directory, stem):
    for name in (stem + ".gz", stem):
        if os.path.exists(os.path.join(directory, name)):
            return os.path.join(directory, name)
    sys.exit(f"{directory}: no {stem}[.gz]")


def fashion_mnist_train(directory, samples):
    """The first `samples` training images [samples, 28, 28] and labels [samples] as uint8 arrays,
    or None when `directory` does not exist (the callers then time random images)."""
    if not os.path.isdir(directory):
        return None
    images = read_idx(find(directory, "train-images-idx3-ubyte"), 0x803, 3)[:samples]
    labels = read_idx(find(directory, "train-labels-idx1-ubyte"), 0x801, 1)[:samples]
    return images, labels


def peak_rss_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


def minor_faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def percentile(values, fraction):
    """The value at `fraction` (0 … 1) of the sorted values, interpolated linearly between the two
    whose ranks bracket fraction · (n − 1): numpy's default method, and the C++ side's
    tinytorch::benchmark::percentile. percentile(v, 0.5) is statistics.median(v)."""
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (position - low) * (ordered[high] - ordered[low])


def make_step(model, optimizer):
    """One training step as both sides time it: zero_grad -> forward -> cross_entropy ->
    backward -> optimizer step -> loss.item() (which waits for the result)."""
    def step(xb, yb):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(xb), yb)
        loss.backward()
        optimizer.step()
        return loss.item()
    return step


def time_steps(step, xb, yb, warmup, count):
    """`warmup` untimed steps on one batch, then `count` timed ones: (the step times in seconds,
    the minor page faults per timed step)."""
    for _ in range(warmup):
        step(xb, yb)
    times = []
    faults_before = minor_faults()
    for _ in range(count):
        t0 = time.perf_counter()
        step(xb, yb)
        times.append(time.perf_counter() - t0)
    return times, (minor_faults() - faults_before) / count


def profile_steps(step, xb, yb, steps, rows):
    """torch.profiler's table of the ops of `steps` steps, on standard error.
    NOTE: the profiler allocates too, which changes what glibc hands back to the kernel: compare
    its step time with the one time_steps measured without it."""
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            step(xb, yb)
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=rows),
          file=sys.stderr)


def train_epoch(step, x, y, batch, seed):
    """One pass over all of x in a fresh random order (torch.randperm seeded with `seed`), batches
    gathered with index_select (the last one smaller): (seconds, batches, mean loss)."""
    samples = x.shape[0]
    generator = torch.Generator().manual_seed(seed)
    loss_sum, batches = 0.0, 0
    t0 = time.perf_counter()
    order = torch.randperm(samples, generator=generator)
    for start in range(0, samples, batch):
        idx = order[start : start + batch]
        loss_sum += step(x.index_select(0, idx), y.index_select(0, idx))
        batches += 1
    return time.perf_counter() - t0, batches, loss_sum / batches
