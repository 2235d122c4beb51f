// Module 16 lab — Use + Analyze: compressing the 1986 MLP, measured on YOUR machine.
//
//   ./tito lab 16                 the full run (40–70 s on the 2-core VM)
//   ./tito lab 16 --quick         10 000 training images, one epoch: a smoke test
//   ./tito lab 16 --json out.json also write every measured figure to out.json
//   ./tito lab 16 --only AC       only some experiments (0, A-D)
//
// Every accuracy is on the 10 000 Fashion-MNIST TEST images; every latency the median of timed
// repeats (round-robin, after a warm-up) of one forward pass of a batch of 256 images.
//
//   0  the model       trains the 1986 MLP (784-256-128-10, Adam) for two epochs: the model
//                      A-C compress (the teacher of C)
//   A  sparsity        unstructured: global magnitude pruning at 0 … 98% sparsity —
//                      accuracy, and the latency of the SAME dense GEMMs (zeros cost what any
//                      number costs); structured: the same fractions of hidden NEURONS removed
//                      (L2 norm ranking) — smaller matrices: parameters, bytes, MACs and
//                      latency fall together
//   B  low rank        fc1 (256×784, 85% of the weights) replaced by its rank-r SVD
//                      factorisation, r = 8 … 256
//   C  distillation    a 784-32-10 student trained with and without the teacher's softened
//                      outputs (T = 4, α = 0.9), same seed, same batches
//   D  conv channels   LeNet-5 (1→6→16 channels, 28×28) with half of each conv's filters
//                      removed (prune::remove_channels): FLOPs and forward time of the features
//                      and of the whole network, by benchmark::Timer (module 19)
//
// A, B and C train the model of 0 first when it has not run (--only B); D needs no data.
//
// Writes accuracy_vs_sparsity.svg and accuracy_vs_rank.svg into runs/lab16/ (--out DIR).
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "lab_support/lab_support.h"
#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/benchmark/stats.h"
#include "tinytorch/benchmark/timer.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/data/dataloader.h"
#include "tinytorch/data/idx.h"
#include "tinytorch/nn/functional/distillation.h"
#include "tinytorch/nn/utils/low_rank.h"
#include "tinytorch/nn/utils/prune.h"
#include "tinytorch/optim/optim.h"
#include "tinytorch/tinytorch.h"
#include "tinytorch/train/plot.h"

namespace {

using namespace tinytorch;
using namespace tinytorch::lab;
namespace prune = nn::utils::prune;
namespace F = nn::functional;

constexpr int64_t kLatencyBatch = 256;

struct Data {
  data::TensorDataset train{zeros({1, 784}), zeros({1}, kInt64)};
  Tensor test_x, test_y;  // [10000, 784] standardised, [10000]
};

// Fashion-MNIST as [N, 784] rows standardised with the training images' mean and std.
Data load_data(bool quick) {
  const data::TensorDataset tr = data::load_fashion_mnist(data::kFashionMnistDir, true);
  const data::TensorDataset te = data::load_fashion_mnist(data::kFashionMnistDir, false);
  const int64_t n = quick ? 10000 : tr.size();
  Tensor x = tr.data().narrow(0, 0, n).reshape({n, 784});
  const double mean = x.mean().item<double>();
  const double stdev = x.sub(mean).pow(2).mean().sqrt().item<double>();
  Data d;
  d.train = data::TensorDataset(x.sub(mean).div(stdev).contiguous(),
                                tr.targets().narrow(0, 0, n).contiguous());
  d.test_x = te.data().reshape({te.size(), 784}).sub(mean).div(stdev).contiguous();
  d.test_y = te.targets();
  return d;
}

nn::Sequential mlp(int64_t h1, int64_t h2) {
  return nn::Sequential(nn::Linear(784, h1), nn::ReLU(), nn::Linear(h1, h2), nn::ReLU(),
                        nn::Linear(h2, 10));
}

// Trains `model` on the data for `epochs` with Adam; `loss_of(logits, x, y)` is the loss.
template <typename Loss>
void fit(nn::Sequential& model, const Data& d, int epochs, uint64_t seed, const Loss& loss_of) {
  optim::Adam opt(model->parameters(), optim::AdamOptions(1e-3));
  data::DataLoader loader(d.train, {.batch_size = 128, .shuffle = true, .seed = seed});
  model->train();
  for (int e = 0; e < epochs; ++e) {
    for (auto& batch : loader) {
      opt.zero_grad();
      loss_of(model->forward(batch.data), batch.data, batch.target).backward();
      opt.step();
    }
  }
  model->eval();
}

struct Eval {
  double accuracy = 0, loss = 0;
};
template <typename Net>
Eval evaluate(Net& net, const Data& d) {
  const NoGradGuard no_grad;
  const Tensor logits = net->forward(d.test_x);
  return {logits.argmax(1).eq(d.test_y).to(kFloat64).mean().item<double>(),
          cross_entropy(logits, d.test_y).item<double>()};
}

int64_t parameter_count(const nn::Module& m) {
  int64_t n = 0;
  for (const Tensor& p : m.parameters()) n += p.numel();
  return n;
}

// Multiply-adds of one image through the Linears of a Sequential: Σ in·out.
int64_t macs(const nn::Sequential& model) {
  int64_t n = 0;
  for (const auto& m : model->modules(false)) {
    if (const auto* fc = m->as<nn::Linear>()) {
      n += fc->options.in_features() * fc->options.out_features();
    }
  }
  return n;
}

// While it lives, ops run on one thread and measure() reads that thread's CPU time: on a shared
// machine (the course VM has 2 cores for several users) other programs then cannot inflate one
// variant's time and not another's. Compression changes the work, not the parallelism, so the
// one-thread ratio is the one to compare.
class OneThreadCpuClock {
 public:
  OneThreadCpuClock() {
    set_num_threads(1);
    use_thread_cpu_clock(true);
  }
  ~OneThreadCpuClock() {
    use_thread_cpu_clock(false);
    set_num_threads(threads_);
  }
  OneThreadCpuClock(const OneThreadCpuClock&) = delete;
  OneThreadCpuClock& operator=(const OneThreadCpuClock&) = delete;

