// tinytorch/nn/module.h — nn::Module, the base of every layer and model (module 03).
//
//   struct NetImpl : nn::Module {
//     NetImpl() {
//       fc1 = register_module("fc1", nn::Linear(784, 256));
//       fc2 = register_module("fc2", nn::Linear(256, 10));
//     }
//     Tensor forward(const Tensor& x) { return fc2(relu(fc1(x))); }
//     nn::Linear fc1{nullptr}, fc2{nullptr};
//   };
//   TT_MODULE(Net);                      // Net: a shared-pointer holder of a NetImpl
//
//   Net net;                             // ── what a Module keeps ───────────────────────────
//   net->named_parameters()              //  parameters_  "weight" → Tensor  (requires grad)
//     // fc1.weight, fc1.bias,           //  buffers_     "running_mean" → Tensor (state, no grad)
//     // fc2.weight, fc2.bias            //  children_    "fc1" → shared_ptr<Module>
//   net->eval();  net->zero_grad();      //  is_training_ true / false (recursive)
//   auto sd = net->state_dict();  other->load_state_dict(sd);
//   std::cout << *net;                   // prints the tree exactly like PyTorch's repr(model)
//
// The API is libtorch's (torch::nn::Module, ModuleHolder, TORCH_MODULE → TT_MODULE,
// TORCH_ARG → TT_ARG); state_dict/load_state_dict and the printed form follow Python's
// torch.nn.Module, which libtorch lacks. Differences from PyTorch are listed in
// modules/03_layers/README.md ("Production context").
#pragma once

#include <concepts>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "tinytorch/core/exception.h"
#include "tinytorch/core/ordered_dict.h"
#include "tinytorch/core/tensor.h"

namespace tinytorch::serialize {
class OutputArchive;
class InputArchive;
}  // namespace tinytorch::serialize

namespace tinytorch::nn {

class Module;

namespace detail {
// Tag base of every ModuleHolder, so templates can recognise holders (libtorch's
// ModuleHolderIndicator).
struct ModuleHolderIndicator {};

template <typename T>
inline constexpr bool is_module_holder_v =
    std::is_base_of_v<ModuleHolderIndicator, std::remove_cvref_t<T>>;

// Python's repr() of a float: the shortest string that reads back to the same double, in fixed
// notation for 1e-4 <= |v| < 1e16 ("0.5", "1.0", "0.0001"), else scientific ("1e-05").
std::string python_float_repr(double v);

// A bool in a module's repr: libtorch's spelling, "true" / "false" (Python prints True / False).
inline const char* bool_repr(bool b) {
  return b ? "true" : "false";
}
}  // namespace detail

// What load_state_dict found (Python's _IncompatibleKeys): keys the module has that the dict
// lacks, and keys of the dict the module does not have. With strict = true (the default) either
// one is an error; with strict = false they are returned here and the rest is loaded.
struct LoadStateDictResult {
  std::vector<std::string> missing_keys;
  std::vector<std::string> unexpected_keys;
};

class Module : public std::enable_shared_from_this<Module> {
 public:
  // A module's name is what printing and error messages call it: "Linear", "Sequential". The
  // built-in layers pass it; without one it is the class name with namespaces and a trailing
  // "Impl" removed (NetImpl → "Net"), as libtorch derives it from the type.
  explicit Module(std::string name);
  Module();
  virtual ~Module() = default;
  // Copying a module would alias every parameter in two modules: refused. A deep copy is
  // explicit: clone() below.
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  const std::string& name() const;

