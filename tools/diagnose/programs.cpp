// The module programs (programs.h). Each one is small (a few hundred elements) and seeded by its
// name; the sizes are odd and some operands are views, so that an off-by-one or a stride
// assumption shows.
#include "programs.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>
#include <tuple>

#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/benchmark/stats.h"
#include "tinytorch/benchmark/timer.h"
#include "tinytorch/data/cifar.h"
#include "tinytorch/data/dataloader.h"
#include "tinytorch/data/dataset.h"
#include "tinytorch/data/idx.h"
#include "tinytorch/data/text.h"
#include "tinytorch/data/transforms.h"
#include "tinytorch/deploy/batcher.h"
#include "tinytorch/deploy/model_file.h"
#include "tinytorch/deploy/monitor.h"
#include "tinytorch/distributed/ddp.h"
#include "tinytorch/distributed/process_group.h"
#include "tinytorch/distributed/sampler.h"
#include "tinytorch/nn/functional.h"
#include "tinytorch/nn/functional/distillation.h"
#include "tinytorch/nn/kv_cache.h"
#include "tinytorch/nn/nn.h"
#include "tinytorch/nn/utils/clip_grad.h"
#include "tinytorch/optim/optim.h"
#include "tinytorch/profiler/profiler.h"
#include "tinytorch/quantization/quantize.h"
#include "tinytorch/text/tokenizer.h"
#include "tinytorch/train/checkpoint.h"
#include "tinytorch/train/early_stopping.h"
#include "tinytorch/train/loop.h"
#include "tinytorch/train/metrics.h"

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

// ── files and threads for the programs of modules 07–21 ───────────────────────────────────────

// A folder of the program's own under the system's temporary folder, removed with it.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& tag)
      : path_(std::filesystem::temp_directory_path() /
              ("tinytorch-diagnose-" + std::to_string(::getpid()) + "-" + tag)) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

void write_bytes(const std::string& path, const std::vector<unsigned char>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path);
}

// Bytes that look like image data: fixed, and different at every position.
std::vector<unsigned char> pattern(size_t n, unsigned seed) {
  std::vector<unsigned char> bytes(n);
  for (size_t i = 0; i < n; ++i) bytes[i] = static_cast<unsigned char>((i * 37 + seed) % 251);
  return bytes;
}

std::vector<int64_t> as_ids(const std::vector<size_t>& v) {
  return {v.begin(), v.end()};
}

// Module 21's collectives with p ranks as p threads of this process (the course runs them under
// MPI; the comparison needs one process). send_recv leaves its tensor in the receiver's mailbox,
// so a rank never waits on its send; a receive that no rank's send answers within a few seconds
// throws, naming the ranks, instead of hanging the program.
class ThreadRanks {
 public:
  explicit ThreadRanks(int size) : size_(size), mailboxes_(static_cast<size_t>(size)) {}

  // Runs body(pg) on every rank, each on its own thread; rethrows the first rank's error.
  void run(const std::function<void(distributed::ProcessGroup&)>& body) {
    std::vector<std::exception_ptr> errors(static_cast<size_t>(size_));
    std::vector<std::thread> threads;
    for (int r = 0; r < size_; ++r) {
      threads.emplace_back([&, r] {
        Rank pg(*this, r);
        try {
          body(pg);
        } catch (...) {
          errors[static_cast<size_t>(r)] = std::current_exception();
        }
      });
    }
    for (auto& t : threads) t.join();
    // A rank's own error first: the others may only have waited for that rank.
    for (const auto& e : errors) {
      try {
        if (e) std::rethrow_exception(e);
      } catch (const Unanswered&) {
      }
    }
    for (const auto& e : errors) {
      if (e) std::rethrow_exception(e);
    }
  }

 private:
  struct Unanswered : std::runtime_error {
    using std::runtime_error::runtime_error;
  };
  struct Letter {
    int from;
    Tensor tensor;
  };

  class Rank final : public distributed::ProcessGroup {
   public:
    Rank(ThreadRanks& ranks, int rank) : ranks_(ranks), rank_(rank) {}
    int rank() const override { return rank_; }
    int size() const override { return ranks_.size_; }
    void all_reduce(Tensor& tensor, distributed::ReduceOp op) override {
      distributed::ring_all_reduce(*this, tensor, op);
    }
    // Both write raw values into the receiving tensor, a parameter among them (as MPI does).
    void broadcast(Tensor& tensor, int root) override {
      const NoGradGuard no_grad;
      if (rank_ == root) {
        for (int r = 0; r < size(); ++r) {
          if (r != root) post(tensor, r);
        }
      } else {
        tensor.copy_(take(root));
      }
    }
    void barrier() override {
      Tensor token = zeros({1});
      all_reduce(token, distributed::ReduceOp::kSum);
    }
    void send_recv(const Tensor& send, int dst, Tensor& recv, int src) override {
      const NoGradGuard no_grad;
      post(send, dst);
      recv.copy_(take(src));
    }

