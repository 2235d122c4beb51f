// tinytorch/nn/nn.h — all of tinytorch::nn in one include (like <torch/nn.h>): Module and
// ModuleHolder, the layers, nn::init, nn::functional and nn::summary.
//
//   #include "tinytorch/nn/nn.h"
//   namespace nn = tinytorch::nn;
//   namespace F = tinytorch::nn::functional;
#pragma once

#include "tinytorch/nn/functional.h"
#include "tinytorch/nn/init.h"
#include "tinytorch/nn/module.h"
#include "tinytorch/nn/modules.h"
#include "tinytorch/nn/summary.h"
