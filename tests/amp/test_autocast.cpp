// CPU autocast (amp/autocast.h): the thread-local state and its guard, the op policy table
// against PyTorch 1.13 (tests/data/amp_autocast_reference.json, from
// tools/reference/gen_amp_autocast.py), the cast cache, autograd through the casts, and a small
// Linear → ReLU → Linear → cross_entropy step against PyTorch's values.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "support/reference.h"
#include "tinytorch/amp/autocast.h"
#include "tinytorch/tinytorch.h"
#include "tinytorch/utils/checkpoint.h"

namespace tt = tinytorch;
namespace ac = tinytorch::autocast;
using tinytorch::test::json;

namespace {

const json& reference() {
  return tt::test::load_reference("amp_autocast_reference.json");
}

tt::Tensor rnd(std::vector<int64_t> shape, tt::ScalarType d) {
  return tt::randn(shape).to(d);
}
tt::Tensor pos(std::vector<int64_t> shape, tt::ScalarType d) {  // in (0.1, 0.9)
  return tt::rand(shape).mul(0.8).add(0.1).to(d);
}
tt::Tensor idx(std::vector<int64_t> values) {
  return tt::tensor(values);
}

// One runner per op of the reference's dtype_cases: the op on operands of dtype d, the shapes
// of gen_amp_autocast.py's OPS.
using Runner = std::function<tt::Tensor(tt::ScalarType)>;
const std::map<std::string, Runner>& runners() {
  using tt::ScalarType;
  static const std::map<std::string, Runner> r = {
      {"linear",
       [](ScalarType d) {
         return tt::linear(rnd({2, 3}, d), rnd({4, 3}, d), rnd({4}, d));
       }},
      {"matmul",
       [](ScalarType d) {
         return tt::matmul(rnd({2, 3}, d), rnd({3, 4}, d));
       }},
      {"mm",
       [](ScalarType d) {
         return tt::mm(rnd({2, 3}, d), rnd({3, 4}, d));
       }},
      {"mm_with_bf16",
       [](ScalarType d) {
         return tt::mm(rnd({2, 3}, d), rnd({3, 4}, tt::kBFloat16));
       }},
      {"bmm",
       [](ScalarType d) {
         return tt::bmm(rnd({2, 2, 3}, d), rnd({2, 3, 4}, d));
       }},
      {"addmm",
       [](ScalarType d) {
         return tt::addmm(rnd({2, 4}, d), rnd({2, 3}, d), rnd({3, 4}, d));
       }},
      {"baddbmm",
       [](ScalarType d) {
         return tt::baddbmm(rnd({2, 2, 4}, d), rnd({2, 2, 3}, d), rnd({2, 3, 4}, d));
       }},
      {"conv1d",
       [](ScalarType d) {
         return tt::conv1d(rnd({1, 2, 5}, d), rnd({3, 2, 3}, d), rnd({3}, d));
       }},
      {"conv2d",
       [](ScalarType d) {
         return tt::conv2d(rnd({1, 2, 5, 5}, d), rnd({3, 2, 3, 3}, d), rnd({3}, d));
       }},
      {"multi_head_attention",
       [](ScalarType d) {
         tt::nn::MultiheadAttention mha(tt::nn::MultiheadAttentionOptions(4, 2).batch_first(true));
         if (d != tt::kFloat32) mha->to(d);
         const tt::Tensor x = rnd({1, 3, 4}, d);  // [B, T, E]
         return std::get<0>(mha->forward(x, x, x));
       }},
      {"conv_transpose2d",
       [](ScalarType d) {
         return tt::conv_transpose2d(rnd({1, 2, 5, 5}, d), rnd({2, 3, 3, 3}, d), rnd({3}, d));
       }},
      {"softmax",
       [](ScalarType d) {
         return tt::softmax(rnd({2, 3}, d), -1);
       }},
      {"log_softmax",
       [](ScalarType d) {
         return tt::log_softmax(rnd({2, 3}, d), -1);
       }},
      {"layer_norm",
       [](ScalarType d) {
         return tt::layer_norm(rnd({2, 3}, d), {3}, rnd({3}, d), rnd({3}, d));
       }},
      {"layer_norm_f32_weight",
       [](ScalarType d) {
         return tt::layer_norm(rnd({2, 3}, d), {3}, rnd({3}, tt::kFloat32), rnd({3}, tt::kFloat32));
       }},
      {"gelu",
       [](ScalarType d) {
         return tt::gelu(rnd({2, 3}, d));
       }},
      {"relu",
       [](ScalarType d) {
         return tt::relu(rnd({2, 3}, d));
       }},
      {"sum",
       [](ScalarType d) {
         return rnd({2, 3}, d).sum();
       }},
      {"mean",
       [](ScalarType d) {
         return rnd({2, 3}, d).mean();
       }},
      {"embedding",
       [](ScalarType d) {
         return tt::embedding(rnd({3, 4}, d), idx({0, 2}));
       }},
      {"batch_norm",
       [](ScalarType d) {
         return tt::batch_norm(rnd({2, 3}, d), rnd({3}, d), pos({3}, d), rnd({3}, d), pos({3}, d),
                               /*training=*/false, 0.1, 1e-5);
       }},
      {"max_pool2d",
       [](ScalarType d) {
         return tt::max_pool2d(rnd({1, 1, 4, 4}, d), {2});
       }},
      {"avg_pool2d",
       [](ScalarType d) {
         return tt::avg_pool2d(rnd({1, 1, 4, 4}, d), {2});
       }},
      {"adaptive_avg_pool2d",
       [](ScalarType d) {
         return tt::adaptive_avg_pool2d(rnd({1, 1, 4, 4}, d), {1});
       }},
      {"pad_reflect_1d",
       [](ScalarType d) {
         return tt::pad(rnd({1, 2, 5}, d), {2, 1}, "reflect");
       }},
      {"pad_reflect_2d",
       [](ScalarType d) {
         return tt::pad(rnd({1, 2, 4, 4}, d), {1, 2, 2, 1}, "reflect");
       }},
      {"pad_replicate_2d",
       [](ScalarType d) {
         return tt::pad(rnd({1, 2, 4, 4}, d), {1, 2, 2, 1}, "replicate");
       }},
      {"pad_replicate_3d",
       [](ScalarType d) {
         return tt::pad(rnd({1, 1, 3, 3, 3}, d), {1, 1, 1, 0, 1, 1}, "replicate");
       }},
      {"prod",
       [](ScalarType d) {
         return rnd({2, 3}, d).prod();
       }},
      {"cross_entropy",
       [](ScalarType d) {
         return tt::cross_entropy(rnd({2, 3}, d), idx({0, 2}));
       }},
      {"nll_loss",
       [](ScalarType d) {
         return tt::nll_loss(rnd({2, 3}, d), idx({0, 2}));
       }},
      {"mse_loss",
       [](ScalarType d) {
         return tt::mse_loss(rnd({2, 3}, d), rnd({2, 3}, d));
       }},
      {"l1_loss",
       [](ScalarType d) {
         return tt::l1_loss(rnd({2, 3}, d), rnd({2, 3}, d));
       }},
      {"smooth_l1_loss",
       [](ScalarType d) {
         return tt::smooth_l1_loss(rnd({2, 3}, d), rnd({2, 3}, d));
       }},
      {"huber_loss",
       [](ScalarType d) {
         return tt::huber_loss(rnd({2, 3}, d), rnd({2, 3}, d));
       }},
      {"binary_cross_entropy",
       [](ScalarType d) {
         return tt::binary_cross_entropy(pos({2, 3}, d), pos({2, 3}, d));
       }},
      {"binary_cross_entropy_with_logits",
       [](ScalarType d) {
         return tt::binary_cross_entropy_with_logits(rnd({2, 3}, d), pos({2, 3}, d));
       }},
      {"kl_div",
       [](ScalarType d) {
         return tt::kl_div(rnd({2, 3}, d), pos({2, 3}, d));
       }},
      {"cat_with_bf16",
       [](ScalarType d) {
         return tt::cat({rnd({2, 3}, d), rnd({2, 3}, tt::kBFloat16)});
       }},
      {"stack_with_bf16",
       [](ScalarType d) {
         return tt::stack({rnd({2, 3}, d), rnd({2, 3}, tt::kBFloat16)});
       }},
      {"where_with_bf16",
       [](ScalarType d) {
         return tt::where(rnd({2, 3}, tt::kFloat32).gt(0), rnd({2, 3}, d),
                          rnd({2, 3}, tt::kBFloat16));
       }},
      {"add_with_bf16",
       [](ScalarType d) {
         return rnd({2, 3}, d).add(rnd({2, 3}, tt::kBFloat16));
       }},
      {"linear_float64",
       [](ScalarType) {
         return tt::linear(rnd({2, 3}, tt::kFloat64), rnd({4, 3}, tt::kFloat64), {});
       }},
  };
  return r;
}

// The entry of the policy table an op of the reference reaches (stack runs through cat; pad's
// entry hooks the reflect and replicate modes 1.13 lists), or nullopt for an op autocast leaves
// alone.
std::optional<std::string> table_entry(const std::string& op) {
  static const std::map<std::string, std::string> through = {
      {"mm_with_bf16", "mm"},      {"pad_reflect_1d", "pad"},
      {"pad_reflect_2d", "pad"},   {"pad_replicate_2d", "pad"},
      {"pad_replicate_3d", "pad"}, {"cat_with_bf16", "cat"},
      {"stack_with_bf16", "cat"},  {"multi_head_attention", "scaled_dot_product_attention"}};
  if (auto it = through.find(op); it != through.end()) return it->second;
  static const std::set<std::string> untouched = {"softmax",
                                                  "log_softmax",
                                                  "layer_norm",
                                                  "layer_norm_f32_weight",
                                                  "gelu",
                                                  "relu",
                                                  "sum",
                                                  "mean",
                                                  "embedding",
                                                  "batch_norm",
                                                  "max_pool2d",
                                                  "avg_pool2d",
                                                  "adaptive_avg_pool2d",
                                                  "where_with_bf16",
                                                  "add_with_bf16",
                                                  "linear_float64"};
  if (untouched.count(op) != 0) return std::nullopt;
  return op;
}

}  // namespace

