// Exported model files and the inference-only loader (deploy/model_file.h, module 20).
#include "tinytorch/deploy/model_file.h"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <optional>
#include <set>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/core/exception.h"
#include "tinytorch/nn/modules/quantized_linear.h"
#include "tinytorch/nn/nn.h"
#include "tinytorch/serialize/archive.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch::deploy {
namespace {

using json = nlohmann::json;

// ── one record per layer type ─────────────────────────────────────────────────────────────
// A layer's record is its type and its options, the same keys its printed form uses:
//   {"name": "0", "type": "Linear", "in_features": 784, "out_features": 256, "bias": true}
// Each kind knows how to write the record of a module of its type and how to build one back.

template <size_t D>
json to_json(const ExpandingArray<D>& a) {
  json j = json::array();
  for (size_t i = 0; i < D; ++i) j.push_back(a[i]);
  return j;
}

// A JSON value that must be an integer, as int64. nlohmann's get<int64_t>() would convert a
// float such as 1e300 with an undefined cast, and an unsigned number past INT64_MAX into a
// negative one: both are refused first.
int64_t as_int(const json& value, std::string_view key) {
  TT_CHECK_VALUE(
      value.is_number_integer() && (!value.is_number_unsigned() ||
                                    value.get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX)),
      "'", key, "' must be an integer that fits int64, got ", value.dump());
  return value.get<int64_t>();
}

// A record's integer option (as_int).
int64_t int_at(const json& record, const char* key) {
  return as_int(record.at(key), key);
}

// A record's list of integers (as_int each).
std::vector<int64_t> ints_at(const json& record, const char* key) {
  const json& list = record.at(key);
  TT_CHECK_VALUE(list.is_array(), "'", key, "' must be a list of integers, got ", list.dump());
  std::vector<int64_t> v;
  for (const json& x : list) v.push_back(as_int(x, key));
  return v;
}

// A record's list option of D values, each in [lo, 2^24] (kernel sizes, strides and dilations
// from 1, padding from 0): an unchecked one would reach the output-size arithmetic.
template <size_t D>
ExpandingArray<D> pair_at(const json& record, const char* key, int64_t lo = 1) {
  const std::vector<int64_t> v = ints_at(record, key);
  TT_CHECK_VALUE(v.size() == D, "'", key, "' must hold ", D, " values, got ", v.size());
  for (const int64_t x : v) {
    TT_CHECK_VALUE(x >= lo && x <= (int64_t{1} << 24), "'", key, "' values must be in [", lo,
                   ", 2^24], got ", x);
  }
  return ExpandingArray<D>(IntArrayRef(v));
}

// A record's integer option that must be > 0 (sizes): a negative size from a hostile file would
// reach an allocation.
int64_t size_at(const json& record, const char* key) {
  const int64_t v = int_at(record, key);
  TT_CHECK_VALUE(v > 0 && v <= (int64_t{1} << 24), "'", key, "' must be in [1, 2^24], got ", v);
  return v;
}

using Describe = std::function<std::optional<json>(const nn::Module&)>;
using Build = std::function<nn::AnyModule(const json&)>;

struct LayerKind {
  std::string type;
  Describe describe;  // nullopt when the module is of another kind
  Build build;
};

// A kind for the module class Impl: `options(impl)` gives the record's options, `make(record)`
// builds an Impl from them.
template <typename Impl, typename Options, typename Make>
LayerKind kind(std::string type, Options options, Make make) {
  return {type,
          [options](const nn::Module& m) -> std::optional<json> {
            const auto* impl = dynamic_cast<const Impl*>(&m);
            if (impl == nullptr) return std::nullopt;
            return options(*impl);
          },
          [make](const json& record) { return nn::AnyModule(make(record)); }};
}

// A layer without options (ReLU(), Sigmoid(), ...).
template <typename Impl>
LayerKind plain(std::string type) {
  return kind<Impl>(
      std::move(type), [](const Impl&) { return json::object(); },
      [](const json&) { return std::make_shared<Impl>(); });
}

// BatchNorm1d and BatchNorm2d: the same options (the momentum only matters in training).
template <typename Impl>
LayerKind batch_norm(std::string type) {
  return kind<Impl>(
      std::move(type),
      [](const Impl& m) {
        json r{{"num_features", m.options.num_features()},
               {"eps", m.options.eps()},
               {"affine", m.options.affine()},
               {"track_running_stats", m.options.track_running_stats()}};
        // Only when set: files of unfused layers stay as they were, and older files load.
        if (m.options.fuse_relu()) r["fuse_relu"] = true;
        return r;
      },
      [](const json& r) {
        return std::make_shared<Impl>(
            nn::BatchNormOptions(size_at(r, "num_features"))
                .eps(r.at("eps").get<double>())
                .affine(r.at("affine").get<bool>())
                .track_running_stats(r.at("track_running_stats").get<bool>())
                .fuse_relu(r.contains("fuse_relu") && r.at("fuse_relu").get<bool>()));
      });
}

