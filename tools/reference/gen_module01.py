#!/usr/bin/python3
"""Writes tests/data/module01_reference.json: PyTorch's answers for module 01's operations.

Run from anywhere (Debian's python3-numpy and python3-torch, hence /usr/bin/python3):

    /usr/bin/python3 tools/reference/gen_module01.py          # writes the file
    /usr/bin/python3 tools/reference/gen_module01.py --check  # fails if the file is stale

The output is deterministic: every input is written out in this file or computed from a fixed
integer formula (no random numbers), and cases are emitted in a fixed order. Each case is

    {"name": "...", "group": "...", "op": "...",
     "inputs": [{"shape": [...], "dtype": "float32", "values": [...], "view": [...]?}, ...],
     "args": {...},
     "expected": {"shape": [...], "dtype": "...", "values": [...], ...}   (one tensor)
               | [{...}, {...}]                                          (max_dim / min_dim)
               | {"repr": "tensor(...)"}                                 (op "repr")
     or "error": true                                                     (PyTorch rejects it)
     "rtol"/"atol": optional tolerances for this case}

Values are flat, row-major. Floats are written with Python's repr of the float64 value (so a
float32 value is exact), and NaN / infinities as the strings "nan", "inf", "-inf". An input's
optional "view" is a list of view ops applied, in order, to the tensor built from shape/values
(this is how non-contiguous and broadcast inputs are described). Scalars in "args" are written as
{"type": "int"|"float"|"bool", "value": v}.

View results ("op": "views") also record PyTorch's strides, storage_offset, is_contiguous and
whether the result shares storage with the input ("aliases").
"""

import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from refdata import command_line, header, one_case_per_line, write_or_check  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(REPO, "tests", "data", "module01_reference.json")

DTYPES = {
    "float32": torch.float32,
    "float64": torch.float64,
    "int64": torch.int64,
    "bool": torch.bool,
}
DTYPE_NAMES = {v: k for k, v in DTYPES.items()}

# ── encoding ────────────────────────────────────────────────────────────────────────────────


def enc_number(v, dtype):
    if dtype == "bool":
        return bool(v)
    if dtype == "int64":
        return int(v)
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v  # json writes repr(float): the shortest string that round-trips the float64


def enc_tensor(t):
    dtype = DTYPE_NAMES[t.dtype]
    flat = t.reshape(-1).tolist() if t.dim() > 0 else [t.item()]
    return {"shape": list(t.shape), "dtype": dtype, "values": [enc_number(v, dtype) for v in flat]}


def enc_scalar(s):
    if isinstance(s, bool):
        return {"type": "bool", "value": s}
    if isinstance(s, int):
        return {"type": "int", "value": s}
    return {"type": "float", "value": enc_number(s, "float64")}


# ── inputs ──────────────────────────────────────────────────────────────────────────────────


