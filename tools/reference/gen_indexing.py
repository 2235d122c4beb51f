#!/usr/bin/python3
"""Writes tests/data/indexing_reference.json: PyTorch's answers for tensor indexing.

Run from anywhere (Debian's python3-torch 1.13, hence /usr/bin/python3):

    /usr/bin/python3 tools/reference/gen_indexing.py          # writes the file
    /usr/bin/python3 tools/reference/gen_indexing.py --check  # fails if the file is stale

Deterministic: every value is a fixed formula (`pattern`), no random numbers. Tensors use
gen_module01.py's encoding: {"shape", "dtype", "values" (flat, row-major), "view"?}; a "view" is
applied to the plain tensor before anything else (a non-contiguous self).

Each case has "name", "op", "self", the op's arguments, "expected" (the result), and, when self
is float64, "grad_output" g and "grads": the gradient of (result · g).sum() for self and for the
op's differentiable tensor argument, from torch.autograd. The ops ("op"):

  index        self[indices]: "indices" is a list of index specs (below), as C++'s
               x.index({...}) takes them.
  setitem      out = self.clone(); out[indices] = "values" (C++: x.index_put_({...}, values)).
               "values" may be a plain number ({"number": v}), which C++ passes as a Scalar.
  index_put    torch.ops.aten.index_put(self, "tensors", "values", "accumulate"): "tensors" is a
               list of tensors or nulls (a whole dim), C++'s std::vector<std::optional<Tensor>>.
  gather       self.gather("dim", "index")
  scatter      self.scatter("dim", "index", "src")    scatter_value: "value" (a number)
  scatter_add  self.scatter_add("dim", "index", "src")
  index_select self.index_select("dim", "index")
  index_add    self.index_add("dim", "index", "source", alpha="alpha")
  masked_select self.masked_select("mask")
  nonzero      torch.nonzero(self)

Index specs: {"int": i}, {"slice": [start, stop, step]} (nulls for None), {"none": true},
{"ellipsis": true}, {"bool": b}, {"tensor": tensor}.

Scatter targets are unique in every `scatter`/`setitem`/`index_put` case without accumulate:
PyTorch leaves the order of duplicate writes undefined, so those values are not reference data.
"""

import math
import os
import sys
import warnings

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from refdata import command_line, header, one_case_per_line, write_or_check  # noqa: E402
from gen_module01 import apply_views, enc_tensor as enc_tensor01  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(REPO, "tests", "data", "indexing_reference.json")

F32, F64, I64, BOOL, U8 = torch.float32, torch.float64, torch.int64, torch.bool, torch.uint8
CASES = []
NAMES = set()


def enc_tensor(t):
    """gen_module01's encoding, and uint8 (a mask's other dtype) beside its dtypes."""
    if t.dtype == U8:
        return {"shape": list(t.shape), "dtype": "uint8", "values": t.reshape(-1).tolist()}
    return enc_tensor01(t)


def pattern(shape, seed, dtype=F64):
    """Deterministic values in about ±2: a sine of the position, varied by the seed."""
    n = math.prod(shape)
    vals = [2.0 * math.sin(0.7 * i + 1.3 * seed + 0.1) for i in range(n)]
    return torch.tensor(vals, dtype=F64).reshape(shape).to(dtype)


def idx(values):
    return torch.tensor(values, dtype=I64)


def mask(values, dtype=BOOL):
    return torch.tensor(values, dtype=dtype)


class Self:
    """The tensor being indexed: a base tensor and optional view ops (a non-contiguous self)."""

    def __init__(self, base, view=None):
        self.base, self.view = base, view or []

    def torch(self):
        return apply_views(self.base.clone(), self.view)

    def enc(self):
        d = enc_tensor(self.base)
        if self.view:
            d["view"] = self.view
        return d


def S(shape, seed=0, dtype=F64, view=None):
    return Self(pattern(shape, seed, dtype), view)


# ── index specs: Python's index objects ↔ the JSON the C++ test turns into TensorIndex ──────────

class Slice:
    def __init__(self, start=None, stop=None, step=None):
        self.args = [start, stop, step]