 private:
  int threads_ = get_num_threads();
};

// A timed body: one forward of a batch of kLatencyBatch images through `net`.
std::function<void()> forward_body(const nn::Sequential& net) {
  return [net, x = randn({kLatencyBatch, 784})] {
    const NoGradGuard no_grad;
    consume(net->forward(x).sum().item<double>());
  };
}

// A fresh copy of the trained model (Modules are not copyable: build, then load the state).
nn::Sequential copy_of(const nn::Sequential& trained, int64_t h1 = 256, int64_t h2 = 128) {
  nn::Sequential m = mlp(h1, h2);
  m->load_state_dict(trained->state_dict());
  m->eval();
  return m;
}

nn::Linear linear_at(const nn::Sequential& m, size_t i) {
  return nn::Linear(std::dynamic_pointer_cast<nn::LinearImpl>(m[i]));
}

// The trained model with `fraction` of each hidden layer's neurons removed (L2 ranking).
nn::Sequential remove_hidden_neurons(const nn::Sequential& trained, double fraction) {
  nn::Sequential m = copy_of(trained);
  auto [a, b] = prune::remove_neurons(linear_at(m, 0), linear_at(m, 2),
                                      prune::neurons_to_keep(linear_at(m, 0), fraction));
  auto [b2, c] = prune::remove_neurons(b, linear_at(m, 4), prune::neurons_to_keep(b, fraction));
  nn::Sequential small(a, nn::ReLU(), b2, nn::ReLU(), c);
  small->eval();
  return small;
}

// LeNet-5 on 28×28 images (padding 2): conv 1→C1 5×5, ReLU, MaxPool 2, conv C1→C2 5×5, ReLU,
// MaxPool 2, Flatten (C2·5·5), then 120-84-10. `features` is the part up to the Flatten.
struct LeNet {
  nn::Conv2d conv1, conv2;
  nn::Linear fc1;
  nn::Sequential head;  // ReLU, Linear(120, 84), ReLU, Linear(84, 10): shared, never pruned

