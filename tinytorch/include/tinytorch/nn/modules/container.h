// tinytorch/nn/modules/container.h — modules that hold modules: Sequential, ModuleList, ModuleDict,
// the parameter containers ParameterList and ParameterDict, and the type-erased AnyModule that
// lets one Sequential hold a Linear, a ReLU and a Dropout (module 03).
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
#include <optional>
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

namespace detail {
// The most tensors AnyModule::forward passes on (Transformer's forward takes eight).
inline constexpr size_t kAnyModuleMaxArguments = 8;

// Whether M::forward can be called with N tensors (the rest defaulted) and returns a Tensor.
template <typename M, typename Indices>
struct ForwardTakesTensors;
template <typename M, size_t... I>
struct ForwardTakesTensors<M, std::index_sequence<I...>> {
  template <size_t>
  using Arg = const Tensor&;
  static constexpr bool value = requires(M & m, Arg<I>... args) {
    { m.forward(args...) } -> std::convertible_to<Tensor>;
  };
};

template <typename M, size_t... N>
constexpr bool forward_takes_1_to_n_tensors(std::index_sequence<N...> /*n*/) {
  return (ForwardTakesTensors<M, std::make_index_sequence<N + 1>>::value || ...);
}

// A module AnyModule can hold: its forward takes from 1 to kAnyModuleMaxArguments tensors (the
// rest defaulted) and returns a Tensor.
template <typename M>
concept TensorsToTensorModule = std::derived_from<M, Module> &&
    forward_takes_1_to_n_tensors<M>(std::make_index_sequence<kAnyModuleMaxArguments>{});

template <typename M, size_t... I>
Tensor forward_on(M& m, const std::vector<Tensor>& args, std::index_sequence<I...> /*i*/) {
  return m.forward(args[I]...);
}

// m.forward(args[0], ..., args[N−1]) for the N = args.size() the call passed, or an Error
// naming the module when its forward does not take that many tensors.
template <typename M, size_t N = 1>
Tensor forward_with_tensors(M& m, const std::vector<Tensor>& args) {
  if constexpr (N > kAnyModuleMaxArguments) {
    TT_CHECK(false, "AnyModule: forward() takes at most ", kAnyModuleMaxArguments,
             " tensors, but got ", args.size());
    return {};
  } else {
    if (args.size() != N) return forward_with_tensors<M, N + 1>(m, args);
    if constexpr (ForwardTakesTensors<M, std::make_index_sequence<N>>::value) {
      return forward_on(m, args, std::make_index_sequence<N>{});
    } else {
      TT_CHECK(false, "AnyModule: ", m.name(), "::forward does not take ", N, " tensors");
      return {};
    }
  }
}

// An AnyModule::forward<ReturnType>(args...) call it can make: one tensor or more, a Tensor back.
template <typename ReturnType, typename... Args>
concept TensorsToTensorCall = std::same_as<ReturnType, Tensor> && sizeof...(Args) > 0 &&
                              (std::convertible_to<const Args&, const Tensor&> && ...);
}  // namespace detail

// Any module whose forward takes tensors and returns one, behind one type (libtorch's AnyModule
// for that case: most layers' forward(Tensor) → Tensor, and the transformer stacks'). Copies share
// the module; clone() copies it deeply. A holder converts implicitly, as in libtorch:
//   TransformerEncoderOptions(layer, 6).norm(nn::LayerNorm(nn::LayerNormOptions({512})))
//   nn::AnyModule encoder(nn::TransformerEncoder(layer, 6));
//   encoder.forward(src);   encoder.forward<Tensor>(src, mask, padding);  // up to 8 tensors
class AnyModule {
 public:
  AnyModule() = default;
  template <detail::TensorsToTensorModule M>
  explicit AnyModule(std::shared_ptr<M> module)
      : module_(module),
        forward_([m = module.get()](const Tensor& x) -> Tensor {
          if constexpr (TensorToTensorModule<M>) {
            return m->forward(x);
          } else {
            return detail::forward_with_tensors(*m, {x});  // an Error naming the module
          }
        }),
        forward_n_([m = module.get()](const std::vector<Tensor>& args) {
          return detail::forward_with_tensors(*m, args);
        }),
        clone_([](const Module& m, const std::optional<Device>& device) {
          // clone() of an M is an M: the cast cannot fail.
          return AnyModule(std::static_pointer_cast<M>(m.clone(device)));
        }) {
    TT_CHECK(module_ != nullptr, "AnyModule: the module is empty (nullptr)");
  }
  template <typename Holder>
  requires detail::is_module_holder_v<Holder> &&
      detail::TensorsToTensorModule<typename std::remove_cvref_t<Holder>::ContainedType>
      AnyModule(const Holder& holder)  // NOLINT(google-explicit-constructor): libtorch's conversion
      : AnyModule(holder.ptr()) {}

