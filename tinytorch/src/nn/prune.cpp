// Module 16 — pruning. The bookkeeping (which tensors a pruned layer holds, the state_dict keys,
// global pruning's concatenation) is given; the magnitude mask and the structured shrink are
// yours (modules/16_compression/README.md, Parts 1 and 2).
#include "tinytorch/nn/utils/prune.h"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <memory>
#include <numeric>
#include <string>
#include <tuple>
#include <vector>

#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/core/exception.h"
#include "tinytorch/nn/modules/activation.h"
#include "tinytorch/nn/modules/dropout.h"
#include "tinytorch/nn/modules/pooling.h"

namespace tinytorch::nn::utils::prune {

namespace {

// NOTE: Module's public API registers parameters and buffers but cannot unregister one, and
// pruning must turn "weight" into "weight_orig" + "weight_mask" and back (PyTorch deletes from
// module._parameters). This accessor reaches the protected dictionaries; an entry set to an
// undefined tensor is listed nowhere (not in parameters(), state_dict(), ...), which is how a
// name is "removed" here and how it is reused when the layer is pruned again.
struct ModuleAccess : Module {
  static OrderedDict<std::string, Tensor>& parameters_of(Module& m) {
    return m.*&ModuleAccess::parameters_;
  }
  static OrderedDict<std::string, Tensor>& buffers_of(Module& m) {
    return m.*&ModuleAccess::buffers_;
  }
};

// Sets (or registers) an entry of a parameter/buffer dictionary.
void set_entry(Module& module, bool parameter, const std::string& key, const Tensor& value) {
  auto& dict = parameter ? ModuleAccess::parameters_of(module) : ModuleAccess::buffers_of(module);
  if (Tensor* slot = dict.find(key)) {
    *slot = value;
  } else if (parameter) {
    module.register_parameter(key, value);
  } else {
    module.register_buffer(key, value);
  }
}

const Tensor* defined_entry(Module& module, bool parameter, const std::string& key) {
  auto& dict = parameter ? ModuleAccess::parameters_of(module) : ModuleAccess::buffers_of(module);
  const Tensor* t = dict.find(key);
  return t != nullptr && t->defined() ? t : nullptr;
}

// The layer's member that forward() reads: LinearImpl::weight / bias.
Tensor& member(Module& module, const std::string& name) {
  auto* linear = module.as<Linear>();
  TT_CHECK_TYPE(linear != nullptr,
                "prune: only Linear layers can be pruned (their forward applies "
                "the mask), but got ",
                module.name());
  TT_CHECK_VALUE(name == "weight" || name == "bias",
                 "prune: a Linear has parameters \"weight\" and \"bias\", but got \"", name, "\"");
  return name == "weight" ? linear->weight : linear->bias;
}

// The tensor to rank (the original values: weight_orig once pruned) and the current mask (all
// ones before the first pruning), flattened.
std::pair<Tensor, Tensor> orig_and_mask(Module& module, const std::string& name) {
  member(module, name);  // checks the layer and the name
  if (const Tensor* orig = defined_entry(module, true, name + "_orig")) {
    return {*orig, *defined_entry(module, false, name + "_mask")};
  }
  const Tensor* p = defined_entry(module, true, name);
  TT_CHECK_VALUE(p != nullptr, "prune: ", module.name(), " has no parameter \"", name, "\"");
  return {*p, ones(p->sizes(), p->dtype())};
}

// Installs `mask` on module.<name>: the first time, moves the parameter to <name>_orig.
void install_mask(Module& module, const std::string& name, const Tensor& mask) {
  if (defined_entry(module, true, name + "_orig") == nullptr) {
    const Tensor orig = *defined_entry(module, true, name);
    set_entry(module, true, name, Tensor());
    set_entry(module, true, name + "_orig", orig);
  }
  set_entry(module, false, name + "_mask", mask);
  const NoGradGuard no_grad;
  detail::apply_mask(module, name, member(module, name));
}

// The tensors flattened and concatenated into one float64 vector.
Tensor concat_flat(const std::vector<Tensor>& parts) {
  int64_t n = 0;
  for (const Tensor& t : parts) n += t.numel();
  Tensor out = empty({n}, kFloat64);
  double* dst = out.data_ptr<double>();
  for (const Tensor& t : parts) {
    const Tensor c = t.detach().to(kFloat64).contiguous();
    dst = std::copy_n(c.data_ptr<double>(), c.numel(), dst);
  }
  return out;
}

}  // namespace

Amount::Amount(double fraction) : fraction_(fraction) {
  TT_CHECK_VALUE(fraction >= 0.0 && fraction <= 1.0,
                 "prune: amount as a fraction must be in [0, 1], but got ", fraction);
}

void Amount::check_count() const {
  TT_CHECK_VALUE(count_ >= 0, "prune: amount as a count must be non-negative, but got ", count_);
}

int64_t Amount::of(int64_t n) const {
  // Python's round(amount · n): half to even (std::nearbyint in the default rounding mode).
  const int64_t k =
      is_count_ ? count_ : static_cast<int64_t>(std::nearbyint(fraction_ * static_cast<double>(n)));
  TT_CHECK_VALUE(k <= n, "prune: amount=", k,
                 " should be smaller than the number of parameters "
                 "to prune=",
                 n);
  return k;
}

namespace {

// Zeroes, in mask[0 .. n), the k entries with the smallest scores among those where mask is not
// 0; ties go to the lower index. The caller has checked that at least k entries are alive.
void zero_smallest(const double* scores, double* mask, int64_t n, int64_t k) {
  // BEGIN SOLUTION
  std::vector<int64_t> alive;
  for (int64_t i = 0; i < n; ++i) {
    if (mask[i] != 0) alive.push_back(i);
  }
  // The k smallest (score, index) pairs: a partial sort, O(n) on average.
  std::nth_element(alive.begin(), alive.begin() + k, alive.end(), [scores](int64_t a, int64_t b) {
    return scores[a] < scores[b] || (scores[a] == scores[b] && a < b);
  });
  for (int64_t j = 0; j < k; ++j) mask[alive[static_cast<size_t>(j)]] = 0;
  // END SOLUTION
}

}  // namespace

Tensor magnitude_mask(const Tensor& scores, const Tensor& mask, int64_t k) {
  TT_CHECK_VALUE(scores.dim() == 1 && mask.dim() == 1 && scores.numel() == mask.numel(),
                 "prune: magnitude_mask expects 1-D scores and mask of the same length, but got ",
                 scores.sizes(), " and ", mask.sizes());
  const Tensor s = scores.to(kFloat64).contiguous();
  Tensor out = mask.to(kFloat64, /*non_blocking=*/false, /*copy=*/true).contiguous();
  const auto alive = out.ne(0).sum().item<int64_t>();
  TT_CHECK_VALUE(k >= 0 && k <= alive, "prune: cannot prune ", k, " entries, only ", alive,
                 " are left");
  zero_smallest(s.data_ptr<double>(), out.data_ptr<double>(), out.numel(), k);
  return out.to(mask.dtype());
}

void l1_unstructured(Module& module, const std::string& name, Amount amount) {
  global_unstructured({{module.shared_from_this(), name}}, amount);
}

void global_unstructured(const std::vector<std::pair<std::shared_ptr<Module>, std::string>>& params,
                         Amount amount) {
  TT_CHECK_VALUE(!params.empty(), "prune: global_unstructured needs at least one parameter");
  std::vector<Tensor> scores, masks;
  for (const auto& [module, name] : params) {
    TT_CHECK(module != nullptr, "prune: global_unstructured got a null module");
    auto [orig, mask] = orig_and_mask(*module, name);
    scores.push_back(orig.detach().abs());
    masks.push_back(mask);
  }
  const Tensor all_masks = concat_flat(masks);
  const auto alive = all_masks.ne(0).sum().item<int64_t>();
  const Tensor new_mask = magnitude_mask(concat_flat(scores), all_masks, amount.of(alive));
  int64_t offset = 0;
  for (size_t i = 0; i < params.size(); ++i) {
    Module& module = *params[i].first;
    const Tensor& orig = orig_and_mask(module, params[i].second).first;
    const int64_t n = orig.numel();
    install_mask(module, params[i].second,
                 new_mask.narrow(0, offset, n).reshape(orig.sizes()).to(orig.dtype()).contiguous());
    offset += n;
  }
}

void remove(Module& module, const std::string& name) {
  Tensor& value = member(module, name);
  const Tensor* orig = defined_entry(module, true, name + "_orig");
  TT_CHECK_VALUE(orig != nullptr, "prune.remove: parameter \"", name, "\" of ", module.name(),
                 " is not pruned");
  Tensor kept = *orig;
  {
    const NoGradGuard no_grad;
    kept.mul_(*defined_entry(module, false, name + "_mask"));
  }
  set_entry(module, true, name + "_orig", Tensor());
  set_entry(module, false, name + "_mask", Tensor());
  set_entry(module, true, name, kept);
  value = kept;
}

bool is_pruned(const Module& module) {
  for (const auto& item : module.named_buffers(/*recurse=*/true)) {
    const std::string& key = item.key();
    if (key.size() >= 5 && key.compare(key.size() - 5, 5, "_mask") == 0) return true;
  }
  return false;
}

double sparsity(const Tensor& t) {
  TT_CHECK(t.defined(), "prune.sparsity: undefined tensor");
  if (t.numel() == 0) return 0.0;
  const NoGradGuard no_grad;
  return t.eq(0).to(kFloat64).mean().item<double>();
}

namespace {

// Copies the kept neurons into the smaller layers: rows `keep` of layer.weight [h, in] and
// layer.bias [h] into small [h', in] / [h'], columns `keep` of next.weight [out, h] into
// small_next [out, h'], and next.bias [out] unchanged.
void shrink(const Linear& layer, const Linear& next, const std::vector<int64_t>& keep,
            Linear& small, Linear& small_next) {
  // BEGIN SOLUTION
  const int64_t in = layer->options.in_features(), out = next->options.out_features();
  const int64_t hidden = layer->options.out_features();
  const auto h = static_cast<int64_t>(keep.size());
  // dst[i, j] = src[keep[i], j] (pick_rows) or src[i, keep[j]]; src has `cols` columns.
  const auto gather = [&](const Tensor& src, int64_t cols, int64_t new_rows, int64_t new_cols,
                          bool pick_rows) {
    const Tensor s = src.to(kFloat64).contiguous();
    Tensor d = empty({new_rows, new_cols}, kFloat64);
    const double* sp = s.data_ptr<double>();
    double* dp = d.data_ptr<double>();
    for (int64_t i = 0; i < new_rows; ++i) {
      for (int64_t j = 0; j < new_cols; ++j) {
        const int64_t si = pick_rows ? keep[static_cast<size_t>(i)] : i;
        const int64_t sj = pick_rows ? j : keep[static_cast<size_t>(j)];
        dp[i * new_cols + j] = sp[si * cols + sj];
      }
    }
    return d;
  };
  small->weight.copy_(gather(layer->weight, in, h, in, true));
  if (layer->bias.defined()) {
    small->bias.copy_(gather(layer->bias.reshape({hidden, 1}), 1, h, 1, true).reshape({h}));
  }
  small_next->weight.copy_(gather(next->weight, hidden, out, h, false));
  if (next->bias.defined()) small_next->bias.copy_(next->bias);
  // END SOLUTION
}

// The indices j of the slices weight[j] to keep when removing `amount` of them with the smallest
// L_p norm (torch.norm over all dims but 0: ln_structured's ranking along dim 0), ascending.
std::vector<int64_t> largest_slices(const char* fn, const Tensor& weight, Amount amount, double p) {
  TT_CHECK_VALUE(p >= 1.0, "prune: ", fn, " needs a norm p >= 1, but got ", p);
  const NoGradGuard no_grad;
  const Tensor w = weight.detach().to(kFloat64);
  const int64_t out = w.size(0);
  const Tensor norms =
      w.abs().pow(p).reshape({out, out == 0 ? 0 : w.numel() / out}).sum({1}).pow(1.0 / p);
  const Tensor mask = magnitude_mask(norms, ones({out}, kFloat64), amount.of(out));
  const double* m = mask.data_ptr<double>();
  std::vector<int64_t> keep;
  for (int64_t j = 0; j < out; ++j) {
    if (m[j] != 0) keep.push_back(j);
  }
  return keep;
}

// What every structured removal checks about `keep`, the `unit`s ("neuron", "channel") of n to
// keep: non-empty, in range, sorted and unique.
void check_keep(const char* fn, const char* unit, const std::vector<int64_t>& keep, int64_t n) {
  TT_CHECK_VALUE(!keep.empty(), "prune.", fn, ": keep is empty, but at least one ", unit, " of ", n,
                 " must be kept");
  for (size_t i = 0; i < keep.size(); ++i) {
    TT_CHECK_INDEX(keep[i] >= 0 && keep[i] < n, "prune.", fn, ": ", unit, " ", keep[i],
                   " is out of range for ", n, " ", unit, "s (expected 0 <= index < ", n, ")");
    TT_CHECK_VALUE(i == 0 || keep[i - 1] < keep[i], "prune.", fn,
                   ": keep must be sorted and unique, but keep[", i - 1, "] = ", keep[i - 1],
                   " is followed by keep[", i, "] = ", keep[i]);
  }
}

// Structured removal copies the effective weights: a layer still holding a pruning mask must be
// made permanent first.
void check_not_pruned(const char* fn, std::initializer_list<const Module*> modules) {
  for (const Module* m : modules) {
    TT_CHECK_VALUE(m == nullptr || !is_pruned(*m), "prune.", fn, ": ", m->name(),
                   " is pruned with a mask: call prune::remove() on the layers first");
  }
}

// dst's block i along `dim` ← src's block keep[i], blocks of `block` entries: index_select of
// whole blocks (block = 1: single filters, channels, entries; block = H·W: a flattened channel).
void copy_blocks(const Tensor& dst, const Tensor& src, int64_t dim,
                 const std::vector<int64_t>& keep, int64_t block) {
  for (size_t i = 0; i < keep.size(); ++i) {
    dst.narrow(dim, static_cast<int64_t>(i) * block, block)
        .copy_(src.narrow(dim, keep[i] * block, block));
  }
}

void check_groups(const Conv2d& conv) {
  TT_CHECK_VALUE(
      conv->options.groups() == 1,
      "prune.remove_channels: only convolutions with groups=1 are supported, but ", *conv,
      " has groups=", conv->options.groups(),
      "; expected groups=1 (a grouped convolution ties each output channel to a group of input "
      "channels)");
}

// The producer's side of remove_channels: conv (and bn) with only the output channels `keep`.
// The caller has checked that next takes conv.out_channels channels.
std::pair<Conv2d, BatchNorm2d> keep_output_channels(const Conv2d& conv, const BatchNorm2d* bn,
                                                    const Module& next,
                                                    const std::vector<int64_t>& keep) {
  const int64_t channels = conv->options.out_channels();
  check_groups(conv);
  if (bn != nullptr) {
    const BatchNormOptions& o = (*bn)->options;
    TT_CHECK_VALUE(o.num_features() == channels, "prune.remove_channels: ", *conv, " outputs ",
                   channels, " channels but the BatchNorm2d between it and the next layer has ",
                   o.num_features(), " features; expected BatchNorm2d(", channels, ")");
    TT_CHECK_VALUE(o.affine(), "prune.remove_channels: ", **bn,
                   " has no weight and bias to zero a removed channel (it would output "
                   "-mean/sqrt(var + eps), not 0); expected affine=true, or fold the BatchNorm "
                   "into the convolution first");
  }
  check_keep("remove_channels", "channel", keep, channels);
  check_not_pruned("remove_channels", {conv.get(), bn == nullptr ? nullptr : bn->get(), &next});
  const auto k = static_cast<int64_t>(keep.size());
  const NoGradGuard no_grad;
  Conv2d small(Conv2dOptions(conv->options).out_channels(k));
  copy_blocks(small->weight, conv->weight, 0, keep, 1);
  if (conv->bias.defined()) copy_blocks(small->bias, conv->bias, 0, keep, 1);
  BatchNorm2d small_bn{nullptr};
  if (bn != nullptr) {
    const auto& b = *bn;
    small_bn = BatchNorm2d(BatchNormOptions(b->options).num_features(k));
    const std::initializer_list<std::pair<Tensor, Tensor>> slices = {
        {small_bn->weight, b->weight},
        {small_bn->bias, b->bias},
        {small_bn->running_mean, b->running_mean},
        {small_bn->running_var, b->running_var}};
    for (const auto& [to, from] : slices) {
      if (from.defined()) copy_blocks(to, from, 0, keep, 1);
    }
    if (b->num_batches_tracked.defined()) {
      small_bn->num_batches_tracked.copy_(b->num_batches_tracked);
    }
    small_bn->train(b->is_training());
  }
  return {small, small_bn};
}

std::tuple<Conv2d, BatchNorm2d, Conv2d> remove_channels_before_conv(
    const Conv2d& conv, const BatchNorm2d* bn, const Conv2d& next,
    const std::vector<int64_t>& keep) {
  const int64_t channels = conv->options.out_channels();
  TT_CHECK_VALUE(next->options.in_channels() == channels, "prune.remove_channels: ", *conv,
                 " outputs ", channels, " channels but the next layer ", *next, " expects ",
                 next->options.in_channels());
  check_groups(next);
  auto [small, small_bn] = keep_output_channels(conv, bn, *next, keep);
  const NoGradGuard no_grad;
  Conv2d small_next(Conv2dOptions(next->options).in_channels(static_cast<int64_t>(keep.size())));
  copy_blocks(small_next->weight, next->weight, 1, keep, 1);
  if (next->bias.defined()) small_next->bias.copy_(next->bias);
  return {small, small_bn, small_next};
}

std::tuple<Conv2d, BatchNorm2d, Linear> remove_channels_before_linear(
    const Conv2d& conv, const BatchNorm2d* bn, const Linear& next, const std::vector<int64_t>& keep,
    int64_t spatial) {
  const int64_t channels = conv->options.out_channels();
  const int64_t in = next->options.in_features();
  TT_CHECK_VALUE(spatial >= 1,
                 "prune.remove_channels: spatial is the H·W of one channel at the "
                 "Flatten and must be >= 1, but got ",
                 spatial);
  TT_CHECK_VALUE(
      in == channels * spatial, "prune.remove_channels: ", *conv, " outputs ", channels,
      " channels × spatial ", spatial, " = ", channels * spatial, " features but the next layer ",
      *next, " expects ", in,
      (channels > 0 && in % channels == 0 ? " (expected spatial = in_features / out_channels = " +
                                                std::to_string(in / channels) + ")"
                                          : std::string()));
  auto [small, small_bn] = keep_output_channels(conv, bn, *next, keep);
  const NoGradGuard no_grad;
  Linear small_next(
      LinearOptions(next->options).in_features(static_cast<int64_t>(keep.size()) * spatial));
  copy_blocks(small_next->weight, next->weight, 1, keep, spatial);
  if (next->bias.defined()) small_next->bias.copy_(next->bias);
  return {small, small_bn, small_next};
}

}  // namespace

std::vector<int64_t> neurons_to_keep(const Linear& layer, Amount amount, double p) {
  return largest_slices("neurons_to_keep", layer->weight, amount, p);
}

std::vector<int64_t> channels_to_keep(const Conv2d& conv, Amount amount, double p) {
  return largest_slices("channels_to_keep", conv->weight, amount, p);
}

std::pair<Linear, Linear> remove_neurons(const Linear& layer, const Linear& next,
                                         const std::vector<int64_t>& keep) {
  const int64_t hidden = layer->options.out_features();
  TT_CHECK_VALUE(next->options.in_features() == hidden, "prune.remove_neurons: ", *layer, " feeds ",
                 hidden, " features but the next layer ", *next, " expects ",
                 next->options.in_features());
  check_keep("remove_neurons", "neuron", keep, hidden);
  check_not_pruned("remove_neurons", {layer.get(), next.get()});
  const auto h = static_cast<int64_t>(keep.size());
  Linear small(LinearOptions(layer->options.in_features(), h)
                   .bias(layer->bias.defined())
                   .dtype(layer->options.dtype()));
  Linear small_next(LinearOptions(h, next->options.out_features())
                        .bias(next->bias.defined())
                        .dtype(next->options.dtype()));
  const NoGradGuard no_grad;
  shrink(layer, next, keep, small, small_next);
  return {small, small_next};
}

std::pair<Conv2d, Conv2d> remove_channels(const Conv2d& conv, const Conv2d& next,
                                          const std::vector<int64_t>& keep) {
  auto [small, bn, small_next] = remove_channels_before_conv(conv, nullptr, next, keep);
  return {small, small_next};
}

std::pair<Conv2d, Linear> remove_channels(const Conv2d& conv, const Linear& next,
                                          const std::vector<int64_t>& keep, int64_t spatial) {
  auto [small, bn, small_next] = remove_channels_before_linear(conv, nullptr, next, keep, spatial);
  return {small, small_next};
}

std::tuple<Conv2d, BatchNorm2d, Conv2d> remove_channels(const Conv2d& conv, const BatchNorm2d& bn,
                                                        const Conv2d& next,
                                                        const std::vector<int64_t>& keep) {
  return remove_channels_before_conv(conv, &bn, next, keep);
}

std::tuple<Conv2d, BatchNorm2d, Linear> remove_channels(const Conv2d& conv, const BatchNorm2d& bn,
                                                        const Linear& next,
                                                        const std::vector<int64_t>& keep,
                                                        int64_t spatial) {
  return remove_channels_before_linear(conv, &bn, next, keep, spatial);
}

namespace {

template <typename Impl>
std::shared_ptr<Impl> as(const AnyModule& module) {
  return std::dynamic_pointer_cast<Impl>(module.ptr());
}

// Whether `module` treats each unit (a neuron, or a whole channel) on its own and maps a unit that
// is 0 everywhere to 0: then a removed unit still adds nothing after it.
bool keeps_zero_units(const AnyModule& module) {
  return as<ReLUImpl>(module) || as<LeakyReLUImpl>(module) || as<GELUImpl>(module) ||
         as<SiLUImpl>(module) || as<TanhImpl>(module) || as<DropoutImpl>(module) ||
         as<IdentityImpl>(module) || as<MaxPool2dImpl>(module) || as<AvgPool2dImpl>(module) ||
         as<AdaptiveAvgPool2dImpl>(module);
}

// [N, C, H, W] → [N, C·H·W], channel-major: channel c is the column block [c·H·W, (c+1)·H·W).
bool flattens_channels(const AnyModule& module) {
  const auto flatten = as<FlattenImpl>(module);
  return flatten && flatten->options.start_dim() == 1 && flatten->options.end_dim() == -1;
}

// How many of a layer's n units remove_units removes: `fraction` of them, but never the last.
Amount units_to_remove(double fraction, int64_t n) {
  return std::min(Amount(fraction).of(n), std::max<int64_t>(n - 1, 0));
}

}  // namespace

Sequential remove_units(const Sequential& model, double fraction, double p) {
  TT_CHECK_VALUE(fraction >= 0.0 && fraction < 1.0,
                 "prune.remove_units: fraction must be in [0, 1) (the fraction of each hidden "
                 "layer's units to remove), but got ",
                 fraction);
  std::vector<AnyModule> items(model->begin(), model->end());
  for (size_t i = 0; i < items.size(); ++i) {
    const auto conv = as<Conv2dImpl>(items[i]);
    const auto linear = as<LinearImpl>(items[i]);
    if (!conv && !linear) continue;
    // The next weighted layer j, if only zero-keeping modules (and, after a conv, one Flatten)
    // lie between.
    size_t j = i + 1;
    bool flattened = false;
    for (; j < items.size(); ++j) {
      if (conv && !flattened && flattens_channels(items[j])) {
        flattened = true;
      } else if (!keeps_zero_units(items[j])) {
        break;
      }
    }
    if (j == items.size()) continue;
    const auto next_conv = as<Conv2dImpl>(items[j]);
    const auto next_linear = as<LinearImpl>(items[j]);
    // Puts the smaller pair (layer', next') in place of (layer, next).
    const auto replace = [&](const auto& smaller) {
      items[i] = AnyModule(smaller.first);
      items[j] = AnyModule(smaller.second);
    };
    if (linear && next_linear) {
      const Linear layer(linear);
      const Amount amount = units_to_remove(fraction, layer->options.out_features());
      replace(remove_neurons(layer, Linear(next_linear), neurons_to_keep(layer, amount, p)));
    } else if (conv && conv->options.groups() == 1 &&
               ((next_conv && !flattened && next_conv->options.groups() == 1) ||
                (next_linear && flattened))) {
      const Conv2d layer(conv);
      const int64_t channels = layer->options.out_channels();
      const std::vector<int64_t> keep =
          channels_to_keep(layer, units_to_remove(fraction, channels), p);
      if (next_conv) {
        replace(remove_channels(layer, Conv2d(next_conv), keep));
      } else {
        // Flatten is channel-major: each channel is in_features / channels columns.
        replace(remove_channels(layer, Linear(next_linear), keep,
                                next_linear->options.in_features() / channels));
      }
    }
  }
  Sequential out;
  const std::vector<std::string> names = model->named_children().keys();
  for (size_t i = 0; i < items.size(); ++i) out->push_back(names[i], items[i]);
  if (!model->is_training()) out->eval();
  return out;
}

namespace detail {

void apply_mask(Module& module, const std::string& name, Tensor& value) {
  const Tensor* mask = defined_entry(module, false, name + "_mask");
  if (mask == nullptr) return;
  value = defined_entry(module, true, name + "_orig")->mul(*mask);
}

}  // namespace detail

}  // namespace tinytorch::nn::utils::prune
