#!/usr/bin/python3
"""Writes tests/data/rnn_reference.json: PyTorch's answers for the recurrent layers (torch.nn.RNN,
LSTM, GRU and RNNCell, LSTMCell, GRUCell), checked by modules/11_embeddings/tests/test_rnn.cpp.

Run from anywhere (Debian's python3-torch, hence /usr/bin/python3):

    /usr/bin/python3 tools/reference/gen_rnn.py          # writes the file
    /usr/bin/python3 tools/reference/gen_rnn.py --check  # fails if the file is stale

Each case seeds torch's generator, builds one module in float64 with small sizes, draws an input
(and, when given, the initial state) and weights for a scalar loss, and records

    {"name", "group": "rnn", "module": "LSTM", "options": {...},   the module's constructor args
     "train": false,                                               eval mode (dropout off)
     "param_names": ["weight_ih_l0", ...],                         named_parameters()' order
     "params": {"weight_ih_l0": tensor, ...},                      and values
     "input": tensor, "state": [h_0] | [h_0, c_0] | [],            [] = not given (zeros)
     "outputs": [tensor, ...],        RNN/GRU: output, h_n; LSTM: output, h_n, c_n;
                                      RNNCell/GRUCell: h'; LSTMCell: h', c'
     "loss_weights": [tensor, ...],   one per output: loss = Σ_k sum(outputs[k] * loss_weights[k])
     "grads": {"input": tensor, "state": [tensor, ...], "params": {name: tensor, ...}}}

The test loads "params" into its own module by name (load_state_dict), so a case also proves
that the parameters' names and shapes are PyTorch's. Deterministic: a fixed seed per case
(torch's CPU generator draws the same numbers for the same seed and version).
"""

import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from refdata import command_line, header, one_case_per_line, write_or_check  # noqa: E402
from gen_module01 import enc_tensor  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(REPO, "tests", "data", "rnn_reference.json")

CASES = []
MODULES = {
    "RNN": torch.nn.RNN,
    "LSTM": torch.nn.LSTM,
    "GRU": torch.nn.GRU,
    "RNNCell": torch.nn.RNNCell,
    "LSTMCell": torch.nn.LSTMCell,
    "GRUCell": torch.nn.GRUCell,
}


def case(name, module, options, input_shape, state_shapes=(), train=False, seed=0):
    """One module, one forward and one backward. options: the constructor's keyword arguments
    (input_size and hidden_size included); state_shapes: the shapes of the initial state to
    draw, () for none."""
    torch.manual_seed(seed)
    kwargs = dict(options)
    kwargs.setdefault("dtype", torch.float64)
    m = MODULES[module](**kwargs)
    m.train(train)
    x = torch.randn(*input_shape, dtype=torch.float64, requires_grad=True)
    state = [torch.randn(*s, dtype=torch.float64, requires_grad=True) for s in state_shapes]
    if module in ("LSTM", "LSTMCell"):
        result = m(x, tuple(state)) if state else m(x)
    else:
        result = m(x, state[0]) if state else m(x)
    if module == "LSTM":
        outputs = [result[0], result[1][0], result[1][1]]
    elif module in ("RNN", "GRU", "LSTMCell"):
        outputs = list(result)
    else:
        outputs = [result]
    weights = [torch.randn(o.shape, dtype=torch.float64) for o in outputs]
    loss = sum((o * w).sum() for o, w in zip(outputs, weights))
    params = list(m.named_parameters())
    grads = torch.autograd.grad(loss, [x] + state + [p for _, p in params])
    n = 1 + len(state)
    CASES.append({
        "name": name,
        "group": "rnn",
        "module": module,
        "options": {k: v for k, v in options.items()},
        "train": train,
        "param_names": [k for k, _ in params],
        "params": {k: enc_tensor(p.detach()) for k, p in params},
        "input": enc_tensor(x.detach()),
        "state": [enc_tensor(s.detach()) for s in state],
        "outputs": [enc_tensor(o.detach()) for o in outputs],
        "loss_weights": [enc_tensor(w) for w in weights],
        "grads": {
            "input": enc_tensor(grads[0]),
            "state": [enc_tensor(g) for g in grads[1:n]],
            "params": {k: enc_tensor(g) for (k, _), g in zip(params, grads[n:])},
        },
    })