const std::vector<LayerKind>& layer_kinds() {
  static const std::vector<LayerKind> kinds = {
      kind<nn::LinearImpl>(
          "Linear",
          [](const nn::LinearImpl& m) {
            TT_CHECK_TYPE(m.options.dtype() == kFloat32,
                          "export: only float32 Linear layers can be exported, got ",
                          m.options.dtype());
            return json{{"in_features", m.options.in_features()},
                        {"out_features", m.options.out_features()},
                        {"bias", m.options.bias()}};
          },
          [](const json& r) {
            return std::make_shared<nn::LinearImpl>(
                nn::LinearOptions(size_at(r, "in_features"), size_at(r, "out_features"))
                    .bias(r.at("bias").get<bool>()));
          }),
      // The int8 Linear's weights are not parameters: its builder is given them (load()).
      kind<nn::quantized::dynamic::LinearImpl>(
          "DynamicQuantizedLinear",
          [](const nn::quantized::dynamic::LinearImpl& m) {
            return json{{"in_features", m.in_features()},
                        {"out_features", m.out_features()},
                        {"bias", m.bias().defined()},
                        {"per_channel", m.per_channel()}};
          },
          [](const json&) -> std::shared_ptr<nn::quantized::dynamic::LinearImpl> {
            return nullptr;
          }),
      kind<nn::Conv2dImpl>(
          "Conv2d",
          [](const nn::Conv2dImpl& m) {
            TT_CHECK_TYPE(m.options.dtype() == kFloat32,
                          "export: only float32 Conv2d layers can be exported, got ",
                          m.options.dtype());
            return json{{"in_channels", m.options.in_channels()},
                        {"out_channels", m.options.out_channels()},
                        {"kernel_size", to_json(m.options.kernel_size())},
                        {"stride", to_json(m.options.stride())},
                        {"padding", to_json(m.options.padding())},
                        {"dilation", to_json(m.options.dilation())},
                        {"groups", m.options.groups()},
                        {"bias", m.options.bias()}};
          },
          [](const json& r) {
            return std::make_shared<nn::Conv2dImpl>(nn::Conv2dOptions(size_at(r, "in_channels"),
                                                                      size_at(r, "out_channels"),
                                                                      pair_at<2>(r, "kernel_size"))
                                                        .stride(pair_at<2>(r, "stride"))
                                                        .padding(pair_at<2>(r, "padding", 0))
                                                        .dilation(pair_at<2>(r, "dilation"))
                                                        .groups(size_at(r, "groups"))
                                                        .bias(r.at("bias").get<bool>()));
          }),
      kind<nn::MaxPool2dImpl>(
          "MaxPool2d",
          [](const nn::MaxPool2dImpl& m) {
            return json{{"kernel_size", to_json(m.options.kernel_size())},
                        {"stride", to_json(m.options.stride())},
                        {"padding", to_json(m.options.padding())},
                        {"dilation", to_json(m.options.dilation())},
                        {"ceil_mode", m.options.ceil_mode()}};
          },
          [](const json& r) {
            return std::make_shared<nn::MaxPool2dImpl>(
                nn::MaxPool2dOptions(pair_at<2>(r, "kernel_size"))
                    .stride(pair_at<2>(r, "stride"))
                    .padding(pair_at<2>(r, "padding", 0))
                    .dilation(pair_at<2>(r, "dilation"))
                    .ceil_mode(r.at("ceil_mode").get<bool>()));
          }),
      kind<nn::AvgPool2dImpl>(
          "AvgPool2d",
          [](const nn::AvgPool2dImpl& m) {
            TT_CHECK_TYPE(!m.options.divisor_override().has_value(),
                          "export: AvgPool2d with divisor_override has no record");
            return json{{"kernel_size", to_json(m.options.kernel_size())},
                        {"stride", to_json(m.options.stride())},
                        {"padding", to_json(m.options.padding())},
                        {"ceil_mode", m.options.ceil_mode()},
                        {"count_include_pad", m.options.count_include_pad()}};
          },
          [](const json& r) {
            return std::make_shared<nn::AvgPool2dImpl>(
                nn::AvgPool2dOptions(pair_at<2>(r, "kernel_size"))
                    .stride(pair_at<2>(r, "stride"))
                    .padding(pair_at<2>(r, "padding", 0))
                    .ceil_mode(r.at("ceil_mode").get<bool>())
                    .count_include_pad(r.at("count_include_pad").get<bool>()));
          }),
      batch_norm<nn::BatchNorm1dImpl>("BatchNorm1d"),
      batch_norm<nn::BatchNorm2dImpl>("BatchNorm2d"),
      kind<nn::FlattenImpl>(
          "Flatten",
          [](const nn::FlattenImpl& m) {
            return json{{"start_dim", m.options.start_dim()}, {"end_dim", m.options.end_dim()}};
          },
          [](const json& r) {
            return std::make_shared<nn::FlattenImpl>(nn::FlattenOptions()
                                                         .start_dim(int_at(r, "start_dim"))
                                                         .end_dim(int_at(r, "end_dim")));
          }),
      kind<nn::DropoutImpl>(
          "Dropout",
          [](const nn::DropoutImpl& m) {
            return json{{"p", m.options.p()}};
          },
          [](const json& r) {
            return std::make_shared<nn::DropoutImpl>(nn::DropoutOptions(r.at("p").get<double>()));
          }),
      kind<nn::LeakyReLUImpl>(
          "LeakyReLU",
          [](const nn::LeakyReLUImpl& m) {
            return json{{"negative_slope", m.options.negative_slope()}};
          },
          [](const json& r) {
            return std::make_shared<nn::LeakyReLUImpl>(
                nn::LeakyReLUOptions().negative_slope(r.at("negative_slope").get<double>()));
          }),
      kind<nn::GELUImpl>(
          "GELU",
          [](const nn::GELUImpl& m) {
            return json{{"approximate", m.options.approximate()}};
          },
          [](const json& r) {
            return std::make_shared<nn::GELUImpl>(
                nn::GELUOptions(r.at("approximate").get<std::string>()));
          }),
      kind<nn::SoftmaxImpl>(
          "Softmax",
          [](const nn::SoftmaxImpl& m) {
            return json{{"dim", m.options.dim()}};
          },
          [](const json& r) { return std::make_shared<nn::SoftmaxImpl>(int_at(r, "dim")); }),
      kind<nn::LogSoftmaxImpl>(
          "LogSoftmax",
          [](const nn::LogSoftmaxImpl& m) {
            return json{{"dim", m.options.dim()}};
          },
          [](const json& r) { return std::make_shared<nn::LogSoftmaxImpl>(int_at(r, "dim")); }),
      plain<nn::ReLUImpl>("ReLU"),
      plain<nn::SigmoidImpl>("Sigmoid"),
      plain<nn::TanhImpl>("Tanh"),
      plain<nn::SiLUImpl>("SiLU"),
      plain<nn::IdentityImpl>("Identity"),
  };
  return kinds;
}

