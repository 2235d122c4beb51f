// The module programs (programs.h). Each one is small (a few hundred elements) and seeded by its
// name; the sizes are odd and some operands are views, so that an off-by-one or a stride
// assumption shows.
#include "programs.h"

#include <algorithm>
#include <tuple>

#include "tinytorch/nn/functional.h"
#include "tinytorch/nn/functional/distillation.h"
#include "tinytorch/nn/nn.h"
#include "tinytorch/nn/utils/clip_grad.h"
#include "tinytorch/optim/optim.h"
#include "tinytorch/quantization/quantize.h"

namespace tinytorch::diagnose {

namespace F = nn::functional;

namespace {

// NOTE: the two builds must run the same ops in the same order, whichever compiler built them:
// the order in which a call's arguments or the operands of `+` are evaluated is unspecified in
// C++ (GCC and Clang differ), so an expression never holds two recorded ops as sibling operands.
// A braced list is evaluated in order: sum_in_order({a(), b()}) adds the terms after computing
// each in turn.
Tensor sum_in_order(const std::vector<Tensor>& terms) {
  Tensor total = terms.at(0);
  for (size_t i = 1; i < terms.size(); ++i) total = total + terms[i];
  return total;
}

// ── 01 tensor ─────────────────────────────────────────────────────────────────────────────────

void views(Context& c) {
  const Tensor x = c.input("x", {3, 4, 5});
  c.backward(c.project({
      x.transpose(0, 2).reshape({5, 12}),    // a view that reshape must copy
      x.permute({1, 0, 2}).narrow(0, 1, 2),  // [2, 3, 5]
      x.select(1, 2),                        // [3, 5]
      x.unsqueeze(0).expand({2, 3, 4, 5}),   // stride 0
      x.flatten(1),                          // [3, 20]
      x.slice(2, 1, 5, 2),                   // [3, 4, 2], step 2
      x.view({12, 5}).t().contiguous(),      // [5, 12]
  }));
}

void broadcasting(Context& c) {
  const Tensor a = c.input("a", {4, 1, 3});
  const Tensor b = c.input("b", {5, 1});
  const Tensor d = c.input("d", {5, 3}, 0.5, 2.0);  // a divisor away from 0
  c.backward(c.project({a + b, a - b, a * b, a / d, a * 2.5, (b - 1.0).exp(), d.log()}));
}

void reductions(Context& c) {
  const Tensor x = c.input("x", {4, 6});
  c.backward(c.project(
      {x.sum(), x.sum({0}), x.sum({1}, true), x.mean({0, 1}), x.var({1}), std::get<0>(x.max(1))}));
}

void matmul_program(Context& c) {
  const Tensor a = c.input("a", {3, 4});
  const Tensor b = c.input("b", {4, 5});
  const Tensor p = c.input("p", {2, 3, 4});
  const Tensor bt = b.t();
  const Tensor at = a.t();
  c.backward(c.project({matmul(a, b), matmul(p, b), matmul(bt, at)}));
}

// ── 02 activations ────────────────────────────────────────────────────────────────────────────

void pointwise_activations(Context& c) {
  const Tensor x = c.input("x", {5, 7}, -3.0, 3.0);
  c.backward(c.project({relu(x), leaky_relu(x, 0.1), sigmoid(x), tanh(x), silu(x)}));
}

void gelu_program(Context& c) {
  const Tensor x = c.input("x", {5, 7}, -3.0, 3.0);
  c.backward(c.project({gelu(x), gelu(x, "tanh")}));
}

void softmax_program(Context& c) {
  const Tensor x = c.input("x", {4, 7}, -3.0, 3.0);
  const Tensor y = c.input("y", {2, 5, 3}, -3.0, 3.0);
  c.backward(c.project({softmax(x, -1), softmax(x, 0), log_softmax(x, -1), log_softmax(x, 0),
                        softmax(y, 1), log_softmax(y.transpose(0, 2), -1)}));
}

// ── 03 layers ─────────────────────────────────────────────────────────────────────────────────

void linear_program(Context& c) {
  const Tensor x = c.input("x", {6, 5});
  const Tensor x3 = c.input("x3", {2, 3, 5});
  const Tensor w = c.input("w", {4, 5});
  const Tensor b = c.input("b", {4});
  c.backward(c.project({linear(x, w, b), linear(x, w), linear(x3, w, b)}));
}

void sequential_program(Context& c) {
  nn::Sequential model(nn::Linear(5, 8), nn::ReLU(), nn::Linear(8, 3));
  c.set_parameters(*model.ptr());
  const Tensor x = c.input("x", {4, 5});
  c.backward(c.project({model->forward(x)}));
}

// ── 04 losses ─────────────────────────────────────────────────────────────────────────────────

void regression_losses(Context& c) {
  const Tensor a = c.input("a", {6, 3});
  const Tensor t = c.input("t", {6, 3}, -1.0, 1.0, /*requires_grad=*/false);
  c.backward(sum_in_order({mse_loss(a, t), mse_loss(a, t, Reduction::Sum) * 0.1,
                           c.project({mse_loss(a, t, Reduction::None)}), l1_loss(a, t)}));
}

void cross_entropy_program(Context& c) {
  const Tensor logits = c.input("logits", {5, 4}, -2.0, 2.0);
  const Tensor target = c.indices("target", {5}, 4);
  const Tensor weight = c.constant({4}, 0.5, 2.0);
  c.backward(sum_in_order(
      {cross_entropy(logits, target), cross_entropy(logits, target, {}, Reduction::Mean, -100, 0.1),
       cross_entropy(logits, target, weight), nll_loss(log_softmax(logits, 1), target)}));
}

void binary_losses(Context& c) {
  const Tensor p = c.input("p", {6}, 0.05, 0.95);
  const Tensor logits = c.input("logits", {6}, -3.0, 3.0);
  const Tensor y = c.input("y", {6}, 0.0, 1.0, /*requires_grad=*/false);
  c.backward(
      sum_in_order({binary_cross_entropy(p, y), binary_cross_entropy_with_logits(logits, y)}));
}

// ── 05 autograd ───────────────────────────────────────────────────────────────────────────────

// One leaf used several times, a broadcast operand, a node whose output feeds two others.
void graph_program(Context& c) {
  const Tensor x = c.input("x", {3, 4});
  const Tensor w = c.input("w", {4});
  const Tensor y = x * w;
  const Tensor z = y + y.exp();
  const Tensor u = z.sum({1});
  c.backward(sum_in_order({(u * u).sum(), w.sum(), c.project({x})}));
}

// In-place ops on a non-leaf and a write through one of its views (CopySlices).
void inplace_program(Context& c) {
  const Tensor x = c.input("x", {3, 4});
  const Tensor v = c.input("v", {3, 2});
  Tensor a = x * 2.0;
  a.mul_(3.0);
  a.narrow(1, 1, 2).add_(v);
  c.backward(c.project({a}));
}

// ── 06 optimizers ─────────────────────────────────────────────────────────────────────────────

// Three steps of `optimizer` over p and q with fixed gradients; the parameters after each.
void steps(Context& c, optim::Optimizer& optimizer, const std::vector<Tensor>& params,
           const std::string& files) {
  for (int step = 1; step <= 3; ++step) {
    for (const Tensor& p : params) {
      Tensor leaf = p;
      leaf.mutable_grad() = c.constant(p.sizes().vec());
    }
    optimizer.step();
    for (size_t i = 0; i < params.size(); ++i) {
      c.value("parameter " + std::to_string(i) + " after step " + std::to_string(step), params[i],
              files);
    }
  }
}

void sgd_program(Context& c) {
  const std::vector<Tensor> params{c.input("p", {3, 4}), c.input("q", {5})};
  optim::SGD sgd(params, optim::SGDOptions(0.1).momentum(0.9).nesterov(true).weight_decay(0.01));
  steps(c, sgd, params, "tinytorch/src/optim/sgd.cpp");
}

void adam_program(Context& c) {
  const std::vector<Tensor> params{c.input("p", {3, 4}), c.input("q", {5})};
  optim::Adam adam(params, optim::AdamOptions(0.01).weight_decay(0.01));
  steps(c, adam, params, "tinytorch/src/optim/adam.cpp");
  const std::vector<Tensor> others{c.input("r", {2, 3})};
  optim::AdamW adamw(others, optim::AdamWOptions(0.01).betas({0.9, 0.95}).weight_decay(0.1));
  steps(c, adamw, others, "tinytorch/src/optim/adam.cpp");
}

void rmsprop_program(Context& c) {
  const std::vector<Tensor> params{c.input("p", {3, 4})};
  optim::RMSprop rmsprop(params, optim::RMSpropOptions(0.01).momentum(0.9).centered(true));
  steps(c, rmsprop, params, "tinytorch/src/optim/rmsprop.cpp");
}

void clip_program(Context& c) {
  const std::vector<Tensor> params{c.input("p", {3, 4}), c.input("q", {5})};
  for (const Tensor& p : params) {
    Tensor leaf = p;
    leaf.mutable_grad() = c.constant(p.sizes().vec(), -2.0, 2.0);
  }
  const std::string files = "tinytorch/src/nn/clip_grad.cpp";
  c.value("total norm", nn::utils::clip_grad_norm_(params, 1.0), files);
  c.value("clipped gradient of p", params[0].grad(), files);
  c.value("clipped gradient of q", params[1].grad(), files);
}

// ── 09 spatial ────────────────────────────────────────────────────────────────────────────────

void conv_program(Context& c) {
  const Tensor x = c.input("x", {2, 3, 7, 6});
  const Tensor w = c.input("w", {4, 3, 3, 3});
  const Tensor b = c.input("b", {4});
  c.backward(c.project({conv2d(x, w, b, 2, 1), conv2d(x, w, {}, 1, 0)}));
}

void pooling_program(Context& c) {
  const Tensor x = c.input("x", {2, 3, 8, 7});
  c.backward(c.project({max_pool2d(x, {2}), max_pool2d(x, {3}, {2}, {1}), avg_pool2d(x, {2}),
                        adaptive_avg_pool2d(x, {3, 2})}));
}

void batch_norm_program(Context& c) {
  const Tensor x = c.input("x", {4, 3, 5, 5}, -2.0, 2.0);
  const Tensor weight = c.input("weight", {3}, 0.5, 1.5);
  const Tensor bias = c.input("bias", {3});
  Tensor running_mean = zeros({3});
  Tensor running_var = ones({3});
  const Tensor y = batch_norm(x, weight, bias, running_mean, running_var, true, 0.1, 1e-5);
  const Tensor z = batch_norm_relu(x, weight, bias, {}, {}, true, 0.1, 1e-5);
  const std::string files = "tinytorch/src/native/batch_norm.cpp";
  c.value("running_mean", running_mean, files);
  c.value("running_var", running_var, files);
  c.backward(c.project({y, z}));
}

// ── 11 embeddings, 12 attention, 13 transformers ──────────────────────────────────────────────

void embedding_program(Context& c) {
  const Tensor weight = c.input("weight", {10, 4});
  const Tensor idx = c.indices("idx", {3, 5}, 10);
  c.backward(c.project({embedding(weight, idx), embedding(weight, idx, 2)}));
}

void attention_program(Context& c) {
  const Tensor q = c.input("q", {2, 2, 5, 4});
  const Tensor k = c.input("k", {2, 2, 6, 4});
  const Tensor v = c.input("v", {2, 2, 6, 3});
  const Tensor k5 = c.input("k5", {2, 2, 5, 4});
  const Tensor v5 = c.input("v5", {2, 2, 5, 3});
  const Tensor mask = c.constant({5, 6}, -2.0, 0.0);
  c.backward(
      c.project({scaled_dot_product_attention(q, k, v), scaled_dot_product_attention(q, k, v, mask),
                 scaled_dot_product_attention(q, k5, v5, {}, 0.0, /*is_causal=*/true)}));
}

void norm_program(Context& c) {
  const Tensor x = c.input("x", {3, 4, 6}, -2.0, 2.0);
  const Tensor w = c.input("w", {6}, 0.5, 1.5);
  const Tensor b = c.input("b", {6});
  c.backward(c.project({layer_norm(x, {6}, w, b), layer_norm(x, {4, 6}), rms_norm(x, {6}, w)}));
}

void gpt_program(Context& c) {
  nn::GPTConfig config;
  config.vocab_size = 11;
  config.block_size = 8;
  config.n_layer = 2;
  config.n_head = 2;
  config.n_embd = 8;
  nn::GPT model(config);
  c.set_parameters(*model.ptr());
  const Tensor idx = c.indices("idx", {2, 8}, 11);
  const Tensor target = c.indices("target", {16}, 11);
  c.backward(cross_entropy(model->forward(idx).reshape({-1, 11}), target));
}

// ── 15 quantization, 16 compression ───────────────────────────────────────────────────────────

void fake_quantize_program(Context& c) {
  const Tensor x = c.input("x", {4, 6}, -2.0, 2.0);
  const Tensor scale = c.constant({4}, 0.05, 0.2).to(kFloat32);
  const Tensor zero_point = from_vector(std::vector<int64_t>{0, 3, -2, 1}, {4});
  c.backward(c.project({fake_quantize_per_tensor_affine(x, 0.1, 3, -128, 127),
                        fake_quantize_per_channel_affine(x, scale, zero_point, 0, -8, 7)}));
}

void kl_div_program(Context& c) {
  const Tensor x = c.input("x", {3, 5}, -2.0, 2.0);
  const Tensor p = softmax(c.constant({3, 5}, -2.0, 2.0), 1);
  c.backward(kl_div(log_softmax(x, 1), p));
}

Program on(kernels::Tier tier, std::string owner, std::string name, void (*run)(Context&)) {
  return {std::move(name), std::move(owner), tier, run};
}
Program reference(std::string owner, std::string name, void (*run)(Context&)) {
  return on(kernels::Tier::kReference, std::move(owner), std::move(name), run);
}
// Module 18: the same program on the fast tier, where its registration chooses the kernels.
Program fast(std::string name, void (*run)(Context&)) {
  return on(kernels::Tier::kFast, "18", name + " (fast tier)", run);
}

}  // namespace

const std::vector<Program>& module_programs() {
  static const std::vector<Program> programs = {
      reference("01", "views", views),
      reference("01", "broadcasting", broadcasting),
      reference("01", "reductions", reductions),
      reference("01", "matmul", matmul_program),
      reference("02", "relu, sigmoid, tanh, silu", pointwise_activations),
      reference("02", "gelu", gelu_program),
      reference("02", "softmax", softmax_program),
      reference("03", "linear", linear_program),
      reference("03", "Sequential of Linear", sequential_program),
      reference("04", "mse and l1", regression_losses),
      reference("04", "cross_entropy", cross_entropy_program),
      reference("04", "binary cross-entropy", binary_losses),
      reference("05", "graph", graph_program),
      reference("05", "in-place", inplace_program),
      reference("06", "SGD", sgd_program),
      reference("06", "Adam", adam_program),
      reference("06", "RMSprop", rmsprop_program),
      reference("06", "clip_grad_norm_", clip_program),
      reference("09", "conv2d", conv_program),
      reference("09", "pooling", pooling_program),
      reference("09", "batch_norm", batch_norm_program),
      reference("11", "embedding", embedding_program),
      reference("12", "attention", attention_program),
      reference("13", "layer_norm and rms_norm", norm_program),
      reference("13", "GPT", gpt_program),
      reference("15", "fake quantization", fake_quantize_program),
      reference("16", "kl_div", kl_div_program),
      fast("matmul", matmul_program),
      fast("linear", linear_program),
      fast("gelu", gelu_program),
      fast("softmax", softmax_program),
      fast("conv2d", conv_program),
      fast("pooling", pooling_program),
      fast("batch_norm", batch_norm_program),
      fast("attention", attention_program),
      fast("layer_norm and rms_norm", norm_program),
  };
  return programs;
}

std::vector<Program> programs_of_modules(const std::vector<std::string>& modules) {
  std::vector<Program> out;
  for (const Program& p : module_programs()) {
    if (std::find(modules.begin(), modules.end(), p.owner) != modules.end()) out.push_back(p);
  }
  return out;
}

}  // namespace tinytorch::diagnose
