// tests/support/graded.h — the checks of the hidden (grader) tests: checks whose verdict is
// computed outside the process that ran the learner's code.
//
// A test process that runs a learner's code cannot be trusted to report its own verdicts: that
// code can write GoogleTest's report itself, or exit 0 early. So a hidden test states each check
// as an ACTUAL value (what the code under test computed) and an EXPECTED one, like EXPECT_*:
//
//   TT_GRADE_TENSOR(a.matmul(b), naive_matmul(a, b), 1e-5, 1e-5);
//   TT_GRADE_EQ(probe->calls, 1);
//   TT_GRADE_THROW_WITH(loss.backward(), Error, "second time");
//
// and the same source is compiled and run three ways:
//
//   check     ctest, ./tito test --hidden: each TT_GRADE_* is a GoogleTest assertion (pass or
//             fail as EXPECT_* would; the rule is graded_values.h's, the one the grader applies).
//   expected  the same program, run by `tito grade` OUTSIDE the sandbox, on the instructor's
//             reference solution, with TT_GRADE_EXPECTED=FILE: it also writes each check's rule
//             and EXPECTED value to FILE.
//   answers   compiled with -DTT_GRADE_ANSWERS by `tito grade` outside the sandbox, linked in the
//             sandbox against the learner's library, run there with TT_GRADE_ANSWERS=FILE: it
//             evaluates the ACTUAL values only and writes them to FILE. The EXPECTED arguments,
//             the messages streamed into a check and code in TT_GRADE_EXPECTED_ONLY(...) are not
//             compiled at all, so the expected values never enter the sandbox.
//
// tito compares the two files (graded_values.h's mismatch()): a test passes when every check the
// reference's run made, the learner's run made too (the same site, the same n-th time) with a
// value that satisfies the rule, and no other. Writing an answers file by hand scores nothing but
// the values one can compute. Hence the rules for a hidden test:
//
//   * Every check that decides the verdict is a TT_GRADE_*; a plain ASSERT_*/EXPECT_* counts in
//     ctest only. (An ASSERT on the code's own values may stay as a guard — it ends the test, so
//     the checks after it are missing and the test fails.)
//   * An expected value is computed in the EXPECTED argument or in TT_GRADE_EXPECTED_ONLY, from
//     the test's inputs; a check must not change what the test does next (the answers run skips
//     it). An input must not depend on what the code under test did (draw it from a Generator of
//     its own, not from one the learner's code also draws from).
//   * Each test makes at least one check (tito grade does not grade a test without one), and the
//     checks of a test are made from the test's own thread, in an order that its inputs decide.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "support/graded_values.h"
#include "support/prerequisites.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch::test::graded {

using ::tinytorch::graded::Rule;
using ::tinytorch::graded::Value;

// ---- values ------------------------------------------------------------------------------------

// A tensor's shape, dtype and elements in row-major order (read through its strides, never through
// the framework's kernels); an undefined tensor is a value of its own.
Value to_value(const Tensor& t);
Value to_value(ScalarType t);
Value to_value(IntArrayRef values);
Value to_value(const std::string& text);
Value to_value(std::string_view text);
Value to_value(const char* text);
Value to_value(const std::vector<std::string>& values);
Value to_value(const std::vector<bool>& values);
inline Value to_value(const Value& v) {
  return v;
}

template <typename T>
requires std::is_arithmetic_v<T> Value to_value(T v) {
  if constexpr (std::is_floating_point_v<T>) {
    return ::tinytorch::graded::reals({static_cast<double>(v)});
  } else {
    return ::tinytorch::graded::ints({static_cast<int64_t>(v)});
  }
}

template <typename T>
requires std::is_arithmetic_v<T> Value to_value(const std::vector<T>& values) {
  if constexpr (std::is_floating_point_v<T>) {
    return ::tinytorch::graded::reals(std::vector<double>(values.begin(), values.end()));
  } else {
    return ::tinytorch::graded::ints(std::vector<int64_t>(values.begin(), values.end()));
  }
}

