// tinytorch/autograd/engine.h — running the graph backwards.
//
//   loss.backward()  ==  autograd::backward({loss})
//   autograd::grad({y}, {x})  returns dy/dx without touching x.grad()
//
// The engine first counts, for every node reachable from the roots, how many edges point at
// it (its dependencies). A node runs only when all of them have delivered their gradient —
// so a tensor used twice gets the SUM of both contributions before its own node runs. Ready
// nodes are taken newest first (highest sequence_nr), which is PyTorch's order on one thread.
#pragma once

#include <optional>

#include "tinytorch/autograd/node.h"

namespace tinytorch::autograd {

// Accumulates d(roots)/d(leaf) into every reachable leaf's .grad(). `grad_tensors` seed the
// roots (empty: each root must be a one-element tensor and is seeded with 1). Without
// retain_graph the saved tensors are freed as the pass goes (a second backward then errors).
// The parameters and their order are libtorch's. create_graph = true records the backward pass
// itself, so the gradients it produces (and the leaves' .grad()) can be differentiated again:
//
//   Tensor g = autograd::grad({y}, {x}, {}, std::nullopt, /*create_graph=*/true)[0];
//   (g * g).sum().backward();     // a gradient penalty: d‖dy/dx‖²/dθ reaches the parameters
//
// retain_graph defaults to create_graph. Seeds in grad_tensors that require grad stay in the
// graph. Ops whose second derivative is not implemented raise an error when differentiated
// through such a gradient, never return a constant.
void backward(const variable_list& roots, const variable_list& grad_tensors = {},
              std::optional<bool> retain_graph = std::nullopt, bool create_graph = false);

// Returns d(outputs)/d(inputs), one tensor per input, leaving every .grad() untouched.
// Parameters in libtorch's order: (outputs, inputs, grad_outputs, retain_graph, create_graph,
// allow_unused). allow_unused: an input the outputs do not depend on gives an undefined tensor
// instead of an error. create_graph as in backward() above.
variable_list grad(const variable_list& outputs, const variable_list& inputs,
                   const variable_list& grad_outputs = {},
                   std::optional<bool> retain_graph = std::nullopt, bool create_graph = false,
                   bool allow_unused = false);

}  // namespace tinytorch::autograd
