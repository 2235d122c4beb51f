// tinytorch/autograd/custom_function.h — an op whose forward AND backward you write yourself
// (libtorch's torch::autograd::Function; PyTorch's torch.autograd.Function).
//
//   struct MulConstant : public torch::autograd::Function<MulConstant> {
//     static torch::Tensor forward(torch::autograd::AutogradContext* ctx, torch::Tensor x,
//                                  double k) {
//       ctx->saved_data["k"] = k;       // non-tensor values: a map of IValues
//       return x * k;                   // runs with grad mode OFF: records nothing
//     }
//     static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
//                                                    torch::autograd::variable_list grad_outputs) {
//       // one gradient per forward argument; an undefined Tensor for k (not a tensor)
//       return {grad_outputs[0] * ctx->saved_data["k"].toDouble(), torch::Tensor()};
//     }
//   };
//   torch::Tensor y = MulConstant::apply(x, 2.0);   // y.grad_fn(): a CppNode<MulConstant>
//
// apply(args...) does what every built-in op's public layer does (variable_ops.cpp), with the
// user's functions in place of the native and the formula:
//
//   1. the Tensor arguments (and std::optional<Tensor> ones that hold a tensor) are the inputs:
//      each gets an edge to its gradient node; any other argument gets no gradient;
//   2. forward runs with grad mode off, so the ops inside it record nothing;
//   3. if grad mode is on and an input requires grad, the outputs get the node CppNode<T> as
//      grad_fn, and what forward saved with ctx->save_for_backward is kept as SavedVariables
//      (version-checked when backward reads them, as for built-in ops);
//   4. in backward, the engine calls CppNode<T>, which calls T::backward with one gradient per
//      output (zeros where none flowed, unless ctx->set_materialize_grads(false)), checks that
//      one gradient came back per forward argument and hands the tensor inputs' on. The engine
//      then validates each (summed to the input's shape, cast to its dtype) as for any node.
//
// NOTE: as in libtorch, a std::vector<Tensor> argument is NOT an input (it is an "other"
// argument: no edges, no gradients), and needs_input_grad(i) counts tensor inputs only.
// T::backward runs under the grad mode the engine sets (on with create_graph, so a backward
// written in tensor ops is recorded and can be differentiated again); nothing here changes it.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/autograd/node.h"
#include "tinytorch/autograd/saved_variable.h"
#include "tinytorch/core/ivalue.h"
#include "tinytorch/core/tensor.h"

namespace tinytorch {

// NOTE: in tinytorch::detail, not tinytorch::autograd::detail: a namespace of that name hides
// tinytorch::detail from unqualified `detail::str` in the autograd sources.
namespace detail {

// A readable type name from typeid(...).name() ("tinytorch::autograd::CppNode<MyFn>").
std::string demangle(const char* mangled);

// libtorch's ExtractVariables: which forward arguments are tensor inputs.
struct CollectInputs {
  std::vector<bool>& is_variable;
  autograd::variable_list& inputs;
  void operator()(const Tensor& t) const {
    is_variable.push_back(true);
    inputs.push_back(t);
  }
  void operator()(const std::optional<Tensor>& t) const {
    const bool holds = t.has_value() && t->defined();
    is_variable.push_back(holds);
    if (holds) inputs.push_back(*t);
  }
  template <typename Other>
  void operator()(const Other& /*not a tensor*/) const {
    is_variable.push_back(false);
  }
};

}  // namespace detail
}  // namespace tinytorch

namespace tinytorch::autograd {

using Variable = Tensor;  // libtorch's names for a tensor, and a list of them, in autograd code
using tensor_list = std::vector<Tensor>;

// The type T::forward returns when called with Args (after the context).
template <typename X, typename... Args>
using forward_t = decltype(X::forward(nullptr, std::declval<Args>()...));

// Derive your op from Function<YourOp> and give it the two static functions shown above.
// forward(AutogradContext*, args...) returns a Tensor or a variable_list; backward(ctx,
// grad_outputs) receives one gradient per output and returns one per forward argument.
template <class T>
struct Function {
  // (X is T: the enable_if stops callers from naming another type, as in libtorch. T itself is
  // incomplete where Function<T> is instantiated, so forward's type is looked up through X.)
  template <typename X = T, typename... Args>
  static auto apply(Args&&... args)
      -> std::enable_if_t<std::is_same_v<X, T>, forward_t<X, Args...>>;
};

class CppNodeBase;

// What forward leaves for backward: saved tensors, other saved values, and flags about the
// outputs. One context per apply(); the node of the graph owns it.
struct AutogradContext {
  AutogradContext() = default;
  AutogradContext(const AutogradContext&) = delete;
  AutogradContext& operator=(const AutogradContext&) = delete;

  // Non-tensor values for backward (doubles, ints, bools, strings, int lists, tensors). A tensor
  // kept here is not version-checked: tensors backward reads go through save_for_backward.
  std::unordered_map<std::string, IValue> saved_data;