// An enum (a verdict, a mode) as its underlying integer.
template <typename T>
requires std::is_enum_v<T> Value to_value(T v) {
  return ::tinytorch::graded::ints({static_cast<int64_t>(v)});
}

// Lists of integer lists (shapes), flattened: count, then each list's size and items.
template <typename T>
requires std::is_integral_v<T> Value to_value(const std::vector<std::vector<T>>& lists) {
  std::vector<int64_t> flat{static_cast<int64_t>(lists.size())};
  for (const auto& list : lists) {
    flat.push_back(static_cast<int64_t>(list.size()));
    flat.insert(flat.end(), list.begin(), list.end());
  }
  return ::tinytorch::graded::ints(std::move(flat));
}

// Pairs of integers (BPE merges), flattened: first, second, first, second, ...
template <typename A, typename B>
requires std::is_integral_v<A> && std::is_integral_v<B> Value
to_value(const std::vector<std::pair<A, B>>& pairs) {
  std::vector<int64_t> flat;
  for (const auto& [a, b] : pairs) flat.insert(flat.end(), {int64_t(a), int64_t(b)});
  return ::tinytorch::graded::ints(std::move(flat));
}

// Same sizes, dtype and values (read from memory; NaN equals NaN): for a check whose two sides
// are both the code under test's (one tier against another, one thread count against another),
// graded as TT_GRADE_TRUE(identical(a, b)).
bool identical(const Tensor& a, const Tensor& b);

// The texts a TT_GRADE_THROW_WITH / TT_GRADE_CONTAINS expects.
Value needles(std::initializer_list<std::string_view> texts);

// No exception is of this type: outcome_of<Never> says whether anything was thrown.
struct Never {
  [[nodiscard]] const char* what() const { return ""; }
};

// What running `statement` did: nothing thrown, an E (or subclass) thrown, another exception.
template <typename E, typename F>
Value outcome_of(F&& statement) {
  try {
    statement();
  } catch (const E& e) {
    return ::tinytorch::graded::outcome("caught", e.what());
  } catch (const std::exception& e) {
    return ::tinytorch::graded::outcome("other", e.what());
  } catch (...) {
    return ::tinytorch::graded::outcome("unknown", "");
  }
  return ::tinytorch::graded::outcome("none", "");
}

// ---- rules -------------------------------------------------------------------------------------

Rule eq();
// Negative rtol/atol: tests/support/reference.h's defaults for the expected dtype (a few ulps for
// floats, exact for integers), resolved when the expected value is known.
Rule close(double rtol = -1, double atol = -1);
Rule near(double abs_error);
Rule ulps(bool single);  // GoogleTest's 4 ulps (EXPECT_FLOAT_EQ / EXPECT_DOUBLE_EQ)
Rule relation(Rule::Op op);

// ---- recording ---------------------------------------------------------------------------------

struct Site {
  const char* file;
  int line;
};

// Check mode: records the expected side (when TT_GRADE_EXPECTED is set) and compares; the
// result is the check's GoogleTest assertion. `actual_text` names the check in a failure.
::testing::AssertionResult check(Site site, const char* actual_text, Rule rule, const Value& actual,
                                 const Value& expected);
// Check mode, TT_GRADE_SAME_AS_REFERENCE: records `value` as the expected side; passes.
::testing::AssertionResult reference_value(Site site, Rule rule, const Value& value);
// Answers mode: records the actual side (when TT_GRADE_ANSWERS is set).
void answer(Site site, const Value& actual);
// Check mode: records that the running test skips where module `id` is not written.
void needs_module(const char* id);

// The sink of `<< message` after a check in answers mode: never evaluated.
struct Discard {
  template <typename T>
  Discard& operator<<(const T&) {
    return *this;
  }
};

}  // namespace tinytorch::test::graded

#define TT_GRADE_SITE_ (::tinytorch::test::graded::Site{__FILE__, __LINE__})

