// Unit tests for tito's solution-marker parser, stub generator and SHA-256
// (tools/tito/src/markers.{h,cpp}, sha256.{h,cpp}).
//
// The marker lines are assembled at run time (kBegin/kEnd) so that this file itself contains no
// marker line: `tito release` refuses markers in files that the module map does not list.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "markers.h"
#include "sha256.h"

namespace markers = tito::markers;

namespace {

const std::string kBegin = std::string("// BEGIN") + " SOLUTION";
const std::string kEnd = std::string("// END") + " SOLUTION";

std::string join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) out += line + "\n";
  return out;
}

const markers::StubContext kContext{"01", "tensor", "tinytorch/src/core/views.cpp",
                                    "modules/01_tensor/README.md"};

// A well-formed file with two regions: a free function and a const member function whose
// signature spans two lines.
std::string good_file() {
  return join({
      "#include \"tinytorch/core/tensor.h\"",
      "namespace tinytorch {",
      "int64_t compute_numel(IntArrayRef sizes) {",
      "  " + kBegin,
      "  int64_t n = 1;",
      "  for (int64_t s : sizes) {",
      "    n *= s;",
      "  }",
      "  return n;",
      "  " + kEnd,
      "}",
      "",
      "Tensor Tensor::slice(int64_t dim, std::optional<int64_t> start,",
      "                     std::optional<int64_t> end, int64_t step) const {",
      "  " + kBegin,
      "  return narrow(dim, start.value_or(0), end.value_or(1) - start.value_or(0));",
      "  " + kEnd,
      "}",
      "}  // namespace tinytorch",
  });
}

std::vector<int> error_lines(const markers::Parsed& parsed) {
  std::vector<int> lines;
  for (const auto& e : parsed.errors) lines.push_back(e.line);
  return lines;
}

}  // namespace

TEST(Markers, ClassifiesMarkerLines) {
  EXPECT_EQ(markers::classify_line(kBegin), markers::MarkerKind::kBegin);
  EXPECT_EQ(markers::classify_line("    " + kEnd), markers::MarkerKind::kEnd);
  EXPECT_EQ(markers::classify_line(kBegin + " (part 2)"), markers::MarkerKind::kBegin);
  EXPECT_EQ(markers::classify_line("int x = 0;"), markers::MarkerKind::kNone);
  EXPECT_EQ(markers::classify_line("// a comment about solutions"), markers::MarkerKind::kNone);
  EXPECT_EQ(markers::classify_line(std::string("//BEGIN") + " SOLUTION"),
            markers::MarkerKind::kMalformed);
  EXPECT_EQ(markers::classify_line(std::string("// begin") + " solution"),
            markers::MarkerKind::kMalformed);
  EXPECT_EQ(markers::classify_line(std::string("// END") + " SOLUTIONS"),
            markers::MarkerKind::kMalformed);
}

TEST(Markers, ParsesWholeFunctionBodies) {
  const auto parsed = markers::parse(good_file());
  ASSERT_TRUE(parsed.errors.empty()) << parsed.errors.front().message;
  ASSERT_EQ(parsed.regions.size(), 2U);
  EXPECT_EQ(parsed.regions[0].function, "compute_numel");
  EXPECT_EQ(parsed.regions[0].begin_line, 4);
  EXPECT_EQ(parsed.regions[0].end_line, 10);
  EXPECT_EQ(parsed.regions[0].indent, "  ");
  EXPECT_EQ(parsed.regions[0].unused, std::vector<std::string>{"(void)sizes;"});
  EXPECT_EQ(parsed.regions[1].function, "Tensor::slice");
  EXPECT_EQ(parsed.regions[1].unused,
            (std::vector<std::string>{"(void)dim;", "(void)start;", "(void)end;", "(void)step;"}));
}