json describe(const nn::Module& model);

json describe_gpt(const nn::GPTImpl& gpt) {
  const nn::GPTConfig& c = gpt.config;
  TT_CHECK_TYPE(c.dtype == kFloat32, "export: only a float32 GPT can be exported, got ", c.dtype);
  return json{{"type", "GPT"},        {"vocab_size", c.vocab_size},  {"block_size", c.block_size},
              {"n_layer", c.n_layer}, {"n_head", c.n_head},          {"n_embd", c.n_embd},
              {"bias", c.bias},       {"tie_weights", c.tie_weights}};
}

json describe(const nn::Module& model) {
  if (const auto* gpt = dynamic_cast<const nn::GPTImpl*>(&model)) return describe_gpt(*gpt);
  if (const auto* seq = dynamic_cast<const nn::SequentialImpl*>(&model)) {
    json layers = json::array();
    for (const auto& [name, child] : seq->named_children()) {
      json record = describe(*child);
      record["name"] = name;
      layers.push_back(std::move(record));
    }
    return json{{"type", "Sequential"}, {"layers", std::move(layers)}};
  }
  for (const LayerKind& k : layer_kinds()) {
    if (auto options = k.describe(model)) {
      json record = {{"type", k.type}};
      record.update(*options);
      return record;
    }
  }
  std::string names;
  for (const LayerKind& k : layer_kinds()) names += ", " + k.type;
  throw TypeError(detail::str("export: no architecture record for a ", model.name(),
                              " module (supported: Sequential, GPT", names, ")"));
}

// The tensors of a file under "model.", by their key without the prefix; build() takes those of
// the int8 layers (which are not parameters) out, and load() checks every one was used.
using TensorMap = OrderedDict<std::string, Tensor>;

// The int8 Linear at `path` ("3." in a Sequential) from its three tensors.
nn::AnyModule build_quantized_linear(const json& record, const std::string& path,
                                     const TensorMap& tensors, std::set<std::string>& used) {
  // BEGIN SOLUTION
  const int64_t in = size_at(record, "in_features"), out = size_at(record, "out_features");
  auto take = [&](const std::string& key) -> Tensor {
    const Tensor* t = tensors.find(path + key);
    TT_CHECK_VALUE(t != nullptr, "missing tensor 'model.", path, key, "' of the int8 Linear");
    used.insert(path + key);
    return *t;
  };
  const Tensor weight = take("weight"), scales = take("weight_scale");
  TT_CHECK_VALUE(weight.sizes() == IntArrayRef({out, in}), "tensor 'model.", path,
                 "weight' has shape ", weight.sizes(), ", the record says [", out, ", ", in, "]");
  const Tensor bias = record.at("bias").get<bool>() ? take("bias") : Tensor();
  return nn::AnyModule(std::make_shared<nn::quantized::dynamic::LinearImpl>(weight, scales, bias));
  // END SOLUTION
}

// One layer of a Sequential (or a nested Sequential) from its record.
nn::AnyModule build_layer(const json& record, const std::string& path, const TensorMap* tensors,
                          std::set<std::string>& used) {
  const auto type = record.at("type").get<std::string>();
  if (type == "Sequential") {
    auto seq = std::make_shared<nn::SequentialImpl>();
    for (const json& layer : record.at("layers")) {
      const auto name = layer.at("name").get<std::string>();
      seq->push_back(name, build_layer(layer, path + name + ".", tensors, used));
    }
    return nn::AnyModule(seq);
  }
  if (type == "DynamicQuantizedLinear") {
    TT_CHECK_VALUE(tensors != nullptr,
                   "an int8 Linear can only be built with its weights (InferenceModel::load)");
    return build_quantized_linear(record, path, *tensors, used);
  }
  for (const LayerKind& k : layer_kinds()) {
    if (k.type == type) return k.build(record);
  }
  throw ValueError(detail::str("unknown layer type '", type, "'"));
}

