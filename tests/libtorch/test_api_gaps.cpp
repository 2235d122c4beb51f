// libtorch calls a probe of libtorch programs found missing, each as a libtorch program spells it:
// torch::floor_divide, torch::frobenius_norm, torch::repeat_interleave, torch::where(condition),
// F::normalize, nn::utils::parameters_to_vector / vector_to_parameters,
// data::datasets::TensorDataset, optim::ReduceLROnPlateauScheduler and torch::TensorList.
// Forward values, gradients and learning-rate trajectories are PyTorch's
// (tests/data/libtorch_api_reference.json, written by tools/reference/gen_libtorch_api.py);
// float64 gradchecks and gradgradchecks check the differentiable ones; every refused argument is
// a tinytorch::Error naming it.
#include <torch/torch.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/reference.h"
#include "tinytorch/autograd/gradcheck.h"

namespace {

namespace F = torch::nn::functional;
namespace test = tinytorch::test;
using Plateau = torch::optim::ReduceLROnPlateauScheduler;

const test::json& cases() {
  return test::load_reference("libtorch_api_reference.json").at("cases");
}

std::optional<int64_t> opt_int(const test::json& v) {
  if (v.is_null()) return std::nullopt;
  return test::json_to_int(v);
}

// The call a reference case names, as libtorch spells it.
std::vector<torch::Tensor> run(const test::json& c, const std::vector<torch::Tensor>& in) {
  const std::string op = c.at("op");
  const test::json& a = c.at("args");
  if (op == "floor_divide") return {torch::floor_divide(in.at(0), in.at(1))};
  if (op == "floor_divide_scalar") {
    const test::json& other = a.at("other");
    return {other.is_number_integer() ? torch::floor_divide(in.at(0), other.get<int64_t>())
                                      : torch::floor_divide(in.at(0), other.get<double>())};
  }
  if (op == "frobenius_norm") return {torch::frobenius_norm(in.at(0))};
  if (op == "frobenius_norm_dim") {
    return {torch::frobenius_norm(in.at(0), test::int_list(a.at("dim")), a.at("keepdim"))};
  }
  if (op == "repeat_interleave_int") {
    return {torch::repeat_interleave(in.at(0), test::json_to_int(a.at("repeats")),
                                     opt_int(a.at("dim")))};
  }
  if (op == "repeat_interleave_tensor") {
    return {torch::repeat_interleave(in.at(0), in.at(1), opt_int(a.at("dim")))};
  }
  if (op == "repeat_interleave_counts") return {torch::repeat_interleave(in.at(0))};
  if (op == "where_condition") return torch::where(in.at(0));
  if (op == "normalize") {
    return {F::normalize(in.at(0), F::NormalizeFuncOptions()
                                       .p(test::json_to_double(a.at("p")))
                                       .dim(test::json_to_int(a.at("dim")))
                                       .eps(test::json_to_double(a.at("eps"))))};
  }
  if (op == "parameters_to_vector") return {torch::nn::utils::parameters_to_vector(in)};
  ADD_FAILURE() << "unknown op " << op;
  return {};
}

TEST(ApiGaps, MatchesPyTorch) {
  int checked = 0, grads = 0;
  for (const test::json& c : cases()) {
    if (c.at("op") == "plateau") continue;
    SCOPED_TRACE(c.at("name").get<std::string>());
    std::vector<torch::Tensor> in;
    for (const test::json& t : c.at("inputs")) in.push_back(test::tensor_from_json(t));
    const bool grad = c.contains("expected_grad");
    if (grad) in[0].requires_grad_();
    const std::vector<torch::Tensor> out = run(c, in);
    ASSERT_EQ(out.size(), c.at("expected").size());
    for (size_t i = 0; i < out.size(); ++i) TT_EXPECT_TENSOR_EQ(out[i], c.at("expected")[i]);
    ++checked;
    if (!grad) continue;
    const torch::Tensor go = test::tensor_from_json(c.at("grad_output"));
    const auto g = torch::autograd::grad({(out[0] * go).sum()}, {in[0]});
    TT_EXPECT_TENSOR_EQ(g[0], c.at("expected_grad"));
    ++grads;
  }
  EXPECT_EQ(checked, 27);
  EXPECT_EQ(grads, 13);
}

// ── gradients: float64 finite differences, first and second order ──────────────────────────

// Smooth float64 values (a sine of the index), requiring grad.
torch::Tensor f64(const std::vector<int64_t>& shape, double offset = 0.3) {
  int64_t n = 1;
  for (const int64_t s : shape) n *= s;
  return (torch::arange(n, torch::kFloat64) * 0.7 + offset).sin().reshape(shape).requires_grad_();
}

void expect_grads(const std::function<torch::Tensor(const std::vector<torch::Tensor>&)>& fn,
                  const std::vector<torch::Tensor>& inputs, bool second_order = true) {
  const auto first = torch::autograd::gradcheck(fn, inputs);
  EXPECT_TRUE(first.ok) << first.message;
  if (!second_order) return;
  const auto second = torch::autograd::gradgradcheck(fn, inputs);
  EXPECT_TRUE(second.ok) << second.message;
}

TEST(ApiGaps, Gradchecks) {
  const torch::Tensor x = f64({2, 3, 2});
  expect_grads([](const auto& v) { return torch::frobenius_norm(v[0]); }, {x});
  expect_grads([](const auto& v) { return torch::frobenius_norm(v[0], {1}, true); }, {x});
  expect_grads([](const auto& v) { return torch::frobenius_norm(v[0], {0, 2}); }, {x});
  expect_grads([](const auto& v) { return F::normalize(v[0]); }, {x});
  expect_grads(
      [](const auto& v) { return F::normalize(v[0], F::NormalizeFuncOptions().p(1).dim(-1)); },
      {x});
  expect_grads([](const auto& v) { return torch::repeat_interleave(v[0], 2, 1); }, {x});
  const torch::Tensor r = torch::tensor(std::vector<int64_t>{2, 0, 1});
  expect_grads([&](const auto& v) { return torch::repeat_interleave(v[0], r, 1); }, {f64({2, 3})});
  expect_grads([](const auto& v) { return torch::repeat_interleave(v[0], 3); }, {x});
  expect_grads([](const auto& v) { return torch::nn::utils::parameters_to_vector(v); },
               {f64({2, 3}), f64({4}, 1.1)});
}

// ── floor_divide ────────────────────────────────────────────────────────────────────────────

TEST(ApiGaps, FloorDivideHasNoDerivative) {
  // As PyTorch 1.13's: the result carries the graph, backward through it raises.
  const torch::Tensor x = f64({3});
  const torch::Tensor y = torch::floor_divide(x, 0.25);
  EXPECT_TRUE(y.requires_grad());
  TT_EXPECT_THROW_WITH(y.sum().backward(), torch::NotImplementedError, "floor_divide");
  EXPECT_FALSE(torch::floor_divide(x.detach(), 2).requires_grad());
}

TEST(ApiGaps, FloorDivideErrors) {
  const torch::Tensor i = torch::tensor(std::vector<int64_t>{4, 5});
  TT_EXPECT_THROW_WITH(torch::floor_divide(i, 0), torch::Error, "floor_divide",
                       "ZeroDivisionError");
  TT_EXPECT_THROW_WITH(torch::floor_divide(i, torch::tensor(std::vector<int64_t>{1, 0})),
                       torch::Error, "floor_divide", "divisor");
  TT_EXPECT_THROW_WITH(torch::floor_divide(i.gt(4), i.gt(3)), torch::Error, "floor_divide", "bool");
  // INT64_MIN // -1 wraps, as PyTorch's.
  const int64_t lowest = std::numeric_limits<int64_t>::min();
  EXPECT_EQ(torch::floor_divide(torch::tensor(std::vector<int64_t>{lowest}), -1).item<int64_t>(),
            lowest);
}

// ── frobenius_norm, repeat_interleave, where: refused arguments ──────────────────────────────

TEST(ApiGaps, FrobeniusNormErrors) {
  const torch::Tensor x = torch::ones({2, 3, 4});
  TT_EXPECT_THROW_WITH(torch::frobenius_norm(x, {0, 1, 2}), torch::Error, "frobenius_norm",
                       "at most 2", "3");
  TT_EXPECT_THROW_WITH(torch::frobenius_norm(x, {1, -2}), torch::Error, "frobenius_norm",
                       "multiple times");
  TT_EXPECT_THROW_WITH(torch::frobenius_norm(x, {0, 3}), torch::IndexError, "3");
  TT_EXPECT_THROW_WITH(torch::frobenius_norm(torch::ones({2, 2}, torch::kInt64), {0, 1}),
                       torch::Error, "frobenius_norm", "floating point");
  TT_EXPECT_THROW_WITH(torch::frobenius_norm(torch::ones({2}, torch::kInt64)), torch::Error,
                       "norm");
}

TEST(ApiGaps, RepeatInterleaveErrors) {
  const torch::Tensor x = torch::ones({2, 3});
  TT_EXPECT_THROW_WITH(torch::repeat_interleave(x, -1), torch::Error, "repeats can not be negative",
                       "-1");
  TT_EXPECT_THROW_WITH(torch::repeat_interleave(x, torch::tensor(std::vector<int64_t>{1, 2, 3}), 0),
                       torch::Error, "same size as input along dim", "3 repeats", "size 2");
  TT_EXPECT_THROW_WITH(torch::repeat_interleave(x, torch::ones({1, 2}, torch::kInt64), 0),
                       torch::Error, "0-dim or 1-dim", "[1, 2]");
  TT_EXPECT_THROW_WITH(torch::repeat_interleave(x, torch::ones({2}), 0), torch::Error,
                       "int64 or int32", "float32");
  TT_EXPECT_THROW_WITH(torch::repeat_interleave(x, 2, 2), torch::IndexError, "2");
  TT_EXPECT_THROW_WITH(torch::repeat_interleave(x, 2, 0, 5), torch::Error, "output_size 5", "4");
  EXPECT_EQ(torch::repeat_interleave(x, 2, 0, 4).sizes(), torch::IntArrayRef({4, 3}));
}

TEST(ApiGaps, WhereSplitsNonzeroByDim) {
  const torch::Tensor m = torch::tensor(std::vector<float>{0, 2, 0, 3, 4, 0}).reshape({2, 3});
  const std::vector<torch::Tensor> idx = torch::where(m);
  ASSERT_EQ(idx.size(), 2U);
  // the same elements, gathered through the indices (numpy's a[np.nonzero(a)])
  EXPECT_TRUE(m.index({idx[0], idx[1]}).equal(torch::tensor(std::vector<float>{2, 3, 4})));
}

// ── F::normalize ──────────────────────────────────────────────────────────────────────────

TEST(ApiGaps, NormalizeOut) {
  const torch::Tensor x = torch::tensor(std::vector<float>{3, 4, 0, 0}).reshape({2, 2});
  torch::Tensor out = torch::empty({2, 2});
  const torch::Tensor r = F::normalize(x, F::NormalizeFuncOptions().out(out));
  EXPECT_TRUE(out.equal(torch::tensor(std::vector<float>{0.6F, 0.8F, 0, 0}).reshape({2, 2})));
  EXPECT_TRUE(r.is_same(out));
  TT_EXPECT_THROW_WITH(F::normalize(x, F::NormalizeFuncOptions().out(torch::empty({4}))),
                       torch::Error, "normalize", "[4]", "[2, 2]");
  const torch::Tensor w = torch::ones({2, 2}).requires_grad_();
  TT_EXPECT_THROW_WITH(F::normalize(w, F::NormalizeFuncOptions().out(out)), torch::Error,
                       "normalize", "out=", "requires grad");
}

// ── nn::utils::parameters_to_vector / vector_to_parameters ─────────────────────────────────

TEST(ApiGaps, VectorToParametersAliasesTheVector) {
  torch::nn::Linear fc(3, 2);
  torch::optim::SGD opt(fc->parameters(), torch::optim::SGDOptions(0.1));
  const torch::Tensor theta = torch::nn::utils::parameters_to_vector(fc->parameters());
  ASSERT_EQ(theta.sizes(), torch::IntArrayRef({8}));  // weight [2, 3] then bias [2]
  EXPECT_TRUE(theta.narrow(0, 0, 6).equal(fc->weight.detach().reshape({-1})));

  torch::Tensor v = torch::arange(10, torch::kFloat32);  // 2 more than needed: ignored
  torch::nn::utils::vector_to_parameters(v, fc->parameters());
  EXPECT_TRUE(fc->weight.detach().equal(v.narrow(0, 0, 6).reshape({2, 3})));
  EXPECT_TRUE(fc->bias.detach().equal(v.narrow(0, 6, 2)));
  EXPECT_TRUE(fc->weight.requires_grad());
  // libtorch's set_data: the parameters now view v's storage, and the optimizer still holds them
  v.mul_(2);
  EXPECT_EQ(fc->bias.detach()[1].item<float>(), 14.0F);
  fc(torch::ones({1, 3})).sum().backward();
  opt.step();
  EXPECT_FLOAT_EQ(v[6].item<float>(), 12.0F - 0.1F);  // bias grad 1: the step wrote into v

  TT_EXPECT_THROW_WITH(torch::nn::utils::vector_to_parameters(torch::zeros({7}), fc->parameters()),
                       torch::Error, "vector_to_parameters", "too short", "parameter 1");
  TT_EXPECT_THROW_WITH(torch::nn::utils::parameters_to_vector({}), torch::Error,
                       "parameters_to_vector", "empty");
}

// ── data::datasets::TensorDataset ────────────────────────────────────────────────────────────

TEST(ApiGaps, TensorDatasetWithStackAndLoader) {
  const torch::Tensor rows = torch::arange(12, torch::kFloat32).reshape({6, 2});
  torch::data::datasets::TensorDataset ds(rows);
  EXPECT_EQ(ds.size().value(), 6U);
  torch::data::TensorExample e = ds.get(4);
  EXPECT_TRUE(e.data.equal(rows[4]));
  TT_EXPECT_THROW_WITH(ds.get(6), torch::IndexError, "6");

  auto loader = torch::data::make_data_loader<torch::data::samplers::SequentialSampler>(
      torch::data::datasets::TensorDataset(rows).map(
          torch::data::transforms::Stack<torch::data::TensorExample>()),
      torch::data::DataLoaderOptions().batch_size(4));
  std::vector<torch::Tensor> seen;
  for (auto& batch : *loader) seen.push_back(batch.data);  // batch: one TensorExample [B, 2]
  ASSERT_EQ(seen.size(), 2U);
  EXPECT_TRUE(torch::cat(seen).equal(rows));

  const torch::data::datasets::TensorDataset stacked(
      std::vector<torch::Tensor>{torch::zeros({3}), torch::ones({3})});
  EXPECT_EQ(stacked.tensor.sizes(), torch::IntArrayRef({2, 3}));
}

// ── optim::ReduceLROnPlateauScheduler ──────────────────────────────────────────────────────

Plateau::SchedulerMode mode_of(const test::json& v) {
  return v == "min" ? Plateau::SchedulerMode::min : Plateau::SchedulerMode::max;
}

TEST(ApiGaps, ReduceLROnPlateauMatchesPyTorch) {
  int checked = 0;
  for (const test::json& c : cases()) {
    if (c.at("op") != "plateau") continue;
    SCOPED_TRACE(c.at("name").get<std::string>());
    const test::json& a = c.at("args");
    std::vector<torch::optim::OptimizerParamGroup> groups;
    for (const test::json& lr : c.at("lrs")) {
      groups.emplace_back(std::vector<torch::Tensor>{torch::zeros({1}).requires_grad_()},
                          std::make_unique<torch::optim::SGDOptions>(lr.get<double>()));
    }
    torch::optim::SGD opt(groups, torch::optim::SGDOptions(0.1));
    std::vector<float> min_lr;
    for (const test::json& m : a.at("min_lr")) min_lr.push_back(m.get<float>());
    Plateau sched(
        opt, mode_of(a.at("mode")), a.at("factor").get<float>(), a.at("patience").get<int>(),
        test::json_to_double(a.at("threshold")),
        a.at("threshold_mode") == "rel" ? Plateau::ThresholdMode::rel : Plateau::ThresholdMode::abs,
        a.at("cooldown").get<int>(), min_lr, test::json_to_double(a.at("eps")));
    const test::json& metrics = c.at("metrics");
    for (size_t step = 0; step < metrics.size(); ++step) {
      sched.step(metrics[step].get<float>());
      for (size_t g = 0; g < opt.param_groups().size(); ++g) {
        // libtorch's float factor: a reduced lr is Python's to about 1e-8
        const double expected = c.at("expected")[step][g].get<double>();
        EXPECT_NEAR(opt.param_groups()[g].options().get_lr(), expected, 1e-7 * expected)
            << "step " << step << ", group " << g;
      }
    }
    ++checked;
  }
  EXPECT_EQ(checked, 5);
}

TEST(ApiGaps, ReduceLROnPlateauKeepsLibtorchsModeMax) {
  // Mode max starts from FLT_MIN: a metric ≤ 0 is never an improvement, so patience runs out.
  torch::optim::SGD opt({torch::zeros({1}).requires_grad_()}, torch::optim::SGDOptions(1.0));
  Plateau neg(opt, Plateau::max, 0.5, /*patience=*/1);
  for (const float m : {-3.0F, -2.0F, -1.0F}) neg.step(m);  // improving, but never "better"
  EXPECT_DOUBLE_EQ(opt.param_groups()[0].options().get_lr(), 0.5);

  // Mode max with abs thresholds compares metric > best · threshold: any rise past 1/2 of best
  // counts, so a flat metric of 1 never reduces (Python's best + threshold would, after 2 steps).
  torch::optim::SGD opt2({torch::zeros({1}).requires_grad_()}, torch::optim::SGDOptions(1.0));
  Plateau flat(opt2, Plateau::max, 0.5, /*patience=*/1, /*threshold=*/0.5, Plateau::abs);
  for (int i = 0; i < 6; ++i) flat.step(1.0F);
  EXPECT_DOUBLE_EQ(opt2.param_groups()[0].options().get_lr(), 1.0);
}

TEST(ApiGaps, ReduceLROnPlateauVerboseAndErrors) {
  torch::optim::SGD opt({torch::zeros({1}).requires_grad_()}, torch::optim::SGDOptions(0.1));
  Plateau sched(opt, Plateau::min, 0.5, 0, 1e-4, Plateau::rel, 0, {}, 1e-8, /*verbose=*/true);
  testing::internal::CaptureStdout();
  sched.step(1.0F);
  sched.step(1.0F);
  EXPECT_EQ(testing::internal::GetCapturedStdout(),
            "Epoch 2: reducing learning rate of group 0 to 0.05\n");
  TT_EXPECT_THROW_WITH(Plateau(opt, Plateau::min, 1.0F), torch::Error, "factor", "< 1.0", "1");
  TT_EXPECT_THROW_WITH(Plateau(opt, Plateau::min, 0.1F, 10, 1e-4, Plateau::rel, 0, {0.1F, 0.2F}),
                       torch::Error, "min_lr has 2", "param group (1)");
}

// ── TensorList ─────────────────────────────────────────────────────────────────────────────

// A user function declared the way libtorch code declares one.
int64_t total_rows(torch::TensorList tensors) {
  int64_t n = 0;
  for (const torch::Tensor& t : tensors) n += t.size(0);
  return n;
}

TEST(ApiGaps, TensorListTakesBracedListsVectorsAndOneTensor) {
  const torch::Tensor a = torch::ones({2, 3});
  const torch::Tensor b = torch::zeros({4, 3});
  const std::vector<torch::Tensor> v{a, b};
  EXPECT_EQ(total_rows({a, b}), 6);
  EXPECT_EQ(total_rows(v), 6);
  EXPECT_EQ(total_rows(a), 2);
  const torch::TensorList list(v);
  EXPECT_EQ(torch::cat(list).sizes(), torch::IntArrayRef({6, 3}));
  EXPECT_EQ(torch::stack(torch::TensorList({a, a}), 1).sizes(), torch::IntArrayRef({2, 2, 3}));
  EXPECT_EQ(list.size(), 2U);
  EXPECT_TRUE(list.back().is_same(b));
  TT_EXPECT_THROW_WITH(list.at(2), torch::IndexError, "ArrayRef", "2");
  // ArrayRef<int64_t> and IntArrayRef meet
  const torch::ArrayRef<int64_t> dims = a.sizes();
  EXPECT_EQ(a.reshape(dims).sizes(), torch::IntArrayRef({2, 3}));
}

}  // namespace

// torch::equal(a, b) is the free form of a.equal(b): one bool for the whole tensor.
TEST(ApiGaps, EqualIsTheFreeFormOfTensorEqual) {
  const torch::Tensor a = torch::arange(6).reshape({2, 3});
  EXPECT_TRUE(torch::equal(a, a.clone()));
  EXPECT_FALSE(torch::equal(a, a + 1));
  EXPECT_FALSE(torch::equal(a, a.reshape({3, 2})));  // same values, other sizes
}
