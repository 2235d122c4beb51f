// examples/common/fixed_run.h — what every example shares: its command line, and the "fixed run"
// that makes its first steps comparable with PyTorch.
//
// An example is written as a libtorch user writes one (random init from torch::manual_seed,
// random data). Two framework runs from the same seed agree, but TinyTorch's generator is not
// PyTorch's, so a random run cannot be compared with PyTorch's number for number. The fixed run
// replaces every random draw with a closed form both sides compute:
//
//   parameter p of module m, element i:  scale(p) · sin(phase(name) + 0.7071 · i)
//   data (each example says which):      sin/cos of the sample's global index
//
// and prints one line per step, "step <k> loss <value>". tools/reference/gen_examples.py runs the
// same steps in PyTorch; tests/examples compares the two within a stated tolerance.
#pragma once

#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>

namespace examples {

struct RunOptions {
  int64_t steps;          // training steps (or epochs, where the example says so)
  bool fixed = false;     // --fixed: closed-form init and data, one "step k loss v" line each
  std::string data = "";  // --data DIR: where an example reads (or writes) its files
};

// --steps N, --fixed, --data DIR; anything else is an error that names it.
inline RunOptions parse_options(int argc, char** argv, int64_t default_steps) {
  RunOptions o{default_steps};
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--fixed") {
      o.fixed = true;
    } else if (a == "--steps" && has_value) {
      char* end = nullptr;
      o.steps = std::strtoll(argv[++i], &end, 10);
      if (*end != '\0' || o.steps < 1) {
        std::cerr << argv[0] << ": --steps expects a positive integer, got '" << argv[i] << "'\n";
        std::exit(2);
      }
    } else if (a == "--data" && has_value) {
      o.data = argv[++i];
    } else {
      std::cerr << argv[0] << ": unknown argument '" << a
                << "' (expected --steps N, --fixed, --data DIR)\n";
      std::exit(2);
    }
  }
  return o;
}

// The closed-form values of a fixed run: scale · sin(phase + 0.7071 · i), i the flat index.
inline torch::Tensor fixed_values(torch::IntArrayRef sizes, double phase, double scale) {
  const torch::Tensor i = torch::arange(0, torch::ones(sizes).numel(), torch::kFloat64);
  return (i * 0.7071 + phase).sin().mul(scale).reshape(sizes).to(torch::kFloat32);
}

// Overwrites every parameter of `module` with its closed form. The phase comes from the name
// (so the order of registration does not matter); the scale is PyTorch's default bound for a
// weight, 1/sqrt(fan_in), and for a bias that of the weight beside it.
inline void fixed_init(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  auto params = module.named_parameters();  // handles: copy_ writes into the module's tensors
  const auto fan_in = [](const torch::Tensor& w) {
    return w.dim() >= 2 ? static_cast<double>(w.numel() / w.size(0)) : 1.0;
  };
  for (auto& item : params) {
    const std::string& name = item.key();
    double phase = 0;
    for (const char c : name) phase += static_cast<unsigned char>(c);
    phase *= 0.01;
    const torch::Tensor* weight = params.find(name.substr(0, name.rfind('.') + 1) + "weight");
    const double fan = item.value().dim() >= 2 ? fan_in(item.value())
                       : weight != nullptr     ? fan_in(*weight)
                                               : 1.0;
    item.value().copy_(fixed_values(item.value().sizes(), phase, 1.0 / std::sqrt(fan)));
  }
}

// One line per step in a fixed run (the test reads these), every `every` steps otherwise.
inline void report(const RunOptions& o, int64_t step, double loss, int64_t every = 10) {
  if (o.fixed) {
    std::printf("step %lld loss %.9g\n", static_cast<long long>(step), loss);
  } else if (step % every == 0) {
    std::printf("step %5lld  loss %.6f\n", static_cast<long long>(step), loss);
  }
}

}  // namespace examples
