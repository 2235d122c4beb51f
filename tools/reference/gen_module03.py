#!/usr/bin/python3
"""Writes tests/data/module03_reference.json: PyTorch's answers for module 03 (layers).

Run from anywhere (Debian's python3-numpy and python3-torch, hence /usr/bin/python3):

    /usr/bin/python3 tools/reference/gen_module03.py          # writes the file
    /usr/bin/python3 tools/reference/gen_module03.py --check  # fails if the file is stale

The output is deterministic: no random numbers. Every weight and input is a fixed formula
(`pattern`), written out in full, so the C++ tests load exactly the same values — the weights
through load_state_dict, as a user would load a PyTorch checkpoint.

Sections (tensors are {"shape", "dtype", "values" (flat, row-major)}):

  linear       nn.Linear forward AND backward: weight, bias, input, an upstream gradient g;
               expected y = F.linear(x, W, b) and the gradients of (y * g).sum() with respect
               to W, b and x. Batched 3-d and 1-d inputs, no bias, float64, size-0 dims.
  mlp          Sequential(Linear, ReLU, Linear, ...): its state_dict (keys in order, values),
               an input, the output, and the gradients of (out * g).sum() for every parameter.
  fans         init._calculate_fan_in_and_fan_out for several shapes (error: true when < 2-d).
  gains        init.calculate_gain for every nonlinearity (with and without a param).
  init_bounds  the bound of Linear's default init, 1/sqrt(fan_in), for several shapes
               (measured: the max |w| and |b| torch's own init produced over a large layer).
  repr         repr(module) for built-in layers and nested models. "expected" is torch's string
               with Python's True/False spelled true/false (TinyTorch prints bools the libtorch
               way); "torch" is the raw string.
  names        named_parameters / named_buffers / named_modules / state_dict key order of
               a nested custom model.
  load_errors  load_state_dict failures: the dict (keys, shapes), strict, torch's message, and
               "expected": the message with torch.Size([a, b]) written [a, b].
  load_nonstrict  load_state_dict(strict=False): missing and unexpected keys.
  linear_errors  F.linear shape errors: torch's message (TinyTorch's must contain it).
"""

import collections
import json
import math
import os
import re
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from refdata import command_line, header, write_or_check  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(REPO, "tests", "data", "module03_reference.json")

DTYPE_NAMES = {torch.float32: "float32", torch.float64: "float64", torch.int64: "int64"}


def enc(t):
    t = t.detach()
    dtype = DTYPE_NAMES[t.dtype]
    flat = t.reshape(-1).tolist()
    return {"shape": list(t.shape), "dtype": dtype, "values": flat}


def pattern(shape, seed, dtype=torch.float32, scale=1.0):
    """Deterministic values in about [-scale, scale]: a sine of the index, varied by seed."""
    n = 1
    for s in shape:
        n *= s
    vals = [scale * math.sin(0.7 * i + 1.3 * seed + 0.1) for i in range(n)]
    return torch.tensor(vals, dtype=torch.float64).reshape(shape).to(dtype)


def torch_bools(s):
    """Python's repr spells bools True/False; TinyTorch (like libtorch) prints true/false."""
    return re.sub(r"\b(True|False)\b", lambda m: m.group(1).lower(), s)


def normalize_sizes(s):
    return re.sub(r"torch\.Size\((\[[^\]]*\])\)", r"\1", s)


# ── linear ────────────────────────────────────────────────────────────────────────────────────