// The whole model: a GPT, or a layer (a Sequential).
std::shared_ptr<nn::Module> build(const json& record, const TensorMap* tensors,
                                  std::set<std::string>& used) {
  if (record.at("type").get<std::string>() != "GPT") {
    return build_layer(record, "", tensors, used).ptr();
  }
  nn::GPTConfig c;
  c.vocab_size = size_at(record, "vocab_size");
  c.block_size = size_at(record, "block_size");
  c.n_layer = size_at(record, "n_layer");
  c.n_head = size_at(record, "n_head");
  c.n_embd = size_at(record, "n_embd");
  c.bias = record.at("bias").get<bool>();
  c.tie_weights = record.at("tie_weights").get<bool>();
  return std::make_shared<nn::GPTImpl>(c);
}

// ── what a record may ask of the machine ──────────────────────────────────────────────────
// Every size in a record is at most 2^24, but their products are not bounded: a record of a few
// bytes can declare a Linear of 2^48 weights. Before anything is built, the parameters a record
// declares must be backed by the file's own tensors (params_bytes); before the probe forward,
// every layer's output and work must fit ModelLimits (checked layer by layer in probe_forward()).

// a * b and a + b for sizes >= 0, saturating at INT64_MAX instead of overflowing.
int64_t mul_sat(int64_t a, int64_t b) {
  int64_t r = 0;
  return __builtin_mul_overflow(a, b, &r) ? INT64_MAX : r;
}
int64_t add_sat(int64_t a, int64_t b) {
  int64_t r = 0;
  return __builtin_add_overflow(a, b, &r) ? INT64_MAX : r;
}

// The bytes of the float parameters and buffers the record's layers allocate when built (at
// least: the GPT's small LayerNorm and bias vectors are left out, they are bounded by the matrices
// counted). An int8 Linear counts 0: it is built from the file's tensors, not allocated.
// Sequentials nest at most kMaxDepth deep: building, loading and running a model recurse once
// per level, and a record nested a million levels deep is a few megabytes.
int64_t params_bytes(const json& record, int depth = 0) {
  constexpr int kMaxDepth = 64;
  const auto type = record.at("type").get<std::string>();
  const auto f32 = [](int64_t elements) { return mul_sat(elements, 4); };
  if (type == "Sequential") {
    TT_CHECK_VALUE(depth < kMaxDepth, "Sequentials nested more than ", kMaxDepth,
                   " deep; expected at most ", kMaxDepth);
    int64_t total = 0;
    for (const json& layer : record.at("layers")) {
      total = add_sat(total, params_bytes(layer, depth + 1));
    }
    return total;
  }
  if (type == "Linear") {
    const int64_t in = size_at(record, "in_features"), out = size_at(record, "out_features");
    return f32(add_sat(mul_sat(in, out), record.at("bias").get<bool>() ? out : 0));
  }
  if (type == "Conv2d") {
    const int64_t in = size_at(record, "in_channels"), out = size_at(record, "out_channels");
    const int64_t groups = size_at(record, "groups");
    TT_CHECK_VALUE(in % groups == 0 && out % groups == 0, "Conv2d: in_channels ", in,
                   " and out_channels ", out, " must both be divisible by groups ", groups);
    const auto k = pair_at<2>(record, "kernel_size");
    const int64_t weight = mul_sat(mul_sat(out, in / groups), mul_sat(k[0], k[1]));
    return f32(add_sat(weight, record.at("bias").get<bool>() ? out : 0));
  }
  if (type == "BatchNorm1d" || type == "BatchNorm2d") {
    const int64_t c = size_at(record, "num_features");
    const int64_t vectors = (record.at("affine").get<bool>() ? 2 : 0) +
                            (record.at("track_running_stats").get<bool>() ? 2 : 0);
    return f32(mul_sat(c, vectors));
  }
  if (type == "GPT") {
    const int64_t v = size_at(record, "vocab_size"), t = size_at(record, "block_size");
    const int64_t layers = size_at(record, "n_layer"), d = size_at(record, "n_embd");
    // wte [V, d], wpe [T, d], per block c_attn [3d, d], c_proj [d, d], c_fc [4d, d],
    // mlp c_proj [d, 4d]; lm_head [V, d] unless it is wte.
    int64_t elements = mul_sat(add_sat(v, t), d);
    elements = add_sat(elements, mul_sat(layers, mul_sat(12, mul_sat(d, d))));
    if (!record.at("tie_weights").get<bool>()) elements = add_sat(elements, mul_sat(v, d));
    return f32(elements);
  }
  return 0;
}

// The one way a record becomes a module, for InferenceModel::load and build_module (tito export)
// alike: first the limits — Sequentials nested at most 64 deep (params_bytes), and parameters
// declared only as far as `tensors`, the model's own, back them — then build().
// NOTE: checked before build() allocates: the record's sizes are only trusted as far as the
// tensors back them. The slack (twice, plus 64 KiB) leaves a small shortfall — a missing tensor —
// to load_state_dict, whose error names the key; it still bounds what a record can allocate by
// the size of the tensors beside it (a file's, or a checkpoint's).
std::shared_ptr<nn::Module> build_checked(const json& record, const TensorMap& tensors,
                                          std::set<std::string>& used) {
  int64_t tensor_bytes = 0;
  for (const auto& [key, t] : tensors) tensor_bytes = add_sat(tensor_bytes, t.nbytes());
  const int64_t needed = params_bytes(record);
  TT_CHECK_VALUE(needed <= add_sat(mul_sat(tensor_bytes, 2), int64_t{1} << 16),
                 "the architecture declares layers of ", needed,
                 " bytes of parameters, but the model's tensors hold only ", tensor_bytes,
                 " bytes");
  return build(record, &tensors, used);
}