// TT_GRADE_SKIP_WITHOUT_AUTOGRAD(): TT_SKIP_WITHOUT_AUTOGRAD (support/prerequisites.h) for a
// graded test. The answers run's skip is not believed (a forger would skip every test it
// fails): the expected record says the test needs module 05, and the grader skips it where the
// submission has not started module 05 (every solution region still the released stub).
#define TT_GRADE_SKIP_WITHOUT_AUTOGRAD()         \
  ::tinytorch::test::graded::needs_module("05"); \
  TT_SKIP_WITHOUT_AUTOGRAD()

#ifndef TT_GRADE_ANSWERS

// A check as a GoogleTest assertion (accepts `<< message`, as EXPECT_* does).
#define TT_GRADE_CHECK_(rule, actual_text, actual, expected)                                \
  GTEST_AMBIGUOUS_ELSE_BLOCKER_                                                             \
  if (const ::testing::AssertionResult tt_grade_result_ = ::tinytorch::test::graded::check( \
          TT_GRADE_SITE_, actual_text, (rule), ::tinytorch::test::graded::to_value(actual), \
          ::tinytorch::test::graded::to_value(expected)))                                   \
    ;                                                                                       \
  else                                                                                      \
    GTEST_NONFATAL_FAILURE_(tt_grade_result_.failure_message())

#define TT_GRADE_EXPECTED_ONLY(...) __VA_ARGS__

#define TT_GRADE_SAME_AS_REFERENCE(actual, rtol, atol)                                             \
  GTEST_AMBIGUOUS_ELSE_BLOCKER_                                                                    \
  if (const ::testing::AssertionResult tt_grade_result_ =                                          \
          ::tinytorch::test::graded::reference_value(TT_GRADE_SITE_,                               \
                                                     ::tinytorch::test::graded::close(rtol, atol), \
                                                     ::tinytorch::test::graded::to_value(actual))) \
    ;                                                                                              \
  else                                                                                             \
    GTEST_NONFATAL_FAILURE_(tt_grade_result_.failure_message())

#else  // the answers build: the expected side is not compiled

#define TT_GRADE_CHECK_(rule, actual_text, actual, expected)                          \
  GTEST_AMBIGUOUS_ELSE_BLOCKER_                                                       \
  if (::tinytorch::test::graded::answer(TT_GRADE_SITE_,                               \
                                        ::tinytorch::test::graded::to_value(actual)), \
      true)                                                                           \
    ;                                                                                 \
  else                                                                                \
    ::tinytorch::test::graded::Discard()

#define TT_GRADE_EXPECTED_ONLY(...)

#define TT_GRADE_SAME_AS_REFERENCE(actual, rtol, atol) TT_GRADE_CHECK_(, , actual, )

#endif