  // The module's forward on these tensors (libtorch's forward<ReturnType>(args...), for tensor
  // arguments and a tensor result): forward(x), forward<Tensor>(src, mask, padding).
  template <typename ReturnType = Tensor, typename... Tensors>
  Tensor forward(
      const Tensors&... args) const requires detail::TensorsToTensorCall<ReturnType, Tensors...> {
    TT_CHECK(module_ != nullptr, "AnyModule: forward() called on an empty AnyModule");
    if constexpr (sizeof...(Tensors) == 1) {
      return forward_(args...);
    } else {
      return forward_n_(std::vector<Tensor>{Tensor(args)...});
    }
  }
  // A deep copy of the module (Module::clone) in a new AnyModule; an empty one stays empty.
  AnyModule clone(const std::optional<Device>& device = std::nullopt) const {
    return module_ == nullptr ? AnyModule() : clone_(*module_, device);
  }
  const std::shared_ptr<Module>& ptr() const { return module_; }
  bool is_empty() const { return module_ == nullptr; }

 private:
  std::shared_ptr<Module> module_;
  std::function<Tensor(const Tensor&)> forward_;                 // the one-tensor call
  std::function<Tensor(const std::vector<Tensor>&)> forward_n_;  // two tensors or more
  std::function<AnyModule(const Module&, const std::optional<Device>&)> clone_;
};

namespace detail {
template <typename T>
struct HeldModule {
  using type = void;
};
template <typename T>
requires is_module_holder_v<T>
struct HeldModule<T> {
  using type = typename T::ContainedType;
};
template <typename M>
struct HeldModule<std::shared_ptr<M>> {
  using type = M;
};
// What Sequential takes: an AnyModule, or a holder / shared_ptr of a one-tensor module.
template <typename T>
concept SequentialItem = std::same_as<std::remove_cvref_t<T>, AnyModule> ||
    TensorToTensorModule<typename HeldModule<std::remove_cvref_t<T>>::type>;
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
  // A Sequential of the modules' clones, under the same names.
  std::shared_ptr<Module> clone(const std::optional<Device>& device = std::nullopt) const override;

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
  // The module at `index` as a T (range- and type-checked): layers->at<nn::LinearImpl>(0).
  template <typename T>
  T& at(size_t index) const {
    return *ptr<T>(index);
  }
  // A ModuleList of the modules' clones.
  std::shared_ptr<Module> clone(const std::optional<Device>& device = std::nullopt) const override;
  auto begin() const { return modules_.begin(); }
  auto end() const { return modules_.end(); }

 private:
  void add(std::shared_ptr<Module> module);
  std::vector<std::shared_ptr<Module>> modules_;
};
TT_MODULE(ModuleList);

