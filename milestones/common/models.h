// milestones/common/models.h — the Fashion-MNIST milestones' models, built in one place: the
// milestone that trains a model (1986, 1998) and the one that benchmarks it (2018) must agree on
// its layers exactly, or a checkpoint would not load.
//
//   nn::Sequential mlp = milestones::mlp_1986();     // 784-256-128-10, 235 146 parameters
//   nn::Sequential cnn = milestones::lenet5();       // LeNet-5, 61 706 parameters
#pragma once

#include "tinytorch/nn/nn.h"

namespace tinytorch::milestones {

// The test accuracy milestone 1986 and 1998 (LeNet-5) must reach, and that TinyMLPerf (2018)
// requires of their reference submissions.
inline constexpr double kMlpTargetAccuracy = 0.88;
inline constexpr double kLeNetTargetAccuracy = 0.88;

// Milestone 1986's MLP:
//   image [1, 28, 28] ─► flatten ─► 784 ─► Linear ─► 256 ─► ReLU ─► Linear ─► 128 ─► ReLU
//                                                   ─► Linear ─► 10 logits
// (its input rows are the flattened images: [N, 784]).
inline nn::Sequential mlp_1986() {
  return nn::Sequential(nn::Linear(784, 256), nn::ReLU(), nn::Linear(256, 128), nn::ReLU(),
                        nn::Linear(128, 10));
}

// LeNet-5 as the modern re-implementations write it: ReLU for the scaled tanh, max pooling for
// the trainable sub-sampling, a full C3 (every S2 map feeds every C3 map; LeCun's C3 used a fixed
// sparse table) and a plain Linear + softmax for the RBF output layer. 61 706 parameters.
inline nn::Sequential lenet5() {
  return nn::Sequential(nn::Conv2d(nn::Conv2dOptions(1, 6, 5).padding(2)),
                        nn::ReLU(),                                           // C1 [6, 28, 28]
                        nn::MaxPool2d(nn::MaxPool2dOptions(2)),               // S2 [6, 14, 14]
                        nn::Conv2d(nn::Conv2dOptions(6, 16, 5)), nn::ReLU(),  // C3 [16, 10, 10]
                        nn::MaxPool2d(nn::MaxPool2dOptions(2)),               // S4 [16, 5, 5]
                        nn::Flatten(),                                        //    400
                        nn::Linear(400, 120), nn::ReLU(),                     // C5
                        nn::Linear(120, 84), nn::ReLU(),                      // F6
                        nn::Linear(84, 10));                                  // output
}

}  // namespace tinytorch::milestones