  // ── what the module holds ──────────────────────────────────────────────────────────────
  // Parameters of this module and (recurse = true) of every submodule, in registration order,
  // depth first: own parameters before the children's. Each tensor appears once even if it is
  // shared (tied weights) — the list an optimizer steps through. The handles alias the
  // module's tensors: updating them in place updates the model.
  std::vector<Tensor> parameters(bool recurse = true) const;
  // The same, with dotted names: "weight", "fc1.bias", "0.weight".
  OrderedDict<std::string, Tensor> named_parameters(bool recurse = true) const;
  std::vector<Tensor> buffers(bool recurse = true) const;
  OrderedDict<std::string, Tensor> named_buffers(bool recurse = true) const;
  // The direct submodules, in registration order.
  std::vector<std::shared_ptr<Module>> children() const;
  OrderedDict<std::string, std::shared_ptr<Module>> named_children() const;
  // This module (include_self; it must then be owned by a shared_ptr, e.g. through a holder)
  // and every descendant, depth first, each once. Named ones are dotted paths ("" for self).
  std::vector<std::shared_ptr<Module>> modules(bool include_self = true) const;
  OrderedDict<std::string, std::shared_ptr<Module>> named_modules(
      const std::string& name_prefix = "", bool include_self = true) const;
  // Calls fn on this module and every descendant, depth first (libtorch's apply).
  void apply(const std::function<void(Module&)>& fn);
  void apply(const std::function<void(const std::string&, Module&)>& fn,
             const std::string& name_prefix = "");

  // ── training mode ──────────────────────────────────────────────────────────────────────
  // Sets the mode of this module and every descendant: Dropout drops only in training mode.
  virtual void train(bool on = true);
  void eval() { train(false); }
  virtual bool is_training() const { return is_training_; }
  // libtorch's model->to(...): converts every parameter and buffer, recursively, in place —
  // each keeps its identity (Tensor::set_data), so an optimizer built before still steps them,
  // and a gradient is converted with its parameter (as Python's Module._apply does). Floating
  // dtypes only, as libtorch's Module::to. The CPU is the only device: any other is an error
  // naming it (core/device.h), raised before anything changed.
  virtual void to(Device device, ScalarType dtype, bool non_blocking = false);
  virtual void to(ScalarType dtype, bool non_blocking = false);
  virtual void to(Device device, bool non_blocking = false);

  // Drops the gradient of every parameter (set_to_none = true, the default of PyTorch >= 2.0:
  // the next backward() allocates a fresh one), or fills the existing ones with zeros.
  virtual void zero_grad(bool set_to_none = true);

  // ── deep copies ────────────────────────────────────────────────────────────────────────
  // libtorch's clone(): a new module of the same structure whose parameters and buffers are
  // copies of this one's — same values, dtypes and requires_grad flags, no tensor shared (the
  // gradients are not copied) — in the same training mode, then moved to `device` if one is
  // given. TransformerEncoder uses it to stack num_layers independent copies of one layer. The
  // built-in layers and containers implement it, and so does a module of your own derived from
  // Cloneable<Derived> (below), as in libtorch; on any other module it throws an Error naming it.
  virtual std::shared_ptr<Module> clone(const std::optional<Device>& device = std::nullopt) const;

  // ── checkpoints ────────────────────────────────────────────────────────────────────────
  // Every parameter and buffer, recursively, with dotted names: for each module its own
  // parameters, then its own buffers, then each child's entries. The tensors are detached
  // aliases of the module's own (no copy): clone() them to keep a snapshot. Undefined
  // parameters (Linear without bias) are left out. A module registered under two names
  // appears under both.
  OrderedDict<std::string, Tensor> state_dict() const;
  // Copies the values of `state_dict` into the module's parameters and buffers, in place and
  // with grad mode off (converting dtype like copy_()). Everything is checked first and nothing
  // is copied if there is an error: a missing key or an unexpected key (when strict), a shape
  // mismatch, an undefined tensor. The message follows PyTorch's:
  //   Error(s) in loading state_dict for Sequential:
  //   	Missing key(s) in state_dict: "0.bias".
  //   	size mismatch for 0.weight: copying a param with shape [10, 5] from checkpoint, ...
  LoadStateDictResult load_state_dict(const OrderedDict<std::string, Tensor>& state_dict,
                                      bool strict = true);
  // libtorch's serialization hooks, used by torch::save / torch::load (serialize/serialize.h):
  // save writes state_dict() into the archive (dotted names: "fc1.weight"); load is a strict
  // load_state_dict of the archive's tensors — in place, all or nothing, naming every missing,
  // unexpected and mis-shaped entry. Override both to store something else.
  virtual void save(serialize::OutputArchive& archive) const;
  virtual void load(serialize::InputArchive& archive);

