#!/usr/bin/python3
"""Writes tests/data/dtypes_reference.json: PyTorch's conversions, type promotion, element-wise
results, sums and printing for the dtypes int16, int32, float16 and bfloat16 (core/scalar_type.h).

Run from anywhere (Debian's python3-torch 1.13, hence /usr/bin/python3):

    /usr/bin/python3 tools/reference/gen_dtypes.py          # writes the file
    /usr/bin/python3 tools/reference/gen_dtypes.py --check  # fails if the file is stale

Deterministic: every input is written out. Numbers are JSON numbers, or "nan", "inf", "-inf";
float16 and bfloat16 values are also given as their 16-bit patterns ("bits"), so that a test can
check -0.0, NaN and the rounding exactly. On x86 (where this file was made), a float out of an
integer's range converts as the CPU's cvttps2dq does.

Cases (one list, "cases"; each has "name" and "op"):

  to        "from", "to" (dtype names), "input" (values of "from"; for a 16-bit "from", also
            "input_bits"), "expected" (values of "to"; for a 16-bit "to", also "expected_bits"):
            x.to(to).
  binary    "fn" (add, sub, mul, div, eq, lt, maximum), "a", "b": {"dtype", "shape", "values"}
            (shape [] is a 0-d tensor) or {"scalar": "int"|"float", "value"}; "result_dtype",
            "expected" (and "expected_bits" for a 16-bit result).
  unary     "fn" (neg, abs, sqrt, exp), "x", "result_dtype", "expected" ("expected_bits"), and
            "exact": false where PyTorch's vectorised exp may differ from std::exp by an ulp.
  reduce    "fn" (sum, mean), "x", "dim" (null: all), "dtype" (sum's dtype argument or null),
            "result_dtype", "expected" ("expected_bits").
  repr      "x" ({"dtype", "values"}), "expected": repr(x) with "torch." spelled "tinytorch.".
"""

import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from refdata import command_line, header, one_case_per_line, write_or_check  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(REPO, "tests", "data", "dtypes_reference.json")

DTYPES = {"bool": torch.bool, "uint8": torch.uint8, "int8": torch.int8, "int16": torch.int16,
          "int32": torch.int32, "int64": torch.int64, "float16": torch.float16,
          "bfloat16": torch.bfloat16, "float32": torch.float32, "float64": torch.float64}
NAMES = {v: k for k, v in DTYPES.items()}
SIXTEEN = (torch.float16, torch.bfloat16)


def enc(v):
    """A value for JSON: NaN and infinities as strings."""
    if isinstance(v, bool) or isinstance(v, int):
        return v
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def bits(t):
    return t.contiguous().view(torch.int16).to(torch.int64).bitwise_and(0xFFFF).flatten().tolist()


def values(t):
    """The elements of t in row-major order, exactly (16-bit floats widen exactly)."""
    if t.dtype in SIXTEEN:
        t = t.to(torch.float64)
    return [enc(v) for v in t.flatten().tolist()]


def result(t):
    out = {"result_dtype": NAMES[t.dtype], "shape": list(t.shape), "expected": values(t)}
    if t.dtype in SIXTEEN:
        out["expected_bits"] = bits(t)
    return out


def tensor_json(t):
    out = {"dtype": NAMES[t.dtype], "shape": list(t.shape), "values": values(t)}
    if t.dtype in SIXTEEN:
        out["bits"] = bits(t)
    return out


# The edge values of the brief, and the ones around them: float16's largest finite (65504) and
# its overflow tie (65520), its subnormals (1e-8 underflows, 6e-8 is the smallest), signed zero,
# NaN, infinities, float32's near-max, 2^31 and -2^15 - 1 (just outside int32 and int16), the
# round-half-to-even ties of the integers (0.5, 1.5, 2.5: truncation, not rounding) and of the
# 16-bit floats (1 + 2^-8 and 1 + 3 * 2^-8 for bfloat16, 1 + 2^-11 for float16).
EDGES = [65504.0, 65520.0, 65519.99, 65536.0, 1e-8, 6e-8, 3e-5, -0.0, 0.0, math.nan, math.inf,
         -math.inf, 3.0e38, 2.0 ** 31, -2.0 ** 31, -2.0 ** 15 - 1, 2.0 ** 15, 40000.0, 3e9, 1e10,
         0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 1.00390625, 1.01171875, 1.00048828125, 0.1, -7.75,
         1e-40]