TEST(Markers, ParameterNames) {
  EXPECT_EQ(markers::unused_statement("IntArrayRef sizes"), "(void)sizes;");
  EXPECT_EQ(markers::unused_statement("const T* row"), "(void)row;");
  EXPECT_EQ(markers::unused_statement("const InnerLoop& loop"), "(void)loop;");
  EXPECT_EQ(markers::unused_statement("std::string_view op = \"\""), "(void)op;");
  EXPECT_EQ(markers::unused_statement("std::map<int, int> m = {}"), "(void)m;");
  EXPECT_EQ(markers::unused_statement("[[maybe_unused]] int x"), "(void)x;");
  EXPECT_EQ(markers::unused_statement("Args&&... args"), "((void)args, ...);");
  EXPECT_EQ(markers::unused_statement("unsigned n"), "(void)n;");
  // Unnamed parameters get nothing.
  EXPECT_EQ(markers::unused_statement("const Tensor&"), std::nullopt);
  EXPECT_EQ(markers::unused_statement("int"), std::nullopt);
  EXPECT_EQ(markers::unused_statement("unsigned long"), std::nullopt);
  EXPECT_EQ(markers::unused_statement("const Tensor"), std::nullopt);
  EXPECT_EQ(markers::unused_statement("std::string_view"), std::nullopt);
  EXPECT_EQ(markers::unused_statement("std::vector<int64_t>"), std::nullopt);
  EXPECT_EQ(markers::unused_statement("void"), std::nullopt);
  EXPECT_EQ(markers::split_parameters("int a, std::map<int, int> m, void (*f)(int, int)"),
            (std::vector<std::string>{"int a", "std::map<int, int> m", "void (*f)(int, int)"}));
  EXPECT_TRUE(markers::split_parameters("").empty());
}

TEST(Markers, RefusesBeginWithoutEnd) {
  const auto parsed = markers::parse(join({"int f(int a) {", kBegin, "  return a;", "}"}));
  EXPECT_EQ(error_lines(parsed), std::vector<int>{2});
  EXPECT_NE(parsed.errors.at(0).message.find("without a matching END"), std::string::npos);
  EXPECT_TRUE(parsed.regions.empty());
}

TEST(Markers, RefusesEndWithoutBegin) {
  const auto parsed = markers::parse(join({"int f(int a) {", "  return a;", kEnd, "}"}));
  EXPECT_EQ(error_lines(parsed), std::vector<int>{3});
  EXPECT_NE(parsed.errors.at(0).message.find("without a matching BEGIN"), std::string::npos);
}

TEST(Markers, RefusesNestedRegions) {
  const auto parsed = markers::parse(join(
      {"int f(int a) {", kBegin, "  if (a) {", kBegin, "  }", kEnd, "  return a;", kEnd, "}"}));
  ASSERT_FALSE(parsed.errors.empty());
  EXPECT_EQ(parsed.errors.at(0).line, 4);
  EXPECT_NE(parsed.errors.at(0).message.find("nest"), std::string::npos);
  EXPECT_TRUE(parsed.regions.empty());
}

TEST(Markers, RefusesRegionsThatAreNotWholeBodies) {
  // Part of a body: statements before BEGIN.
  auto parsed =
      markers::parse(join({"int f(int a) {", "  a += 1;", kBegin, "  return a;", kEnd, "}"}));
  EXPECT_EQ(error_lines(parsed), std::vector<int>{3});
  // Statements after END.
  parsed = markers::parse(join({"int f(int a) {", kBegin, "  a += 1;", kEnd, "  return a;", "}"}));
  EXPECT_EQ(error_lines(parsed), std::vector<int>{4});
  // The body of an if, not of a function.
  parsed = markers::parse(join(
      {"int f(int a) {", "  if (a > 0) {", kBegin, "  a = 0;", kEnd, "  }", "  return a;", "}"}));
  EXPECT_EQ(error_lines(parsed), std::vector<int>{3});
  // Unbalanced braces between the markers.
  parsed = markers::parse(join({"int f(int a) {", kBegin, "  if (a) {", kEnd, "}", "}"}));
  EXPECT_EQ(error_lines(parsed), std::vector<int>{2});
  // Braces inside strings and comments do not count.
  parsed = markers::parse(join({"int f(int a) {", kBegin, "  // {", "  const char* s = \"}\";",
                                "  return a + (s[0] == '{');", kEnd, "}"}));
  EXPECT_TRUE(parsed.errors.empty());
  // Found by the markers fuzzer: a "signature" whose '(' lies inside the previous region's body
  // parsed, and the stubbed file (that body replaced) was then refused. Refused here too.
  parsed = markers::parse(join(
      {"void f(int a) {", kBegin, "  g(a,", kEnd, "}", "b) {", kBegin, "  return;", kEnd, "}"}));
  EXPECT_EQ(error_lines(parsed), std::vector<int>{7});
  // Found by the markers fuzzer: an '#include' line ending in '{' taken for a function's header;
  // the release's added #include then landed between it and BEGIN SOLUTION.
  parsed =
      markers::parse(join({"#include \"a.h\" int f(int a) {", kBegin, "  return a;", kEnd, "}"}));
  EXPECT_EQ(error_lines(parsed), std::vector<int>{2});
  // Also found by it: a directive anywhere in the header, from the function's name to the '{'.
  for (const auto& header : std::vector<std::vector<std::string>>{
           {"#include(", "o){"}, {"int f(", "#include", "int a) {"}}) {
    std::vector<std::string> lines = header;
    lines.insert(lines.end(), {kBegin, kEnd, "}"});
    parsed = markers::parse(join(lines));
    ASSERT_EQ(parsed.errors.size(), 1U) << join(lines);
    EXPECT_NE(parsed.errors[0].message.find("of the function's header is a preprocessor directive"),
              std::string::npos);
  }
}