  nn::Sequential features() const {
    return nn::Sequential(conv1, nn::ReLU(), nn::MaxPool2d(2), conv2, nn::ReLU(), nn::MaxPool2d(2));
  }
  nn::Sequential model() const { return nn::Sequential(features(), nn::Flatten(), fc1, head); }
  // Multiply-adds of one image: O·C·kH·kW·H'·W' per conv (28×28 and 10×10 outputs), in·out per
  // Linear.
  int64_t feature_macs() const {
    return conv1->weight.numel() * 28 * 28 + conv2->weight.numel() * 10 * 10;
  }
  int64_t macs() const { return feature_macs() + fc1->weight.numel() + 120 * 84 + 84 * 10; }
};

// A timed body: one forward of `x` through `net`, no graph.
std::function<void()> forward_of(const nn::Sequential& net, const Tensor& x) {
  return [net, x] {
    const NoGradGuard no_grad;
    consume(net->forward(x).sum().item<double>());
  };
}

void write_svg(const train::History& h, const std::string& path, const std::string& title,
               const std::string& x, const std::string& x_label) {
  train::CurveOptions o;
  o.title = title;
  o.x_column = x;
  o.x_label = x_label;
  o.x_whole_numbers = x == "rank";  // the fractions removed need ticks like 0.2
  train::write_training_curve_svg(h, path, o);
  std::cout << "  wrote " << path << " (x axis: " << x << ")\n";
}

struct Lab {
  Config cfg;
  std::string out_dir;
  Data d;
  nn::Sequential teacher{nullptr};
  train::History sparsity_curve;  // one row per fraction: unstructured and structured
  int epochs = 2;

  void ensure_teacher() {
    if (teacher.is_empty()) model();
  }

  json model() {
    heading("0", "The model", "the 1986 MLP trained with Adam (lr 1e-3, batch 128)");
    const Stopwatch sw;
    manual_seed(1986);
    teacher = mlp(256, 128);
    fit(teacher, d, epochs, 1986, [](const Tensor& logits, const Tensor&, const Tensor& y) {
      return cross_entropy(logits, y);
    });
    const Eval e = evaluate(teacher, d);
    std::cout << "  784-256-128-10 MLP, " << parameter_count(*teacher) << " parameters, trained "
              << epochs << " epoch(s) on " << d.train.size() << " images in "
              << fixed(sw.wall_seconds(), 1) << " s: test accuracy " << fixed(100 * e.accuracy, 2)
              << "%\n";
    return {{"parameters", parameter_count(*teacher)},
            {"test_accuracy", e.accuracy},
            {"train_seconds", sw.wall_seconds()}};
  }

  json unstructured_and_structured() {
    ensure_teacher();
    heading("A", "Sparsity: unstructured vs structured",
            "global magnitude pruning of the three weights vs removing that fraction of the "
            "hidden neurons; no fine-tuning; latency of a forward of 256 images");
    const std::vector<double> fractions = {0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98};
    Table t({"removed", "unstr. acc", "unstr. time", "struct. acc", "struct. params",
             "struct. bytes", "struct. MACs", "struct. time"});
    json rows = json::array();
    const nn::Sequential dense = copy_of(teacher);
    double dense_seconds = 0;  // the last round's
    for (const double f : fractions) {
      nn::Sequential sparse = copy_of(teacher);
      prune::global_unstructured(
          {{sparse[0], "weight"}, {sparse[2], "weight"}, {sparse[4], "weight"}}, f);
      const Eval eu = evaluate(sparse, d);
      nn::Sequential small = remove_hidden_neurons(teacher, f);
      const Eval es = evaluate(small, d);
      // Round-robin with the dense model: the times are reported relative to it, which a
      // busy machine slows alike.
      const OneThreadCpuClock one_thread;
      const auto timings = measure_round_robin(
          cfg.warmup, cfg.reps, {forward_body(dense), forward_body(sparse), forward_body(small)});
      const double dense_s = timings[0].median;
      dense_seconds = dense_s;
      const int64_t params = parameter_count(*small);
      t.add({fixed(100 * f, 0) + "%", fixed(100 * eu.accuracy, 2) + "%",
             ratio(timings[1].median / dense_s), fixed(100 * es.accuracy, 2) + "%",
             std::to_string(params), human_bytes(4.0 * static_cast<double>(params)),
             std::to_string(macs(small)), ratio(timings[2].median / dense_s)});
      sparsity_curve.append({{"sparsity", f},
                             {"unstructured_loss", eu.loss},
                             {"structured_loss", es.loss},
                             {"unstructured_acc", eu.accuracy},
                             {"structured_acc", es.accuracy}});
      rows.push_back({{"fraction", f},
                      {"unstructured_accuracy", eu.accuracy},
                      {"structured_accuracy", es.accuracy},
                      {"structured_parameters", params},
                      {"structured_macs", macs(small)},
                      {"dense_forward", to_json(timings[0])},
                      {"unstructured_forward", to_json(timings[1])},
                      {"structured_forward", to_json(timings[2])}});
    }
    t.print();
    std::cout << "  (times: median forward of " << kLatencyBatch
              << " images relative to the dense model's " << human_time(dense_seconds)
              << ", round-robin, one thread, thread CPU time)\n";
    write_svg(sparsity_curve, out_dir + "/accuracy_vs_sparsity.svg",
              "1986 MLP: test accuracy vs fraction removed (no fine-tuning)", "sparsity",
              "fraction of the weights (unstructured) / hidden neurons (structured) removed");
    meaning(
        "Unstructured pruning keeps the accuracy far longer — it removes the individually "
        "least useful weights — but the pruned model runs the same dense GEMMs on the same "
        "shapes, so its latency does not move. Removing whole neurons costs accuracy sooner, "
        "but every removed neuron is a row and a column fewer: parameters, MACs and latency "
        "fall together.");
    return {{"rows", rows}};
  }