INT_EDGES = [0, 1, -1, 127, 32767, 32768, -32769, 65504, 65505, 2 ** 24 + 1, 2 ** 31 - 1, 2 ** 31,
             -2 ** 31 - 1, 2 ** 40 + 5, -(2 ** 53) - 7]


def to_case(name, src, dst):
    case = {"name": name, "op": "to", "from": NAMES[src.dtype], "to": NAMES[dst],
            "input": values(src)}
    if src.dtype in SIXTEEN:
        case["input_bits"] = bits(src)
    y = src.to(dst)
    case["expected"] = values(y)
    if dst in SIXTEEN:
        case["expected_bits"] = bits(y)
    return case


def conversions():
    cases = []
    f64 = torch.tensor(EDGES, dtype=torch.float64)
    f32 = f64.to(torch.float32)
    i64 = torch.tensor(INT_EDGES, dtype=torch.int64)
    for dst in (torch.int32, torch.int16, torch.float16, torch.bfloat16):
        n = NAMES[dst]
        cases.append(to_case(f"float32_to_{n}", f32, dst))
        cases.append(to_case(f"float64_to_{n}", f64, dst))
        cases.append(to_case(f"int64_to_{n}", i64, dst))
    # Every 16-bit dtype to every dtype, from the values the edges became.
    for src in (torch.int32, torch.int16, torch.float16, torch.bfloat16):
        x = f64.to(src) if src in SIXTEEN else i64.to(src)
        for dst in DTYPES.values():
            if dst != src:
                cases.append(to_case(f"{NAMES[src]}_to_{NAMES[dst]}", x, dst))
    return cases


def operand(spec):
    if "scalar" in spec:
        return spec["value"]
    return torch.tensor(spec["values"], dtype=torch.float64).to(DTYPES[spec["dtype"]]).reshape(
        spec["shape"])


def spec_json(spec):
    if "scalar" in spec:
        return {"scalar": spec["scalar"], "value": enc(spec["value"])}
    t = operand(spec)
    return tensor_json(t)


FNS = {"add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div, "eq": torch.eq,
       "lt": torch.lt, "maximum": torch.maximum}


def T(dtype, vals, shape=None):
    return {"dtype": dtype, "values": vals, "shape": [len(vals)] if shape is None else shape}


def S(kind, v):
    return {"scalar": kind, "value": v}


def binary_cases():
    small_i = [3, -7, 100, 32767, -32768]
    big_i = [2 ** 31 - 1, -2 ** 31, 65536, -3, 7]
    floats = [1.0, 0.1, -2.5, 65504.0, 3.0e38]
    odd = [1.00390625, 3.14159, -0.333, 1000.1, 1e-3]
    pairs = [
        ("int16+int32", T("int16", small_i), T("int32", big_i)),
        ("int32+int64", T("int32", big_i), T("int64", [1, 2, 3, 4, 5])),
        ("int32+float_scalar", T("int32", big_i), S("float", 2.5)),
        ("int16+int_scalar", T("int16", small_i), S("int", 1)),
        ("int32+int_scalar", T("int32", big_i), S("int", 1)),
        ("bfloat16+float16", T("bfloat16", odd), T("float16", odd)),
        ("bfloat16+float32", T("bfloat16", odd), T("float32", odd)),
        ("int64+bfloat16", T("int64", [1, 2, 3, 300, 257]), T("bfloat16", odd)),
        ("int32+float16", T("int32", [1, 2, 3, 300, 2049]), T("float16", odd)),
        ("uint8+int8", T("uint8", [0, 1, 200, 255, 128]), T("int8", [-128, 127, 5, -1, 0])),
        ("bool+int16", T("bool", [1, 0, 1, 0, 1]), T("int16", small_i)),
        ("int16+int64_0d", T("int16", small_i), T("int64", [100000], [])),
        ("bfloat16+float64_0d", T("bfloat16", odd), T("float64", [0.1], [])),
        ("float16+float_scalar", T("float16", floats), S("float", 0.1)),
        ("bfloat16+float_scalar", T("bfloat16", odd), S("float", 0.1234567)),
        ("bfloat16+bfloat16", T("bfloat16", odd), T("bfloat16", floats)),
        ("float16+float16", T("float16", odd), T("float16", floats)),
        ("int32_0d+int16", T("int32", [70000], []), T("int16", small_i)),
    ]
    cases = []
    for label, a, b in pairs:
        for fn in ("add", "sub", "mul", "div", "eq", "lt", "maximum"):
            if fn == "sub" and "bool" in label:
                continue
            if fn == "maximum" and ("scalar" in a or "scalar" in b):
                continue
            y = FNS[fn](operand(a), operand(b))
            cases.append({"name": f"{fn}_{label}", "op": "binary", "fn": fn, "a": spec_json(a),
                          "b": spec_json(b), **result(y)})
    return cases


