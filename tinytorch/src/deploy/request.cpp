// The body of a prediction request (deploy/request.h, module 20): JSON → the input tensor.
#include "tinytorch/deploy/request.h"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tinytorch/core/exception.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch::deploy {
namespace {

using json = nlohmann::json;

// The signature's sample shape as the server writes it: [1, 28, 28], [any].
std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    s += (i ? ", " : "") + (shape[i] < 0 ? std::string("any") : std::to_string(shape[i]));
  }
  return s + "]";
}

// A value as an error message shows it: scalars as JSON (about 40 bytes at most), a list or an
// object by its kind. NOTE: never the dump of a nested value: a body of 8 MiB of '[' is a value
// nested 4 million deep, and dump() recurses once per level. A long string is cut at the start
// of a UTF-8 character (never inside one: the reply must stay valid UTF-8).
std::string describe(const json& v) {
  if (v.is_array()) return "a list";
  if (v.is_object()) return "an object";
  const std::string text = v.dump();
  if (text.size() <= 40) return text;
  size_t cut = 40;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return text.substr(0, cut) + "...";
}

}  // namespace

Tensor parse_predict_request(std::string_view body, const ModelSignature& sig, int64_t num_outputs,
                             int64_t max_rows) {
  // The values of one sample (product of the fixed dims), and whether one dim is any length.
  int64_t row_length = 1;
  bool variable_length = false;
  for (const int64_t d : sig.input_shape) {
    if (d < 0) {
      variable_length = true;
    } else {
      TT_CHECK_VALUE(d > 0 && row_length <= std::numeric_limits<int32_t>::max() / d,
                     "the model's input shape ", shape_text(sig.input_shape),
                     " is too large for a request");
      row_length *= d;
    }
  }
  const json parsed = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  TT_CHECK_VALUE(!parsed.is_discarded(),
                 "the body is not valid JSON; expected {\"inputs\": [[...], ...]}");
  TT_CHECK_VALUE(parsed.is_object() && parsed.contains("inputs") && parsed["inputs"].is_array(),
                 "expected a JSON object with \"inputs\": a list of rows, e.g. {\"inputs\": "
                 "[[0.0, 0.1, ...]]}");
  const json& rows = parsed["inputs"];
  const auto n = static_cast<int64_t>(rows.size());
  TT_CHECK_VALUE(n >= 1 && n <= max_rows, "\"inputs\" has ", n, " rows; expected 1 to ", max_rows,
                 " (--max-batch) rows per request");
  const bool ints = sig.input_dtype == kInt64;
  int64_t length = row_length;
  if (variable_length) {
    length = rows[0].is_array() ? static_cast<int64_t>(rows[0].size()) : 0;
    TT_CHECK_VALUE(length >= 1 && length % row_length == 0,
                   "row 0 must be a non-empty list of values");
  }
  std::vector<int64_t> shape = {n};
  for (const int64_t d : sig.input_shape) shape.push_back(d >= 0 ? d : length / row_length);
  // NOTE: allocated from the body's own sizes: n rows of `length` values (row 0's, for a
  // variable length), each row checked against it before it is read.
  Tensor x = empty(shape, sig.input_dtype);
  for (int64_t r = 0; r < n; ++r) {
    const json& row = rows[static_cast<size_t>(r)];
    TT_CHECK_VALUE(row.is_array() && static_cast<int64_t>(row.size()) == length, "row ", r, " has ",
                   row.is_array() ? std::to_string(row.size()) + " values" : "no list",
                   "; expected a flat list of ", length, " values (one sample of shape ",
                   shape_text(sig.input_shape), ", row-major)",
                   variable_length ? ", every row as long as row 0" : "");
    for (int64_t c = 0; c < length; ++c) {
      const json& v = row[static_cast<size_t>(c)];
      if (ints) {
        TT_CHECK_VALUE(
            v.is_number_integer() && v.get<int64_t>() >= 0 && v.get<int64_t>() < num_outputs,
            "inputs[", r, "][", c, "] is ", describe(v),
            "; expected a token id, an integer in [0, ", num_outputs, ")");
        x.data_ptr<int64_t>()[r * length + c] = v.get<int64_t>();
      } else {
        // NOTE: finite as a double is not enough: 1e300 would become float's infinity.
        TT_CHECK_VALUE(v.is_number() && std::isfinite(v.get<double>()) &&
                           std::fabs(v.get<double>()) <= std::numeric_limits<float>::max(),
                       "inputs[", r, "][", c, "] is ", describe(v),
                       "; expected a finite number (within float32's range)");
        x.data_ptr<float>()[r * length + c] = v.get<float>();
      }
    }
  }
  return x;
}

}  // namespace tinytorch::deploy
