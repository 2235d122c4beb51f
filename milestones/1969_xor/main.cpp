// Milestone 1969 — the XOR problem, with YOUR framework: tensors (01), activations (02),
// layers (03), losses (04) and autograd (05).
//
//   x1 x2 | XOR        x2                      No line puts both 1s on one side and both 0s
//    0  0 |  0         1 ┤ 1        0          on the other (Minsky & Papert, "Perceptrons",
//    0  1 |  1           │                     1969). This program SHOWS it, by measuring:
//    1  0 |  1         0 ┤ 0        1           1. Rosenblatt's rule never converges: its
//    1  1 |  0           └─┬────────┬─ x1          weights go round in a cycle;
//                          0        1           2. a linear model trained by gradient descent
//                                                  gets stuck at loss ln 2 ≈ 0.693;
//                                               3. of 100 000 random lines none gets all 4 right;
//   then a hidden layer trained by backpropagation (the 1986 recipe, written out by hand:
//   loss.backward(), then p ← p − lr·∂L/∂p with momentum) solves it: 100%.
//
//   build/release/bin/milestone_1969                  2-4-1 tanh MLP, 1000 epochs, seed 1969
//   build/release/bin/milestone_1969 --hidden 2 --activation sigmoid --json r.json
//
// Prints the single-layer accuracies, the MLP's loss curve, its predictions table, the hidden
// layer's view of the four points and ASCII pictures of both decision regions; writes them as
// decision_regions.svg into --out (default runs/1969/). See milestones/1969_xor/README.md.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <iomanip>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "common/cli.h"
#include "common/export.h"
#include "common/outputs.h"
#include "common/text_layout.h"
#include "tinytorch/kernels/registry.h"
#include "tinytorch/nn/nn.h"
#include "tinytorch/tinytorch.h"
#include "tinytorch/train/logging.h"

namespace tt = tinytorch;
using tinytorch::milestones::beside;
using tinytorch::milestones::fixed;
namespace nn = tinytorch::nn;
namespace F = tinytorch::nn::functional;
namespace fs = std::filesystem;

