#!/usr/bin/env python3
"""PyTorch's side of `./tito bench resnet` (bench/resnet_bench.cpp runs it): ResNet-8 on 3x32x32
images, He et al.'s CIFAR ResNet with one basic block per stage and projection shortcuts
(stem conv 3->16 + BN + ReLU; blocks 16->16 stride 1, 16->32 stride 2, 32->64 stride 2; global
average pooling; Linear 64->10), written as torchvision writes its ResNets (bias-free
convolutions, in-place ReLU and residual add, a `downsample` Sequential of a 1x1 strided
convolution and BatchNorm). SGD lr 0.1 momentum 0.9, cross-entropy, synthetic data (images
N(0, 1), labels uniform over 10 classes: Debian does not package CIFAR-10), timed exactly as our
side is timed:

  * step:       zero_grad -> forward -> cross_entropy -> backward -> SGD step -> loss.item(),
                median of many steps on one batch of 128;
  * epoch:      6,400 images in a fresh random order, batches of 128 gathered with index_select
                from in-memory tensors, by a freshly initialised model;
  * latency:    batch-1 inference in eval mode under torch.inference_mode(), median and 90th
                percentile of many single-image forward passes;
  * throughput: images/s of the median batch-256 forward pass, the same way;
  * the peak resident memory of this process.

The FLOPs of each figure and their fraction of the FMA peak are added by bench/resnet_bench.cpp
(the peak is measured by our side's process, at the same thread count). PyTorch's convolutions
run on oneDNN (mkldnn) on this CPU: the configuration printed with the result says so
(bench/torch_bench_common.py).

  /usr/bin/python3 bench/resnet_torch.py --threads 1 [--quick]
  /usr/bin/python3 bench/resnet_torch.py --describe     (the configuration only)
"""
import json
import statistics
import time

import torch
import torch.nn as nn

from torch_bench_common import (configuration, make_step, peak_rss_bytes, percentile, time_steps,
                                train_epoch, worker_arguments)

CHANNELS, SIZE, CLASSES, STEM = 3, 32, 10, 16
STAGES = ((16, 1), (32, 2), (64, 2))  # (width, stride) of each stage's one basic block
LR, MOMENTUM = 0.1, 0.9


def workload(quick):
    """The sizes of bench/resnet_bench.cpp's Workload: batch, samples, step warm-up and count,
    latency warm-up and count, inference batch, its warm-up and count."""
    if quick:
        return 16, 32, 2, 3, 3, 10, 32, 1, 2
    return 128, 6400, 10, 20, 50, 500, 256, 2, 10


class BasicBlock(nn.Module):
    def __init__(self, inplanes, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(
                nn.Conv2d(inplanes, planes, 1, stride=stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += identity
        return self.relu(out)


def resnet8():
    layers = [nn.Conv2d(CHANNELS, STEM, 3, padding=1, bias=False), nn.BatchNorm2d(STEM),
              nn.ReLU(inplace=True)]
    inplanes = STEM
    for width, stride in STAGES:
        layers.append(BasicBlock(inplanes, width, stride))
        inplanes = width
    layers += [nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(inplanes, CLASSES)]
    return nn.Sequential(*layers)


def time_calls(f, warmup, count):
    """The seconds of each of `count` calls f(i) after `warmup` untimed ones."""
    for i in range(warmup):
        f(i)
    seconds = []
    for i in range(warmup, warmup + count):
        t0 = time.perf_counter()
        f(i)
        seconds.append(time.perf_counter() - t0)
    return seconds


def main():
    args = worker_arguments(
        __doc__, lambda: {"torch_mkldnn": torch.backends.mkldnn.is_available()})
    (batch, samples, warmup, count, latency_warmup, latency_count, inference_batch,
     inference_warmup, inference_count) = workload(args.quick)
    x = torch.randn(samples, CHANNELS, SIZE, SIZE)
    y = torch.randint(0, CLASSES, (samples,))

    # The step: one fixed batch, warm-up, then the median of the timed steps.
    model = resnet8()
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    steps, _ = time_steps(make_step(model, optimizer), x[:batch], y[:batch], warmup, count)

    # The epoch-like pass, in a fresh random order, by a freshly initialised model.
    torch.manual_seed(0)
    model = resnet8()
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    epoch, batches, mean_loss = train_epoch(make_step(model, optimizer), x, y, batch, 2016)

    # Inference with the trained model: eval mode, no autograd recording.
    model.eval()
    many = x[:inference_batch]
    with torch.inference_mode():
        latencies = time_calls(lambda i: model(x[i % samples : i % samples + 1]).argmax(1).item(),
                               latency_warmup, latency_count)
        passes = time_calls(lambda i: model(many).argmax(1).sum().item(), inference_warmup,
                            inference_count)

    print(json.dumps({
        "impl": "torch",
        "threads": torch.get_num_threads(),
        "step_ms": 1e3 * statistics.median(steps),
        "epoch_seconds": epoch,
        "samples": samples,
        "batches": batches,
        "samples_per_second": samples / epoch,
        "mean_loss": mean_loss,
        "latency_ms": 1e3 * statistics.median(latencies),
        "latency_p90_ms": 1e3 * percentile(latencies, 0.9),
        "latency_count": latency_count,
        "inference_ms": 1e3 * statistics.median(passes),
        "inference_images_per_second": inference_batch / statistics.median(passes),
        "peak_rss_bytes": peak_rss_bytes(),
        **configuration(),
        "torch_mkldnn": torch.backends.mkldnn.is_available(),
    }))


if __name__ == "__main__":
    main()
