// The backward engine: dependency counting, then a ready queue.
//
//   loss = ((x * w).sum() + w.sum())            x, w leaves; w is used twice
//
//        SumBackward0 ─► MulBackward0 ─► AccumulateGrad(w)   ◄─┐
//     AddBackward0 ┤                  └► (x: no grad needed)   │ two edges: dependency count 2
//        SumBackward0 ───────────────────────────────────────────┘
//
// 1. Walk the graph from the roots and count, for every node, the edges that point at it.
// 2. Seed the roots' buffers. A node whose count is 0 is ready.
// 3. Repeatedly take the ready node with the highest sequence number (the most recently created
//    op — the reverse of the forward order), call it, and add each gradient it returns into the
//    buffer of the node its edge leads to; decrement that node's count; at 0 it is ready.
// Every node therefore runs exactly once, after ALL contributions to its gradient have been
// summed — the whole point of the counting.
//
// Grad mode during the pass is create_graph (set by backward() and grad() below). Off, the
// formulas' ops record nothing. On, they are recorded like any forward op: the gradients that
// come out — buffers summed with add(), leaves' .grad() accumulated out of place (node.cpp) —
// carry a graph of their own, and can be differentiated again (a gradient penalty, a
// Hessian-vector product).
#include "tinytorch/autograd/engine.h"

#include <optional>
#include <queue>
#include <unordered_map>

#include "tinytorch/amp/autocast.h"
#include "tinytorch/autograd/autograd_meta.h"
#include "tinytorch/autograd/derivatives.h"
#include "tinytorch/autograd/grad_mode.h"

namespace tinytorch::autograd {

namespace {

// The gradients one backward pass has received for a node so far (one slot per forward output).
using InputBuffer = std::vector<Tensor>;

// Whether nobody else can see t (no other handle, no view of its storage) and it is dense: then
// the sum may be written into it.
bool owns_dense(const Tensor& t) {
  return t.use_count() == 1 && t.storage().use_count() == 1 && t.is_contiguous();
}

// NOTE: a node used at every step of a sequence (an RNN's weight, one linear per step) receives
// T gradients of the weight's size. Summed out of place, each addition allocated and wrote a
// fresh tensor; when one of the two is a buffer nobody else sees, the sum goes into it instead,
// as PyTorch's InputBuffer does (the same additions, the same bits: a + b == b + a). With grad
// mode on (create_graph) the sum must be recorded, so it stays out of place.
[[maybe_unused]] void add_to_buffer(InputBuffer& buffer, uint32_t slot, Tensor grad) {
  if (buffer.size() <= slot) buffer.resize(slot + 1);
  Tensor& cur = buffer[slot];
  if (!cur.defined()) {
    cur = std::move(grad);
    return;
  }
  const bool same = cur.sizes() == grad.sizes() && cur.dtype() == grad.dtype();
  if (same && !GradMode::is_enabled()) {
    if (owns_dense(cur)) {
      cur.add_(grad);
      return;
    }
    if (owns_dense(grad)) {
      grad.add_(cur);
      cur = std::move(grad);
      return;
    }
  }
  cur = cur.add(grad);
}

// A gradient a node returned must match the input it belongs to: a broadcast input receives the
// broadcast-shaped gradient and is summed back to its own shape here, once, for every op
// (PyTorch's validate_outputs); a float32 input of a float64 op gets its gradient in float32.
[[maybe_unused]] Tensor validate_gradient(const Node& node, size_t i, Tensor grad) {
  // BEGIN SOLUTION
  const InputMetadata& meta = node.input_metadata(i);
  if (grad.sizes() != IntArrayRef(meta.sizes)) {
    TT_CHECK(is_expandable_to(meta.sizes, grad.sizes()), "Function ", node.name(),
             " returned an invalid gradient at index ", i, " - got ", grad.sizes(),
             " but expected shape compatible with ", IntArrayRef(meta.sizes));
    grad = sum_to(grad, meta.sizes);
  }
  if (grad.dtype() != meta.dtype) grad = grad.to(meta.dtype);
  return grad;
  // END SOLUTION
}

struct CompareSequenceNr {
  bool operator()(const Node* a, const Node* b) const {
    return a->sequence_nr() < b->sequence_nr();
  }
};

// Runs the graph below `roots` (edges seeded with `seeds`). With `capture` (autograd::grad),
// the gradients arriving at the captured edges are returned instead of being accumulated into
// leaves, and no AccumulateGrad runs. The caller has set grad mode (off, unless create_graph).
variable_list run_backward(const std::vector<Edge>& roots, variable_list seeds, bool keep_graph,
                           const std::vector<Edge>* capture) {
  // BEGIN SOLUTION
  // 1. Dependency counts of every reachable node.
  std::unordered_map<Node*, int> dependencies;
  std::vector<Node*> stack;
  std::unordered_map<Node*, bool> seen;
  for (const Edge& e : roots) {
    if (!seen[e.function.get()]) {
      seen[e.function.get()] = true;
      stack.push_back(e.function.get());
    }
  }
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    for (const Edge& e : n->next_edges()) {
      if (!e.is_valid()) continue;
      ++dependencies[e.function.get()];
      if (!seen[e.function.get()]) {
        seen[e.function.get()] = true;
        stack.push_back(e.function.get());
      }
    }
  }

