// Module 01 — indexing: libtorch's x.index({...}) / x.index_put_({...}, v) with torch::indexing,
// and the gather/scatter family. Values against PyTorch (tests/data/indexing_reference.json,
// tools/reference/gen_indexing.py); views versus copies; the assignment idiom; every error, with
// hostile indices (huge, negative, aliasing) that must be refused, never read or written.
// (The gradients are module 05's: modules/05_autograd/tests/test_indexing_grad.cpp.)
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <set>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/indexing_reference.h"
#include "support/reference.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch {
namespace {

using namespace tinytorch::indexing;
using test::json;
using test::values_as_double;
using test::values_as_int;
using V = std::vector<int64_t>;
using D = std::vector<double>;

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

// [3, 4] float32 holding 0..11.
Tensor x34() {
  return arange(12, kFloat32).view({3, 4});
}

Tensor idx(std::vector<int64_t> v) {
  return from_vector(v, {static_cast<int64_t>(v.size())}, kInt64);
}

// ── against PyTorch ───────────────────────────────────────────────────────────────────────────

TEST(IndexingReference, EveryCaseMatchesPyTorch) {
  std::set<std::string> ops;
  for (const json& c : test::indexing_cases()) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    ops.insert(c.at("op").get<std::string>());
    const Tensor self = test::tensor_from_json(c.at("self"));
    const std::string other_name = test::other_input_name(c);
    const Tensor other = other_name.empty() ? Tensor() : test::tensor_from_json(c.at(other_name));
    const Tensor out = test::run_indexing_case(c, self, other);
    TT_EXPECT_TENSOR_EQ(out, c.at("expected"));
  }
  // Every op the generator writes is exercised (a renamed op would silently skip its cases).
  EXPECT_EQ(ops, (std::set<std::string>{"index", "setitem", "index_put", "gather", "scatter",
                                        "scatter_value", "scatter_add", "index_select", "index_add",
                                        "masked_select", "nonzero"}));
}

// ── basic indexing: views ─────────────────────────────────────────────────────────────────────

TEST(Indexing, BasicIndicesAreViews) {
  const Tensor x = x34();
  const Tensor col = x.index({Slice(), 1});
  EXPECT_TRUE(col.is_alias_of(x));
  EXPECT_EQ(col.sizes().vec(), V{3});
  EXPECT_EQ(col.strides().vec(), V{4});
  EXPECT_EQ(col.storage_offset(), 1);
  const Tensor t = x.index({None, Slice(1, None, 2), "..."});
  EXPECT_TRUE(t.is_alias_of(x));
  EXPECT_EQ(t.sizes().vec(), (V{1, 1, 4}));
  EXPECT_EQ(t.storage_offset(), 4);
  // "..." alone (and an all-whole index) is a new handle on the same elements, never x itself.
  const Tensor all = x.index({Ellipsis});
  EXPECT_FALSE(all.is_same(x));
  EXPECT_TRUE(all.is_alias_of(x));
  EXPECT_EQ(all.strides().vec(), x.strides().vec());
  EXPECT_FALSE(x.index({"...", Slice()}).is_same(x));
}

TEST(Indexing, SpellingsAgree) {
  const Tensor x = x34();
  // "..." and Ellipsis; Slice() and Slice(None, None, None); an int and int64_t.
  EXPECT_TRUE(x.index({"...", 2}).equal(x.index({Ellipsis, int64_t{2}})));
  EXPECT_TRUE(x.index({Slice(None, None, None), 0}).equal(x.select(1, 0)));
  // x[i] is select(0, i); x[0-d int tensor] too (libtorch's operator[]).
  EXPECT_TRUE(x[tensor(int64_t{2})].equal(x[2]));
  // A std::vector<TensorIndex> is the ArrayRef form.
  const std::vector<TensorIndex> list = {Slice(1), -1};
  EXPECT_TRUE(x.index(list).equal(x.index({Slice(1), -1})));
}

TEST(Indexing, AssignmentThroughABasicIndexWritesIntoTheTensor) {
  Tensor x = zeros({3, 4});
  x.index({Slice(), 0}) = ones({3});                    // rvalue view: copies into x
  x.index({1, Slice(2, None)}) = 7.0;                   // a number fills
  x.index_put_({2}, arange(4, kFloat32).view({1, 4}));  // the value's leading 1s are dropped
  EXPECT_EQ(values_as_double(x), (D{1, 0, 0, 0, 1, 0, 7, 7, 0, 1, 2, 3}));
  // An advanced index returns a copy: `=` writes into that copy, as in libtorch...
  x.index({idx({0})}) = full({1, 4}, 5.0);
  EXPECT_EQ(values_as_double(x)[1], 0.0);
  // ...and index_put_ is the spelling that writes for every kind of index.
  x.index_put_({idx({0, 2}), Slice(1, 3)}, -1.0);
  EXPECT_EQ(values_as_double(x), (D{1, -1, -1, 0, 1, 0, 7, 7, 0, -1, -1, 3}));
}

