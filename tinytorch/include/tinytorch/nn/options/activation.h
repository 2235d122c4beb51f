// tinytorch/nn/options/activation.h — the options of the activations that take any (libtorch's
// torch/nn/options/activation.h): one struct shared by the module and the functional form, which
// calls it <Name>FuncOptions.
//
//   nn::ELU elu(nn::ELUOptions().alpha(0.5).inplace(true));
//   F::softplus(x, F::SoftplusFuncOptions().beta(2).threshold(10));
//   F::relu(x, F::ReLUFuncOptions(true));            // in place
//
// inplace(true) writes the result into the input (the x ← f(x) of relu_, through autograd's
// one in-place path: a leaf that requires grad is refused, as in PyTorch).
#pragma once

#include "tinytorch/nn/module.h"  // TT_ARG

namespace tinytorch::nn {

struct ReLUOptions {
  ReLUOptions(bool inplace = false) : inplace_(inplace) {}  // NOLINT(google-explicit-constructor)
  TT_ARG(bool, inplace);
};

struct ReLU6Options {
  ReLU6Options(bool inplace = false) : inplace_(inplace) {}  // NOLINT(google-explicit-constructor)
  TT_ARG(bool, inplace);
};

struct SELUOptions {
  SELUOptions(bool inplace = false) : inplace_(inplace) {}  // NOLINT(google-explicit-constructor)
  TT_ARG(bool, inplace);
};

struct LeakyReLUOptions {
  // nn::LeakyReLU(0.2) keeps compiling (libtorch's struct has no constructor: .negative_slope()).
  LeakyReLUOptions(double negative_slope = 0.01)  // NOLINT(google-explicit-constructor)
      : negative_slope_(negative_slope) {}
  TT_ARG(double, negative_slope);
  TT_ARG(bool, inplace) = false;
};

// alpha · (e^x − 1) for x ≤ 0, x above.
struct ELUOptions {
  TT_ARG(double, alpha) = 1.0;
  TT_ARG(bool, inplace) = false;
};

// alpha · (e^(x/alpha) − 1) for x ≤ 0, x above (alpha ≠ 0).
struct CELUOptions {
  TT_ARG(double, alpha) = 1.0;
  TT_ARG(bool, inplace) = false;
};

// min_val below min_val, max_val above max_val, x between.
struct HardtanhOptions {
  TT_ARG(double, min_val) = -1.0;
  TT_ARG(double, max_val) = 1.0;
  TT_ARG(bool, inplace) = false;
};

// log(1 + e^(beta·x)) / beta, and x itself where beta·x > threshold (numerically linear there).
struct SoftplusOptions {
  TT_ARG(double, beta) = 1.0;
  TT_ARG(double, threshold) = 20.0;
};

namespace functional {
using ReLUFuncOptions = ReLUOptions;
using ReLU6FuncOptions = ReLU6Options;
using SELUFuncOptions = SELUOptions;
using LeakyReLUFuncOptions = LeakyReLUOptions;
using ELUFuncOptions = ELUOptions;
using CELUFuncOptions = CELUOptions;
using HardtanhFuncOptions = HardtanhOptions;
using SoftplusFuncOptions = SoftplusOptions;
}  // namespace functional

}  // namespace tinytorch::nn