// Output values and work (multiply-adds; for elementwise layers one per value) of one module on
// an input of `sizes`, predicted from its options before it runs; nullopt for a module that does
// not accept the input — its forward then raises its own error before computing anything.
struct Cost {
  int64_t outputs = 0;
  int64_t buffer = 0;  // the largest temporary it builds (a convolution's unfolded input)
  int64_t macs = 0;
};

// Output rows/columns of a window of `k` taps, `d` apart, sliding by `s` over `n` + 2 `p`.
int64_t windows(int64_t n, int64_t k, int64_t s, int64_t p, int64_t d, bool ceil_mode) {
  const int64_t span = add_sat(n, 2 * p) - mul_sat(d, k - 1) - 1;
  if (span < 0) return 0;
  return (ceil_mode ? (span + s - 1) / s : span / s) + 1;
}

std::optional<Cost> predict(const nn::Module& m, IntArrayRef sizes) {
  int64_t numel = 1;
  for (const int64_t s : sizes) numel = mul_sat(numel, s);
  if (numel == 0) return Cost{};
  const auto linear = [&](int64_t in, int64_t out) -> std::optional<Cost> {
    if (sizes.empty() || sizes.back() != in) return std::nullopt;
    const int64_t rows = numel / in;
    return Cost{mul_sat(rows, out), 0, mul_sat(numel, out)};
  };
  // A 2-d window over the last two dims: the output values per (batch, channel) plane, the taps.
  const auto window = [&](ExpandingArray<2> k, ExpandingArray<2> s, ExpandingArray<2> p,
                          ExpandingArray<2> d, bool ceil_mode) -> std::optional<int64_t> {
    if (sizes.size() < 3) return std::nullopt;
    const size_t n = sizes.size();
    const int64_t h = windows(sizes[n - 2], k[0], s[0], p[0], d[0], ceil_mode);
    const int64_t w = windows(sizes[n - 1], k[1], s[1], p[1], d[1], ceil_mode);
    if (h <= 0 || w <= 0) return std::nullopt;
    return mul_sat(h, w);
  };
  if (const auto* l = dynamic_cast<const nn::LinearImpl*>(&m)) {
    return linear(l->options.in_features(), l->options.out_features());
  }
  if (const auto* q = dynamic_cast<const nn::quantized::dynamic::LinearImpl*>(&m)) {
    return linear(q->in_features(), q->out_features());
  }
  if (const auto* c = dynamic_cast<const nn::Conv2dImpl*>(&m)) {
    const auto& o = c->options;
    const auto plane = window(o.kernel_size(), o.stride(), o.padding(), o.dilation(), false);
    const size_t n = sizes.size();
    if (!plane || sizes[n - 3] != o.in_channels()) return std::nullopt;
    const int64_t batch = numel / (sizes[n - 3] * sizes[n - 2] * sizes[n - 1]);
    const int64_t taps =
        mul_sat(o.in_channels() / o.groups(), mul_sat(o.kernel_size()[0], o.kernel_size()[1]));
    const int64_t outputs = mul_sat(mul_sat(batch, o.out_channels()), *plane);
    return Cost{outputs, mul_sat(mul_sat(batch, *plane), mul_sat(taps, o.groups())),
                mul_sat(outputs, taps)};
  }
  const auto pool = [&](const auto& o, ExpandingArray<2> dilation) -> std::optional<Cost> {
    const auto plane = window(o.kernel_size(), o.stride(), o.padding(), dilation, o.ceil_mode());
    if (!plane) return std::nullopt;
    const size_t n = sizes.size();
    const int64_t outputs = mul_sat(numel / (sizes[n - 2] * sizes[n - 1]), *plane);
    const int64_t work = mul_sat(outputs, mul_sat(o.kernel_size()[0], o.kernel_size()[1]));
    return Cost{outputs, work, work};
  };
  if (const auto* p = dynamic_cast<const nn::MaxPool2dImpl*>(&m)) {
    return pool(p->options, p->options.dilation());
  }
  if (const auto* p = dynamic_cast<const nn::AvgPool2dImpl*>(&m)) {
    return pool(p->options, ExpandingArray<2>(1));
  }
  return Cost{numel, 0, numel};  // the others keep the number of values
}

// The forward of `seq` on `x`, one module at a time, each checked against `limits` first: the
// load's probe, so a record whose layers would compute more per sample than the limits allow is
// refused before it computes. `path` names the layers in errors ("3.1." for a nested one).
Tensor probe_forward(const nn::SequentialImpl& seq, const Tensor& x, const ModelLimits& limits,
                     int64_t& macs, const std::string& path = "") {
  Tensor out = x;
  size_t i = 0;
  for (const auto& [name, child] : seq.named_children()) {
    const nn::AnyModule& module = *std::next(seq.begin(), static_cast<std::ptrdiff_t>(i++));
    if (const auto* inner = dynamic_cast<const nn::SequentialImpl*>(child.get())) {
      out = probe_forward(*inner, out, limits, macs, path + name + ".");
      continue;
    }
    if (const std::optional<Cost> cost = predict(*child, out.sizes())) {
      const int64_t values = std::max(cost->outputs, cost->buffer);
      macs = add_sat(macs, cost->macs);
      TT_CHECK_VALUE(values <= limits.max_activation_elements, "layer '", path, name, "' (",
                     child->name(), ") would hold ", values,
                     " values for one sample; the limit is ", limits.max_activation_elements,
                     " (ModelLimits::max_activation_elements)");
      TT_CHECK_VALUE(macs <= limits.max_sample_macs, "the layers up to '", path, name, "' (",
                     child->name(), ") need ", macs, " multiply-adds per sample; the limit is ",
                     limits.max_sample_macs, " (ModelLimits::max_sample_macs)");
    }
    out = module.forward(out);
  }
  return out;
}