TEST(Indexing, IndexPutWithBasicIndicesWritesThroughItsView) {
  Tensor x = zeros({2, 3}, kInt64);
  x.index_put_({Slice(), -1}, idx({4, 5}));
  x.index_put_({0, Slice(None, 2)}, 9);
  x.index_put_({false}, 100);  // selects nothing
  x.index_put_({true, 1, 0}, 3);
  EXPECT_EQ(values_as_int(x), (V{9, 9, 4, 3, 0, 5}));
  EXPECT_EQ(x._version(), 3u);  // one write each; selecting nothing writes nothing
}

TEST(Indexing, SliceBoundsArePythons) {
  const Tensor v = arange(10);
  EXPECT_EQ(values_as_int(v.index({Slice(None, None, 3)})), (V{0, 3, 6, 9}));
  EXPECT_EQ(values_as_int(v.index({Slice(-3)})), (V{7, 8, 9}));
  EXPECT_EQ(values_as_int(v.index({Slice(8, 100)})), (V{8, 9}));
  EXPECT_EQ(v.index({Slice(kMin, kMax, kMax)}).numel(), 1);
  EXPECT_EQ(v.index({Slice(kMax, kMin)}).numel(), 0);
  EXPECT_EQ(v.index({Slice(5, 2)}).numel(), 0);
}

TEST(Indexing, PrintsLikeLibtorch) {
  std::ostringstream os;
  os << std::vector<TensorIndex>{Slice(1, 3, 2), Slice(None, 3), None, Ellipsis, 4, true};
  EXPECT_EQ(os.str(), "(1:3:2, 0:3:1, None, ..., 4, true)");
  std::ostringstream one;
  one << Slice(1);
  EXPECT_EQ(one.str(), "1:" + std::to_string(kMax) + ":1");
}

// ── advanced indexing: copies ─────────────────────────────────────────────────────────────────

TEST(Indexing, AdvancedIndicesCopy) {
  const Tensor x = x34();
  const Tensor rows = x.index({idx({2, 0})});
  EXPECT_FALSE(rows.is_alias_of(x));
  EXPECT_TRUE(rows.is_contiguous());
  EXPECT_EQ(values_as_double(rows), (D{8, 9, 10, 11, 0, 1, 2, 3}));
  const Tensor picked = x.index({x > 6.5});
  EXPECT_FALSE(picked.is_alias_of(x));
  EXPECT_EQ(values_as_double(picked), (D{7, 8, 9, 10, 11}));
  // The ATen form takes one optional tensor per dim.
  const Tensor cols = x.index(std::vector<std::optional<Tensor>>{std::nullopt, idx({3, 3})});
  EXPECT_EQ(values_as_double(cols), (D{3, 3, 7, 7, 11, 11}));
}

TEST(Indexing, SeparatedIndexTensorsGoFirst) {
  const Tensor y = zeros({2, 3, 4, 5});
  const Tensor i = idx({0, 1, 1, 0, 1, 0, 0});
  const Tensor j = idx({0, 1, 2, 3, 3, 0, 1});
  EXPECT_EQ(y.index({Slice(), i, Slice(), j}).sizes().vec(), (V{7, 2, 4}));
  EXPECT_EQ(y.index({Slice(), i, j}).sizes().vec(), (V{2, 7, 5}));
  EXPECT_EQ(y.index({i, "...", j}).sizes().vec(), (V{7, 3, 4}));
  EXPECT_EQ(y.index({Slice(), i.view({7, 1}), Slice(), j.view({1, 7})}).sizes().vec(),
            (V{7, 7, 2, 4}));
}

TEST(Indexing, IndexPutAccumulatesDuplicates) {
  Tensor x = zeros({3}, kInt64);
  x.index_put_({idx({0, 2, 0, 0})}, idx({1, 2, 3, 4}), /*accumulate=*/true);
  EXPECT_EQ(values_as_int(x), (V{8, 0, 2}));
  // Without accumulate the writes happen in order: the last one wins (PyTorch leaves the order
  // of duplicate writes unspecified).
  x.index_put_({idx({1, 1})}, idx({5, 6}));
  EXPECT_EQ(values_as_int(x), (V{8, 6, 2}));
  // Integers wrap around instead of overflowing (no undefined behaviour).
  Tensor big = full({1}, kMax);
  big.index_put_({idx({0})}, idx({1}), true);
  EXPECT_EQ(values_as_int(big), V{kMin});
  // Out of place: self is left alone.
  const Tensor base = zeros({2, 2});
  const Tensor out = base.index_put({idx({1})}, ones({2}), true);
  EXPECT_EQ(values_as_double(base), (D{0, 0, 0, 0}));
  EXPECT_EQ(values_as_double(out), (D{0, 0, 1, 1}));
}

