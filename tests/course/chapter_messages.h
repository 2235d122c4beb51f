// The chapter-messages check: every substring that a module's visible tests require of an error
// message the LEARNER writes must be stated in that module's chapter, in a section whose heading
// says "Error messages" — so that no test asks for wording the chapter never asked for.
//
// How the check decides what is required (check_chapter_messages.cpp runs it on the repository):
//   1. the visible tests' TT_EXPECT_THROW_WITH(expr, Type, "needle", ...) calls give the needles
//      (tests/support/reference.h: the message must contain every one of them);
//   2. a call is about a learner's message when each of its word needles (those that are not a
//      bare number or shape like "-1", "[2, 3]") occurs, as a token, in a string literal inside a
//      solution region of the module's files — the text the learner writes; calls answered by
//      code the learner is given, and calls with only number/shape needles, are not checked;
//   3. every needle of such a call, numbers and shapes included, must occur in the chapter's
//      "Error messages" section(s) as a whole token ("int64" does not count inside "int64_t").
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace course {

// One TT_EXPECT_THROW_WITH call.
struct MessageCheck {
  int line = 0;                      // 1-based line of the macro name
  std::string expression;            // the first argument, as written
  std::vector<std::string> needles;  // the string-literal arguments after the type, unescaped
};

// The TT_EXPECT_THROW_WITH calls of a C++ source text (comments and literals are skipped while
// searching). A needle argument that is not made of string literals is left out.
std::vector<MessageCheck> find_message_checks(std::string_view source);

// The string literals of C++ code, unescaped (\" \\ \n \t), adjacent literals kept separate;
// literals inside comments are not code and are left out.
std::vector<std::string> string_literals(std::string_view code);

// True for a needle that is only a number, a shape or a range: "-1", "0.5", "[2, -1]", "(3)".
bool is_value(std::string_view needle);

// The text of every section whose heading contains "Error messages" (up to the next heading of
// the same or a higher level); empty when the chapter has none.
std::string error_message_sections(std::string_view chapter);

// Whether `needle` occurs in `text` without an identifier character glued to either end of it
// (where the needle's own end is an identifier character).
bool contains_token(std::string_view text, std::string_view needle);

}  // namespace course