// ── state and guard ─────────────────────────────────────────────────────────────────────────

TEST(AutocastState, DefaultsAndBothSpellings) {
  EXPECT_FALSE(ac::is_cpu_enabled());
  EXPECT_FALSE(ac::is_enabled());  // CUDA
  EXPECT_EQ(ac::get_autocast_cpu_dtype(), tt::kBFloat16);
  EXPECT_TRUE(ac::is_autocast_cache_enabled());
  ac::set_autocast_enabled(tt::kCPU, true);
  ac::set_autocast_dtype(tt::kCPU, tt::kHalf);
  EXPECT_TRUE(ac::is_cpu_enabled());
  EXPECT_TRUE(ac::is_autocast_enabled(tt::kCPU));
  EXPECT_FALSE(ac::is_autocast_enabled(tt::kCUDA));
  EXPECT_EQ(ac::get_autocast_cpu_dtype(), tt::kHalf);
  ac::set_cpu_enabled(false);
  ac::set_autocast_cpu_dtype(tt::kBFloat16);
  EXPECT_FALSE(ac::is_autocast_enabled(tt::kCPU));
  EXPECT_EQ(ac::get_autocast_dtype(tt::kCPU), tt::kBFloat16);
}

TEST(AutocastState, GuardsNestAndRestore) {
  {
    ac::AutocastGuard outer(tt::kCPU, tt::kBFloat16);
    EXPECT_TRUE(ac::is_cpu_enabled());
    {
      ac::AutocastGuard inner(tt::kCPU, tt::kHalf, /*enabled=*/true, /*cache_enabled=*/false);
      EXPECT_EQ(ac::get_autocast_cpu_dtype(), tt::kHalf);
      EXPECT_FALSE(ac::is_autocast_cache_enabled());
      {
        ac::AutocastGuard off(tt::kCPU, tt::kBFloat16, /*enabled=*/false);
        EXPECT_FALSE(ac::is_cpu_enabled());
      }
      EXPECT_TRUE(ac::is_cpu_enabled());
      EXPECT_EQ(ac::get_autocast_cpu_dtype(), tt::kHalf);
    }
    EXPECT_EQ(ac::get_autocast_cpu_dtype(), tt::kBFloat16);
    EXPECT_TRUE(ac::is_autocast_cache_enabled());
  }
  EXPECT_FALSE(ac::is_cpu_enabled());
  // The guard counts its depth with the public nesting functions: none is left open.
  EXPECT_EQ(ac::increment_nesting(), 1);
  EXPECT_EQ(ac::decrement_nesting(), 0);
}