// The same limits for a GPT, at its longest context (block_size tokens): the logits [T, V], the
// attention weights [H, T, T] and the MLP's [T, 4d] per sample; the multiply-adds of the
// projections, the attention and the output layer.
void check_gpt_cost(const nn::GPTConfig& c, const ModelLimits& limits) {
  const int64_t t = c.block_size, d = c.n_embd;
  const int64_t values = std::max(
      {mul_sat(t, c.vocab_size), mul_sat(c.n_head, mul_sat(t, t)), mul_sat(t, mul_sat(4, d))});
  TT_CHECK_VALUE(values <= limits.max_activation_elements, "a GPT with block_size ", t,
                 " would hold ", values, " values in one layer for one sample; the limit is ",
                 limits.max_activation_elements, " (ModelLimits::max_activation_elements)");
  int64_t macs =
      mul_sat(t, add_sat(mul_sat(c.n_layer, mul_sat(12, mul_sat(d, d))), mul_sat(c.vocab_size, d)));
  macs = add_sat(macs, mul_sat(c.n_layer, mul_sat(2, mul_sat(mul_sat(t, t), d))));
  TT_CHECK_VALUE(macs <= limits.max_sample_macs, "a GPT with block_size ", t, " needs ", macs,
                 " multiply-adds per sample; the limit is ", limits.max_sample_macs,
                 " (ModelLimits::max_sample_macs)");
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    s += (i ? ", " : "") + (shape[i] < 0 ? std::string("T") : std::to_string(shape[i]));
  }
  return s + "]";
}

bool all_finite(const Tensor& t) {
  const Tensor c = t.contiguous();
  auto finite = [](const auto* p, int64_t n) {
    return std::all_of(p, p + n, [](auto v) { return std::isfinite(v); });
  };
  if (c.dtype() == kFloat32) return finite(c.data_ptr<float>(), c.numel());
  if (c.dtype() == kFloat64) return finite(c.data_ptr<double>(), c.numel());
  return true;
}

uint32_t crc_of(const OrderedDict<std::string, Tensor>& tensors) {
  uLong crc = crc32(0L, Z_NULL, 0);
  for (const auto& [name, t] : tensors) {
    const Tensor c = t.contiguous();
    crc = crc32(crc, reinterpret_cast<const Bytef*>(name.data()), static_cast<uInt>(name.size()));
    crc = crc32(crc, static_cast<const Bytef*>(c.data_ptr()), static_cast<uInt>(c.nbytes()));
  }
  return static_cast<uint32_t>(crc);
}

json signature_to_json(const ModelSignature& s) {
  return json{{"name", s.name},
              {"version", s.version},
              {"input_shape", s.input_shape},
              {"input_dtype", to_string(s.input_dtype)},
              {"labels", s.labels}};
}

ModelSignature signature_from_json(const json& j) {
  ModelSignature s;
  s.name = j.at("name").get<std::string>();
  s.version = j.at("version").get<std::string>();
  s.input_shape = ints_at(j, "input_shape");
  s.input_dtype = scalar_type_from_string(j.at("input_dtype").get<std::string>());
  s.labels = j.at("labels").get<std::vector<std::string>>();
  TT_CHECK_VALUE(s.input_dtype == kFloat32 || s.input_dtype == kInt64,
                 "input_dtype must be float32 or int64, got ", s.input_dtype);
  TT_CHECK_VALUE(!s.input_shape.empty() && s.input_shape.size() <= 4,
                 "input_shape must have 1 to 4 dims, got ", s.input_shape.size());
  for (const int64_t d : s.input_shape) {
    TT_CHECK_VALUE(d == -1 || (d > 0 && d <= (int64_t{1} << 24)),
                   "input_shape entries must be -1 or in [1, 2^24], got ", d);
  }
  return s;
}

// The tensors a model file stores for `model`, each under "model.": the float layers' are its
// state_dict; an int8 Linear's are not parameters, so they are taken from the layer, unpacked.
TensorMap model_tensors(const nn::Module& model) {
  // BEGIN SOLUTION
  TensorMap tensors{"Tensor"};
  for (const auto& [key, t] : model.state_dict()) tensors.insert("model." + key, t.contiguous());
  for (const auto& [name, m] : model.named_modules()) {
    const auto* q = dynamic_cast<const nn::quantized::dynamic::LinearImpl*>(m.get());
    if (q == nullptr) continue;
    const std::string prefix = "model." + (name.empty() ? "" : name + ".");
    tensors.insert(prefix + "weight", q->weight());
    tensors.insert(prefix + "weight_scale", q->weight_scales());
    if (const Tensor b = q->bias(); b.defined()) tensors.insert(prefix + "bias", b);
  }
  return tensors;
  // END SOLUTION
}