def gen_linear():
    cases = []
    configs = [
        # name, in, out, bias, input shape, dtype
        ("2d", 5, 3, True, [4, 5], torch.float32),
        ("2d_no_bias", 5, 3, False, [4, 5], torch.float32),
        ("3d_batched", 6, 4, True, [2, 3, 6], torch.float32),
        ("4d_batched", 3, 2, True, [2, 2, 3, 3], torch.float32),
        ("1d_input", 4, 3, True, [4], torch.float32),
        ("single_row", 7, 5, True, [1, 7], torch.float32),
        ("one_to_one", 1, 1, True, [3, 1], torch.float32),
        ("wide", 33, 17, True, [9, 33], torch.float32),
        ("float64", 5, 4, True, [3, 5], torch.float64),
        ("float64_3d_no_bias", 4, 3, False, [2, 2, 4], torch.float64),
        ("empty_batch", 3, 2, True, [0, 3], torch.float32),
        ("zero_in_features", 0, 3, True, [2, 0], torch.float32),
        ("zero_out_features", 3, 0, True, [2, 3], torch.float32),
    ]
    for i, (name, fin, fout, bias, xshape, dtype) in enumerate(configs):
        lin = nn.Linear(fin, fout, bias=bias, dtype=dtype)
        with torch.no_grad():
            lin.weight.copy_(pattern([fout, fin], 10 * i + 1, dtype, 0.5))
            if bias:
                lin.bias.copy_(pattern([fout], 10 * i + 2, dtype, 0.5))
        x = pattern(xshape, 10 * i + 3, dtype).requires_grad_(True)
        y = lin(x)
        g = pattern(list(y.shape), 10 * i + 4, dtype)
        (y * g).sum().backward()
        case = {
            "name": name,
            "in_features": fin,
            "out_features": fout,
            "bias": bias,
            "dtype": DTYPE_NAMES[dtype],
            "state_dict": [{"key": k, "tensor": enc(v)} for k, v in lin.state_dict().items()],
            "input": enc(x),
            "grad_output": enc(g),
            "output": enc(y),
            "grad_weight": enc(lin.weight.grad) if lin.weight.grad is not None else None,
            "grad_bias": enc(lin.bias.grad) if bias else None,
            "grad_input": enc(x.grad),
        }
        cases.append(case)
    return cases


def gen_mlp():
    torch.manual_seed(0)  # only for the layers' own init, which load_state_dict overwrites
    sizes = [6, 8, 5, 3]
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    layers = layers[:-1]
    model = nn.Sequential(*layers)
    with torch.no_grad():
        for j, (k, p) in enumerate(model.state_dict().items()):
            p.copy_(pattern(list(p.shape), 100 + j, torch.float32, 0.6))
    x = pattern([4, 6], 200)
    out = model(x)
    g = pattern(list(out.shape), 201)
    (out * g).sum().backward()
    return {
        "sizes": sizes,
        "state_dict": [{"key": k, "tensor": enc(v)} for k, v in model.state_dict().items()],
        "input": enc(x),
        "grad_output": enc(g),
        "output": enc(out),
        "grads": [{"key": k, "tensor": enc(p.grad)} for k, p in model.named_parameters()],
        "repr": torch_bools(repr(model)),
    }


# ── init ──────────────────────────────────────────────────────────────────────────────────────


def gen_fans():
    out = []
    for shape in [[3, 5], [5, 3], [16, 3, 3, 3], [8, 4, 5], [6, 2, 3, 4, 5], [0, 5], [4, 0],
                  [1, 1], [7], []]:
        t = torch.empty(shape)
        try:
            fi, fo = nn.init._calculate_fan_in_and_fan_out(t)
            out.append({"shape": shape, "fan_in": fi, "fan_out": fo})
        except ValueError as e:
            out.append({"shape": shape, "error": True, "message": str(e)})
    return out


def gen_gains():
    out = []
    for name in ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                 "conv_transpose3d", "sigmoid", "tanh", "relu", "leaky_relu", "selu"]:
        out.append({"nonlinearity": name, "param": None, "gain": nn.init.calculate_gain(name)})
    for p in [0.0, 0.2, 1.0, math.sqrt(5)]:
        out.append({"nonlinearity": "leaky_relu", "param": p,
                    "gain": nn.init.calculate_gain("leaky_relu", p)})
    return out


def gen_init_bounds():
    """Linear's default init in torch: every |w| and |b| is below 1/sqrt(in_features)."""
    out = []
    torch.manual_seed(0)
    for fin, fout in [(784, 256), (256, 128), (128, 10), (3, 1000)]:
        lin = nn.Linear(fin, fout)
        out.append({
            "in_features": fin,
            "out_features": fout,
            "bound": 1.0 / math.sqrt(fin),
            "torch_max_abs_weight": lin.weight.abs().max().item(),
            "torch_max_abs_bias": lin.bias.abs().max().item(),
            "torch_weight_std": lin.weight.std().item(),
        })
    return out


# ── structure: repr, names ────────────────────────────────────────────────────────────────────


class Net(nn.Module):
    """The custom model the C++ tests rebuild (NetImpl in the tests)."""

    def __init__(self):
        super().__init__()
        self.temperature = nn.Parameter(torch.ones(1))
        self.register_buffer("steps", torch.zeros(1))
        self.fc1 = nn.Linear(4, 8)
        self.act = nn.ReLU()
        self.head = nn.Sequential(nn.Linear(8, 3), nn.LogSoftmax(dim=1))
        self.drop = nn.Dropout(0.25)


