// Custom autograd Functions: the context and the part of the node that does not depend on the
// user's type (custom_function.h). The rules are libtorch's (torch/csrc/autograd/
// custom_function.{h,cpp}), built on this library's own graph pieces: edges from gradient_edge,
// saved tensors as SavedVariables, dirty inputs through rebase_history like a built-in in-place
// op.
#include "tinytorch/autograd/custom_function.h"

#include <cxxabi.h>

#include <algorithm>
#include <cstddef>
#include <cstdlib>

#include "tinytorch/autograd/autograd_meta.h"

namespace tinytorch {

std::string detail::demangle(const char* mangled) {
  int status = 0;
  const std::unique_ptr<char, void (*)(void*)> readable(
      abi::__cxa_demangle(mangled, nullptr, nullptr, &status), std::free);
  return status == 0 && readable ? std::string(readable.get()) : std::string(mangled);
}

namespace autograd {

// ── AutogradContext ──────────────────────────────────────────────────────────────────────────

void AutogradContext::save_for_backward(variable_list to_save) {
  to_save_ = std::move(to_save);
}

void AutogradContext::mark_dirty(const variable_list& inputs) {
  dirty_inputs_.clear();
  for (const Tensor& t : inputs) dirty_inputs_.insert(t.unsafeGetTensorImpl());
}

void AutogradContext::mark_non_differentiable(const variable_list& outputs) {
  non_differentiable_.clear();
  for (const Tensor& t : outputs) non_differentiable_.insert(t.unsafeGetTensorImpl());
}

void AutogradContext::set_materialize_grads(bool value) {
  materialize_grads_ = value;
}

variable_list AutogradContext::get_saved_variables() const {
  const std::shared_ptr<Node> node = grad_fn_.lock();
  const std::string name = node ? node->name() : std::string("a custom Function");
  variable_list saved;
  saved.reserve(saved_variables_.size());
  for (const SavedVariable& s : saved_variables_) saved.push_back(s.unpack(name.c_str()));
  return saved;
}

bool AutogradContext::needs_input_grad(size_t output_edge_index) const {
  const std::shared_ptr<Node> node = grad_fn_.lock();
  TT_CHECK(node != nullptr,
           "needs_input_grad: the context has no node (it is only valid inside "
           "forward and backward of a custom Function)");
  TT_CHECK_INDEX(output_edge_index < node->num_inputs(), "needs_input_grad: index ",
                 output_edge_index, " is out of range: ", node->name(), " has ", node->num_inputs(),
                 " tensor input(s) (the index counts tensor arguments only)");
  return node->needs_input_grad(output_edge_index);
}

// ── CppNodeBase: forward side ────────────────────────────────────────────────────────────────

bool CppNodeBase::set_inputs(const variable_list& inputs, std::vector<bool> is_variable_input) {
  is_variable_input_ = std::move(is_variable_input);
  ctx_.grad_fn_ = weak_from_this();
  const bool is_executable =
      GradMode::is_enabled() && std::any_of(inputs.begin(), inputs.end(), [](const Tensor& t) {
        return t.defined() && t.requires_grad();
      });
  std::vector<Edge> edges;
  std::vector<InputMetadata> metadata;
  for (const Tensor& t : inputs) {
    edges.push_back(is_executable && t.defined() ? gradient_edge(t) : Edge{});
    metadata.push_back(t.defined() ? InputMetadata{t.sizes().vec(), t.dtype()} : InputMetadata{});
  }
  set_next_edges(std::move(edges), std::move(metadata));
  return is_executable;
}

namespace {

// An input returned as it is becomes a new tensor over the same data (libtorch: x.view_as(x),
// made with grad mode off), so that it can take the node as its history while the input keeps
// its own.
Tensor alias_of_input(const Tensor& input) {
  AutoGradMode no_grad(false);
  return input.view(input.sizes());
}

}  // namespace

variable_list CppNodeBase::wrap_outputs(const variable_list& inputs, variable_list outputs,
                                        bool is_executable) {
  // NOTE: forward wrote the dirty inputs in place; bumping their versions here covers writes
  // no op saw (through data_ptr), so a tensor saved before the write is reported stale.
  std::unordered_set<const TensorImpl*> returned;
  for (const Tensor& out : outputs) returned.insert(out.unsafeGetTensorImpl());
  for (const TensorImpl* dirty : ctx_.dirty_inputs_) {
    TT_CHECK(dirty != nullptr && returned.count(dirty) > 0,
             "Some elements marked as dirty during the forward method were not returned as "
             "output. The inputs that are modified inplace must all be outputs of the Function.");
    dirty->storage().bump_version();
  }

  std::unordered_map<const TensorImpl*, size_t> input_nr;  // first position of each input
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].defined()) input_nr.emplace(inputs[i].unsafeGetTensorImpl(), i);
  }
  if (is_executable) set_num_outputs(outputs.size());
  for (size_t i = 0; i < outputs.size(); ++i) {
    Tensor& var = outputs[i];
    if (!var.defined()) {
      if (is_executable) output_info_.emplace_back();
      continue;
    }
    const TensorImpl* impl = var.unsafeGetTensorImpl();
    const auto input = input_nr.find(impl);
    const bool is_differentiable =
        is_executable && ctx_.non_differentiable_.count(impl) == 0 && var.is_floating_point();
    if (is_executable) output_info_.push_back({true, var.sizes().vec(), var.dtype()});
    set_history(var, static_cast<uint32_t>(i), input != input_nr.end(),
                input != input_nr.end() ? input->second : 0, ctx_.dirty_inputs_.count(impl) > 0,
                is_differentiable);
  }

  if (is_executable) {
    // NOTE: saved now that the outputs point at this node: a saved output is recognised by its
    // grad_fn (libtorch's test) and kept without its history, so the node does not own itself.
    for (const Tensor& t : ctx_.to_save_) {
      ctx_.saved_variables_.emplace_back(t, t.defined() && t.grad_fn().get() == this);
    }
  }
  ctx_.to_save_.clear();
  return outputs;
}