// Throws unless `inputs` is [N, *input_shape] (N >= 1; -1 in the shape: any length >= 1) of the
// signature's dtype; the message names the expected and the actual shape or dtype.
void check_inputs(const ModelSignature& signature, const Tensor& inputs) {
  // BEGIN SOLUTION
  const auto& shape = signature.input_shape;
  bool fits = inputs.dim() == static_cast<int64_t>(shape.size()) + 1 && inputs.size(0) >= 1;
  for (size_t i = 0; fits && i < shape.size(); ++i) {
    fits = shape[i] == -1 ? inputs.size(static_cast<int64_t>(i) + 1) >= 1
                          : inputs.size(static_cast<int64_t>(i) + 1) == shape[i];
  }
  TT_CHECK_VALUE(fits, "model '", signature.name, "': expected inputs [N, ",
                 shape_text(shape).substr(1), " with N >= 1, got ", inputs.sizes());
  TT_CHECK_TYPE(inputs.dtype() == signature.input_dtype, "model '", signature.name, "': expected ",
                signature.input_dtype, " inputs, got ", inputs.dtype());
  // END SOLUTION
}

// The lowest format version that holds `architecture` (model_file.h): 2 when some record sets
// fuse_relu, else 1.
int64_t lowest_format_version(const std::string& architecture) {
  const std::function<bool(const json&)> fuses = [&](const json& j) {
    if (j.is_object() && j.contains("fuse_relu")) return true;
    if (j.is_structured()) {
      for (const auto& item : j) {
        if (fuses(item)) return true;
      }
    }
    return false;
  };
  return fuses(json::parse(architecture)) ? 2 : 1;
}

}  // namespace

std::string describe_architecture(const nn::Module& model) {
  return describe(model).dump();
}

std::string signature_json(const ModelSignature& signature) {
  try {
    return signature_to_json(signature).dump();
  } catch (const json::exception& e) {  // JSON text is UTF-8: a label of raw bytes cannot be
    throw ValueError(detail::str("signature of '", signature.name,
                                 "': a name or label is not valid UTF-8 (", e.what(),
                                 "); name byte tokens e.g. <0x80>"));
  }
}

ModelSignature parse_signature(const std::string& json_text) {
  try {
    return signature_from_json(json::parse(json_text));
  } catch (const json::exception& e) {
    throw ValueError(detail::str("malformed signature record: ", e.what()));
  }
}

std::shared_ptr<nn::Module> build_module(const std::string& architecture,
                                         const OrderedDict<std::string, Tensor>& tensors) {
  try {
    std::set<std::string> used;
    return build_checked(json::parse(architecture), tensors, used);
  } catch (const json::exception& e) {
    throw ValueError(detail::str("build_module: malformed architecture record: ", e.what()));
  }
}

void export_model(const nn::Module& model, const ModelSignature& signature, const std::string& path,
                  const OrderedDict<std::string, Tensor>& statistics) {
  TT_CHECK_VALUE(!signature.input_shape.empty(),
                 "export_model: the signature's input_shape is empty");
  serialize::Archive archive;
  archive.tensors = model_tensors(model);
  for (const auto& [key, t] : archive.tensors) {
    TT_CHECK_VALUE(all_finite(t), "export_model: tensor '", key.substr(6),
                   "' has a non-finite value");
  }
  ModelSignature sig = signature;
  if (sig.version.empty()) {
    char hex[9];
    std::snprintf(hex, sizeof hex, "%08x", crc_of(archive.tensors));
    sig.version = sig.name + "-" + hex;
  }
  for (const auto& [key, t] : statistics)
    archive.tensors.insert("statistics." + key, t.contiguous());
  const std::string architecture = describe_architecture(model);
  archive.strings.insert("format", kModelFormat);
  archive.strings.insert("format_version", std::to_string(lowest_format_version(architecture)));
  archive.strings.insert("architecture", architecture);
  archive.strings.insert("signature", signature_json(sig));
  serialize::save(archive, path);
}