  json low_rank() {
    ensure_teacher();
    heading("B", "Low rank", "fc1 replaced by its truncated SVD, the rest of the model kept");
    const std::vector<int64_t> ranks = {8, 16, 32, 64, 128, 256};
    Table t({"rank of fc1", "fc1 params", "fc1 bytes", "fc1 MACs", "test acc", "time"});
    train::History curve;
    json rows = json::array();
    const Stopwatch sw;
    const linalg::SVDResult svd = linalg::svd(linear_at(teacher, 0)->weight.detach());
    const double svd_seconds = sw.wall_seconds();
    std::vector<nn::Sequential> nets = {copy_of(teacher)};  // [0]: the dense model
    std::vector<Eval> evals = {evaluate(nets[0], d)};
    std::vector<int64_t> fc1_params = {784 * 256 + 256};
    for (const int64_t r : ranks) {
      const nn::Sequential m = copy_of(teacher);
      nn::Sequential fc1 = nn::utils::low_rank_linear(linear_at(m, 0), svd, r);
      nn::Sequential net(fc1, nn::ReLU(), linear_at(m, 2), nn::ReLU(), linear_at(m, 4));
      net->eval();
      nets.push_back(net);
      evals.push_back(evaluate(net, d));
      fc1_params.push_back(parameter_count(*fc1));
    }
    std::vector<std::function<void()>> bodies;
    for (const auto& net : nets) bodies.push_back(forward_body(net));
    std::vector<Timing> timings;
    {
      const OneThreadCpuClock one_thread;
      timings = measure_round_robin(cfg.warmup, cfg.reps, bodies);
    }
    for (size_t i = 0; i < nets.size(); ++i) {
      const int64_t r = i == 0 ? 256 : ranks[i - 1];
      const int64_t fc1_macs = i == 0 ? 784 * 256 : r * (784 + 256);
      t.add({i == 0 ? std::string("dense 256×784") : std::to_string(r),
             std::to_string(fc1_params[i]), human_bytes(4.0 * static_cast<double>(fc1_params[i])),
             std::to_string(fc1_macs), fixed(100 * evals[i].accuracy, 2) + "%",
             ratio(timings[i].median / timings[0].median)});
      if (i > 0) {
        curve.append({{"rank", static_cast<double>(r)},
                      {"low_rank_loss", evals[i].loss},
                      {"low_rank_acc", evals[i].accuracy}});
      }
      rows.push_back({{"rank", i == 0 ? json(nullptr) : json(r)},
                      {"fc1_parameters", fc1_params[i]},
                      {"fc1_macs", fc1_macs},
                      {"test_accuracy", evals[i].accuracy},
                      {"forward", to_json(timings[i])}});
    }
    t.print();
    std::cout << "  (time: median forward of " << kLatencyBatch
              << " images relative to the dense model's " << human_time(timings[0].median)
              << ", round-robin, one thread, thread CPU time; the SVD of the "
                 "256×784 weight by one-sided Jacobi took "
              << fixed(svd_seconds, 2) << " s)\n";
    write_svg(curve, out_dir + "/accuracy_vs_rank.svg", "1986 MLP: test accuracy vs rank of fc1",
              "rank", "rank r of fc1 (784 → r → 256)");
    meaning(
        "A rank-r fc1 stores r·(784 + 256) numbers instead of 784·256: below r ≈ 193 it is "
        "smaller and faster. Trained weights are far from random — their singular values "
        "fall quickly — so a rank well below 256 keeps most of the accuracy.");
    return {{"rows", rows}, {"svd_seconds", svd_seconds}};
  }

