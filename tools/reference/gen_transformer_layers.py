#!/usr/bin/python3
"""Writes tests/data/transformer_layers_reference.json: PyTorch's outputs of nn.TransformerEncoderLayer,
nn.TransformerEncoder, nn.TransformerDecoderLayer, nn.TransformerDecoder and nn.Transformer with
fixed weights, and
the reprs of nn.ParameterList / nn.ParameterDict (tests/libtorch/test_transformer_layers.cpp reads
it, through libtorch's torch::nn spellings of the same modules).

Run from anywhere (Debian's python3-torch, hence /usr/bin/python3):

    /usr/bin/python3 tools/reference/gen_transformer_layers.py          # writes the file
    /usr/bin/python3 tools/reference/gen_transformer_layers.py --check  # fails if stale

Deterministic: every parameter and input is gen_module09_conv.py's `pattern` (a sine of the index).
Everything is sequence first ([S, N, E]: libtorch's only layout) and in eval mode (no dropout).
The modules are run with grad mode on and parameters that require grad, which keeps PyTorch 1.13
off its fused inference path, and the encoders are built with enable_nested_tensor=False: with a
key padding mask that path returns zeros at the padded positions, where libtorch's layers (and
PyTorch's own training path) return the layer's value. Sections:

  cases  {"name", "kind": encoder_layer | encoder | decoder_layer | decoder | transformer,
          "options": {"d_model", "nhead", "dim_feedforward", "activation": relu | gelu | tanh,
                      "num_layers" (stacks), "norm" (stacks: a final LayerNorm),
                      "num_encoder_layers", "num_decoder_layers" (transformer)},
          "state_dict": {key: tensor} — the module's state_dict, loaded by name on the C++ side,
          the inputs "src" (encoders), "tgt" and "memory" (decoders) or "src" and "tgt"
          (transformer), the masks that are set ("src_mask", "src_key_padding_mask", "tgt_mask",
          "memory_mask",
          "tgt_key_padding_mask", "memory_key_padding_mask": float, or bool with TRUE = masked),
          "output", "grad_output" g, and the gradients of (output * g).sum() with respect to the
          inputs ("grad_" + each input's name)}.
  repr   {"name", "expected"}: repr() of a parameter container built as the name says.
"""

import os
import re
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from refdata import command_line, header, one_case_per_line, write_or_check  # noqa: E402
from gen_module09_conv import pattern  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(REPO, "tests", "data", "transformer_layers_reference.json")

E, NHEAD, FF = 8, 2, 16  # d_model, heads, dim_feedforward: small, CI has 2 cores
S, T, N = 5, 4, 3        # source and target lengths, batch

ACTIVATIONS = {"relu": "relu", "gelu": "gelu", "tanh": torch.tanh}
CASES = []


def enc(t):
    t = t.detach()
    dtype = {torch.float32: "float32", torch.bool: "bool"}[t.dtype]
    values = [v if v not in (float("inf"), float("-inf")) else str(v) for v in t.reshape(-1).tolist()]
    return {"shape": list(t.shape), "dtype": dtype, "values": values}  # -inf as "-inf"


def fix_weights(module, seed):
    """Every parameter a pattern of its own (LayerNorm weights around 1), in state_dict order."""
    with torch.no_grad():
        for i, (key, p) in enumerate(module.named_parameters()):
            values = pattern(list(p.shape), seed + i, scale=0.4)
            is_norm_weight = re.search(r"norm\d?\.weight$", key) is not None
            p.copy_(1.0 + 0.2 * values if is_norm_weight else values)
    return module


def causal_float(n):
    """Transformer.generate_square_subsequent_mask: 0 on and below the diagonal, -inf above."""
    return torch.triu(torch.full((n, n), float("-inf")), diagonal=1)


def causal_bool(n):
    return torch.triu(torch.ones(n, n, dtype=torch.bool), diagonal=1)


def padding(n, length, padded):
    """[n, length] bool: row b has its last padded[b] positions TRUE (never a whole row)."""
    m = torch.zeros(n, length, dtype=torch.bool)
    for b, k in enumerate(padded):
        if k:
            m[b, length - k:] = True
    return m


def layer_options(activation):
    return {"d_model": E, "nhead": NHEAD, "dim_feedforward": FF, "activation": activation}


def run(name, kind, options, module, inputs, masks, seed):
    module.eval()
    leaves = {k: v.clone().requires_grad_() for k, v in inputs.items()}
    if kind in ("encoder_layer", "encoder"):
        # (positional: the layer calls the mask src_mask, the stack calls it mask)
        out = module(leaves["src"], masks.get("src_mask"), masks.get("src_key_padding_mask"))
    elif kind == "transformer":
        out = module(leaves["src"], leaves["tgt"], **masks)
    else:
        out = module(leaves["tgt"], leaves["memory"], tgt_mask=masks.get("tgt_mask"),
                     memory_mask=masks.get("memory_mask"),
                     tgt_key_padding_mask=masks.get("tgt_key_padding_mask"),
                     memory_key_padding_mask=masks.get("memory_key_padding_mask"))
    g = pattern(list(out.shape), seed + 50)
    (out * g).sum().backward()
    case = {"name": name, "kind": kind, "options": options,
            "state_dict": {k: enc(v) for k, v in module.state_dict().items()}}
    case.update({k: enc(v) for k, v in inputs.items()})
    case.update({k: enc(v) for k, v in masks.items()})
    case.update({"output": enc(out), "grad_output": enc(g)})
    case.update({"grad_" + k: enc(v.grad) for k, v in leaves.items()})
    CASES.append(case)


