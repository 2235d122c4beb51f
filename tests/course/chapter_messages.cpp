#include "chapter_messages.h"

#include <algorithm>
#include <cctype>
#include <optional>

namespace course {

namespace {

bool is_identifier_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
}

// The end of the quoted literal (string or character) that starts at `pos` (one past its closing
// quote, or the end of the text), and its unescaped content.
size_t skip_quoted(std::string_view code, size_t pos, std::string* value) {
  const char quote = code[pos];
  size_t i = pos + 1;
  while (i < code.size() && code[i] != quote && code[i] != '\n') {
    if (code[i] == '\\' && i + 1 < code.size()) {
      const char e = code[i + 1];
      if (value != nullptr) *value += e == 'n' ? '\n' : e == 't' ? '\t' : e;
      i += 2;
      continue;
    }
    if (value != nullptr) *value += code[i];
    ++i;
  }
  return i < code.size() ? i + 1 : i;
}

// The end of the comment that starts at `pos` ("//" or "/*"), or npos when none starts there.
size_t skip_comment(std::string_view code, size_t pos) {
  if (code.substr(pos, 2) == "//") {
    const auto eol = code.find('\n', pos);
    return eol == std::string_view::npos ? code.size() : eol;
  }
  if (code.substr(pos, 2) == "/*") {
    const auto close = code.find("*/", pos + 2);
    return close == std::string_view::npos ? code.size() : close + 2;
  }
  return std::string_view::npos;
}

// Calls on_code(i) for every position of `code` outside comments and literals (until it returns
// false), and returns the string literals, unescaped; a character literal ('x') is skipped, a
// digit separator (1'000) is code.
template <typename OnCode>
std::vector<std::string> scan(std::string_view code, OnCode&& on_code) {
  std::vector<std::string> literals;
  size_t i = 0;
  while (i < code.size()) {
    if (const auto end = skip_comment(code, i); end != std::string_view::npos) {
      i = end;
    } else if (code[i] == '"') {
      std::string literal;
      i = skip_quoted(code, i, &literal);
      literals.push_back(std::move(literal));
    } else if (code[i] == '\'' && (i == 0 || !is_identifier_char(code[i - 1]))) {
      i = skip_quoted(code, i, nullptr);
    } else {
      if (!on_code(i)) return literals;
      ++i;
    }
  }
  return literals;
}

// The needle an argument spells when it is made of string literals only ("a" "b" → "ab").
std::optional<std::string> literal_argument(std::string_view argument) {
  bool other_code = false;
  const auto literals = scan(argument, [&](size_t i) {
    if (std::isspace(static_cast<unsigned char>(argument[i])) == 0) other_code = true;
    return true;
  });
  if (other_code || literals.empty()) return std::nullopt;
  std::string value;
  for (const auto& literal : literals) value += literal;
  return value;
}

// The top-level arguments of the call whose '(' is at `open`; `close` receives the position of
// its ')' (npos when the text ends first).
std::vector<std::string_view> call_arguments(std::string_view code, size_t open, size_t* close) {
  std::vector<std::string_view> arguments;
  int depth = 0;
  size_t start = open + 1;
  *close = std::string_view::npos;
  scan(code.substr(open), [&](size_t offset) {
    const size_t i = open + offset;
    const char c = code[i];
    if (c == '(' || c == '[' || c == '{') {
      ++depth;
    } else if (c == ')' || c == ']' || c == '}') {
      if (--depth == 0) {
        arguments.push_back(code.substr(start, i - start));
        *close = i;
        return false;
      }
    } else if (c == ',' && depth == 1) {
      arguments.push_back(code.substr(start, i - start));
      start = i + 1;
    }
    return true;
  });
  return arguments;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())) != 0) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())) != 0) s.remove_suffix(1);
  return s;
}

}  // namespace

std::vector<std::string> string_literals(std::string_view code) {
  return scan(code, [](size_t) { return true; });
}

std::vector<MessageCheck> find_message_checks(std::string_view source) {
  static constexpr std::string_view kMacro = "TT_EXPECT_THROW_WITH";
  std::vector<size_t> opens;  // the '(' of each macro call, found outside comments and literals
  scan(source, [&](size_t i) {
    if (source.substr(i, kMacro.size()) != kMacro) return true;
    if (i > 0 && is_identifier_char(source[i - 1])) return true;
    size_t j = i + kMacro.size();
    while (j < source.size() && std::isspace(static_cast<unsigned char>(source[j])) != 0) ++j;
    if (j < source.size() && source[j] == '(') opens.push_back(j);
    return true;
  });
  std::vector<MessageCheck> checks;
  size_t after_previous = 0;
  for (const size_t open : opens) {
    if (open < after_previous) continue;  // a '(' inside the previous call (the #define itself)
    size_t close = 0;
    const auto arguments = call_arguments(source, open, &close);
    if (close == std::string_view::npos || arguments.size() < 2) continue;
    after_previous = close;
    MessageCheck check;
    const auto name = source.rfind(kMacro, open);
    check.line = 1 + static_cast<int>(std::count(source.begin(), source.begin() + name, '\n'));
    check.expression = std::string(trim(arguments[0]));
    for (size_t a = 2; a < arguments.size(); ++a) {
      if (auto needle = literal_argument(arguments[a])) check.needles.push_back(std::move(*needle));
    }
    checks.push_back(std::move(check));
  }
  return checks;
}

bool is_value(std::string_view needle) {
  bool digit = false;
  for (const char c : needle) {
    if (std::isdigit(static_cast<unsigned char>(c)) != 0) {
      digit = true;
    } else if (std::string_view("-+., []()").find(c) == std::string_view::npos) {
      return false;
    }
  }
  return digit;
}

std::string error_message_sections(std::string_view chapter) {
  std::string out;
  int section_level = 0;  // the heading level of the section being copied; 0: none
  bool in_code_block = false;
  size_t pos = 0;
  while (pos < chapter.size()) {
    auto eol = chapter.find('\n', pos);
    if (eol == std::string_view::npos) eol = chapter.size();
    const auto line = chapter.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.substr(0, 3) == "```") in_code_block = !in_code_block;
    const auto level = in_code_block ? 0 : line.find_first_not_of('#');
    const bool heading = level > 0 && level != std::string_view::npos && level <= 6 &&
                         line.size() > level && line[level] == ' ';
    if (heading) {
      if (section_level > 0 && static_cast<int>(level) <= section_level) section_level = 0;
      if (line.find("Error messages") != std::string_view::npos) {
        section_level = static_cast<int>(level);
      }
    }
    if (section_level > 0) {
      out += line;
      out += '\n';
    }
  }
  return out;
}

bool contains_token(std::string_view text, std::string_view needle) {
  if (needle.empty()) return true;
  for (auto pos = text.find(needle); pos != std::string_view::npos;
       pos = text.find(needle, pos + 1)) {
    const bool glued_before =
        is_identifier_char(needle.front()) && pos > 0 && is_identifier_char(text[pos - 1]);
    const auto after = pos + needle.size();
    const bool glued_after =
        is_identifier_char(needle.back()) && after < text.size() && is_identifier_char(text[after]);
    if (!glued_before && !glued_after) return true;
  }
  return false;
}

}  // namespace course
