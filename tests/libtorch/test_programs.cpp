// Whole libtorch programs, trimmed: each is written as a libtorch user writes it (a VAE, an
// attention layer in libtorch's sequence-first layout, a distillation-style KL term, a StepLR
// schedule) and checks that it means here what it means in libtorch.
#include <torch/torch.h>

#include <gtest/gtest.h>

#include <cmath>
#include <tuple>
#include <utility>
#include <vector>

namespace {

namespace F = torch::nn::functional;

// ── A VAE (libtorch's examples' shape of one) ───────────────────────────────────────────────

struct VAEImpl : torch::nn::Module {
  VAEImpl(int64_t image_size, int64_t h_dim, int64_t z_dim)
      : fc1(image_size, h_dim),
        fc2(h_dim, z_dim),
        fc3(h_dim, z_dim),
        fc4(z_dim, h_dim),
        fc5(h_dim, image_size) {
    register_module("fc1", fc1);
    register_module("fc2", fc2);
    register_module("fc3", fc3);
    register_module("fc4", fc4);
    register_module("fc5", fc5);
  }
  torch::Tensor reparameterize(const torch::Tensor& mu, const torch::Tensor& log_var) {
    if (!is_training()) return mu;
    auto std = log_var.div(2).exp_();
    auto eps = torch::randn_like(std);
    return eps.mul(std).add_(mu);
  }
  torch::Tensor decode(const torch::Tensor& z) {
    return torch::sigmoid(fc5->forward(torch::nn::functional::relu(fc4->forward(z))));
  }
  std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> forward(const torch::Tensor& x) {
    auto h = torch::nn::functional::relu(fc1->forward(x));
    auto mu = fc2->forward(h), log_var = fc3->forward(h);
    return std::make_tuple(decode(reparameterize(mu, log_var)), mu, log_var);
  }
  torch::nn::Linear fc1, fc2, fc3, fc4, fc5;
};
TORCH_MODULE(VAE);

TEST(Programs, VaeTrainsWithAdamsOptionsAndASummedBce) {
  torch::manual_seed(1);
  const int64_t image_size = 28 * 28, batch_size = 16;
  VAE model(image_size, 32, 4);
  torch::optim::Adam optimizer(
      model->parameters(),
      torch::optim::AdamOptions(1e-3).betas(std::make_tuple(0.9, 0.99)).weight_decay(1e-5));
  const auto& options =
      static_cast<const torch::optim::AdamOptions&>(optimizer.param_groups()[0].options());
  EXPECT_EQ(std::get<1>(options.betas()), 0.99);
  EXPECT_EQ(options.weight_decay(), 1e-5);
  EXPECT_FALSE(options.amsgrad());

  const torch::Tensor images = torch::rand({batch_size, image_size}).round();
  double first = 0, last = 0;
  for (int step = 0; step < 30; ++step) {
    auto [reconstructed, mu, log_var] = model->forward(images);
    auto reconstruction_loss = F::binary_cross_entropy(
        reconstructed, images, F::BinaryCrossEntropyFuncOptions().reduction(torch::kSum));
    auto kl_divergence = -0.5 * torch::sum(1 + log_var - mu.pow(2) - log_var.exp());
    auto loss = reconstruction_loss + kl_divergence;
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    (step == 0 ? first : last) = loss.item<double>();
  }
  // kSum: the summed loss of 16 × 784 Bernoulli pixels starts near 16·784·ln 2 ≈ 8694, and the
  // mean would be about 0.69 — the reduction is the one asked for.
  EXPECT_NEAR(first, batch_size * image_size * std::log(2.0), 400.0);
  EXPECT_LT(last, first);

  model->eval();
  const torch::NoGradGuard no_grad;
  auto [reconstructed, mu, log_var] = model->forward(images);
  EXPECT_TRUE(reconstructed.equal(model->decode(mu)));  // eval: z is the mean
}

// ── MultiheadAttention is sequence first, as libtorch's ─────────────────────────────────────

// libtorch's MultiheadAttention has no batch_first option: its inputs are [L, N, E] and its
// weights [N, L, S]. The same call here must read the same layout.
TEST(Programs, MultiheadAttentionTakesLibtorchsSequenceFirstLayout) {
  torch::manual_seed(0);
  torch::nn::MultiheadAttention mha(8, 2);
  const torch::Tensor query = torch::randn({3, 2, 8});   // L = 3, N = 2, E = 8
  const torch::Tensor memory = torch::randn({5, 2, 8});  // S = 5
  auto [out, weights] = mha(query, memory, memory);
  EXPECT_EQ(out.sizes(), torch::IntArrayRef({3, 2, 8}));
  EXPECT_EQ(weights.sizes(), torch::IntArrayRef({2, 3, 5}));

  // The batch-first layer with the same parameters, on the transposed inputs, gives the same.
  torch::nn::MultiheadAttention batch_first(
      torch::nn::MultiheadAttentionOptions(8, 2).batch_first(true));
  batch_first->load_state_dict(mha->state_dict());
  auto [out_bf, weights_bf] =
      batch_first(query.transpose(0, 1), memory.transpose(0, 1), memory.transpose(0, 1));
  EXPECT_TRUE(torch::allclose(out, out_bf.transpose(0, 1), 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(weights, weights_bf, 1e-5, 1e-6));

  // Positional arguments as libtorch orders them: key_padding_mask, need_weights.
  auto [out_nw, no_weights] = mha->forward(query, memory, memory, /*key_padding_mask=*/{},
                                           /*need_weights=*/false);
  EXPECT_FALSE(no_weights.defined());
  EXPECT_TRUE(torch::allclose(out_nw, out, 1e-5, 1e-6));
}

// ── KL divergence with libtorch's reduction constants ──────────────────────────────────────

TEST(Programs, KlDivTakesLibtorchsReductionConstants) {
  const torch::Tensor log_q = torch::log_softmax(torch::randn({4, 3}), 1);
  const torch::Tensor p = torch::softmax(torch::randn({4, 3}), 1);
  const torch::Tensor pointwise = p * (p.log() - log_q);
  const auto kl = [&](const F::KLDivFuncOptions& options) { return F::kl_div(log_q, p, options); };
  EXPECT_TRUE(
      torch::allclose(kl(F::KLDivFuncOptions().reduction(torch::kBatchMean)), pointwise.sum() / 4));
  EXPECT_TRUE(torch::allclose(kl(F::KLDivFuncOptions().reduction(torch::kSum)), pointwise.sum()));
  EXPECT_TRUE(torch::allclose(kl(F::KLDivFuncOptions().reduction(torch::kMean)), pointwise.mean()));
  EXPECT_TRUE(torch::allclose(kl(F::KLDivFuncOptions().reduction(torch::kNone)), pointwise));
  EXPECT_TRUE(torch::allclose(kl({}), pointwise.mean()));  // libtorch's default: mean
}

// ── Initializers and BCE weights spelled as libtorch's ─────────────────────────────────────

TEST(Programs, KaimingTakesTorchsFanModeAndNonlinearity) {
  torch::nn::Linear fc(400, 300);
  torch::manual_seed(3);
  torch::nn::init::kaiming_normal_(fc->weight, 0.0, torch::kFanOut, torch::kReLU);
  const torch::Tensor libtorch_spelling = fc->weight.clone();
  torch::manual_seed(3);
  torch::nn::init::kaiming_normal_(fc->weight, 0.0, torch::nn::init::FanMode::FanOut,
                                   torch::nn::init::Nonlinearity::ReLU);
  EXPECT_TRUE(libtorch_spelling.equal(fc->weight));
  // σ = √2 / √fan_out, fan_out = 300 (not fan_in = 400: the mode is the one given).
  EXPECT_NEAR(libtorch_spelling.std().item<double>(), std::sqrt(2.0 / 300.0), 2e-3);
  EXPECT_DOUBLE_EQ(torch::nn::init::calculate_gain(torch::kTanh), 5.0 / 3.0);
  EXPECT_DOUBLE_EQ(torch::nn::init::calculate_gain(torch::kLeakyReLU, 0.2),
                   std::sqrt(2.0 / (1 + 0.2 * 0.2)));
  // The RNN's nonlinearity is still its own constant.
  torch::nn::RNN rnn(torch::nn::RNNOptions(2, 3).nonlinearity(torch::kReLU));
  EXPECT_GE(std::get<0>(rnn(torch::randn({4, 1, 2}))).min().item<float>(), 0.0f);
}

TEST(Programs, BceWithLogitsPosWeightAndLibtorchsArgumentOrder) {
  const torch::Tensor logits = torch::randn({4, 3}), target = torch::rand({4, 3}).round();
  const torch::Tensor pos_weight = torch::tensor({2.0f, 1.0f, 5.0f});
  const torch::Tensor loss = F::binary_cross_entropy_with_logits(
      logits, target, F::BinaryCrossEntropyWithLogitsFuncOptions().pos_weight(pos_weight));
  const torch::Tensor by_hand = -(pos_weight * target * torch::log(torch::sigmoid(logits)) +
                                  (1 - target) * torch::log(1 - torch::sigmoid(logits)))
                                     .mean();
  EXPECT_TRUE(torch::allclose(loss, by_hand, 1e-5, 1e-6));
  torch::nn::BCEWithLogitsLoss criterion(
      torch::nn::BCEWithLogitsLossOptions().pos_weight(pos_weight).reduction(torch::kSum));
  EXPECT_TRUE(torch::allclose(criterion(logits, target), by_hand * 12, 1e-5, 1e-5));
  // at::binary_cross_entropy_with_logits(self, target, weight, pos_weight, reduction): two
  // braced {} are the two undefined weights, and the reduction stays the mean.
  EXPECT_EQ(torch::binary_cross_entropy_with_logits(logits, target, {}, {}).dim(), 0);
  EXPECT_TRUE(torch::allclose(
      torch::binary_cross_entropy_with_logits(logits, target, {}, pos_weight, torch::kMean), loss));
}

TEST(Programs, SoftmaxFuncOptionsWithADtype) {
  const torch::Tensor logits = torch::randn({3, 5});
  EXPECT_TRUE(F::softmax(logits, F::SoftmaxFuncOptions(1)).equal(logits.softmax(1)));
  EXPECT_TRUE(F::softmax(logits, 0).equal(logits.softmax(0)));
  const torch::Tensor wide =
      F::log_softmax(logits, F::LogSoftmaxFuncOptions(1).dtype(torch::kFloat64));
  EXPECT_EQ(wide.dtype(), torch::kFloat64);
  EXPECT_TRUE(wide.equal(logits.to(torch::kFloat64).log_softmax(1)));
  EXPECT_EQ(F::softmax(logits, F::SoftmaxFuncOptions(-1).dtype(torch::kFloat64)).dtype(),
            torch::kFloat64);
}

// The libtorch program's training loop with a StepLR: libtorch's C++ class first decays on the
// 3rd step() for step_size 2 (b, b, bγ, bγ, bγ² after 1 … 5 calls) — one step later than Python's
// torch.optim.lr_scheduler.StepLR (b, bγ, bγ, bγ², bγ²).
TEST(Programs, StepLrDecaysOnLibtorchsSteps) {
  torch::manual_seed(0);
  torch::nn::Linear net(3, 1);
  torch::optim::SGD optimizer(net->parameters(), torch::optim::SGDOptions(0.1));
  torch::optim::StepLR scheduler(optimizer, /*step_size=*/2, /*gamma=*/0.5);
  EXPECT_EQ(optimizer.param_groups()[0].options().get_lr(), 0.1);  // the constructor: unchanged
  const torch::Tensor x = torch::randn({4, 3});
  std::vector<double> lrs;
  for (int epoch = 0; epoch < 5; ++epoch) {
    optimizer.zero_grad();
    net->forward(x).pow(2).mean().backward();
    optimizer.step();
    scheduler.step();
    lrs.push_back(optimizer.param_groups()[0].options().get_lr());
  }
  EXPECT_EQ(lrs, (std::vector<double>{0.1, 0.1, 0.05, 0.05, 0.025}));
}

}  // namespace