   private:
    void post(const Tensor& t, int dst) {
      const std::lock_guard<std::mutex> lock(ranks_.mutex_);
      ranks_.mailboxes_.at(static_cast<size_t>(dst)).push_back({rank_, t.clone()});
      ranks_.arrived_.notify_all();
    }
    Tensor take(int src) {
      std::unique_lock<std::mutex> lock(ranks_.mutex_);
      auto& box = ranks_.mailboxes_.at(static_cast<size_t>(rank_));
      const auto from_src = [&] {
        return std::find_if(box.begin(), box.end(), [&](const Letter& l) { return l.from == src; });
      };
      if (!ranks_.arrived_.wait_for(lock, std::chrono::seconds(5),
                                    [&] { return from_src() != box.end(); })) {
        throw Unanswered("rank " + std::to_string(rank_) + " waited 5 s for a tensor from rank " +
                         std::to_string(src) + " that no send_recv sent");
      }
      const auto it = from_src();
      Tensor t = it->tensor;
      box.erase(it);
      return t;
    }

    ThreadRanks& ranks_;
    int rank_;
  };

  int size_;
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::vector<std::deque<Letter>> mailboxes_;  // per receiving rank, in arrival order
};

// ── 07 training ───────────────────────────────────────────────────────────────────────────────

Tensor classification_loss(const Tensor& output, const Tensor& target) {
  return cross_entropy(output, target);
}

void training_loop_program(Context& c) {
  const std::string loop = "tinytorch/src/train/loop.cpp";
  const std::string checkpoint = "tinytorch/src/train/checkpoint.cpp";
  nn::Sequential model(nn::Linear(5, 6), nn::ReLU(), nn::Linear(6, 3));
  c.set_parameters(*model.ptr());
  optim::SGD sgd(model->parameters(), optim::SGDOptions(0.1).momentum(0.9));
  const Tensor x = c.input("x", {7, 5}, -1.0, 1.0, /*requires_grad=*/false);
  const data::Example<> batch(x, c.indices("target", {7}, 3));
  const auto forward = train::forward_of(model);
  const train::TrainingState state{model.ptr().get(), &sgd};

  const auto first = train::train_step(forward, classification_loss, sgd, batch);
  c.value("loss of step 1", first.loss, loop);
  c.value("output of step 1", first.output, loop);
  const train::Checkpoint saved = train::capture_checkpoint(state, 1);
  const auto second = train::train_step(forward, classification_loss, sgd, batch, 0.5);
  c.value("loss of step 2 (gradient norm clipped to 0.5)", second.loss, loop);
  for (const auto& p : model->named_parameters()) {
    c.value(p.key() + " after step 2", p.value(), loop);
  }
  train::restore_checkpoint(saved, state);
  for (const auto& p : model->named_parameters()) {
    c.value(p.key() + " restored from the checkpoint of step 1", p.value(), checkpoint);
  }
  const auto again = train::train_step(forward, classification_loss, sgd, batch, 0.5);
  c.value("loss of step 2 again, after restoring (with the optimizer's momentum)", again.loss,
          checkpoint + "," + loop);

  data::LoaderOptions options;
  options.batch_size = 3;
  data::DataLoader loader(data::TensorDataset(batch.data, batch.target), options);
  train::ConfusionMatrix confusion(3);
  const auto eval = train::evaluate(*model.ptr(), forward, classification_loss, loader, &confusion);
  c.value("evaluate: loss, accuracy, samples",
          std::vector<double>{eval.loss, eval.accuracy, static_cast<double>(eval.samples)}, loop);
  c.value("evaluate: confusion matrix", confusion.matrix(), "tinytorch/src/train/metrics.cpp");
}