TEST(AutocastState, ErrorsNameTheDeviceAndDtype) {
  TT_EXPECT_THROW_WITH(ac::AutocastGuard(tt::kCUDA, tt::kHalf), tt::Error, "'cuda'", "'cpu'");
  TT_EXPECT_THROW_WITH(ac::set_enabled(true), tt::Error, "'cuda'");
  TT_EXPECT_THROW_WITH(ac::set_autocast_enabled(tt::kCUDA, true), tt::Error, "'cuda'");
  TT_EXPECT_THROW_WITH(ac::get_autocast_dtype(tt::kCUDA), tt::Error, "'cuda'");
  TT_EXPECT_THROW_WITH(ac::AutocastGuard(tt::kCPU, tt::kFloat32), tt::TypeError, "float32",
                       "bfloat16 or float16");
  TT_EXPECT_THROW_WITH(ac::set_autocast_cpu_dtype(tt::kFloat64), tt::TypeError, "float64");
  ac::set_enabled(false);  // switching CUDA autocast off is allowed: it is never on
  EXPECT_FALSE(ac::is_cpu_enabled());
  EXPECT_EQ(ac::get_autocast_cpu_dtype(), tt::kBFloat16);  // the failed calls changed nothing
  // A disabled region takes any dtype, as Python's autocast(enabled=False).
  ac::AutocastGuard off(tt::kCPU, tt::kFloat32, /*enabled=*/false);
  EXPECT_FALSE(ac::is_cpu_enabled());
}

