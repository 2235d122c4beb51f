#!/usr/bin/python3
"""Writes tests/data/module07_reference.json: metrics, early stopping and small training runs.

Run from anywhere (Debian's python3-torch and python3-numpy, hence /usr/bin/python3):

    /usr/bin/python3 tools/reference/gen_module07.py          # writes the file
    /usr/bin/python3 tools/reference/gen_module07.py --check  # fails if the file is stale

Nothing here is random: every input comes from a fixed integer formula, so the file is a pure
function of this script, NumPy and PyTorch. Four lists:

  "metrics": {"name", "num_classes", "output": tensor [N, C] float32 (no ties in a row) or int64
      [N] (class indices), "target": tensor int64 [N], "correct": int, "accuracy": float,
      "confusion": [[int] * C] * C (rows: true class, columns: predicted; NumPy's bincount),
      "precision", "recall", "f1": [float | "nan"] * C}

  "running_average": {"name", "logits": tensor [N, C], "target": tensor [N], "batch_sizes": [..],
      "batch_losses": [torch's mean cross-entropy of each batch], "weighted_mean": Σ loss·n / Σ n
      (float64), "mean_of_means": plain mean of the batch losses, "full_loss": the mean
      cross-entropy over all N rows at once (what the weighted mean must equal)}

  "early_stopping": {"name", "mode": "min"|"max", "patience", "min_delta", "values": [..],
      "improved": [bool per step], "wait": [int per step], "stop": [bool per step],
      "best": float, "best_epoch": int}   — Keras' rule, written out below independently.

  "training": {"name", "model": [[in, out], ...] (Linear layers with ReLU between),
      "init": {state-dict key: tensor}, "x", "y", "val_x", "val_y", "batch_size",
      "optimizer": {"type": "SGD"|"Adam", options...}, "scheduler": null | {"type": "StepLR",
      "step_size", "gamma"} (libtorch's C++ timing), "max_grad_norm": float (0: off), "epochs",
      "history": {"train_loss": [..], "train_acc": [..], "val_loss": [..], "val_acc": [..],
                  "lr": [..]},   one value per epoch, as module 07's Trainer defines them
      "final": {state-dict key: tensor}}
      Batches are taken in order (no shuffle). train_loss is the sample-weighted mean of the
      batch losses seen during the epoch (before each step's update); train_acc counts the
      argmax of those same outputs; val_* are measured after the epoch, with torch.no_grad();
      lr is the learning rate the epoch trained with (the scheduler steps after the epoch).

Tensors are {"shape", "dtype", "values"} as in module 01's reference file.
"""

import math
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from refdata import (LibtorchStepLR, command_line, header, one_case_per_line,  # noqa: E402
                     write_or_check)

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(REPO, "tests", "data", "module07_reference.json")

DTYPE_NAMES = {torch.float32: "float32", torch.float64: "float64", torch.int64: "int64"}


def enc_number(v):
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def enc_tensor(t):
    t = t.detach()
    flat = t.reshape(-1).tolist() if t.dim() > 0 else [t.item()]
    if t.dtype == torch.int64:
        values = [int(v) for v in flat]
    else:
        values = [enc_number(v) for v in flat]
    return {"shape": list(t.shape), "dtype": DTYPE_NAMES[t.dtype], "values": values}


def pattern(n, seed):
    """n varied values in about [-1.5, 1.5] from an integer formula; distinct within any run of
    23 consecutive entries (so rows of up to 23 classes have no ties)."""
    out = []
    for i in range(n):
        k = (i * 37 + seed * 11 + 5) % 23 - 11  # in [-11, 11]
        out.append(k / 8.0 + (0.0625 if k >= 0 else -0.0625) + (i % 3) / 96.0 + seed / 1024.0)
    return out


def matrix(rows, cols, seed, scale=1.0):
    return torch.tensor([v * scale for v in pattern(rows * cols, seed)],
                        dtype=torch.float32).reshape(rows, cols)


def labels(n, classes, seed):
    return torch.tensor([(i * 7 + seed * 3 + (i * i) % 5) % classes for i in range(n)],
                        dtype=torch.int64)


# ── metrics ─────────────────────────────────────────────────────────────────────────────────

METRICS = []


def nan_ratio(num, den):
    return float("nan") if den == 0 else num / den