void metrics_program(Context& c) {
  const std::string metrics = "tinytorch/src/train/metrics.cpp";
  const Tensor output = c.input("output", {9, 4}, -2.0, 2.0, /*requires_grad=*/false);
  const Tensor target = c.indices("target", {9}, 4);
  c.value("count_correct", std::vector<int64_t>{train::count_correct(output, target)}, metrics);
  c.value("accuracy", train::accuracy(output, target), metrics);
  train::ConfusionMatrix confusion(4);
  confusion.update(output, target);
  confusion.update(output.narrow(0, 2, 5), target.narrow(0, 2, 5));
  c.value("confusion matrix after two updates", confusion.matrix(), metrics);
  train::RunningAverage average;
  std::vector<double> means;
  for (const auto& [value, weight] :
       std::vector<std::pair<double, int64_t>>{{0.5, 4}, {1.25, 1}, {-0.75, 3}, {2.0, 2}}) {
    average.update(value, weight);
    means.push_back(average.mean());
  }
  c.value("RunningAverage mean after each update", means, metrics);

  // Per step of a loss curve: stop, improved, wait, best epoch.
  train::EarlyStopping stopping({"val_loss", train::MonitorMode::kMin, 2, 0.05});
  std::vector<int64_t> states;
  for (const double loss : {1.0, 0.9, 0.88, 0.7, 0.69, 0.68, 0.71}) {
    states.push_back(stopping.step(loss) ? 1 : 0);
    states.push_back(stopping.improved() ? 1 : 0);
    states.push_back(stopping.wait());
    states.push_back(stopping.best_epoch());
  }
  c.value("EarlyStopping per step: stop, improved, wait, best epoch (patience 2, min_delta 0.05)",
          states, "tinytorch/src/train/early_stopping.cpp");
}

// ── 08 dataloader ─────────────────────────────────────────────────────────────────────────────

void dataloader_program(Context& c) {
  const std::string dataset = "tinytorch/src/data/dataset.cpp";
  const std::string loader_files =
      "tinytorch/src/data/dataloader.cpp,tinytorch/src/data/dataset.cpp,"
      "tinytorch/src/data/transforms.cpp";
  Generator generator(17);
  c.value("sample_order(7, shuffle)", data::sample_order(7, true, generator), dataset);
  c.value("sample_order(5, in order)", data::sample_order(5, false, generator), dataset);
  const Tensor a = c.input("a", {2, 3}, -1.0, 1.0, /*requires_grad=*/false);
  const Tensor b = c.input("b", {3, 2}, -1.0, 1.0, /*requires_grad=*/false);
  c.value("stack(a, b transposed)", data::stack({a, b.t()}), dataset);

  const Tensor images = c.input("images", {7, 2, 4, 5}, 0.0, 1.0, /*requires_grad=*/false);
  const Tensor labels = c.indices("labels", {7}, 10);
  const auto transform =
      std::make_shared<const data::Compose>(std::vector<std::shared_ptr<const data::Transform>>{
          std::make_shared<const data::RandomHorizontalFlip>(0.5),
          std::make_shared<const data::RandomCrop>(3, 4, 1)});
  for (const int64_t workers : {0, 2}) {
    data::LoaderOptions options;
    options.batch_size = 3;
    options.shuffle = true;
    options.seed = 5;
    options.num_workers = workers;
    options.transform = transform;
    data::DataLoader loader(data::TensorDataset(images, labels), options);
    int64_t k = 0;
    for (const auto& batch : loader) {
      const std::string name = "batch " + std::to_string(k++) + " (" + std::to_string(workers) +
                               " workers, flip and crop)";
      c.value(name + " data", batch.data, loader_files);
      c.value(name + " target", batch.target, loader_files);
    }
  }
}

void file_readers_program(Context& c) {
  const ScratchDir dir("readers");
  // IDX: 3 images of 2×4 bytes, and 5 labels.
  std::vector<unsigned char> images = {0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 4};
  const auto pixels = pattern(24, 11);
  images.insert(images.end(), pixels.begin(), pixels.end());
  write_bytes(dir.file("images-idx3-ubyte"), images);
  write_bytes(dir.file("labels-idx1-ubyte"), {0, 0, 8, 1, 0, 0, 0, 5, 3, 1, 4, 1, 5});
  const std::string idx = "tinytorch/src/data/idx.cpp";
  c.value("read_idx(images)", data::read_idx(dir.file("images-idx3-ubyte"), kFloat32), idx);
  c.value("read_idx(labels)", data::read_idx(dir.file("labels-idx1-ubyte")), idx);
  // CIFAR-10: two records of a label byte and 3·32·32 pixel bytes.
  std::vector<unsigned char> records;
  for (const unsigned label : {6u, 2u}) {
    records.push_back(static_cast<unsigned char>(label));
    const auto image = pattern(3 * 32 * 32, label);
    records.insert(records.end(), image.begin(), image.end());
  }
  write_bytes(dir.file("data_batch_1.bin"), records);
  const auto cifar = data::read_cifar10({dir.file("data_batch_1.bin")});
  c.value("read_cifar10 images", cifar.data(), "tinytorch/src/data/cifar.cpp");
  c.value("read_cifar10 labels", cifar.targets(), "tinytorch/src/data/cifar.cpp");
}

