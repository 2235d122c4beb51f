// autograd::to_dot — the backward graph as Graphviz DOT text, and saved_tensor_bytes — what its
// saved tensors hold (see tinytorch/autograd/graph_viz.h).
#include "tinytorch/autograd/graph_viz.h"

#include <algorithm>
#include <map>
#include <sstream>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "tinytorch/autograd/autograd_meta.h"
#include "tinytorch/autograd/node.h"
#include "tinytorch/autograd/saved_variable.h"
#include "tinytorch/core/exception.h"
#include "tinytorch/core/int_array_ref.h"

namespace tinytorch::autograd {
namespace {

// A DOT string literal: quotes and backslashes escaped, newlines as \n (a centred line break).
std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out + '"';
}

// "[64, 784]", as IntArrayRef prints.
std::string shape_to_string(IntArrayRef sizes) {
  std::ostringstream os;
  os << sizes;
  return os.str();
}

void check_in_graph(const Tensor& output, const char* who) {
  TT_CHECK_VALUE(output.defined(), who, ": expected a defined tensor");
  TT_CHECK_VALUE(output.requires_grad(), who,
                 ": the tensor takes part in no autograd graph (requires_grad is false); "
                 "pass a tensor computed from inputs that require grad");
}

}  // namespace

std::string to_dot(const Tensor& output, const OrderedDict<std::string, Tensor>& names) {
  check_in_graph(output, "to_dot()");
  std::unordered_map<const TensorImpl*, std::string> leaf_names;
  for (const auto& item : names) leaf_names.emplace(item.value().unsafeGetTensorImpl(), item.key());

  std::ostringstream dot;
  dot << "digraph autograd {\n"
         "  node [shape=box, style=filled, fontname=\"monospace\", fontsize=11, "
         "fillcolor=lightgrey]\n"
         "  out [label="
      << quoted("output\n" + shape_to_string(output.sizes())) << ", fillcolor=darkolivegreen1]\n";

  // Depth-first over next_edges with an explicit stack (graphs of a long training loop can be
  // hundreds of thousands of nodes deep); a node reached again only gets another arrow.
  std::unordered_map<const Node*, std::string> ids;
  std::vector<const Node*> stack;
  auto id_of = [&](const Node* n) {
    auto [it, inserted] = ids.emplace(n, "n" + std::to_string(ids.size()));
    if (inserted) stack.push_back(n);
    return it->second;
  };
  const Edge root = gradient_edge(output);
  dot << "  out -> " << id_of(root.function.get()) << "\n";
  while (!stack.empty()) {
    const Node* n = stack.back();
    stack.pop_back();
    const std::string& id = ids.at(n);
    if (const auto* acc = dynamic_cast<const AccumulateGrad*>(n)) {
      // A leaf: drawn as the parameter it accumulates into, named when the caller knows it.
      const Tensor leaf = acc->variable();
      std::string label = "(deleted leaf)";
      if (leaf.defined()) {
        auto it = leaf_names.find(leaf.unsafeGetTensorImpl());
        label = (it != leaf_names.end() ? it->second + "\n" : std::string()) +
                shape_to_string(leaf.sizes());
      }
      dot << "  " << id << " [label=" << quoted(label + "\nAccumulateGrad")
          << ", fillcolor=lightblue]\n";
      continue;
    }
    dot << "  " << id << " [label=" << quoted(n->name()) << "]\n";
    const auto saved = n->saved_variables();
    for (size_t i = 0; i < saved.size(); ++i) {
      if (!saved[i]->defined()) continue;  // an optional input that was not given
      const std::string sid = id + "_saved" + std::to_string(i);
      dot << "  " << sid << " [label="
          << quoted(saved[i]->is_held() ? "saved\n" + shape_to_string(saved[i]->sizes())
                                        : std::string("saved\n(freed)"))
          << ", fillcolor=orange]\n"
          << "  " << sid << " -> " << id << " [style=dashed, arrowhead=none]\n";
    }
    for (const Edge& e : n->next_edges()) {
      if (e.is_valid()) dot << "  " << id << " -> " << id_of(e.function.get()) << "\n";
    }
  }
  dot << "}\n";
  return dot.str();
}

std::vector<SavedTensorBytes> saved_tensor_bytes(const Tensor& output) {
  check_in_graph(output, "saved_tensor_bytes()");
  // The walk of to_dot: depth-first from the output's node, each node once.
  std::map<std::pair<std::string, ScalarType>, SavedTensorBytes> rows;
  std::unordered_set<const void*> counted;  // storages already in a row
  std::unordered_set<const Node*> seen;
  std::vector<const Node*> stack;
  const auto push = [&](const Node* n) {
    if (n != nullptr && seen.insert(n).second) stack.push_back(n);
  };
  push(gradient_edge(output).function.get());
  while (!stack.empty()) {
    const Node* n = stack.back();
    stack.pop_back();
    for (const SavedVariable* s : n->saved_variables()) {
      if (!s->is_held()) continue;  // not given, or freed by a backward
      SavedTensorBytes& row = rows[{n->name(), s->dtype()}];
      row.node = n->name();
      row.dtype = s->dtype();
      ++row.tensors;
      const Storage& storage = s->storage();
      if (counted.insert(storage.data()).second)
        row.bytes += static_cast<int64_t>(storage.nbytes());
    }
    for (const Edge& e : n->next_edges()) push(e.function.get());
  }
  std::vector<SavedTensorBytes> out;
  for (auto& [key, row] : rows) out.push_back(std::move(row));
  std::stable_sort(
      out.begin(), out.end(),
      [](const SavedTensorBytes& a, const SavedTensorBytes& b) { return a.bytes > b.bytes; });
  return out;
}

}  // namespace tinytorch::autograd