  // 2. Seed the roots.
  std::unordered_map<Node*, InputBuffer> buffers;
  for (size_t i = 0; i < roots.size(); ++i) {
    add_to_buffer(buffers[roots[i].function.get()], roots[i].input_nr, std::move(seeds[i]));
  }
  std::priority_queue<Node*, std::vector<Node*>, CompareSequenceNr> ready;
  for (const Edge& e : roots) {
    Node* n = e.function.get();
    if (dependencies[n] == 0) {
      dependencies[n] = -1;  // queued once, even if it is the root of several edges
      ready.push(n);
    }
  }

  variable_list captured(capture != nullptr ? capture->size() : 0);
  // 3. Run nodes as they become ready.
  while (!ready.empty()) {
    Node* node = ready.top();
    ready.pop();
    InputBuffer grads = std::move(buffers[node]);
    buffers.erase(node);
    grads.resize(node->num_outputs());  // a slot per output, undefined where nothing arrived
    // The tensors' own hooks first (register_hook): what they return is the gradient from here
    // on — for the formula, for autograd::grad's capture and for retain_grad.
    node->call_tensor_pre_hooks(grads);

    if (capture != nullptr) {
      for (size_t c = 0; c < capture->size(); ++c) {
        const Edge& e = (*capture)[c];
        if (e.function.get() == node && e.input_nr < grads.size() && grads[e.input_nr].defined()) {
          captured[c] =
              captured[c].defined() ? captured[c].add(grads[e.input_nr]) : grads[e.input_nr];
        }
      }
      if (dynamic_cast<AccumulateGrad*>(node) != nullptr) continue;
    }
    for (const Node::RetainedTensor& r : node->retained_tensors()) {
      const Tensor& g = grads[r.output_nr];
      if (std::shared_ptr<TensorImpl> impl = r.tensor.lock(); impl && g.defined()) {
        accumulate_grad(Tensor(impl).mutable_grad(), Tensor(g));
      }
    }

    // A node none of whose outputs received a gradient contributes nothing: skip its formula.
    bool any_defined = false;
    for (const Tensor& g : grads) any_defined = any_defined || g.defined();
    variable_list outputs;
    if (any_defined) {
      // Calling the node (not apply() directly) makes its run a profiler event named after it
      // ("MmBackward0"), when a profiler records; the ops its formula calls nest inside it.
      outputs = (*node)(std::move(grads));
    }
    if (!keep_graph) node->release_variables();

    for (size_t i = 0; i < node->num_inputs(); ++i) {
      const Edge& e = node->next_edge(i);
      if (!e.is_valid()) continue;
      Node* next = e.function.get();
      if (i < outputs.size() && outputs[i].defined()) {
        add_to_buffer(buffers[next], e.input_nr,
                      validate_gradient(*node, i, std::move(outputs[i])));
      }
      if (--dependencies[next] == 0) ready.push(next);
    }
  }
  return captured;
  // END SOLUTION
}

// The edge and the seed gradient for each root, with PyTorch's checks. A seed keeps its own
// graph only with create_graph (the gradient is then a function of it, too).
std::vector<Edge> root_edges(const variable_list& roots, const variable_list& grad_tensors,
                             bool create_graph, variable_list& seeds) {
  TT_CHECK(grad_tensors.empty() || grad_tensors.size() == roots.size(), "backward: got ",
           grad_tensors.size(), " gradients for ", roots.size(), " tensors");
  std::vector<Edge> edges;
  for (size_t i = 0; i < roots.size(); ++i) {
    const Tensor& root = roots[i];
    TT_CHECK(root.defined(), "backward: tensor ", i, " is undefined");
    TT_CHECK(root.requires_grad(), "element ", i,
             " of tensors does not require grad and does not have a grad_fn");
    Tensor seed = grad_tensors.empty() ? Tensor() : grad_tensors[i];
    if (!seed.defined()) {
      TT_CHECK(root.numel() == 1, "grad can be implicitly created only for scalar outputs (tensor ",
               i, " has shape ", root.sizes(), "; pass a gradient of that shape to backward)");
      seed = ones_like(root);
    }
    TT_CHECK(seed.sizes() == root.sizes(), "Mismatch in shape: grad_output[", i,
             "] has a shape of ", seed.sizes(), " and output[", i, "] has a shape of ",
             root.sizes(), ".");
    TT_CHECK_TYPE(seed.is_floating_point(), "backward: the gradient for tensor ", i,
                  " must be floating point, got ", seed.dtype());
    seed = seed.to(root.dtype());
    seeds.push_back(create_graph ? seed : seed.detach());
    edges.push_back(gradient_edge(root));
  }
  return edges;
}

}  // namespace