def gen_repr():
    mods = [
        ("linear", nn.Linear(784, 256)),
        ("linear_no_bias", nn.Linear(3, 2, bias=False)),
        ("relu", nn.ReLU()),
        ("leaky_relu_default", nn.LeakyReLU()),
        ("leaky_relu", nn.LeakyReLU(0.2)),
        ("sigmoid", nn.Sigmoid()),
        ("tanh", nn.Tanh()),
        ("gelu", nn.GELU()),
        ("gelu_tanh", nn.GELU(approximate="tanh")),
        ("silu", nn.SiLU()),
        ("softmax", nn.Softmax(dim=1)),
        ("log_softmax", nn.LogSoftmax(dim=-1)),
        ("relu_inplace", nn.ReLU(inplace=True)),
        ("leaky_relu_inplace", nn.LeakyReLU(0.2, inplace=True)),
        ("relu6", nn.ReLU6()),
        ("relu6_inplace", nn.ReLU6(inplace=True)),
        ("elu", nn.ELU()),
        ("elu_inplace", nn.ELU(alpha=0.5, inplace=True)),
        ("selu", nn.SELU()),
        ("selu_inplace", nn.SELU(inplace=True)),
        ("celu", nn.CELU(alpha=2.0)),
        ("hardtanh", nn.Hardtanh()),
        ("hardtanh_inplace", nn.Hardtanh(-2.0, 3.0, inplace=True)),
        ("softplus", nn.Softplus()),
        ("softplus_beta", nn.Softplus(beta=0.5, threshold=10)),
        ("mish", nn.Mish()),
        ("hardswish", nn.Hardswish()),
        ("hardsigmoid", nn.Hardsigmoid()),
        ("dropout", nn.Dropout()),
        ("dropout_01", nn.Dropout(0.1)),
        ("dropout_1", nn.Dropout(1.0)),
        ("dropout_small", nn.Dropout(1e-05)),
        ("flatten", nn.Flatten()),
        ("flatten_0", nn.Flatten(0, 2)),
        ("identity", nn.Identity()),
        ("mse", nn.MSELoss()),
        ("l1", nn.L1Loss()),
        ("nll", nn.NLLLoss()),
        ("cross_entropy", nn.CrossEntropyLoss()),
        ("bce", nn.BCELoss()),
        ("bce_logits", nn.BCEWithLogitsLoss()),
        ("mlp", nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                              nn.Linear(128, 10))),
        ("empty_sequential", nn.Sequential()),
        ("nested", nn.Sequential(nn.Flatten(), nn.Sequential(nn.Linear(4, 4), nn.Tanh()),
                                 nn.Dropout(0.5), nn.Linear(4, 2, bias=False))),
        ("named_sequential", nn.Sequential(collections.OrderedDict([
            ("fc1", nn.Linear(2, 3)), ("act", nn.GELU()), ("fc2", nn.Linear(3, 1))]))),
        ("module_list", nn.ModuleList([nn.Linear(2, 2), nn.ReLU()])),
        ("net", Net()),
    ]
    return [{"name": n, "torch": repr(m), "expected": torch_bools(repr(m))} for n, m in mods]


def gen_names():
    net = Net()
    return {
        "named_parameters": [k for k, _ in net.named_parameters()],
        "named_buffers": [k for k, _ in net.named_buffers()],
        "named_modules": [k for k, _ in net.named_modules()],
        "named_children": [k for k, _ in net.named_children()],
        "state_dict": list(net.state_dict().keys()),
        "parameter_shapes": [list(p.shape) for p in net.parameters()],
        "num_parameters": sum(p.numel() for p in net.parameters()),
    }


# ── load_state_dict ───────────────────────────────────────────────────────────────────────────


def seq_model():
    return nn.Sequential(nn.Linear(4, 10), nn.ReLU(), nn.Linear(10, 3))


