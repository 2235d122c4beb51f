// tests/support/reference.h — shared helpers for TinyTorch's GoogleTest suites.
//
//   #include "support/reference.h"          (the test target adds <repo>/tests to its includes)
//   namespace tt = tinytorch; using namespace tinytorch::test;
//
// 1. Reference data: JSON files under TT_TEST_DATA_DIR written by tools/reference/gen_*.py from
//    PyTorch. load_reference("module01_reference.json")["cases"] is a list of cases; a tensor in
//    a case is {"shape", "dtype", "values" (flat, row-major), "view" (optional)}; NaN and the
//    infinities are the strings "nan", "inf", "-inf"; scalars are {"type", "value"}.
// 2. Tensor comparison: expect_tensor_eq(got, expected, rtol, atol) checks shape, dtype and every
//    value (NaN equals NaN, infinities must match exactly), printing the first mismatches.
// 3. Error checks: TT_EXPECT_THROW_WITH(expr, tinytorch::IndexError, "select", "[2, 3]") checks
//    the exception type AND that what() contains every listed substring.
//
// The helpers read and write tensor memory directly through data_ptr() and strides — never through
// the framework's own copy/convert kernels — so they stay trustworthy while those kernels are
// the code under test.
//
// NOTE: the functions are compiled once, in tests/support/reference.cpp (library
// tinytorch_test_support, linked into every module's test programs). This header only declares
// them, with nlohmann-json's forward declarations: a test file that reads a case's fields itself
// includes <nlohmann/json.hpp>. (As a header-only library the parser and the comparisons were
// compiled again in each of ~90 test files: about 2-4 s of compiler time per file.)
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "tinytorch/tinytorch.h"

namespace tinytorch::test {

using json = nlohmann::json;

// ── loading ──────────────────────────────────────────────────────────────────────────────────

// The path of a file in the test data folder (TT_TEST_DATA_DIR, relative to the folder of the
// test program, so the program finds its data from any working directory).
std::string data_path(std::string_view file);

// Parses a JSON file from the test data directory once per process; throws std::runtime_error
// with the path when the file is missing or malformed.
const json& load_reference(std::string_view file);

// What a list of reference cases holds, for the tests that check a file is complete: cases per
// op, error cases, cases with an expected gradient. Fails the calling test on a case whose group
// is not one of `groups`, and on a case name seen twice.
struct ReferenceCensus {
  std::map<std::string, int> per_op;
  int errors = 0;
  int with_grad = 0;
};
ReferenceCensus census(const json& cases, const std::set<std::string>& groups);

// ── JSON → values ────────────────────────────────────────────────────────────────────────────

// "float32", "float64", "int64", "int8", "uint8", "bool" → the dtype.
ScalarType parse_dtype(const std::string& name);
// A JSON number, bool, or one of the strings "nan", "inf", "-inf", as a double.
double json_to_double(const json& v);
// A JSON integer (or bool) as int64_t, exactly; floats are rejected.
int64_t json_to_int(const json& v);
// {"type": "int"|"float"|"bool", "value": v} → Scalar of that kind.
Scalar scalar_from_json(const json& s);
// A JSON list of integers.
std::vector<int64_t> int_list(const json& v);

// ── raw element access (independent of the framework's kernels) ──────────────────────────────

// The elements in row-major order, read straight from memory, as doubles (bool → 0/1).
std::vector<double> values_as_double(const Tensor& t);
// The elements of an integer or bool tensor in row-major order, exactly.
std::vector<int64_t> values_as_int(const Tensor& t);
// Writes JSON values into a tensor (any strides) in row-major order, cast to its dtype.
void write_values(const Tensor& t, const json& values);

// ── JSON → tensors ───────────────────────────────────────────────────────────────────────────

// Applies one view op of the reference format, e.g. ["transpose", 0, 1] or
// ["slice", dim, start|null, end|null, step], to t.
Tensor apply_view_op(const Tensor& t, const json& op);
// {"shape", "dtype", "values"} → a fresh contiguous tensor (the optional "view" is NOT applied).
Tensor base_tensor_from_json(const json& j);
// {"shape", "dtype", "values", "view"?} → the tensor, with its view ops applied.
Tensor tensor_from_json(const json& j);

// ── comparison ───────────────────────────────────────────────────────────────────────────────

// "[2, 3]"
std::string shape_str(IntArrayRef s);

// Tolerances used when a caller passes negative rtol/atol: exact for integers and bools,
// a few ulps for floats.
inline double default_rtol(ScalarType t) {
  return t == kFloat32 ? 1e-6 : t == kFloat64 ? 1e-12 : 0.0;
}
inline double default_atol(ScalarType t) {
  return t == kFloat32 ? 1e-6 : t == kFloat64 ? 1e-12 : 0.0;
}

namespace detail {
// A double with all 17 significant digits.
std::string num_str(double v);
}  // namespace detail

// Shape, dtype and values (NaN == NaN; ±inf must match exactly; |got - exp| <= atol + rtol*|exp|
// for floats; integers and bools exactly). Negative rtol/atol select default_rtol/default_atol
// of the expected dtype.
::testing::AssertionResult tensors_match(const Tensor& got, const Tensor& expected,
                                         double rtol = -1, double atol = -1);
::testing::AssertionResult tensors_match(const Tensor& got, const json& expected, double rtol = -1,
                                         double atol = -1);

// TT_EXPECT_TENSOR_EQ(got, expected [, rtol [, atol]]): like expect_tensor_eq, but the failure is
// reported at the caller's line.
#define TT_EXPECT_TENSOR_EQ(got, ...) \
  EXPECT_TRUE(::tinytorch::test::tensors_match((got), __VA_ARGS__))

void expect_tensor_eq(const Tensor& got, const Tensor& expected, double rtol = -1,
                      double atol = -1);
void expect_tensor_eq(const Tensor& got, const json& expected, double rtol = -1, double atol = -1);

// ── errors ───────────────────────────────────────────────────────────────────────────────────

// Runs f and checks that it throws an exception of type E (or a subclass) whose what() contains
// every one of `needles`.
template <typename E, typename F>
::testing::AssertionResult throws_with(F&& f, std::initializer_list<std::string_view> needles) {
  try {
    f();
  } catch (const E& e) {
    const std::string_view what = e.what();
    std::vector<std::string_view> missing;
    for (std::string_view n : needles) {
      if (what.find(n) == std::string_view::npos) missing.push_back(n);
    }
    if (missing.empty()) return ::testing::AssertionSuccess();
    auto r = ::testing::AssertionFailure();
    r << "the message \"" << what << "\" lacks:";
    for (std::string_view m : missing) r << " \"" << m << "\"";
    return r;
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure()
           << "threw an exception of another type, with message \"" << e.what() << "\"";
  } catch (...) {
    return ::testing::AssertionFailure() << "threw something that is not a std::exception";
  }
  return ::testing::AssertionFailure() << "did not throw";
}

// TT_EXPECT_THROW_WITH(x.view({5}), tinytorch::Error, "view", "[5]");
// NOTE: like EXPECT_THROW, an expression with a top-level comma — x.view({2, 3}) — must be
// wrapped in parentheses: TT_EXPECT_THROW_WITH((x.view({2, 3})), ...).
#define TT_EXPECT_THROW_WITH(expr, ExceptionType, ...)                                         \
  EXPECT_TRUE((::tinytorch::test::throws_with<ExceptionType>([&] { static_cast<void>(expr); }, \
                                                             {__VA_ARGS__})))                  \
      << "    expression: " #expr

}  // namespace tinytorch::test