TEST(AutocastState, IsPerThread) {
  ac::AutocastGuard guard(tt::kCPU, tt::kHalf);
  bool other_enabled = true;
  tt::ScalarType other_dtype = tt::kFloat32;
  std::thread worker([&] {
    other_enabled = ac::is_cpu_enabled();
    other_dtype = ac::get_autocast_cpu_dtype();
    ac::AutocastGuard own(tt::kCPU, tt::kBFloat16);  // changes nothing on the main thread
  });
  worker.join();
  EXPECT_FALSE(other_enabled);
  EXPECT_EQ(other_dtype, tt::kBFloat16);
  EXPECT_TRUE(ac::is_cpu_enabled());
  EXPECT_EQ(ac::get_autocast_cpu_dtype(), tt::kHalf);
}

// ── the policy ──────────────────────────────────────────────────────────────────────────────

// What PyTorch did to each op (its output dtype for float32 and bfloat16 operands) names the
// policy: bf16 from float32 = lower_precision_fp; float32 from bf16 = fp32; otherwise the op is
// in no list, or promotes. The table must say exactly that, op by op.
TEST(AutocastPolicy, TableMatchesPyTorch) {
  std::map<std::string, std::map<std::string, std::string>> out;  // op → input dtype → output
  for (const json& c : reference()["dtype_cases"]) {
    out[c["name"].get<std::string>()][c["input_dtype"].get<std::string>()] =
        c["output_dtype"].get<std::string>();
  }
  for (const auto& [op, by_input] : out) {
    SCOPED_TRACE(op);
    const std::optional<std::string> entry = table_entry(op);
    if (!entry) {
      EXPECT_NE(by_input.at("float32"), "bfloat16");
      EXPECT_NE(by_input.at("bfloat16"), "float32");
      EXPECT_THROW((void)ac::detail::policy_of(op.c_str()), tt::Error);
      continue;
    }
    const ac::detail::CastPolicy p = ac::detail::policy_of(entry->c_str());
    if (by_input.at("float32") == "bfloat16") {
      EXPECT_EQ(p, ac::detail::CastPolicy::lower_precision_fp);
    } else if (by_input.at("bfloat16") == "float32") {
      EXPECT_EQ(p, ac::detail::CastPolicy::fp32);
    } else {
      EXPECT_EQ(p, ac::detail::CastPolicy::promote);
    }
  }
}

// Every op runs for real under autocast and its result has PyTorch's dtype, or it fails where
// PyTorch's did (layer_norm on a bf16 input with float32 weights: mixed operands, a TypeError
// naming both dtypes).
TEST(AutocastOps, OutputDtypesMatchPyTorch) {
  tt::manual_seed(0);
  size_t checked = 0;
  for (const json& c : reference()["dtype_cases"]) {
    const std::string op = c["name"].get<std::string>();
    const std::string in = c["input_dtype"].get<std::string>();
    const std::string expected = c["output_dtype"].get<std::string>();
    SCOPED_TRACE(op + " on " + in);
    ASSERT_EQ(runners().count(op), 1u) << "no runner for " << op;
    const Runner& run = runners().at(op);
    ac::AutocastGuard guard(tt::kCPU, tt::kBFloat16);
    if (expected == "error") {
      TT_EXPECT_THROW_WITH((void)run(tt::test::parse_dtype(in)), tt::TypeError, "bfloat16",
                           "float32");
    } else {
      try {
        EXPECT_EQ(tt::to_string(run(tt::test::parse_dtype(in)).dtype()), expected);
      } catch (const tt::Error& e) {
        ADD_FAILURE() << e.what();
      }
    }
    ++checked;
  }
  EXPECT_EQ(checked, 2 * runners().size());  // every runner has its two reference cases
}

TEST(AutocastOps, DisabledRegionIsANoOp) {
  const tt::Tensor x = tt::randn({3, 4}), w = tt::randn({5, 4}), b = tt::randn({5});
  const tt::Tensor plain = tt::linear(x, w, b);
  ac::AutocastGuard off(tt::kCPU, tt::kBFloat16, /*enabled=*/false);
  const tt::Tensor y = tt::linear(x, w, b);
  EXPECT_EQ(y.dtype(), tt::kFloat32);
  TT_EXPECT_TENSOR_EQ(y, plain, 0.0, 0.0);
}