namespace {

struct Settings {
  int64_t epochs = 1000;  // full-batch gradient steps, for the linear model and the MLP alike
  uint64_t seed = 1969;
  int64_t hidden = 4;
  std::string activation = "tanh";
  double lr = 0.5;
  double momentum = 0.9;
  int64_t lines = 100000;  // random lines tried in the search
  std::string out_dir = "runs/1969";
  std::string json_path;
  bool quiet = false;
};

// The four XOR examples: inputs [4, 2] and targets [4, 1] (0 or 1).
tt::Tensor xor_inputs() {
  return tt::from_vector<float>({0, 0, 0, 1, 1, 0, 1, 1}, {4, 2});
}
tt::Tensor xor_targets() {
  return tt::from_vector<float>({0, 1, 1, 0}, {4, 1});
}

int64_t count_correct(const std::vector<float>& predicted, const std::vector<float>& target) {
  int64_t n = 0;
  for (size_t i = 0; i < target.size(); ++i) n += predicted[i] == target[i] ? 1 : 0;
  return n;
}

std::string percent(double fraction) {
  return fixed(100.0 * fraction, 0) + "%";
}

// ── 1. Rosenblatt's rule on XOR ──────────────────────────────────────────────────────────────

struct PerceptronRun {
  int64_t epochs_run = 0;
  bool converged = false;
  double final_accuracy = 0;
  double best_accuracy = 0;
  // The weights (w₁, w₂, b) at the end of epoch `to` equal those at the end of epoch `from`:
  // the rule is in a loop and more epochs cannot help (the perceptron cycling theorem).
  std::optional<std::pair<int64_t, int64_t>> cycle;
};

// The perceptron rule (milestone 1957), examples in the fixed order of the truth table, labels
// ±1, zero start, lr 1: every weight stays an integer, so a repeated state is detected exactly.
PerceptronRun perceptron_on_xor(int64_t max_epochs) {
  tt::NoGradGuard no_grad;
  nn::Linear neuron(2, 1);
  neuron->weight.zero_();
  neuron->bias.zero_();
  const tt::Tensor x = xor_inputs();
  const std::vector<float> y = {-1, 1, 1, -1};
  std::map<std::tuple<float, float, float>, int64_t> seen;  // weights → the epoch that ended there
  PerceptronRun run;
  for (int64_t epoch = 1; epoch <= max_epochs; ++epoch) {
    int64_t mistakes = 0;
    for (int64_t i = 0; i < 4; ++i) {
      const tt::Tensor xi = x[i].unsqueeze(0);
      const float y_hat = neuron->forward(xi).item<float>() >= 0 ? 1.0f : -1.0f;
      const double step = static_cast<double>(y[static_cast<size_t>(i)] - y_hat);
      if (step != 0.0) {
        neuron->weight.add_(xi, step);  // w ← w + (y − ŷ)·x
        neuron->bias.add_(step);        // b ← b + (y − ŷ)
        ++mistakes;
      }
    }
    const tt::Tensor scores = neuron->forward(x).squeeze(1);
    const std::vector<float> predicted =
        (scores.ge(0.0).to(tt::kFloat32) * 2.0 - 1.0).to_vector<float>();
    run.final_accuracy = static_cast<double>(count_correct(predicted, y)) / 4.0;
    run.best_accuracy = std::max(run.best_accuracy, run.final_accuracy);
    run.epochs_run = epoch;
    if (mistakes == 0) {
      run.converged = true;  // cannot happen for XOR, but we measure rather than assume
      break;
    }
    const std::vector<float> w = neuron->weight.to_vector<float>();
    const auto state = std::make_tuple(w[0], w[1], neuron->bias.item<float>());
    if (const auto it = seen.find(state); it != seen.end()) {
      run.cycle = std::make_pair(it->second, epoch);
      break;
    }
    seen.emplace(state, epoch);
  }
  return run;
}

// ── 2./4. models trained by backpropagation ──────────────────────────────────────────────────

// Full-batch gradient descent with momentum — the rule of Rumelhart, Hinton & Williams (1986),
// written out: v ← momentum·v − lr·∂L/∂p;  p ← p + v. Returns the loss after each epoch.
std::vector<double> train(const std::function<tt::Tensor(const tt::Tensor&)>& forward,
                          const std::vector<tt::Tensor>& params, int64_t epochs, double lr,
                          double momentum) {
  const tt::Tensor x = xor_inputs();
  const tt::Tensor y = xor_targets();
  std::vector<tt::Tensor> velocity;
  for (const auto& p : params) velocity.push_back(tt::zeros_like(p));
  std::vector<double> losses;
  for (int64_t epoch = 1; epoch <= epochs; ++epoch) {
    for (auto p : params) p.mutable_grad() = tt::Tensor();  // zero_grad (set to none)
    const tt::Tensor loss = F::binary_cross_entropy_with_logits(forward(x), y);
    loss.backward();  // autograd: ∂loss/∂p for every parameter
    {
      tt::NoGradGuard no_grad;  // the update itself is not part of any graph
      for (size_t i = 0; i < params.size(); ++i) {
        tt::Tensor p = params[i];
        velocity[i].mul_(momentum).sub_(p.grad(), lr);
        p.add_(velocity[i]);
      }
    }
    losses.push_back(loss.item<double>());
  }
  return losses;
}

// p(XOR = 1) for every row of x (the model's outputs are logits).
std::vector<float> probabilities(const std::function<tt::Tensor(const tt::Tensor&)>& forward,
                                 const tt::Tensor& x) {
  tt::NoGradGuard no_grad;
  return forward(x).sigmoid().squeeze(1).to_vector<float>();
}

std::vector<float> threshold(const std::vector<float>& p) {
  std::vector<float> out;
  for (float v : p) out.push_back(v > 0.5f ? 1.0f : 0.0f);
  return out;
}

// ── 3. the best of many random lines ─────────────────────────────────────────────────────────

// Draws `n` random lines w₁x₁ + w₂x₂ + b = 0 (standard normal coefficients) and returns the most
// XOR points any of them puts on the right side (class 1 where w·x + b ≥ 0), out of 4. All lines
// at once: scores = X [4, 2] · Wᵀ [2, n] + b [n].
int64_t best_random_line(int64_t n, tt::Generator& gen) {
  tt::NoGradGuard no_grad;
  const tt::Tensor w = tt::randn({n, 2}, {}, &gen);
  const tt::Tensor b = tt::randn({n}, {}, &gen);
  const tt::Tensor scores = xor_inputs().matmul(w.t()) + b;  // [4, n]
  const tt::Tensor says_one = scores.ge(0.0).to(tt::kFloat32);
  const tt::Tensor y = xor_targets();  // [4, 1], broadcast over the n lines
  const tt::Tensor right = says_one * y + (1.0 - says_one) * (1.0 - y);
  return static_cast<int64_t>(right.sum({0}).max().item<float>());
}

// ── pictures ─────────────────────────────────────────────────────────────────────────────────

// The decision regions of a model over [−0.5, 1.5]²: '#' where it says 1, '.' where it says 0;
// the four examples are drawn as their target digit.
std::vector<std::string> ascii_regions(const std::string& title,
                                       const std::function<tt::Tensor(const tt::Tensor&)>& forward,
                                       int width, int height) {
  const double lo = -0.5;
  const double hi = 1.5;
  std::vector<float> grid_xs;
  for (int r = 0; r < height; ++r) {
    for (int c = 0; c < width; ++c) {
      grid_xs.push_back(static_cast<float>(lo + (c + 0.5) * (hi - lo) / width));
      grid_xs.push_back(static_cast<float>(hi - (r + 0.5) * (hi - lo) / height));
    }
  }
  const std::vector<float> p =
      probabilities(forward, tt::from_vector<float>(grid_xs, {width * height, 2}));
  std::vector<std::string> rows(static_cast<size_t>(height), std::string(width, '.'));
  for (int r = 0; r < height; ++r) {
    for (int c = 0; c < width; ++c) {
      if (p[static_cast<size_t>(r * width + c)] > 0.5f) rows[r][c] = '#';
    }
  }
  const int targets[4] = {0, 1, 1, 0};
  for (int i = 0; i < 4; ++i) {
    const double x1 = i / 2;
    const double x2 = i % 2;
    const int c = std::clamp(static_cast<int>((x1 - lo) / (hi - lo) * width), 0, width - 1);
    const int r = std::clamp(static_cast<int>((hi - x2) / (hi - lo) * height), 0, height - 1);
    rows[r][c] = static_cast<char>('0' + targets[i]);
  }
  std::vector<std::string> lines{"     " + title};
  lines.push_back("     +" + std::string(width, '-') + "+");
  for (int r = 0; r < height; ++r) {
    std::string label = "     ";
    if (r == 0) label = " 1.5 ";
    if (r == height - 1) label = "-0.5 ";
    lines.push_back(label + "|" + rows[r] + "|");
  }
  lines.push_back("     +" + std::string(width, '-') + "+");
  std::string axis = "    -0.5";
  axis += std::string(static_cast<size_t>(width) + 6 - axis.size() - 3, ' ') + "1.5";
  lines.push_back(axis);
  return lines;
}

// p in [0, 1] as a colour: orange (0) → white (0.5) → blue (1).
std::string colour(double p) {
  const double t = std::clamp(2.0 * p - 1.0, -1.0, 1.0);
  auto mix = [](int a, int b, double s) { return static_cast<int>(std::lround(a + (b - a) * s)); };
  const int r = t >= 0 ? mix(255, 31, t) : mix(255, 255, -t);
  const int g = t >= 0 ? mix(255, 119, t) : mix(255, 127, -t);
  const int b = t >= 0 ? mix(255, 180, t) : mix(255, 14, -t);
  std::ostringstream os;
  os << "#" << std::hex << std::setfill('0') << std::setw(2) << r << std::setw(2) << g
     << std::setw(2) << b;
  return os.str();
}

// One panel of the SVG: p(XOR = 1) of the model as a heat map over [−0.5, 1.5]², the
// examples on top.
std::string svg_panel(const std::string& title,
                      const std::function<tt::Tensor(const tt::Tensor&)>& forward, double ox,
                      double oy, double size) {
  const int cells = 60;
  const double lo = -0.5;
  const double hi = 1.5;
  std::vector<float> grid_xs;
  for (int r = 0; r < cells; ++r) {
    for (int c = 0; c < cells; ++c) {
      grid_xs.push_back(static_cast<float>(lo + (c + 0.5) * (hi - lo) / cells));
      grid_xs.push_back(static_cast<float>(hi - (r + 0.5) * (hi - lo) / cells));
    }
  }
  const std::vector<float> p =
      probabilities(forward, tt::from_vector<float>(grid_xs, {cells * cells, 2}));
  const double cell = size / cells;
  std::ostringstream s;
  s << std::fixed << std::setprecision(2);
  s << "<text x='" << ox + size / 2 << "' y='" << oy - 12
    << "' text-anchor='middle' font-size='15' font-weight='bold'>" << title << "</text>\n";
  for (int r = 0; r < cells; ++r) {
    for (int c = 0; c < cells; ++c) {
      s << "<rect x='" << ox + c * cell << "' y='" << oy + r * cell << "' width='" << cell + 0.3
        << "' height='" << cell + 0.3 << "' fill='" << colour(p[static_cast<size_t>(r * cells + c)])
        << "'/>\n";
    }
  }
  auto px = [&](double x) { return ox + (x - lo) / (hi - lo) * size; };
  auto py = [&](double y) { return oy + (hi - y) / (hi - lo) * size; };
  const int targets[4] = {0, 1, 1, 0};
  for (int i = 0; i < 4; ++i) {
    const double x1 = i / 2;
    const double x2 = i % 2;
    s << "<circle cx='" << px(x1) << "' cy='" << py(x2) << "' r='13' fill='"
      << (targets[i] == 1 ? "#1f77b4" : "#ff7f0e") << "' stroke='black' stroke-width='1.5'/>\n";
    s << "<text x='" << px(x1) << "' y='" << py(x2) + 5
      << "' text-anchor='middle' font-size='14' fill='white' font-weight='bold'>" << targets[i]
      << "</text>\n";
  }
  s << "<rect x='" << ox << "' y='" << oy << "' width='" << size << "' height='" << size
    << "' fill='none' stroke='#333'/>\n";
  for (const double v : {0.0, 1.0}) {
    s << "<text x='" << px(v) << "' y='" << oy + size + 16
      << "' text-anchor='middle' font-size='11'>" << fixed(v, 0) << "</text>\n";
    s << "<text x='" << ox - 6 << "' y='" << py(v) + 4 << "' text-anchor='end' font-size='11'>"
      << fixed(v, 0) << "</text>\n";
  }
  s << "<text x='" << ox + size / 2 << "' y='" << oy + size + 32
    << "' text-anchor='middle' font-size='12'>x1</text>\n";
  s << "<text x='" << ox - 24 << "' y='" << oy + size / 2
    << "' text-anchor='middle' font-size='12'>x2</text>\n";
  return s.str();
}

std::function<tt::Tensor(const tt::Tensor&)> activation_fn(const std::string& name) {
  if (name == "sigmoid") return [](const tt::Tensor& t) { return t.sigmoid(); };
  if (name == "relu") return [](const tt::Tensor& t) { return t.relu(); };
  return [](const tt::Tensor& t) { return t.tanh(); };
}

nn::AnyModule activation_module(const std::string& name) {
  if (name == "sigmoid") return nn::AnyModule(nn::Sigmoid());
  if (name == "relu") return nn::AnyModule(nn::ReLU());
  return nn::AnyModule(nn::Tanh());
}

int run(const Settings& s) {
  std::ostream& out = std::cout;
  tinytorch::milestones::check_outputs(s.json_path, s.out_dir);  // before training, not after
  tt::manual_seed(s.seed);
  tt::Generator gen(s.seed);
  const tt::Tensor x = xor_inputs();
  const std::vector<float> targets = xor_targets().squeeze(1).to_vector<float>();

  out << "Milestone 1969 — XOR: what one layer cannot learn, and what a hidden layer can\n"
      << tt::kernels::which_code_report() << "\n"
      << "seed " << s.seed << "; both models: binary cross-entropy, full-batch gradient descent "
      << "(lr " << s.lr << ", momentum " << s.momentum << "), " << s.epochs << " epochs\n\n";

  // ── 1.–3. a single layer ────────────────────────────────────────────────────────────────
  out << "ONE LAYER (Minsky & Papert: a single threshold unit draws one straight line)\n";
  const PerceptronRun perceptron = perceptron_on_xor(s.epochs);
  out << "  1. perceptron rule, " << perceptron.epochs_run << " epoch(s): ";
  if (perceptron.converged) {
    out << "converged (!)";
  } else if (perceptron.cycle) {
    out << "never converges — the weights at the end of epoch " << perceptron.cycle->second
        << " equal those after epoch " << perceptron.cycle->first << ", so it loops forever";
  } else {
    out << "not converged";
  }
  out << "; accuracy " << percent(perceptron.final_accuracy) << " (best seen "
      << percent(perceptron.best_accuracy) << ")\n";

  nn::Linear linear(2, 1);
  const auto linear_forward = [linear](const tt::Tensor& in) { return linear->forward(in); };
  const std::vector<double> linear_losses =
      train(linear_forward, linear->parameters(), s.epochs, s.lr, s.momentum);
  const std::vector<float> linear_p = probabilities(linear_forward, x);
  const double linear_accuracy =
      static_cast<double>(count_correct(threshold(linear_p), targets)) / 4.0;
  out << "  2. linear model 2-1 by gradient descent: final loss " << fixed(linear_losses.back(), 4)
      << " (ln 2 = 0.6931: it outputs p = ";
  for (size_t i = 0; i < 4; ++i) out << (i ? ", " : "") << fixed(linear_p[i], 3);
  out << "), accuracy " << percent(linear_accuracy) << "\n";

  const int64_t best_line = best_random_line(s.lines, gen);
  out << "  3. best of " << s.lines << " random lines: " << best_line << " of 4 points right ("
      << percent(static_cast<double>(best_line) / 4.0) << ")\n"
      << "  => a single layer cannot exceed 75% on XOR: no line separates {01, 10} from {00, "
         "11}.\n\n";

  // ── 4. a hidden layer ───────────────────────────────────────────────────────────────────
  nn::Linear hidden_layer(2, s.hidden);
  nn::Linear output_layer(s.hidden, 1);
  nn::Sequential mlp;
  mlp->push_back(hidden_layer);
  mlp->push_back(activation_module(s.activation));
  mlp->push_back(output_layer);
  const auto act = activation_fn(s.activation);
  const auto mlp_forward = [mlp](const tt::Tensor& in) { return mlp->forward(in); };
  out << "TWO LAYERS (2-" << s.hidden << "-1, " << s.activation
      << " hidden units, trained by backpropagation)\n";
  if (!s.quiet) out << *mlp << "\n";
  const std::vector<double> losses =
      train(mlp_forward, mlp->parameters(), s.epochs, s.lr, s.momentum);
  const std::vector<float> mlp_p = probabilities(mlp_forward, x);
  const std::vector<float> mlp_pred = threshold(mlp_p);
  const double mlp_accuracy = static_cast<double>(count_correct(mlp_pred, targets)) / 4.0;
  const double final_loss = losses.back();

  std::vector<std::pair<int64_t, double>> loss_log;
  for (int64_t e = 1; e <= s.epochs; ++e) {
    const int64_t every = std::max<int64_t>(1, s.epochs / 10);
    if (e == 1 || e % every == 0 || e == s.epochs) {
      if (loss_log.empty() || loss_log.back().first != e) {
        loss_log.emplace_back(e, losses[static_cast<size_t>(e - 1)]);
      }
    }
  }
  if (!s.quiet) {
    out << "  epoch  loss\n";
    for (const auto& [e, l] : loss_log)
      out << "  " << std::setw(5) << e << "  " << fixed(l, 6) << "\n";
  }
  out << "\n   x1 x2 | XOR | p(1)   | predicted\n";
  for (size_t i = 0; i < 4; ++i) {
    out << "   " << (i / 2) << "  " << (i % 2) << "  |  " << targets[i] << "  | "
        << fixed(mlp_p[i], 4) << " |    " << mlp_pred[i]
        << (mlp_pred[i] == targets[i] ? "   ok" : "   WRONG") << "\n";
  }
  out << "final loss " << fixed(final_loss, 6) << "; accuracy " << percent(mlp_accuracy)
      << (mlp_accuracy == 1.0 ? " — XOR solved"
                              : " — not solved: try another --seed or more --epochs")
      << "\n";

  if (!s.quiet) {
    // What the output unit sees: the hidden layer's values for the four points. In this space
    // the two classes ARE linearly separable — that is what the hidden layer learned.
    tt::Tensor h;
    {
      tt::NoGradGuard no_grad;
      h = act(hidden_layer->forward(x));
    }
    const std::vector<float> hv = h.contiguous().to_vector<float>();
    out << "\nthe hidden layer's view (" << s.activation
        << " outputs): the output unit only needs one line here\n   x1 x2 | XOR |";
    const int64_t shown = std::min<int64_t>(s.hidden, 8);  // a readable table
    for (int64_t j = 0; j < shown; ++j) out << std::setw(8) << "h" + std::to_string(j + 1);
    if (shown < s.hidden) out << "   (the first " << shown << " of " << s.hidden << ")";
    out << "\n";
    for (size_t i = 0; i < 4; ++i) {
      out << "   " << (i / 2) << "  " << (i % 2) << "  |  " << targets[i] << "  |";
      for (int64_t j = 0; j < shown; ++j) {
        out << std::setw(8)
            << fixed(hv[i * static_cast<size_t>(s.hidden) + static_cast<size_t>(j)], 3);
      }
      out << "\n";
    }
    out << "\n";
    const auto left = ascii_regions("one layer (linear)", linear_forward, 30, 12);
    const auto right = ascii_regions("two layers (MLP)", mlp_forward, 30, 12);
    for (const auto& line : beside(left, right, 6)) out << line << "\n";
    out << "     # the model says 1   . it says 0   digits: the four XOR examples\n";
  }

  // ── files ───────────────────────────────────────────────────────────────────────────────
  std::string svg_path;
  if (!s.out_dir.empty()) {
    std::ostringstream svg;
    svg << "<svg xmlns='http://www.w3.org/2000/svg' width='800' height='440' "
           "font-family='sans-serif'>\n<rect width='100%' height='100%' fill='white'/>\n";
    svg << svg_panel("One layer: accuracy " + percent(linear_accuracy), linear_forward, 60, 50,
                     300);
    svg << svg_panel("2-" + std::to_string(s.hidden) + "-1 MLP: accuracy " + percent(mlp_accuracy),
                     mlp_forward, 440, 50, 300);
    svg << "<text x='60' y='420' font-size='12'>colour: the model's p(XOR = 1), orange 0 · white "
           "0.5 · blue 1; circles: the four examples (seed "
        << s.seed << ")</text>\n</svg>\n";
    svg_path = (fs::path(s.out_dir) / "decision_regions.svg").string();
    tt::train::write_file_atomically(svg_path, svg.str());
    out << "\nwrote " << svg_path << "\n";
  }
  // The trained MLP as a model file (module 20): (x₁, x₂) → the logit of p(XOR = 1).
  tt::milestones::write_model_file(out, *mlp.ptr(),
                                   {.name = "xor-mlp-1969",
                                    .version = "",
                                    .input_shape = {2},
                                    .input_dtype = tt::kFloat32,
                                    .labels = {}},
                                   s.out_dir);
  if (!s.json_path.empty()) {
    nlohmann::ordered_json j;
    j["milestone"] = "1969";
    j["seed"] = s.seed;
    j["epochs"] = s.epochs;
    j["hidden"] = s.hidden;
    j["activation"] = s.activation;
    j["lr"] = s.lr;
    j["momentum"] = s.momentum;
    j["final_accuracy"] = mlp_accuracy;
    j["final_loss"] = final_loss;
    j["solved"] = mlp_accuracy == 1.0;
    j["single_layer_accuracy"] = linear_accuracy;
    j["single_layer_final_loss"] = linear_losses.back();
    j["perceptron"] = {
        {"epochs_run", perceptron.epochs_run},
        {"converged", perceptron.converged},
        {"final_accuracy", perceptron.final_accuracy},
        {"best_accuracy", perceptron.best_accuracy},
        {"cycle", perceptron.cycle
                      ? nlohmann::ordered_json({perceptron.cycle->first, perceptron.cycle->second})
                      : nlohmann::ordered_json(nullptr)}};
    j["random_lines"] = s.lines;
    j["best_random_line_accuracy"] = static_cast<double>(best_line) / 4.0;
    nlohmann::ordered_json predictions = nlohmann::ordered_json::array();
    for (size_t i = 0; i < 4; ++i) {
      predictions.push_back({{"x", {static_cast<int>(i / 2), static_cast<int>(i % 2)}},
                             {"target", static_cast<int>(targets[i])},
                             {"probability", mlp_p[i]},
                             {"predicted", static_cast<int>(mlp_pred[i])}});
    }
    j["predictions"] = predictions;
    nlohmann::ordered_json curve = nlohmann::ordered_json::array();
    for (const auto& [e, l] : loss_log) curve.push_back({{"epoch", e}, {"loss", l}});
    j["loss_curve"] = curve;
    j["svg"] = svg_path.empty() ? nullptr : nlohmann::ordered_json(svg_path);
    tt::train::write_file_atomically(s.json_path, j.dump(2) + "\n");
    out << "wrote " << s.json_path << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  namespace ms = tinytorch::milestones;  // the argument checks of common/cli.h
  Settings s;
  CLI::App app{
      "Milestone 1969: a single layer fails on XOR; a hidden layer trained by "
      "backpropagation solves it",
      "milestone_1969"};
  app.add_option("--epochs", s.epochs, "full-batch gradient steps (linear model and MLP)")
      ->capture_default_str()
      ->check(ms::whole_number_in(1, 1000000));
  app.add_option("--seed", s.seed,
                 "random seed: initial weights, random lines (same seed, same numbers)")
      ->capture_default_str();
  app.add_option("--hidden", s.hidden, "hidden units of the MLP")
      ->capture_default_str()
      ->check(ms::whole_number_in(1, 1024));
  app.add_option("--activation", s.activation, "hidden activation")
      ->capture_default_str()
      ->check(CLI::IsMember({"tanh", "sigmoid", "relu"}));
  app.add_option("--lr", s.lr, "learning rate")
      ->capture_default_str()
      ->check(ms::positive_number());
  app.add_option("--momentum", s.momentum, "momentum of the gradient steps (0: plain descent)")
      ->capture_default_str()
      ->check(ms::number_in(0.0, 0.999));
  app.add_option("--lines", s.lines, "random lines to try in the single-layer search")
      ->capture_default_str()
      ->check(ms::whole_number_in(1, 10000000));
  app.add_option("--out", s.out_dir,
                 "output directory for decision_regions.svg (created if missing; '' for none)")
      ->capture_default_str();
  app.add_option("--json", s.json_path, "also write the results to this JSON file");
  app.add_flag("--quiet,-q", s.quiet, "print only the results, no tables or plots");
  CLI11_PARSE(app, argc, argv);
  try {
    return run(s);
  } catch (const std::exception& e) {
    std::cerr << "milestone_1969: error: " << e.what() << "\n";
    return 1;
  }
}