// ── 10 tokenization ───────────────────────────────────────────────────────────────────────────

constexpr std::string_view kCorpus =
    "the cat sat on the mat. the cat ate the rat; that rat sat on the hat!\n"
    "a bat and a cat: that is that.\n";

std::vector<int64_t> bytes_of(const std::string& text) {
  return {text.begin(), text.end()};
}

void char_tokenizer_program(Context& c) {
  const std::string files = "tinytorch/src/text/char_tokenizer.cpp";
  const auto tokenizer = text::CharTokenizer::train(kCorpus);
  c.value("vocabulary (bytes)", bytes_of(tokenizer.vocabulary()), files);
  const auto ids = tokenizer.encode("that cat sat.");
  c.value("encode(\"that cat sat.\")", ids, files);
  c.value("decode(encode(...)) (bytes)", bytes_of(tokenizer.decode(ids)), files);
}

void bpe_program(Context& c) {
  const std::string files = "tinytorch/src/text/bpe.cpp";
  const auto tokenizer = text::BpeTokenizer::train(kCorpus, 256 + 14, {"<|end|>"});
  std::vector<int64_t> merges;
  for (const auto& [left, right] : tokenizer.merges()) {
    merges.push_back(left);
    merges.push_back(right);
  }
  c.value("merges (left, right, left, right, ...)", merges, files);
  const auto ids = tokenizer.encode("the cat sat on that mat<|end|>a rat");
  c.value("encode(\"the cat sat on that mat<|end|>a rat\")", ids, files);
  c.value("decode(encode(...)) (bytes)", bytes_of(tokenizer.decode(ids)), files);
}

void text_windows_program(Context& c) {
  const Tensor tokens = c.indices("tokens", {40}, 20);
  Generator generator(3);
  const auto [x, y] = data::random_windows(tokens, 3, 6, generator);
  c.value("random_windows inputs", x, "tinytorch/src/data/text.cpp");
  c.value("random_windows targets", y, "tinytorch/src/data/text.cpp");
}

// ── 14 profiling ──────────────────────────────────────────────────────────────────────────────

void flops_program(Context& c) {
  const std::string files = "tinytorch/src/profiler/profiler_ops.cpp";
  c.value(
      "flops: aten::mm [3, 4] @ [4, 5], aten::matmul [2, 3, 4] @ [4, 5], aten::bmm "
      "[2, 3, 4] @ [2, 4, 6]",
      std::vector<int64_t>{profiler::flops("aten::mm", {{3, 4}, {4, 5}}, {}),
                           profiler::flops("aten::matmul", {{2, 3, 4}, {4, 5}}, {}),
                           profiler::flops("aten::bmm", {{2, 3, 4}, {2, 4, 6}}, {})},
      files);
  c.value("flops: aten::linear x [2, 3, 5], weight [4, 5] (and a bias)",
          std::vector<int64_t>{profiler::flops("aten::linear", {{2, 3, 5}, {4, 5}, {4}}, {})},
          files);
  c.value("flops: aten::conv2d x [2, 3, 7, 6], weight [4, 3, 3, 3] → [2, 4, 4, 3]",
          std::vector<int64_t>{
              profiler::flops("aten::conv2d", {{2, 3, 7, 6}, {4, 3, 3, 3}}, {2, 4, 4, 3})},
          files);
  c.value(
      "flops: aten::scaled_dot_product_attention q [2, 2, 5, 4], k [2, 2, 6, 4], v "
      "[2, 2, 6, 3]",
      std::vector<int64_t>{profiler::flops("aten::scaled_dot_product_attention",
                                           {{2, 2, 5, 4}, {2, 2, 6, 4}, {2, 2, 6, 3}}, {})},
      files);
  c.value(
      "backward_flops: ConvolutionBackward0 (all, input only), "
      "ScaledDotProductAttentionBackward0",
      std::vector<int64_t>{
          profiler::backward_flops("ConvolutionBackward0",
                                   {{2, 4, 4, 3}, {2, 3, 7, 6}, {4, 3, 3, 3}}, {true, true, true}),
          profiler::backward_flops("ConvolutionBackward0",
                                   {{2, 4, 4, 3}, {2, 3, 7, 6}, {4, 3, 3, 3}},
                                   {true, false, false}),
          profiler::backward_flops("ScaledDotProductAttentionBackward0",
                                   {{2, 2, 5, 3}, {2, 2, 5, 4}, {2, 2, 6, 4}, {2, 2, 6, 3}},
                                   {true, true, true})},
      files);
}