TEST(AutocastOps, Float64IsNeverCast) {
  ac::AutocastGuard guard(tt::kCPU, tt::kBFloat16);
  EXPECT_EQ(tt::matmul(tt::randn({2, 3}, tt::kFloat64), tt::randn({3, 2}, tt::kFloat64)).dtype(),
            tt::kFloat64);
  EXPECT_EQ(tt::mse_loss(tt::randn({3}, tt::kFloat64), tt::randn({3}, tt::kFloat64)).dtype(),
            tt::kFloat64);
}

// mm checks that its operands share a dtype; in a region its hook casts them first (PyTorch's mm
// is in the lower-precision list), so mixed operands are fine there and an error outside.
TEST(AutocastOps, MmCastsMixedOperandsBeforeItsDtypeCheck) {
  const tt::Tensor a = tt::randn({2, 3}).requires_grad_();
  const tt::Tensor b = tt::randn({3, 4}).to(tt::kBFloat16);
  tt::Tensor y;
  {
    ac::AutocastGuard guard(tt::kCPU, tt::kBFloat16);
    y = tt::mm(a, b);
  }
  EXPECT_EQ(y.dtype(), tt::kBFloat16);
  TT_EXPECT_TENSOR_EQ(y, tt::mm(a.detach().to(tt::kBFloat16), b), 0.0, 0.0);
  y.sum().backward();
  ASSERT_TRUE(a.grad().defined());
  EXPECT_EQ(a.grad().dtype(), tt::kFloat32);
  TT_EXPECT_THROW_WITH((void)tt::mm(a, b), tt::TypeError, "float32", "bfloat16");
}

// Reflect and replicate padding run in float32 under 1.13's CPU autocast; the values are those of
// the widened input (exact), and a bfloat16 leaf's gradient comes back bfloat16 through the cast.
TEST(AutocastOps, ReflectAndReplicatePadRunInFloat32) {
  const tt::Tensor x = tt::randn({1, 2, 4, 4}).to(tt::kBFloat16).requires_grad_();
  tt::Tensor reflect, replicate;
  {
    ac::AutocastGuard guard(tt::kCPU, tt::kBFloat16);
    reflect = tt::pad(x, {1, 2, 2, 1}, "reflect");
    replicate = tt::nn::functional::pad(
        x, tt::nn::functional::PadFuncOptions({1, 1, 0, 2}).mode(tt::kReplicate));
  }
  EXPECT_EQ(reflect.dtype(), tt::kFloat32);
  EXPECT_EQ(replicate.dtype(), tt::kFloat32);
  const tt::Tensor wide = x.detach().to(tt::kFloat32);
  TT_EXPECT_TENSOR_EQ(reflect, tt::pad(wide, {1, 2, 2, 1}, "reflect"), 0.0, 0.0);
  TT_EXPECT_TENSOR_EQ(replicate, tt::pad(wide, {1, 1, 0, 2}, "replicate"), 0.0, 0.0);
  reflect.sum().backward();
  ASSERT_TRUE(x.grad().defined());
  EXPECT_EQ(x.grad().dtype(), tt::kBFloat16);
}

// ── the cast cache ──────────────────────────────────────────────────────────────────────────

TEST(AutocastCache, OneCastPerWeightPerRegion) {
  const tt::Tensor w = tt::randn({4, 3}).requires_grad_();
  tt::Tensor first;
  {
    ac::AutocastGuard guard(tt::kCPU, tt::kBFloat16);
    first = ac::detail::cached_cast(tt::kBFloat16, w);
    EXPECT_EQ(first.dtype(), tt::kBFloat16);
    EXPECT_TRUE(ac::detail::cached_cast(tt::kBFloat16, w).is_same(first));
    {
      ac::AutocastGuard nested(tt::kCPU, tt::kBFloat16);  // an inner exit keeps the cache
    }
    EXPECT_TRUE(ac::detail::cached_cast(tt::kBFloat16, w).is_same(first));
  }
  ac::AutocastGuard again(tt::kCPU, tt::kBFloat16);  // the outermost exit cleared it
  EXPECT_FALSE(ac::detail::cached_cast(tt::kBFloat16, w).is_same(first));
}

