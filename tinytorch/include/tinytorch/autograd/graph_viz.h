// tinytorch/autograd/graph_viz.h — the backward graph behind a tensor, drawn with Graphviz.
//
//   auto loss = nn::functional::cross_entropy(model->forward(x), y);
//   std::string dot = autograd::to_dot(loss, model->named_parameters());
//   // dot -Tsvg graph.dot -o graph.svg
//
// What the picture shows (the colours follow torchviz's make_dot, which PyTorch users know):
//
//        ┌────────────┐
//        │ loss  []   │  green: the tensor whose graph it is
//        └─────┬──────┘
//        ┌─────▼──────┐     ┌──────────┐
//        │AddBackward0│     │ saved    │  orange, dashed line: a tensor the formula saved
//        └──┬──────┬──┘     │ [64, 10] │  ("freed" after a backward without retain_graph)
//           ▼      ▼        └──────────┘
//   ┌─────────────┐ ┌───────────────┐
//   │MmBackward0  │ │ fc1.weight    │  blue: a leaf that requires grad, reached through its
//   └─────────────┘ │ [256, 784]    │  AccumulateGrad node, named from `names` when given
//                   └───────────────┘
//
// Arrows point the way the engine walks: from a node to the nodes its next_edges lead to, so
// gradients flow top to bottom. Each node is drawn once however many paths reach it.
#pragma once

#include <string>

#include "tinytorch/core/ordered_dict.h"
#include "tinytorch/core/tensor.h"

namespace tinytorch::autograd {

// The graph behind `output` as Graphviz DOT text. `names` labels leaves (a module's
// named_parameters()); a leaf not in it is drawn with its shape only.
// Error: `output` takes part in no graph (it does not require grad).
std::string to_dot(const Tensor& output, const OrderedDict<std::string, Tensor>& names = {});

}  // namespace tinytorch::autograd