// Modules under string keys, registered under those keys (libtorch's ModuleDict): its
// entries' parameters are "key.weight" in a state_dict, and it prints like Python's ModuleDict.
//
//   nn::ModuleDict heads({{"cls", nn::Linear(64, 10).ptr()}, {"box", nn::Linear(64, 4).ptr()}});
//   Tensor logits = heads["cls"]->as<nn::Linear>()->forward(h);
//   heads->at<nn::LinearImpl>("box").weight;            // [4, 64]
//
// NOTE: as in libtorch, inserting an existing key replaces that module in place (same position,
// same registered name), while pop() and clear() take entries out of the dict but leave them
// registered — their parameters stay in parameters() and the state_dict.
class ModuleDictImpl : public Module {
 public:
  using Item = OrderedDict<std::string, std::shared_ptr<Module>>::Item;

  ModuleDictImpl() : Module("ModuleDict") {}
  explicit ModuleDictImpl(
      const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& modules)
      : ModuleDictImpl() {
    update(modules);
  }
  explicit ModuleDictImpl(const OrderedDict<std::string, std::shared_ptr<Module>>& modules)
      : ModuleDictImpl() {
    update(modules);
  }

  std::vector<std::pair<std::string, std::shared_ptr<Module>>> items() const;
  std::vector<std::string> keys() const { return modules_.keys(); }
  std::vector<std::shared_ptr<Module>> values() const { return modules_.values(); }
  auto begin() { return modules_.begin(); }
  auto end() { return modules_.end(); }
  auto begin() const { return modules_.begin(); }
  auto end() const { return modules_.end(); }
  size_t size() const noexcept { return modules_.size(); }
  bool empty() const noexcept { return modules_.is_empty(); }
  bool contains(const std::string& key) const noexcept { return modules_.contains(key); }
  void clear() { modules_.clear(); }

  // The module under `key`; a missing key is an IndexError naming it.
  std::shared_ptr<Module> operator[](const std::string& key) const;
  // The module under `key` as a T (checked): heads->at<nn::LinearImpl>("box").
  template <typename T>
  requires std::derived_from<T, Module> T& at(const std::string& key) const {
    T* module = (*this)[key]->template as<T>();
    TT_CHECK(module != nullptr, "ModuleDict: the module under key '", key, "' (",
             (*this)[key]->name(), ") is not of the requested type");
    return *module;
  }
  // Takes the module under `key` out of the dict and returns it (see the NOTE above).
  std::shared_ptr<Module> pop(const std::string& key);
  // Inserts every (key, module) pair in order, replacing the modules of keys already present.
  void update(const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& modules) {
    for (const auto& [key, module] : modules) insert(key, module);
  }
  // The same from an OrderedDict or another ModuleDict (anything whose items have key()/value()).
  template <typename Container>
  void update(const Container& container) {
    for (const auto& item : container) insert(item.key(), item.value());
  }

  // A ModuleDict of the modules' clones, under the same keys.
  std::shared_ptr<Module> clone(const std::optional<Device>& device = std::nullopt) const override;

 private:
  void insert(const std::string& key, std::shared_ptr<Module> module);
  OrderedDict<std::string, std::shared_ptr<Module>> modules_{"Key"};
};
TT_MODULE(ModuleDict);

// Tensors registered as parameters named "0", "1", ... (libtorch's ParameterList): an owning
// module's state_dict lists them as "list.0", "list.1". Each keeps its requires_grad flag.
//
//   nn::ParameterList prototypes(torch::randn({10, 64}), torch::zeros({10}));
//   prototypes->append(torch::ones({64}));               // registered as "2"
//   Tensor& w = prototypes[0];                            // [10, 64], the stored parameter
class ParameterListImpl : public Module {
 public:
  using Item = OrderedDict<std::string, Tensor>::Item;

  ParameterListImpl() : Module("ParameterList") {}
  template <typename... Tensors>
  requires(sizeof...(Tensors) > 0 && (std::convertible_to<const Tensors&, const Tensor&> &&
                                      ...)) explicit ParameterListImpl(const Tensors&... params)
      : ParameterListImpl() {
    (append(params), ...);
  }