def gen_load_errors():
    def full():
        return [(k, list(v.shape)) for k, v in seq_model().state_dict().items()]

    cases = [
        ("missing", [e for e in full() if e[0] != "2.bias"]),
        ("missing_two", [e for e in full() if e[0] not in ("0.bias", "2.weight")]),
        ("unexpected", full() + [("3.weight", [2, 3])]),
        ("unexpected_in_child", full() + [("0.extra", [1])]),
        ("missing_and_unexpected", [e for e in full() if e[0] != "0.bias"] +
         [("3.weight", [2, 3]), ("0.extra", [1])]),
        ("size_mismatch", [("0.weight", [10, 5]) if k == "0.weight" else (k, s)
                           for k, s in full()]),
        ("size_mismatch_two", [("0.weight", [10, 5]) if k == "0.weight" else
                               ("2.bias", [4]) if k == "2.bias" else (k, s) for k, s in full()]),
        ("size_mismatch_and_missing", [("0.weight", [10, 5]) if k == "0.weight" else (k, s)
                                       for k, s in full() if k != "2.weight"]),
        ("empty_dict", []),
    ]
    out = []
    for name, entries in cases:
        for strict in ([True, False] if name.startswith("size") else [True]):
            sd = collections.OrderedDict((k, torch.zeros(s)) for k, s in entries)
            model = seq_model()
            try:
                model.load_state_dict(sd, strict=strict)
                raise AssertionError(f"{name}: torch did not raise")
            except RuntimeError as e:
                msg = str(e)
            out.append({"name": name, "model": "seq", "strict": strict,
                        "entries": [{"key": k, "shape": s} for k, s in entries],
                        "torch": msg, "expected": normalize_sizes(msg)})
    # A Linear without bias given a bias: unexpected.
    lin = nn.Linear(3, 2, bias=False)
    sd = collections.OrderedDict([("weight", torch.zeros(2, 3)), ("bias", torch.zeros(2))])
    try:
        lin.load_state_dict(sd)
        raise AssertionError("torch did not raise")
    except RuntimeError as e:
        out.append({"name": "linear_no_bias_given_bias", "model": "linear_no_bias",
                    "strict": True,
                    "entries": [{"key": k, "shape": list(v.shape)} for k, v in sd.items()],
                    "torch": str(e), "expected": normalize_sizes(str(e))})
    return out


def gen_load_nonstrict():
    out = []
    entries = [(k, list(v.shape)) for k, v in seq_model().state_dict().items()]
    cases = [
        ("missing_and_unexpected", [e for e in entries if e[0] != "0.bias"] +
         [("3.weight", [2, 3]), ("0.extra", [1])]),
        ("exact", entries),
    ]
    for name, ents in cases:
        sd = collections.OrderedDict((k, torch.full(s, 0.5)) for k, s in ents)
        model = seq_model()
        res = model.load_state_dict(sd, strict=False)
        out.append({"name": name, "entries": [{"key": k, "shape": s} for k, s in ents],
                    "missing_keys": list(res.missing_keys),
                    "unexpected_keys": list(res.unexpected_keys)})
    return out


def gen_linear_errors():
    out = []
    for xshape, wshape in [([64, 784], [256, 100]), ([2, 3, 4], [5, 6]), ([5], [3, 4]),
                           ([7, 3], [3, 7])]:
        try:
            F.linear(torch.zeros(xshape), torch.zeros(wshape))
            raise AssertionError("torch did not raise")
        except RuntimeError as e:
            out.append({"input_shape": xshape, "weight_shape": wshape, "torch": str(e)})
    return out


def main():
    opts = command_line(__doc__, OUT)
    torch.set_default_dtype(torch.float32)
    import warnings
    warnings.simplefilter("ignore")  # "Initializing zero-element tensors is a no-op"

    doc = {
        **header(__file__),
        "linear": gen_linear(),
        "mlp": gen_mlp(),
        "fans": gen_fans(),
        "gains": gen_gains(),
        "init_bounds": gen_init_bounds(),
        "repr": gen_repr(),
        "names": gen_names(),
        "load_errors": gen_load_errors(),
        "load_nonstrict": gen_load_nonstrict(),
        "linear_errors": gen_linear_errors(),
    }
    text = json.dumps(doc, indent=None, separators=(",", ":"), allow_nan=False)
    # One entry of each section per line keeps diffs readable.
    text = re.sub(r'(\[|,)(\{"(?:name|shape|nonlinearity|in_features|input_shape)":)',
                  r"\1\n\2", text) + "\n"
    return write_or_check(opts.out, text, opts.check,
                          "the module 03 reference data")


if __name__ == "__main__":
    sys.exit(main())