def numel(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def pattern(shape, dtype, seed=0):
    """Deterministic, varied values: small integers, or eighths/thirds for floats, with signs."""
    n = numel(shape)
    vals = []
    for i in range(n):
        k = (i * 7 + seed * 13 + 3) % 17 - 8  # in [-8, 8]
        if dtype == "bool":
            vals.append((i * 5 + seed) % 3 != 0)
        elif dtype == "int64":
            vals.append(k)
        else:
            # Mixes exactly representable values with ones that are not (k / 3).
            vals.append(k * 0.375 + 0.125 if (i + seed) % 3 else k / 3.0)
    return vals


def positive_pattern(shape, dtype, seed=0):
    n = numel(shape)
    if dtype == "int64":
        return [1 + (i * 5 + seed) % 9 for i in range(n)]
    return [0.25 + ((i * 5 + seed) % 11) * 0.4375 for i in range(n)]


class Input:
    """A tensor input: base values + optional chain of view ops."""

    def __init__(self, shape, dtype, values=None, view=None, seed=0):
        self.shape = list(shape)
        self.dtype = dtype
        self.values = list(values) if values is not None else pattern(shape, dtype, seed)
        assert len(self.values) == numel(shape), (shape, len(self.values))
        self.view = view or []

    def base(self):
        t = torch.tensor(self.values, dtype=DTYPES[self.dtype])
        return t.reshape(self.shape)

    def torch(self):
        return apply_views(self.base(), self.view)

    def enc(self):
        base = self.base()
        d = enc_tensor(base)
        if self.view:
            d["view"] = self.view
        return d


def T(shape, dtype="float32", values=None, view=None, seed=0):
    return Input(shape, dtype, values, view, seed)


def apply_view(t, op):
    name, a = op[0], op[1:]
    if name == "transpose":
        return t.transpose(a[0], a[1])
    if name == "t":
        return t.t()
    if name == "permute":
        return t.permute(*a[0])
    if name == "view":
        return t.view(*a[0])
    if name == "reshape":
        return t.reshape(*a[0])
    if name == "flatten":
        return t.flatten(*a)
    if name == "squeeze":
        return t.squeeze(*a)
    if name == "unsqueeze":
        return t.unsqueeze(a[0])
    if name == "expand":
        return t.expand(*a[0])
    if name == "narrow":
        return t.narrow(a[0], a[1], a[2])
    if name == "select":
        return t.select(a[0], a[1])
    if name == "slice":
        return torch.ops.aten.slice(t, a[0], a[1], a[2], a[3])
    if name == "as_strided":
        return t.as_strided(a[0], a[1], a[2])
    if name == "contiguous":
        return t.contiguous()
    if name == "clone":
        return t.clone()
    raise ValueError(name)


def apply_views(t, ops):
    for op in ops:
        t = apply_view(t, op)
    return t


# ── running ops in PyTorch ──────────────────────────────────────────────────────────────────


def run(op, ins, args):
    """Returns a tensor, a tuple of tensors, or a string (repr). Raises if PyTorch rejects."""
    a = ins[0] if ins else None
    binary_tensor_ops = {
        "mul": torch.mul,
        "div": torch.div,
        "pow": torch.pow,
        "maximum": torch.maximum,
        "minimum": torch.minimum,
        "eq": torch.eq,
        "ne": torch.ne,
        "lt": torch.lt,
        "le": torch.le,
        "gt": torch.gt,
        "ge": torch.ge,
    }
    if op in ("add", "sub"):
        fn = torch.add if op == "add" else torch.sub
        other = ins[1] if len(ins) > 1 else args["other"]
        if "alpha" in args:
            return fn(a, other, alpha=args["alpha"])
        return fn(a, other)
    if op in binary_tensor_ops:
        other = ins[1] if len(ins) > 1 else args["other"]
        return binary_tensor_ops[op](a, other)
    if op == "rsub":
        return args["scalar"] - a
    if op == "rdiv":
        return args["scalar"] / a
    if op == "rpow":
        return torch.pow(args["scalar"], a)
    if op in ("exp", "log", "sqrt", "abs", "neg"):
        return getattr(torch, op)(a)
    if op == "clamp":
        return torch.clamp(a, min=args.get("min"), max=args.get("max"))
    if op == "where":
        if "self_scalar" in args:
            x, y = args["self_scalar"], ins[1]
        elif "other" in args:
            x, y = ins[1], args["other"]
        else:
            x, y = ins[1], ins[2]
        if not isinstance(x, torch.Tensor):
            # torch 1.13's where() needs tensors; a Python number is a wrapped 0-d tensor
            # (what a Scalar becomes in TinyTorch).
            x = torch.tensor(x, dtype=torch.result_type(y, x))
        if not isinstance(y, torch.Tensor):
            y = torch.tensor(y, dtype=torch.result_type(x, y))
        return torch.where(a, x, y)
    if op == "sum":
        kw = {"dtype": DTYPES[args["dtype"]]} if "dtype" in args else {}
        if "dims" in args:
            return torch.sum(a, args["dims"], keepdim=args.get("keepdim", False), **kw)
        return torch.sum(a, **kw)
    if op == "mean":
        if "dims" in args:
            return torch.mean(a, args["dims"], keepdim=args.get("keepdim", False))
        return torch.mean(a)
    if op == "var":
        if "dims" in args:
            return torch.var(a, args["dims"], unbiased=args["unbiased"],
                             keepdim=args.get("keepdim", False))
        return torch.var(a, unbiased=args["unbiased"])
    if op in ("max", "min"):
        return getattr(torch, op)(a)
    if op in ("max_dim", "min_dim"):
        fn = torch.max if op == "max_dim" else torch.min
        r = fn(a, args["dim"], keepdim=args.get("keepdim", False))
        return (r.values, r.indices)
    if op in ("argmax", "argmin"):
        return getattr(torch, op)(a, dim=args.get("dim"), keepdim=args.get("keepdim", False))
    if op == "matmul":
        return torch.matmul(a, ins[1])
    if op == "views":
        return apply_views(a, args["ops"])
    if op == "to":
        return a.to(DTYPES[args["dtype"]])
    if op == "repr":
        return repr(a).replace("torch.", "tinytorch.")
    if op.endswith("_"):
        # The inputs are built afresh for every case, so writing into `a` itself is fine (and
        # keeps an expanded `a` expanded, which in-place ops must reject).
        return run_inplace(op, a, ins[1:], args)
    raise ValueError(op)


def run_inplace(op, self, rest, args):
    other = rest[0] if rest else args.get("other")
    if op in ("add_", "sub_"):
        fn = getattr(self, op)
        if "alpha" in args:
            fn(other, alpha=args["alpha"])
        else:
            fn(other)
    elif op in ("mul_", "div_", "copy_"):
        getattr(self, op)(other)
    elif op == "pow_":
        self.pow_(args["exponent"])
    elif op == "fill_":
        self.fill_(args["value"])
    elif op == "clamp_":
        self.clamp_(min=args.get("min"), max=args.get("max"))
    elif op in ("neg_", "abs_", "exp_", "log_", "sqrt_"):
        getattr(self, op)()
    else:
        raise ValueError(op)
    return self


# ── case collection ─────────────────────────────────────────────────────────────────────────

CASES = []
NAMES = set()


def case(group, name, op, inputs, args=None, rtol=None, atol=None, expect_error=None):
    """Runs the op in PyTorch and records its answer (or that it raised)."""
    args = dict(args or {})
    assert name not in NAMES, name
    NAMES.add(name)
    torch_args = {}
    json_args = {}
    for k, v in args.items():
        if k in ("other", "scalar", "self_scalar", "alpha", "min", "max", "exponent", "value"):
            torch_args[k] = v
            json_args[k] = enc_scalar(v) if v is not None else None
        else:
            torch_args[k] = v
            json_args[k] = v
    if "min" in torch_args and torch_args["min"] is None:
        del torch_args["min"]
    if "max" in torch_args and torch_args["max"] is None:
        del torch_args["max"]
    c = {"name": name, "group": group, "op": op, "inputs": [i.enc() for i in inputs],
         "args": json_args}
    try:
        ts = [i.torch() for i in inputs]
        # In-place ops on a view write through it: rebuild so that the input stays pristine.
        out = run(op, ts, torch_args)
    except (RuntimeError, IndexError, TypeError, ValueError) as e:
        if expect_error is False:
            raise RuntimeError(f"case {name}: PyTorch raised unexpectedly: {e}") from e
        c["error"] = True
        c["torch_error"] = str(e).split("\n")[0][:200]
        CASES.append(c)
        return
    if expect_error:
        raise RuntimeError(f"case {name}: expected PyTorch to raise, got {out!r}")
    if isinstance(out, str):
        c["expected"] = {"repr": out}
    elif isinstance(out, tuple):
        c["expected"] = [enc_tensor(t) for t in out]
    else:
        e = enc_tensor(out)
        if op == "views":
            e["strides"] = list(out.stride())
            e["storage_offset"] = out.storage_offset()
            e["is_contiguous"] = out.is_contiguous()
            base = ts[0]
            e["aliases"] = (out.numel() > 0 and base.numel() > 0 and
                            out.storage().data_ptr() == base.storage().data_ptr())
        c["expected"] = e
    if rtol is not None:
        c["rtol"] = rtol
    if atol is not None:
        c["atol"] = atol
    CASES.append(c)


def shape_name(s):
    return "x".join(str(d) for d in s) if s else "scalar"


# ── 1. broadcasting arithmetic ──────────────────────────────────────────────────────────────

BROADCAST_PAIRS = [
    ([], []),
    ([], [3]),
    ([3], []),
    ([1], [4]),
    ([4], [1]),
    ([3], [3]),
    ([2, 3], [3]),
    ([2, 3], [2, 1]),
    ([2, 1], [1, 3]),
    ([3, 1, 2], [4, 2]),
    ([2, 1, 4], [3, 1]),
    ([1, 1], [2, 3]),
    ([5, 1, 1], [1, 1, 2, 3]),
    ([0], [1]),
    ([0], []),
    ([2, 0], [2, 1]),
    ([1, 0], [3, 1]),
    ([0, 3], [3]),
    ([4, 1, 3], [5, 3]),
    # incompatible
    ([2, 3], [3, 2]),
    ([0], [2]),
    ([2, 3], [2]),
    ([4, 2, 3], [5, 3]),
]


def gen_broadcasting():
    for op in ("add", "sub", "mul", "div"):
        for ai, (sa, sb) in enumerate(BROADCAST_PAIRS):
            dtype = "float32" if ai % 2 == 0 else "float64"
            b_vals = None
            if op == "div":
                b_vals = positive_pattern(sb, dtype, seed=ai)
            case("broadcast", f"{op}_{shape_name(sa)}_{shape_name(sb)}_{dtype}", op,
                 [T(sa, dtype, seed=ai), T(sb, dtype, b_vals, seed=ai + 1)])
    # Non-contiguous and broadcast (stride-0) operands.
    case("broadcast", "add_transposed_lhs", "add",
         [T([3, 2], view=[["t"]]), T([2, 3], seed=2)])
    case("broadcast", "mul_both_transposed", "mul",
         [T([4, 3], "float64", view=[["t"]]), T([4, 3], "float64", view=[["t"]], seed=5)])
    case("broadcast", "add_sliced_step2", "add",
         [T([4, 6], view=[["slice", 1, 0, None, 2]]), T([3], seed=3)])
    case("broadcast", "sub_expanded_operand", "sub",
         [T([3, 1], "int64", view=[["expand", [3, 4]]]), T([4], "int64", seed=1)])
    case("broadcast", "mul_permuted_3d", "mul",
         [T([2, 3, 4], view=[["permute", [2, 0, 1]]]), T([2, 1], seed=4)])
    case("broadcast", "add_selected_row", "add",
         [T([3, 4], "int64", view=[["select", 0, 1]]), T([2, 4], "int64", seed=3)])
    case("broadcast", "div_narrowed", "div",
         [T([5, 3], view=[["narrow", 0, 1, 3]]), T([3, 3], values=positive_pattern([3, 3], "float32"))])
    # alpha
    case("broadcast", "add_alpha_float", "add", [T([2, 3]), T([3], seed=1)], {"alpha": 2.5})
    case("broadcast", "add_alpha_int", "add", [T([2, 3], "int64"), T([3], "int64", seed=1)],
         {"alpha": 3})
    case("broadcast", "sub_alpha_float64", "sub", [T([3], "float64"), T([3], "float64", seed=2)],
         {"alpha": -0.5})
    case("broadcast", "add_alpha_float_on_int_error", "add",
         [T([3], "int64"), T([3], "int64", seed=1)], {"alpha": 1.5}, expect_error=True)
    # integer arithmetic, incl. wrap-around at the int64 limits
    case("broadcast", "add_int64_wraps", "add",
         [T([2], "int64", [2**63 - 1, -2**63]), T([2], "int64", [1, -1])])
    case("broadcast", "mul_int64_wraps", "mul",
         [T([2], "int64", [2**62, -3]), T([2], "int64", [4, 2**62])])
    case("broadcast", "mul_int64_broadcast", "mul", [T([2, 3], "int64"), T([2, 1], "int64", seed=1)])
    case("broadcast", "div_int_by_zero", "div",
         [T([4], "int64", [1, -1, 0, 7]), T([4], "int64", [0, 0, 0, 2])])
    case("broadcast", "div_float_by_zero", "div",
         [T([3], values=[1.0, -1.0, 0.0]), T([3], values=[0.0, 0.0, 0.0])])
    # bool arithmetic
    case("broadcast", "add_bool_bool", "add", [T([4], "bool"), T([4], "bool", seed=1)])
    case("broadcast", "mul_bool_bool", "mul", [T([4], "bool"), T([4], "bool", seed=1)])
    case("broadcast", "sub_bool_bool_error", "sub", [T([4], "bool"), T([4], "bool", seed=1)],
         expect_error=True)
    case("broadcast", "div_bool_bool", "div",
         [T([3], "bool", [True, False, True]), T([3], "bool", [True, True, False])])
    case("broadcast", "neg_bool_error", "neg", [T([2], "bool")], expect_error=True)
    # reversed-scalar forms: scalar - t, scalar / t, scalar ** t
    case("broadcast", "rsub_float", "rsub", [T([2, 2])], {"scalar": 1.5})
    case("broadcast", "rsub_int", "rsub", [T([3], "int64")], {"scalar": 10})
    case("broadcast", "rdiv_int_tensor", "rdiv",
         [T([3], "int64", [1, 2, 4])], {"scalar": 1})
    case("broadcast", "rdiv_float", "rdiv", [T([3], values=[0.5, -2.0, 0.0])], {"scalar": 3.0})
    case("broadcast", "rpow_float_base", "rpow", [T([4], values=[0.0, 1.0, -1.5, 3.0])],
         {"scalar": 2.0})
    case("broadcast", "rpow_int_base_int_exp", "rpow", [T([4], "int64", [0, 1, 2, 10])],
         {"scalar": 3})


# ── 2. type promotion ───────────────────────────────────────────────────────────────────────

PROMO_DTYPES = ["bool", "int64", "float32", "float64"]


def gen_promotion():
    # Every pair of dtypes, for dimensioned / 0-d operand combinations.
    for da in PROMO_DTYPES:
        for db in PROMO_DTYPES:
            for sa, sb, tag in (([3], [3], "dd"), ([3], [], "d0"), ([], [3], "0d"), ([], [], "00")):
                for op in ("add", "mul", "div"):
                    bv = None
                    if op == "div" and db != "bool":
                        bv = positive_pattern(sb, db, seed=1)
                    elif op == "div":
                        bv = [True] * numel(sb)
                    case("promotion", f"{op}_{da}_{db}_{tag}", op,
                         [T(sa, da, seed=2), T(sb, db, bv, seed=3)])
    # Tensor ⊕ Python scalar ("wrapped number"): may raise the category, never the width.
    scalars = [True, 2, -3, 2.5, -0.75, float("inf")]
    for da in PROMO_DTYPES:
        for s in scalars:
            for op in ("add", "mul", "div", "sub"):
                if op == "div" and s in (0, False):
                    continue
                sname = repr(s).replace(".", "p").replace("-", "m")
                case("promotion", f"{op}_{da}_scalar_{sname}", op, [T([3], da, seed=4)],
                     {"other": s})
        # comparisons with scalars
        for op in ("eq", "lt", "ge"):
            case("promotion", f"{op}_{da}_scalar", op, [T([4], da, seed=5)], {"other": 1})
            case("promotion", f"{op}_{da}_scalar_float", op, [T([4], da, seed=5)],
                 {"other": 0.5})
    # 0-d tensor with a higher category than the dimensioned tensor decides the dtype.
    case("promotion", "int64_vec_plus_float64_0d", "add",
         [T([3], "int64"), T([], "float64", [0.5])])
    case("promotion", "float32_vec_plus_float64_0d", "add",
         [T([3], "float32"), T([], "float64", [0.1])])
    case("promotion", "bool_vec_plus_int64_0d", "add", [T([3], "bool"), T([], "int64", [5])])
    case("promotion", "float32_1elem_vs_float64_vec", "add",
         [T([1], "float32", [0.1]), T([3], "float64")])
    case("promotion", "int64_plus_float_scalar", "add", [T([3], "int64")], {"other": 0.5})
    case("promotion", "int64_div_int64", "div",
         [T([3], "int64", [1, 7, -9]), T([3], "int64", [2, 2, 4])])


# ── 3. pow, unary, clamp, maximum/minimum, comparisons, where ──────────────────────────────

NAN = float("nan")
INF = float("inf")


def gen_unary():
    special = [0.0, -0.0, 1.0, -1.0, 0.5, 2.0, -2.5, 100.0, 1e-3, NAN, INF, -INF]
    for dt in ("float32", "float64"):
        for op in ("exp", "log", "sqrt", "abs", "neg"):
            case("unary", f"{op}_{dt}_special", op, [T([len(special)], dt, special)],
                 rtol=2e-6 if dt == "float32" else 1e-13)
            case("unary", f"{op}_{dt}_2d", op,
                 [T([3, 4], dt, positive_pattern([3, 4], dt) if op in ("log", "sqrt") else None)],
                 rtol=2e-6 if dt == "float32" else 1e-13)
        case("unary", f"exp_{dt}_transposed", "exp", [T([3, 2], dt, view=[["t"]])],
             rtol=2e-6 if dt == "float32" else 1e-13)
    for op in ("exp", "log", "sqrt"):
        case("unary", f"{op}_int64_to_float", op, [T([4], "int64", [0, 1, 4, 9])], rtol=2e-6)
        case("unary", f"{op}_bool_to_float", op, [T([2], "bool", [True, False])], rtol=2e-6)
    case("unary", "abs_int64", "abs", [T([5], "int64", [-3, 0, 3, -2**63 + 1, 7])])
    case("unary", "abs_bool_error", "abs", [T([2], "bool")], expect_error=True)
    case("unary", "neg_int64", "neg", [T([4], "int64", [1, -2, 0, -2**63])])
    case("unary", "neg_0d", "neg", [T([], "float32", [2.5])])
    case("unary", "exp_empty", "exp", [T([0, 3])])


def gen_pow():
    case("pow", "pow_tensor_tensor_float", "pow",
         [T([5], values=[2.0, 0.5, -2.0, 0.0, 9.0]), T([5], values=[3.0, -1.0, 2.0, 0.0, 0.5])],
         rtol=2e-6)
    case("pow", "pow_float_negative_base_fraction", "pow",
         [T([2], values=[-8.0, -1.0]), T([2], values=[1.0 / 3.0, 0.5])])
    case("pow", "pow_broadcast", "pow", [T([2, 1], values=[2.0, 3.0]),
                                         T([3], values=[0.0, 1.0, 2.0])])
    case("pow", "pow_int_int", "pow",
         [T([5], "int64", [2, 3, -2, 0, 5]), T([5], "int64", [10, 3, 3, 0, 1])])
    case("pow", "pow_int_negative_exponent_tensor", "pow",
         [T([5], "int64", [2, 1, -1, -1, 0]), T([5], "int64", [-1, -3, -3, -2, 2])])
    case("pow", "pow_int_overflow_wraps", "pow", [T([1], "int64", [3]), T([1], "int64", [41])])
    case("pow", "pow_int_float_tensor", "pow", [T([3], "int64", [1, 2, 3]),
                                                T([3], "float32", [0.5, 2.0, -1.0])], rtol=2e-6)
    case("pow", "pow_float64_float32", "pow", [T([2], "float64", [2.0, 3.0]),
                                               T([2], "float32", [0.5, 1.5])], rtol=1e-13)
    case("pow", "pow_bool_error", "pow", [T([2], "bool"), T([2], "bool")], expect_error=True)
    # scalar exponents
    for e in (2, 3, 0, -1, 0.5, 2.0, -2.5):
        en = repr(e).replace(".", "p").replace("-", "m")
        case("pow", f"pow_float_scalar_{en}", "pow", [T([2, 3], values=positive_pattern([2, 3], "float32"))],
             {"other": e}, rtol=2e-6)
    case("pow", "pow_int_scalar_2", "pow", [T([4], "int64", [-3, 0, 2, 5])], {"other": 2})
    case("pow", "pow_int_scalar_0", "pow", [T([3], "int64", [-3, 0, 2])], {"other": 0})
    case("pow", "pow_int_scalar_float", "pow", [T([3], "int64", [4, 9, 2])], {"other": 0.5},
         rtol=2e-6)
    case("pow", "pow_int_scalar_negative_error", "pow", [T([3], "int64", [1, 2, 3])],
         {"other": -1}, expect_error=True)
    case("pow", "pow_float64_scalar", "pow", [T([3], "float64", [1.5, -2.0, 0.1])], {"other": 3},
         rtol=1e-13)
    case("pow", "pow_nan_zero", "pow", [T([2], values=[NAN, 1.0])], {"other": 0})
    case("pow", "pow_one_nan", "pow", [T([2], values=[1.0, 2.0]), T([2], values=[NAN, NAN])])


def gen_clamp():
    x = [-3.0, -0.5, 0.0, 0.25, 2.0, 7.5, NAN]
    case("clamp", "clamp_both", "clamp", [T([7], values=x)], {"min": -1.0, "max": 2.0})
    case("clamp", "clamp_min_only", "clamp", [T([7], values=x)], {"min": 0.0, "max": None})
    case("clamp", "clamp_max_only", "clamp", [T([7], values=x)], {"min": None, "max": 0.5})
    case("clamp", "clamp_min_gt_max", "clamp", [T([7], values=x)], {"min": 3.0, "max": 1.0})
    case("clamp", "clamp_float64", "clamp", [T([7], "float64", x)], {"min": -1, "max": 1})
    case("clamp", "clamp_int", "clamp", [T([5], "int64", [-5, -1, 0, 3, 9])],
         {"min": -2, "max": 4})
    case("clamp", "clamp_int_float_bounds", "clamp", [T([3], "int64", [1, 2, 3])],
         {"min": 1.5, "max": None})
    case("clamp", "clamp_2d_transposed", "clamp", [T([3, 4], view=[["t"]])],
         {"min": -1.0, "max": 1.0})
    case("clamp", "clamp_none_error", "clamp", [T([3])], {"min": None, "max": None},
         expect_error=True)


def gen_minmax_compare_where():
    a = [1.0, NAN, -2.0, NAN, 0.0, -0.0, INF]
    b = [2.0, 1.0, NAN, NAN, -0.0, 0.0, 3.0]
    for op in ("maximum", "minimum"):
        case("compare", f"{op}_nan", op, [T([7], values=a), T([7], values=b)])
        case("compare", f"{op}_broadcast_int", op, [T([2, 3], "int64"), T([3], "int64", seed=1)])
        case("compare", f"{op}_int_float", op, [T([3], "int64", [1, 5, -2]),
                                                 T([3], "float32", [0.5, 9.0, -2.0])])
        case("compare", f"{op}_bool", op, [T([4], "bool"), T([4], "bool", seed=1)])
    for op in ("eq", "ne", "lt", "le", "gt", "ge"):
        case("compare", f"{op}_nan", op, [T([7], values=a), T([7], values=b)])
        case("compare", f"{op}_broadcast", op, [T([3, 1], "float64"), T([4], "float64", seed=2)])
        case("compare", f"{op}_int_float_mixed", op,
             [T([4], "int64", [1, 2, 3, 4]), T([4], "float32", [1.0, 2.5, 2.5, 4.0])])
        case("compare", f"{op}_bool", op, [T([4], "bool"), T([4], "bool", seed=2)])
        case("compare", f"{op}_scalar_nan", op, [T([3], values=[1.0, NAN, 3.0])], {"other": 1.0})
        case("compare", f"{op}_bad_broadcast", op, [T([2, 3]), T([2])], expect_error=True)
    cond = T([2, 3], "bool", [True, False, True, False, False, True])
    case("where", "where_basic", "where", [cond, T([2, 3]), T([2, 3], seed=1)])
    case("where", "where_broadcast", "where",
         [T([3, 1], "bool", [True, False, True]), T([4], "float64"), T([1], "float64", [-1.0])])
    case("where", "where_promotes", "where", [cond, T([2, 3], "int64"), T([2, 3], "float32")])
    case("where", "where_int", "where", [cond, T([3], "int64"), T([2, 1], "int64", seed=1)])
    case("where", "where_bool_values", "where", [cond, T([2, 3], "bool"), T([], "bool", [True])])
    case("where", "where_scalar_other", "where", [cond, T([2, 3])], {"other": 0.0})
    case("where", "where_scalar_self", "where", [cond, T([2, 3], "float64")],
         {"self_scalar": 1.5})
    case("where", "where_nan_values", "where",
         [T([3], "bool", [True, False, True]), T([3], values=[NAN, 1.0, INF]),
          T([3], values=[0.0, NAN, 0.0])])
    case("where", "where_nonbool_condition_error", "where",
         [T([3], "float32", [1.0, 0.0, 1.0]), T([3]), T([3], seed=1)], expect_error=True)
    case("where", "where_bad_broadcast_error", "where",
         [T([2], "bool", [True, False]), T([3]), T([3])], expect_error=True)
    case("where", "where_transposed", "where",
         [T([3, 2], "bool", view=[["t"]]), T([2, 3], seed=4), T([3, 2], view=[["t"]], seed=5)])


# ── 4. reductions ───────────────────────────────────────────────────────────────────────────


def gen_reductions():
    shapes = [[], [5], [2, 3], [2, 3, 4], [1, 4, 1], [3, 0], [0]]
    for shape in shapes:
        sn = shape_name(shape)
        nd = len(shape)
        dim_sets = [None]
        if nd >= 1:
            dim_sets += [[0], [-1]]
        if nd >= 2:
            dim_sets += [[1], [0, 1], [-1, 0]]
        if nd >= 3:
            dim_sets += [[0, 2], [2, 1], [-2], [0, 1, 2]]
        if nd == 0:
            dim_sets += [[0], [-1]]
        for dt in ("float32", "float64", "int64", "bool"):
            for dims in dim_sets:
                for keepdim in (False, True):
                    if dims is None and keepdim:
                        continue
                    dn = "all" if dims is None else "_".join(str(d) for d in dims).replace("-", "m")
                    kd = "_keep" if keepdim else ""
                    args = {} if dims is None else {"dims": dims, "keepdim": keepdim}
                    rt = 1e-5 if dt == "float32" else 1e-12
                    case("reduce", f"sum_{sn}_{dt}_{dn}{kd}", "sum", [T(shape, dt)], args,
                         rtol=rt, atol=1e-5)
                    if dt in ("float32", "float64"):
                        case("reduce", f"mean_{sn}_{dt}_{dn}{kd}", "mean", [T(shape, dt)], args,
                             rtol=rt, atol=1e-6)
                        for unbiased in (True, False) if not keepdim else (True,):
                            a2 = dict(args)
                            a2["unbiased"] = unbiased
                            ub = "unbiased" if unbiased else "biased"
                            case("reduce", f"var_{sn}_{dt}_{dn}{kd}_{ub}", "var", [T(shape, dt)],
                                 a2, rtol=1e-4 if dt == "float32" else 1e-10, atol=1e-5)
            if dt == "bool" or (numel(shape) == 0 and dt != "float32"):
                continue
            # max/min/argmax/argmin
            case("reduce", f"max_{sn}_{dt}", "max", [T(shape, dt)])
            case("reduce", f"min_{sn}_{dt}", "min", [T(shape, dt)])
            case("reduce", f"argmax_{sn}_{dt}", "argmax", [T(shape, dt)])
            case("reduce", f"argmin_{sn}_{dt}", "argmin", [T(shape, dt)])
            for d in ([0, -1] if nd >= 1 else [0]) + ([1] if nd >= 2 else []):
                for keepdim in (False, True):
                    kd = "_keep" if keepdim else ""
                    dn = str(d).replace("-", "m")
                    for op in ("max_dim", "min_dim", "argmax", "argmin"):
                        case("reduce", f"{op}_{sn}_{dt}_d{dn}{kd}", op, [T(shape, dt)],
                             {"dim": d, "keepdim": keepdim})
            case("reduce", f"argmax_{sn}_{dt}_all_keep", "argmax", [T(shape, dt)],
                 {"keepdim": True})
    # sum with an explicit dtype, sums of bools, NaN handling, ties, non-contiguous inputs
    case("reduce", "sum_int_as_float64", "sum", [T([2, 3], "int64")], {"dtype": "float64"})
    case("reduce", "sum_float32_as_float64", "sum", [T([2, 3])], {"dims": [1], "keepdim": False,
                                                                    "dtype": "float64"},
         rtol=1e-12)
    case("reduce", "sum_bool_counts", "sum", [T([2, 5], "bool")], {"dims": [1], "keepdim": False})
    case("reduce", "sum_nan", "sum", [T([2, 2], values=[1.0, NAN, 2.0, 3.0])],
         {"dims": [1], "keepdim": False})
    case("reduce", "sum_inf_minus_inf", "sum", [T([2], values=[INF, -INF])])
    case("reduce", "max_nan", "max", [T([4], values=[1.0, NAN, 5.0, NAN])])
    case("reduce", "min_nan", "min", [T([4], values=[1.0, NAN, -5.0, NAN])])
    case("reduce", "argmax_nan", "argmax", [T([4], values=[1.0, 7.0, NAN, NAN])])
    case("reduce", "argmin_nan", "argmin", [T([4], values=[1.0, -7.0, NAN, 0.0])])
    case("reduce", "max_dim_nan", "max_dim", [T([2, 3], values=[1.0, NAN, 0.0, 4.0, 5.0, 6.0])],
         {"dim": 1, "keepdim": False})
    case("reduce", "argmax_ties_first", "argmax", [T([6], "int64", [1, 5, 5, 2, 5, 0])])
    case("reduce", "argmin_ties_first", "argmin", [T([6], "int64", [3, 0, 1, 0, 0, 7])])
    case("reduce", "max_dim_ties_first", "max_dim",
         [T([2, 4], "float32", [2.0, 2.0, 1.0, 2.0, -1.0, 3.0, 3.0, 0.0])],
         {"dim": 1, "keepdim": True})
    case("reduce", "min_dim_ties_first_dim0", "min_dim",
         [T([3, 2], "int64", [4, 1, 4, 1, 5, 1])], {"dim": 0, "keepdim": False})
    case("reduce", "max_infs", "max", [T([3], values=[-INF, -INF, -INF])])
    case("reduce", "sum_transposed", "sum", [T([3, 4], view=[["t"]])],
         {"dims": [1], "keepdim": False}, rtol=1e-5, atol=1e-5)
    case("reduce", "mean_permuted", "mean", [T([2, 3, 4], "float64", view=[["permute", [1, 2, 0]]])],
         {"dims": [0, 2], "keepdim": True}, rtol=1e-12)
    case("reduce", "var_sliced", "var", [T([4, 6], "float64", view=[["slice", 1, 1, None, 2]])],
         {"dims": [0], "keepdim": False, "unbiased": True}, rtol=1e-12)
    case("reduce", "max_dim_expanded", "max_dim", [T([3, 1], view=[["expand", [3, 4]]])],
         {"dim": 1, "keepdim": False})
    case("reduce", "argmin_transposed", "argmin", [T([3, 4], "int64", view=[["t"]])],
         {"dim": 0, "keepdim": False})
    case("reduce", "var_large_mean", "var",
         [T([4], "float64", [1e9 + 4, 1e9 + 7, 1e9 + 13, 1e9 + 16])], {"unbiased": True},
         rtol=1e-12)
    case("reduce", "var_single_unbiased", "var", [T([1], values=[3.0])], {"unbiased": True})
    case("reduce", "mean_empty", "mean", [T([0])])
    # errors
    case("reduce", "mean_int_error", "mean", [T([3], "int64")], expect_error=True)
    case("reduce", "mean_bool_error", "mean", [T([3], "bool")], expect_error=True)
    case("reduce", "var_int_error", "var", [T([3], "int64")], {"unbiased": True},
         expect_error=True)
    case("reduce", "max_empty_error", "max", [T([0])], expect_error=True)
    case("reduce", "min_empty_error", "min", [T([2, 0])], expect_error=True)
    case("reduce", "argmax_empty_error", "argmax", [T([0])], expect_error=True)
    case("reduce", "max_dim_empty_dim_error", "max_dim", [T([3, 0])], {"dim": 1, "keepdim": False},
         expect_error=True)
    case("reduce", "sum_dim_out_of_range_error", "sum", [T([2, 3])], {"dims": [2], "keepdim": False},
         expect_error=True)
    case("reduce", "sum_dim_repeated_error", "sum", [T([2, 3])], {"dims": [1, -1], "keepdim": False},
         expect_error=True)
    case("reduce", "max_dim_out_of_range_error", "max_dim", [T([2, 3])], {"dim": -3, "keepdim": False},
         expect_error=True)


# ── 5. matmul ───────────────────────────────────────────────────────────────────────────────


def gen_matmul():
    pairs = [
        ([3], [3]),
        ([3], [3, 2]),
        ([2, 3], [3]),
        ([2, 3], [3, 4]),
        ([1, 1], [1, 1]),
        ([4, 3], [3, 5]),
        ([2, 3, 4], [4, 2]),
        ([4], [2, 4, 3]),
        ([2, 4, 3], [3]),
        ([2, 1, 3, 4], [5, 4, 2]),
        ([3, 4], [2, 4, 5]),
        ([2, 2, 3], [2, 3, 2]),
        ([1, 2, 3], [4, 3, 1]),
        ([0, 3], [3, 2]),
        ([2, 0], [0, 3]),
        ([0], [0]),
        ([2, 3], [3, 0]),
        ([0, 2, 3], [3, 4]),
    ]
    for dt in ("float32", "float64", "int64"):
        for i, (sa, sb) in enumerate(pairs):
            if dt == "int64" and i % 3:
                continue
            case("matmul", f"matmul_{shape_name(sa)}_{shape_name(sb)}_{dt}", "matmul",
                 [T(sa, dt, seed=i), T(sb, dt, seed=i + 7)],
                 rtol=1e-5 if dt == "float32" else 1e-12, atol=1e-5 if dt == "float32" else 1e-12)
    case("matmul", "matmul_transposed_operands", "matmul",
         [T([3, 2], view=[["t"]]), T([4, 3], view=[["t"]], seed=1)], rtol=1e-5, atol=1e-5)
    case("matmul", "matmul_sliced_operand", "matmul",
         [T([2, 6], "float64", view=[["slice", 1, 0, None, 2]]), T([3, 2], "float64", seed=3)],
         rtol=1e-12)
    case("matmul", "matmul_expanded_batch", "matmul",
         [T([1, 2, 3], view=[["expand", [4, 2, 3]]]), T([4, 3, 2], seed=2)], rtol=1e-5, atol=1e-5)
    case("matmul", "matmul_larger", "matmul", [T([17, 33], "float64"), T([33, 9], "float64", seed=2)],
         rtol=1e-12, atol=1e-12)
    # errors
    case("matmul", "matmul_inner_mismatch_error", "matmul", [T([2, 3]), T([4, 5])],
         expect_error=True)
    case("matmul", "matmul_vec_mismatch_error", "matmul", [T([3]), T([4])], expect_error=True)
    case("matmul", "matmul_batch_mismatch_error", "matmul", [T([2, 2, 3]), T([3, 3, 2])],
         expect_error=True)
    case("matmul", "matmul_0d_error", "matmul", [T([]), T([3])], expect_error=True)
    case("matmul", "matmul_0d_rhs_error", "matmul", [T([3]), T([])], expect_error=True)
    case("matmul", "matmul_dtype_mismatch_error", "matmul", [T([2, 3]), T([3, 2], "float64")],
         expect_error=True)
    case("matmul", "matmul_bool_error", "matmul", [T([2, 2], "bool"), T([2, 2], "bool")],
         expect_error=True)


# ── 6. views ────────────────────────────────────────────────────────────────────────────────


def gen_views():
    base = T([2, 3, 4], "float32")
    v = [
        ("transpose_0_2", base, [["transpose", 0, 2]]),
        ("transpose_neg", base, [["transpose", -1, -2]]),
        ("transpose_same", base, [["transpose", 1, 1]]),
        ("permute_201", base, [["permute", [2, 0, 1]]]),
        ("permute_neg", base, [["permute", [-1, 0, -2]]]),
        ("reshape_4_6", base, [["reshape", [4, 6]]]),
        ("reshape_infer", base, [["reshape", [-1, 2]]]),
        ("reshape_flat", base, [["reshape", [24]]]),
        ("view_6_4", base, [["view", [6, 4]]]),
        ("view_split_dims", base, [["view", [2, 3, 2, 2]]]),
        ("view_add_ones", base, [["view", [1, 2, 1, 12, 1]]]),
        ("reshape_transposed_copies", base, [["transpose", 0, 1], ["reshape", [24]]]),
        ("reshape_transposed_view_ok", base, [["transpose", 0, 1], ["reshape", [3, 2, 2, 2]]]),
        ("view_transposed_merge_ok", base, [["permute", [1, 0, 2]], ["view", [3, 2, 4]]]),
        ("view_on_transposed_split_last", base, [["transpose", 0, 1], ["view", [3, 2, 2, 2]]]),
        ("view_on_transposed_error", base, [["transpose", 0, 2], ["view", [24]]]),
        ("view_sliced_inner_ok", base, [["narrow", 2, 0, 2], ["view", [2, 3, 2]]]),
        ("view_sliced_merge_error", base, [["narrow", 2, 0, 2], ["view", [6, 2]], ["view", [12]]]),
        ("reshape_sliced_copies", base, [["narrow", 2, 0, 2], ["reshape", [12]]]),
        ("reshape_bad_error", base, [["reshape", [5, 5]]]),
        ("reshape_two_infer_error", base, [["reshape", [-1, -1]]]),
        ("reshape_negative_error", base, [["reshape", [-2, -12]]]),
        ("flatten_all", base, [["flatten"]]),
        ("flatten_1", base, [["flatten", 1]]),
        ("flatten_0_1", base, [["flatten", 0, 1]]),
        ("flatten_transposed_copies", base, [["transpose", 1, 2], ["flatten"]]),
        ("flatten_bad_order_error", base, [["flatten", 2, 1]]),
        ("squeeze_all", T([1, 3, 1, 2]), [["squeeze"]]),
        ("squeeze_dim0", T([1, 3, 1, 2]), [["squeeze", 0]]),
        ("squeeze_dim_not_one", T([1, 3, 1, 2]), [["squeeze", 1]]),
        ("squeeze_neg", T([1, 3, 1, 2]), [["squeeze", -2]]),
        ("squeeze_to_0d", T([1, 1], values=[4.5]), [["squeeze"]]),
        ("squeeze_dim_error", T([1, 3]), [["squeeze", 2]]),
        ("unsqueeze_0", base, [["unsqueeze", 0]]),
        ("unsqueeze_mid", base, [["unsqueeze", 2]]),
        ("unsqueeze_end", base, [["unsqueeze", 3]]),
        ("unsqueeze_neg", base, [["unsqueeze", -1]]),
        ("unsqueeze_0d", T([], values=[1.5]), [["unsqueeze", 0]]),
        ("unsqueeze_transposed", base, [["transpose", 0, 2], ["unsqueeze", 1]]),
        ("unsqueeze_error", base, [["unsqueeze", 4]]),
        ("expand_col", T([3, 1]), [["expand", [3, 4]]]),
        ("expand_keep", T([3, 1]), [["expand", [-1, 4]]]),
        ("expand_new_dims", T([3, 1]), [["expand", [2, 3, 5]]]),
        ("expand_0d", T([], values=[2.0]), [["expand", [2, 2]]]),
        ("expand_same", T([3, 1]), [["expand", [3, 1]]]),
        ("expand_to_zero", T([3, 1]), [["expand", [3, 0]]]),
        ("expand_non_singleton_error", T([3, 2]), [["expand", [3, 4]]]),
        ("expand_fewer_dims_error", T([3, 2]), [["expand", [2]]]),
        ("expand_new_dim_minus1_error", T([3]), [["expand", [-1, 3]]]),
        ("narrow_1", base, [["narrow", 1, 1, 2]]),
        ("narrow_neg_start", base, [["narrow", -1, -3, 2]]),
        ("narrow_empty", base, [["narrow", 0, 2, 0]]),
        ("narrow_error", base, [["narrow", 1, 2, 2]]),
        ("narrow_start_error", base, [["narrow", 1, 4, 0]]),
        ("select_0", base, [["select", 0, 1]]),
        ("select_neg", base, [["select", -1, -1]]),
        ("select_mid", base, [["select", 1, 2]]),
        ("select_to_0d", T([4]), [["select", 0, 3]]),
        ("select_error", base, [["select", 1, 3]]),
        ("select_neg_error", base, [["select", 1, -4]]),
        ("select_0d_error", T([], values=[1.0]), [["select", 0, 0]]),
        ("slice_step2", base, [["slice", 2, 0, None, 2]]),
        ("slice_step3", T([10]), [["slice", 0, 1, None, 3]]),
        ("slice_neg_start", base, [["slice", 1, -2, None, 1]]),
        ("slice_end_beyond", base, [["slice", 2, 1, 100, 1]]),
        ("slice_empty", base, [["slice", 2, 3, 1, 1]]),
        ("slice_neg_end", T([10]), [["slice", 0, None, -3, 2]]),
        ("slice_step_zero_error", base, [["slice", 0, 0, 2, 0]]),
        ("slice_negative_step_error", base, [["slice", 0, 0, 2, -1]]),
        ("t_2d", T([2, 3]), [["t"]]),
        ("t_1d", T([3]), [["t"]]),
        ("t_3d_error", base, [["t"]]),
        ("chain_transpose_slice_select", base,
         [["transpose", 0, 2], ["slice", 0, 1, None, 2], ["select", 2, 1]]),
        ("chain_select_expand", base, [["select", 0, 1], ["unsqueeze", 0], ["expand", [2, 3, 4]]]),
        ("chain_narrow_narrow", base, [["narrow", 2, 1, 3], ["narrow", 2, 1, 2]]),
        ("chain_slice_slice", T([20]), [["slice", 0, 1, None, 2], ["slice", 0, 1, None, 3]]),
        ("chain_permute_contiguous", base, [["permute", [2, 0, 1]], ["contiguous"]]),
        ("chain_expand_reshape_copies", T([3, 1]), [["expand", [3, 4]], ["reshape", [12]]]),
        ("chain_expand_view_ok", T([3, 1]), [["expand", [3, 4]], ["view", [3, 2, 2]]]),
        ("empty_reshape", T([0, 3]), [["reshape", [3, 0]]]),
        ("empty_view_infer_error", T([0, 3]), [["reshape", [-1, 0]]]),
        ("empty_transpose", T([0, 3]), [["transpose", 0, 1]]),
        ("empty_slice_flatten", T([2, 0, 3]), [["flatten"]]),
        ("dim_out_of_range_error", base, [["transpose", 0, 3]]),
        ("permute_duplicate_error", base, [["permute", [0, 0, 1]]]),
        ("permute_wrong_len_error", base, [["permute", [0, 1]]]),
        ("as_strided_window", T([10]), [["as_strided", [4, 3], [2, 1], 1]]),
        ("int64_transpose", T([2, 3], "int64"), [["transpose", 0, 1]]),
        ("bool_select", T([2, 3], "bool"), [["select", 1, 0]]),
        ("float64_slice", T([6], "float64"), [["slice", 0, 1, 5, 2]]),
    ]
    for name, inp, ops in v:
        i2 = Input(inp.shape, inp.dtype, inp.values)
        case("views", f"views_{name}", "views", [i2], {"ops": ops},
             expect_error=True if name.endswith("_error") else False)


# ── 7. conversions and in-place ops ─────────────────────────────────────────────────────────


def gen_conversions_inplace():
    f = [0.0, -0.0, 1.5, -2.7, 2.5, 1e10, -1e10, NAN, INF, -INF, 9.2e18, -9.3e18]
    case("convert", "to_int64_from_float32_specials", "to", [T([len(f)], "float32", f)],
         {"dtype": "int64"})
    case("convert", "to_int64_from_float64_specials", "to", [T([len(f)], "float64", f)],
         {"dtype": "int64"})
    case("convert", "to_bool_from_float", "to", [T([5], values=[0.0, -0.0, 0.5, NAN, -INF])],
         {"dtype": "bool"})
    case("convert", "to_bool_from_int", "to", [T([3], "int64", [0, -1, 7])], {"dtype": "bool"})
    case("convert", "to_float32_from_bool", "to", [T([2], "bool", [True, False])],
         {"dtype": "float32"})
    case("convert", "to_float32_from_float64_round", "to",
         [T([4], "float64", [0.1, 1e40, -1e40, 1.0000000001])], {"dtype": "float32"})
    case("convert", "to_float32_from_int64_big", "to",
         [T([3], "int64", [2**53 + 1, 2**62 + 123, -(2**63)])], {"dtype": "float32"})
    case("convert", "to_float64_from_float32", "to", [T([3], values=[0.1, NAN, -INF])],
         {"dtype": "float64"})
    case("convert", "to_int64_transposed", "to", [T([2, 3], view=[["t"]])], {"dtype": "int64"})

    # in-place arithmetic
    case("inplace", "add__broadcast", "add_", [T([2, 3]), T([3], seed=1)])
    case("inplace", "add__alpha", "add_", [T([2, 3], "int64"), T([2, 1], "int64", seed=1)],
         {"alpha": -2})
    case("inplace", "add__scalar", "add_", [T([3], "float64")], {"other": 0.25})
    case("inplace", "add__float_into_int_error", "add_", [T([3], "int64"), T([3], "float32")],
         expect_error=True)
    case("inplace", "add__float_scalar_into_int_error", "add_", [T([3], "int64")],
         {"other": 0.5}, expect_error=True)
    case("inplace", "add__int_into_bool_error", "add_", [T([3], "bool"), T([3], "int64")],
         expect_error=True)
    case("inplace", "add__int_into_float", "add_", [T([3], "float32"), T([3], "int64")])
    case("inplace", "add__float64_into_float32", "add_", [T([3], "float32"), T([3], "float64", seed=1)])
    case("inplace", "add__self_must_not_broadcast_error", "add_", [T([3]), T([2, 3])],
         expect_error=True)
    case("inplace", "add__size1_self_error", "add_", [T([1, 3]), T([2, 3])], expect_error=True)
    case("inplace", "add__expanded_self_error", "add_",
         [T([3, 1], view=[["expand", [3, 4]]]), T([3, 4])], expect_error=True)
    case("inplace", "mul__transposed_self", "mul_", [T([3, 2], view=[["t"]]), T([3], seed=2)])
    case("inplace", "sub__broadcast_0d", "sub_", [T([2, 2]), T([], values=[0.5])])
    case("inplace", "mul__int", "mul_", [T([2, 3], "int64"), T([3], "int64", seed=2)])
    case("inplace", "mul__bool", "mul_", [T([4], "bool"), T([4], "bool", seed=1)])
    case("inplace", "div__float", "div_", [T([2, 3]), T([2, 1], values=[2.0, -4.0])])
    case("inplace", "div__int_error", "div_", [T([3], "int64"), T([3], "int64", [1, 2, 3])],
         expect_error=True)
    case("inplace", "pow__float", "pow_", [T([3], values=[1.5, 2.0, -3.0])], {"exponent": 2})
    case("inplace", "pow__int", "pow_", [T([3], "int64", [2, -3, 4])], {"exponent": 3})
    case("inplace", "pow__int_float_exp_error", "pow_", [T([3], "int64", [2, -3, 4])],
         {"exponent": 0.5}, expect_error=True)
    case("inplace", "fill__float", "fill_", [T([2, 2])], {"value": 3.25})
    case("inplace", "fill__int_from_float", "fill_", [T([3], "int64")], {"value": 2.9})
    case("inplace", "fill__bool", "fill_", [T([3], "bool")], {"value": 2})
    case("inplace", "clamp__float", "clamp_", [T([5])], {"min": -1.0, "max": 1.0})
    case("inplace", "clamp__int_float_bound_error", "clamp_", [T([3], "int64")],
         {"min": 0.5, "max": None}, expect_error=True)
    case("inplace", "neg__int", "neg_", [T([3], "int64")])
    case("inplace", "abs__float", "abs_", [T([4])])
    case("inplace", "exp__float64", "exp_", [T([3], "float64")], rtol=1e-13)
    case("inplace", "exp__int_error", "exp_", [T([3], "int64")], expect_error=True)
    case("inplace", "sqrt__float", "sqrt_", [T([3], values=[4.0, 2.0, -1.0])], rtol=2e-6)
    case("inplace", "log__int_error", "log_", [T([3], "int64", [1, 2, 3])], expect_error=True)
    # copy_: broadcast and cast
    case("inplace", "copy__broadcast", "copy_", [T([2, 3]), T([3], seed=1)])
    case("inplace", "copy__cast_float_to_int", "copy_", [T([4], "int64"),
                                                         T([4], values=[1.9, -1.9, NAN, 0.5])])
    case("inplace", "copy__cast_int_to_bool", "copy_", [T([3], "bool"), T([3], "int64", [0, 2, -1])])
    case("inplace", "copy__float64_to_float32_broadcast", "copy_",
         [T([2, 2]), T([2, 1], "float64", [0.1, 1e-50])])
    case("inplace", "copy__bad_broadcast_error", "copy_", [T([2, 3]), T([2])], expect_error=True)
    case("inplace", "copy__cannot_grow_error", "copy_", [T([3]), T([2, 3])], expect_error=True)
    case("inplace", "copy__from_transposed", "copy_", [T([3, 2]), T([2, 3], view=[["t"]], seed=1)])


# ── 8. printing ─────────────────────────────────────────────────────────────────────────────


def gen_printing():
    p = [
        ("float_int_mode", T([3], values=[1.0, 2.0, 3.0])),
        ("float_int_mode_neg", T([4], values=[-1.0, 20.0, 300.0, 0.0])),
        ("float_fixed", T([3], values=[1.5, -2.25, 3.125])),
        ("float_fixed_2d", T([2, 3], values=[0.1, -0.2, 0.333, 10.5, 1.0, -7.25])),
        ("float_rounding", T([3], values=[0.12345, 2.00005, -0.99999])),
        ("float_sci_small", T([2], values=[1e-5, 1.0])),
        ("float_sci_large", T([2], values=[1e10, 1.0])),
        ("float_sci_ratio", T([2], values=[0.5, 1234.5])),
        ("float_int_sci", T([2], values=[1.0, 1e9])),
        ("float_int_ratio_sci", T([2], values=[1.0, 2000.0])),
        ("float_fixed_large_ok", T([2], values=[0.5, 400.25])),
        ("float_nan_inf", T([4], values=[NAN, INF, -INF, 1.5])),
        ("float_nan_inf_int_mode", T([3], values=[NAN, INF, 2.0])),
        ("float_only_nonfinite", T([3], values=[NAN, INF, -INF])),
        ("float_zeros", T([2, 2], values=[0.0] * 4)),
        ("float_neg_zero", T([], values=[-0.0])),
        ("float_sci_with_zero", T([3], values=[0.0, 1e-8, 1.0])),
        ("float_0d", T([], values=[3.5])),
        ("float_0d_neg", T([], values=[-0.125])),
        ("float_0d_int", T([], values=[7.0])),
        ("float_one_elem", T([1], values=[2.5])),
        ("float_3d", T([2, 2, 3])),
        ("float_4d", T([2, 1, 2, 2])),
        ("float_wrap_line", T([30], values=[i * 1.5 for i in range(30)])),
        ("float_wrap_2d", T([2, 20], values=[i * 0.25 - 3 for i in range(40)])),
        # 3-d rows of width-6 items: (80 - 9) // 8 = 8 per line, one fewer than 81 would give.
        ("float_wrap_3d", T([2, 2, 10], values=[i * 0.125 for i in range(40)])),
        ("int_wrap_2d_wide", T([2, 30], "int64", [i * 37 - 1000 for i in range(60)])),
        ("float_transposed", T([3, 2], view=[["t"]])),
        ("float_expanded", T([3, 1], view=[["expand", [3, 2]]])),
        ("float64_vec", T([2], "float64", [1.5, 2.0])),
        ("float64_0d", T([], "float64", [0.1])),
        ("float64_sci", T([2], "float64", [1e-20, 1.0])),
        ("int_vec", T([4], "int64", [1, -20, 300, 0])),
        ("int_2d", T([2, 3], "int64")),
        ("int_big", T([2], "int64", [2**62, -5])),
        ("int_0d", T([], "int64", [-7])),
        ("int_wrap_line", T([40], "int64", list(range(-20, 20)))),
        ("bool_vec", T([3], "bool", [True, False, True])),
        ("bool_2d", T([2, 2], "bool", [False, False, True, False])),
        ("bool_0d", T([], "bool", [True])),
        ("empty_float", T([0])),
        ("empty_2d", T([0, 3])),
        ("empty_3d", T([2, 0, 1])),
        ("empty_int", T([0], "int64")),
        ("empty_bool", T([0], "bool")),
        ("empty_float64_2d", T([3, 0], "float64")),
        ("summarised_1d", T([2000], values=[float(i) for i in range(2000)])),
        ("summarised_1d_fixed", T([1001], values=[i * 0.5 for i in range(1001)])),
        ("summarised_2d", T([40, 30], "int64", list(range(1200)))),
        ("summarised_2d_rows_only", T([500, 3], values=[(i % 7) * 0.25 for i in range(1500)])),
        ("summarised_3d", T([12, 10, 10], values=[float(i % 13) - 6 for i in range(1200)])),
        ("not_summarised_1000", T([1000], "int64", list(range(1000)))),
        ("summarised_bool", T([1001], "bool", [i % 2 == 0 for i in range(1001)])),
        ("summarised_float64", T([1100], "float64", [i / 7 for i in range(1100)])),
    ]
    for name, inp in p:
        case("print", f"repr_{name}", "repr", [inp])


def main():
    opts = command_line(__doc__, OUT)

    torch.set_printoptions(profile="default")
    torch.set_default_dtype(torch.float32)
    import warnings
    warnings.simplefilter("ignore")  # var() of one element etc. warn; the values are what count

    gen_broadcasting()
    gen_promotion()
    gen_unary()
    gen_pow()
    gen_clamp()
    gen_minmax_compare_where()
    gen_reductions()
    gen_matmul()
    gen_views()
    gen_conversions_inplace()
    gen_printing()

    doc = {
        **header(__file__),
        "cases": CASES,
    }
    text = one_case_per_line(doc)
    return write_or_check(opts.out, text, opts.check,
                          f"{len(CASES)} cases")


if __name__ == "__main__":
    sys.exit(main())