TEST(AutocastCache, OnlyGradLeavesWithGradModeAndCacheOn) {
  ac::AutocastGuard guard(tt::kCPU, tt::kBFloat16);
  const auto cached = [](const tt::Tensor& t) {
    return ac::detail::cached_cast(tt::kBFloat16, t)
        .is_same(ac::detail::cached_cast(tt::kBFloat16, t));
  };
  const tt::Tensor leaf = tt::randn({2, 2}).requires_grad_();
  EXPECT_TRUE(cached(leaf));
  EXPECT_FALSE(cached(leaf.mul(2)));                                       // not a leaf
  EXPECT_FALSE(cached(tt::randn({2, 2})));                                 // does not require grad
  EXPECT_FALSE(cached(leaf.view({4})));                                    // a view
  EXPECT_FALSE(cached(tt::randn({2, 2}).to(tt::kHalf).requires_grad_()));  // not float32
  {
    tt::NoGradGuard no_grad;
    const tt::Tensor w = tt::randn({2, 2}).requires_grad_();
    EXPECT_FALSE(cached(w));  // a cast without history must not serve a later recorded op
  }
  ac::AutocastGuard no_cache(tt::kCPU, tt::kBFloat16, true, /*cache_enabled=*/false);
  EXPECT_FALSE(cached(tt::randn({2, 2}).requires_grad_()));
}

// PyTorch 1.13 caches the history-less cast a no_grad forward made and hands it to the next,
// recorded op: its result does not require grad (measured). Ours does.
TEST(AutocastCache, ANoGradUseDoesNotCutTheWeightOutOfALaterGraph) {
  const tt::Tensor w = tt::randn({3, 4}).requires_grad_();
  const tt::Tensor x = tt::randn({2, 4});
  ac::AutocastGuard guard(tt::kCPU, tt::kBFloat16);
  {
    tt::NoGradGuard no_grad;
    (void)tt::linear(x, w, {});
  }
  EXPECT_TRUE(tt::linear(x, w, {}).requires_grad());
}

// The cache holds its source: a new tensor can never be given a freed weight's address and so
// its cast.
TEST(AutocastCache, KeyCannotBeReused) {
  ac::AutocastGuard guard(tt::kCPU, tt::kBFloat16);
  for (int i = 0; i < 8; ++i) {
    const tt::Tensor w = tt::full({3}, static_cast<double>(i)).requires_grad_();
    const tt::Tensor cast = ac::detail::cached_cast(tt::kBFloat16, w);
    EXPECT_EQ(cast[0].item<float>(), static_cast<float>(i));
  }
}

// ── autograd ────────────────────────────────────────────────────────────────────────────────

// An fp32 op on a bfloat16 leaf: the cast is recorded, so the gradient comes back to the leaf
// in its own dtype (ToCopyBackward0 casts it down).
TEST(AutocastGrad, CastsAreRecorded) {
  const tt::Tensor x = tt::tensor({0.5f, -1.0f, 2.0f}).to(tt::kBFloat16).requires_grad_();
  const tt::Tensor t = tt::tensor({0.0f, 0.0f, 0.0f});
  tt::Tensor loss;
  {
    ac::AutocastGuard guard(tt::kCPU, tt::kBFloat16);
    loss = tt::mse_loss(x, t, tt::Reduction::Sum);
  }
  EXPECT_EQ(loss.dtype(), tt::kFloat32);
  loss.backward();
  ASSERT_TRUE(x.grad().defined());
  EXPECT_EQ(x.grad().dtype(), tt::kBFloat16);
  TT_EXPECT_TENSOR_EQ(x.grad().to(tt::kFloat32), tt::tensor({1.0f, -2.0f, 4.0f}), 0.0, 0.0);  // 2x
}

// Our backward runs with autocast off: a float32 graph differentiated inside a region gets
// exactly its float32 gradient. (PyTorch 1.13 would run the backward's mm in bfloat16 here;
// see autocast.h.)
TEST(AutocastGrad, BackwardRunsWithAutocastOff) {
  const tt::Tensor x = tt::randn({8, 16}).requires_grad_();
  const tt::Tensor w = tt::randn({16, 8}).requires_grad_();
  const tt::Tensor g = tt::randn({8, 8});
  const tt::Tensor y = tt::matmul(x, w);
  const tt::Tensor outside = tt::autograd::grad({y}, {x}, {g}, /*retain_graph=*/true)[0];
  ac::AutocastGuard guard(tt::kCPU, tt::kBFloat16);
  const tt::Tensor inside = tt::autograd::grad({y}, {x}, {g}, /*retain_graph=*/true)[0];
  EXPECT_EQ(inside.dtype(), tt::kFloat32);
  TT_EXPECT_TENSOR_EQ(inside, outside, 0.0, 0.0);
  EXPECT_TRUE(ac::is_cpu_enabled());  // and the region is on again after it
}