def enc_index(i):
    if i is None:
        return {"none": True}
    if i is Ellipsis:
        return {"ellipsis": True}
    if isinstance(i, bool):
        return {"bool": i}
    if isinstance(i, int):
        return {"int": i}
    if isinstance(i, Slice):
        return {"slice": i.args}
    return {"tensor": enc_tensor(i)}


def py_index(i):
    return slice(*i.args) if isinstance(i, Slice) else i


def case(name, op, self, args, fn, diff_arg=None, note=""):
    """Runs fn(self, *tensor args) and records the result and, for float64, the gradients.
    `args` are the JSON arguments; `diff_arg` names the differentiable tensor argument."""
    assert name not in NAMES, name
    NAMES.add(name)
    x = self.torch()
    grads_wanted = x.dtype == F64
    other = args.get(diff_arg) if diff_arg else None
    other_t = other.clone() if other is not None else None
    leaves = []
    if grads_wanted:
        x = x.detach().requires_grad_(True)
        leaves.append(("self", x))
        if other_t is not None and other_t.dtype == F64:
            other_t.requires_grad_(True)
            leaves.append((diff_arg, other_t))
    out = fn(x, other_t)
    c = {"name": name, "op": op, "self": self.enc()}
    if note:
        c["note"] = note
    for k, v in args.items():
        if k == "indices":
            c[k] = [enc_index(i) for i in v]
        elif k == "tensors":
            c[k] = [None if t is None else enc_tensor(t) for t in v]
        elif isinstance(v, torch.Tensor):
            c[k] = enc_tensor(v)
        else:
            c[k] = v
    c["expected"] = enc_tensor(out.detach())
    if grads_wanted:
        g = pattern(list(out.shape), len(CASES) + 17)
        c["grad_output"] = enc_tensor(g)
        grads = torch.autograd.grad(out, [t for _, t in leaves], g, allow_unused=True)
        c["grads"] = {n: enc_tensor(gr if gr is not None else torch.zeros_like(t))
                      for (n, t), gr in zip(leaves, grads)}
    CASES.append(c)


def index_case(name, self, indices, note=""):
    case(name, "index", self, {"indices": indices},
         lambda x, _: x[tuple(py_index(i) for i in indices)], note=note)


def setitem_case(name, self, indices, values, note=""):
    def fn(x, v):
        out = x.clone()
        out[tuple(py_index(i) for i in indices)] = v
        return out
    if isinstance(values, torch.Tensor):
        case(name, "setitem", self, {"indices": indices, "values": values}, fn, "values", note)
    else:
        case(name, "setitem", self, {"indices": indices, "values": {"number": values}},
             lambda x, _: fn(x, values), note=note)


def index_put_case(name, self, tensors, values, accumulate, note=""):
    case(name, "index_put", self, {"tensors": tensors, "values": values, "accumulate": accumulate},
         lambda x, v: torch.ops.aten.index_put(x, list(tensors), v, accumulate), "values", note)


# ── the cases ───────────────────────────────────────────────────────────────────────────────────

def gen_basic():
    x = S([3, 4], 1)
    index_case("int", x, [1])
    index_case("int_negative", x, [-1])
    index_case("int_int", x, [2, -3])
    index_case("slice_step", S([7, 2], 2), [Slice(1, None, 2)])
    index_case("slice_negative_bounds", S([6], 3), [Slice(-4, -1)])
    index_case("slice_clamped", S([5], 4), [Slice(-100, 100)], "bounds past the ends are clamped")
    index_case("slice_empty", S([5], 5), [Slice(3, 1)])
    index_case("slice_huge_step", S([5], 6), [Slice(None, None, 2**62)])
    y = S([2, 3, 4, 5], 7)
    index_case("int_slice_int", y, [1, Slice(), 2])
    index_case("none_ellipsis_int", y, [None, Ellipsis, None, 0])
    index_case("ellipsis_int", y, [Ellipsis, 1])
    index_case("int_ellipsis_slice", y, [0, Ellipsis, Slice(1, 3)])
    index_case("none_only", x, [None])
    index_case("ellipsis_only", x, [Ellipsis])
    index_case("bool_true", x, [True])
    index_case("bool_false", x, [False])
    index_case("slice_bool_int", y, [Slice(), True, 0])
    index_case("zero_dim_int_tensor", x, [idx(2)], "a 0-d int64 tensor is an integer index")
    index_case("zero_dim_bool_tensor", x, [Slice(), mask(True)])
    index_case("noncontiguous_self", S([4, 3], 8, view=[["t"]]), [Slice(None, None, 2), 1])
    index_case("float32_self", S([3, 4], 9, F32), [Slice(1), Slice(None, None, 3)])
    index_case("zero_dim_self_none", S([], 10), [None, Ellipsis])


