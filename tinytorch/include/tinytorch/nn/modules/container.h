// tinytorch/nn/modules/container.h — modules that hold modules: Sequential, ModuleList, and the
// type-erased AnyModule that lets one Sequential hold a Linear, a ReLU and a Dropout (module 03).
//
//   nn::Sequential model(nn::Linear(784, 256), nn::ReLU(), nn::Linear(256, 10));
//   Tensor logits = model->forward(x);        //  x ─► (0) ─► (1) ─► (2) ─► logits
//   model->push_back(nn::LogSoftmax(1));      //  children are named "0", "1", "2", "3"
//   model[0]->as<nn::Linear>()->weight;       //  indexing gives the module back
#pragma once

#include <concepts>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "tinytorch/nn/module.h"

namespace tinytorch::nn {

// A module that Sequential can run: it derives from Module and has forward(Tensor) → Tensor.
template <typename M>
concept TensorToTensorModule = std::derived_from<M, Module> && requires(M& m, const Tensor& x) {
  { m.forward(x) } -> std::convertible_to<Tensor>;
};

// Any module with forward(Tensor) → Tensor, behind one type (libtorch's AnyModule, for the
// one-tensor-in, one-tensor-out case). Copies share the module.
class AnyModule {
 public:
  AnyModule() = default;
  template <TensorToTensorModule M>
  explicit AnyModule(std::shared_ptr<M> module)
      : module_(module),
        forward_([m = module.get()](const Tensor& x) -> Tensor { return m->forward(x); }) {
    TT_CHECK(module_ != nullptr, "AnyModule: the module is empty (nullptr)");
  }
  template <typename Holder>
  requires detail::is_module_holder_v<Holder> &&
      TensorToTensorModule<typename std::remove_cvref_t<Holder>::ContainedType>
  explicit AnyModule(const Holder& holder) : AnyModule(holder.ptr()) {}

  Tensor forward(const Tensor& input) const {
    TT_CHECK(module_ != nullptr, "AnyModule: forward() called on an empty AnyModule");
    return forward_(input);
  }
  const std::shared_ptr<Module>& ptr() const { return module_; }
  bool is_empty() const { return module_ == nullptr; }

 private:
  std::shared_ptr<Module> module_;
  std::function<Tensor(const Tensor&)> forward_;
};

namespace detail {
template <typename T>
concept SequentialItem =
    std::same_as<std::remove_cvref_t<T>, AnyModule> || std::constructible_from < AnyModule,
        const std::remove_cvref_t<T>
& > ;
template <typename T>
concept ModuleListItem =
    is_module_holder_v<T> || std::convertible_to<std::remove_cvref_t<T>, std::shared_ptr<Module>>;
}  // namespace detail

// Runs its modules one after another, each on the previous one's output.
class SequentialImpl : public Module {
 public:
  SequentialImpl() : Module("Sequential") {}
  template <detail::SequentialItem... Modules>
  requires(sizeof...(Modules) > 0) explicit SequentialImpl(Modules&&... modules)
      : Module("Sequential") {
    (push_back(std::forward<Modules>(modules)), ...);
  }

  // Appends a module, named by its position ("0", "1", ...) or by `name`.
  template <detail::SequentialItem M>
  void push_back(M&& module) {
    push_back(std::to_string(modules_.size()), std::forward<M>(module));
  }
  template <detail::SequentialItem M>
  void push_back(std::string name, M&& module) {
    if constexpr (std::same_as<std::remove_cvref_t<M>, AnyModule>) {
      add(std::move(name), module);
    } else {
      add(std::move(name), AnyModule(module));
    }
  }

  // x through every module in order; an empty Sequential returns x.
  Tensor forward(const Tensor& input);

  size_t size() const { return modules_.size(); }
  bool is_empty() const { return modules_.empty(); }
  // The module at `index` (range-checked), as a Module, or cast to a type:
  //   seq[0]   seq->ptr<nn::LinearImpl>(0)   seq->at<nn::LinearImpl>(0)
  std::shared_ptr<Module> operator[](size_t index) const { return ptr(index); }
  std::shared_ptr<Module> ptr(size_t index) const;
  template <typename T>
  std::shared_ptr<T> ptr(size_t index) const {
    auto p = std::dynamic_pointer_cast<T>(ptr(index));
    TT_CHECK(p != nullptr, "Sequential: the module at index ", index, " (", ptr(index)->name(),
             ") is not of the requested type");
    return p;
  }
  template <typename T>
  T& at(size_t index) const {
    return *ptr<T>(index);
  }
  auto begin() const { return modules_.begin(); }
  auto end() const { return modules_.end(); }

 private:
  void add(std::string name, AnyModule module);
  std::vector<AnyModule> modules_;
};
TT_MODULE(Sequential);

// A list of submodules that are registered (their parameters are the model's) but not run in
// any fixed order: forward() of the module that owns the list decides (libtorch's ModuleList).
class ModuleListImpl : public Module {
 public:
  ModuleListImpl() : Module("ModuleList") {}
  template <detail::ModuleListItem... Modules>
  requires(sizeof...(Modules) > 0) explicit ModuleListImpl(Modules&&... modules)
      : Module("ModuleList") {
    (push_back(std::forward<Modules>(modules)), ...);
  }

  template <typename ModuleType>
  requires std::derived_from<ModuleType, Module>
  void push_back(std::shared_ptr<ModuleType> module) { add(std::move(module)); }
  template <typename Holder>
  requires detail::is_module_holder_v<Holder>
  void push_back(const Holder& holder) { add(holder.ptr()); }

  size_t size() const { return modules_.size(); }
  bool is_empty() const { return modules_.empty(); }
  std::shared_ptr<Module> operator[](size_t index) const { return ptr(index); }
  std::shared_ptr<Module> ptr(size_t index) const;
  template <typename T>
  std::shared_ptr<T> ptr(size_t index) const {
    auto p = std::dynamic_pointer_cast<T>(ptr(index));
    TT_CHECK(p != nullptr, "ModuleList: the module at index ", index, " (", ptr(index)->name(),
             ") is not of the requested type");
    return p;
  }
  auto begin() const { return modules_.begin(); }
  auto end() const { return modules_.end(); }

 private:
  void add(std::shared_ptr<Module> module);
  std::vector<std::shared_ptr<Module>> modules_;
};
TT_MODULE(ModuleList);

// Wraps a function as a module, so a plain function can sit in a Sequential:
//   nn::Sequential(nn::Linear(4, 4), nn::Functional(tinytorch::relu))
//   nn::Functional([](const Tensor& x) { return x.flatten(1); })
class FunctionalImpl : public Module {
 public:
  using Function = std::function<Tensor(const Tensor&)>;
  explicit FunctionalImpl(Function function);
  Tensor forward(const Tensor& input);

 private:
  Function function_;
};
TT_MODULE(Functional);

}  // namespace tinytorch::nn