// Fixed events (two threads, nesting, repeated names and shapes): the profiler's tables.
void profiler_tables_program(Context& c) {
  const std::string files = "tinytorch/src/profiler/profiler_ops.cpp";
  const std::vector<std::string> names = {"train_step", "aten::linear", "aten::relu",
                                          "AddmmBackward0"};
  std::vector<profiler::Event> events;
  const auto event = [&](size_t name, std::vector<std::vector<int64_t>> shapes, int64_t start,
                         int64_t end, int64_t self, uint64_t thread, int64_t depth, int64_t flops,
                         int64_t bytes) {
    profiler::Event e;
    e.name = names[name];
    e.shapes = std::move(shapes);
    e.start_ns = start;
    e.end_ns = end;
    e.self_ns = self;
    e.thread = thread;
    e.depth = depth;
    e.flops = flops;
    e.self_bytes = bytes;
    events.push_back(std::move(e));
  };
  event(0, {}, 0, 1000, 200, 0, 0, 0, 64);
  event(1, {{4, 5}, {3, 5}, {3}}, 100, 400, 300, 0, 1, 120, 48);
  event(2, {{4, 3}}, 400, 500, 100, 0, 1, 0, 48);
  event(1, {{2, 5}, {3, 5}, {3}}, 500, 700, 200, 0, 1, 60, 24);
  event(1, {{4, 5}, {3, 5}, {3}}, 700, 950, 250, 0, 1, 120, 48);
  event(3, {{4, 3}, {4, 5}, {5, 3}}, 50, 300, 250, 1, 0, 240, 96);
  for (const bool by_shape : {false, true}) {
    // Per row: its name (index into the names above), count, self, total, FLOPs, bytes.
    std::vector<int64_t> rows;
    for (const auto& row : profiler::aggregate(events, by_shape)) {
      rows.push_back(std::find(names.begin(), names.end(), row.name) - names.begin());
      for (const int64_t v : {row.count, row.self_ns, row.total_ns, row.flops, row.self_bytes}) {
        rows.push_back(v);
      }
    }
    c.value(std::string("aggregate") + (by_shape ? " by input shape" : "") +
                ": per row name, count, self_ns, total_ns, flops, self_bytes",
            rows, files);
  }
  // The Chrome trace: per event its name, timestamps, thread and arguments' numbers.
  std::vector<double> trace;
  const auto json = nlohmann::json::parse(profiler::chrome_trace_json(events));
  const auto& list = json.is_array() ? json : json.at("traceEvents");
  for (const auto& e : list) {
    const auto name = e.contains("name") ? e.at("name").get<std::string>() : "";
    trace.push_back(
        static_cast<double>(std::find(names.begin(), names.end(), name) - names.begin()));
    const auto number = [](const nlohmann::json& object, const char* key) {
      return object.is_object() && object.contains(key) && object.at(key).is_number()
                 ? object.at(key).get<double>()
                 : -1.0;
    };
    for (const char* key : {"ts", "dur", "tid"}) trace.push_back(number(e, key));
    const auto args = e.contains("args") ? e.at("args") : nlohmann::json::object();
    for (const char* key : {"flops", "bytes"}) trace.push_back(number(args, key));
  }
  c.value("chrome trace: per event name, ts, dur, tid, args.flops, args.bytes (-1: none)", trace,
          files);
}

// ── 17 memoization ────────────────────────────────────────────────────────────────────────────

// A prompt of 3 tokens, then one token at a time through the KV cache: the logits of every step
// (the uncached forward of the whole sequence is the reference's logits, position by position).
void kv_cache_program(Context& c) {
  const std::string files = "tinytorch/src/nn/kv_cache.cpp";
  nn::GPTConfig config;
  config.vocab_size = 11;
  config.block_size = 8;
  config.n_layer = 2;
  config.n_head = 2;
  config.n_embd = 8;
  nn::GPT model(config);
  c.set_parameters(*model.ptr());
  const Tensor idx = c.indices("idx", {2, 7}, 11);
  const NoGradGuard no_grad;
  c.value("logits without a cache", model->forward(idx), "");
  nn::KVCache cache = model->make_cache(2);
  c.value("logits of the prompt (3 tokens) through the cache",
          model->forward(idx.narrow(1, 0, 3), &cache), files);
  for (int64_t t = 3; t < 7; ++t) {
    c.value("logits of position " + std::to_string(t) + " through the cache",
            model->forward(idx.narrow(1, t, 1), &cache), files);
  }
  c.value("cache length, bytes_per_token, nbytes",
          std::vector<int64_t>{cache.length(), cache.bytes_per_token(), cache.nbytes()}, files);
  c.value("cached keys of layer 1", cache.keys(1).narrow(2, 0, cache.length()), files);
  c.value("cached values of layer 0", cache.values(0).narrow(2, 0, cache.length()), files);
}