TEST(Indexing, WritesIntoNonContiguousTensorsAndReadsAliasedValues) {
  Tensor base = zeros({3, 4});
  Tensor t = base.t();  // [4, 3], a view
  t.index_put_({idx({3, 0}), Slice(None, 2)}, ones({2, 2}));
  EXPECT_EQ(values_as_double(base), (D{1, 0, 0, 1, 1, 0, 0, 1, 0, 0, 0, 0}));
  // The value is x itself, shifted: every value is read before anything is written.
  Tensor x = arange(5);
  x.index_put_({idx({1, 2, 3, 4})}, x.index({Slice(None, 4)}));
  EXPECT_EQ(values_as_int(x), (V{0, 0, 1, 2, 3}));
  Tensor s = arange(4);
  s.scatter_(0, idx({1, 2, 3}), s.slice(0, 0, 3));
  EXPECT_EQ(values_as_int(s), (V{0, 0, 1, 2}));
  // An int64 tensor used as its own index: the indices are all read before the first write.
  Tensor self_index = idx({1, 0, 3, 2});
  self_index.index_put_({self_index}, idx({9, 9, 9, 9}), true);
  EXPECT_EQ(values_as_int(self_index), (V{10, 9, 12, 11}));
}

TEST(Indexing, UInt8MasksAndZeroDimIndices) {
  const Tensor x = x34();
  const Tensor m = idx({0, 1, 1}).to(kUInt8);
  EXPECT_TRUE(x.index({m}).equal(x.index({Slice(1)})));
  EXPECT_EQ(x.index({tensor(true)}).sizes().vec(), (V{1, 3, 4}));
  EXPECT_EQ(x.index({tensor(false)}).sizes().vec(), (V{0, 3, 4}));
  EXPECT_TRUE(x.index({Slice(), tensor(int64_t{-1})}).equal(x.select(1, 3)));
  // A 0-d tensor indexed by None, "..." and a bool.
  const Tensor s = tensor(2.5);
  EXPECT_EQ(s.index({None}).sizes().vec(), V{1});
  EXPECT_EQ(s.index({true}).sizes().vec(), V{1});
  EXPECT_EQ(s.index({false}).sizes().vec(), V{0});
  EXPECT_EQ(s.index({"..."}).dim(), 0);
}

TEST(Indexing, EmptyIndicesAndEmptyTensors) {
  const Tensor x = x34();
  EXPECT_EQ(x.index({idx({})}).sizes().vec(), (V{0, 4}));
  const Tensor e = zeros({10, 0});
  EXPECT_EQ(e.index({idx({1, 2})}).sizes().vec(), (V{2, 0}));
  EXPECT_EQ(e.index({idx({}), idx({})}).sizes().vec(), V{0});
  // Writing through an empty index changes nothing and is no error.
  Tensor y = x.clone();
  y.index_put_({idx({})}, -1.0);
  y.index_put_({zeros({3, 4}, kBool)}, -1.0);
  EXPECT_TRUE(y.equal(x));
  // An empty result still checks its indices.
  TT_EXPECT_THROW_WITH(e.index({Slice(), idx({0})}), IndexError, "index 0",
                       "dimension 1 with size 0");
}