void CppNodeBase::set_history(Tensor& var, uint32_t output_nr, bool is_input, size_t input_nr,
                              bool is_modified, bool is_differentiable) {
  if (!is_differentiable) {
    if (!var.requires_grad()) {
      if (is_input && !is_modified) var = alias_of_input(var);
      return;
    }
    // An input (or a tensor from outside) that requires grad, returned as a non-differentiable
    // output: the output is a detached alias; the tensor itself is left as it is.
    var = var.detach();
    return;
  }
  if (is_modified) {
    // The input was written in place: it takes this node as its new history, exactly as after
    // a built-in in-place op — with the same refusals (a leaf that requires grad, ...).
    check_inplace(var, name());
    const AutogradMeta* meta = get_autograd_meta(var);
    if (meta != nullptr && meta->is_view_) {
      // The base's history becomes CopySlices(this node), which takes the node's gradient for
      // its FIRST tensor input as the one for the view's old values, and has one output.
      TT_CHECK(num_outputs() == 1,
               "If your Function modifies inplace an input that is a view of another Tensor, "
               "your Function cannot return more than one Tensor (",
               name(), " returns ", num_outputs(),
               "). Make the input not a view (.clone() it) or split "
               "the Function in two: one that modifies it inplace and returns only it, one for "
               "the other outputs.");
      TT_CHECK(is_input && input_nr == 0, name(),
               ": an input that is a view and is modified inplace (mark_dirty) must be the "
               "first tensor argument of forward");
    }
    var.mutable_grad() = Tensor();
    rebase_history(var, shared_from_this(), output_nr);
    return;
  }
  if (is_input) {
    var = alias_of_input(var);
  } else if (var.requires_grad()) {
    // A tensor with a history of its own (not computed by forward, which records nothing): the
    // output is a fresh alias, so that history is left alone.
    var = var.detach();
  }
  AutogradMeta& meta = materialize_autograd_meta(var);
  meta.grad_fn_ = shared_from_this();
  meta.output_nr_ = output_nr;
}

// ── CppNodeBase: backward side ───────────────────────────────────────────────────────────────

variable_list CppNodeBase::apply(variable_list&& grads) {
  for (size_t i = 0; i < grads.size() && i < output_info_.size(); ++i) {
    const OutputInfo& out = output_info_[i];
    if (!grads[i].defined() && ctx_.materialize_grads_ && out.defined) {
      grads[i] = zeros(out.sizes, out.dtype);
    }
  }
  variable_list gradients = call_backward(grads);

  // One gradient per forward argument. More is accepted when the extra ones are all undefined.
  const size_t expected = is_variable_input_.size();
  if (gradients.size() > expected &&
      std::all_of(gradients.begin() + static_cast<std::ptrdiff_t>(expected), gradients.end(),
                  [](const Tensor& g) { return !g.defined(); })) {
    gradients.resize(expected);
  }
  TT_CHECK(gradients.size() == expected, "function ", name(),
           " returned an incorrect number of gradients (expected ", expected, ", got ",
           gradients.size(), ")");

  variable_list result;  // one per tensor input: the node's edges
  for (size_t i = 0; i < expected; ++i) {
    if (is_variable_input_[i]) {
      result.push_back(std::move(gradients[i]));
      continue;
    }
    TT_CHECK(!gradients[i].defined(), "function ", name(),
             " returned a gradient that is defined at position ", i + 1,
             ", but the corresponding forward input was not a Variable (return an undefined "
             "Tensor() there)");
  }
  return result;
}

void CppNodeBase::release_variables() {
  for (SavedVariable& s : ctx_.saved_variables_) s.reset();
}

std::vector<const SavedVariable*> CppNodeBase::saved_variables() const {
  std::vector<const SavedVariable*> out;
  for (const SavedVariable& s : ctx_.saved_variables_) out.push_back(&s);
  return out;
}

}  // namespace autograd
}  // namespace tinytorch