// ── 19 benchmarking ───────────────────────────────────────────────────────────────────────────

// Fixed timings (seconds), with two slow outliers.
const std::vector<double> kTimesA = {1.02e-3, 0.98e-3, 1.00e-3, 1.05e-3, 0.97e-3, 1.01e-3,
                                     2.40e-3, 0.99e-3, 1.03e-3, 1.00e-3, 0.96e-3, 3.10e-3};
const std::vector<double> kTimesB = {1.31e-3, 1.28e-3, 1.35e-3, 1.30e-3, 1.27e-3,
                                     1.33e-3, 1.29e-3, 1.36e-3, 1.32e-3};

void statistics_program(Context& c) {
  const std::string files = "tinytorch/src/benchmark/stats.cpp";
  benchmark::BootstrapOptions options;
  options.resamples = 300;
  const auto m = benchmark::summarize("a", kTimesA, 4, options);
  c.value("summarize: mean, median, min, max, iqr, median CI low, high, p90",
          std::vector<double>{m.mean, m.median, m.min, m.max, m.iqr, m.median_ci.low,
                              m.median_ci.high, m.percentile(90)},
          files);
  const auto outliers = benchmark::tukey_outliers(kTimesA, 1.5);
  c.value("tukey_outliers: fences low, high",
          std::vector<double>{outliers.fences.low, outliers.fences.high}, files);
  c.value("tukey_outliers: indices", as_ids(outliers.indices), files);
  const auto cmp = benchmark::compare(kTimesA, kTimesB, options);
  c.value("compare: median a, b, speedup, its CI low, high, CI a low, high, CI b low, high",
          std::vector<double>{cmp.median_a, cmp.median_b, cmp.speedup, cmp.speedup_ci.low,
                              cmp.speedup_ci.high, cmp.ci_a.low, cmp.ci_a.high, cmp.ci_b.low,
                              cmp.ci_b.high},
          files);
  // The verdicts (Verdict's order: A faster, B faster, no difference, too few samples).
  const benchmark::Interval low{1.0, 2.0};
  const benchmark::Interval high{3.0, 4.0};
  const benchmark::Interval overlapping{1.5, 3.5};
  c.value(
      "decide: verdicts of a below b, a above b, overlapping, speedup CI across 1, "
      "compare(a, b)",
      std::vector<int64_t>{static_cast<int64_t>(benchmark::decide(low, high, {1.5, 2.5})),
                           static_cast<int64_t>(benchmark::decide(high, low, {0.4, 0.6})),
                           static_cast<int64_t>(benchmark::decide(low, overlapping, {0.9, 1.8})),
                           static_cast<int64_t>(benchmark::decide(low, high, {0.8, 1.4})),
                           static_cast<int64_t>(cmp.verdict)},
      files);
}

void block_size_program(Context& c) {
  // A clock where one call takes 3 µs plus 20 µs of overhead per block.
  std::vector<int64_t> tried;
  const auto time_block = [&](int64_t n) {
    tried.push_back(n);
    return 20e-6 + 3e-6 * static_cast<double>(n);
  };
  const std::string files = "tinytorch/src/benchmark/timer.cpp";
  c.value("choose_block_size(min 1 ms)",
          std::vector<int64_t>{benchmark::choose_block_size(time_block, 1e-3)}, files);
  c.value("the block sizes it timed", tried, files);
}

// ── 20 capstone ───────────────────────────────────────────────────────────────────────────────