TEST(Indexing, GatherScatterFamily) {
  const Tensor x = x34();
  const Tensor g = x.gather(1, from_vector(V{3, 0, 1, 1}, {2, 2}, kInt64));
  EXPECT_EQ(values_as_double(g), (D{3, 0, 5, 5}));
  const Tensor s = zeros({2, 3}).scatter(1, from_vector(V{2, 0}, {2, 1}, kInt64), 4.0);
  EXPECT_EQ(values_as_double(s), (D{0, 0, 4, 4, 0, 0}));
  Tensor acc = zeros({3});
  acc.scatter_add_(0, idx({0, 0, 2}), full({3}, 1.5));
  EXPECT_EQ(values_as_double(acc), (D{3, 0, 1.5}));
  EXPECT_EQ(values_as_double(x.index_select(0, idx({2, 2}))), (D{8, 9, 10, 11, 8, 9, 10, 11}));
  Tensor ia = zeros({2, 2}, kInt64);
  ia.index_add_(1, idx({1, 1}), from_vector(V{1, 2, 3, 4}, {2, 2}, kInt64), 10);
  EXPECT_EQ(values_as_int(ia), (V{0, 30, 0, 70}));
  EXPECT_EQ(values_as_double(x.masked_select(x.lt(2.5))), (D{0, 1, 2}));
  EXPECT_EQ(values_as_int(nonzero(x.lt(1.5))), (V{0, 0, 0, 1}));
  // The free functions are the methods.
  EXPECT_TRUE(gather(x, 0, idx({1, 0, 2, 2}).view({1, 4}))
                  .equal(x.gather(0, idx({1, 0, 2, 2}).view({1, 4}))));
  EXPECT_TRUE(index_select(x, 1, idx({0})).equal(x.index({Slice(), Slice(0, 1)})));
}

// ── errors ────────────────────────────────────────────────────────────────────────────────────

TEST(IndexingErrors, OutOfRangeIndicesNameTheIndexTheDimAndItsSize) {
  const Tensor x = x34();
  TT_EXPECT_THROW_WITH(x.index({5}), IndexError,
                       "index 5 is out of bounds for dimension 0 with size 3");
  TT_EXPECT_THROW_WITH(x.index({Slice(), -5}), IndexError,
                       "index -5 is out of bounds for dimension 1 with size 4");
  TT_EXPECT_THROW_WITH(x.index({idx({0, 3})}), IndexError,
                       "index 3 is out of bounds for dimension 0 with size 3");
  TT_EXPECT_THROW_WITH(x.index({Slice(), idx({-5})}), IndexError,
                       "index -5 is out of bounds for dimension 1 with size 4");
  for (int64_t hostile : {kMax, kMin, kMin + 1, int64_t{1} << 62}) {
    EXPECT_THROW(x.index({hostile}), IndexError);
    EXPECT_THROW(x.index({idx({hostile})}), IndexError);
    EXPECT_THROW(x.index(std::vector<std::optional<Tensor>>{idx({0}), idx({hostile})}), IndexError);
    Tensor y = x.clone();
    EXPECT_THROW(y.index_put_({idx({0, hostile})}, 1.0), IndexError);
    EXPECT_THROW(y.index_put_({idx({hostile})}, zeros({4}), true), IndexError);
    EXPECT_THROW(y.gather(0, from_vector(V{hostile}, {1, 1}, kInt64)), IndexError);
    EXPECT_THROW(y.scatter_(1, from_vector(V{hostile}, {1, 1}, kInt64), 1.0), IndexError);
    EXPECT_THROW(y.index_select(0, idx({hostile})), IndexError);
    EXPECT_THROW(y.index_add_(0, idx({hostile}), zeros({1, 4})), IndexError);
    EXPECT_TRUE(y.equal(x)) << "a refused write must leave the tensor unchanged";
  }
  // gather, scatter, index_select and index_add take no negative index (PyTorch's rule).
  TT_EXPECT_THROW_WITH(x.gather(1, from_vector(V{-1}, {1, 1}, kInt64)), IndexError,
                       "index -1 is out of bounds for dimension 1 with size 4");
  TT_EXPECT_THROW_WITH(x.index_select(0, idx({-1})), IndexError, "index_select",
                       "index -1 is out of bounds for dimension 0 with size 3");
  TT_EXPECT_THROW_WITH(x.clone().index_add_(0, idx({3}), zeros({1, 4})), IndexError, "index_add_",
                       "index 3 is out of bounds for dimension 0 with size 3");
}

TEST(IndexingErrors, WrongIndexKinds) {
  const Tensor x = x34();
  TT_EXPECT_THROW_WITH(x.index({zeros({2})}), IndexError,
                       "tensors used as indices must be long, byte or bool tensors", "float32");
  TT_EXPECT_THROW_WITH(x.index({x.to(kInt8)}), IndexError, "long, byte or bool", "int8");
  TT_EXPECT_THROW_WITH(x.gather(0, zeros({1, 1})), TypeError,
                       "gather(): Expected dtype int64 for index");
  TT_EXPECT_THROW_WITH(x.index_select(0, zeros({1})), TypeError, "index_select()", "int64");
  TT_EXPECT_THROW_WITH(x.masked_select(ones({4})), TypeError, "masked_select",
                       "BoolTensor or ByteTensor");
  TT_EXPECT_THROW_WITH(x.index({Tensor()}), IndexError, "undefined tensor");
  TT_EXPECT_THROW_WITH(x[ones({2}, kInt64)], IndexError,
                       "Can only index with tensors that are scalars (zero-dim)");
  TT_EXPECT_THROW_WITH(x[tensor(1.0)], IndexError, "integral");
  TT_EXPECT_THROW_WITH(TensorIndex("..x"), ValueError, "Expected \"...\"", "..x");
}

