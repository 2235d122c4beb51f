// The recorder and the programs' context (recorder.h).
#include "recorder.h"

#include <cmath>
#include <exception>

#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/autograd/node.h"
#include "tinytorch/profiler/profiler.h"

namespace tinytorch::diagnose {

namespace {

// Reads the first `count` elements of t in row-major order from its memory, through its strides.
template <typename T>
void read_strided(const Tensor& t, int64_t count, std::vector<double>& out) {
  const auto* base = static_cast<const T*>(t.data_ptr());
  const auto sizes = t.sizes();
  const auto strides = t.strides();
  const size_t ndim = sizes.size();
  std::vector<int64_t> index(ndim, 0);
  int64_t offset = 0;
  for (int64_t k = 0; k < count; ++k) {
    out.push_back(static_cast<double>(base[offset]));
    // Odometer: step the last index, carrying into the ones before it.
    for (size_t d = ndim; d-- > 0;) {
      if (++index[d] < sizes[d]) {
        offset += strides[d];
        break;
      }
      offset -= (sizes[d] - 1) * strides[d];
      index[d] = 0;
    }
  }
}

}  // namespace

TensorRecord record_tensor(const Tensor& t, const std::string& name) {
  TensorRecord r;
  r.defined = t.defined();
  if (!r.defined) return r;
  r.name = name;
  r.dtype = std::string(to_string(t.dtype()));
  r.sizes = t.sizes().vec();
  const int64_t count = std::min<int64_t>(t.numel(), static_cast<int64_t>(kMaxValues));
  r.cut = count < t.numel();
  r.values.reserve(static_cast<size_t>(count));
  dispatch_storage_types(t.dtype(), "record_tensor",
                         [&]<typename T>() { read_strided<T>(t, count, r.values); });
  return r;
}

// ── TraceRecorder
// ──────────────────────────────────────────────────────────────────────────────────

void TraceRecorder::begin_program(const std::string& name, const std::string& where) {
  const std::lock_guard<std::mutex> lock(mu_);
  names_.clear();
  kept_.clear();
  outputs_.clear();
  layers_.clear();
  last_layer_.clear();
  nodes_.clear();
  running_.clear();
  writer_.write({EventKind::kProgram, name, "", where, {}, {}});
}

void TraceRecorder::value(const std::string& name, const Tensor& t, const std::string& files) {
  const std::lock_guard<std::mutex> lock(mu_);
  writer_.write({EventKind::kValue, name, "", files, {}, {record_tensor(t, name)}});
}

void TraceRecorder::error(const std::string& message) {
  const std::lock_guard<std::mutex> lock(mu_);
  running_.clear();
  writer_.write({EventKind::kError, message, "", "", {}, {}});
}

void TraceRecorder::name_tensor(const Tensor& t, const std::string& name) {
  const std::lock_guard<std::mutex> lock(mu_);
  names_[t.unsafeGetTensorImpl()] = name;
  kept_.push_back(t);
}

void TraceRecorder::set_layers(std::map<std::string, std::string> layers) {
  const std::lock_guard<std::mutex> lock(mu_);
  layers_ = std::move(layers);
}

// "layer 0 (Linear)" for an op given a parameter of layer 0; "after layer 0 (Linear)" for one
// given none, after an op that was; "" before the first.
std::string TraceRecorder::layer_of(const std::vector<Tensor>& inputs) {
  for (const Tensor& t : inputs) {
    if (!t.defined()) continue;
    const auto it = names_.find(t.unsafeGetTensorImpl());
    if (it == names_.end()) continue;
    const auto dot = it->second.rfind('.');
    if (dot == std::string::npos) continue;
    const std::string path = it->second.substr(0, dot);
    const auto type = layers_.find(path);
    last_layer_ = "layer " + path + (type != layers_.end() ? " (" + type->second + ")" : "");
    return last_layer_;
  }
  return last_layer_.empty() ? "" : "after " + last_layer_;
}

bool TraceRecorder::recorded(const Tensor& t) const {
  const TensorImpl* impl = t.unsafeGetTensorImpl();
  if (names_.count(impl) != 0) return true;
  const auto it = outputs_.find(impl);
  return it != outputs_.end() && it->second.lock().get() == impl;
}

TensorRecord TraceRecorder::input_record(const Tensor& t) const {
  if (!t.defined() || !recorded(t)) return record_tensor(t);
  TensorRecord shape_only;
  shape_only.defined = true;
  const auto name = names_.find(t.unsafeGetTensorImpl());
  shape_only.name = name != names_.end() ? name->second : "";
  shape_only.dtype = std::string(to_string(t.dtype()));
  shape_only.sizes = t.sizes().vec();
  shape_only.elsewhere = true;
  return shape_only;
}

void TraceRecorder::remember_output(const Tensor& t) {
  if (t.defined()) outputs_[t.unsafeGetTensorImpl()] = t.getIntrusivePtr();
}

void TraceRecorder::forward_op(const char* node_name, const std::vector<Tensor>& inputs,
                               const Tensor& output) {
  const std::lock_guard<std::mutex> lock(mu_);
  Event e{EventKind::kForward, node_name, profiler::detail::forward_op_name(node_name),
          layer_of(inputs),    {},        {}};
  for (const Tensor& t : inputs) e.inputs.push_back(input_record(t));
  e.outputs.push_back(record_tensor(output));
  remember_output(output);
  if (const auto& node = output.grad_fn()) nodes_[node->sequence_nr()] = {e.op, e.where};
  writer_.write(e);
}

void TraceRecorder::backward_begin(const autograd::Node& node,
                                   const autograd::variable_list& grads) {
  const std::lock_guard<std::mutex> lock(mu_);
  Event e{EventKind::kBackward, node.name(), "", "", {}, {}};
  if (const auto it = nodes_.find(node.sequence_nr()); it != nodes_.end()) {
    e.op = it->second.first;
    e.where = it->second.second;
  } else if (const auto* sink = dynamic_cast<const autograd::AccumulateGrad*>(&node)) {
    const Tensor leaf = sink->variable();
    const auto name = leaf.defined() ? names_.find(leaf.unsafeGetTensorImpl()) : names_.end();
    e.where = name != names_.end() ? "leaf " + name->second : "a leaf";
  }
  // A gradient the engine passed on unchanged is a node's output recorded already; one it summed
  // or reduced to its input's shape is a new tensor, recorded here.
  for (const Tensor& g : grads) e.inputs.push_back(input_record(g));
  running_.push_back(std::move(e));
}

void TraceRecorder::backward_end(const autograd::Node& node,
                                 const autograd::variable_list& result) {
  const std::lock_guard<std::mutex> lock(mu_);
  if (running_.empty() || running_.back().name != node.name()) return;  // begun before an error
  Event e = std::move(running_.back());
  running_.pop_back();
  for (const Tensor& g : result) {
    e.outputs.push_back(record_tensor(g));
    remember_output(g);
  }
  writer_.write(e);
}

// ── Context ───────────────────────────────────────────────────────────────────────────────────

Context::Context(TraceRecorder& recorder, const std::string& program) : recorder_(recorder) {
  // FNV-1a of the program's name: each program has its own stream, whatever runs before it.
  state_ = 1469598103934665603ull;
  for (const char ch : program)
    state_ = (state_ ^ static_cast<unsigned char>(ch)) * 1099511628211ull;
}

double Context::uniform(double lo, double hi) {
  // splitmix64, then the top 53 bits as a double in [0, 1).
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return lo + (hi - lo) * static_cast<double>(z >> 11) * 0x1.0p-53;
}

Tensor Context::constant(std::vector<int64_t> sizes, double lo, double hi) {
  int64_t n = 1;
  for (const int64_t s : sizes) n *= s;
  std::vector<float> values(static_cast<size_t>(n));
  for (float& v : values) v = static_cast<float>(uniform(lo, hi));
  return from_vector(values, sizes);
}

Tensor Context::input(const std::string& name, std::vector<int64_t> sizes, double lo, double hi,
                      bool requires_grad) {
  Tensor t = constant(std::move(sizes), lo, hi);
  recorder_.name_tensor(t, name);
  recorder_.value(name, t);
  if (requires_grad) {
    t.set_requires_grad(true);
    leaves_.emplace_back(name, t);
  }
  return t;
}

Tensor Context::indices(const std::string& name, std::vector<int64_t> sizes, int64_t high) {
  int64_t n = 1;
  for (const int64_t s : sizes) n *= s;
  std::vector<int64_t> values(static_cast<size_t>(n));
  for (int64_t& v : values) {
    v = std::min<int64_t>(static_cast<int64_t>(uniform(0.0, static_cast<double>(high))), high - 1);
  }
  Tensor t = from_vector(values, sizes);
  recorder_.name_tensor(t, name);
  recorder_.value(name, t);
  return t;
}

Tensor Context::project(const std::vector<Tensor>& outputs) {
  Tensor total;
  for (const Tensor& out : outputs) {
    const Tensor term = (out * constant(out.sizes().vec())).sum();
    total = total.defined() ? total + term : term;
  }
  return total;
}

void Context::backward(const Tensor& loss) {
  recorder_.value("loss", loss);
  loss.backward();
  // The leaves' gradients, as AccumulateGrad (autograd/node.cpp) left them.
  for (const auto& [name, leaf] : leaves_) {
    recorder_.value("grad " + name, leaf.grad(), "tinytorch/src/autograd/node.cpp");
  }
}

void Context::value(const std::string& name, double v, const std::string& files) {
  recorder_.value(name, from_vector(std::vector<double>{v}, {}), files);
}

void Context::value(const std::string& name, const std::vector<int64_t>& v,
                    const std::string& files) {
  recorder_.value(name, from_vector(v, {static_cast<int64_t>(v.size())}), files);
}

void Context::value(const std::string& name, const std::vector<double>& v,
                    const std::string& files) {
  recorder_.value(name, from_vector(v, {static_cast<int64_t>(v.size())}), files);
}

void Context::set_parameters(const nn::Module& model) {
  std::map<std::string, std::string> layers;
  for (const auto& item : model.named_modules()) {
    if (!item.key().empty()) layers[item.key()] = item.value()->name();
  }
  recorder_.set_layers(std::move(layers));
  const NoGradGuard no_grad;
  for (const auto& item : model.named_parameters()) {
    Tensor p = item.value();
    const bool bias = item.key().ends_with("bias");
    const double fan_in = p.dim() >= 2 ? static_cast<double>(p.numel() / p.size(0)) : 1.0;
    const double bound = p.dim() >= 2 ? 1.0 / std::sqrt(fan_in) : 0.1;
    const double center = p.dim() == 1 && !bias ? 1.0 : 0.0;
    p.copy_(constant(p.sizes().vec(), center - bound, center + bound));
    recorder_.name_tensor(p, item.key());
    recorder_.value(item.key(), p, "tinytorch/src/kernels/strided_loop.cpp");  // copy_ wrote it
    leaves_.emplace_back(item.key(), p);
  }
}

// ── running ───────────────────────────────────────────────────────────────────────────────────

void run_programs(const std::vector<Program>& programs, TraceRecorder& recorder) {
  const autograd::OpObserverGuard observe(&recorder);
  for (const Program& program : programs) {
    recorder.begin_program(program.name, program.owner);
    const kernels::TierGuard tier(program.tier);
    try {
      Context context(recorder, program.name);
      program.run(context);
    } catch (const std::exception& e) {
      recorder.error(e.what());
    }
  }
}

}  // namespace tinytorch::diagnose