// A lower-precision op on float32 parameters: the weight is cast once per region (both uses
// share one ToCopyBackward0 node), the result is bfloat16, and the float32 weight gets a float32
// gradient: the bf16 gradient of the one use plus the other's, each cast up exactly.
TEST(AutocastGrad, WeightCastOnceAndItsGradientIsFloat32) {
  const tt::Tensor x = tt::randn({3, 4}).to(tt::kBFloat16).to(tt::kFloat32);
  const tt::Tensor w = tt::randn({2, 4}).to(tt::kBFloat16).to(tt::kFloat32).requires_grad_();
  tt::Tensor a, b;
  {
    ac::AutocastGuard guard(tt::kCPU, tt::kBFloat16);
    a = tt::linear(x, w, {});
    b = tt::linear(x, w, {});
  }
  EXPECT_EQ(a.dtype(), tt::kBFloat16);
  ASSERT_TRUE(a.grad_fn() && b.grad_fn());
  const auto& cast_node = a.grad_fn()->next_edge(1).function;
  ASSERT_TRUE(cast_node);
  EXPECT_EQ(cast_node->name(), "ToCopyBackward0");
  EXPECT_EQ(b.grad_fn()->next_edge(1).function, cast_node);
  a.add(b).sum().backward();
  ASSERT_TRUE(w.grad().defined());
  EXPECT_EQ(w.grad().dtype(), tt::kFloat32);
  // d(sum(a + b))/dw = 2 · 1ᵀx: column sums of x (3 bf16 values, one bf16 rounding of the
  // float32 sum per use) → rtol eps per use.
  const tt::Tensor expected = x.sum({0}).mul(2).expand({2, 4});
  TT_EXPECT_TENSOR_EQ(w.grad(), expected.contiguous(), 0x1p-7, 0.0);
}

// float16 as the autocast dtype: PyTorch 2.x's CPU behaviour (1.13 refuses it).
TEST(AutocastOps, Float16RegionRunsGemmsInFloat16) {
  ac::AutocastGuard guard(tt::kCPU, tt::kHalf);
  EXPECT_EQ(tt::linear(tt::randn({2, 3}), tt::randn({4, 3}), {}).dtype(), tt::kHalf);
  EXPECT_EQ(tt::mse_loss(tt::randn({3}).to(tt::kHalf), tt::randn({3}).to(tt::kHalf)).dtype(),
            tt::kFloat32);
}

// A region opened inside backward counts (activation checkpointing re-enters the forward's
// autocast state this way to recompute): the engine's "autocast off" is only the default.
struct MatmulInBackwardRegion : tt::autograd::Function<MatmulInBackwardRegion> {
  static tt::Tensor forward(tt::autograd::AutogradContext*, tt::Tensor x) { return x.clone(); }
  static tt::autograd::variable_list backward(tt::autograd::AutogradContext*,
                                              tt::autograd::variable_list grads) {
    EXPECT_FALSE(ac::detail::is_active());  // the engine's default
    ac::AutocastGuard guard(tt::kCPU, tt::kBFloat16);
    EXPECT_TRUE(ac::detail::is_active());
    EXPECT_EQ(tt::matmul(grads[0], tt::eye(2)).dtype(), tt::kBFloat16);
    return {grads[0]};
  }
};

TEST(AutocastGrad, ARegionInsideBackwardCounts) {
  const tt::Tensor x = tt::randn({2, 2}).requires_grad_();
  MatmulInBackwardRegion::apply(x).sum().backward();
  EXPECT_FALSE(ac::detail::is_active());
  EXPECT_EQ(x.grad().dtype(), tt::kFloat32);
}