TEST(Markers, StubsKeepTheMarkersAndCompileShape) {
  const auto text = good_file();
  const auto parsed = markers::parse(text);
  const auto stubbed = markers::stubbed_text(parsed, kContext);
  EXPECT_EQ(stubbed.find("n *= s;"), std::string::npos);
  EXPECT_EQ(stubbed.find("narrow(dim"), std::string::npos);
  EXPECT_NE(stubbed.find("  (void)sizes;\n  throw ::tinytorch::NotImplementedError(\n"),
            std::string::npos);
  EXPECT_NE(stubbed.find("\"not implemented yet — module 01 (tensor): implement compute_numel in "
                         "tinytorch/src/core/views.cpp; read modules/01_tensor/README.md\");"),
            std::string::npos);
  // Markers and the code outside the regions are kept, line for line.
  const auto again = markers::parse(stubbed);
  ASSERT_TRUE(again.errors.empty());
  ASSERT_EQ(again.regions.size(), 2U);
  EXPECT_EQ(again.lines.front(), parsed.lines.front());
  EXPECT_EQ(again.lines.back(), parsed.lines.back());
  EXPECT_EQ(markers::stubbed_text(again, kContext), stubbed);  // idempotent
  // The stubs need NotImplementedError: the header is included once, after the last #include.
  EXPECT_EQ(again.lines.at(1).rfind("#include \"tinytorch/core/exception.h\"", 0), 0U);
  EXPECT_EQ(stubbed.find("core/exception.h"), stubbed.rfind("core/exception.h"));
  // The learner state: stubs are "not started", the reference is not.
  for (const auto& r : again.regions) EXPECT_TRUE(markers::region_is_stub(again, r, kContext));
  for (const auto& r : parsed.regions) EXPECT_FALSE(markers::region_is_stub(parsed, r, kContext));
}

TEST(Markers, TheAddedIncludeGoesAfterThePrologueIncludes) {
  const std::string kAdded = "#include \"tinytorch/core/exception.h\"";
  // The lines of the stubbed file that include the header (1-based).
  auto added_at = [&](const std::vector<std::string>& lines) {
    const auto parsed = markers::parse(join(lines));
    EXPECT_TRUE(parsed.errors.empty());
    const auto again = markers::parse(markers::stubbed_text(parsed, kContext));
    EXPECT_EQ(again.regions.size(), parsed.regions.size());
    for (const auto& r : again.regions) EXPECT_TRUE(markers::region_is_stub(again, r, kContext));
    std::vector<int> at;
    for (size_t i = 0; i < again.lines.size(); ++i)
      if (again.lines[i].rfind(kAdded, 0) == 0) at.push_back(static_cast<int>(i) + 1);
    return at;
  };
  // Found by the markers fuzzer: the header went after the file's last #include line, wherever
  // it stood (the fuzzer's was in a parameter list, now an error of its own, see above); here one
  // inside another function's body, where a namespace cannot be declared.
  EXPECT_EQ(added_at({"void g() {", "#include \"body.inc\"", "}", "int f(int a) {", kBegin,
                      "  return a;", kEnd, "}"}),
            std::vector<int>{1});
  // After the last #include that no #if encloses, before the first line of code.
  EXPECT_EQ(added_at({"/* A licence,", "   two lines. */", "#include <a.h>", "#ifdef X",
                      "#include <b.h>", "#endif", "// f", "int f(int a) {", kBegin, "  return a;",
                      kEnd, "}", "#include <late.h>"}),
            std::vector<int>{4});
  // A file that includes it already gets no second one.
  EXPECT_EQ(added_at({"#include \"tinytorch/core/exception.h\"", "int f(int a) {", kBegin,
                      "  return a;", kEnd, "}"}),
            std::vector<int>{1});
}

