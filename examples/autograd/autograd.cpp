// An autograd tour: gradients of a scalar, of a vector (vector-Jacobian products), turning
// recording off, a Function whose backward you write yourself, and gradients of gradients —
// ending in the training loop they exist for: a critic trained with a gradient penalty
// (WGAN-GP, Gulrajani et al. 2017), whose loss contains ‖∇ₓ D(x)‖ and so needs create_graph.
//
//   build/release/bin/example_autograd             the tour, then 200 penalty-training steps
//   build/release/bin/example_autograd --fixed     closed-form init and data: the first steps
//                                                  match tools/reference/gen_examples.py
#include <torch/torch.h>

#include <iostream>

#include "common/fixed_run.h"

namespace {

// softplus(x) = log(1 + eˣ), written as a Function: forward and backward by hand.
// Its derivative is σ(x); backward computes it with tensor ops, so under create_graph the
// backward itself is recorded, and a gradient penalty can differentiate through it again.
struct Softplus : public torch::autograd::Function<Softplus> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x) {
    ctx->save_for_backward({x});
    // log(1 + eˣ) = max(x, 0) + log(1 + e^-|x|): no overflow for large x.
    return x.clamp_min(0) + ((-x.abs()).exp() + 1).log();
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    const torch::Tensor x = ctx->get_saved_variables()[0];
    return {grad_outputs[0] * x.sigmoid()};  // d softplus / dx = σ(x)
  }
};

// The critic: 2 → 16 → 1 with the hand-written softplus between.
struct CriticImpl : torch::nn::Module {
  CriticImpl()
      : fc1(register_module("fc1", torch::nn::Linear(2, 16))),
        fc2(register_module("fc2", torch::nn::Linear(16, 1))) {}
  torch::Tensor forward(const torch::Tensor& x) { return fc2(Softplus::apply(fc1(x))); }
  torch::nn::Linear fc1, fc2;
};
TORCH_MODULE(Critic);

void tour() {
  std::cout << "── gradients of a scalar ──\n";
  torch::Tensor x = torch::ones({2, 2}, torch::requires_grad());
  torch::Tensor y = x + 2;
  torch::Tensor z = y * y * 3;
  torch::Tensor out = z.mean();
  std::cout << "out = " << out.item<double>() << ", out.grad_fn = " << out.grad_fn()->name()
            << "\n";
  out.backward();  // d out / dx = 6 (x + 2) / 4 = 4.5 everywhere
  std::cout << "x.grad =\n" << x.grad() << "\n";

  std::cout << "── a vector-Jacobian product ──\n";
  x = torch::tensor({1.0, -2.0, 3.0}, torch::requires_grad());
  y = x * 2;
  const torch::Tensor v = torch::tensor({0.1, 1.0, 0.0001});
  y.backward(v);  // vᵀ · ∂y/∂x = 2v
  std::cout << "x.grad = " << x.grad() << "\n";

  std::cout << "── recording off ──\n";
  {
    torch::NoGradGuard no_grad;
    std::cout << "(x * x).requires_grad() under NoGradGuard: " << std::boolalpha
              << (x * x).requires_grad() << "\n";
  }

  std::cout << "── a Function of your own ──\n";
  x = torch::tensor({-1.0, 0.0, 2.0}, torch::requires_grad());
  y = Softplus::apply(x);
  y.sum().backward();
  std::cout << "softplus(x) = " << y << "\nits gradient σ(x) = " << x.grad()
            << "\ngrad_fn = " << y.grad_fn()->name() << "\n";

  std::cout << "── gradients of gradients ──\n";
  x = torch::tensor({1.0, 2.0}, torch::requires_grad());
  y = (x * x * x).sum();                                                               // Σ x³
  const torch::Tensor g = torch::autograd::grad({y}, {x}, {}, std::nullopt, true)[0];  // 3x²
  const torch::Tensor h = torch::autograd::grad({g.sum()}, {x})[0];                    // 6x
  std::cout << "dy/dx = " << g << "\nd(Σ dy/dx)/dx = " << h << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  const auto options = examples::parse_options(argc, argv, /*default_steps=*/200);
  torch::manual_seed(1);
  if (!options.fixed) tour();

  // ── training with a gradient penalty ──
  // real: points on a circle of radius 2; fake: a blob at the origin (a generator's first
  // guesses). The critic scores real high and fake low; the penalty keeps ‖∇ₓ D‖ near 1 on
  // points between the two, which is what makes it a 1-Lipschitz critic.
  constexpr int64_t kBatch = 64;
  constexpr double kLambda = 10.0;
  Critic critic;
  if (options.fixed) examples::fixed_init(*critic);
  torch::optim::SGD optimizer(critic->parameters(), torch::optim::SGDOptions(0.01).momentum(0.5));

  for (int64_t step = 1; step <= options.steps; ++step) {
    torch::Tensor angle = torch::rand({kBatch}) * 6.2831853;
    torch::Tensor fake = torch::randn({kBatch, 2}) * 0.5;
    torch::Tensor mix = torch::rand({kBatch, 1});
    if (options.fixed) {
      const torch::Tensor i =
          torch::arange((step - 1) * kBatch, step * kBatch, torch::kFloat64);  // [B]
      angle = (i * 2.4).to(torch::kFloat32);
      fake = torch::stack({(i * 0.9).sin(), (i * 1.7).cos()}, 1).mul(0.5).to(torch::kFloat32);
      mix = (i * 0.37).sin().abs().unsqueeze(1).to(torch::kFloat32);
    }
    const torch::Tensor real = torch::stack({angle.cos(), angle.sin()}, 1) * 2;  // [B, 2]
    // Points on the segments between real and fake samples, as leaves we differentiate by.
    const torch::Tensor between = (mix * real + (1 - mix) * fake).requires_grad_(true);

    optimizer.zero_grad();
    const torch::Tensor score = critic(between);
    // ∇ₓ D at each point, kept in the graph (create_graph) so the penalty can be trained.
    const torch::Tensor grad_x = torch::autograd::grad({score.sum()}, {between}, {},
                                                       /*retain_graph=*/true,
                                                       /*create_graph=*/true)[0];  // [B, 2]
    const torch::Tensor penalty = (grad_x.norm(2, 1) - 1).pow(2).mean();
    const torch::Tensor loss = critic(fake).mean() - critic(real).mean() + kLambda * penalty;
    loss.backward();
    optimizer.step();
    examples::report(options, step, loss.item<double>(), /*every=*/20);
  }
}