  // Registers `param` as the next index, with its own requires_grad flag.
  void append(const Tensor& param);
  // An OrderedDict item's tensor (its key is dropped: the list numbers its entries itself).
  void append(const Item& pair) { append(pair.value()); }
  // Appends each tensor (or item) of a container: a vector, another ParameterList.
  template <typename Container>
  void extend(const Container& container) {
    for (const auto& param : container) append(param);
  }
  template <typename Container>
  ParameterListImpl& operator+=(const Container& other) {
    extend(other);
    return *this;
  }

  // The parameter at `idx`; an index ≥ size() is an IndexError naming it and the size.
  Tensor& at(size_t idx);
  const Tensor& at(size_t idx) const;
  Tensor& operator[](size_t idx) { return at(idx); }
  const Tensor& operator[](size_t idx) const { return at(idx); }
  size_t size() const noexcept { return parameters_.size(); }
  bool is_empty() const noexcept { return parameters_.is_empty(); }
  // Iterates (key, tensor) items: for (const auto& item : *list) item.value() ...
  auto begin() { return parameters_.begin(); }
  auto end() { return parameters_.end(); }
  auto begin() const { return parameters_.begin(); }
  auto end() const { return parameters_.end(); }

  // Python's repr: one "(0): Parameter containing: [torch.float32 of size 2x3]" line each.
  std::string extra_repr() const override;
  std::shared_ptr<Module> clone(const std::optional<Device>& device = std::nullopt) const override;
};
TT_MODULE(ParameterList);

// Tensors registered as parameters under string keys (libtorch's ParameterDict).
//
//   nn::ParameterDict scales;
//   scales->insert("gamma", torch::ones({64}));          // state_dict key "gamma"
//   Tensor& g = scales["gamma"];                          // a missing key is an IndexError
class ParameterDictImpl : public Module {
 public:
  ParameterDictImpl() : Module("ParameterDict") {}
  explicit ParameterDictImpl(const OrderedDict<std::string, Tensor>& params) : ParameterDictImpl() {
    for (const auto& item : params) insert(item.key(), item.value());
  }

  // Registers `param` under `key` with its own requires_grad flag; a key already present is an
  // Error naming it (as libtorch's register_parameter).
  Tensor& insert(std::string key, Tensor param);
  // Removes `key` (it is no longer a parameter of the module) and returns its tensor.
  Tensor pop(const std::string& key);
  // libtorch's update: each key of `container` must already be here, and its entry is rebound
  // to the container's tensor (the same tensor, not a copy; the flag is the tensor's own). A key
  // that is not here is an IndexError naming it ("Parameter 'c' is not defined"): use insert for
  // new keys. NOTE: as in libtorch, the items are taken in order and the ones before a missing
  // key stay updated.
  template <typename Container>
  void update(const Container& container) {
    for (const auto& item : container) parameters_[item.key()] = item.value();
  }
  void clear() { parameters_.clear(); }

  std::vector<std::string> keys() const { return parameters_.keys(); }
  std::vector<Tensor> values() const { return parameters_.values(); }
  size_t size() const noexcept { return parameters_.size(); }
  bool empty() const noexcept { return parameters_.is_empty(); }
  bool contains(const std::string& key) const noexcept { return parameters_.contains(key); }
  // The tensor under `key`; a missing key is an IndexError naming it.
  Tensor& get(const std::string& key) { return parameters_[key]; }
  const Tensor& get(const std::string& key) const { return parameters_[key]; }
  Tensor& operator[](const std::string& key) { return parameters_[key]; }
  const Tensor& operator[](const std::string& key) const { return parameters_[key]; }
  auto begin() { return parameters_.begin(); }
  auto end() { return parameters_.end(); }
  auto begin() const { return parameters_.begin(); }
  auto end() const { return parameters_.end(); }

  // Python's repr: one "(key): Parameter containing: [torch.FloatTensor of size 3]" line each.
  std::string extra_repr() const override;
  std::shared_ptr<Module> clone(const std::optional<Device>& device = std::nullopt) const override;
};
TT_MODULE(ParameterDict);

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