def encoder_layer(activation):
    return nn.TransformerEncoderLayer(E, NHEAD, dim_feedforward=FF, dropout=0.1,
                                      activation=ACTIVATIONS[activation])


def decoder_layer(activation):
    return nn.TransformerDecoderLayer(E, NHEAD, dim_feedforward=FF, dropout=0.1,
                                      activation=ACTIVATIONS[activation])


def build():
    src = pattern([S, N, E], 100)
    pad = padding(N, S, [0, 2, 1])
    # name, activation, masks
    for name, act, masks in [
        ("relu", "relu", {}),
        ("gelu", "gelu", {}),
        ("tanh_callable", "tanh", {}),
        ("relu_float_src_mask", "relu", {"src_mask": causal_float(S)}),
        ("relu_bool_src_mask", "relu", {"src_mask": causal_bool(S)}),
        ("gelu_key_padding_mask", "gelu", {"src_key_padding_mask": pad}),
        ("gelu_float_mask_and_padding", "gelu",
         {"src_mask": causal_float(S), "src_key_padding_mask": pad}),
        ("relu_bool_mask_and_padding", "relu",
         {"src_mask": causal_bool(S), "src_key_padding_mask": pad}),
    ]:
        module = fix_weights(encoder_layer(act), 1)
        run("encoder_layer_" + name, "encoder_layer", layer_options(act), module, {"src": src},
            masks, 1)

    for name, act, norm, masks in [
        ("2_layers_relu_norm_padding", "relu", True, {"src_key_padding_mask": pad}),
        ("3_layers_gelu_causal", "gelu", False, {"src_mask": causal_float(S)}),
    ]:
        layers = int(name[0])
        module = nn.TransformerEncoder(encoder_layer(act), layers,
                                       norm=nn.LayerNorm(E) if norm else None,
                                       enable_nested_tensor=False)
        fix_weights(module, 2)
        run("encoder_" + name, "encoder", {**layer_options(act), "num_layers": layers,
                                           "norm": norm}, module, {"src": src}, masks, 2)

    tgt, memory = pattern([T, N, E], 200), pattern([S, N, E], 300)
    dec_masks = {"tgt_mask": causal_float(T), "memory_key_padding_mask": pad,
                 "tgt_key_padding_mask": padding(N, T, [1, 0, 0])}
    for name, act, masks in [
        ("relu", "relu", {}),
        ("gelu_masks", "gelu", dec_masks),
        ("relu_bool_memory_mask", "relu", {"tgt_mask": causal_bool(T),
                                           "memory_mask": padding(T, S, [1, 0, 2, 0])}),
    ]:
        module = fix_weights(decoder_layer(act), 3)
        run("decoder_layer_" + name, "decoder_layer", layer_options(act), module,
            {"tgt": tgt, "memory": memory}, masks, 3)

    module = fix_weights(nn.TransformerDecoder(decoder_layer("relu"), 2, norm=nn.LayerNorm(E)), 4)
    run("decoder_2_layers_relu_norm_masks", "decoder",
        {**layer_options("relu"), "num_layers": 2, "norm": True}, module,
        {"tgt": tgt, "memory": memory}, dec_masks, 4)


def transformer():
    src, tgt = pattern([S, N, E], 400), pattern([T, N, E], 500)
    module = nn.Transformer(E, NHEAD, num_encoder_layers=2, num_decoder_layers=1,
                            dim_feedforward=FF, dropout=0.1, activation="gelu")
    module.encoder.enable_nested_tensor = False
    fix_weights(module, 5)
    masks = {"src_key_padding_mask": padding(N, S, [0, 1, 2]),
             "tgt_mask": nn.Transformer.generate_square_subsequent_mask(T),
             "memory_key_padding_mask": padding(N, S, [0, 1, 2])}
    run("transformer_2_1_gelu_masks", "transformer",
        {**layer_options("gelu"), "num_encoder_layers": 2, "num_decoder_layers": 1}, module,
        {"src": src, "tgt": tgt}, masks, 5)


def reprs():
    out = []
    plist = nn.ParameterList([nn.Parameter(torch.zeros(2, 3)),
                              nn.Parameter(torch.zeros(4, dtype=torch.float64))])
    out.append({"name": "ParameterList(zeros({2, 3}), zeros({4}, kFloat64))",
                "expected": repr(plist)})
    pdict = nn.ParameterDict({"gamma": nn.Parameter(torch.ones(5)),
                              "table": nn.Parameter(torch.zeros(3, 2, 2))})
    out.append({"name": "ParameterDict{gamma: ones({5}), table: zeros({3, 2, 2})}",
                "expected": repr(pdict)})
    return out


def main():
    opts = command_line(__doc__, OUT)
    torch.manual_seed(0)
    build()
    transformer()
    doc = {**header(__file__), "repr": reprs(), "cases": CASES}
    return write_or_check(opts.out, one_case_per_line(doc), opts.check, f"{len(CASES)} cases")


if __name__ == "__main__":
    sys.exit(main())