// PyTorch's values for the forward under autocast and the float32 weights' gradients (backward
// outside the region).
TEST(AutocastGrad, MlpMatchesPyTorch) {
  const json& c = reference()["cases"][0];
  ASSERT_EQ(c["name"], "mlp");
  const tt::Tensor x = tt::test::tensor_from_json(c["x"]);
  const tt::Tensor w1 = tt::test::tensor_from_json(c["w1"]).requires_grad_();
  const tt::Tensor b1 = tt::test::tensor_from_json(c["b1"]).requires_grad_();
  const tt::Tensor w2 = tt::test::tensor_from_json(c["w2"]).requires_grad_();
  const tt::Tensor b2 = tt::test::tensor_from_json(c["b2"]).requires_grad_();
  const tt::Tensor target = tt::test::tensor_from_json(c["target"]);
  tt::Tensor h, logits, loss;
  {
    ac::AutocastGuard guard(tt::kCPU, tt::kBFloat16);
    h = tt::linear(x, w1, b1);
    logits = tt::linear(tt::relu(h), w2, b2);
    loss = tt::cross_entropy(logits, target);
  }
  EXPECT_EQ(h.dtype(), tt::kBFloat16);
  EXPECT_EQ(logits.dtype(), tt::kBFloat16);
  EXPECT_EQ(loss.dtype(), tt::kFloat32);
  loss.backward();
  // The inputs and weights are bf16-representable, so the casts are exact and both libraries
  // form the same float32 sums; they may differ in summation order (~K·2^-24 relative) and so,
  // rarely, in which way a bf16 rounding goes: one bf16 ulp, at most eps = 2^-7 relative.
  // h: one rounding → rtol eps. logits: its own rounding (rtol eps) plus one h element off by an
  // ulp (≤ eps·|h|, |h| ≤ 4.1: 8 terms of |x|·|w1| ≤ 0.5 and |b1| ≤ 0.1) times its |w2| ≤ 0.5
  // → atol 2·eps. loss: float32 from the logits, |∂loss/∂logit| ≤ 1 → atol the logits' 2·eps.
  // (Measured: h and logits equal PyTorch's bit for bit, the loss within one float32 ulp.)
  constexpr double eps = 0x1p-7;
  TT_EXPECT_TENSOR_EQ(h, c["h"], eps, 0.0);
  TT_EXPECT_TENSOR_EQ(logits, c["logits"], eps, 2 * eps);
  TT_EXPECT_TENSOR_EQ(loss, c["loss"], 0.0, 2 * eps);
  // Gradients: float32 (through ToCopyBackward0), computed in bf16 by the bf16 linear backwards:
  // the final rounding and one earlier one (dlogits → bf16, or dh) may each go the other way →
  // rtol 2·eps; a sum that cancels can be off by one ulp of one of its terms, |dlogits| ≤ 1/N =
  // 1/4 times |x| ≤ 1 (w1, b1) or |h| ≤ 4.1 (w2) → atol eps. (Measured: 67 of w1's 128 differ,
  // none by more than 1 ulp.)
  for (const auto& [name, t] :
       {std::pair{"grad_w1", w1}, {"grad_b1", b1}, {"grad_w2", w2}, {"grad_b2", b2}}) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(t.grad().defined());
    EXPECT_EQ(t.grad().dtype(), tt::kFloat32);
    TT_EXPECT_TENSOR_EQ(t.grad(), c[name], 2 * eps, eps);
  }
}

// libtorch's own way to open a region by hand (what Python's autocast.__enter__/__exit__ do),
// spelled through the drop-in namespaces.
TEST(AutocastState, LibtorchSpellings) {
  at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
  at::autocast::set_cpu_enabled(true);
  at::autocast::increment_nesting();
  const torch::Tensor w = torch::randn({2, 2}).requires_grad_();
  const torch::Tensor cast = torch::autocast::detail::cached_cast(torch::kBFloat16, w);
  EXPECT_TRUE(torch::autocast::detail::cached_cast(torch::kBFloat16, w).is_same(cast));
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  at::autocast::set_cpu_enabled(false);
  EXPECT_FALSE(torch::autocast::is_cpu_enabled());
  EXPECT_FALSE(torch::autocast::detail::cached_cast(torch::kBFloat16, w).is_same(cast));
}

// A checkpointed segment (utils/checkpoint.h) run under autocast is recomputed under the same
// autocast state in backward: its gradients are the plain run's — same dtypes, same bits — and not
// those of a float32 recompute (which would differ by about bf16's epsilon and come out float32
// for the segment's bf16 intermediates).
TEST(AutocastGrad, CheckpointRecomputesUnderTheForwardsState) {
  tt::manual_seed(3);
  tt::Tensor w = tt::randn({8, 8}).requires_grad_(true);
  tt::Tensor x0 = tt::randn({4, 8}).requires_grad_(true);
  const auto fn = [&](const std::vector<tt::Tensor>& in) { return tt::linear(in[0], w).relu(); };
  const auto run = [&](bool checkpointed) {
    w.mutable_grad() = tt::Tensor();
    x0.mutable_grad() = tt::Tensor();
    tt::Tensor loss;
    {
      const ac::AutocastGuard guard(tt::kCPU, tt::kBFloat16);
      const tt::Tensor h = checkpointed ? tt::utils::checkpoint(fn, {x0}) : fn({x0});
      EXPECT_EQ(h.dtype(), tt::kBFloat16);
      loss = h.to(tt::kFloat32).square().sum();
    }
    loss.backward();  // outside the region, as PyTorch recommends
    return std::pair{w.grad().clone(), x0.grad().clone()};
  };
  const auto [w_plain, x_plain] = run(false);
  const auto [w_ckpt, x_ckpt] = run(true);
  EXPECT_EQ(w_ckpt.dtype(), tt::kFloat32);
  EXPECT_TRUE(w_ckpt.equal(w_plain));
  EXPECT_TRUE(x_ckpt.equal(x_plain));
}