TEST(Markers, StubComparisonIgnoresWhitespace) {
  const auto stubbed = markers::stubbed_text(markers::parse(good_file()), kContext);
  std::string reformatted;
  for (const char c : stubbed) {
    reformatted += c;
    if (c == '(') reformatted += "\n      ";  // as a formatter might reflow it
  }
  const auto parsed = markers::parse(reformatted);
  ASSERT_EQ(parsed.regions.size(), 2U);
  EXPECT_TRUE(markers::region_is_stub(parsed, parsed.regions[0], kContext));
}

TEST(Markers, OverloadsAreNamedWithTheirParameters) {
  const auto parsed = markers::parse(
      join({"Tensor Tensor::squeeze() const {", kBegin, "  return *this;", kEnd, "}",
            "Tensor Tensor::squeeze(int64_t dim) const {", kBegin, "  return *this;", kEnd, "}"}));
  ASSERT_EQ(parsed.regions.size(), 2U);
  EXPECT_NE(markers::stub_message(parsed, parsed.regions[1], kContext)
                .find("implement Tensor::squeeze(int64_t dim) in"),
            std::string::npos);
  EXPECT_NE(markers::stub_message(parsed, parsed.regions[0], kContext)
                .find("implement Tensor::squeeze() in"),
            std::string::npos);
}

TEST(Markers, KeepsAFileWithoutTrailingNewline) {
  const std::string text = "int f(int a) {\n" + kBegin + "\n  return a;\n" + kEnd + "\n}";
  const auto stubbed = markers::stubbed_text(markers::parse(text), kContext);
  EXPECT_EQ(stubbed.back(), '}');
}

TEST(Markers, PrintableRunsOfABinaryFile) {
  using namespace std::string_literals;
  // An object file's string table: text between NULs and other control bytes.
  const auto data =
      "\x7f"
      "ELF\x02\x01"s +
      "  n *= sizes[i];  // x"s + '\0' + "ab"s + '\0' + "for (int64_t s : sizes) {\n"s +
      "\x01\x02" + "caf\xc3\xa9 au lait, s'il vous"s;
  const auto runs = markers::printable_runs(data, 16);
  ASSERT_EQ(runs.size(), 3U);
  EXPECT_EQ(runs[0], "  n *= sizes[i];  // x");
  EXPECT_EQ(runs[1], "for (int64_t s : sizes) {");
  EXPECT_EQ(runs[2], "caf\xc3\xa9 au lait, s'il vous");
  EXPECT_EQ(markers::normalize_code_line(runs[1]), "for(int64_ts:sizes){");
  EXPECT_TRUE(markers::printable_runs("short\0text", 16).empty());
}

TEST(Markers, LeakCheckNormalization) {
  EXPECT_EQ(markers::normalize_code_line("  n *= s;   // multiply"), "n*=s;");
  EXPECT_EQ(markers::normalize_code_line("  const char* s = \"//\";"), "constchar*s=\"//\";");
  EXPECT_FALSE(markers::is_significant(markers::normalize_code_line("  return out;")));
  EXPECT_FALSE(markers::is_significant(markers::normalize_code_line("}")));
  EXPECT_TRUE(markers::is_significant(markers::normalize_code_line("  for (int64_t s : sizes) {")));
}

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(tito::sha256_hex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(tito::sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(tito::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  tito::Sha256 million;
  for (int i = 0; i < 1000; ++i) million.update(std::string(1000, 'a'));
  EXPECT_EQ(million.hex_digest(),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}
