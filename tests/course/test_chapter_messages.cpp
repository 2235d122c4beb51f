// Unit tests for the chapter-messages check's parsing (tests/course/chapter_messages.{h,cpp}).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "chapter_messages.h"

namespace {

using Strings = std::vector<std::string>;

TEST(ChapterMessages, FindsEveryCallAndItsNeedles) {
  const std::string source = R"cpp(
    TEST(Shape, Numel) {
      // TT_EXPECT_THROW_WITH(commented(), Error, "ignored");
      TT_EXPECT_THROW_WITH((compute_numel({2, -1})), ValueError, "negative", "-1", "[2, -1]");
      const char* s = "TT_EXPECT_THROW_WITH(in_a_literal(), Error, \"ignored\")";
      TT_EXPECT_THROW_WITH(x.view({7}), ValueError, "[7]",
                           "has "
                           "24",
                           msg);
      TT_EXPECT_THROW_WITH(f(','), Error, "say \"hi\"");
    }
  )cpp";
  const auto checks = course::find_message_checks(source);
  ASSERT_EQ(checks.size(), 3U);
  EXPECT_EQ(checks[0].line, 4);
  EXPECT_EQ(checks[0].expression, "(compute_numel({2, -1}))");
  EXPECT_EQ(checks[0].needles, (Strings{"negative", "-1", "[2, -1]"}));
  EXPECT_EQ(checks[1].line, 6);
  EXPECT_EQ(checks[1].expression, "x.view({7})");
  EXPECT_EQ(checks[1].needles, (Strings{"[7]", "has 24"}));  // msg is not a literal: left out
  EXPECT_EQ(checks[2].expression, "f(',')");
  EXPECT_EQ(checks[2].needles, (Strings{"say \"hi\""}));
}

TEST(ChapterMessages, StringLiteralsSkipCommentsAndCharacters) {
  EXPECT_EQ(course::string_literals("f(\"a\\n\", 'x', 1'000); // \"b\"\n/* \"c\" */ g(\"d\");"),
            (Strings{"a\n", "d"}));
}

TEST(ChapterMessages, ValuesAreNumbersShapesAndRanges) {
  for (const char* v : {"-1", "0.5", "[2, -1]", "(3)", "[-3, 2]", "24"}) {
    EXPECT_TRUE(course::is_value(v)) << v;
  }
  for (const char* w : {"int64", "0-dim", "[3, 4] and [5]x", "negative", "", "[]"}) {
    EXPECT_FALSE(course::is_value(w)) << w;
  }
}

TEST(ChapterMessages, ErrorMessageSectionsEndAtTheNextHeadingOfTheirLevel) {
  const std::string chapter =
      "# Chapter\nint64 outside\n## Part 2\n### Error messages the tests check\nneeds `int64`\n"
      "```\n# not a heading inside a code block\n```\n#### detail\n[2, -1]\n### Next\nafter\n"
      "## Error messages, again\nsecond\n";
  const auto sections = course::error_message_sections(chapter);
  EXPECT_NE(sections.find("needs `int64`"), std::string::npos);
  EXPECT_NE(sections.find("# not a heading"), std::string::npos);
  EXPECT_NE(sections.find("[2, -1]"), std::string::npos);
  EXPECT_NE(sections.find("second"), std::string::npos);
  EXPECT_EQ(sections.find("outside"), std::string::npos);
  EXPECT_EQ(sections.find("after"), std::string::npos);
  EXPECT_EQ(course::error_message_sections("# Chapter\nno section\n"), "");
}

TEST(ChapterMessages, TokensAreNotPartsOfLongerIdentifiers) {
  EXPECT_TRUE(course::contains_token("the dtype (int64) is", "int64"));
  EXPECT_FALSE(course::contains_token("an int64_t and kInt64", "int64"));
  EXPECT_TRUE(course::contains_token("an int64_t, then int64", "int64"));
  EXPECT_TRUE(course::contains_token("shape [2, -1]", "[2, -1]"));
  EXPECT_FALSE(course::contains_token("got -12", "-1"));
  EXPECT_TRUE(course::contains_token("x-1 y", "-1"));
}

}  // namespace
