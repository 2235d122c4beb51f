// Module 03 — Layers: nn::Module, the object every layer and model is (modules/03_layers/README.md,
// Part 1 and Part 5). A Module is three ordered dictionaries — parameters, buffers, children —
// and a training flag; everything else (listing parameters with dotted names, switching to eval,
// zeroing gradients, saving and loading checkpoints, printing) is a walk over that tree.
#include "tinytorch/nn/module.h"

#include <cxxabi.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <sstream>
#include <typeinfo>

#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/serialize/input_archive.h"
#include "tinytorch/serialize/output_archive.h"

namespace tinytorch::nn {

namespace detail {

std::string python_float_repr(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  // The shortest round-trip digits, in scientific form: "-1.25e-05" → digits "125", exp -5.
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  const std::string s(buf, res.ptr);
  const size_t e = s.find('e');
  const bool negative = s[0] == '-';
  std::string digits;
  for (size_t i = negative ? 1 : 0; i < e; ++i) {
    if (s[i] != '.') digits += s[i];
  }
  const int exp = std::atoi(s.c_str() + e + 1);
  // Python's repr: fixed notation for exponents in [-4, 16), scientific otherwise.
  std::string out;
  if (exp >= -4 && exp < 16) {
    const auto point = static_cast<size_t>(exp + 1);  // digits before the decimal point
    if (exp < 0) {
      out = "0." + std::string(static_cast<size_t>(-exp - 1), '0') + digits;
    } else if (digits.size() <= point) {
      out = digits + std::string(point - digits.size(), '0') + ".0";
    } else {
      out = digits.substr(0, point) + "." + digits.substr(point);
    }
  } else {
    out = digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char ebuf[16];
    std::snprintf(ebuf, sizeof ebuf, "e%+03d", exp);
    out += ebuf;
  }
  return negative ? "-" + out : out;
}

}  // namespace detail

namespace {

std::string join_name(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "." + name;
}

// "tinytorch::nn::NetImpl" → "Net": the last component at template depth 0, minus "Impl".
std::string type_name(const std::type_info& type) {
  int status = 0;
  char* demangled = abi::__cxa_demangle(type.name(), nullptr, nullptr, &status);
  std::string full = status == 0 && demangled != nullptr ? demangled : type.name();
  std::free(demangled);
  size_t start = 0;
  int depth = 0;
  for (size_t i = 0; i + 1 < full.size(); ++i) {
    if (full[i] == '<') ++depth;
    if (full[i] == '>') --depth;
    if (depth == 0 && full[i] == ':' && full[i + 1] == ':') start = i + 2;
  }
  std::string name = full.substr(start);
  if (name.size() > 4 && name.compare(name.size() - 4, 4, "Impl") == 0) {
    name.resize(name.size() - 4);
  }
  return name;
}

// Python's _addindent: every line but the first gets `spaces` more indentation.
std::string add_indent(const std::string& s, int spaces) {
  std::string out;
  const std::string pad(static_cast<size_t>(spaces), ' ');
  for (char c : s) {
    out += c;
    if (c == '\n') out += pad;
  }
  return out;
}

// What register_parameter stores: the tensor as a leaf of the autograd graph with its
// requires_grad flag set (an undefined tensor — a disabled bias — is stored as it is).
Tensor make_parameter(Tensor tensor, bool requires_grad) {
  // BEGIN SOLUTION
  if (tensor.defined()) {
    // A parameter is a leaf: Python's nn.Parameter(t) detaches a computed t the same way.
    if (!tensor.is_leaf()) tensor = tensor.detach();
    tensor.set_requires_grad(requires_grad);
  }
  return tensor;
  // END SOLUTION
}

std::string quoted_list(const std::vector<std::string>& keys) {
  std::string out;
  for (size_t i = 0; i < keys.size(); ++i) out += (i ? ", \"" : "\"") + keys[i] + "\"";
  return out;
}

}  // namespace

// ── construction and names ───────────────────────────────────────────────────────────────────

Module::Module(std::string name) : name_(std::move(name)) {}
Module::Module() = default;

const std::string& Module::name() const {
  // The dynamic type is only known once construction is over, so the default is computed on
  // first use.
  if (name_.empty()) name_ = type_name(typeid(*this));
  return name_;
}

// ── registration ─────────────────────────────────────────────────────────────────────────────

void Module::check_new_name(const std::string& kind, const std::string& name) const {
  TT_CHECK(!name.empty(), "register_", kind, ": ", kind, " name can't be empty (in ", this->name(),
           ")");
  TT_CHECK(name.find('.') == std::string::npos, "register_", kind, ": ", kind,
           " name can't contain \".\" (got \"", name, "\" in ", this->name(),
           "): dots separate the levels of a dotted name such as \"fc1.weight\"");
  const char* existing = parameters_.contains(name) ? "parameter"
                         : buffers_.contains(name)  ? "buffer"
                         : children_.contains(name) ? "submodule"
                                                    : nullptr;
  TT_CHECK(existing == nullptr, "register_", kind, ": attribute '", name, "' already exists in ",
           this->name(), " (as a ", existing, ")");
}

Tensor& Module::register_parameter(std::string name, Tensor tensor, bool requires_grad) {
  check_new_name("parameter", name);
  return parameters_.insert(std::move(name), make_parameter(std::move(tensor), requires_grad));
}

Tensor& Module::register_buffer(std::string name, Tensor tensor) {
  check_new_name("buffer", name);
  return buffers_.insert(std::move(name), std::move(tensor));
}

void Module::register_module_impl(std::string name, std::shared_ptr<Module> module) {
  check_new_name("module", name);
  TT_CHECK(module != nullptr, "register_module: submodule '", name, "' of ", this->name(),
           " is empty (a nullptr or an empty holder)");
  TT_CHECK(module.get() != this, "register_module: a module cannot be its own submodule ('", name,
           "' in ", this->name(), ")");
  children_.insert(std::move(name), std::move(module));
}

void Module::replace_module_impl(const std::string& name, std::shared_ptr<Module> module) {
  TT_CHECK(children_.contains(name), "replace_module: ", this->name(), " has no submodule '", name,
           "'");
  TT_CHECK(module != nullptr, "replace_module: the new submodule '", name, "' is empty");
  children_[name] = std::move(module);
}

// ── walking the tree ─────────────────────────────────────────────────────────────────────────

OrderedDict<std::string, Tensor> Module::named_parameters(bool recurse) const {
  // BEGIN SOLUTION
  OrderedDict<std::string, Tensor> out;
  std::set<const TensorImpl*> seen_tensors;  // a tied weight is listed once
  std::set<const Module*> seen_modules;      // and so is a module registered twice
  std::function<void(const Module&, const std::string&)> visit = [&](const Module& m,
                                                                     const std::string& prefix) {
    if (!seen_modules.insert(&m).second) return;
    for (const auto& [name, p] : m.parameters_) {
      if (!p.defined() || !seen_tensors.insert(p.unsafeGetTensorImpl()).second) continue;
      out.insert(join_name(prefix, name), p);
    }
    if (!recurse) return;
    for (const auto& [name, child] : m.children_) visit(*child, join_name(prefix, name));
  };
  visit(*this, "");
  return out;
  // END SOLUTION
}

std::vector<Tensor> Module::parameters(bool recurse) const {
  return named_parameters(recurse).values();
}

OrderedDict<std::string, Tensor> Module::named_buffers(bool recurse) const {
  OrderedDict<std::string, Tensor> out;
  std::set<const TensorImpl*> seen_tensors;
  std::set<const Module*> seen_modules;
  std::function<void(const Module&, const std::string&)> visit = [&](const Module& m,
                                                                     const std::string& prefix) {
    if (!seen_modules.insert(&m).second) return;
    for (const auto& [name, b] : m.buffers_) {
      if (!b.defined() || !seen_tensors.insert(b.unsafeGetTensorImpl()).second) continue;
      out.insert(join_name(prefix, name), b);
    }
    if (!recurse) return;
    for (const auto& [name, child] : m.children_) visit(*child, join_name(prefix, name));
  };
  visit(*this, "");
  return out;
}

std::vector<Tensor> Module::buffers(bool recurse) const {
  return named_buffers(recurse).values();
}

std::vector<std::shared_ptr<Module>> Module::children() const {
  return children_.values();
}

OrderedDict<std::string, std::shared_ptr<Module>> Module::named_children() const {
  OrderedDict<std::string, std::shared_ptr<Module>> out("Submodule");
  for (const auto& [name, child] : children_) out.insert(name, child);
  return out;
}

std::shared_ptr<const Module> Module::shared_self(const char* caller) const {
  std::shared_ptr<const Module> self = weak_from_this().lock();
  TT_CHECK(self != nullptr, caller, "(include_self = true): this ", name(),
           " is not owned by a std::shared_ptr, so it cannot be returned as one. Make it with "
           "std::make_shared or a holder (TT_MODULE), or pass include_self = false");
  return self;
}

OrderedDict<std::string, std::shared_ptr<Module>> Module::named_modules(
    const std::string& name_prefix, bool include_self) const {
  OrderedDict<std::string, std::shared_ptr<Module>> out("Module");
  std::set<const Module*> seen{this};
  if (include_self) {
    out.insert(name_prefix, std::const_pointer_cast<Module>(shared_self("named_modules")));
  }
  std::function<void(const Module&, const std::string&)> visit = [&](const Module& m,
                                                                     const std::string& prefix) {
    for (const auto& [name, child] : m.children_) {
      if (!seen.insert(child.get()).second) continue;
      const std::string path = join_name(prefix, name);
      out.insert(path, child);
      visit(*child, path);
    }
  };
  visit(*this, name_prefix);
  return out;
}

std::vector<std::shared_ptr<Module>> Module::modules(bool include_self) const {
  if (include_self) shared_self("modules");
  return named_modules("", include_self).values();
}

void Module::apply(const std::function<void(Module&)>& fn) {
  fn(*this);
  for (const auto& [name, child] : children_) child->apply(fn);
}

void Module::apply(const std::function<void(const std::string&, Module&)>& fn,
                   const std::string& name_prefix) {
  fn(name_prefix, *this);
  for (const auto& [name, child] : children_) child->apply(fn, join_name(name_prefix, name));
}

// ── modes and gradients ──────────────────────────────────────────────────────────────────────

void Module::to(Device device, ScalarType dtype, bool non_blocking) {
  check_device_available(name() + "::to", device);
  to(dtype, non_blocking);
}

void Module::to(ScalarType dtype, bool /*non_blocking*/) {
  // libtorch's C++ rule (Module::to_impl): EVERY parameter and buffer takes the dtype, integer
  // buffers included — BatchNorm's num_batches_tracked becomes a float64 counter after
  // to(kFloat64), as in libtorch. (Python's nn.Module.to converts the floating-point entries
  // only; the same C++ call must mean what it means in libtorch.) The target must be a floating
  // dtype: parameters that require grad cannot be integers.
  TT_CHECK_TYPE(is_floating_point(dtype), name(),
                "::to: only floating-point dtypes are accepted, got ", tinytorch::to_string(dtype));
  // NOTE: every converted copy is made first and installed after, so that running out of
  // memory half-way leaves the module as it was. set_data keeps each tensor's identity: an
  // optimizer, a tied weight and any handle the caller kept all see the new dtype.
  std::vector<std::pair<Tensor, Tensor>> moves;  // (tensor, its data in the new dtype)
  const NoGradGuard no_grad;
  auto convert = [&](const Tensor& t) {
    if (!t.defined() || t.dtype() == dtype) return;
    moves.emplace_back(t, t.detach().to(dtype));
    if (t.grad().defined()) moves.emplace_back(t.grad(), t.grad().detach().to(dtype));
  };
  apply([&](Module& m) {
    for (const auto& [key, p] : m.parameters_) convert(p);
    for (const auto& [key, b] : m.buffers_) convert(b);
  });
  for (const auto& [tensor, data] : moves) tensor.set_data(data);
}

void Module::to(Device device, bool /*non_blocking*/) {
  check_device_available(name() + "::to", device);
}

void Module::train(bool on) {
  // BEGIN SOLUTION
  is_training_ = on;
  for (const auto& [name, child] : children_) child->train(on);
  // END SOLUTION
}

void Module::zero_grad(bool set_to_none) {
  // BEGIN SOLUTION
  for (Tensor p : parameters()) {
    if (!p.grad().defined()) continue;
    Tensor& g = p.mutable_grad();
    if (set_to_none) {
      g = Tensor();
    } else {
      const NoGradGuard no_grad;
      g = g.detach();  // the zeros must not be part of any graph
      g.zero_();
    }
  }
  // END SOLUTION
}

// ── checkpoints ──────────────────────────────────────────────────────────────────────────────

void Module::save_to(OrderedDict<std::string, Tensor>& out, const std::string& prefix) const {
  // BEGIN SOLUTION
  // Detached aliases: the same bytes, without the parameter's place in any graph.
  auto entry = [](const Tensor& t) { return t.requires_grad() ? t.detach() : t; };
  for (const auto& [name, p] : parameters_) {
    if (p.defined()) out.insert(prefix + name, entry(p));
  }
  for (const auto& [name, b] : buffers_) {
    if (b.defined()) out.insert(prefix + name, entry(b));
  }
  for (const auto& [name, child] : children_) child->save_to(out, prefix + name + ".");
  // END SOLUTION
}

OrderedDict<std::string, Tensor> Module::state_dict() const {
  OrderedDict<std::string, Tensor> out("Key");
  save_to(out, "");
  return out;
}

LoadStateDictResult Module::load_state_dict(const OrderedDict<std::string, Tensor>& state_dict,
                                            bool strict) {
  // Phase 1: match every parameter and buffer of the tree with the dict, the way PyTorch's
  // load_state_dict walks it (own entries, then the dict keys under this prefix that name
  // nothing here, then each child under "child.").
  struct Copy {
    Tensor dst;
    Tensor src;
    std::string key;
  };
  LoadStateDictResult result;
  std::vector<std::string> errors;
  std::vector<Copy> copies;
  std::function<void(const Module&, const std::string&)> load = [&](const Module& m,
                                                                    const std::string& prefix) {
    auto check = [&](const std::string& name, const Tensor& dst) {
      const std::string key = prefix + name;
      const Tensor* src = state_dict.find(key);
      if (src == nullptr) {
        result.missing_keys.push_back(key);
      } else if (!src->defined()) {
        errors.push_back("While copying the parameter named \"" + key +
                         "\", expected a defined tensor from checkpoint but received an "
                         "undefined one.");
      } else if (src->sizes() != dst.sizes()) {
        errors.push_back(tinytorch::detail::str(
            "size mismatch for ", key, ": copying a param with shape ", src->sizes(),
            " from checkpoint, the shape in current model is ", dst.sizes(), "."));
      } else {
        copies.push_back({dst, *src, key});
      }
    };
    for (const auto& [name, p] : m.parameters_) {
      if (p.defined()) check(name, p);
    }
    for (const auto& [name, b] : m.buffers_) {
      if (b.defined()) check(name, b);
    }
    for (const auto& [key, value] : state_dict) {
      if (key.compare(0, prefix.size(), prefix) != 0) continue;
      const std::string rest = key.substr(prefix.size());
      const std::string first = rest.substr(0, rest.find('.'));
      const Tensor* p = m.parameters_.find(first);
      const Tensor* b = m.buffers_.find(first);
      const bool local = (p != nullptr && p->defined()) || (b != nullptr && b->defined());
      if (!local && !m.children_.contains(first)) result.unexpected_keys.push_back(key);
    }
    for (const auto& [name, child] : m.children_) load(*child, prefix + name + ".");
  };
  load(*this, "");

  if (strict) {
    if (!result.unexpected_keys.empty()) {
      errors.insert(errors.begin(), "Unexpected key(s) in state_dict: " +
                                        quoted_list(result.unexpected_keys) + ". ");
    }
    if (!result.missing_keys.empty()) {
      errors.insert(errors.begin(),
                    "Missing key(s) in state_dict: " + quoted_list(result.missing_keys) + ". ");
    }
  }
  if (!errors.empty()) {
    std::string msg = "Error(s) in loading state_dict for " + name() + ":";
    for (const auto& e : errors) msg += "\n\t" + e;
    throw Error(msg);
  }

  // Phase 2: nothing was wrong, so copy — in place (optimizers and views keep pointing at the
  // same tensors) and with grad mode off (a parameter that requires grad may not be written
  // in place while the graph is being recorded).
  const NoGradGuard no_grad;
  auto same_memory = [](const Copy& c) {
    return c.dst.data_ptr() == c.src.data_ptr() && c.dst.dtype() == c.src.dtype() &&
           c.dst.strides() == c.src.strides();
  };
  // NOTE: a source may share memory with a destination written before it is read — the dict
  // maps "1.weight" to a view of "0.weight", or swaps two parameters. Copying in order would
  // then read bytes already overwritten (or fail half-way on the overlap, breaking the promise
  // that nothing is copied when there is an error). Such sources are cloned first, before
  // anything is written. Loading a module's own state_dict() back aliases each parameter only
  // with itself: no clone, nothing to copy.
  for (Copy& c : copies) {
    if (same_memory(c)) continue;
    const bool aliases_a_destination =
        std::any_of(copies.begin(), copies.end(),
                    [&](const Copy& d) { return !same_memory(d) && c.src.is_alias_of(d.dst); });
    if (aliases_a_destination) c.src = c.src.clone();
  }
  for (Copy& c : copies) {
    if (same_memory(c)) continue;  // loading a module's own state_dict back: nothing to do
    try {
      c.dst.copy_(c.src);
    } catch (const std::exception& e) {
      throw Error(tinytorch::detail::str("Error(s) in loading state_dict for ", name(),
                                         ":\n\tWhile copying the parameter named \"", c.key,
                                         "\", whose dimensions in the model are ", c.dst.sizes(),
                                         " and whose dimensions in the checkpoint are ",
                                         c.src.sizes(), ", an exception occurred : ", e.what(),
                                         "."));
    }
  }
  return result;
}

void Module::save(serialize::OutputArchive& archive) const {
  for (const auto& [key, tensor] : state_dict()) archive.write(key, tensor);
}

void Module::load(serialize::InputArchive& archive) {
  load_state_dict(archive.tensors(), /*strict=*/true);
}

// ── deep copies ──────────────────────────────────────────────────────────────────────────────

std::shared_ptr<Module> Module::clone(const std::optional<Device>& /*device*/) const {
  TT_CHECK(
      false, "clone() has not been implemented for ", name(),
      ": the built-in modules implement it; derive a module of your own from "
      "nn::Cloneable<YourModule> with a reset() (or construct a new one and load_state_dict into "
      "it)");
  return nullptr;
}

void Module::copy_training_modes_to(Module& copy) const {
  copy.is_training_ = is_training_;
  // By name: a container's copy may hold fewer children (ModuleDict::pop leaves the popped
  // module registered here, as libtorch does, but its clone copies only what it holds).
  for (const auto& [name, child] : copy.children_) {
    if (const std::shared_ptr<Module>* original = children_.find(name)) {
      (*original)->copy_training_modes_to(*child);
    }
  }
}

std::shared_ptr<Module> Module::finish_clone(std::shared_ptr<Module> copy,
                                             const std::optional<Device>& device) const {
  // NOTE: `copy` was built from the same options, so its entries have the same dotted names in
  // the same order; each of its tensors takes a fresh copy of this module's data (set_data: the
  // dtype comes along, e.g. after to(kFloat64)) — the copy shares nothing with this module.
  const NoGradGuard no_grad;
  const auto give = [&](const OrderedDict<std::string, Tensor>& from,
                        const OrderedDict<std::string, Tensor>& to, const char* kind) {
    TT_CHECK(from.keys() == to.keys(), "clone: the copy of ", name(), " does not have the same ",
             kind, " as the original (was one registered outside the constructor?)");
    for (size_t i = 0; i < from.size(); ++i) {
      const Tensor& source = from.items()[i].value();
      const Tensor& target = to.items()[i].value();
      target.set_data(source.detach().clone());
      if (source.requires_grad() != target.requires_grad()) {
        Tensor handle = target;
        handle.set_requires_grad(source.requires_grad());
      }
    }
  };
  give(named_parameters(), copy->named_parameters(), "parameters");
  give(named_buffers(), copy->named_buffers(), "buffers");
  copy_training_modes_to(*copy);
  if (device.has_value()) copy->to(*device);
  return copy;
}

// ── printing ─────────────────────────────────────────────────────────────────────────────────

void Module::pretty_print(std::ostream& stream) const {
  // Python's nn.Module.__repr__: the extra_repr lines, then one "(name): child" line per child
  // (the child's own lines indented by two), inside "Name(" ... ")". A module with a one-line
  // extra_repr and no children stays on one line.
  std::vector<std::string> extra_lines;
  const std::string extra = extra_repr();
  if (!extra.empty()) {
    std::istringstream in(extra);
    for (std::string line; std::getline(in, line);) extra_lines.push_back(line);
  }
  std::vector<std::string> child_lines;
  for (const auto& [name, child] : children_) {
    child_lines.push_back("(" + name + "): " + add_indent(child->to_string(), 2));
  }
  stream << name() << "(";
  if (extra_lines.size() == 1 && child_lines.empty()) {
    stream << extra_lines[0];
  } else if (!extra_lines.empty() || !child_lines.empty()) {
    stream << "\n";
    for (const auto& line : extra_lines) stream << "  " << line << "\n";
    for (const auto& line : child_lines) stream << "  " << line << "\n";
  }
  stream << ")";
}

std::string Module::to_string() const {
  std::ostringstream os;
  pretty_print(os);
  return os.str();
}

std::ostream& operator<<(std::ostream& stream, const Module& module) {
  module.pretty_print(stream);
  return stream;
}

}  // namespace tinytorch::nn
