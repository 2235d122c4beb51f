#!/usr/bin/env python3
"""PyTorch's side of `./tito bench lstm` (bench/lstm_bench.cpp runs it): a training step of
nn.LSTM (batch_first) on the same two shapes, timed exactly as our side is timed: zero_grad ->
forward (zero initial state) -> mse_loss against a fixed target -> backward -> SGD step (lr 0.01)
-> loss.item(), the median of many steps on one fixed batch after a few untimed ones.

Prints one JSON object on its last line, with PyTorch's configuration (bench/torch_bench_common.py).

  /usr/bin/python3 bench/lstm_torch.py --threads 1 [--quick]
  /usr/bin/python3 bench/lstm_torch.py --describe     (the configuration only)
"""
import json
import statistics

import torch

from torch_bench_common import configuration, time_steps, worker_arguments

# (name, layers, input, hidden, batch, T): the same, in the same order, as bench/lstm_bench.cpp's
# kConfigs.
CONFIGS = [
    ("1997", 2, 128, 235, 32, 64),
    ("wide", 1, 64, 512, 32, 32),
]
LEARNING_RATE = 0.01


def step_ms(layers, input_size, hidden, batch, seq, warmup, count):
    lstm = torch.nn.LSTM(input_size, hidden, num_layers=layers, batch_first=True)
    optimizer = torch.optim.SGD(lstm.parameters(), lr=LEARNING_RATE)
    x = torch.randn(batch, seq, input_size)
    target = torch.randn(batch, seq, hidden)

    def step(xb, yb):
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(lstm(xb)[0], yb)
        loss.backward()
        optimizer.step()
        return loss.item()

    times, _ = time_steps(step, x, target, warmup, count)
    return 1e3 * statistics.median(times)


def main():
    args = worker_arguments(__doc__)
    warmup, count = (2, 5) if args.quick else (5, 30)
    result = {"impl": "torch", "threads": torch.get_num_threads()}
    for name, *shape in CONFIGS:
        result["step_ms_" + name] = step_ms(*shape, warmup, count)
    print(json.dumps({**result, **configuration()}))


if __name__ == "__main__":
    main()