def layer_cases():
    I, H, T, B = 3, 4, 5, 2
    # RNN: both nonlinearities; stacked, bidirectional, batch_first, unbatched; state given or not.
    case("rnn_tanh_hx", "RNN", {"input_size": I, "hidden_size": H}, [T, B, I], [[1, B, H]], seed=1)
    case("rnn_tanh_no_hx", "RNN", {"input_size": I, "hidden_size": H}, [T, B, I], seed=2)
    case("rnn_relu_2layers_bidir", "RNN",
         {"input_size": I, "hidden_size": H, "num_layers": 2, "nonlinearity": "relu",
          "bidirectional": True}, [T, B, I], [[4, B, H]], seed=3)
    case("rnn_batch_first_no_bias", "RNN",
         {"input_size": I, "hidden_size": H, "batch_first": True, "bias": False}, [B, T, I],
         [[1, B, H]], seed=4)
    case("rnn_unbatched", "RNN", {"input_size": I, "hidden_size": H, "num_layers": 2}, [T, I],
         [[2, H]], seed=5)
    # LSTM
    case("lstm_hx", "LSTM", {"input_size": I, "hidden_size": H}, [T, B, I], [[1, B, H], [1, B, H]],
         seed=11)
    case("lstm_no_hx", "LSTM", {"input_size": I, "hidden_size": H}, [T, B, I], seed=12)
    case("lstm_2layers_batch_first", "LSTM",
         {"input_size": I, "hidden_size": H, "num_layers": 2, "batch_first": True}, [B, T, I],
         [[2, B, H], [2, B, H]], seed=13)
    case("lstm_bidir_unbatched", "LSTM",
         {"input_size": I, "hidden_size": H, "bidirectional": True}, [T, I], seed=14)
    case("lstm_2layers_bidir_hx", "LSTM",
         {"input_size": I, "hidden_size": H, "num_layers": 2, "bidirectional": True}, [T, B, I],
         [[4, B, H], [4, B, H]], seed=15)
    case("lstm_proj_2layers_bidir", "LSTM",
         {"input_size": I, "hidden_size": H, "num_layers": 2, "bidirectional": True,
          "proj_size": 2}, [T, B, I], [[4, B, 2], [4, B, H]], seed=16)
    case("lstm_no_bias_unbatched_hx", "LSTM", {"input_size": I, "hidden_size": H, "bias": False},
         [T, I], [[1, H], [1, H]], seed=17)
    # GRU
    case("gru_hx", "GRU", {"input_size": I, "hidden_size": H}, [T, B, I], [[1, B, H]], seed=21)
    case("gru_no_hx", "GRU", {"input_size": I, "hidden_size": H}, [T, B, I], seed=22)
    case("gru_2layers_bidir_batch_first", "GRU",
         {"input_size": I, "hidden_size": H, "num_layers": 2, "bidirectional": True,
          "batch_first": True}, [B, T, I], [[4, B, H]], seed=23)
    case("gru_unbatched_no_bias", "GRU", {"input_size": I, "hidden_size": H, "bias": False},
         [T, I], seed=24)
    # Dropout between layers is off in eval mode: the outputs are the deterministic ones.
    case("gru_dropout_eval", "GRU",
         {"input_size": I, "hidden_size": H, "num_layers": 2, "dropout": 0.5}, [T, B, I],
         [[2, B, H]], seed=25)


def cell_cases():
    I, H, B = 3, 4, 2
    case("rnncell_tanh_hx", "RNNCell", {"input_size": I, "hidden_size": H}, [B, I], [[B, H]],
         seed=31)
    case("rnncell_relu_unbatched", "RNNCell",
         {"input_size": I, "hidden_size": H, "nonlinearity": "relu"}, [I], seed=32)
    case("rnncell_no_bias_no_hx", "RNNCell", {"input_size": I, "hidden_size": H, "bias": False},
         [B, I], seed=33)
    case("lstmcell_hx", "LSTMCell", {"input_size": I, "hidden_size": H}, [B, I],
         [[B, H], [B, H]], seed=41)
    case("lstmcell_unbatched_no_hx", "LSTMCell", {"input_size": I, "hidden_size": H}, [I],
         seed=42)
    case("lstmcell_no_bias_unbatched_hx", "LSTMCell",
         {"input_size": I, "hidden_size": H, "bias": False}, [I], [[H], [H]], seed=43)
    case("grucell_hx", "GRUCell", {"input_size": I, "hidden_size": H}, [B, I], [[B, H]], seed=51)
    case("grucell_unbatched_no_hx", "GRUCell", {"input_size": I, "hidden_size": H}, [I], seed=52)
    case("grucell_no_bias_unbatched_hx", "GRUCell",
         {"input_size": I, "hidden_size": H, "bias": False}, [I], [[H]], seed=53)


def main():
    opts = command_line(__doc__, OUT)
    layer_cases()
    cell_cases()
    doc = {**header(__file__), "cases": CASES}
    return write_or_check(opts.out, one_case_per_line(doc), opts.check, f"{len(CASES)} cases")


if __name__ == "__main__":
    sys.exit(main())
