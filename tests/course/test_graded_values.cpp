// Unit tests of what `tito grade` decides a hidden test's verdict with (tests/support/
// graded_values.h): the rules of the graded checks, and the record files, read as the hostile
// input an answers file is; and of read_untrusted_file (tools/tito/src/util.h), which reads them.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

#include "support/graded_values.h"
#include "util.h"

namespace {

namespace g = tinytorch::graded;
namespace fs = std::filesystem;

g::Rule rule(g::Rule::Op op, double rtol = 0, double atol = 0) {
  g::Rule r;
  r.op = op;
  r.rtol = rtol;
  r.atol = atol;
  return r;
}

g::Value tensor(std::string dtype, std::vector<int64_t> shape, std::vector<double> values) {
  g::Value v;
  v.kind = g::Value::Kind::kTensor;
  v.dtype = std::move(dtype);
  v.shape = std::move(shape);
  if (v.dtype == "float32" || v.dtype == "float64") {
    v.reals = std::move(values);
  } else {
    v.ints.assign(values.begin(), values.end());
  }
  return v;
}

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(GradedRules, CloseIsTensorsMatchsRule) {
  const auto close = rule(g::Rule::Op::kClose, 1e-3, 1e-6);
  const auto want = tensor("float32", {3}, {1.0, kNan, -kInf});
  EXPECT_EQ(g::mismatch(close, tensor("float32", {3}, {1.0005, kNan, -kInf}), want), "");
  EXPECT_NE(g::mismatch(close, tensor("float32", {3}, {1.01, kNan, -kInf}), want), "");
  EXPECT_NE(g::mismatch(close, tensor("float32", {3}, {1.0, 0.0, -kInf}), want), "");   // NaN
  EXPECT_NE(g::mismatch(close, tensor("float32", {3}, {1.0, kNan, 1e300}), want), "");  // inf
  EXPECT_NE(g::mismatch(close, tensor("float64", {3}, {1.0, kNan, -kInf}), want), "");  // dtype
  const auto message = g::mismatch(close, tensor("float32", {1, 3}, {1.0, kNan, -kInf}), want);
  EXPECT_NE(message.find("shape mismatch: got [1, 3], expected [3]"), std::string::npos) << message;
  // Integers exactly, whatever the tolerance.
  EXPECT_NE(g::mismatch(rule(g::Rule::Op::kClose, 1, 1), tensor("int64", {1}, {3}),
                        tensor("int64", {1}, {4})),
            "");
}

TEST(GradedRules, EqualityOrderingsTextsAndOutcomes) {
  EXPECT_EQ(g::mismatch(rule(g::Rule::Op::kEq), g::ints({1, 2}), g::ints({1, 2})), "");
  EXPECT_NE(g::mismatch(rule(g::Rule::Op::kEq), g::ints({1, 2}), g::ints({1, 2, 3})), "");
  EXPECT_NE(g::mismatch(rule(g::Rule::Op::kEq), g::reals({kNan}), g::reals({kNan})), "")
      << "EXPECT_EQ's NaN";
  EXPECT_EQ(g::mismatch(rule(g::Rule::Op::kEq), g::ints({2}), g::reals({2.0})), "");
  EXPECT_EQ(g::mismatch(rule(g::Rule::Op::kGt), g::ints({451}), g::ints({450})), "");
  EXPECT_NE(g::mismatch(rule(g::Rule::Op::kGt), g::ints({450}), g::ints({450})), "");
  EXPECT_EQ(g::mismatch(rule(g::Rule::Op::kNear, 0, 0.5), g::reals({1.4}), g::reals({1.0})), "");
  EXPECT_NE(g::mismatch(rule(g::Rule::Op::kNear, 0, 0.5), g::reals({1.6}), g::reals({1.0})), "");
  g::Rule ulps = rule(g::Rule::Op::kUlps);
  ulps.ulps = 4;
  ulps.single = true;
  EXPECT_EQ(g::mismatch(ulps, g::reals({std::nextafter(1.0f, 2.0f)}), g::reals({1.0})), "");
  EXPECT_NE(g::mismatch(ulps, g::reals({1.001}), g::reals({1.0})), "");
  const auto contains = rule(g::Rule::Op::kContains);
  EXPECT_EQ(g::mismatch(contains, g::texts({"epoch 3/3 val_acc"}), g::texts({"3/3", "val"})), "");
  EXPECT_NE(g::mismatch(contains, g::texts({"epoch 3/3"}), g::texts({"3/3", "val"})), "");
  EXPECT_NE(g::mismatch(rule(g::Rule::Op::kLacks), g::texts({"a\rb"}), g::texts({"\r"})), "");
  const auto throws = rule(g::Rule::Op::kThrows);
  EXPECT_EQ(g::mismatch(throws, g::outcome("caught", "view: [5] is invalid"), g::texts({"[5]"})),
            "");
  EXPECT_EQ(g::mismatch(throws, g::outcome("none", ""), g::texts({})), "did not throw");
  EXPECT_NE(g::mismatch(throws, g::outcome("other", "[5]"), g::texts({"[5]"})), "");
  EXPECT_NE(g::mismatch(throws, g::outcome("caught", "view"), g::texts({"[5]"})), "");
  EXPECT_EQ(g::mismatch(rule(g::Rule::Op::kNoThrow), g::outcome("none", ""), g::texts({})), "");
  // A value of another kind is never a match.
  EXPECT_NE(g::mismatch(rule(g::Rule::Op::kEq), g::texts({"1"}), g::ints({1})), "");
  EXPECT_NE(g::mismatch(throws, g::texts({"caught"}), g::texts({})), "");
}

// A record file written and read back: every kind of value and rule survives exactly.
TEST(GradedRecords, RoundTrip) {
  std::string text = g::header_line(g::FileKind::kExpected) + g::test_begin_line("Suite.Name") +
                     g::needs_line("05");
  const g::Value values[] = {g::ints({-3, 0, int64_t{1} << 60}),
                             g::reals({0.1, kNan, -kInf, 1e-310}),
                             g::reals({0.5f, 1.25f}),
                             g::texts({"", "a b\nc", std::string("\0x", 2)}),
                             tensor("float32", {2, 0}, {}),
                             tensor("int8", {3}, {-128, 0, 127}),
                             tensor("bool", {2}, {1, 0}),
                             tensor("float64", {1, 2}, {kNan, 2.5}),
                             g::outcome("caught", "it's \"bad\""),
                             g::Value{g::Value::Kind::kUndefinedTensor, {}, {}, {}, {}, {}}};
  const g::Rule r = rule(g::Rule::Op::kClose, 1e-5, 0.1);
  int line = 10;
  for (const auto& v : values)
    text += g::check_line(g::FileKind::kExpected, "t.cpp:" + std::to_string(line++), 1, &r, v);
  text += g::test_end_line("Suite.Name", "passed");
  g::Records records;
  g::parse_records(text, g::FileKind::kExpected, records);
  ASSERT_EQ(records.problem, "");
  const auto& test = records.tests.at("Suite.Name");
  EXPECT_TRUE(test.ended);
  EXPECT_EQ(test.status, "passed");
  EXPECT_EQ(test.needs, std::vector<std::string>{"05"});
  ASSERT_EQ(test.checks.size(), std::size(values));
  for (size_t i = 0; i < test.checks.size(); ++i) {
    const auto& c = test.checks[i];
    EXPECT_EQ(c.id(), "t.cpp:" + std::to_string(10 + i) + "#1");
    EXPECT_EQ(c.rule.rtol, 1e-5);
    EXPECT_EQ(c.rule.atol, 0.1);
    EXPECT_EQ(g::mismatch(rule(g::Rule::Op::kClose), c.value, values[i]), "") << i;
    EXPECT_EQ(c.value.kind, values[i].kind) << i;
    EXPECT_EQ(c.value.texts, values[i].texts) << i;
    EXPECT_EQ(c.value.ints, values[i].ints) << i;
    EXPECT_EQ(c.value.reals.size(), values[i].reals.size()) << i;
  }
}

// Answers files come out of the sandbox: whatever they hold, parsing stops cleanly, keeps what
// was read before, and never trusts a count it has not checked.
TEST(GradedRecords, HostileAnswersFiles) {
  const auto parse = [](const std::string& body) {
    g::Records records;
    g::parse_records(g::header_line(g::FileKind::kAnswers) + body, g::FileKind::kAnswers, records);
    return records;
  };
  const std::string start = "T S.A\n";
  EXPECT_NE(parse(start + "A t.cpp:1 1 i 2 AQAAAAAAAAA=\n").problem, "");  // 2 claimed, 1 sent
  EXPECT_NE(parse(start + "A t.cpp:1 1 i 1152921504606846976 AQAAAAAAAAA=\n").problem, "");
  EXPECT_NE(parse(start + "A t.cpp:1 1 t float32 2 65536 65536 0 -\n").problem, "");
  EXPECT_NE(
      parse(start + "A t.cpp:1 1 t float32 17 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 AA==\n").problem,
      "");
  EXPECT_NE(parse(start + "A t.cpp:1 1 t complex 1 1 1 AAAA\n").problem, "");
  EXPECT_NE(parse(start + "A t.cpp:1 1 s 1 !!!!\n").problem, "");  // not base64
  EXPECT_NE(parse(start + "A t.cpp:1 0 i 0 \n").problem, "");      // occurrence 0
  EXPECT_NE(parse(start + "C t.cpp:1 1 eq i 0 \n").problem, "");   // an expected record
  EXPECT_NE(parse("A t.cpp:1 1 i 0 \n").problem, "");              // outside a test
  EXPECT_NE(parse(start + "N 05\n").problem, "");  // only expected files say what a test needs
  EXPECT_NE(parse("E S.A passed\n").problem, "");  // an end without a start
  const auto cut = parse(start + "E S.A passed\nT S.B\nA t.cpp:1 1 i 1 AQAAAA");
  EXPECT_NE(cut.problem, "");
  EXPECT_TRUE(cut.tests.at("S.A").ended) << "a test read before the cut keeps its record";
  EXPECT_FALSE(cut.tests.at("S.B").ended);
  // A check or a test recorded twice is counted, so the grader fails the test.
  const auto twice = parse(start + "A t.cpp:1 1 i 0 \nA t.cpp:1 1 i 0 \nE S.A passed\n");
  EXPECT_EQ(twice.problem, "");
  EXPECT_EQ(twice.tests.at("S.A").duplicates, 1);
  const auto again = parse(start + "A t.cpp:1 1 i 0 \nE S.A passed\n" + start);
  EXPECT_EQ(again.tests.at("S.A").duplicates, 1);
  EXPECT_NE(parse("tinytorch-graded 1 expected\n").problem, "") << "the header names the kind";
  g::Records few;
  g::RecordLimits limits;
  limits.max_checks = 1;
  g::parse_records(
      g::header_line(g::FileKind::kAnswers) + start + "A t.cpp:1 1 i 0 \nA t.cpp:1 2 i 0 \n",
      g::FileKind::kAnswers, few, {}, limits);
  EXPECT_NE(few.problem.find("too many checks"), std::string::npos) << few.problem;
}

TEST(UntrustedFiles, SizeAndKindAreCheckedBeforeReading) {
  const fs::path dir = fs::temp_directory_path() / "tito-untrusted-files";
  fs::remove_all(dir);
  fs::create_directories(dir);
  { std::ofstream(dir / "small") << "hello"; }
  EXPECT_EQ(tito::read_untrusted_file(dir / "small", 5), "hello");
  EXPECT_THROW(tito::read_untrusted_file(dir / "small", 4), tito::Error);
  // A sparse file: 1 GiB long, no blocks. Its size alone refuses it.
  {
    std::ofstream sparse(dir / "sparse", std::ios::binary);
    sparse.seekp((int64_t{1} << 30) - 1);
    sparse.put('x');
  }
  const auto footprint = tito::file_footprint(dir / "sparse");
  ASSERT_TRUE(footprint.has_value());
  EXPECT_EQ(footprint->size, uint64_t{1} << 30);
  EXPECT_LT(footprint->allocated, uint64_t{1} << 20);
  EXPECT_FALSE(tito::within(*footprint, 1 << 20));
  EXPECT_THROW(tito::read_untrusted_file(dir / "sparse", 1 << 20), tito::Error);
  // Links are not followed, FIFOs and folders are not read.
  fs::create_symlink(dir / "small", dir / "link");
  EXPECT_THROW(tito::read_untrusted_file(dir / "link", 1 << 20), tito::Error);
  EXPECT_FALSE(tito::file_footprint(dir / "link")->regular);
  ASSERT_EQ(mkfifo((dir / "fifo").c_str(), 0600), 0);
  EXPECT_THROW(tito::read_untrusted_file(dir / "fifo", 1 << 20), tito::Error);
  EXPECT_THROW(tito::read_untrusted_file(dir, 1 << 20), tito::Error);
  fs::remove_all(dir);
}

}  // namespace