InferenceModel InferenceModel::load(const std::string& path, const ModelLimits& limits) {
  serialize::Archive archive = serialize::load(path);  // magic, version, sizes, CRC-32
  auto fail = [&](const auto&... what) -> void {
    throw ValueError(detail::str("load model: '", path, "': ", what...));
  };
  const std::string* format = archive.strings.find("format");
  if (format != nullptr && *format == "tinytorch-training-checkpoint") {
    fail(
        "this is a training checkpoint, not an exported model (convert it with "
        "./tito export CHECKPOINT --out model.ttm)");
  }
  if (format == nullptr || *format != kModelFormat) {
    fail("not a tinytorch model file (format '", format ? *format : std::string("(none)"),
         "', expected '", kModelFormat, "')");
  }
  const std::string* version = archive.strings.find("format_version");
  bool known = false;
  for (int64_t v = 1; v <= kModelFormatVersion; ++v) {
    known = known || (version != nullptr && *version == std::to_string(v));
  }
  if (!known) {
    fail("model format version ", version ? *version : std::string("(none)"),
         " is not supported (this build reads versions 1 to ", kModelFormatVersion, ")");
  }

  InferenceModel m;
  m.path_ = path;
  TensorMap tensors{"Tensor"};
  for (const auto& [key, t] : archive.tensors) {
    if (key.starts_with("model.")) {
      // The rule export_model() writes by: a NaN or infinite weight would make every answer NaN
      // (a server would then name a made-up class).
      if (!all_finite(t)) fail("tensor '", key, "' has a non-finite value (NaN or infinity)");
      tensors.insert(key.substr(6), t);
      m.weight_bytes_ += t.nbytes();  // at most the file's size: serialize::load checked it
    } else if (key.starts_with("statistics.")) {
      m.statistics_.insert(key.substr(11), t);
    } else {
      fail("unexpected tensor '", key, "' (expected model.* or statistics.*)");
    }
  }
  std::set<std::string> used;
  try {
    const std::string* arch = archive.strings.find("architecture");
    const std::string* sig = archive.strings.find("signature");
    if (arch == nullptr || sig == nullptr) fail("no architecture or signature record");
    m.architecture_ = *arch;
    m.signature_ = signature_from_json(json::parse(*sig));
    m.module_ = build_checked(json::parse(*arch), tensors, used);
  } catch (const json::exception& e) {
    fail("malformed record: ", e.what());
  } catch (const Error& e) {
    fail(e.what());
  }

  // The float tensors must be exactly the rebuilt model's parameters and buffers, dtype included
  // (load_state_dict would convert a float64 tensor silently).
  TensorMap state{"Tensor"};
  for (const auto& [key, t] : tensors) {
    if (!used.contains(key)) state.insert(key, t);
  }
  const auto expected = m.module_->state_dict();
  for (const auto& [key, t] : state) {
    const Tensor* want = expected.find(key);
    if (want != nullptr && want->dtype() != t.dtype()) {
      fail("tensor 'model.", key, "' is ", t.dtype(), ", the architecture needs ", want->dtype());
    }
  }
  try {
    m.module_->load_state_dict(state);
  } catch (const Error& e) {
    fail(e.what());
  }
  m.module_->eval();
  for (Tensor p : m.module_->parameters()) p.set_requires_grad(false);

  // What one forward returns: a GPT's logits at the last position, a Sequential's output.
  if (auto gpt = std::dynamic_pointer_cast<nn::GPTImpl>(m.module_)) {
    if (m.signature_.input_dtype != kInt64 ||
        m.signature_.input_shape != std::vector<int64_t>{-1}) {
      fail("a GPT takes int64 token ids of shape [T]: the signature says ",
           m.signature_.input_dtype, " ", shape_text(m.signature_.input_shape));
    }
    try {
      check_gpt_cost(gpt->config, limits);
    } catch (const Error& e) {
      fail(e.what());
    }
    m.num_outputs_ = gpt->config.vocab_size;
    m.run_ = [gpt](const Tensor& x) {
      const int64_t T = x.size(1);
      return gpt->forward(x).select(1, T - 1).contiguous();
    };
  } else {
    auto seq = std::dynamic_pointer_cast<nn::SequentialImpl>(m.module_);
    if (!seq) fail("the architecture's top level must be a Sequential or a GPT");
    m.run_ = [seq](const Tensor& x) { return seq->forward(x); };
    std::vector<int64_t> probe = m.signature_.input_shape;
    if (std::ranges::find(probe, -1) != probe.end())
      fail("a Sequential's input_shape must be fixed");
    probe.insert(probe.begin(), 1);
    int64_t values = 1;
    for (const int64_t d : probe) values = mul_sat(values, d);
    if (values > limits.max_activation_elements) {
      fail("the signature's input ", shape_text(m.signature_.input_shape), " holds ", values,
           " values per sample; the limit is ", limits.max_activation_elements,
           " (ModelLimits::max_activation_elements)");
    }
    try {
      NoGradGuard no_grad;
      int64_t macs = 0;
      const Tensor out = probe_forward(*seq, zeros(probe, m.signature_.input_dtype), limits, macs);
      if (out.dim() != 2)
        fail("the model's output for one sample is ", out.sizes(), ", expected [1, C]");
      m.num_outputs_ = out.size(1);
    } catch (const Error& e) {
      fail("the architecture does not accept the signature's input ",
           shape_text(m.signature_.input_shape), ": ", e.what());
    }
  }
  if (!m.signature_.labels.empty() &&
      static_cast<int64_t>(m.signature_.labels.size()) != m.num_outputs_) {
    fail("the signature has ", m.signature_.labels.size(), " labels for ", m.num_outputs_,
         " outputs");
  }
  return m;
}

Tensor InferenceModel::forward(const Tensor& inputs) const {
  check_inputs(signature_, inputs);
  if (signature_.input_dtype == kInt64) {  // token ids: inside the vocabulary and the context
    const auto* gpt = dynamic_cast<const nn::GPTImpl*>(module_.get());
    const int64_t V = num_outputs_, T_max = gpt != nullptr ? gpt->config.block_size : 0;
    TT_CHECK_VALUE(inputs.size(1) <= T_max, "model '", signature_.name, "': at most ", T_max,
                   " tokens per row (the GPT's block_size), got ", inputs.size(1));
    TT_CHECK_VALUE(inputs.min().item<int64_t>() >= 0 && inputs.max().item<int64_t>() < V, "model '",
                   signature_.name, "': token ids must be in [0, ", V, ")");
  }
  NoGradGuard no_grad;
  return run_(inputs);
}

}  // namespace tinytorch::deploy
