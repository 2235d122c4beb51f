// <torch/torch.h> — TinyTorch as a drop-in for libtorch's C++ frontend header.
//
//   #include <torch/torch.h>
//   torch::nn::Linear fc(784, 10);
//   torch::Device device = torch::cuda::is_available() ? torch::kCUDA : torch::kCPU;
//   fc->to(device);
//   auto loss = torch::nn::functional::cross_entropy(fc(x.to(device)), y);
//
// `torch::` and `at::` name the tinytorch namespace, and TORCH_MODULE / TORCH_ARG are the
// module-holder and options macros under libtorch's names. The rule is libtorch's own meaning:
// a libtorch program either compiles here and does what it does with libtorch, or it fails to
// compile. Out of scope, and absent: TorchScript (torch::jit), CUDA kernels (torch::cuda reports
// no device; putting a tensor or module on one is an error naming it), and c10:: internals.
#pragma once

#include "tinytorch/tinytorch.h"

namespace torch = tinytorch;  // NOLINT(misc-unused-alias-decls)
namespace at = tinytorch;     // NOLINT(misc-unused-alias-decls)

#define TORCH_MODULE(Name) TT_MODULE(Name)
#define TORCH_ARG(T, name) TT_ARG(T, name)