def gen_advanced():
    x = S([3, 4], 11)
    index_case("tensor_rows_duplicates", x, [idx([2, 0, 2])])
    index_case("tensor_negative", x, [idx([-1, 0, -3])])
    index_case("tensor_2d", x, [idx([[0, 1], [2, 2]])])
    index_case("tensor_columns", x, [Slice(), idx([3, 0])])
    index_case("tensor_pair", x, [idx([0, 2, 1]), idx([3, 3, 0])])
    index_case("tensor_pair_broadcast", x, [idx([[0], [2]]), idx([1, 3, 0])],
               "[2, 1] and [3] broadcast to [2, 3]")
    index_case("tensor_empty", x, [idx([])])
    index_case("tensor_empty_2d", x, [Slice(), torch.zeros(0, 2, dtype=I64)])
    y = S([2, 3, 4, 5], 12)
    i, j = idx([2, 0]), idx([4, 1])
    index_case("tensors_adjacent", y, [Slice(), i, idx([3, 0])],
               "adjacent index tensors keep their place: [2, 2, 5]")
    index_case("tensors_separated_by_slice", y, [Slice(), i, Slice(), j],
               "a slice between them: the broadcast dims go first, [2, 2, 4]")
    index_case("tensors_around_int", y, [idx([1, 0]), 0, Slice(), idx([3, 2])],
               "the integer is a select first, so the tensors stay separated: [2, 4]")
    index_case("tensor_then_none", y, [Ellipsis, i, None], "[2, 3, 2, 1]")
    index_case("tensor_int_tensor", y, [idx([1, 0]), 1, idx([0, 3])])
    index_case("mask_full", x, [pattern([3, 4], 11) > 0])
    index_case("mask_rows", x, [mask([True, False, True])])
    index_case("mask_middle", y, [Slice(), pattern([3, 4], 13) > 0.5])
    index_case("masks_separated", S([5, 7, 3], 14),
               [mask([1, 0, 1, 1, 0]), Slice(), mask([1, 1, 1])],
               "two masks with a slice between: [3, 7]")
    index_case("mask_all_false", x, [mask([False, False, False])])
    index_case("mask_uint8", x, [mask([1, 0, 1], U8)])
    index_case("mask_and_tensor", y, [mask([False, True]), Slice(), idx([0, 3, 3])])
    index_case("tensor_noncontiguous_self", S([4, 5], 15, view=[["t"]]),
               [idx([4, 0]), Slice(1, None)])
    index_case("int64_numpy_example", Self(torch.arange(12).view(4, 3)),
               [idx([[0, 0], [3, 3]]), idx([[0, 2], [0, 2]])])
    index_case("bool_self_mask", Self(mask([True, False, True])), [mask([True, False, False])])
    index_case("float32_tensor", S([3, 4], 16, F32), [idx([1, 1]), Slice(None, None, 2)])


def gen_setitem():
    x = S([3, 4], 21)
    setitem_case("set_row", x, [1], pattern([4], 22))
    setitem_case("set_slice_broadcast", x, [Slice(), Slice(1, 3)], pattern([2], 23))
    setitem_case("set_number", x, [Ellipsis, 0], 5.5)
    setitem_case("set_leading_ones", x, [0], pattern([1, 4], 24),
                 "a value with leading 1s: they are dropped first")
    setitem_case("set_tensor_rows", x, [idx([2, 0])], pattern([2, 4], 25))
    setitem_case("set_tensor_pair", x, [idx([0, 2]), idx([3, 1])], pattern([2], 26))
    setitem_case("set_mask_number", x, [pattern([3, 4], 21) > 0], 0.0)
    setitem_case("set_mask_values", x, [mask([True, False, True])], pattern([2, 4], 27))
    y = S([2, 3, 4, 5], 28)
    setitem_case("set_separated", y, [Slice(), idx([2, 0]), Slice(), idx([4, 1])],
                 pattern([2, 1, 4], 29), "the value broadcasts to [2, 2, 4]")
    setitem_case("set_none_bool", x, [None, True, 1], pattern([4], 30))
    setitem_case("set_noncontiguous", S([4, 3], 31, view=[["t"]]), [Slice(), idx([3, 0])],
                 pattern([3, 2], 32))
    setitem_case("set_int64", Self(torch.arange(12).view(3, 4)), [Slice(), 1], 7)
    setitem_case("set_false_is_noop", x, [False], 9.0)


