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
//
// What the graph costs in memory, in numbers: saved_tensor_bytes(output) walks the same nodes and
// sums the bytes their saved tensors hold, by node name and dtype — the table that says which op
// keeps what, and in which precision:
//
//   for (const auto& row : autograd::saved_tensor_bytes(loss))
//     std::cout << row.node << " " << row.dtype << " " << row.tensors << " " << row.bytes << "\n";
//
//   AddmmBackward0                      bfloat16  17  15204352   (milestone 2017's GPT, a batch
//   NativeLayerNormBackward0            float32   27   9446400    of 32 × 64 tokens, under bf16
//   GeluBackward0                       bfloat16   4   8388608    autocast; AddmmBackward0's
//   ScaledDotProductAttentionBackward0  bfloat16  16   6291456    float32 row: the weights, kept
//   AddmmBackward0                      float32   17   3204096    to be cast again in backward)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tinytorch/core/ordered_dict.h"
#include "tinytorch/core/tensor.h"

namespace tinytorch::autograd {

// The graph behind `output` as Graphviz DOT text. `names` labels leaves (a module's
// named_parameters()); a leaf not in it is drawn with its shape only.
// Error: `output` takes part in no graph (it does not require grad).
std::string to_dot(const Tensor& output, const OrderedDict<std::string, Tensor>& names = {});

// The tensors that the nodes named `node` saved, of one dtype.
struct SavedTensorBytes {
  std::string node;  // "AddmmBackward0"
  ScalarType dtype = kFloat32;
  int64_t tensors = 0;  // how many saved tensors (several may share one storage)
  int64_t bytes = 0;    // the bytes of their storages not already counted in an earlier row
};

// The saved tensors still held in the graph behind `output`, grouped by node name and dtype, most
// bytes first. NOTE: each storage is counted once in the whole table, at the first node that
// reaches it in to_dot's walk (attention's q, k, v — three views of one projection — count its
// storage once; a Linear saving that attention's output adds nothing): the total is what the
// graph keeps alive, parameters and inputs saved as they are included (they were alive before —
// the allocator's live bytes before and after the forward tell activations from them).
// Error: `output` takes part in no graph (it does not require grad).
std::vector<SavedTensorBytes> saved_tensor_bytes(const Tensor& output);

}  // namespace tinytorch::autograd