  // ── printing ───────────────────────────────────────────────────────────────────────────
  // The text between the parentheses of this module's own line, e.g.
  // "in_features=784, out_features=256, bias=true" (Python's extra_repr). Empty by default.
  virtual std::string extra_repr() const { return ""; }
  // Writes the module tree the way PyTorch's repr(module) does:
  //   Sequential(
  //     (0): Linear(in_features=784, out_features=256, bias=true)
  //     (1): ReLU()
  //   )
  // To show a module's settings, override extra_repr(). Overriding pretty_print replaces the
  // text of the module AND its children (unlike libtorch, whose pretty_print is one line).
  virtual void pretty_print(std::ostream& stream) const;
  std::string to_string() const;

  // Casts to a concrete module type (or the Impl of a holder type): nullptr if it is not one.
  //   if (auto* fc = model[0]->as<nn::Linear>()) ...      (LinearImpl*)
  template <typename ModuleType>
  auto* as() noexcept {
    if constexpr (detail::is_module_holder_v<ModuleType>) {
      return dynamic_cast<typename ModuleType::ContainedType*>(this);
    } else {
      return dynamic_cast<ModuleType*>(this);
    }
  }
  template <typename ModuleType>
  const auto* as() const noexcept {
    if constexpr (detail::is_module_holder_v<ModuleType>) {
      return dynamic_cast<const typename ModuleType::ContainedType*>(this);
    } else {
      return dynamic_cast<const ModuleType*>(this);
    }
  }

  // ── registration (called from a module's constructor) ──────────────────────────────────
  // Registers `tensor` as a parameter called `name` and sets its requires_grad flag. An
  // undefined tensor may be registered (a disabled bias): it is listed nowhere. Returns a
  // reference to the stored handle. Names must be non-empty, without '.', and unique among
  // this module's parameters, buffers and submodules.
  Tensor& register_parameter(std::string name, Tensor tensor, bool requires_grad = true);
  // A buffer is state that is saved and loaded but not trained (BatchNorm's running mean).
  Tensor& register_buffer(std::string name, Tensor tensor);
  // Registers a submodule; its parameters then appear as "name.weight" etc. Returns the module
  // so that a constructor can write   fc1 = register_module("fc1", nn::Linear(784, 256));
  template <typename ModuleType>
  requires std::derived_from<ModuleType, Module> std::shared_ptr<ModuleType> register_module(
      std::string name, std::shared_ptr<ModuleType> module) {
    register_module_impl(std::move(name), module);
    return module;
  }
  template <typename Holder>
  requires detail::is_module_holder_v<Holder> Holder register_module(std::string name,
                                                                     Holder holder) {
    register_module_impl(std::move(name), holder.ptr());
    return holder;
  }
  // Replaces the submodule registered as `name` (which must exist), keeping its position.
  template <typename ModuleType>
  requires std::derived_from<ModuleType, Module> std::shared_ptr<ModuleType> replace_module(
      const std::string& name, std::shared_ptr<ModuleType> module) {
    replace_module_impl(name, module);
    return module;
  }
  template <typename Holder>
  requires detail::is_module_holder_v<Holder> Holder replace_module(const std::string& name,
                                                                    Holder holder) {
    replace_module_impl(name, holder.ptr());
    return holder;
  }

 protected:
  // What a clone() override returns: `copy`, a module freshly built from this one's options and
  // hence of the same structure, given this module's parameter and buffer data (copied),
  // requires_grad flags and training mode, and moved to `device` if one is given.
  //   std::shared_ptr<Module> LinearImpl::clone(const std::optional<Device>& device) const {
  //     return finish_clone(std::make_shared<LinearImpl>(options), device);
  //   }
  std::shared_ptr<Module> finish_clone(std::shared_ptr<Module> copy,
                                       const std::optional<Device>& device) const;
  // Gives every module of `copy` (a clone) the training mode of its counterpart here (children
  // matched by name) — each its own, as libtorch's copies keep them (a frozen part in eval()
  // inside a model in train() stays in eval()); copy.train(mode) would give all the root's.
  void copy_training_modes_to(Module& copy) const;