def gen_index_put():
    x = S([3, 4], 41)
    index_put_case("put_accumulate_duplicates", x, [idx([2, 0, 2])], pattern([3, 4], 42), True,
                   "row 2 receives two rows")
    index_put_case("put_accumulate_pairs", x, [idx([0, 0, 1]), idx([1, 1, 3])],
                   pattern([3], 43), True, "(0, 1) twice")
    index_put_case("put_accumulate_whole_first_dim", x, [None, idx([3, 3, 0])], pattern([3], 44),
                   True, "a null entry leaves dim 0 whole; the value broadcasts to [3, 3]")
    index_put_case("put_accumulate_mask", x, [pattern([3, 4], 41) < 0], pattern([], 45), True)
    index_put_case("put_write", x, [idx([1, 2])], pattern([2, 4], 46), False)
    index_put_case("put_write_broadcast", x, [None, idx([0, 3])], pattern([3, 1], 47), False)
    index_put_case("put_accumulate_int64", Self(torch.arange(6).view(2, 3)), [idx([1, 1])],
                   torch.tensor([10, 20, 30]), True)


def gen_gather_scatter():
    x = S([3, 4], 51)
    g0 = idx([[2, 0, 1, 2], [0, 0, 2, 1]])
    case("gather_dim0", "gather", x, {"dim": 0, "index": g0}, lambda t, _: t.gather(0, g0))
    g1 = idx([[3, 3], [0, 1], [2, 0]])
    case("gather_dim1", "gather", x, {"dim": 1, "index": g1}, lambda t, _: t.gather(1, g1))
    gs = idx([[1], [3]])
    case("gather_smaller_index", "gather", x, {"dim": -1, "index": gs},
         lambda t, _: t.gather(-1, gs), note="index [2, 1] reads a corner of self")
    y = S([2, 3, 4], 52)
    g3 = idx([[[1, 0], [0, 2]], [[2, 2], [1, 1]]])
    case("gather_3d_dim1", "gather", y, {"dim": 1, "index": g3}, lambda t, _: t.gather(1, g3))
    g00 = idx(0)
    case("gather_zero_dim", "gather", S([], 53), {"dim": 0, "index": g00},
         lambda t, _: t.gather(0, g00))
    case("gather_noncontiguous", "gather", S([4, 3], 54, view=[["t"]]), {"dim": 1, "index": g1},
         lambda t, _: t.gather(1, g1))

    s0 = idx([[2, 0, 1, 0], [0, 1, 2, 2]])  # unique targets per column
    src = pattern([2, 4], 55)
    case("scatter_dim0", "scatter", x, {"dim": 0, "index": s0, "src": src},
         lambda t, v: t.scatter(0, s0, v), "src")
    s1 = idx([[3, 1], [0, 2], [2, 3]])
    src1 = pattern([3, 2], 56)
    case("scatter_dim1", "scatter", x, {"dim": 1, "index": s1, "src": src1},
         lambda t, v: t.scatter(1, s1, v), "src")
    case("scatter_value", "scatter_value", x, {"dim": 1, "index": s1, "value": -2.5},
         lambda t, _: t.scatter(1, s1, -2.5))
    case("scatter_int64", "scatter", Self(torch.arange(12).view(3, 4)),
         {"dim": 1, "index": s1, "src": torch.tensor([[100, 101], [102, 103], [104, 105]])},
         lambda t, v: t.scatter(1, s1, v), "src")
    sa = idx([[0, 0, 2, 0], [0, 2, 2, 1], [1, 0, 2, 1]])
    srca = pattern([3, 4], 57)
    case("scatter_add_duplicates", "scatter_add", x, {"dim": 0, "index": sa, "src": srca},
         lambda t, v: t.scatter_add(0, sa, v), "src")
    sa1 = idx([[1, 1, 1], [0, 3, 0]])
    srcb = pattern([2, 3], 58)
    case("scatter_add_dim1_partial", "scatter_add", x, {"dim": 1, "index": sa1, "src": srcb},
         lambda t, v: t.scatter_add(1, sa1, v), "src", "index [2, 3] updates rows 0 and 1 only")


