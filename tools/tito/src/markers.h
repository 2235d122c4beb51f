// Solution markers: parsing `// BEGIN SOLUTION` ... `// END SOLUTION` regions, checking the
// rules, and generating the learner stubs. Shared by `tito release`, `tito module reset` and
// `tito module status` (which compares a learner's regions with the released stubs).
//
// The rules (docs/INSTRUCTOR_GUIDE.md, "Solution markers"):
//   * a marker is a line that is exactly `// BEGIN SOLUTION` or `// END SOLUTION` (indentation
//     and a trailing remark after a space allowed); a comment line whose text starts with one
//     of the two phrases in any other form is refused as malformed;
//   * regions never nest; every BEGIN has an END;
//   * a region is the WHOLE BODY of a function: the line before BEGIN ends with the function's
//     opening `{`, the line after END is its closing `}`, the braces inside are balanced, and the
//     text before the `{` ends with a parameter list `name(...)` [qualifiers].
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tito::markers {

struct Region {
  int begin_line = 0;               // 1-based line of `// BEGIN SOLUTION`
  int end_line = 0;                 // 1-based line of `// END SOLUTION`
  std::string function;             // e.g. "Tensor::view" (as written before the '(')
  std::string parameters;           // the parameter list, whitespace collapsed: "int64_t dim"
  std::vector<std::string> unused;  // statements marking each named parameter used
  std::string indent;               // indentation of the BEGIN marker
};

struct Diagnostic {
  int line = 0;  // 1-based
  std::string message;
};

struct Parsed {
  std::vector<std::string> lines;  // the text split at '\n' (no terminators)
  bool trailing_newline = false;   // whether the text ended with '\n'
  std::vector<Region> regions;     // valid regions, in order
  std::vector<Diagnostic> errors;  // rule violations; empty when the file is well-formed
  bool has_markers = false;        // any marker line (valid or not)
};

Parsed parse(std::string_view text);

enum class MarkerKind { kNone, kBegin, kEnd, kMalformed };
MarkerKind classify_line(std::string_view line);

// Splits a parameter list ("int a, std::map<int, int> m = {}") at its top-level commas.
std::vector<std::string> split_parameters(std::string_view list);
// The statement that marks one parameter declaration as used: "(void)a;", "((void)args, ...);"
// for a pack, std::nullopt for an unnamed parameter ("const Tensor&", "int", "void").
std::optional<std::string> unused_statement(std::string_view declaration);

// What a stub says: "not implemented yet — module NN (name): implement F in FILE; read CHAPTER".
struct StubContext {
  std::string module_id;  // "01"
  std::string module_name;
  std::string file;     // repository-relative path of the file
  std::string chapter;  // repository-relative path of the chapter
};

std::string stub_message(const Parsed& parsed, const Region& region, const StubContext& context);
// The lines that replace a region's content (between the kept marker lines).
std::vector<std::string> stub_lines(const Parsed& parsed, const Region& region,
                                    const StubContext& context);
// The whole file with every region's content replaced by its stub (markers kept), plus
// `#include "tinytorch/core/exception.h"` after the last #include when the file does not
// include it already. Requires parsed.errors to be empty.
std::string stubbed_text(const Parsed& parsed, const StubContext& context);
// Whether a region's content equals its stub (whitespace-insensitive, so clang-format and
// re-indentation do not count as "started").
bool region_is_stub(const Parsed& parsed, const Region& region, const StubContext& context);

// ---- Leak check --------------------------------------------------------------------------
// A line of code with `//` comments and all whitespace removed.
std::string normalize_code_line(std::string_view line);
// Lines this short after normalization ("}", "returnout;", "++i;") are not evidence of a leak.
inline constexpr size_t kSignificantLength = 16;
bool is_significant(std::string_view normalized);
// The text runs of a binary file (a shipped object file), like strings(1): maximal runs of
// printable ASCII, tabs and non-ASCII bytes (so UTF-8 text stays whole), at least `min_length`
// bytes long; every other byte (NUL, newline, control characters) ends a run. The leak check
// compares each run with the solution lines as it compares a text file's lines.
std::vector<std::string_view> printable_runs(std::string_view data, size_t min_length);

}  // namespace tito::markers
