// Which code runs each op family: the registry's answer (kernels/registry.h), and the block that
// every milestone and lab prints when it starts.
//
// Three sources of code can run an op:
//   yours               the module's files — the reference tier the learner writes;
//   reference objects   the release's compiled reference of a module, linked instead of the
//                       learner's files after `tito module use-reference NN`. CMake knows which
//                       (cmake/TinyTorchReference.cmake) and passes them to this file as
//                       TINYTORCH_REFERENCE_MODULES ("02 09"); nothing else in the library needs
//                       to know;
//   given fast kernels  src/kernels/*_fast.cpp, registered by module 18, float32 only (the GEMM
//                       also float64).
#include <algorithm>
#include <sstream>
#include <utility>

#include "tinytorch/kernels/registry.h"

#ifndef TINYTORCH_REFERENCE_MODULES
#define TINYTORCH_REFERENCE_MODULES ""
#endif

namespace tinytorch::kernels {

namespace {

// One registry entry: its name in FastKernels and whether it is filled.
struct Entry {
  const char* name;
  bool registered;
};

struct Family {
  const char* name;
  const char* module;  // where the family's reference code is written
  std::vector<Entry> entries;
};

// Every FastKernels member but the allocator, by op family: 27 entries (+ caching_allocator = 28).
std::vector<Family> families_of(const FastKernels& k) {
  const SpatialKernels& sp = k.spatial;
  return {
      {"GEMM (matmul, Linear)",
       "01",
       {{"sgemm", k.sgemm != nullptr}, {"dgemm", k.dgemm != nullptr}}},
      {"convolution",
       "09",
       {{"spatial.conv2d_forward", sp.conv2d_forward != nullptr},
        {"spatial.conv2d_backward_input", sp.conv2d_backward_input != nullptr},
        {"spatial.conv2d_backward_weight", sp.conv2d_backward_weight != nullptr}}},
      {"max pooling",
       "09",
       {{"spatial.max_pool2d_forward", sp.max_pool2d_forward != nullptr},
        {"spatial.max_pool2d_backward", sp.max_pool2d_backward != nullptr}}},
      {"batch norm",
       "09",
       {{"spatial.batch_norm_stats", sp.batch_norm_stats != nullptr},
        {"spatial.batch_norm_apply", sp.batch_norm_apply != nullptr},
        {"spatial.batch_norm_backward_reduce", sp.batch_norm_backward_reduce != nullptr},
        {"spatial.batch_norm_backward_apply", sp.batch_norm_backward_apply != nullptr}}},
      {"attention",
       "12",
       {{"attention.forward", k.attention.forward != nullptr},
        {"attention.backward", k.attention.backward != nullptr}}},
      {"softmax, log_softmax (cross_entropy)",
       "02",
       {{"softmax.softmax", k.softmax.softmax != nullptr},
        {"softmax.log_softmax", k.softmax.log_softmax != nullptr},
        {"softmax.softmax_backward", k.softmax.softmax_backward != nullptr},
        {"softmax.log_softmax_backward", k.softmax.log_softmax_backward != nullptr}}},
      {"GELU, sigmoid, tanh",
       "02",
       {{"activation.gelu", k.activation.gelu != nullptr},
        {"activation.gelu_backward", k.activation.gelu_backward != nullptr},
        {"activation.gelu_tanh", k.activation.gelu_tanh != nullptr},
        {"activation.gelu_tanh_backward", k.activation.gelu_tanh_backward != nullptr},
        {"activation.sigmoid", k.activation.sigmoid != nullptr},
        {"activation.sigmoid_backward", k.activation.sigmoid_backward != nullptr},
        {"activation.tanh", k.activation.tanh != nullptr},
        {"activation.tanh_backward", k.activation.tanh_backward != nullptr}}},
      {"LayerNorm",
       "13",
       {{"normalization.layer_norm_forward", k.normalization.layer_norm_forward != nullptr},
        {"normalization.layer_norm_backward", k.normalization.layer_norm_backward != nullptr}}},
      {"LSTM layers (nn::LSTM)", "11", {{"lstm_layer", k.lstm_layer}}},
      {"int8 GEMM (quantized Linear)",
       "15",
       {{"qgemm.pack", k.qgemm.pack != nullptr},
        {"qgemm.minmax", k.qgemm.minmax != nullptr},
        {"qgemm.quantize", k.qgemm.quantize != nullptr},
        {"qgemm.dequantize", k.qgemm.dequantize != nullptr}}},
  };
}

std::vector<std::string> split_ids(std::string_view text) {
  std::vector<std::string> ids;
  std::istringstream in{std::string(text)};
  for (std::string id; in >> id;) ids.push_back(id);
  return ids;
}

// "module 09, yours"
std::string module_code(const std::string& module, CodeSource source) {
  return "module " + module + ", " + std::string(code_source_name(source));
}

std::string padded(std::string text, size_t width) {
  // Display width: one column per code point (every character here is narrow).
  size_t columns = 0;
  for (const char c : text) columns += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  if (columns < width) text.append(width - columns, ' ');
  return text;
}

}  // namespace

std::string_view code_source_name(CodeSource source) {
  switch (source) {
    case CodeSource::kLearner:
      return "yours";
    case CodeSource::kReferenceObjects:
      return "reference objects";
    case CodeSource::kGivenFast:
      return "given fast kernels";
  }
  return "?";
}

WhichCode which_code_runs(const FastKernels& kernels, Tier tier, bool registration_not_written,
                          std::string_view reference_modules) {
  const std::vector<std::string> on_reference = split_ids(reference_modules);
  const auto source_of = [&](const std::string& module) {
    return std::find(on_reference.begin(), on_reference.end(), module) != on_reference.end()
               ? CodeSource::kReferenceObjects
               : CodeSource::kLearner;
  };
  WhichCode code;
  code.reference_modules = on_reference;
  code.tier = tier;
  code.registration_not_written = registration_not_written;
  code.registration = source_of("18");
  code.caching_allocator = kernels.caching_allocator;
  for (const Family& f : families_of(kernels)) {
    OpFamilyCode family;
    family.family = f.name;
    family.module = f.module;
    family.reference = source_of(f.module);
    family.entries = static_cast<int>(f.entries.size());
    for (const Entry& e : f.entries) {
      if (e.registered) {
        ++family.registered;
      } else {
        family.missing.emplace_back(e.name);
      }
    }
    family.runs = family.registered == family.entries ? CodeSource::kGivenFast : family.reference;
    code.families.push_back(std::move(family));
  }
  return code;
}

WhichCode which_code_runs() {
  const Tier t = tier();
  return which_code_runs(fast_kernels(), t, registration_not_written(),
                         TINYTORCH_REFERENCE_MODULES);
}

// NOTE: one line per op family, three columns: the family, what its float32 ops run now, and
// ("else") the reference code that runs for other dtypes and on the reference tier. A family
// whose entries are only partly registered runs the given kernel for those entries and the
// reference for the rest: the line names the missing entries.
std::string which_code_report(const WhichCode& code) {
  std::ostringstream out;
  out << "Which code runs — kernel tier: "
      << (code.tier == Tier::kFast ? "fast" : "reference (TINYTORCH_KERNELS=reference or set_tier)")
      << "\n";
  constexpr size_t kFamilyWidth = 38, kRunsWidth = 24;  // the longest family: 36
  for (const OpFamilyCode& f : code.families) {
    const std::string reference = module_code(f.module, f.reference);
    std::string runs, rest;
    if (f.registered == f.entries) {
      runs = std::string(code_source_name(CodeSource::kGivenFast));
      rest = "else " + reference;
    } else if (f.registered == 0) {
      runs = reference;
    } else {
      runs = "given, " + std::to_string(f.registered) + " of " + std::to_string(f.entries);
      rest = "else " + reference + "; not registered:";
      for (const std::string& m : f.missing) rest += " " + m;
    }
    out << "  " << padded(f.family, kFamilyWidth)
        << (rest.empty() ? runs : padded(runs, kRunsWidth)) << rest << "\n";
  }
  if (code.tier == Tier::kReference) {
    out << "  the reference tier is forced: every op runs its module's code\n";
  } else if (code.registration_not_written) {
    out << "  nothing registered: module 18's register_fast_kernels is not written yet, so every "
           "op runs its module's code (correct, slower)\n";
  } else {
    out << "  fast kernels registered by " << module_code("18", code.registration)
        << "; caching allocator " << (code.caching_allocator ? "on" : "off") << "\n"
        << "  \"else\" runs for other dtypes (the fast kernels are float32, the GEMM's also "
           "float64)\n";
  }
  out << "  every other op: its module's code (yours";
  if (!code.reference_modules.empty()) {
    out << "; reference objects for module";
    for (const std::string& id : code.reference_modules) out << " " << id;
  }
  out << ")\n";
  return out.str();
}

std::string which_code_report() {
  return which_code_report(which_code_runs());
}

}  // namespace tinytorch::kernels