// NOTE: as in libtorch, retain_graph defaults to create_graph: a graph that was differentiated
// with create_graph is usually differentiated again (its gradient's graph reaches into it).
void backward(const variable_list& roots, const variable_list& grad_tensors,
              std::optional<bool> retain_graph, bool create_graph) {
  variable_list seeds;
  const std::vector<Edge> edges = root_edges(roots, grad_tensors, create_graph, seeds);
  const AutoGradMode grad_mode(create_graph);
  const autocast::detail::ExcludeGuard no_autocast;  // backward: the forward's dtypes (autocast.h)
  run_backward(edges, std::move(seeds), retain_graph.value_or(create_graph), nullptr);
}

variable_list grad(const variable_list& outputs, const variable_list& inputs,
                   const variable_list& grad_outputs, std::optional<bool> retain_graph,
                   bool create_graph, bool allow_unused) {
  variable_list seeds;
  const std::vector<Edge> edges = root_edges(outputs, grad_outputs, create_graph, seeds);
  std::vector<Edge> targets;
  for (size_t i = 0; i < inputs.size(); ++i) {
    TT_CHECK(inputs[i].requires_grad(), "grad: input ", i,
             " does not require grad (set requires_grad before computing the outputs)");
    targets.push_back(gradient_edge(inputs[i]));
  }
  const AutoGradMode grad_mode(create_graph);
  const autocast::detail::ExcludeGuard no_autocast;  // backward: the forward's dtypes (autocast.h)
  variable_list result =
      run_backward(edges, std::move(seeds), retain_graph.value_or(create_graph), &targets);
  for (size_t i = 0; i < result.size(); ++i) {
    TT_CHECK(result[i].defined() || allow_unused, "grad: one of the differentiated Tensors (input ",
             i,
             ") appears to not have been used in the graph. Set allow_unused=true if this is "
             "the desired behavior.");
  }
  return result;
}

}  // namespace tinytorch::autograd
