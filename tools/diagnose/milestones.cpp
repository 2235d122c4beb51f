// The milestone programs (programs.h): each milestone's model on one fixed batch.
//
//   "1986 initialization"          the model as its constructor initializes it (seeded): every
//                                  parameter, compared as a named value
//   "1986 step (reference tier)"   fixed parameters → forward → loss → backward → one step of the
//   "1986 step (fast tier)"        milestone's optimizer; the ops are labelled with the layer whose
//                                  parameters they use ("layer 2 (Linear)")
//
// The batch is synthetic (seeded values of the dataset's shapes): the diagnosis compares the
// arithmetic of two builds, which the dataset's pictures would not make any clearer.
#include <cmath>
#include <functional>
#include <stdexcept>

#include "common/char_gpt.h"
#include "common/models.h"
#include "programs.h"
#include "tinytorch/core/generator.h"
#include "tinytorch/nn/functional.h"
#include "tinytorch/nn/nn.h"
#include "tinytorch/optim/optim.h"

namespace tinytorch::diagnose {

namespace F = nn::functional;

namespace {

// One milestone: how to build its model, and one training step of it on a fixed batch.
struct Milestone {
  std::string id;
  std::function<std::shared_ptr<nn::Module>()> build;
  std::function<void(Context&, nn::Module&)> step;
};

// The parameters after the optimizer's step, as named values.
void record_parameters(Context& c, const nn::Module& model, const std::string& prefix,
                       const std::string& files) {
  for (const auto& item : model.named_parameters())
    c.value(prefix + item.key(), item.value(), files);
}

// 1957: the perceptron's neuron scores points; its learning rule needs no gradient, so the
// program runs the forward only.
void perceptron_step(Context& c, nn::Module& model) {
  auto& neuron = dynamic_cast<nn::LinearImpl&>(model);
  const Tensor points = c.input("points", {8, 2}, -1.0, 1.0, /*requires_grad=*/false);
  c.value("scores", neuron.forward(points));
}

// 1969: a 2-4-1 MLP on the four XOR points, BCE on logits, and the milestone's own update rule
// (v ← momentum·v − lr·∂L/∂p; p ← p + v), written with in-place ops.
void xor_step(Context& c, nn::Module& model) {
  auto& mlp = dynamic_cast<nn::SequentialImpl&>(model);
  const Tensor x = from_vector<float>({0, 0, 0, 1, 1, 0, 1, 1}, {4, 2});
  const Tensor y = from_vector<float>({0, 1, 1, 0}, {4, 1});
  c.backward(binary_cross_entropy_with_logits(mlp.forward(x), y));
  const NoGradGuard no_grad;
  for (Tensor p : mlp.parameters()) {
    Tensor velocity = zeros_like(p);
    velocity.mul_(0.9).sub_(p.grad(), 0.5);
    p.add_(velocity);
  }
  record_parameters(c, mlp, "after the update: ", "tinytorch/src/kernels/strided_loop.cpp");
}

// 1986 and 1998: a batch of images, cross-entropy, one Adam step.
void image_step(Context& c, nn::Module& model, std::vector<int64_t> batch, double lr) {
  auto& net = dynamic_cast<nn::SequentialImpl&>(model);
  const Tensor images = c.input("images", std::move(batch), 0.0, 1.0, /*requires_grad=*/false);
  const Tensor labels = c.indices("labels", {images.size(0)}, 10);
  c.backward(cross_entropy(net.forward(images), labels));
  optim::Adam adam(net.parameters(), optim::AdamOptions(lr));
  adam.step();
  record_parameters(c, net, "after one Adam step: ", "tinytorch/src/optim/adam.cpp");
}

// 2017: the GPT's configuration with a small vocabulary and context, two windows, next-character
// cross-entropy, one AdamW step.
constexpr int64_t kVocab = 24;
constexpr int64_t kContext = 16;

std::shared_ptr<nn::Module> build_gpt() {
  nn::GPTConfig config;
  config.vocab_size = kVocab;
  config.block_size = kContext;
  return nn::GPT(config).ptr();
}

void gpt_step(Context& c, nn::Module& model) {
  auto& gpt = dynamic_cast<nn::GPTImpl&>(model);
  const Tensor idx = c.indices("windows", {2, kContext}, kVocab);
  const Tensor targets = c.indices("targets", {2, kContext}, kVocab);
  c.backward(milestones::next_char_loss(gpt.forward(idx), targets));
  optim::AdamW adamw(gpt.parameters(),
                     optim::AdamWOptions(1e-3).betas({0.9, 0.95}).weight_decay(0.1));
  adamw.step();
  record_parameters(c, gpt, "after one AdamW step: ", "tinytorch/src/optim/adam.cpp");
}

const std::vector<Milestone>& milestones_table() {
  static const std::vector<Milestone> table = {
      {"1957", [] { return nn::Linear(2, 1).ptr(); }, perceptron_step},
      {"1969", [] { return nn::Sequential(nn::Linear(2, 4), nn::Tanh(), nn::Linear(4, 1)).ptr(); },
       xor_step},
      {"1986", [] { return milestones::mlp_1986().ptr(); },
       [](Context& c, nn::Module& m) {
         image_step(c, m, {8, 784}, 1e-3);
       }},
      {"1998", [] { return milestones::lenet5().ptr(); },
       [](Context& c, nn::Module& m) {
         image_step(c, m, {4, 1, 28, 28}, 2e-3);
       }},
      {"2017", build_gpt, gpt_step},
  };
  return table;
}

const Milestone* find(const std::string& id) {
  for (const Milestone& m : milestones_table()) {
    if (m.id == id) return &m;
  }
  return nullptr;
}

// The three programs of one milestone; `owner` is the milestone asked for (2018 runs those of
// the models it benchmarks).
void add_programs(const Milestone& m, const std::string& owner, std::vector<Program>& out) {
  const auto seed = static_cast<uint64_t>(std::stoll(m.id));
  out.push_back({m.id + " initialization", owner, kernels::Tier::kReference, [m, seed](Context& c) {
                   manual_seed(seed);
                   const auto model = m.build();
                   record_parameters(c, *model, "initial ",
                                     "tinytorch/src/nn/init.cpp,tinytorch/src/nn/modules.cpp");
                 }});
  for (const auto tier : {kernels::Tier::kReference, kernels::Tier::kFast}) {
    const std::string name =
        m.id + " step (" + (tier == kernels::Tier::kReference ? "reference" : "fast") + " tier)";
    out.push_back({name, owner, tier, [m, seed](Context& c) {
                     manual_seed(seed);
                     const auto model = m.build();
                     c.set_parameters(*model);
                     m.step(c, *model);
                   }});
  }
}

}  // namespace

std::vector<std::string> milestone_ids() {
  std::vector<std::string> ids;
  for (const Milestone& m : milestones_table()) ids.push_back(m.id);
  ids.emplace_back("2018");
  return ids;
}

std::vector<Program> milestone_programs(const std::string& id) {
  std::vector<Program> out;
  if (id == "2018") {
    // TinyMLPerf benchmarks the models of 1986, 1998 and 2017.
    for (const char* model : {"1986", "1998", "2017"}) add_programs(*find(model), id, out);
    return out;
  }
  const Milestone* m = find(id);
  if (m == nullptr) {
    std::string ids;
    for (const auto& known : milestone_ids()) ids += (ids.empty() ? "" : ", ") + known;
    throw std::invalid_argument("no diagnosis program for milestone " + id + " (there are: " + ids +
                                ")");
  }
  add_programs(*m, id, out);
  return out;
}

}  // namespace tinytorch::diagnose
