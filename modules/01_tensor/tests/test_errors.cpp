// Module 01 — every error path: the right exception type, and a message that names the operation
// and the shapes / values involved, so a learner can act on it.
#include <gtest/gtest.h>

#include <cstdint>
#include <stdexcept>

#include "support/reference.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch {
namespace {

TEST(Errors, HierarchyIsCatchableAsError) {
  // Every framework error is a tinytorch::Error, and so a std::runtime_error.
  EXPECT_THROW(zeros({2}).select(0, 5), IndexError);
  EXPECT_THROW(zeros({2}).select(0, 5), Error);
  EXPECT_THROW(zeros({2}).select(0, 5), std::runtime_error);
  EXPECT_THROW(zeros({2}, kInt64).mean(), TypeError);
  EXPECT_THROW(zeros({2}, kInt64).mean(), Error);
  EXPECT_THROW(zeros({-1}), ValueError);
  EXPECT_THROW(zeros({-1}), Error);
  // The helper really checks the type and the message.
  EXPECT_FALSE((test::throws_with<IndexError>([] { static_cast<void>(zeros({2}).mean()); }, {})));
  EXPECT_FALSE((test::throws_with<Error>([] { static_cast<void>(zeros({2}).select(0, 5)); },
                                         {"no such text"})));
  EXPECT_FALSE((test::throws_with<Error>([] { static_cast<void>(zeros({2})); }, {})));
}

TEST(Errors, ReshapeAndView) {
  const Tensor x = zeros({2, 3, 4});
  TT_EXPECT_THROW_WITH(x.reshape({5, 5}), ValueError, "[5, 5]", "24");
  TT_EXPECT_THROW_WITH(x.view({7}), ValueError, "[7]", "24");
  TT_EXPECT_THROW_WITH(x.reshape({-1, -1}), ValueError, "only one", "-1");
  TT_EXPECT_THROW_WITH(x.view({-1, 2, -1}), ValueError, "only one");
  TT_EXPECT_THROW_WITH(x.reshape({-2, -12}), ValueError, "-2");
  TT_EXPECT_THROW_WITH(x.reshape({5, -1}), ValueError, "[5, -1]", "24");
  TT_EXPECT_THROW_WITH(x.transpose(0, 2).view({24}), Error, "view", "[24]", "[4, 3, 2]",
                       "[1, 4, 12]");
  TT_EXPECT_THROW_WITH(x.flatten(2, 1), Error, "flatten", "start_dim", "end_dim");
  TT_EXPECT_THROW_WITH(x.t(), Error, "t()", "3");
}

TEST(Errors, DimOutOfRange) {
  const Tensor x = zeros({2, 3, 4});
  TT_EXPECT_THROW_WITH(x.transpose(0, 3), IndexError, "transpose", "[-3, 2]", "3");
  TT_EXPECT_THROW_WITH(x.transpose(-4, 0), IndexError, "transpose", "-4");
  TT_EXPECT_THROW_WITH(x.squeeze(3), IndexError, "squeeze", "3");
  TT_EXPECT_THROW_WITH(x.unsqueeze(4), IndexError, "unsqueeze", "[-4, 3]", "4");
  TT_EXPECT_THROW_WITH(x.unsqueeze(-5), IndexError, "unsqueeze", "-5");
  TT_EXPECT_THROW_WITH(x.narrow(3, 0, 1), IndexError, "narrow", "3");
  TT_EXPECT_THROW_WITH(x.select(-4, 0), IndexError, "select", "-4");
  TT_EXPECT_THROW_WITH(x.slice(5), IndexError, "slice", "5");
  TT_EXPECT_THROW_WITH(x.flatten(0, 3), IndexError, "flatten", "3");
  TT_EXPECT_THROW_WITH(x.permute({0, 1, 3}), IndexError, "permute", "3");
  TT_EXPECT_THROW_WITH(x.sum(3), IndexError, "sum", "3");
  TT_EXPECT_THROW_WITH(x.size(3), IndexError, "size", "3");
}

TEST(Errors, SelectNarrowSlice) {
  const Tensor x = zeros({2, 3, 4});
  TT_EXPECT_THROW_WITH(x.select(1, 3), IndexError, "select", "index 3", "[2, 3, 4]", "dimension 1");
  TT_EXPECT_THROW_WITH(x.select(1, -4), IndexError, "select", "-4", "[2, 3, 4]");
  TT_EXPECT_THROW_WITH(x[2], IndexError, "select", "2", "[2, 3, 4]");
  TT_EXPECT_THROW_WITH(tensor(1.0).select(0, 0), IndexError, "select", "0-dim");
  TT_EXPECT_THROW_WITH(x.narrow(1, 2, 2), IndexError, "narrow", "2", "3");
  TT_EXPECT_THROW_WITH(x.narrow(1, 4, 0), IndexError, "narrow", "4", "3");
  TT_EXPECT_THROW_WITH(x.narrow(1, -4, 1), IndexError, "narrow", "-4");
  TT_EXPECT_THROW_WITH(x.narrow(1, 0, -1), IndexError, "narrow", "-1");
  TT_EXPECT_THROW_WITH(tensor(1.0).narrow(0, 0, 1), Error, "narrow", "0-dim");
  TT_EXPECT_THROW_WITH(x.slice(0, 0, 2, 0), ValueError, "slice", "step", "0");
  TT_EXPECT_THROW_WITH(x.slice(0, 0, 2, -1), ValueError, "slice", "step", "-1");
  TT_EXPECT_THROW_WITH(tensor(1.0).slice(0), IndexError, "slice", "0-dim");
}

TEST(Errors, PermuteAndExpand) {
  const Tensor x = zeros({2, 3, 4});
  TT_EXPECT_THROW_WITH(x.permute({0, 0, 1}), Error, "permute", "duplicate", "[0, 0, 1]");
  TT_EXPECT_THROW_WITH(x.permute({0, -3, 1}), Error, "permute", "duplicate");
  TT_EXPECT_THROW_WITH(x.permute({0, 1}), Error, "permute", "[0, 1]", "3");
  const Tensor y = zeros({3, 2});
  TT_EXPECT_THROW_WITH(y.expand({3, 4}), Error, "expand", "4", "2", "[3, 4]", "[3, 2]");
  TT_EXPECT_THROW_WITH(y.expand({2}), Error, "expand", "1", "2");
  TT_EXPECT_THROW_WITH(zeros({3}).expand({-1, 3}), Error, "expand", "-1");
  TT_EXPECT_THROW_WITH(zeros({3, 1}).expand({3, -2}), Error, "expand", "-2");
}

TEST(Errors, Matmul) {
  TT_EXPECT_THROW_WITH(zeros({2, 3}).matmul(zeros({4, 5})), Error, "matmul", "[2, 3]", "[4, 5]");
  TT_EXPECT_THROW_WITH(zeros({5, 2, 3}).matmul(zeros({4, 5})), Error, "matmul", "[5, 2, 3]",
                       "[4, 5]");
  TT_EXPECT_THROW_WITH(zeros({2, 3}).matmul(zeros({3, 2}, kFloat64)), TypeError, "matmul",
                       "float32", "float64");
  TT_EXPECT_THROW_WITH(zeros({3}, kInt64).matmul(zeros({3})), TypeError, "matmul", "int64",
                       "float32");
  TT_EXPECT_THROW_WITH(tensor(2.0).matmul(tensor(3.0)), Error, "matmul", "0D", "1D");
  TT_EXPECT_THROW_WITH(tensor(2.0).matmul(zeros({2})), Error, "matmul", "0D");
}

TEST(Errors, Broadcast) {
  TT_EXPECT_THROW_WITH(zeros({2, 3}) + zeros({4}), Error, "add", "[2, 3]", "[4]", "(3)", "(4)");
  TT_EXPECT_THROW_WITH(maximum(zeros({2}), zeros({3})), Error, "maximum", "[2]", "[3]");
  TT_EXPECT_THROW_WITH(zeros({2}) < zeros({3}), Error, "lt", "[2]", "[3]");
  TT_EXPECT_THROW_WITH(zeros({2}).pow(zeros({3})), Error, "pow", "[2]", "[3]");
  TT_EXPECT_THROW_WITH(zeros({2}).allclose(zeros({3})), Error, "allclose", "[2]", "[3]");
}

TEST(Errors, DtypeRestrictions) {
  TT_EXPECT_THROW_WITH(zeros({3}, kInt64).mean(), TypeError, "mean", "int64");
  TT_EXPECT_THROW_WITH(zeros({3}, kInt64).var(), TypeError, "var", "int64");
  TT_EXPECT_THROW_WITH(where(zeros({3}), zeros({3}), zeros({3})), TypeError, "where", "bool",
                       "float32");
  TT_EXPECT_THROW_WITH(zeros({3}, kInt64).add_(zeros({3})), Error, "add_", "float32", "int64");
  TT_EXPECT_THROW_WITH(rand({2}, kInt64), TypeError, "rand", "int64");
  TT_EXPECT_THROW_WITH(zeros({2}, kBool).sum({0}, false, kBool), TypeError, "sum", "bool");
}

TEST(Errors, Reductions) {
  TT_EXPECT_THROW_WITH(zeros({0}).max(), Error, "max()", "numel() == 0");
  TT_EXPECT_THROW_WITH(zeros({0, 3}).min(), Error, "min()", "numel() == 0");
  TT_EXPECT_THROW_WITH((zeros({2, 3}).sum({0, 0})), Error, "sum", "multiple times");
}

TEST(Errors, ItemAndDataPtr) {
  TT_EXPECT_THROW_WITH(zeros({2, 3}).item(), Error, "item", "6", "[2, 3]");
  TT_EXPECT_THROW_WITH(zeros({0}).item(), Error, "item", "0");
  const Tensor f = zeros({2});
  TT_EXPECT_THROW_WITH(f.data_ptr<int64_t>(), TypeError, "data_ptr", "int64", "float32");
  TT_EXPECT_THROW_WITH(f.data_ptr<double>(), TypeError, "data_ptr", "float64", "float32");
  TT_EXPECT_THROW_WITH(zeros({2}, kInt64).data_ptr<bool>(), TypeError, "bool", "int64");
  EXPECT_NO_THROW(static_cast<void>(f.data_ptr<float>()));
  EXPECT_EQ(static_cast<void*>(f.data_ptr<float>()), f.data_ptr());
}

TEST(Errors, UndefinedTensor) {
  const Tensor u;
  TT_EXPECT_THROW_WITH(u.sizes(), Error, "undefined");
  TT_EXPECT_THROW_WITH(u.numel(), Error, "undefined");
  TT_EXPECT_THROW_WITH(u.dim(), Error, "undefined");
  TT_EXPECT_THROW_WITH(u.dtype(), Error, "undefined");
  TT_EXPECT_THROW_WITH(u.data_ptr(), Error, "undefined");
  TT_EXPECT_THROW_WITH(u.clone(), Error, "undefined");
  TT_EXPECT_THROW_WITH(u.view({1}), Error, "undefined");
  TT_EXPECT_THROW_WITH(u.sum(), Error, "undefined");
  TT_EXPECT_THROW_WITH(u + zeros({1}), Error, "undefined");
  TT_EXPECT_THROW_WITH(zeros({1}) * u, Error, "undefined");
  TT_EXPECT_THROW_WITH(u.matmul(zeros({1})), Error, "undefined");
  TT_EXPECT_THROW_WITH(u.item(), Error, "undefined");
  TT_EXPECT_THROW_WITH(u.is_alias_of(zeros({1})), Error, "undefined");
  EXPECT_NO_THROW(static_cast<void>(repr(u)));
  EXPECT_FALSE(u.defined());
}

TEST(Errors, NegativeSizes) {
  TT_EXPECT_THROW_WITH(empty({2, -3}), ValueError, "negative", "-3", "[2, -3]");
  TT_EXPECT_THROW_WITH(ones({-1}), ValueError, "-1");
  TT_EXPECT_THROW_WITH(rand({-2}), ValueError, "-2");
  TT_EXPECT_THROW_WITH(randn({3, -1}), ValueError, "-1");
  TT_EXPECT_THROW_WITH(eye(2, -1), ValueError, "eye", "-1");
  TT_EXPECT_THROW_WITH(zeros({2}).as_strided({-1}, {1}), Error, "as_strided", "-1");
}

TEST(Errors, RequiresGradOnlyForFloatingPoint) {
  // The slot is filled by module 05 (autograd), which registers its factory at start-up.
  ASSERT_NE(get_autograd_meta_factory(), nullptr);
  TT_EXPECT_THROW_WITH(zeros({2}, kInt64).set_requires_grad(true), Error, "set_requires_grad",
                       "floating point", "int64");
  TT_EXPECT_THROW_WITH(zeros({2}, TensorOptions(kInt64).requires_grad(true)), Error,
                       "floating point");
  EXPECT_TRUE(zeros({2}, TensorOptions().requires_grad(true)).requires_grad());
  EXPECT_TRUE(tensor({1.0}, TensorOptions().requires_grad(true)).requires_grad());
  EXPECT_FALSE(zeros({2}).requires_grad());
}

TEST(Errors, FactoriesAndArange) {
  TT_EXPECT_THROW_WITH(arange(0, 10, 0), ValueError, "arange", "step");
  TT_EXPECT_THROW_WITH(arange(10, 0, 2), ValueError, "arange", "10", "0", "2");
  TT_EXPECT_THROW_WITH(randint(3, 3, {2}), ValueError, "3");
  TT_EXPECT_THROW_WITH((tensor({{1.0}, {2.0, 3.0}})), ValueError, "rectangular", "[1]", "[2]");
  TT_EXPECT_THROW_WITH((from_vector(std::vector<double>{1, 2}, {3})), ValueError, "from_vector",
                       "[3]", "3", "2");
}

}  // namespace
}  // namespace tinytorch
