// tests/support/graded_values.h — what a graded check compares, the rule it compares by, and the
// record files that carry both out of a test process to `tito grade`.
//
//   hidden test (tests/support/graded.h)             tito grade (tools/tito/src/cmd_grade.cpp)
//   TT_GRADE_*(actual, expected) ──▶ Value, Rule ──▶ records ──▶ parse_records ──▶ mismatch()
//
// Standard C++ only: tito compiles this file too, so that a test run in ctest and the grader
// apply one definition of every rule (mismatch() decides both).
//
// A record file holds one test's records (graded.cpp writes PREFIX.0, PREFIX.1, ... in the order
// the tests run); it is text, one record per line, tokens separated by one space:
//
//   tinytorch-graded 1 expected|answers      the first line
//   T <test>                                 a test starts ("Suite.Name", gtest's full name)
//   C <site> <n> <rule> <value>              expected: the n-th check made at <site> in the test,
//                                            its rule and the EXPECTED value (outside the sandbox)
//   A <site> <n> <value>                     answers: the ACTUAL value of that check (sandbox)
//   N <module>                               expected: the test skips, rather than fails, where
//                                            module <module> is not written ("05": autograd)
//   E <test> passed|failed|skipped           the test ended (gtest's verdict; only an expected
//                                            file's is read: skipped, or failed by the reference)
//
//   <site>  "test_hidden.cpp:312": the check's file name and line
//   <rule>  eq | close RTOL ATOL | near ABS | ulps N f|d | lt | le | gt | ge | contains | lacks
//           | throws | nothrow                       (numbers as C's %a, exactly)
//   <value> i N B64              N int64 (little-endian, base64)
//           r N B64              N IEEE doubles
//           f N B64              N IEEE doubles that are floats, as floats (4 bytes each)
//           s N TEXT...          N strings, each base64 ("-" for the empty string)
//           t DTYPE K D1..DK N B64   a tensor: dtype name, K sizes, N elements in row-major order,
//                                each in its dtype's bytes (bool/int8/uint8 1, float32 4, 8 else)
//           u                    an undefined tensor
//           o KIND TEXT          a statement's outcome: none | caught (the exception type the
//                                check names) | other | unknown; TEXT: what() (base64 or "-")
//
// parse_records() reads a file written by code it does not trust (the answers come out of the
// sandbox): every count and size is bounded, a malformed line ends the parse (the tests read so
// far keep their records; the rest are missing), and nothing in it is used but as data.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace tinytorch::graded {

struct Value {
  enum class Kind : uint8_t { kInts, kReals, kTexts, kTensor, kUndefinedTensor, kOutcome };
  Kind kind = Kind::kInts;
  std::vector<int64_t> ints;       // kInts; a kTensor of bool, uint8, int8 or int64
  std::vector<double> reals;       // kReals; a kTensor of float32 or float64
  std::vector<std::string> texts;  // kTexts; kOutcome: {kind, what()}
  std::string dtype;               // kTensor: "float32", "int64", ...
  std::vector<int64_t> shape;      // kTensor
};

Value ints(std::vector<int64_t> values);
Value reals(std::vector<double> values);
Value texts(std::vector<std::string> values);
// kind: "none" (no exception), "caught" (of the type the check names), "other", "unknown".
Value outcome(std::string kind, std::string what);

struct Rule {
  enum class Op : uint8_t {
    kEq,     // equal (a tensor: same shape, dtype and values; NaN == NaN as in tensors_match)
    kClose,  // |actual - expected| <= atol + rtol·|expected| per element; NaN == NaN; ±inf exact
    kNear,   // |actual - expected| <= atol (EXPECT_NEAR)
    kUlps,   // within `ulps` units in the last place, in float or double (EXPECT_FLOAT_EQ)
    kLt,     // actual <  expected (a bound)
    kLe,     // actual <= expected
    kGt,     // actual >  expected
    kGe,     // actual >= expected
    kContains,  // the actual text contains every expected text
    kLacks,     // ... and none of them
    kThrows,    // the statement threw the check's exception type, with every expected text in
                // its message
    kNoThrow    // the statement threw nothing
  };
  Op op = Op::kEq;
  double rtol = 0;
  double atol = 0;
  int ulps = 0;
  bool single = false;  // kUlps: compare as float
};

// Empty when `actual` satisfies `rule` against `expected`; otherwise what differs, for a person.
std::string mismatch(const Rule& rule, const Value& actual, const Value& expected);
// A short description of a value ("7", "[1, 2]", "tensor float32 [2, 3]", "threw: ...").
std::string describe(const Value& value);

// ---- record files ----------------------------------------------------------------------------

enum class FileKind { kExpected, kAnswers };

std::string header_line(FileKind kind);
std::string test_begin_line(std::string_view test);
std::string test_end_line(std::string_view test, std::string_view status);
std::string needs_line(std::string_view module);
// `rule` only in an expected file.
std::string check_line(FileKind kind, std::string_view site, int64_t occurrence, const Rule* rule,
                       const Value& value);

struct Check {
  std::string site;
  int64_t occurrence = 0;
  Rule rule;  // expected files only
  Value value;
  [[nodiscard]] std::string id() const { return site + "#" + std::to_string(occurrence); }
};

struct TestRecord {
  bool ended = false;
  std::string status;                   // "passed" | "failed" | "skipped" once ended
  std::vector<Check> checks;            // in the order they were made
  std::map<std::string, size_t> index;  // id -> position in checks
  std::vector<std::string> needs;       // expected: modules it skips without ("05")
  int duplicates = 0;                   // a check id, or the test, seen again
};

struct Records {
  std::map<std::string, TestRecord> tests;
  std::string problem;  // why the parse stopped before the end (empty when it did not)
};

// Bounds on a record file, whoever wrote it.
struct RecordLimits {
  size_t max_tests = 20000;
  size_t max_checks = size_t{1} << 22;    // in the whole file
  size_t max_elements = size_t{1} << 28;  // values of one record (ints, reals, texts, elements)
  size_t max_name = 1024;                 // a test name or a site
};

// Parses a record file of `kind` (its header must say so). `rank_prefix` is put before every site
// (module 21's programs run on several MPI ranks, one file each: "r1/" for rank 1's).
void parse_records(std::string_view text, FileKind kind, Records& into,
                   std::string_view rank_prefix = {}, const RecordLimits& limits = {});

}  // namespace tinytorch::graded
