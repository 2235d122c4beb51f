// Milestone 1957 — Rosenblatt's perceptron, with YOUR framework: tensors (01) and one
// nn::Linear neuron (03). There is no loss function, no gradient and no backward() here: the
// perceptron learns by its own rule, one example at a time,
//
//        ŷ = sign(w·x + b)            w ← w + lr·(y − ŷ)·x         b ← b + lr·(y − ŷ)
//
// which changes the weights only when the neuron is wrong. That rule is the history: gradient
// descent through a differentiable network (milestones 1969 and 1986) came decades later.
//
//   build/release/bin/milestone_1957                        100 points, margin 0.05, seed 1957
//   build/release/bin/milestone_1957 --points 500 --margin 0.02 --json r.json
//
//   x₁ ──w₁──┐
//            ├──► Σ + b ──► sign ──► ŷ ∈ {−1, +1}
//   x₂ ──w₂──┘
//
// Prints the epochs to convergence, the accuracy, the learned weights and an ASCII plot of the
// data and the decision boundary; writes the same picture as decision_boundary.svg into --out
// (default runs/1957/). See milestones/1957_perceptron/README.md.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <numbers>
#include <optional>
#include <sstream>
#include <string>
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
namespace fs = std::filesystem;

namespace {

struct Settings {
  int64_t epochs = 1000;  // the most passes over the data; training stops at the first clean one
  uint64_t seed = 1957;
  int64_t points = 100;
  double margin = 0.05;  // no generated point lies closer than this to the true line
  double lr = 1.0;
  std::string out_dir = "runs/1957";
  std::string json_path;
  bool quiet = false;
};

// A labelled 2-D data set: x [N, 2] float32 and labels y ∈ {−1, +1}.
struct DataSet {
  std::string name;
  tt::Tensor x;
  std::vector<float> y;
};

// A line w₁·x₁ + w₂·x₂ + b = 0, the positive side being where the left-hand side is ≥ 0.
struct Line {
  double w1 = 0, w2 = 0, b = 0;
  [[nodiscard]] double at(double x1, double x2) const { return w1 * x1 + w2 * x2 + b; }
};

struct TrainResult {
  bool converged = false;
  int64_t epochs_run = 0;
  int64_t updates = 0;             // how many times the rule changed the weights
  std::vector<int64_t> mistakes;   // per epoch
  Line weights;                    // the learned w₁, w₂, b
  double accuracy = 0;             // on the training data, after training
  std::vector<float> predictions;  // ŷ for every example, after training
};

// ── data ─────────────────────────────────────────────────────────────────────────────────────

// `n` points uniform in [−1, 1]², labelled by which side of a random "true" line they fall on;
// points closer than `margin` to it are drawn again, so that the classes are separated by a
// gap of at least 2·margin. Everything comes from `gen`: same seed, same data.
std::pair<DataSet, Line> make_separable(int64_t n, double margin, tt::Generator& gen) {
  const double angle = 2.0 * std::numbers::pi * gen.uniform_double();
  const Line truth{std::cos(angle), std::sin(angle), 0.6 * gen.uniform_double() - 0.3};
  std::vector<float> xs;
  std::vector<float> ys;
  xs.reserve(static_cast<size_t>(2 * n));
  ys.reserve(static_cast<size_t>(n));
  int64_t draws = 0;
  while (static_cast<int64_t>(ys.size()) < n) {
    if (++draws > 1000 * n + 100000) {
      throw tt::ValueError("cannot place " + std::to_string(n) + " points with margin " +
                           std::to_string(margin) + " in [-1, 1]^2; use a smaller --margin");
    }
    const double x1 = 2.0 * gen.uniform_double() - 1.0;
    const double x2 = 2.0 * gen.uniform_double() - 1.0;
    const double d = truth.at(x1, x2);  // signed distance: (w₁, w₂) is a unit vector
    if (std::abs(d) < margin) continue;
    xs.push_back(static_cast<float>(x1));
    xs.push_back(static_cast<float>(x2));
    ys.push_back(d >= 0 ? 1.0f : -1.0f);
  }
  DataSet data{"separable", tt::from_vector<float>(xs, {n, 2}), ys};
  return {std::move(data), truth};
}

// A two-input truth table (inputs 0/1) as a data set; `outputs` are the four answers for
// (0,0), (0,1), (1,0), (1,1).
DataSet truth_table(const std::string& name, const std::vector<int>& outputs) {
  std::vector<float> ys;
  for (int o : outputs) ys.push_back(o != 0 ? 1.0f : -1.0f);
  return {name, tt::from_vector<float>({0, 0, 0, 1, 1, 0, 1, 1}, {4, 2}), ys};
}

// ── the perceptron ───────────────────────────────────────────────────────────────────────────

// The perceptron's output for every row of x: sign(x·wᵀ + b) ∈ {−1, +1} (sign(0) = +1).
std::vector<float> predict(nn::Linear& neuron, const tt::Tensor& x) {
  const tt::Tensor scores = neuron->forward(x).squeeze(1);  // [N]
  const tt::Tensor positive = scores.ge(0.0).to(tt::kFloat32);
  return (positive * 2.0 - 1.0).to_vector<float>();  // 1 → +1, 0 → −1
}

// Rosenblatt's learning rule. Examples are shown one at a time, in a fresh random order every
// epoch; training stops after the first epoch without a mistake (it has converged: the rule
// will never change the weights again) or after `max_epochs`.
TrainResult train_perceptron(const DataSet& data, int64_t max_epochs, double lr,
                             tt::Generator& gen) {
  tt::NoGradGuard no_grad;  // no graph: this rule needs no derivatives
  nn::Linear neuron(2, 1);  // weight [1, 2] = (w₁, w₂), bias [1] = b
  neuron->weight.zero_();   // Rosenblatt started from zero weights
  neuron->bias.zero_();

  const int64_t n = data.x.size(0);
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;

  TrainResult result;
  for (int64_t epoch = 1; epoch <= max_epochs; ++epoch) {
    for (int64_t i = n - 1; i > 0; --i) {  // Fisher–Yates shuffle
      std::swap(order[static_cast<size_t>(i)],
                order[static_cast<size_t>(gen.random_int(0, i + 1))]);
    }
    int64_t mistakes = 0;
    for (const int64_t i : order) {
      const tt::Tensor x = data.x[i].unsqueeze(0);  // [1, 2]
      const float score = neuron->forward(x).item<float>();
      const float y_hat = score >= 0.0f ? 1.0f : -1.0f;
      const float y = data.y[static_cast<size_t>(i)];
      const double step = lr * static_cast<double>(y - y_hat);  // 0 when right, ±2·lr when wrong
      if (step != 0.0) {               // (the rule adds nothing when the neuron is right)
        neuron->weight.add_(x, step);  // w ← w + lr·(y − ŷ)·x
        neuron->bias.add_(step);       // b ← b + lr·(y − ŷ)
        ++mistakes;
      }
    }
    result.mistakes.push_back(mistakes);
    result.updates += mistakes;
    result.epochs_run = epoch;
    if (mistakes == 0) {
      result.converged = true;
      break;
    }
  }

  const std::vector<float> w = neuron->weight.to_vector<float>();
  result.weights = {w[0], w[1], neuron->bias.item<double>()};
  result.predictions = predict(neuron, data.x);
  int64_t correct = 0;
  for (size_t i = 0; i < data.y.size(); ++i) correct += result.predictions[i] == data.y[i] ? 1 : 0;
  result.accuracy = static_cast<double>(correct) / static_cast<double>(n);
  return result;
}

// Novikoff's theorem (1962): if a line separates the classes with margin γ and every input
// (with the constant 1 appended for the bias) has length ≤ R, the perceptron makes at most
// (R/γ)² updates, whatever the order of the examples. Computed here for the true line.
double novikoff_bound(const DataSet& data, const Line& truth) {
  const std::vector<float> xs = data.x.to_vector<float>();
  const double norm = std::sqrt(truth.w1 * truth.w1 + truth.w2 * truth.w2 + truth.b * truth.b);
  double r2 = 0;
  double gamma = 1e300;
  for (size_t i = 0; i < data.y.size(); ++i) {
    const double x1 = xs[2 * i];
    const double x2 = xs[2 * i + 1];
    r2 = std::max(r2, x1 * x1 + x2 * x2 + 1.0);
    gamma = std::min(gamma, data.y[i] * truth.at(x1, x2) / norm);
  }
  return r2 / (gamma * gamma);
}

// ── pictures ─────────────────────────────────────────────────────────────────────────────────

// The data and the learned decision regions as text, `width` × `height` cells over
// [lo, hi]²: '.' where the perceptron says +1, ' ' where it says −1, '*' where the boundary
// crosses a cell; 'o' / 'x' the examples of class +1 / −1 ('O' / 'X' when misclassified).
std::vector<std::string> ascii_plot(const DataSet& data, const std::vector<float>& predictions,
                                    const Line& learned, double lo, double hi, int width,
                                    int height) {
  const double cw = (hi - lo) / width;
  const double ch = (hi - lo) / height;
  std::vector<std::string> grid(static_cast<size_t>(height), std::string(width, ' '));
  for (int r = 0; r < height; ++r) {
    for (int c = 0; c < width; ++c) {
      const double x1 = lo + c * cw;
      const double x2 = hi - r * ch;
      const double corners[4] = {learned.at(x1, x2), learned.at(x1 + cw, x2),
                                 learned.at(x1, x2 - ch), learned.at(x1 + cw, x2 - ch)};
      const double smin = *std::min_element(corners, corners + 4);
      const double smax = *std::max_element(corners, corners + 4);
      char& cell = grid[static_cast<size_t>(r)][static_cast<size_t>(c)];
      if (smin < 0 && smax >= 0) {
        cell = '*';
      } else if (learned.at(x1 + cw / 2, x2 - ch / 2) >= 0) {
        cell = '.';
      }
    }
  }
  const std::vector<float> xs = data.x.to_vector<float>();
  for (size_t i = 0; i < data.y.size(); ++i) {
    const int c = std::clamp(static_cast<int>((xs[2 * i] - lo) / cw), 0, width - 1);
    const int r = std::clamp(static_cast<int>((hi - xs[2 * i + 1]) / ch), 0, height - 1);
    const bool right = predictions[i] == data.y[i];
    grid[static_cast<size_t>(r)][static_cast<size_t>(c)] =
        data.y[i] > 0 ? (right ? 'o' : 'O') : (right ? 'x' : 'X');
  }
  std::vector<std::string> lines;
  const std::string pad(6, ' ');
  const std::string rule = pad + "+" + std::string(width, '-') + "+";
  lines.push_back(rule);
  for (int r = 0; r < height; ++r) {
    std::string label;
    if (r == 0) label = fixed(hi, 1);
    if (r == height - 1) label = fixed(lo, 1);
    if (r == height / 2) label = "x2";
    label = std::string(pad.size() - 1 - std::min(pad.size() - 1, label.size()), ' ') + label + " ";
    lines.push_back(label + "|" + grid[static_cast<size_t>(r)] + "|");
  }
  lines.push_back(rule);
  std::string axis = pad + fixed(lo, 1);
  const std::string right_label = fixed(hi, 1);
  const std::string middle = "x1";
  const size_t total = pad.size() + 2 + static_cast<size_t>(width);
  const size_t mid = pad.size() + 1 + static_cast<size_t>(width) / 2 - 1;
  axis += std::string(mid > axis.size() ? mid - axis.size() : 1, ' ') + middle;
  axis +=
      std::string(
          total > axis.size() + right_label.size() ? total - axis.size() - right_label.size() : 1,
          ' ') +
      right_label;
  lines.push_back(axis);
  return lines;
}

struct Point {
  double x = 0, y = 0;
};

// The part of the square [lo, hi]² on the positive side of `line` (a convex polygon,
// Sutherland–Hodgman against one edge) and the two ends of the boundary inside the square.
std::pair<std::vector<Point>, std::vector<Point>> clip_square(const Line& line, double lo,
                                                              double hi) {
  const std::vector<Point> square = {{lo, lo}, {hi, lo}, {hi, hi}, {lo, hi}};
  std::vector<Point> kept;
  std::vector<Point> ends;
  for (size_t i = 0; i < square.size(); ++i) {
    const Point a = square[i];
    const Point b = square[(i + 1) % square.size()];
    const double sa = line.at(a.x, a.y);
    const double sb = line.at(b.x, b.y);
    if (sa >= 0) kept.push_back(a);
    if ((sa >= 0) != (sb >= 0)) {
      const double t = sa / (sa - sb);
      const Point p{a.x + t * (b.x - a.x), a.y + t * (b.y - a.y)};
      kept.push_back(p);
      ends.push_back(p);
    }
  }
  return {kept, ends};
}

// One panel of the SVG picture: a square plot at (ox, oy) of `size` pixels.
std::string svg_panel(const std::string& title, const DataSet& data, const Line& learned,
                      const std::optional<Line>& truth, double lo, double hi, double ox, double oy,
                      double size) {
  auto px = [&](double x) { return ox + (x - lo) / (hi - lo) * size; };
  auto py = [&](double y) { return oy + (hi - y) / (hi - lo) * size; };
  std::ostringstream s;
  s << std::fixed << std::setprecision(2);
  s << "<text x='" << ox + size / 2 << "' y='" << oy - 12
    << "' text-anchor='middle' font-size='15' font-weight='bold'>" << title << "</text>\n";
  s << "<rect x='" << ox << "' y='" << oy << "' width='" << size << "' height='" << size
    << "' fill='#fdebdc'/>\n";  // the −1 side
  const auto [region, ends] = clip_square(learned, lo, hi);
  if (!region.empty()) {
    s << "<polygon fill='#dcebf8' points='";
    for (const auto& p : region) s << px(p.x) << "," << py(p.y) << " ";
    s << "'/>\n";
  }
  if (truth) {
    const auto [unused, true_ends] = clip_square(*truth, lo, hi);
    if (true_ends.size() == 2) {
      s << "<line x1='" << px(true_ends[0].x) << "' y1='" << py(true_ends[0].y) << "' x2='"
        << px(true_ends[1].x) << "' y2='" << py(true_ends[1].y)
        << "' stroke='#888' stroke-width='1.5' stroke-dasharray='6,4'/>\n";
    }
  }
  if (ends.size() == 2) {
    s << "<line x1='" << px(ends[0].x) << "' y1='" << py(ends[0].y) << "' x2='" << px(ends[1].x)
      << "' y2='" << py(ends[1].y) << "' stroke='#222' stroke-width='2.5'/>\n";
  }
  const std::vector<float> xs = data.x.to_vector<float>();
  const double radius = data.y.size() > 20 ? 4.0 : 9.0;
  for (size_t i = 0; i < data.y.size(); ++i) {
    const bool positive = data.y[i] > 0;
    s << "<circle cx='" << px(xs[2 * i]) << "' cy='" << py(xs[2 * i + 1]) << "' r='" << radius
      << "' fill='" << (positive ? "#1f77b4" : "#ff7f0e") << "' stroke='white'/>\n";
  }
  s << "<rect x='" << ox << "' y='" << oy << "' width='" << size << "' height='" << size
    << "' fill='none' stroke='#333'/>\n";
  for (const double v : {lo, (lo + hi) / 2, hi}) {
    s << "<text x='" << px(v) << "' y='" << oy + size + 16
      << "' text-anchor='middle' font-size='11'>" << fixed(v, 1) << "</text>\n";
    s << "<text x='" << ox - 6 << "' y='" << py(v) + 4 << "' text-anchor='end' font-size='11'>"
      << fixed(v, 1) << "</text>\n";
  }
  s << "<text x='" << ox + size / 2 << "' y='" << oy + size + 32
    << "' text-anchor='middle' font-size='12'>x1</text>\n";
  s << "<text x='" << ox - 42 << "' y='" << oy + size / 2
    << "' text-anchor='middle' font-size='12'>x2</text>\n";
  return s.str();
}

nlohmann::ordered_json result_json(const TrainResult& r) {
  nlohmann::ordered_json j;
  j["converged"] = r.converged;
  j["epochs_to_converge"] = r.converged ? nlohmann::ordered_json(r.epochs_run) : nullptr;
  j["epochs_run"] = r.epochs_run;
  j["updates"] = r.updates;
  j["mistakes_per_epoch"] = r.mistakes;
  j["accuracy"] = r.accuracy;
  j["weights"] = {r.weights.w1, r.weights.w2};
  j["bias"] = r.weights.b;
  return j;
}

std::string convergence_text(const TrainResult& r) {
  if (r.converged) {
    return "converged after " + std::to_string(r.epochs_run) + " epoch(s), " +
           std::to_string(r.updates) + " update(s)";
  }
  return "NOT converged after " + std::to_string(r.epochs_run) + " epoch(s) (" +
         std::to_string(r.mistakes.empty() ? 0 : r.mistakes.back()) +
         " mistake(s) in the last one); try more --epochs";
}

std::string weights_text(const Line& w) {
  return "w = (" + fixed(w.w1, 4) + ", " + fixed(w.w2, 4) + "), b = " + fixed(w.b, 4);
}

// The boundary w₁x₁ + w₂x₂ + b = 0 as x₂ = m·x₁ + c (or x₁ = c when vertical).
std::string boundary_text(const Line& w) {
  if (std::abs(w.w2) > 1e-12) {
    return "x2 = " + fixed(-w.w1 / w.w2, 3) + "·x1 + " + fixed(-w.b / w.w2, 3);
  }
  if (std::abs(w.w1) > 1e-12) return "x1 = " + fixed(-w.b / w.w1, 3);
  return "(none: all weights are zero)";
}

int run(const Settings& s) {
  std::ostream& out = std::cout;
  tinytorch::milestones::check_outputs(s.json_path, s.out_dir);  // before training, not after

  tt::manual_seed(s.seed);
  tt::Generator gen(s.seed);  // data and presentation order

  // ── 1. linearly separable points ─────────────────────────────────────────────────────────
  auto [data, truth] = make_separable(s.points, s.margin, gen);
  const double bound = novikoff_bound(data, truth);
  const TrainResult result = train_perceptron(data, s.epochs, s.lr, gen);

  int64_t positives = 0;
  for (float y : data.y) positives += y > 0 ? 1 : 0;
  out << "Milestone 1957 — Rosenblatt's perceptron: w <- w + lr*(y - y_hat)*x, no gradients\n"
      << tt::kernels::which_code_report() << "\n"
      << "data: " << s.points << " points in [-1, 1]^2 (" << positives << " of class +1, "
      << s.points - positives << " of class -1), separated by a random line with margin "
      << s.margin << "; seed " << s.seed << ", lr " << s.lr << ", at most " << s.epochs
      << " epochs\n";
  if (!s.quiet) {
    out << "mistakes per epoch:";
    for (size_t e = 0; e < result.mistakes.size(); ++e) {
      if (e == 12 && result.mistakes.size() > 14) {
        out << " ... " << result.mistakes.back();
        break;
      }
      out << " " << result.mistakes[e];
    }
    out << "\n";
  }
  out << convergence_text(result) << " (Novikoff's bound for this data: <= " << fixed(bound, 0)
      << " updates)\n"
      << "training accuracy " << fixed(100.0 * result.accuracy, 2) << "%\n"
      << "learned " << weights_text(result.weights) << "; boundary "
      << boundary_text(result.weights) << "\n";
  const double angle_deg =
      std::acos(std::clamp((result.weights.w1 * truth.w1 + result.weights.w2 * truth.w2) /
                               std::max(1e-300, std::hypot(result.weights.w1, result.weights.w2)),
                           -1.0, 1.0)) *
      180.0 / std::numbers::pi;
  out << "true boundary " << boundary_text(truth) << "; angle between the two normals "
      << fixed(angle_deg, 1) << " degrees\n";
  if (!s.quiet) {
    out << "\n";
    for (const auto& line :
         ascii_plot(data, result.predictions, result.weights, -1.0, 1.0, 60, 24)) {
      out << line << "\n";
    }
    out << "      o class +1   x class -1   (O X misclassified)   . the perceptron says +1   "
           "* its boundary\n";
  }

  // ── 2. logic gates ───────────────────────────────────────────────────────────────────────
  std::vector<std::pair<DataSet, TrainResult>> gates;
  for (auto& gate : {truth_table("AND", {0, 0, 0, 1}), truth_table("OR", {0, 1, 1, 1})}) {
    TrainResult r = train_perceptron(gate, s.epochs, s.lr, gen);
    gates.emplace_back(gate, std::move(r));
  }
  out << "\nlogic gates (inputs 0/1, output +1 = true):\n";
  for (const auto& [gate, r] : gates) {
    out << "  " << std::left << std::setw(4) << gate.name << std::right << convergence_text(r)
        << "; " << weights_text(r.weights) << "; accuracy " << fixed(100.0 * r.accuracy, 0)
        << "%\n";
  }
  out << "\n   x1 x2 | AND  perceptron | OR   perceptron\n";
  for (int i = 0; i < 4; ++i) {
    auto sign = [](float v) { return v > 0 ? "+1" : "-1"; };
    out << "   " << (i / 2) << "  " << (i % 2) << "  |  " << sign(gates[0].first.y[i]) << "     "
        << sign(gates[0].second.predictions[i]) << "     |  " << sign(gates[1].first.y[i])
        << "     " << sign(gates[1].second.predictions[i]) << "\n";
  }
  if (!s.quiet) {
    out << "\n";
    const auto and_plot = ascii_plot(gates[0].first, gates[0].second.predictions,
                                     gates[0].second.weights, -0.5, 1.5, 24, 10);
    const auto or_plot = ascii_plot(gates[1].first, gates[1].second.predictions,
                                    gates[1].second.weights, -0.5, 1.5, 24, 10);
    std::vector<std::string> and_titled{"      AND"};
    and_titled.insert(and_titled.end(), and_plot.begin(), and_plot.end());
    std::vector<std::string> or_titled{"      OR"};
    or_titled.insert(or_titled.end(), or_plot.begin(), or_plot.end());
    for (const auto& line : beside(and_titled, or_titled, 4)) out << line << "\n";
    out << "\nXOR (+1 when exactly one input is 1) has no such line: see milestone 1969.\n";
  }

  // ── 3. files ─────────────────────────────────────────────────────────────────────────────
  std::string svg_path;
  if (!s.out_dir.empty()) {
    const double size = 300;
    std::ostringstream svg;
    svg << "<svg xmlns='http://www.w3.org/2000/svg' width='1140' height='430' "
           "font-family='sans-serif'>\n<rect width='100%' height='100%' fill='white'/>\n";
    svg << svg_panel("Perceptron, " + std::to_string(s.points) + " points (" +
                         (result.converged ? "converged" : "not converged") + ")",
                     data, result.weights, truth, -1.0, 1.0, 60, 50, size);
    svg << svg_panel("AND", gates[0].first, gates[0].second.weights, std::nullopt, -0.5, 1.5, 440,
                     50, size);
    svg << svg_panel("OR", gates[1].first, gates[1].second.weights, std::nullopt, -0.5, 1.5, 820,
                     50, size);
    svg << "<text x='60' y='415' font-size='12'>blue: class +1, orange: class -1; shaded blue: "
           "the perceptron says +1; solid line: its decision boundary; dashed: the line that "
           "generated the data (seed "
        << s.seed << ")</text>\n</svg>\n";
    svg_path = (fs::path(s.out_dir) / "decision_boundary.svg").string();
    tt::train::write_file_atomically(svg_path, svg.str());
    out << "\nwrote " << svg_path << "\n";
  }
  // The learned neuron as a model file (module 20): a point (x₁, x₂) → w₁x₁ + w₂x₂ + b, whose
  // sign is the class.
  nn::Linear neuron(2, 1);
  {
    tt::NoGradGuard no_grad;
    neuron->weight.copy_(
        tt::tensor({static_cast<float>(result.weights.w1), static_cast<float>(result.weights.w2)})
            .view({1, 2}));
    neuron->bias.fill_(result.weights.b);
  }
  tt::milestones::write_model_file(out, *nn::Sequential(neuron).ptr(),
                                   {.name = "perceptron-1957",
                                    .version = "",
                                    .input_shape = {2},
                                    .input_dtype = tt::kFloat32,
                                    .labels = {}},
                                   s.out_dir);

  if (!s.json_path.empty()) {
    nlohmann::ordered_json j;
    j["milestone"] = "1957";
    j["seed"] = s.seed;
    j["epochs"] = s.epochs;
    j["points"] = s.points;
    j["margin"] = s.margin;
    j["lr"] = s.lr;
    j["converged"] = result.converged;
    j["epochs_to_converge"] =
        result.converged ? nlohmann::ordered_json(result.epochs_run) : nullptr;
    j["final_accuracy"] = result.accuracy;
    j["novikoff_bound"] = bound;
    j["separable"] = result_json(result);
    j["true_line"] = {truth.w1, truth.w2, truth.b};
    j["and"] = result_json(gates[0].second);
    j["or"] = result_json(gates[1].second);
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
  CLI::App app{"Milestone 1957: Rosenblatt's perceptron learns linearly separable data, AND and OR",
               "milestone_1957"};
  app.add_option("--epochs", s.epochs,
                 "the most passes over the data (training stops at the first epoch without a "
                 "mistake)")
      ->capture_default_str()
      ->check(ms::whole_number_in(1, 100000));
  app.add_option("--seed", s.seed, "random seed: data and example order (same seed, same numbers)")
      ->capture_default_str();
  app.add_option("--points", s.points, "how many points to generate")
      ->capture_default_str()
      ->check(ms::whole_number_in(2, 100000));
  app.add_option("--margin", s.margin,
                 "no point lies closer than this to the generating line (smaller: harder)")
      ->capture_default_str()
      ->check(ms::number_in(0.0, 0.5));
  app.add_option("--lr", s.lr, "learning rate of the perceptron rule")
      ->capture_default_str()
      ->check(ms::positive_number());
  app.add_option("--out", s.out_dir,
                 "output directory for decision_boundary.svg (created if missing; '' for none)")
      ->capture_default_str();
  app.add_option("--json", s.json_path, "also write the results to this JSON file");
  app.add_flag("--quiet,-q", s.quiet, "print only the results, no plots");
  CLI11_PARSE(app, argc, argv);
  try {
    return run(s);
  } catch (const std::exception& e) {
    std::cerr << "milestone_1957: error: " << e.what() << "\n";
    return 1;
  }
}