  json distillation() {
    ensure_teacher();
    heading("C", "Distillation",
            "a 784-32-10 student trained with and without the teacher: same initial weights, "
            "same batches, same epochs");
    const auto student = [] {
      manual_seed(7);
      return nn::Sequential(nn::Linear(784, 32), nn::ReLU(), nn::Linear(32, 10));
    };
    nn::Sequential alone = student();
    fit(alone, d, epochs, 16, [](const Tensor& logits, const Tensor&, const Tensor& y) {
      return cross_entropy(logits, y);
    });
    Table t({"model", "parameters", "test acc"});
    t.add({"teacher 784-256-128-10", std::to_string(parameter_count(*teacher)),
           fixed(100 * evaluate(teacher, d).accuracy, 2) + "%"});
    const Eval a = evaluate(alone, d);
    t.add({"student, labels only", std::to_string(parameter_count(*alone)),
           fixed(100 * a.accuracy, 2) + "%"});
    json runs = json::array();
    for (const auto& [T, alpha] : std::vector<std::pair<double, double>>{{4.0, 0.9}, {2.0, 0.5}}) {
      nn::Sequential distilled = student();
      fit(distilled, d, epochs, 16,
          [&, T = T, alpha = alpha](const Tensor& logits, const Tensor& x, const Tensor& y) {
            Tensor teacher_logits;
            {
              const NoGradGuard no_grad;
              teacher_logits = teacher->forward(x);
            }
            return F::distillation_loss(logits, teacher_logits, y, T, alpha);
          });
      const Eval b = evaluate(distilled, d);
      t.add({"student, distilled T=" + fixed(T, 0) + ", α=" + fixed(alpha, 1),
             std::to_string(parameter_count(*distilled)), fixed(100 * b.accuracy, 2) + "%"});
      runs.push_back({{"T", T}, {"alpha", alpha}, {"test_accuracy", b.accuracy}});
    }
    t.print();
    meaning(
        "The only difference between the students is the loss, so the gap is the whole effect "
        "of the teacher's soft targets on this run — whatever its sign. One seed and two epochs "
        "is a small experiment: differences of a few tenths of a point are within the noise of "
        "the seed.");
    return {{"student_alone_accuracy", a.accuracy}, {"distilled", runs}};
  }

