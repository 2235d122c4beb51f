// The diagnosis traces (tools/diagnose/trace.h): the file survives a round trip, a cut-off file
// reads as its complete events, a corrupt one is refused with the reason; the comparison finds
// each program's first difference (op, side, index, got, expected) and tells a different order
// of ops from a different result; the op table covers every node the differentiable layer records.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "../support/temp_dir.h"
#include "op_files.h"
#include "trace.h"

namespace tinytorch::diagnose {
namespace {

using test::TempDir;

TensorRecord tensor(std::vector<int64_t> sizes, std::vector<double> values,
                    std::string dtype = "float32", std::string name = "") {
  TensorRecord t;
  t.defined = true;
  t.name = std::move(name);
  t.dtype = std::move(dtype);
  t.sizes = std::move(sizes);
  t.values = std::move(values);
  return t;
}

Event program(const std::string& name, const std::string& where = "02") {
  return {EventKind::kProgram, name, "", where, {}, {}};
}
Event forward(const std::string& node, const std::string& op, std::vector<TensorRecord> in,
              TensorRecord out) {
  return {EventKind::kForward, node, op, "", std::move(in), {std::move(out)}};
}
Event value(const std::string& name, TensorRecord t) {
  return {EventKind::kValue, name, "", "", {}, {std::move(t)}};
}

void write(const std::string& path, const std::vector<Event>& events, bool finish = true) {
  TraceWriter w(path);
  for (const Event& e : events) w.write(e);
  if (finish) w.finish();
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}
void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// A small trace with a bit of everything: two programs, an undefined tensor, int64 and float64
// values, a tensor recorded elsewhere.
std::vector<Event> sample() {
  TensorRecord elsewhere = tensor({2, 3}, {}, "float32", "x");
  elsewhere.elsewhere = true;
  Event backward{EventKind::kBackward,
                 "MulBackward0",
                 "aten::mul",
                 "layer 0 (Linear)",
                 {tensor({2, 3}, {1, 2, 3, 4, 5, 6})},
                 {tensor({2, 3}, {0.5, 0.25, -1, 2, 3, 4}), TensorRecord{}}};
  return {program("softmax"),
          value("x", tensor({2, 3}, {0.1, -0.2, 0.3, 1.5, 2.5, -3.5}, "float32", "x")),
          forward("SoftmaxBackward0", "aten::softmax", {elsewhere},
                  tensor({2, 3}, {0.2, 0.3, 0.5, 0.1, 0.1, 0.8})),
          backward,
          program("indices", "1986"),
          value("idx", tensor({3}, {1, 9007199254740993.0, 2}, "int64", "idx")),
          value("w", tensor({2}, {1.0 / 3.0, 2.0 / 3.0}, "float64", "w")),
          {EventKind::kError, "not implemented yet — module 02", "", "", {}, {}}};
}

void expect_same(const TensorRecord& a, const TensorRecord& b) {
  EXPECT_EQ(a.defined, b.defined);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.dtype, b.dtype);
  EXPECT_EQ(a.sizes, b.sizes);
  EXPECT_EQ(a.elsewhere, b.elsewhere);
  ASSERT_EQ(a.values.size(), b.values.size());
  for (size_t i = 0; i < a.values.size(); ++i) {
    // float32 tensors are stored as float32, the others as float64.
    const double v = a.dtype == "float32" ? static_cast<float>(a.values[i]) : a.values[i];
    EXPECT_EQ(v, b.values[i]) << i;
  }
}

TEST(DiagnoseTrace, RoundTripKeepsEveryField) {
  const TempDir dir("diag");
  const auto events = sample();
  write(dir.file("t"), events);
  const Trace t = read_trace(dir.file("t"));
  EXPECT_TRUE(t.complete);
  EXPECT_EQ(t.problem, "");
  ASSERT_EQ(t.events.size(), events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(t.events[i].kind, events[i].kind);
    EXPECT_EQ(t.events[i].name, events[i].name);
    EXPECT_EQ(t.events[i].op, events[i].op);
    EXPECT_EQ(t.events[i].where, events[i].where);
    ASSERT_EQ(t.events[i].inputs.size(), events[i].inputs.size());
    ASSERT_EQ(t.events[i].outputs.size(), events[i].outputs.size());
    for (size_t k = 0; k < events[i].inputs.size(); ++k) {
      expect_same(events[i].inputs[k], t.events[i].inputs[k]);
    }
    for (size_t k = 0; k < events[i].outputs.size(); ++k) {
      expect_same(events[i].outputs[k], t.events[i].outputs[k]);
    }
  }
  // int64 values survive beyond float32's 24 bits (as far as a double holds them).
  EXPECT_EQ(t.events[5].outputs[0].values[1], 9007199254740993.0);
}

TEST(DiagnoseTrace, LargeTensorsKeepTheirFirstValuesAndSayItsCut) {
  const TempDir dir("diag");
  std::vector<double> many(kMaxValues + 10);
  for (size_t i = 0; i < many.size(); ++i) many[i] = static_cast<double>(i % 97);
  write(dir.file("t"),
        {program("big"), value("v", tensor({static_cast<int64_t>(many.size())}, many))});
  const Trace t = read_trace(dir.file("t"));
  const TensorRecord& v = t.events.at(1).outputs.at(0);
  EXPECT_TRUE(v.cut);
  EXPECT_EQ(v.values.size(), kMaxValues);
  EXPECT_EQ(v.sizes[0], static_cast<int64_t>(many.size()));
}

// A run that crashed or was killed leaves a file cut anywhere: it reads as the events before the
// cut, never as an error and never as a complete trace.
TEST(DiagnoseTrace, EveryCutAfterTheHeaderReadsAsTheEventsBeforeIt) {
  const TempDir dir("diag");
  const auto events = sample();
  write(dir.file("full"), events);
  const std::string bytes = read_bytes(dir.file("full"));
  size_t last_count = 0;
  for (size_t cut = 12; cut < bytes.size(); ++cut) {
    write_bytes(dir.file("cut"), bytes.substr(0, cut));
    Trace t;
    ASSERT_NO_THROW(t = read_trace(dir.file("cut"))) << "cut at " << cut;
    EXPECT_FALSE(t.complete) << cut;
    EXPECT_FALSE(t.problem.empty()) << cut;
    EXPECT_LE(t.events.size(), events.size());
    EXPECT_GE(t.events.size(), last_count) << "events read never decrease as the cut moves on";
    last_count = t.events.size();
  }
  EXPECT_EQ(last_count, events.size());  // cut just before the end record: every event
  for (size_t cut = 0; cut < 12; ++cut) {
    write_bytes(dir.file("cut"), bytes.substr(0, cut));
    EXPECT_THROW(read_trace(dir.file("cut")), std::runtime_error) << cut;
  }
}

// The byte offset of the first tensor of the first event with inputs: after the header (12
// bytes), the kind and three strings.
std::string corrupt_error(const std::string& path, const std::string& bytes) {
  write_bytes(path, bytes);
  try {
    read_trace(path);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(DiagnoseTrace, CorruptFilesAreRefusedWithTheReason) {
  const TempDir dir("diag");
  const std::string path = dir.file("t");
  write(path, {program("p"), value("v", tensor({2}, {1, 2}))});
  const std::string good = read_bytes(path);

  std::string bad = good;
  bad[0] = 'X';
  EXPECT_NE(corrupt_error(path, bad).find("no trace header"), std::string::npos);
  bad = good;
  bad[8] = 2;  // version 2
  EXPECT_NE(corrupt_error(path, bad).find("version 2"), std::string::npos);
  bad = good;
  bad[12] = 42;  // the first event's kind
  EXPECT_NE(corrupt_error(path, bad).find("unknown kind 42"), std::string::npos);
  bad = good;
  bad[13] = '\xff';  // the program name's length: 4 GiB − 1 bytes... (little-endian u32)
  bad[14] = '\xff';
  EXPECT_NE(corrupt_error(path, bad).find("an event name of"), std::string::npos);
  bad = good;
  bad += "extra";  // after the end record
  EXPECT_NE(corrupt_error(path, bad).find("after the end record"), std::string::npos);

  // The value event's tensor: find its dimension count (the byte after the dtype "float32").
  const size_t dtype = good.rfind("float32");
  ASSERT_NE(dtype, std::string::npos);
  const size_t ndim = dtype + 7;
  bad = good;
  bad[ndim] = 100;
  EXPECT_NE(corrupt_error(path, bad).find("100 dimensions"), std::string::npos);
  bad = good;
  bad[ndim + 1] = '\xfe';  // size -2 (the low byte of a little-endian 2 → 0xfe... all ones above)
  for (int i = 2; i <= 8; ++i) bad[ndim + i] = '\xff';
  EXPECT_NE(corrupt_error(path, bad).find("negative size"), std::string::npos);
  const size_t count = ndim + 1 + 8 + 1;  // ndim, one size, flags
  bad = good;
  bad[count] = 3;  // 3 values for a tensor of 2 elements
  EXPECT_NE(corrupt_error(path, bad).find("more values than the tensor has elements"),
            std::string::npos);
  bad = good;
  bad[count + 8] = 5;  // values 5 bytes wide
  EXPECT_NE(corrupt_error(path, bad).find("5 bytes wide"), std::string::npos);

  EXPECT_THROW(read_trace(dir.file("missing")), std::runtime_error);
}

TEST(DiagnoseTrace, WritingNeverExceedsTheLimitsTheReaderChecks) {
  const TempDir dir("diag");
  Event e = value(std::string(kMaxString + 100, 'n'), tensor({1}, {1}));
  for (uint32_t i = 0; i < kMaxTensors + 5; ++i) e.inputs.push_back(tensor({1}, {2}));
  write(dir.file("t"), {program("p"), e});
  const Trace t = read_trace(dir.file("t"));
  ASSERT_EQ(t.events.size(), 2u);
  EXPECT_EQ(t.events[1].name.size(), kMaxString);
  EXPECT_EQ(t.events[1].inputs.size(), kMaxTensors);
}

// ── comparing ─────────────────────────────────────────────────────────────────────────────────

TEST(DiagnoseCompare, TensorsWithinTheirDtypesTolerance) {
  const auto a = tensor({4, 7}, std::vector<double>(28, 1.0));
  auto b = a;
  b.values[9] = 1.0 + 5e-5;  // float32: within 1e-4 relative
  EXPECT_FALSE(compare_tensors(b, a));
  b.values[9] = 1.01;
  b.values[20] = -1.0;
  const auto d = compare_tensors(b, a);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->what, "values");
  EXPECT_EQ(d->flat_index, 9);
  EXPECT_EQ(d->index, (std::vector<int64_t>{1, 2}));
  EXPECT_DOUBLE_EQ(d->got, 1.01);
  EXPECT_DOUBLE_EQ(d->expected, 1.0);
  EXPECT_EQ(d->count, 2);
  EXPECT_EQ(d->compared, 28);
  EXPECT_DOUBLE_EQ(d->max_abs_diff, 2.0);

  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_FALSE(compare_tensors(tensor({2}, {nan, inf}), tensor({2}, {nan, inf})));
  EXPECT_TRUE(compare_tensors(tensor({2}, {nan, 1}), tensor({2}, {0, 1})));
  EXPECT_TRUE(compare_tensors(tensor({1}, {-inf}), tensor({1}, {inf})));
  EXPECT_TRUE(compare_tensors(tensor({1}, {3}, "int64"), tensor({1}, {3.0000001}, "int64")));
  EXPECT_TRUE(compare_tensors(tensor({1}, {1 + 1e-6}, "float64"), tensor({1}, {1}, "float64")));
  EXPECT_EQ(compare_tensors(tensor({2, 2}, {}), tensor({4}, {}))->what, "shape");
  EXPECT_EQ(compare_tensors(tensor({1}, {1}, "float64"), tensor({1}, {1}))->what, "dtype");
  EXPECT_EQ(compare_tensors(TensorRecord{}, tensor({1}, {1}))->what, "defined");
}

Trace trace_of(std::vector<Event> events, bool complete = true) {
  Trace t;
  t.events = std::move(events);
  t.complete = complete;
  if (!complete) t.problem = "the trace is cut off";
  return t;
}

// The reference: two programs; program "softmax" runs softmax then mul.
Trace reference_trace() {
  const auto x = tensor({2, 3}, {0.1, -0.2, 0.3, 1.5, 2.5, -3.5}, "float32", "x");
  const auto y = tensor({2, 3}, {0.2, 0.3, 0.5, 0.1, 0.1, 0.8});
  const auto z = tensor({2, 3}, {0.4, 0.6, 1.0, 0.2, 0.2, 1.6});
  return trace_of({program("softmax"), value("x", x),
                   forward("SoftmaxBackward0", "aten::softmax", {x}, y),
                   forward("MulBackward0", "aten::mul", {y}, z), value("z", z), program("relu"),
                   value("x", x), forward("ReluBackward0", "aten::relu", {x}, tensor({1}, {0.1}))});
}

TEST(DiagnoseCompare, SameTracesMatch) {
  const auto c = compare_traces(reference_trace(), reference_trace());
  EXPECT_TRUE(c.divergences.empty());
  EXPECT_EQ(c.programs, 2u);
  EXPECT_NE(format_comparison(c).find("All 2 programs match"), std::string::npos);
}

TEST(DiagnoseCompare, NamesTheFirstOpWhoseOutputDiffers) {
  auto mine = reference_trace();
  mine.events[2].outputs[0].values[4] = 0.9;  // softmax's output, [1, 1]
  mine.events[3].outputs[0].values[4] = 1.8;  // and so the mul after it
  const auto c = compare_traces(mine, reference_trace());
  ASSERT_EQ(c.divergences.size(), 1u);
  const Divergence& d = c.divergences[0];
  EXPECT_EQ(d.kind, DivergenceKind::kValues);
  EXPECT_EQ(d.program, "softmax");
  EXPECT_EQ(d.position, 1u);  // after the value x
  EXPECT_EQ(d.side, "output");
  ASSERT_TRUE(d.reference);
  EXPECT_EQ(d.reference->name, "SoftmaxBackward0");
  EXPECT_EQ(d.difference->index, (std::vector<int64_t>{1, 1}));
  const std::string text = format_comparison(c);
  EXPECT_NE(text.find("program 'softmax' (module 02), step 1: forward of aten::softmax"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("inputs: x [2, 3] float32"), std::string::npos) << text;
  EXPECT_NE(text.find("output differs: [2, 3] float32 at [1, 1] (flat index 4): got 0.9, "
                      "expected 0.1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("code: tinytorch/src/native/activation.cpp"), std::string::npos) << text;

  const auto json = nlohmann::json::parse(comparison_json(c));
  const auto& j = json.at("divergences").at(0);
  EXPECT_EQ(j.at("node"), "SoftmaxBackward0");
  EXPECT_EQ(j.at("op"), "aten::softmax");
  EXPECT_EQ(j.at("direction"), "forward");
  EXPECT_EQ(j.at("flat_index"), 4);
  EXPECT_EQ(j.at("index"), nlohmann::json::array({1, 1}));
  EXPECT_DOUBLE_EQ(j.at("got").get<double>(), 0.9);
  EXPECT_EQ(j.at("files"), nlohmann::json::array({"tinytorch/src/native/activation.cpp"}));
}

TEST(DiagnoseCompare, AnInputThatDiffersIsReportedAsSuch) {
  auto mine = reference_trace();
  mine.events[7].inputs[0].values[0] = 7.0;  // relu's input, which no traced op returned
  const auto c = compare_traces(mine, reference_trace());
  ASSERT_EQ(c.divergences.size(), 1u);
  EXPECT_EQ(c.divergences[0].program, "relu");
  EXPECT_EQ(c.divergences[0].side, "input 0");
  EXPECT_NE(format_comparison(c).find("code that records no op"), std::string::npos);
}

TEST(DiagnoseCompare, BackwardDifferencesNameTheFormulaAndTheEngine) {
  const auto g = tensor({2}, {1, 2});
  Trace ref = trace_of({program("p"),
                        {EventKind::kBackward,
                         "MulBackward0",
                         "aten::mul",
                         "",
                         {g},
                         {tensor({2}, {3, 4}), tensor({2}, {5, 6})}}});
  Trace mine = ref;
  mine.events[1].outputs[1].values[1] = -6;
  auto c = compare_traces(mine, ref);
  ASSERT_EQ(c.divergences.size(), 1u);
  EXPECT_EQ(c.divergences[0].side, "gradient for input 1");
  auto json = nlohmann::json::parse(comparison_json(c)).at("divergences").at(0);
  EXPECT_EQ(json.at("direction"), "backward");
  EXPECT_EQ(json.at("files"), nlohmann::json::array({"tinytorch/src/autograd/derivatives.cpp",
                                                     "tinytorch/src/kernels/strided_loop.cpp"}));
  mine = ref;
  mine.events[1].inputs[0].values[0] = 2;  // the gradient it received: summed by the engine
  c = compare_traces(mine, ref);
  ASSERT_EQ(c.divergences.size(), 1u);
  EXPECT_EQ(c.divergences[0].side, "gradient received 0");
  json = nlohmann::json::parse(comparison_json(c)).at("divergences").at(0);
  EXPECT_EQ(json.at("files"), nlohmann::json::array({"tinytorch/src/autograd/engine.cpp"}));
}

TEST(DiagnoseCompare, EachProgramReportsItsOwnFirstDifference) {
  auto mine = reference_trace();
  mine.events[4].outputs[0].values[0] = 9;  // value z of program softmax
  mine.events[7].outputs[0].values[0] = 9;  // relu's output
  const auto c = compare_traces(mine, reference_trace());
  ASSERT_EQ(c.divergences.size(), 2u);
  EXPECT_EQ(c.divergences[0].program, "softmax");
  EXPECT_EQ(c.divergences[0].side, "value");
  EXPECT_EQ(c.divergences[1].program, "relu");
  EXPECT_NE(format_comparison(c).find("2 of 2 programs differ"), std::string::npos);
}

TEST(DiagnoseCompare, TheSameResultByOtherOpsIsNoDifference) {
  // Yours computes softmax with an extra op in between (a Linear written as matmul + add would
  // look the same); the ops after it and the named value match.
  auto mine = reference_trace();
  const Event extra = forward("CloneBackward0", "aten::clone", {}, tensor({2, 3}, {}));
  mine.events.insert(mine.events.begin() + 3, extra);
  auto c = compare_traces(mine, reference_trace());
  EXPECT_TRUE(c.divergences.empty()) << format_comparison(c);

  // ... unless a named value differs after all.
  mine.events[5].outputs[0].values[2] = 4;  // value z
  c = compare_traces(mine, reference_trace());
  ASSERT_EQ(c.divergences.size(), 1u);
  EXPECT_EQ(c.divergences[0].side, "value");
  ASSERT_EQ(c.divergences[0].notes.size(), 1u);
  EXPECT_NE(c.divergences[0].notes[0].find("your code ran 1 op(s) where the reference ran 0"),
            std::string::npos)
      << c.divergences[0].notes[0];
}

TEST(DiagnoseCompare, DifferentOpsWithNoWayBackAreAStructureDifference) {
  auto mine = reference_trace();
  mine.events[3] = forward("DivBackward0", "aten::div", {}, tensor({2, 3}, {}));
  mine.events.erase(mine.events.begin() + 4);  // and no value z
  const auto c = compare_traces(mine, reference_trace());
  ASSERT_EQ(c.divergences.size(), 1u);
  EXPECT_EQ(c.divergences[0].kind, DivergenceKind::kStructure);
  const std::string text = format_comparison(c);
  EXPECT_NE(text.find("yours:         forward of aten::div"), std::string::npos) << text;
  EXPECT_NE(text.find("the reference: forward of aten::mul"), std::string::npos) << text;
}

TEST(DiagnoseCompare, AnErrorAndAnEndedRunAreNamed) {
  auto mine = reference_trace();
  mine.events.erase(mine.events.begin() + 3, mine.events.begin() + 5);
  mine.events.insert(
      mine.events.begin() + 3,
      {EventKind::kError, "not implemented yet — module 02 (activations)", "", "", {}, {}});
  auto c = compare_traces(mine, reference_trace());
  ASSERT_EQ(c.divergences.size(), 1u);
  EXPECT_EQ(c.divergences[0].kind, DivergenceKind::kError);
  EXPECT_NE(format_comparison(c).find("not implemented yet — module 02"), std::string::npos);

  // A run that stopped inside program softmax (a crash): that program, and relu, never reached.
  auto cut = reference_trace();
  cut.events.resize(3);
  cut.complete = false;
  cut.problem = "the trace is cut off at byte 400";
  c = compare_traces(cut, reference_trace());
  ASSERT_EQ(c.divergences.size(), 2u);
  EXPECT_EQ(c.divergences[0].kind, DivergenceKind::kStopped);
  EXPECT_EQ(c.divergences[0].position, 2u);
  EXPECT_EQ(c.divergences[1].kind, DivergenceKind::kStopped);
  EXPECT_EQ(c.divergences[1].program, "relu");
  const std::string text = format_comparison(c);
  EXPECT_NE(text.find("your run ended here"), std::string::npos) << text;
  EXPECT_NE(text.find("not reached"), std::string::npos) << text;
  EXPECT_NE(text.find("cut off at byte 400"), std::string::npos) << text;
}

// ── the op table ──────────────────────────────────────────────────────────────────────────────

// Every node name the differentiable layer records (a "...Backward<n>" literal, CopyBackwards)
// has its files in the table, and every file the table names exists.
TEST(DiagnoseOpFiles, CoverEveryRecordedNode) {
  const std::filesystem::path root = TITO_TEST_SOURCE_DIR;
  std::ifstream in(root / "tinytorch/src/autograd/variable_ops.cpp");
  ASSERT_TRUE(in) << "cannot read variable_ops.cpp";
  const std::string source{std::istreambuf_iterator<char>(in), {}};
  const std::regex literal("\"([A-Za-z0-9]+Backward[0-9]*|CopyBackwards)\"");
  std::set<std::string> recorded;
  for (std::sregex_iterator it(source.begin(), source.end(), literal), end; it != end; ++it) {
    recorded.insert((*it)[1]);
  }
  ASSERT_GT(recorded.size(), 40u);
  const auto known = known_nodes();
  const std::set<std::string> table(known.begin(), known.end());
  for (const auto& node : recorded) {
    EXPECT_TRUE(table.count(node)) << node << " is recorded by variable_ops.cpp but has no entry "
                                   << "in tools/diagnose/op_files.cpp";
  }
  for (const auto& node : known) {
    for (const bool backward : {false, true}) {
      for (const auto& file : op_files(node, backward)) {
        EXPECT_TRUE(std::filesystem::exists(root / file)) << node << ": " << file;
      }
    }
  }
  EXPECT_TRUE(op_files("NoSuchBackward0", false).empty());
}

}  // namespace
}  // namespace tinytorch::diagnose