  // The module's own entries, in registration order (libtorch's members of the same names).
  OrderedDict<std::string, Tensor> parameters_{"Parameter"};
  OrderedDict<std::string, Tensor> buffers_{"Buffer"};
  OrderedDict<std::string, std::shared_ptr<Module>> children_{"Submodule"};

 private:
  void check_new_name(const std::string& kind, const std::string& name) const;
  void register_module_impl(std::string name, std::shared_ptr<Module> module);
  void replace_module_impl(const std::string& name, std::shared_ptr<Module> module);
  std::shared_ptr<const Module> shared_self(const char* caller) const;
  void save_to(OrderedDict<std::string, Tensor>& out, const std::string& prefix) const;

  mutable std::string name_;  // computed on first use when not given
  bool is_training_ = true;
};

// ── Cloneable<Derived>: a module of your own that clone() can copy (libtorch's base) ──────────
//
//   struct NetImpl : nn::Cloneable<NetImpl> {
//     explicit NetImpl(int64_t h) : h(h) { reset(); }
//     void reset() override { fc = register_module("fc", nn::Linear(2, h)); }
//     int64_t h;
//     nn::Linear fc{nullptr};
//   };
//   TT_MODULE(Net);                         (TORCH_MODULE in a libtorch program)
//   auto copy = std::dynamic_pointer_cast<NetImpl>(net->clone());
//
// clone() copy-constructs Derived — its plain members (h) come along, its Module part starts
// empty — and calls reset() on the copy, which registers a fresh set of parameters, buffers
// and submodules built the same way; then the original's values are copied into them. The copy
// shares no tensor with the original.
// NOTE: so everything registered must be registered in reset(), which the constructor calls:
// what a constructor registers outside reset() is missing from the copy, and clone() says so.
template <typename Derived>
class Cloneable : public Module {
 public:
  using Module::Module;
  // (Re)builds this module's parameters, buffers and submodules.
  virtual void reset() = 0;

  std::shared_ptr<Module> clone(const std::optional<Device>& device = std::nullopt) const override {
    auto copy = std::make_shared<Derived>(static_cast<const Derived&>(*this));
    copy->reset();
    const auto check = [&](size_t copied, size_t original, const char* what, const char* call) {
      TT_CHECK(copied == original, "The cloned module does not have the same number of ", what,
               " as the original module after calling reset() (", copied, " vs ", original,
               "). Are you sure you called ", call, "() inside reset() and not the constructor?");
    };
    check(copy->parameters_.size(), parameters_.size(), "parameters", "register_parameter");
    check(copy->buffers_.size(), buffers_.size(), "buffers", "register_buffer");
    check(copy->children_.size(), children_.size(), "child modules", "register_module");
    return finish_clone(std::move(copy), device);  // the values, flags and training mode
  }

 protected:
  // The copy clone() starts from: Derived's members are copied, but not the Module part — an
  // empty module of the same name, which reset() fills. (Modules are otherwise not copyable.)
  Cloneable(const Cloneable& other) : Module(other.name()) {}
};

// Prints the module tree (Module::pretty_print).
std::ostream& operator<<(std::ostream& stream, const Module& module);

// ── ModuleHolder: the shared-pointer handle behind nn::Linear, nn::Sequential, ... ─────────────
//
//   nn::Linear fc(784, 256);      // makes a LinearImpl(784, 256) on the heap
//   fc->weight;  fc->forward(x);  // -> reaches the LinearImpl
//   fc(x);                        // calls forward
//   nn::Linear same = fc;         // copies the POINTER: both name one module (like Python)
//   nn::Linear later{nullptr};    // empty, to be assigned (e.g. from register_module)
//
// A module must live in a shared_ptr so that parents, optimizers and containers can share it
// safely; the holder makes that the default without writing std::make_shared everywhere.
// (libtorch's torch::nn::ModuleHolder.)
template <typename Contained>
class ModuleHolder : public detail::ModuleHolderIndicator {
 public:
  using ContainedType = Contained;