  json conv_channels() {
    heading("D", "Conv channels",
            "LeNet-5 (1→6→16 channels, 28×28) with half of each conv's filters removed (L2 "
            "ranking, untrained weights); forward of 64 images, one thread, benchmark::Timer");
    manual_seed(1998);
    const LeNet dense{
        nn::Conv2d(nn::Conv2dOptions(1, 6, 5).padding(2)), nn::Conv2d(6, 16, 5),
        nn::Linear(400, 120),
        nn::Sequential(nn::ReLU(), nn::Linear(120, 84), nn::ReLU(), nn::Linear(84, 10))};
    auto [conv1, conv2] =
        prune::remove_channels(dense.conv1, dense.conv2, prune::channels_to_keep(dense.conv1, 0.5));
    auto [conv2_small, fc1] =
        prune::remove_channels(conv2, dense.fc1, prune::channels_to_keep(conv2, 0.5), 5 * 5);
    const LeNet small{conv1, conv2_small, fc1, dense.head};
    const Tensor x = randn({64, 1, 28, 28});
    const nn::Sequential nets[] = {dense.features(), small.features(), dense.model(),
                                   small.model()};
    for (const auto& n : nets) n->eval();
    // Alternate the variants in six short rounds (a machine busy for a while then slows them
    // alike) and pool each variant's blocks: one Measurement and a bootstrap CI per variant.
    std::vector<std::vector<double>> samples(4);
    std::vector<int64_t> per_block(4, 1);
    benchmark::MachineInfo machine;  // as the first measurement found it (one thread)
    {
      const int threads = get_num_threads();
      set_num_threads(1);
      for (int round = 0; round < 6; ++round) {
        for (size_t i = 0; i < 4; ++i) {
          benchmark::Timer timer(forward_of(nets[i], x));
          const benchmark::Measurement m = timer.blocked_autorange(cfg.quick ? 0.05 : 0.2);
          samples[i].insert(samples[i].end(), m.samples.begin(), m.samples.end());
          per_block[i] = m.number_per_run;
          if (round == 0 && i == 0) machine = m.machine;
        }
      }
      set_num_threads(threads);
    }
    Table t({"", "conv channels", "parameters", "MACs / image", "forward (64 images)", "95% CI",
             "pruned vs dense"});
    json rows = json::array();
    const char* names[] = {"features, dense", "features, 50% removed", "LeNet-5, dense",
                           "LeNet-5, 50% removed"};
    for (size_t i = 0; i < 4; ++i) {
      const LeNet& net = i % 2 == 0 ? dense : small;
      const benchmark::Measurement m = benchmark::summarize(names[i], samples[i], per_block[i]);
      const int64_t macs = i < 2 ? net.feature_macs() : net.macs();
      std::string speed;
      if (i % 2 == 1) {
        speed = benchmark::compare(samples[i], samples[i - 1]).describe("pruned", "dense");
      }
      t.add({names[i],
             std::to_string(net.conv1->options.out_channels()) + "→" +
                 std::to_string(net.conv2->options.out_channels()),
             std::to_string(parameter_count(*nets[i])), std::to_string(macs), human_time(m.median),
             "[" + human_time(m.median_ci.low) + ", " + human_time(m.median_ci.high) + "]", speed});
      rows.push_back({{"variant", names[i]},
                      {"parameters", parameter_count(*nets[i])},
                      {"macs_per_image", macs},
                      {"median_seconds", m.median},
                      {"ci_low", m.median_ci.low},
                      {"ci_high", m.median_ci.high},
                      {"blocks", m.samples.size()},
                      {"calls_per_block", m.number_per_run}});
    }
    t.print();
    std::cout << "  (" << machine.describe() << ")\n";
    meaning(
        "Removing half of conv1's filters halves conv1's MACs and removes half of conv2's input "
        "channels; removing half of conv2's filters halves it again: conv2 keeps a quarter of "
        "its MACs and fc1 half of its columns. Expect the time to fall less than the MACs: "
        "ReLU, pooling, the bias-and-copy-out passes and the copies of the inputs (onto the "
        "direct kernel's grid, or im2col on the reference tier) are work the MAC count leaves "
        "out, and they halve at most (the copy of conv1's one-channel input, and each op's call "
        "and output allocation, not at all). This table times whole models, so it does not say "
        "how much each costs.");
    return {{"rows", rows}};
  }
};

}  // namespace

int main(int argc, char** argv) {
  const CommandLine cli{.name = "lab16", .only_help = "e.g. --only AC (letters 0 A-D)"};
  Options opts;
  if (const auto rc = parse_command_line(argc, argv, cli, opts)) return *rc;
  const LabAllocator allocator(opts.no_cache);
  const Stopwatch stopwatch;
  print_title("TinyTorch module 16 lab — compressing the 1986 MLP",
              opts.quick ? " (--quick: 10 000 training images, one epoch)" : "");
  Lab lab{{opts.quick, opts.quick ? 5 : 15, 2},
          "runs/lab16",
          {},
          nn::Sequential{nullptr},
          {},
          opts.quick ? 1 : 2};
  std::filesystem::create_directories(lab.out_dir);
  lab.d = load_data(opts.quick);
  json doc = {{"lab", "16_compression"}, {"machine", machine_json()}};
  const int failed =
      run_experiments({{"0_model", [&] { return lab.model(); }},
                       {"a_sparsity", [&] { return lab.unstructured_and_structured(); }},
                       {"b_low_rank", [&] { return lab.low_rank(); }},
                       {"c_distillation", [&] { return lab.distillation(); }},
                       {"d_conv_channels", [&] { return lab.conv_channels(); }}},
                      opts, "16", doc);
  print_done(stopwatch.wall_seconds(), failed);
  std::cout << "\n";
  if (!opts.json_path.empty() && !write_json(cli.name, opts.json_path, doc)) return 1;
  return failed == 0 ? 0 : 1;
}