void export_program(Context& c) {
  const std::string files = "tinytorch/src/deploy/model_file.cpp";
  nn::Sequential model(nn::Linear(6, 5), nn::ReLU(), nn::Linear(5, 3));
  c.set_parameters(*model.ptr());
  const ScratchDir dir("export");
  deploy::ModelSignature signature;
  signature.name = "diagnose-mlp";
  signature.input_shape = {6};
  signature.labels = {"a", "b", "c"};
  deploy::export_model(*model.ptr(), signature, dir.file("model.ttm"));
  const auto loaded = deploy::InferenceModel::load(dir.file("model.ttm"));
  for (const auto& p : loaded.module().named_parameters()) {
    c.value("loaded " + p.key(), p.value(), files);
  }
  const Tensor x = c.input("x", {4, 6}, -1.0, 1.0, /*requires_grad=*/false);
  c.value("forward of the loaded model", loaded.forward(x), files);
}

void batcher_program(Context& c) {
  const std::string files = "tinytorch/src/deploy/batcher.cpp";
  const std::vector<Tensor> queued = {c.input("request 0", {2, 3}, -1.0, 1.0, false),
                                      c.input("request 1", {1, 4}, -1.0, 1.0, false),
                                      c.input("request 2", {3, 3}, -1.0, 1.0, false),
                                      c.input("request 3", {2, 3}, -1.0, 1.0, false),
                                      c.input("request 4", {1, 3}, -1.0, 1.0, false)};
  c.value("pick_batch(max 6 rows)", as_ids(deploy::pick_batch(queued, 6)), files);
  c.value("pick_batch(max 3 rows)", as_ids(deploy::pick_batch(queued, 3)), files);
  const Tensor weight = c.constant({3, 2});
  const std::vector<Tensor> inputs = {queued[0], queued[2].t().contiguous().t(), queued[4]};
  const auto outputs =
      deploy::forward_batch(inputs, [&](const Tensor& batch) { return matmul(batch, weight); });
  for (size_t i = 0; i < outputs.size(); ++i) {
    c.value("forward_batch: output of request " + std::to_string(i), outputs[i], files);
  }
}

void monitor_program(Context& c) {
  const std::string files = "tinytorch/src/deploy/monitor.cpp";
  deploy::Histogram histogram("latency", "seconds", {0.001, 0.005, 0.01, 0.05});
  for (const double v : kTimesA) histogram.observe(v * 4.0);
  for (const double v : kTimesB) histogram.observe(v * 9.0);
  const auto snapshot = histogram.snapshot();
  c.value("histogram counts", snapshot.counts, files);
  c.value("histogram quantiles 0.5, 0.9, 0.99",
          std::vector<double>{histogram.quantile(0.5), histogram.quantile(0.9),
                              histogram.quantile(0.99)},
          files);
  const Tensor inputs = c.input("inputs", {40, 3}, -2.0, 2.0, /*requires_grad=*/false);
  const auto reference = deploy::fit_drift(inputs, 4);
  c.value("fit_drift edges", reference.edges, files);
  c.value("fit_drift expected fractions", reference.expected, files);
  c.value("psi",
          deploy::psi(std::vector<double>{0.1, 0.4, 0.0, 0.5},
                      std::vector<double>{0.25, 0.25, 0.25, 0.25}),
          files);
  c.value("escape_label_value(a \"quoted\\\\ line\\n) (bytes)",
          bytes_of(deploy::escape_label_value("a \"quoted\\ line\n")), files);
}

// ── 21 distributed ────────────────────────────────────────────────────────────────────────────

void sampler_program(Context& c) {
  const std::string files = "tinytorch/src/distributed/sampler.cpp";
  for (const bool shuffle : {false, true}) {
    for (int rank = 0; rank < 3; ++rank) {
      distributed::DistributedSampler sampler(10, 3, rank, shuffle, 7);
      for (const int64_t epoch : {0, 1}) {
        sampler.set_epoch(epoch);
        // (One stream, not a chain of std::string +: GCC 12 inlines that chain into a memcpy
        // it then warns about, -Warray-bounds, a false positive.)
        std::ostringstream label;
        label << (shuffle ? "shuffled" : "in order") << ", 10 samples, rank " << rank
              << " of 3, epoch " << epoch;
        c.value(label.str(), sampler.indices(), files);
      }
    }
  }
}

void all_reduce_program(Context& c) {
  const std::string files = "tinytorch/src/distributed/ring_all_reduce.cpp";
  constexpr int kRanks = 3;
  std::vector<Tensor> data;
  for (int r = 0; r < kRanks; ++r) {
    data.push_back(c.input("rank " + std::to_string(r) + "'s tensor", {2, 4}, -1.0, 1.0, false));
  }
  for (const auto op : {distributed::ReduceOp::kSum, distributed::ReduceOp::kAvg}) {
    std::vector<Tensor> result(kRanks);
    ThreadRanks(kRanks).run([&](distributed::ProcessGroup& pg) {
      Tensor t = data[static_cast<size_t>(pg.rank())].clone();
      distributed::ring_all_reduce(pg, t, op);
      result[static_cast<size_t>(pg.rank())] = t;
    });
    for (int r = 0; r < kRanks; ++r) {
      c.value(std::string(op == distributed::ReduceOp::kSum ? "sum" : "mean") + " on rank " +
                  std::to_string(r),
              result[static_cast<size_t>(r)], files);
    }
  }
}