  // Default-constructs the module, when it can be (nn::ReLU relu;).
  ModuleHolder() requires std::default_initializable<Contained>
      : impl_(std::make_shared<Contained>()) {}
  // An empty holder.
  ModuleHolder(std::nullptr_t) : impl_(nullptr) {}  // NOLINT(google-explicit-constructor)
  // Constructs the module from the arguments: nn::Linear fc(784, 256).
  template <typename Head, typename... Tail>
  requires(!(sizeof...(Tail) == 0 && (std::is_base_of_v<ModuleHolder, std::remove_cvref_t<Head>> ||
                                      std::is_same_v<std::remove_cvref_t<Head>, std::nullptr_t> ||
                                      std::is_convertible_v<Head, std::shared_ptr<Contained>>))) &&
      std::constructible_from<Contained, Head, Tail...> explicit ModuleHolder(Head&& head,
                                                                              Tail&&... tail)
      : impl_(std::make_shared<Contained>(std::forward<Head>(head), std::forward<Tail>(tail)...)) {}
  // Wraps an existing module.
  ModuleHolder(std::shared_ptr<Contained> module)  // NOLINT(google-explicit-constructor)
      : impl_(std::move(module)) {}

  explicit operator bool() const noexcept { return impl_ != nullptr; }
  bool is_empty() const noexcept { return impl_ == nullptr; }

  Contained* operator->() const { return get(); }
  Contained& operator*() const { return *get(); }
  Contained* get() const {
    TT_CHECK(impl_ != nullptr,
             "Accessing an empty ModuleHolder: it was made with nullptr and never assigned a "
             "module (assign one, e.g. fc = register_module(\"fc\", nn::Linear(4, 2)))");
    return impl_.get();
  }
  const std::shared_ptr<Contained>& ptr() const { return impl_; }

  // holder(args...) calls the module's forward(args...).
  template <typename... Args>
  decltype(auto) operator()(Args&&... args) const {
    return get()->forward(std::forward<Args>(args)...);
  }
  // holder[i] forwards to the module's operator[] (Sequential, ModuleList).
  template <typename Arg>
  decltype(auto) operator[](Arg&& arg) const {
    return (*get())[std::forward<Arg>(arg)];
  }

 protected:
  std::shared_ptr<Contained> impl_;
};

template <typename Contained>
std::ostream& operator<<(std::ostream& stream, const ModuleHolder<Contained>& holder) {
  return stream << *holder;
}

}  // namespace tinytorch::nn

// TT_MODULE(Linear) defines `class Linear`, a ModuleHolder of `LinearImpl` (libtorch's
// TORCH_MODULE). TT_MODULE_IMPL(Name, ImplType) names the Impl explicitly.
#define TT_MODULE_IMPL(Name, ImplType)                           \
  class Name : public ::tinytorch::nn::ModuleHolder<ImplType> {  \
   public:                                                       \
    using ::tinytorch::nn::ModuleHolder<ImplType>::ModuleHolder; \
    using Impl = ImplType;                                       \
  }

#define TT_MODULE(Name) TT_MODULE_IMPL(Name, Name##Impl)

// TT_ARG(type, name) declares an option with a chainable setter and a getter (libtorch's
// TORCH_ARG):   LinearOptions(784, 256).bias(false)   /   options.bias()
#define TT_ARG(T, name)                                    \
 public:                                                   \
  inline auto name(const T& new_##name)->decltype(*this) { \
    this->name##_ = new_##name;                            \
    return *this;                                          \
  }                                                        \
  inline auto name(T&& new_##name)->decltype(*this) {      \
    this->name##_ = std::move(new_##name);                 \
    return *this;                                          \
  }                                                        \
  inline const T& name() const noexcept {                  \
    return this->name##_;                                  \
  }                                                        \
  inline T& name() noexcept {                              \
    return this->name##_;                                  \
  }                                                        \
                                                           \
 private:                                                  \
  T name##_
