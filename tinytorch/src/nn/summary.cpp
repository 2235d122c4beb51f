// nn::summary — one forward pass over zeros, recording each layer's output shape and sizes
// (see tinytorch/nn/summary.h).
#include "tinytorch/nn/summary.h"

#include <algorithm>
#include <cstddef>
#include <iomanip>
#include <memory>
#include <optional>
#include <sstream>
#include <unordered_set>
#include <utility>

#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/core/exception.h"
#include "tinytorch/core/shape.h"
#include "tinytorch/nn/modules/linear.h"
#include "tinytorch/profiler/profiler.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch::nn {
namespace {

// 1234567 → "1,234,567" (torchinfo's style: parameter counts are read at a glance).
std::string with_commas(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

// 1536 → "1.50 KiB": bytes in the largest binary unit that keeps the number >= 1.
std::string human_bytes(int64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  size_t u = 0;
  while (v >= 1024.0 && u + 1 < std::size(units)) {
    v /= 1024.0;
    ++u;
  }
  std::ostringstream os;
  if (u == 0) {
    os << bytes << " B";
  } else {
    os << std::fixed << std::setprecision(2) << v << ' ' << units[u];
  }
  return os.str();
}

std::string shape_str(const std::vector<int64_t>& shape) {
  std::ostringstream os;
  os << IntArrayRef(shape);
  return os.str();
}

// Columns on screen of a UTF-8 string (the tree's box-drawing characters are 3 bytes, 1 column).
size_t display_width(const std::string& s) {
  return static_cast<size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string pad_right(const std::string& s, size_t width) {
  const size_t w = display_width(s);
  return w >= width ? s : s + std::string(width - w, ' ');
}

std::string pad_left(const std::string& s, size_t width) {
  const size_t w = display_width(s);
  return w >= width ? s : std::string(width - w, ' ') + s;
}

// Parameters of `module` (recursively), each tensor once: {all, trainable}.
std::pair<int64_t, int64_t> count_parameters(const Module& module) {
  int64_t all = 0, trainable = 0;
  for (const Tensor& p : module.parameters()) {
    all += p.numel();
    if (p.requires_grad()) trainable += p.numel();
  }
  return {all, trainable};
}

// The rows' labels, with torchinfo's tree:   Sequential / ├─Conv2d: 0 / │ └─ReLU: 3.1
// Only rows with depth <= max_depth are returned (with their index into `layers`).
std::vector<std::pair<size_t, std::string>> tree_labels(const std::vector<LayerSummary>& layers,
                                                        int64_t max_depth) {
  // is_last[i]: no later sibling — the next row at the same depth comes after a shallower one.
  std::vector<bool> is_last(layers.size(), true);
  for (size_t i = 0; i < layers.size(); ++i) {
    for (size_t j = i + 1; j < layers.size() && layers[j].depth >= layers[i].depth; ++j) {
      if (layers[j].depth == layers[i].depth) {
        is_last[i] = false;
        break;
      }
    }
  }
  std::vector<bool> ancestor_is_last;  // [k]: whether the open ancestor at depth k is a last child
  std::vector<std::pair<size_t, std::string>> out;
  for (size_t i = 0; i < layers.size(); ++i) {
    const auto depth = static_cast<size_t>(layers[i].depth);
    ancestor_is_last.resize(depth + 1);
    ancestor_is_last[depth] = is_last[i];
    if (layers[i].depth > max_depth) continue;
    std::string label;
    for (size_t k = 1; k < depth; ++k) label += ancestor_is_last[k] ? "  " : "│ ";
    if (depth > 0) label += is_last[i] ? "└─" : "├─";
    label += layers[i].type;
    if (!layers[i].name.empty()) label += ": " + layers[i].name;
    out.emplace_back(i, std::move(label));
  }
  return out;
}

// The table of `layers`, as the summary prints it. `notes` (when a layer failed) replaces the
// output shape of the rows with a non-empty note: "(running)", "FAILED".
std::string layer_table(const std::vector<LayerSummary>& layers, int64_t max_depth,
                        const std::vector<std::string>* notes = nullptr) {
  const auto labels = tree_labels(layers, max_depth);
  const std::string h_layer = "Layer (type: name)", h_shape = "Output Shape", h_params = "Param #",
                    h_act = "Activations", h_flops = "FLOPs";
  size_t w_layer = display_width(h_layer), w_shape = display_width(h_shape),
         w_params = display_width(h_params), w_act = h_act.size(), w_flops = h_flops.size();
  std::vector<std::string> shapes, params, acts, flops;
  for (const auto& [i, label] : labels) {
    if (notes != nullptr && i >= notes->size()) break;  // rows after a failure never ran
    const LayerSummary& l = layers[i];
    shapes.push_back(notes != nullptr && !(*notes)[i].empty() ? (*notes)[i]
                                                              : shape_str(l.output_shape));
    params.push_back(l.is_container || l.parameters == 0 ? "--" : with_commas(l.parameters));
    acts.push_back(l.activation_bytes == 0 ? "--" : human_bytes(l.activation_bytes));
    flops.push_back(l.flops == 0 ? "--" : with_commas(l.flops));
    w_layer = std::max(w_layer, display_width(label));
    w_shape = std::max(w_shape, shapes.back().size());
    w_params = std::max(w_params, params.back().size());
    w_act = std::max(w_act, acts.back().size());
    w_flops = std::max(w_flops, flops.back().size());
  }
  w_act += 2;
  w_flops += 2;
  w_layer = std::max<size_t>(w_layer + 4, 32);
  w_shape = std::max<size_t>(w_shape + 4, 24);
  const std::string rule(w_layer + w_shape + w_params + w_act + w_flops, '=');
  std::ostringstream os;
  os << rule << '\n'
     << pad_right(h_layer, w_layer) << pad_right(h_shape, w_shape) << pad_left(h_params, w_params)
     << pad_left(h_act, w_act) << pad_left(h_flops, w_flops) << '\n'
     << rule << '\n';
  for (size_t r = 0; r < shapes.size(); ++r) {
    os << pad_right(labels[r].second, w_layer) << pad_right(shapes[r], w_shape)
       << pad_left(params[r], w_params) << pad_left(acts[r], w_act) << pad_left(flops[r], w_flops)
       << '\n';
  }
  os << rule << '\n';
  return os.str();
}

// For a Linear that refused a [N, features] input (typically after a Flatten): how many features
// actually arrive, and the layer to write instead. (For a feature map that was never flattened,
// linear's own message already gives the flattened size.)
std::string linear_hint(const Module& module, const Tensor& input) {
  const auto* linear = module.as<LinearImpl>();
  if (linear == nullptr || input.dim() != 2) return "";
  const int64_t in_features = linear->options.in_features(), arriving = input.size(1);
  if (arriving == in_features) return "";
  return tinytorch::detail::str(
      "\nhint: ", arriving, " features per sample reach this Linear (its input is ", input.sizes(),
      "), but it was built with in_features=", in_features, ": use in_features=", arriving,
      ", i.e. nn::Linear(", arriving, ", ", linear->options.out_features(), ")");
}

// Rethrows the exception being handled as the same kind of error, its message prefixed.
[[noreturn]] void rethrow_with_context(const std::string& before, const std::string& after) {
  try {
    throw;
  } catch (const NotImplementedError& e) {
    throw NotImplementedError(before + e.what() + after);
  } catch (const IndexError& e) {
    throw IndexError(before + e.what() + after);
  } catch (const TypeError& e) {
    throw TypeError(before + e.what() + after);
  } catch (const ValueError& e) {
    throw ValueError(before + e.what() + after);
  } catch (const std::exception& e) {
    throw Error(before + e.what() + after);
  }
}

class Walker {
 public:
  Walker(ModelSummary& summary, int64_t max_depth) : summary_(summary), max_depth_(max_depth) {}

  // Runs `module` on x, appending its row (and, for a Sequential, its children's) to the summary.
  Tensor run(const AnyModule& module, const std::string& name, int64_t depth, const Tensor& x) {
    Module& m = *module.ptr();
    const size_t row = summary_.layers.size();
    LayerSummary entry;
    entry.name = name;
    entry.type = m.name();
    entry.depth = depth;
    entry.input_shape = x.sizes().vec();
    std::tie(entry.parameters, entry.trainable_parameters) = count_parameters(m);
    auto* sequential = m.as<SequentialImpl>();
    entry.is_container = sequential != nullptr;
    summary_.layers.push_back(std::move(entry));
    finished_.push_back(false);

    Tensor y;
    if (sequential != nullptr) {
      // NOTE: a Sequential registers its children in the order it runs them, so the i-th
      // named child is the i-th module of the walk.
      const std::vector<std::string> names = sequential->named_children().keys();
      y = x;
      size_t i = 0;
      for (const AnyModule& child : *sequential) {
        const std::string& child_name = names.at(i++);
        const size_t child_row = summary_.layers.size();
        y = run(child, name.empty() ? child_name : name + "." + child_name, depth + 1, y);
        summary_.layers[row].activation_bytes += summary_.layers[child_row].activation_bytes;
        summary_.layers[row].flops += summary_.layers[child_row].flops;
      }
    } else {
      // The layer's FLOPs: its ops' counts under a profiler (none when the caller's own
      // profiler is running: only one may run, and the caller's records these ops already).
      std::optional<profiler::Profiler> prof;
      if (!profiler::detail::is_enabled()) {
        prof.emplace(profiler::ProfilerOptions().record_shapes(false).profile_memory(false));
      }
      try {
        y = module.forward(x);
      } catch (...) {
        prof.reset();
        fail(row, m, x);
      }
      int64_t layer_flops = 0;
      if (prof) {
        // NOTE: summary() is module 03's; the FLOP formulas are module 14's learner code. A
        // learner who has not written them yet still gets the rest of the summary.
        try {
          for (const profiler::Event& e : prof->events()) layer_flops += e.flops;
        } catch (const NotImplementedError&) {
          summary_.flops_counted = false;
        }
      }
      LayerSummary& entry_done = summary_.layers[row];
      entry_done.flops = layer_flops;
      entry_done.activation_bytes = y.defined() ? y.nbytes() : 0;
      summary_.activation_bytes += entry_done.activation_bytes;
      summary_.total_flops += layer_flops;
    }
    summary_.layers[row].output_shape = y.defined() ? y.sizes().vec() : std::vector<int64_t>{};
    finished_[row] = true;
    return y;
  }

 private:
  [[noreturn]] void fail(size_t row, const Module& m, const Tensor& x) {
    const LayerSummary& l = summary_.layers[row];
    std::ostringstream before;
    before << "summary: layer "
           << (l.name.empty() ? std::string("(the model)") : "'" + l.name + "'") << " (" << l.type
           << ") failed on its input of shape " << x.sizes() << ": ";
    std::ostringstream after;
    after << linear_hint(m, x);
    // The rows up to this one: the layers that ran, the containers this layer sits in (their
    // output does not exist yet), and the layer itself.
    std::vector<std::string> notes(row + 1);
    for (size_t i = 0; i < row; ++i) {
      if (!finished_[i]) notes[i] = "(running)";
    }
    notes[row] = "FAILED on " + shape_str(x.sizes().vec());
    after << "\nwhere it happened:\n" << layer_table(summary_.layers, max_depth_, &notes);
    rethrow_with_context(before.str(), after.str());
  }

  ModelSummary& summary_;
  int64_t max_depth_;
  std::vector<bool> finished_;  // [row]: its output is known
};

// Puts every module back in the train/eval mode it had, when the summary ends (also on error).
// NOTE: modules() is depth first, parent before child, and train(on) is recursive: restoring in
// that order lets each child's own flag overwrite what its parent's call set.
class TrainingModeRestorer {
 public:
  explicit TrainingModeRestorer(const Module& model) : modules_(model.modules()) {
    for (const auto& m : modules_) modes_.push_back(m->is_training());
  }
  ~TrainingModeRestorer() {
    for (size_t i = 0; i < modules_.size(); ++i) modules_[i]->train(modes_[i]);
  }
  TrainingModeRestorer(const TrainingModeRestorer&) = delete;
  TrainingModeRestorer& operator=(const TrainingModeRestorer&) = delete;

 private:
  std::vector<std::shared_ptr<Module>> modules_;
  std::vector<bool> modes_;
};

}  // namespace

ModelSummary summary(const AnyModule& model, IntArrayRef input_size,
                     const SummaryOptions& options) {
  TT_CHECK_VALUE(!model.is_empty(), "summary: the model is empty (a nullptr holder)");
  TT_CHECK_VALUE(input_size.size() > 0,
                 "summary: input_size is empty; give the shape of one input batch, e.g. {1, 1, "
                 "28, 28} for one Fashion-MNIST image (NCHW)");
  for (const int64_t s : input_size) {
    TT_CHECK_VALUE(s > 0, "summary: every dim of input_size must be positive, but got ", input_size,
                   " (the batch size comes first: {1, 1, 28, 28})");
  }
  const Module& root = *model.ptr();
  ModelSummary s;
  s.input_shape = input_size.vec();
  s.dtype = options.dtype();
  s.depth = options.depth();
  {
    std::unordered_set<const void*> seen;  // each tensor once (tied weights)
    for (const Tensor& p : root.parameters()) {
      s.total_parameters += p.numel();
      if (p.requires_grad()) s.trainable_parameters += p.numel();
      s.parameter_bytes += p.nbytes();
    }
    for (const Tensor& b : root.buffers()) {
      if (b.defined() && seen.insert(b.data_ptr()).second) s.buffer_bytes += b.nbytes();
    }
  }
  const Tensor input = zeros(input_size, TensorOptions(options.dtype()));
  s.input_bytes = input.nbytes();

  const TrainingModeRestorer restore(root);
  model.ptr()->eval();  // BatchNorm reads its running statistics and updates none
  const NoGradGuard no_grad;
  const Tensor out = Walker(s, options.depth()).run(model, "", 0, input);
  s.output_shape = out.defined() ? out.sizes().vec() : std::vector<int64_t>{};
  return s;
}

std::string ModelSummary::to_string() const {
  std::ostringstream os;
  const std::string table = layer_table(layers, depth);
  const std::string rule = table.substr(0, table.find('\n'));
  os << table << "Total params: " << with_commas(total_parameters) << '\n'
     << "Trainable params: " << with_commas(trainable_parameters) << '\n'
     << "Non-trainable params: " << with_commas(total_parameters - trainable_parameters) << '\n'
     << rule << '\n'
     << "Input size: " << human_bytes(input_bytes) << " (" << IntArrayRef(input_shape) << ' '
     << dtype << ")\n"
     << "Forward activations: " << human_bytes(activation_bytes)
     << " (the layers' outputs for this batch, kept for backward)\n"
     << "Params size: " << human_bytes(parameter_bytes) << '\n'
     << "Forward FLOPs: "
     << (flops_counted ? with_commas(total_flops) + " (matmul, linear, conv2d, attention)"
                       : std::string("-- (profiler::flops is module 14's to write)"))
     << '\n';
  if (buffer_bytes > 0) os << "Buffers size: " << human_bytes(buffer_bytes) << '\n';
  os << "Estimated total size: "
     << human_bytes(input_bytes + activation_bytes + parameter_bytes + buffer_bytes) << '\n'
     << rule << '\n';
  return os.str();
}

std::ostream& operator<<(std::ostream& stream, const ModelSummary& summary) {
  return stream << summary.to_string();
}

}  // namespace tinytorch::nn