void ddp_program(Context& c) {
  const std::string files = "tinytorch/src/distributed/ddp.cpp";
  constexpr int kRanks = 2;
  const std::vector<Tensor> sizes = {zeros({3, 4}), zeros({5}), zeros({2, 2}), zeros({7}),
                                     zeros({1})};
  std::vector<int64_t> buckets;
  for (const auto& bucket : distributed::compute_bucket_assignment_by_size(sizes, 40)) {
    buckets.insert(buckets.end(), bucket.begin(), bucket.end());
    buckets.push_back(-1);
  }
  c.value("buckets of 40 bytes (parameter indices, -1 ends a bucket)", buckets, files);

  std::vector<std::vector<Tensor>> grads;
  for (int r = 0; r < kRanks; ++r) {
    grads.push_back({c.constant({4, 3}), c.constant({4}), c.constant({2, 4}), c.constant({2})});
  }
  // The replicas are built here: a model's initialization draws from the global generator.
  std::vector<nn::Sequential> models;
  for (int r = 0; r < kRanks; ++r) models.emplace_back(nn::Linear(3, 4), nn::Linear(4, 2));
  std::vector<std::vector<Tensor>> synced(kRanks);
  ThreadRanks(kRanks).run([&](distributed::ProcessGroup& pg) {
    const auto r = static_cast<size_t>(pg.rank());
    distributed::DistributedDataParallel ddp(models[r], pg, 48);
    for (size_t i = 0; i < ddp.parameters().size(); ++i) {
      Tensor p = ddp.parameters()[i];
      if (i != 2) p.mutable_grad() = grads[r][i].clone();  // the third is unused on every rank
    }
    ddp.sync_gradients();
    for (const Tensor& p : ddp.parameters()) synced[r].push_back(p.grad());
  });
  for (int r = 0; r < kRanks; ++r) {
    for (size_t i = 0; i < synced[static_cast<size_t>(r)].size(); ++i) {
      c.value("gradient " + std::to_string(i) + " on rank " + std::to_string(r) + " after sync",
              synced[static_cast<size_t>(r)][i], files);
    }
  }
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
      reference("07", "train_step, evaluate and a checkpoint", training_loop_program),
      reference("07", "metrics and early stopping", metrics_program),
      reference("08", "DataLoader, samplers and transforms", dataloader_program),
      reference("08", "IDX and CIFAR-10 readers", file_readers_program),
      reference("09", "conv2d", conv_program),
      reference("09", "pooling", pooling_program),
      reference("09", "batch_norm", batch_norm_program),
      reference("10", "CharTokenizer", char_tokenizer_program),
      reference("10", "BPE tokenizer", bpe_program),
      reference("10", "random_windows", text_windows_program),
      reference("11", "embedding", embedding_program),
      reference("12", "attention", attention_program),
      reference("13", "layer_norm and rms_norm", norm_program),
      reference("13", "GPT", gpt_program),
      reference("14", "FLOP counts", flops_program),
      reference("14", "profiler tables and Chrome trace", profiler_tables_program),
      reference("15", "fake quantization", fake_quantize_program),
      reference("16", "kl_div", kl_div_program),
      reference("17", "KV-cached decoding", kv_cache_program),
      fast("matmul", matmul_program),
      fast("linear", linear_program),
      fast("gelu", gelu_program),
      fast("softmax", softmax_program),
      fast("conv2d", conv_program),
      fast("pooling", pooling_program),
      fast("batch_norm", batch_norm_program),
      fast("attention", attention_program),
      fast("layer_norm and rms_norm", norm_program),
      reference("19", "benchmark statistics", statistics_program),
      reference("19", "timer block size", block_size_program),
      reference("20", "export and load", export_program),
      reference("20", "dynamic batcher", batcher_program),
      reference("20", "monitoring", monitor_program),
      reference("21", "DistributedSampler", sampler_program),
      reference("21", "ring all-reduce", all_reduce_program),
      reference("21", "DistributedDataParallel", ddp_program),
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