TEST(IndexingErrors, ShapesThatDoNotFit) {
  const Tensor x = x34();
  TT_EXPECT_THROW_WITH(x.index({ones({2}, kBool)}), IndexError,
                       "The shape of the mask [2] at index 0",
                       "does not match the shape of the indexed tensor [3, 4] at index 0");
  TT_EXPECT_THROW_WITH(x.index({ones({3, 3}, kBool)}), IndexError, "mask [3, 3] at index 1",
                       "[3, 4] at index 1");
  TT_EXPECT_THROW_WITH(x.index({0, 0, 0}), IndexError,
                       "too many indices for tensor of dimension 2");
  TT_EXPECT_THROW_WITH(x.index({ones({3, 4, 1}, kBool)}), IndexError, "too many indices");
  TT_EXPECT_THROW_WITH(x.index({idx({0, 1}), idx({0, 1, 2})}), IndexError,
                       "shape mismatch: indexing tensors could not be broadcast together with "
                       "shapes [2], [3]");
  Tensor y = x.clone();
  TT_EXPECT_THROW_WITH(y.index_put_({idx({0})}, ones({2})), Error,
                       "shape mismatch: value tensor of shape [2] cannot be broadcast to indexing "
                       "result of shape [1, 4]");
  TT_EXPECT_THROW_WITH(y.index_put_({idx({0})}, ones({4}, kFloat64), true), TypeError,
                       "Index put requires the source and destination dtypes match");
  TT_EXPECT_THROW_WITH(x.gather(1, zeros({4, 1}, kInt64)), Error,
                       "Size does not match at dimension 0 expected index [4, 1] to be smaller "
                       "than self [3, 4] apart from dimension 1");
  TT_EXPECT_THROW_WITH(x.gather(0, zeros({2}, kInt64)), Error, "same number of dimensions");
  TT_EXPECT_THROW_WITH(x.scatter(1, zeros({1, 3}, kInt64), ones({1, 2})), Error,
                       "to be smaller size than src [1, 2]");
  TT_EXPECT_THROW_WITH(x.scatter(1, zeros({1, 1}, kInt64), ones({1, 1}, kFloat64)), TypeError,
                       "scatter(): Expected self.dtype to be equal to src.dtype");
  TT_EXPECT_THROW_WITH(x.index_select(0, zeros({1, 1}, kInt64)), IndexError,
                       "Index is supposed to be a vector");
  TT_EXPECT_THROW_WITH(x.index_add(0, idx({0}), ones({2, 4})), Error,
                       "Number of indices (1) should be equal to source.size(dim): (2)");
  TT_EXPECT_THROW_WITH(x.index_add(0, idx({0}), ones({1, 3})), Error, "same size in every dim");
  TT_EXPECT_THROW_WITH(x.masked_select(ones({2}, kBool)), Error, "masked_select", "[2]");
  TT_EXPECT_THROW_WITH(x.index({0, Ellipsis, Ellipsis}), IndexError, "single ellipsis");
  TT_EXPECT_THROW_WITH(tensor(1.0).index({0}), IndexError, "invalid index of a 0-dim tensor");
}

TEST(IndexingErrors, SlicesAndEmptyLists) {
  const Tensor x = x34();
  TT_EXPECT_THROW_WITH(x.index({Slice(None, None, 0)}), ValueError, "slice step cannot be zero");
  TT_EXPECT_THROW_WITH(x.index({Slice(None, None, -1)}), ValueError,
                       "step must be greater than zero");
  TT_EXPECT_THROW_WITH(x.index({}), Error,
                       "Passing an empty index list to Tensor::index() is not valid syntax");
  Tensor y = x.clone();
  TT_EXPECT_THROW_WITH(y.index_put_({}, 1.0), Error,
                       "Passing an empty index list to Tensor::index_put_() is not valid syntax");
}

TEST(IndexingErrors, WritesIntoAnExpandedTensorAreRefused) {
  Tensor e = zeros({1, 3}).expand({2, 3});
  TT_EXPECT_THROW_WITH(e.index_put_({idx({0})}, ones({3})), Error, "single memory location");
  TT_EXPECT_THROW_WITH(e.scatter_(0, zeros({1, 3}, kInt64), 1.0), Error, "single memory location");
}

}  // namespace
}  // namespace tinytorch