def gen_select_add_masked():
    x = S([3, 4], 61)
    for name, dim, index in [("index_select_dim0", 0, idx([2, 0, 2, 1])),
                             ("index_select_dim1", 1, idx([3, 3])),
                             ("index_select_zero_dim_index", -1, idx(1)),
                             ("index_select_empty", 0, idx([]))]:
        case(name, "index_select", x, {"dim": dim, "index": index},
             lambda t, _, d=dim, i=index: t.index_select(d, i))
    case("index_select_noncontiguous", "index_select", S([4, 3], 62, view=[["t"]]),
         {"dim": 1, "index": idx([0, 3])}, lambda t, _: t.index_select(1, idx([0, 3])))
    src = pattern([4, 4], 63)
    case("index_add_duplicates", "index_add", x,
         {"dim": 0, "index": idx([2, 0, 2, 2]), "source": src, "alpha": 1},
         lambda t, v: t.index_add(0, idx([2, 0, 2, 2]), v), "source")
    src1 = pattern([3, 2], 64)
    case("index_add_alpha", "index_add", x,
         {"dim": 1, "index": idx([3, 1]), "source": src1, "alpha": -1.5},
         lambda t, v: t.index_add(1, idx([3, 1]), v, alpha=-1.5), "source")
    case("index_add_int64", "index_add", Self(torch.arange(6).view(2, 3)),
         {"dim": 1, "index": idx([0, 0]), "source": torch.tensor([[1, 2], [3, 4]]), "alpha": 3},
         lambda t, v: t.index_add(1, idx([0, 0]), v, alpha=3), "source")

    m = pattern([3, 4], 61) > 0.3
    case("masked_select_same_shape", "masked_select", x, {"mask": m},
         lambda t, _: t.masked_select(m))
    m_row = mask([True, False, False, True])
    case("masked_select_broadcast_mask", "masked_select", x, {"mask": m_row},
         lambda t, _: t.masked_select(m_row))
    m2 = mask([[True, False, True, True], [False, False, True, False]])
    case("masked_select_broadcast_self", "masked_select", S([4], 65), {"mask": m2},
         lambda t, _: t.masked_select(m2), note="self [4] is read twice: its gradients add up")
    case("masked_select_noncontiguous", "masked_select", S([4, 3], 66, view=[["t"]]),
         {"mask": m}, lambda t, _: t.masked_select(m))

    z = torch.tensor([[0.0, 1.5, 0.0], [float("nan"), 0.0, -2.0]])
    case("nonzero_float", "nonzero", Self(z), {}, lambda t, _: torch.nonzero(t),
         note="NaN is not zero")
    case("nonzero_bool_3d", "nonzero", Self(pattern([2, 2, 3], 67) > 0), {},
         lambda t, _: torch.nonzero(t))
    case("nonzero_zero_dim", "nonzero", Self(torch.tensor(3)), {}, lambda t, _: torch.nonzero(t))
    case("nonzero_none", "nonzero", Self(torch.zeros(2, 3, dtype=I64)), {},
         lambda t, _: torch.nonzero(t))


def main():
    opts = command_line(__doc__, OUT)
    torch.set_default_dtype(torch.float32)
    # uint8 masks are deprecated in PyTorch, still accepted, and one case checks that they are.
    warnings.filterwarnings("ignore", message="indexing with dtype torch.uint8")
    gen_basic()
    gen_advanced()
    gen_setitem()
    gen_index_put()
    gen_gather_scatter()
    gen_select_add_masked()
    doc = {**header(__file__), "cases": CASES}
    return write_or_check(opts.out, one_case_per_line(doc), opts.check, f"{len(CASES)} cases")


if __name__ == "__main__":
    sys.exit(main())
