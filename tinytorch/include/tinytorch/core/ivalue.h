// tinytorch/core/ivalue.h — one value of any of a few kinds (libtorch's at::IValue, a subset).
//
//   ctx->saved_data["k"] = 2.5;                 // a custom Function keeps its non-tensor
//   ctx->saved_data["shape"] = x.sizes();       // arguments for backward in a map of IValues
//   double k = ctx->saved_data["k"].toDouble();
//
// An IValue holds exactly one of: nothing (None), a Tensor, a double, an int64_t, a bool, a
// string, or a list of int64_t. The kind is fixed by the constructor; reading it as another kind
// is an error that names both ("Expected Double but got Int") — there is no conversion, as in
// libtorch (an Int is not silently read as a Double). The names (toDouble, toInt, toBool,
// toStringRef, toTensor, toIntVector, isDouble, ..., tagKind) are libtorch's. libtorch's IValue
// holds many more kinds (tuples, dicts, objects, ...); the subset here is what custom autograd
// Functions save in practice.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "tinytorch/core/exception.h"
#include "tinytorch/core/int_array_ref.h"
#include "tinytorch/core/tensor.h"

namespace tinytorch {

class IValue {
 public:
  IValue() = default;  // None
  // Implicit, as in libtorch, so that `saved_data["k"] = 2.5;` reads naturally.
  // NOLINTBEGIN(google-explicit-constructor)
  IValue(Tensor t) : value_(std::move(t)) {}
  IValue(double d) : value_(d) {}
  IValue(int64_t i) : value_(i) {}
  IValue(int32_t i) : value_(static_cast<int64_t>(i)) {}
  IValue(bool b) : value_(b) {}
  IValue(std::string s) : value_(std::move(s)) {}
  IValue(const char* s) : value_(std::string(s != nullptr ? s : "")) {
    TT_CHECK_VALUE(s != nullptr, "IValue: a null const char* is not a string");
  }
  IValue(std::string_view s) : value_(std::string(s)) {}
  IValue(std::vector<int64_t> v) : value_(std::move(v)) {}
  IValue(IntArrayRef v) : value_(v.vec()) {}
  // NOLINTEND(google-explicit-constructor)
  // NOTE: any other pointer would silently become a bool; refuse it at compile time.
  template <typename T, typename = std::enable_if_t<!std::is_same_v<std::remove_cv_t<T>, char>>>
  IValue(T*) = delete;
  IValue(std::nullptr_t) = delete;

  bool isNone() const { return std::holds_alternative<std::monostate>(value_); }
  bool isTensor() const { return std::holds_alternative<Tensor>(value_); }
  bool isDouble() const { return std::holds_alternative<double>(value_); }
  bool isInt() const { return std::holds_alternative<int64_t>(value_); }
  bool isBool() const { return std::holds_alternative<bool>(value_); }
  bool isString() const { return std::holds_alternative<std::string>(value_); }
  bool isIntList() const { return std::holds_alternative<std::vector<int64_t>>(value_); }

  double toDouble() const { return get<double>("Double"); }
  int64_t toInt() const { return get<int64_t>("Int"); }
  bool toBool() const { return get<bool>("Bool"); }
  const std::string& toStringRef() const { return get<std::string>("String"); }
  std::vector<int64_t> toIntVector() const { return get<std::vector<int64_t>>("IntList"); }
  const Tensor& toTensor() const& { return get<Tensor>("Tensor"); }
  Tensor& toTensor() & { return const_cast<Tensor&>(std::as_const(*this).toTensor()); }
  Tensor toTensor() && { return std::move(toTensor()); }

  // The kind held: "None", "Tensor", "Double", "Int", "Bool", "String" or "IntList".
  std::string tagKind() const {
    static constexpr std::string_view kNames[] = {"None", "Tensor", "Double", "Int",
                                                  "Bool", "String", "IntList"};
    return std::string(kNames[value_.index()]);
  }

 private:
  template <typename T>
  const T& get(std::string_view expected) const {
    const T* v = std::get_if<T>(&value_);
    TT_CHECK_TYPE(v != nullptr, "IValue: Expected ", expected, " but got ", tagKind());
    return *v;
  }

  // NOTE: the order of the alternatives is the order of tagKind's names.
  std::variant<std::monostate, Tensor, double, int64_t, bool, std::string, std::vector<int64_t>>
      value_;
};

}  // namespace tinytorch
