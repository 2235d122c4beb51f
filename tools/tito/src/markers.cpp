#include "markers.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <map>

namespace tito::markers {

namespace {

constexpr std::string_view kBegin = "BEGIN SOLUTION";
constexpr std::string_view kEnd = "END SOLUTION";
constexpr std::string_view kExceptionHeader = "tinytorch/core/exception.h";

bool is_space(char c) {
  return std::isspace(static_cast<unsigned char>(c)) != 0;
}
bool is_ident(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::string collapse_spaces(std::string_view s) {
  std::string out;
  bool space = false;
  for (const char c : trim(s)) {
    if (is_space(c)) {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// Removes a `// ...` comment (outside string and character literals) from one line.
std::string strip_line_comment(std::string_view line) {
  char quote = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quote != 0) {
      if (c == '\\') {
        ++i;
      } else if (c == quote) {
        quote = 0;
      }
    } else if (c == '"' || c == '\'') {
      // A digit separator (1'000) is not a character literal.
      if (c == '\'' && i > 0 && std::isalnum(static_cast<unsigned char>(line[i - 1])) != 0)
        continue;
      quote = c;
    } else if (c == '/' && i + 1 < line.size() && line[i + 1] == '/') {
      return std::string(line.substr(0, i));
    }
  }
  return std::string(line);
}

// Net count of '{' minus '}' in code (comments, string and character literals skipped).
// `in_block_comment` carries a /* ... */ comment across lines.
int brace_balance(std::string_view line, bool& in_block_comment) {
  int balance = 0;
  char quote = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    const char next = i + 1 < line.size() ? line[i + 1] : '\0';
    if (in_block_comment) {
      if (c == '*' && next == '/') {
        in_block_comment = false;
        ++i;
      }
    } else if (quote != 0) {
      if (c == '\\') {
        ++i;
      } else if (c == quote) {
        quote = 0;
      }
    } else if (c == '/' && next == '/') {
      break;
    } else if (c == '/' && next == '*') {
      in_block_comment = true;
      ++i;
    } else if (c == '"' || c == '\'') {
      if (c == '\'' && i > 0 && std::isalnum(static_cast<unsigned char>(line[i - 1])) != 0)
        continue;
      quote = c;
    } else if (c == '{') {
      ++balance;
    } else if (c == '}') {
      --balance;
    }
  }
  return balance;
}

bool is_keyword_not_function(std::string_view name) {
  static constexpr std::array<std::string_view, 10> kKeywords = {
      "if", "for", "while", "switch", "catch", "return", "sizeof", "decltype", "alignof", "do"};
  return std::find(kKeywords.begin(), kKeywords.end(), name) != kKeywords.end();
}

// Words that can stand alone in a parameter's type: "unsigned long", "const Tensor&" is unnamed.
bool is_type_keyword(std::string_view word) {
  static constexpr std::array<std::string_view, 18> kWords = {
      "const", "volatile", "struct", "class", "typename", "enum", "unsigned", "signed", "long",
      "short", "int",      "char",   "float", "double",   "bool", "void",     "auto",   "wchar_t"};
  return std::find(kWords.begin(), kWords.end(), word) != kWords.end();
}

bool is_qualifier(std::string_view word) {
  return word == "const" || word == "volatile" || word == "struct" || word == "class" ||
         word == "typename" || word == "enum";
}

struct Signature {
  std::string name;
  std::string parameters;  // raw text between the parentheses
  size_t name_offset = 0;  // where the name starts in the text searched
};

// Finds the function whose body opens at the last '{' of `text` (the joined lines before the
// BEGIN marker, comments removed).
std::optional<Signature> find_signature(const std::string& text) {
  const auto brace = text.rfind('{');
  if (brace == std::string::npos) return std::nullopt;
  const auto close = text.rfind(')', brace);
  if (close == std::string::npos) return std::nullopt;
  // Between ')' and '{' only qualifiers may appear: const, noexcept, override, final, &, &&,
  // or a trailing return type "-> T".
  for (size_t i = close + 1; i < brace; ++i) {
    const char c = text[i];
    if (!(is_space(c) || is_ident(c) ||
          std::string_view("&:<>*,->").find(c) != std::string_view::npos)) {
      return std::nullopt;
    }
  }
  int depth = 0;
  size_t open = std::string::npos;
  for (size_t i = close + 1; i-- > 0;) {
    if (text[i] == ')') ++depth;
    if (text[i] == '(' && --depth == 0) {
      open = i;
      break;
    }
  }
  if (open == std::string::npos) return std::nullopt;
  size_t end = open;
  while (end > 0 && is_space(text[end - 1])) --end;
  size_t start = end;
  while (start > 0 &&
         (is_ident(text[start - 1]) || text[start - 1] == ':' || text[start - 1] == '~')) {
    --start;
  }
  Signature sig;
  sig.name = text.substr(start, end - start);
  // operator+, operator== ...: the name is "operator" plus the symbol before the '('.
  if (sig.name.empty() || sig.name.size() < 8 ||
      sig.name.compare(sig.name.size() - 8, 8, "operator") != 0) {
    const auto op = text.rfind("operator", end);
    if (op != std::string::npos && end - op <= 12) {
      size_t op_start = op;
      while (op_start > 0 && (is_ident(text[op_start - 1]) || text[op_start - 1] == ':')) {
        --op_start;
      }
      sig.name = collapse_spaces(text.substr(op_start, end - op_start));
    }
  }
  if (sig.name.empty() || sig.name.back() == ':' || is_keyword_not_function(sig.name)) {
    return std::nullopt;
  }
  sig.parameters = text.substr(open + 1, close - open - 1);
  sig.name_offset = start;
  return sig;
}

std::string escape_literal(std::string_view s) {
  std::string out;
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

MarkerKind classify_line(std::string_view line) {
  const auto t = trim(line);
  if (t.size() < 2 || t.substr(0, 2) != "//") return MarkerKind::kNone;
  auto rest = t.substr(2);
  const bool had_space = !rest.empty() && rest.front() == ' ';
  rest = trim(rest);
  const auto word = upper(rest.substr(0, std::min(rest.size(), kBegin.size())));
  const bool begin_like = word.rfind(kBegin, 0) == 0;
  const bool end_like = word.rfind(kEnd, 0) == 0;
  if (!begin_like && !end_like) return MarkerKind::kNone;
  const auto keyword = begin_like ? kBegin : kEnd;
  const bool exact_word = rest.substr(0, keyword.size()) == keyword;
  const bool clean_tail = rest.size() == keyword.size() || rest[keyword.size()] == ' ';
  if (!had_space || !exact_word || !clean_tail) return MarkerKind::kMalformed;
  return begin_like ? MarkerKind::kBegin : MarkerKind::kEnd;
}

Parsed parse(std::string_view text) {
  Parsed p;
  size_t pos = 0;
  while (pos <= text.size()) {
    const auto nl = text.find('\n', pos);
    if (nl == std::string_view::npos) {
      if (pos < text.size()) p.lines.emplace_back(text.substr(pos));
      break;
    }
    p.lines.emplace_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  p.trailing_newline = !text.empty() && text.back() == '\n';
  for (auto& line : p.lines) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
  }

  const int n = static_cast<int>(p.lines.size());
  auto line_at = [&](int one_based) -> const std::string& {
    return p.lines[static_cast<size_t>(one_based - 1)];
  };
  auto error = [&](int line, std::string message) {
    p.errors.push_back({line, std::move(message)});
  };

  auto check_region = [&](int b, int e) {
    Region r;
    r.begin_line = b;
    r.end_line = e;
    const auto& begin_text = line_at(b);
    r.indent = begin_text.substr(0, begin_text.find_first_not_of(" \t"));
    const std::string whole =
        "a solution region must be the whole body of a function (BEGIN SOLUTION right after the "
        "function's opening '{', END SOLUTION right before its closing '}')";
    int prev = b - 1;
    while (prev >= 1 && trim(line_at(prev)).empty()) --prev;
    if (prev < 1 || trim(strip_line_comment(line_at(prev))).empty() ||
        trim(strip_line_comment(line_at(prev))).back() != '{') {
      error(b, whole + ": the line before BEGIN SOLUTION does not end with '{'");
      return;
    }
    int next = e + 1;
    while (next <= n && trim(line_at(next)).empty()) ++next;
    if (next > n || trim(strip_line_comment(line_at(next))) != "}") {
      error(e, whole + ": the line after END SOLUTION is not a lone '}'");
      return;
    }
    bool in_comment = false;
    int balance = 0;
    for (int i = b + 1; i < e; ++i) {
      balance += brace_balance(line_at(i), in_comment);
      if (balance < 0) break;
    }
    if (balance != 0 || in_comment) {
      error(b, whole + ": the braces between the markers are not balanced (lines " +
                   std::to_string(b) + "-" + std::to_string(e) + ")");
      return;
    }
    // The signature: up to 40 lines before the '{', comments removed — but never a line of the
    // previous region: the release replaces that body with a stub, so a "signature" pieced
    // together from it would parse here and be refused in the stubbed file.
    int first = std::max(1, prev - 40);
    if (!p.regions.empty()) first = std::max(first, p.regions.back().end_line + 1);
    std::string before;
    for (int i = first; i <= prev; ++i) {
      before += strip_line_comment(line_at(i));
      before += '\n';
    }
    const auto sig = find_signature(before);
    if (!sig) {
      error(b, whole + ": no function parameter list '(...)' precedes the '{' on line " +
                   std::to_string(prev));
      return;
    }
    // No line of the function's header, from its name to the '{', may be a preprocessor
    // directive: the compiler would not see the header the markers parsed. (The markers fuzzer
    // found both: an '#include "a.h" int f(int a) {' line taken for a function's header, and
    // "#include(" for a function named include, whose stubbed copy the release's added
    // #include then split.)
    const int name_line =
        first + static_cast<int>(std::count(
                    before.begin(), before.begin() + static_cast<long>(sig->name_offset), '\n'));
    for (int i = name_line; i <= prev; ++i) {
      const auto t = trim(line_at(i));
      if (!t.empty() && t.front() == '#') {
        error(b, whole + ": line " + std::to_string(i) +
                     " of the function's header is a preprocessor directive");
        return;
      }
    }
    r.function = sig->name;
    r.parameters = collapse_spaces(sig->parameters);
    for (const auto& decl : split_parameters(sig->parameters)) {
      if (auto stmt = unused_statement(decl)) r.unused.push_back(*stmt);
    }
    p.regions.push_back(std::move(r));
  };

  int open = 0;         // line of the open BEGIN, 0 when none
  bool open_ok = true;  // false once the open region is known to be broken (nested)
  for (int i = 1; i <= n; ++i) {
    switch (classify_line(line_at(i))) {
      case MarkerKind::kNone:
        break;
      case MarkerKind::kMalformed:
        p.has_markers = true;
        error(i, "malformed solution marker '" + std::string(trim(line_at(i))) +
                     "' (write exactly '// BEGIN SOLUTION' or '// END SOLUTION')");
        break;
      case MarkerKind::kBegin:
        p.has_markers = true;
        if (open != 0) {
          error(i, "nested BEGIN SOLUTION: the region opened at line " + std::to_string(open) +
                       " is not closed yet (regions never nest)");
          open_ok = false;
        } else {
          open = i;
          open_ok = true;
        }
        break;
      case MarkerKind::kEnd:
        p.has_markers = true;
        if (open == 0) {
          error(i, "END SOLUTION without a matching BEGIN SOLUTION");
        } else {
          if (open_ok) check_region(open, i);
          open = 0;
        }
        break;
    }
  }
  if (open != 0) error(open, "BEGIN SOLUTION without a matching END SOLUTION");
  std::sort(p.errors.begin(), p.errors.end(),
            [](const auto& a, const auto& b) { return a.line < b.line; });
  return p;
}

std::vector<std::string> split_parameters(std::string_view list) {
  std::vector<std::string> out;
  int depth = 0;
  std::string current;
  for (const char c : list) {
    if (c == '(' || c == '[' || c == '{' || c == '<') ++depth;
    if (c == ')' || c == ']' || c == '}' || c == '>') --depth;
    if (c == ',' && depth == 0) {
      out.push_back(collapse_spaces(current));
      current.clear();
      continue;
    }
    current += c;
  }
  const auto last = collapse_spaces(current);
  if (!last.empty() || !out.empty()) out.push_back(last);
  return out;
}

std::optional<std::string> unused_statement(std::string_view declaration) {
  std::string decl(declaration);
  // Drop a default argument: the first top-level '='.
  int depth = 0;
  for (size_t i = 0; i < decl.size(); ++i) {
    const char c = decl[i];
    if (c == '(' || c == '[' || c == '{' || c == '<') ++depth;
    if (c == ')' || c == ']' || c == '}' || c == '>') --depth;
    if (c == '=' && depth == 0) {
      decl.resize(i);
      break;
    }
  }
  // Drop attributes such as [[maybe_unused]].
  for (auto at = decl.find("[["); at != std::string::npos; at = decl.find("[[")) {
    const auto close = decl.find("]]", at);
    if (close == std::string::npos) break;
    decl.erase(at, close + 2 - at);
  }
  decl = collapse_spaces(decl);
  if (decl.empty() || decl == "void" || decl == "...") return std::nullopt;
  // The name is the trailing identifier...
  size_t end = decl.size();
  size_t start = end;
  while (start > 0 && is_ident(decl[start - 1])) --start;
  if (start == end || std::isdigit(static_cast<unsigned char>(decl[start])) != 0) {
    return std::nullopt;  // ends with &, *, >, ], ... : unnamed
  }
  const std::string name = decl.substr(start);
  if (is_type_keyword(name)) return std::nullopt;
  // ...preceded by a type: something other than "::" and other than qualifiers alone.
  std::string type = decl.substr(0, start);
  const bool pack = type.find("...") != std::string::npos;
  while (!type.empty() && is_space(type.back())) type.pop_back();
  if (type.empty() || (type.size() >= 2 && type.substr(type.size() - 2) == "::")) {
    return std::nullopt;
  }
  bool only_qualifiers = true;
  for (size_t i = 0; i < type.size();) {
    if (is_ident(type[i])) {
      size_t j = i;
      while (j < type.size() && is_ident(type[j])) ++j;
      if (!is_qualifier(std::string_view(type).substr(i, j - i))) only_qualifiers = false;
      i = j;
    } else {
      if (!is_space(type[i])) only_qualifiers = false;
      ++i;
    }
  }
  if (only_qualifiers) return std::nullopt;
  return pack ? "((void)" + name + ", ...);" : "(void)" + name + ";";
}

std::string stub_message(const Parsed& parsed, const Region& region, const StubContext& context) {
  std::string what = region.function;
  const auto overloads =
      std::count_if(parsed.regions.begin(), parsed.regions.end(),
                    [&](const Region& r) { return r.function == region.function; });
  if (overloads > 1) what += "(" + region.parameters + ")";
  return "not implemented yet — module " + context.module_id + " (" + context.module_name +
         "): implement " + what + " in " + context.file + "; read " + context.chapter;
}

std::vector<std::string> stub_lines(const Parsed& parsed, const Region& region,
                                    const StubContext& context) {
  std::vector<std::string> out;
  for (const auto& stmt : region.unused) out.push_back(region.indent + stmt);
  const auto message = escape_literal(stub_message(parsed, region, context));
  out.push_back(region.indent + "throw ::tinytorch::NotImplementedError(");
  out.push_back(region.indent + "    \"" + message + "\");");
  return out;
}

namespace {

// The directive of a preprocessor line ("include", "ifdef", ...), or "" for any other line.
std::string_view directive(std::string_view line) {
  line = trim(line);
  if (line.empty() || line.front() != '#') return {};
  line = trim(line.substr(1));
  size_t end = 0;
  while (end < line.size() && is_ident(line[end])) ++end;
  return line.substr(0, end);
}

// Where the release adds its #include: after the last #include of the file's prologue (the lines
// before its first line of code: blank lines, comments, preprocessor directives) that no #if
// encloses; 0 (the top) when there is none. Never further down: an #include there could sit
// inside a declaration (the markers fuzzer wrote one into a function's parameter list, and the
// added line became one of its parameters) or inside an #if the compiler skips.
int prologue_include_line(const std::vector<std::string>& lines) {
  int after = 0, depth = 0;
  bool in_comment = false;
  for (int i = 1; i <= static_cast<int>(lines.size()); ++i) {
    std::string_view t = trim(lines[static_cast<size_t>(i - 1)]);
    if (in_comment || t.starts_with("/*")) {  // a block comment, with nothing after its end
      const size_t close = t.find("*/", in_comment ? 0 : 2);
      in_comment = close == std::string_view::npos;
      if (!in_comment && !trim(t.substr(close + 2)).empty()) break;
      continue;
    }
    if (t.empty() || t.starts_with("//")) continue;
    if (t.front() != '#') break;  // code: the prologue ends
    const std::string_view d = directive(t);
    if (d == "if" || d == "ifdef" || d == "ifndef") ++depth;
    if (d == "endif") --depth;
    if (d == "include" && depth == 0) after = i;
  }
  return after;
}

}  // namespace

std::string stubbed_text(const Parsed& parsed, const StubContext& context) {
  std::string out;
  size_t next_region = 0;
  const int n = static_cast<int>(parsed.lines.size());
  // The stubs throw tinytorch::NotImplementedError: make sure the file includes its header.
  int include_after = -1;  // -1: not needed; 0: before the first line
  if (!parsed.regions.empty()) {
    const bool has_exception_h =
        std::any_of(parsed.lines.begin(), parsed.lines.end(), [](const std::string& line) {
          return directive(line) == "include" && line.find(kExceptionHeader) != std::string::npos;
        });
    if (!has_exception_h) include_after = prologue_include_line(parsed.lines);
  }
  const std::string include_line = std::string("#include \"") + std::string(kExceptionHeader) +
                                   "\"  // the stubs throw NotImplementedError";
  if (include_after == 0) out += include_line + "\n";
  for (int i = 1; i <= n; ++i) {
    const auto& line = parsed.lines[static_cast<size_t>(i - 1)];
    out += line;
    out += '\n';
    if (i == include_after) out += include_line + "\n";
    if (next_region < parsed.regions.size() && parsed.regions[next_region].begin_line == i) {
      const auto& region = parsed.regions[next_region++];
      for (const auto& stub : stub_lines(parsed, region, context)) {
        out += stub;
        out += '\n';
      }
      i = region.end_line - 1;  // continue with the END marker line
    }
  }
  if (!parsed.trailing_newline && !out.empty()) out.pop_back();
  return out;
}

bool region_is_stub(const Parsed& parsed, const Region& region, const StubContext& context) {
  auto squeeze = [](std::string_view s) {
    std::string out;
    for (const char c : s) {
      if (!is_space(c)) out += c;
    }
    return out;
  };
  std::string have;
  for (int i = region.begin_line + 1; i < region.end_line; ++i) {
    have += squeeze(parsed.lines[static_cast<size_t>(i - 1)]);
  }
  std::string want;
  for (const auto& line : stub_lines(parsed, region, context)) want += squeeze(line);
  return have == want;
}

std::string normalize_code_line(std::string_view line) {
  std::string out;
  for (const char c : strip_line_comment(line)) {
    if (!is_space(c)) out += c;
  }
  return out;
}

bool is_significant(std::string_view normalized) {
  return normalized.size() >= kSignificantLength;
}

std::vector<std::string_view> printable_runs(std::string_view data, size_t min_length) {
  std::vector<std::string_view> runs;
  size_t start = 0;
  for (size_t i = 0; i <= data.size(); ++i) {
    const auto byte = i < data.size() ? static_cast<unsigned char>(data[i]) : 0;
    if (i < data.size() && (byte == '\t' || byte >= 0x20) && byte != 0x7F) continue;
    if (i - start >= min_length && i > start) runs.push_back(data.substr(start, i - start));
    start = i + 1;
  }
  return runs;
}

}  // namespace tito::markers