  // Tensors (inputs or outputs of forward) for backward; call it at most once, from forward.
  void save_for_backward(variable_list to_save);
  // Inputs forward modified in place. They must be returned as outputs; they then take the
  // node as their new history (a built-in in-place op's rule).
  void mark_dirty(const variable_list& inputs);
  // Outputs that get no gradient (indices, masks): they do not require grad.
  void mark_non_differentiable(const variable_list& outputs);
  // true (the default): backward receives zeros for outputs no gradient flowed to; false: an
  // undefined Tensor there.
  void set_materialize_grads(bool value);

  // The tensors of save_for_backward; throws if one was modified in place since forward, or
  // after a backward pass freed them (retain_graph=false).
  variable_list get_saved_variables() const;
  // Whether tensor input `output_edge_index` (counting tensor inputs only) needs a gradient.
  bool needs_input_grad(size_t output_edge_index) const;

 private:
  friend class CppNodeBase;

  std::unordered_set<const TensorImpl*> non_differentiable_;
  std::unordered_set<const TensorImpl*> dirty_inputs_;
  variable_list to_save_;  // what forward asked to save, until the outputs are known
  std::vector<SavedVariable> saved_variables_;
  bool materialize_grads_ = true;
  std::weak_ptr<Node> grad_fn_;  // weak: the node owns this context (no cycle)
};

// The backward node of Function<T>: everything that does not depend on T
// (src/autograd/custom_function.cpp).
class CppNodeBase : public Node {
 public:
  variable_list apply(variable_list&& grads) final;
  void release_variables() override;
  std::vector<const SavedVariable*> saved_variables() const override;

  // Called by Function<T>::apply, before forward: one entry per forward argument (is it a
  // tensor input?) and the tensor inputs. Gives the node one edge per tensor input (all invalid
  // unless a graph is recorded) and returns whether it is: grad mode on and an input requires
  // grad.
  bool set_inputs(const variable_list& inputs, std::vector<bool> is_variable_input);
  // After forward: gives the outputs their history (or none), following mark_dirty and
  // mark_non_differentiable, and saves what forward asked to save. Returns the outputs apply()
  // hands back: the same tensors, or aliases of inputs that were returned as they are.
  variable_list wrap_outputs(const variable_list& inputs, variable_list outputs,
                             bool is_executable);

  AutogradContext ctx_;

 private:
  virtual variable_list call_backward(variable_list& grads) = 0;  // T::backward

  // The history one output gets (libtorch's set_history in _wrap_outputs).
  void set_history(Tensor& var, uint32_t output_nr, bool is_input, size_t input_nr,
                   bool is_modified, bool is_differentiable);

  // Per forward argument: is it a tensor input (with an edge), or another value?
  std::vector<bool> is_variable_input_;
  // Per forward output: the zeros that stand for a gradient that never arrived.
  struct OutputInfo {
    bool defined = false;
    std::vector<int64_t> sizes;
    ScalarType dtype = kFloat32;
  };
  std::vector<OutputInfo> output_info_;
};

// The node in the graph for Function<T>. Its name is its demangled C++ type, as libtorch's
// Node::name() gives it: "tinytorch::autograd::CppNode<MyFn>" (torch::autograd::CppNode<MyFn>
// in libtorch, whose namespace is torch).
template <class T>
class CppNode final : public CppNodeBase {
 public:
  std::string name() const override {
    static const std::string kName = ::tinytorch::detail::demangle(typeid(CppNode<T>).name());
    return kName;
  }

 private:
  variable_list call_backward(variable_list& grads) override { return T::backward(&ctx_, grads); }
};

template <class T>
template <typename X, typename... Args>
auto Function<T>::apply(Args&&... args)
    -> std::enable_if_t<std::is_same_v<X, T>, forward_t<X, Args...>> {
  using Output = forward_t<X, Args...>;
  static_assert(std::is_same_v<Output, Tensor> || std::is_same_v<Output, variable_list>,
                "forward must return a Tensor or a variable_list");
  auto node = std::make_shared<CppNode<T>>();
  std::vector<bool> is_variable_input;
  variable_list inputs;
  [[maybe_unused]] const ::tinytorch::detail::CollectInputs collect{is_variable_input, inputs};
  (collect(args), ...);
  const bool is_executable = node->set_inputs(inputs, std::move(is_variable_input));

  Output outputs;
  {
    AutoGradMode grad_mode(false);
    outputs = T::forward(&node->ctx_, std::forward<Args>(args)...);
  }
  if constexpr (std::is_same_v<Output, Tensor>) {
    return std::move(node->wrap_outputs(inputs, {std::move(outputs)}, is_executable)[0]);
  } else {
    return node->wrap_outputs(inputs, std::move(outputs), is_executable);
  }
}

}  // namespace tinytorch::autograd