def add_metrics(name, output, target, num_classes):
    pred = output.argmax(1) if output.dim() == 2 else output
    assert output.dim() == 1 or all(len(set(r.tolist())) == len(r) for r in output), "tie"
    p, t = pred.numpy(), target.numpy()
    conf = np.bincount(t * num_classes + p, minlength=num_classes * num_classes)
    conf = conf.reshape(num_classes, num_classes)
    precision, recall, f1 = [], [], []
    for c in range(num_classes):
        pr = nan_ratio(conf[c, c], conf[:, c].sum())
        rc = nan_ratio(conf[c, c], conf[c, :].sum())
        precision.append(pr)
        recall.append(rc)
        if math.isnan(pr) or math.isnan(rc):
            f1.append(float("nan"))
        else:
            f1.append(0.0 if pr + rc == 0 else 2 * pr * rc / (pr + rc))
    correct = int((p == t).sum())
    METRICS.append({
        "name": name, "num_classes": num_classes,
        "output": enc_tensor(output), "target": enc_tensor(target),
        "correct": correct, "accuracy": correct / len(t),
        "confusion": conf.tolist(),
        "precision": [enc_number(v) for v in precision],
        "recall": [enc_number(v) for v in recall],
        "f1": [enc_number(v) for v in f1],
    })


def gen_metrics():
    add_metrics("logits_12x3", matrix(12, 3, 1), labels(12, 3, 1), 3)
    add_metrics("logits_40x10", matrix(40, 10, 2), labels(40, 10, 2), 10)
    add_metrics("single_row", matrix(1, 4, 3), torch.tensor([2]), 4)
    # Class 3 never occurs and is never predicted: its precision and recall are undefined (NaN).
    add_metrics("indices_missing_class", torch.tensor([0, 1, 2, 2, 1, 0, 4, 4, 1]),
                torch.tensor([0, 1, 1, 2, 2, 0, 4, 0, 1]), 5)
    # A class that is predicted but never occurs: recall NaN, precision 0.
    add_metrics("indices_false_positive_only", torch.tensor([0, 1, 1, 0]),
                torch.tensor([0, 0, 0, 0]), 2)


# ── running averages ────────────────────────────────────────────────────────────────────────

RUNNING = []


def gen_running_average():
    for name, n, c, sizes in [("batches_4_4_2", 10, 3, [4, 4, 2]),
                              ("batches_64_64_7", 135, 10, [64, 64, 7])]:
        logits = matrix(n, c, 5, scale=2.0)
        target = labels(n, c, 4)
        losses, start = [], 0
        for b in sizes:
            losses.append(torch.nn.functional.cross_entropy(
                logits[start:start + b], target[start:start + b]).item())
            start += b
        weighted = sum(l * b for l, b in zip(losses, sizes)) / sum(sizes)
        RUNNING.append({
            "name": name, "logits": enc_tensor(logits), "target": enc_tensor(target),
            "batch_sizes": sizes, "batch_losses": losses, "weighted_mean": weighted,
            "mean_of_means": sum(losses) / len(losses),
            "full_loss": torch.nn.functional.cross_entropy(logits, target).item(),
        })


# ── early stopping ──────────────────────────────────────────────────────────────────────────

EARLY = []


def add_early(name, mode, patience, min_delta, values):
    best = math.inf if mode == "min" else -math.inf
    best_epoch, wait = 0, 0
    improved, waits, stops = [], [], []
    for i, v in enumerate(values, start=1):
        better = (v < best - min_delta) if mode == "min" else (v > best + min_delta)
        if math.isnan(v):
            better = False
        if better:
            best, best_epoch, wait = v, i, 0
        else:
            wait += 1
        improved.append(better)
        waits.append(wait)
        stops.append(wait >= patience)
    EARLY.append({"name": name, "mode": mode, "patience": patience, "min_delta": min_delta,
                  "values": [enc_number(v) for v in values], "improved": improved,
                  "wait": waits, "stop": stops, "best": enc_number(best),
                  "best_epoch": best_epoch})


def gen_early_stopping():
    add_early("loss_plateau", "min", 3, 0.0, [0.9, 0.7, 0.6, 0.61, 0.6, 0.62, 0.5])
    add_early("loss_min_delta", "min", 2, 0.01, [0.50, 0.42, 0.40, 0.41, 0.405, 0.43])
    add_early("acc_max", "max", 2, 0.0, [0.80, 0.85, 0.85, 0.86, 0.84, 0.83, 0.90])
    add_early("nan_is_no_improvement", "min", 2, 0.0, [1.0, float("nan"), 0.9, float("nan"),
                                                       float("nan")])
    add_early("patience_1", "min", 1, 0.0, [3.0, 2.0, 2.0, 1.0])