// TT_GRADE_EQ(actual, expected): equal (tensors: shape, dtype and every value; numbers exactly).
#define TT_GRADE_EQ(actual, expected) \
  TT_GRADE_CHECK_(::tinytorch::test::graded::eq(), #actual, actual, expected)
#define TT_GRADE_TRUE(actual) \
  TT_GRADE_CHECK_(::tinytorch::test::graded::eq(), #actual, bool(actual), true)
#define TT_GRADE_FALSE(actual) \
  TT_GRADE_CHECK_(::tinytorch::test::graded::eq(), #actual, bool(actual), false)
// TT_GRADE_TENSOR(actual, expected [, rtol [, atol]]): tensors_match's rule — shape, dtype, and
// |actual - expected| <= atol + rtol·|expected| per element (NaN == NaN, ±inf exactly, integers
// exactly). Also for numbers and vectors of numbers (TT_GRADE_CLOSE reads better there).
#define TT_GRADE_TENSOR(actual, expected, ...) \
  TT_GRADE_CHECK_(::tinytorch::test::graded::close(__VA_ARGS__), #actual, actual, expected)
#define TT_GRADE_CLOSE(actual, expected, rtol, atol) \
  TT_GRADE_CHECK_(::tinytorch::test::graded::close(rtol, atol), #actual, actual, expected)
#define TT_GRADE_NEAR(actual, expected, abs_error) \
  TT_GRADE_CHECK_(::tinytorch::test::graded::near(abs_error), #actual, actual, expected)
#define TT_GRADE_FLOAT_EQ(actual, expected) \
  TT_GRADE_CHECK_(::tinytorch::test::graded::ulps(true), #actual, actual, expected)
#define TT_GRADE_DOUBLE_EQ(actual, expected) \
  TT_GRADE_CHECK_(::tinytorch::test::graded::ulps(false), #actual, actual, expected)
// TT_GRADE_SAME_AS_REFERENCE(actual, rtol, atol): the value the reference solution computes, by
// TT_GRADE_TENSOR's rule. It checks nothing in ctest (the reference is what runs there): it is
// for a test whose other checks are properties a forger could guess (no leak: 0 bytes), so that
// scoring it also takes a value only the computation gives.
// TT_GRADE_LT(actual, bound) and the other orderings: a number against a bound.
#define TT_GRADE_LT(actual, bound)                                                         \
  TT_GRADE_CHECK_(::tinytorch::test::graded::relation(::tinytorch::graded::Rule::Op::kLt), \
                  #actual, actual, bound)
#define TT_GRADE_LE(actual, bound)                                                         \
  TT_GRADE_CHECK_(::tinytorch::test::graded::relation(::tinytorch::graded::Rule::Op::kLe), \
                  #actual, actual, bound)
#define TT_GRADE_GT(actual, bound)                                                         \
  TT_GRADE_CHECK_(::tinytorch::test::graded::relation(::tinytorch::graded::Rule::Op::kGt), \
                  #actual, actual, bound)
#define TT_GRADE_GE(actual, bound)                                                         \
  TT_GRADE_CHECK_(::tinytorch::test::graded::relation(::tinytorch::graded::Rule::Op::kGe), \
                  #actual, actual, bound)
// TT_GRADE_CONTAINS(text, "needle", ...): the actual text contains every needle;
// TT_GRADE_LACKS(text, "needle", ...): none of them.
#define TT_GRADE_CONTAINS(actual, ...)                                                           \
  TT_GRADE_CHECK_(::tinytorch::test::graded::relation(::tinytorch::graded::Rule::Op::kContains), \
                  #actual, actual, ::tinytorch::test::graded::needles({__VA_ARGS__}))
#define TT_GRADE_LACKS(actual, ...)                                                           \
  TT_GRADE_CHECK_(::tinytorch::test::graded::relation(::tinytorch::graded::Rule::Op::kLacks), \
                  #actual, actual, ::tinytorch::test::graded::needles({__VA_ARGS__}))
// TT_GRADE_THROW(statement, Type): the statement throws a Type (or a subclass);
// TT_GRADE_THROW_WITH(statement, Type, "text", ...): ... whose what() contains every text.
// TT_GRADE_NO_THROW(statement): it throws nothing. The outcome is the checked value, so the
// statement's exception is recorded like any result. (As with EXPECT_THROW, a statement with a
// top-level comma — x.view({2, 3}) — goes in parentheses.)
#define TT_GRADE_THROW_WITH(statement, Type, ...)                                              \
  TT_GRADE_CHECK_(                                                                             \
      ::tinytorch::test::graded::relation(::tinytorch::graded::Rule::Op::kThrows), #statement, \
      ::tinytorch::test::graded::outcome_of<Type>([&] { static_cast<void>(statement); }),      \
      ::tinytorch::test::graded::needles({__VA_ARGS__}))
#define TT_GRADE_THROW(statement, Type) TT_GRADE_THROW_WITH(statement, Type, )
#define TT_GRADE_NO_THROW(statement)                                                            \
  TT_GRADE_CHECK_(::tinytorch::test::graded::relation(::tinytorch::graded::Rule::Op::kNoThrow), \
                  #statement,                                                                   \
                  ::tinytorch::test::graded::outcome_of<::tinytorch::test::graded::Never>(      \
                      [&] { static_cast<void>(statement); }),                                   \
                  ::tinytorch::test::graded::needles({}))
