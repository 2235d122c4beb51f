// <torch/torch.h> — TinyTorch as a drop-in for libtorch's C++ frontend header.
//
//   #include <torch/torch.h>
//   torch::nn::Linear fc(784, 10);
//   torch::Device device = torch::cuda::is_available() ? torch::kCUDA : torch::kCPU;
//   fc->to(device);
//   auto loss = torch::nn::functional::cross_entropy(fc(x.to(device)), y);
//
// `torch::` and `at::` name the tinytorch namespace, and TORCH_MODULE / TORCH_ARG are the
// module-holder and options macros under libtorch's names; TORCH_CHECK, TORCH_INTERNAL_ASSERT
// and AT_ASSERT throw tinytorch::Error. The rule is libtorch's own meaning:
// a libtorch program either compiles here and does what it does with libtorch, or it fails to
// compile. Out of scope, and absent: TorchScript (torch::jit), CUDA kernels (torch::cuda reports
// no device; putting a tensor or module on one is an error naming it), and c10:: internals.
#pragma once

#include "tinytorch/tinytorch.h"

namespace torch = tinytorch;  // NOLINT(misc-unused-alias-decls)
namespace at = tinytorch;     // NOLINT(misc-unused-alias-decls)

#define TORCH_MODULE(Name) TT_MODULE(Name)
#define TORCH_ARG(T, name) TT_ARG(T, name)

namespace tinytorch::detail {
// TORCH_CHECK's message: the caller's parts, or libtorch's default naming the condition.
inline std::string torch_check_message(const char* condition) {
  return std::string("Expected ") + condition + " to be true, but got false.";
}
template <typename... Parts>
std::string torch_check_message(const char* /*condition*/, const Parts&... parts) {
  return str(parts...);
}
}  // namespace tinytorch::detail

// libtorch's checks, which its own examples use (mnist.cpp: AT_ASSERT(!std::isnan(loss))): they
// throw tinytorch::Error (libtorch's c10::Error, which is out of scope) when cond is false.
#define TORCH_CHECK(cond, ...) \
  TT_CHECK(cond, ::tinytorch::detail::torch_check_message(#cond __VA_OPT__(, ) __VA_ARGS__))
#define TORCH_INTERNAL_ASSERT(cond, ...)                           \
  TT_CHECK(cond, #cond " INTERNAL ASSERT FAILED at " __FILE__ ":", \
           __LINE__ __VA_OPT__(, ": ", ) __VA_ARGS__)
#define AT_ASSERT(cond, ...) TORCH_INTERNAL_ASSERT(cond __VA_OPT__(, ) __VA_ARGS__)