def unary_cases():
    cases = []
    xs = {"float16": [1.0, 0.1, -2.5, 65504.0, 6e-8, 2.0, 10.0, -0.0],
          "bfloat16": [1.0, 0.1, -2.5, 3.0e38, 1e-40, 2.0, 10.0, -0.0],
          "int32": [0, 5, -7, 2 ** 31 - 1, -2 ** 31, 100, 9, 16],
          "int16": [0, 5, -7, 32767, -32768, 100, 9, 16]}
    for dtype, vals in xs.items():
        x = torch.tensor(vals, dtype=torch.float64).to(DTYPES[dtype])
        for fn in ("neg", "abs", "sqrt", "exp"):
            if dtype == "float16" and fn in ("sqrt", "exp"):
                continue  # PyTorch 1.13's CPU kernels have no float16 sqrt or exp
            y = getattr(torch, fn)(x)
            cases.append({"name": f"{fn}_{dtype}", "op": "unary", "fn": fn, "x": tensor_json(x),
                          "exact": fn != "exp", **result(y)})
    return cases


def reduce_cases():
    cases = []
    ramp = [0.125 * (i % 37) + 3.0 for i in range(120)]  # exact float32 sums that bf16 rounds
    ints = [2 ** 31 - 1, 1, 5, -3, 2 ** 30, 2 ** 30]
    specs = [
        ("bfloat16", ramp, [8, 15]), ("float16", ramp, [8, 15]),
        ("int32", ints, [2, 3]), ("int16", [32767, 1, 2, -5, 300, 7], [2, 3]),
    ]
    for dtype, vals, shape in specs:
        x = torch.tensor(vals, dtype=torch.float64).to(DTYPES[dtype]).reshape(shape)
        for fn in ("sum", "mean"):
            if fn == "mean" and dtype.startswith("int"):
                continue
            for dim in (None, 0, 1):
                y = getattr(torch, fn)(x) if dim is None else getattr(torch, fn)(x, dim)
                cases.append({"name": f"{fn}_{dtype}_dim{dim}", "op": "reduce", "fn": fn,
                              "x": tensor_json(x), "dim": dim, "dtype": None, **result(y)})
        if dtype.startswith("int"):  # an int32 sum asked for: wraps modulo 2^32
            y = torch.sum(x, dtype=torch.int32)
            cases.append({"name": f"sum_{dtype}_as_int32", "op": "reduce", "fn": "sum",
                          "x": tensor_json(x), "dim": None, "dtype": "int32", **result(y)})
    return cases


def repr_cases():
    cases = []
    for dtype, vals in [("int32", [1, -2, 2 ** 31 - 1]), ("int16", [1, -2, 300]),
                        ("float16", [1.5, -0.1, 65504.0]), ("bfloat16", [1.5, 2.0, -3.0]),
                        ("bfloat16", [1.0, 2.0]), ("float16", [0.001, 1000.0])]:
        x = torch.tensor(vals, dtype=torch.float64).to(DTYPES[dtype])
        cases.append({"name": f"repr_{dtype}_{len(cases)}", "op": "repr", "x": tensor_json(x),
                      "expected": repr(x).replace("torch.", "tinytorch.")})
    return cases


def main():
    opts = command_line(__doc__, OUT)
    cases = conversions() + binary_cases() + unary_cases() + reduce_cases() + repr_cases()
    doc = {**header(__file__), "cases": cases}
    return write_or_check(opts.out, one_case_per_line(doc), opts.check, f"{len(cases)} cases")


if __name__ == "__main__":
    sys.exit(main())
