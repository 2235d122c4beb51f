// tests/support/indexing_reference.h — the cases of tests/data/indexing_reference.json
// (tools/reference/gen_indexing.py) turned into TinyTorch calls, for module 01's test of the
// values (test_indexing.cpp) and module 05's test of the gradients (test_indexing_grad.cpp).
//
// Header-only: its two users include <nlohmann/json.hpp> anyway.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/reference.h"

namespace tinytorch::test {

inline const json& indexing_cases() {
  return load_reference("indexing_reference.json").at("cases");
}

// An index spec ({"int": i}, {"slice": [start, stop, step]}, {"none": true}, {"ellipsis": true},
// {"bool": b}, {"tensor": t}) as the TensorIndex a C++ program would write.
inline indexing::TensorIndex tensor_index_from_json(const json& spec) {
  using namespace tinytorch::indexing;
  auto opt = [](const json& v) -> std::optional<int64_t> {
    if (v.is_null()) return std::nullopt;
    return json_to_int(v);
  };
  if (spec.contains("int")) return TensorIndex(json_to_int(spec.at("int")));
  if (spec.contains("slice")) {
    const json& s = spec.at("slice");
    return Slice(opt(s.at(0)), opt(s.at(1)), opt(s.at(2)));
  }
  if (spec.contains("none")) return None;
  if (spec.contains("ellipsis")) return Ellipsis;
  if (spec.contains("bool")) return spec.at("bool").get<bool>();
  return tensor_from_json(spec.at("tensor"));
}

inline std::vector<indexing::TensorIndex> tensor_indices_from_json(const json& list) {
  std::vector<indexing::TensorIndex> out;
  for (const json& spec : list) out.push_back(tensor_index_from_json(spec));
  return out;
}

// The differentiable tensor argument of a case ("values", "src" or "source"), or "" when the op
// has none (or, for setitem, when its value is a plain number).
inline std::string other_input_name(const json& c) {
  for (const char* name : {"values", "src", "source"}) {
    if (c.contains(name) && !c.at(name).contains("number")) return name;
  }
  return "";
}

// The case's op on `self` and `other` (its tensor argument, see other_input_name).
inline Tensor run_indexing_case(const json& c, const Tensor& self, const Tensor& other) {
  const std::string op = c.at("op").get<std::string>();
  if (op == "index") return self.index(tensor_indices_from_json(c.at("indices")));
  if (op == "setitem") {
    Tensor out = self.clone();
    const std::vector<indexing::TensorIndex> indices = tensor_indices_from_json(c.at("indices"));
    if (other.defined()) {
      out.index_put_(indices, other);
    } else {
      const json& v = c.at("values").at("number");
      out.index_put_(indices,
                     v.is_number_integer() ? Scalar(v.get<int64_t>()) : Scalar(json_to_double(v)));
    }
    return out;
  }
  if (op == "index_put") {
    std::vector<std::optional<Tensor>> tensors;
    for (const json& t : c.at("tensors")) {
      tensors.push_back(t.is_null() ? std::nullopt : std::optional(tensor_from_json(t)));
    }
    return self.index_put(tensors, other, c.at("accumulate").get<bool>());
  }
  const auto dim = [&] { return json_to_int(c.at("dim")); };
  const auto index = [&] { return tensor_from_json(c.at("index")); };
  if (op == "gather") return self.gather(dim(), index());
  if (op == "scatter") return self.scatter(dim(), index(), other);
  if (op == "scatter_value") {
    return self.scatter(dim(), index(), Scalar(json_to_double(c.at("value"))));
  }
  if (op == "scatter_add") return self.scatter_add(dim(), index(), other);
  if (op == "index_select") return self.index_select(dim(), index());
  if (op == "index_add") {
    const json& a = c.at("alpha");
    const Scalar alpha = a.is_number_integer() ? Scalar(a.get<int64_t>()) : Scalar(a.get<double>());
    return self.index_add(dim(), index(), other, alpha);
  }
  if (op == "masked_select") return self.masked_select(tensor_from_json(c.at("mask")));
  if (op == "nonzero") return self.nonzero();
  throw std::runtime_error("indexing_reference.json: unknown op " + op);
}

}  // namespace tinytorch::test