# ── small training runs ─────────────────────────────────────────────────────────────────────

TRAINING = []


def build(layers, seed):
    mods = []
    for i, (fan_in, fan_out) in enumerate(layers):
        lin = torch.nn.Linear(fan_in, fan_out)
        with torch.no_grad():
            lin.weight.copy_(matrix(fan_out, fan_in, seed + 2 * i, scale=0.5))
            lin.bias.copy_(matrix(1, fan_out, seed + 2 * i + 1, scale=0.2).reshape(-1))
        mods.append(lin)
        if i + 1 < len(layers):
            mods.append(torch.nn.ReLU())
    return torch.nn.Sequential(*mods)


def add_training(name, layers, n, val_n, batch_size, epochs, optimizer, scheduler=None,
                 max_grad_norm=0.0):
    classes = layers[-1][1]
    model = build(layers, 20)
    init = {k: enc_tensor(v) for k, v in model.state_dict().items()}
    x, y = matrix(n, layers[0][0], 30), labels(n, classes, 6)
    vx, vy = matrix(val_n, layers[0][0], 31), labels(val_n, classes, 7)
    opts = {k: v for k, v in optimizer.items() if k != "type"}
    if optimizer["type"] == "SGD":
        opt = torch.optim.SGD(model.parameters(), **opts)
    else:
        opt = torch.optim.Adam(model.parameters(), **opts)
    sched = None
    if scheduler is not None:
        # libtorch's C++ StepLR, the class a C++ program gets: it decays one step later than
        # Python's (refdata.LibtorchStepLR).
        sched = LibtorchStepLR(opt, scheduler["step_size"], scheduler["gamma"])
    hist = {"train_loss": [], "train_acc": [], "val_loss": [], "val_acc": [], "lr": []}
    for _ in range(epochs):
        hist["lr"].append(opt.param_groups[0]["lr"])
        model.train()
        loss_sum, correct, seen = 0.0, 0, 0
        for s in range(0, n, batch_size):
            xb, yb = x[s:s + batch_size], y[s:s + batch_size]
            opt.zero_grad()
            out = model(xb)
            loss = torch.nn.functional.cross_entropy(out, yb)
            loss.backward()
            if max_grad_norm > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
            opt.step()
            loss_sum += loss.item() * len(yb)
            correct += int((out.argmax(1) == yb).sum())
            seen += len(yb)
        hist["train_loss"].append(loss_sum / seen)
        hist["train_acc"].append(correct / seen)
        model.eval()
        with torch.no_grad():
            out = model(vx)
            hist["val_loss"].append(torch.nn.functional.cross_entropy(out, vy).item())
            hist["val_acc"].append(int((out.argmax(1) == vy).sum()) / val_n)
        if sched is not None:
            sched.step()
    TRAINING.append({
        "name": name, "model": layers, "init": init,
        "x": enc_tensor(x), "y": enc_tensor(y), "val_x": enc_tensor(vx), "val_y": enc_tensor(vy),
        "batch_size": batch_size, "optimizer": optimizer, "scheduler": scheduler,
        "max_grad_norm": max_grad_norm, "epochs": epochs, "history": hist,
        "final": {k: enc_tensor(v) for k, v in model.state_dict().items()},
    })


def gen_training():
    add_training("mlp_sgd_momentum", [[4, 5], [5, 3]], 10, 6, 4, 3,
                 {"type": "SGD", "lr": 0.1, "momentum": 0.9})
    add_training("mlp_adam_steplr_clip", [[6, 8], [8, 8], [8, 4]], 23, 9, 5, 4,
                 {"type": "Adam", "lr": 0.01}, {"type": "StepLR", "step_size": 2, "gamma": 0.5},
                 max_grad_norm=0.5)


def main():
    opts = command_line(__doc__, OUT)
    torch.set_default_dtype(torch.float32)
    torch.set_num_threads(1)

    gen_metrics()
    gen_running_average()
    gen_early_stopping()
    gen_training()

    doc = {
        **header(__file__),
        "metrics": METRICS,
        "running_average": RUNNING,
        "early_stopping": EARLY,
        "training": TRAINING,
    }
    text = one_case_per_line(doc)
    n = len(METRICS) + len(RUNNING) + len(EARLY) + len(TRAINING)
    return write_or_check(opts.out, text, opts.check,
                          f"{n} cases ({len(METRICS)} metrics, {len(RUNNING)} running average, "
                          f"{len(EARLY)} early stopping, {len(TRAINING)} training)")


if __name__ == "__main__":
    sys.exit(main())
