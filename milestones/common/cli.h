// milestones/common/cli.h — CLI11 checks whose messages say what was wrong with an argument.
//
//   app.add_option("--epochs", s.epochs)->check(whole_number_in(1, 1000));
//   app.add_option("--lr", s.lr)->check(positive_number());
//   app.add_option("--momentum", s.momentum)->check(number_in(0.0, 0.999));
//
// CLI11's own CLI::Range answers "--epochs abc" with "Value abc not in range 1 to 1000" (it is
// not a number at all), and CLI::PositiveNumber prints its bounds, the smallest and largest
// doubles, with std::to_string: a 300-digit number. These say which of the two went wrong and
// print bounds as a person writes them:
//
//   --epochs: 'abc' is not a whole number; expected a whole number from 1 to 1000
//   --epochs: 0 is out of range; expected a whole number from 1 to 1000
//   --lr: 0 is not a positive number; expected a finite number > 0 (e.g. 0.001)
//
// (CLI11 prefixes the option's name and adds "Run with --help for more information.")
// Numbers are read in base 10 with std::from_chars, all of the text or nothing: "010" is ten
// (CLI11 alone would read it as octal 8), "1e3" and "12abc" are not whole numbers.
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>

#include <CLI/CLI.hpp>

namespace tinytorch::milestones {

// A number as a person writes it: 0.001, 1e-08, 1000 (6 significant digits, no trailing zeros).
inline std::string readable(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

// Parses all of `text` as T in base 10; false if any character is left over.
template <typename T>
bool parse_all(const std::string& text, T& value) {
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  return ec == std::errc() && ptr == end && !text.empty();
}

// A whole number in [lo, hi]. Rewrites the text to its plain decimal form, so that CLI11's own
// conversion afterwards reads the same number.
inline CLI::Validator whole_number_in(int64_t lo, int64_t hi) {
  const std::string expected =
      "expected a whole number from " + std::to_string(lo) + " to " + std::to_string(hi);
  return CLI::Validator(
      [lo, hi, expected](std::string& text) -> std::string {
        int64_t v = 0;
        if (!parse_all(text, v)) return "'" + text + "' is not a whole number; " + expected;
        if (v < lo || v > hi) return text + " is out of range; " + expected;
        text = std::to_string(v);
        return {};
      },
      "INT in [" + std::to_string(lo) + " - " + std::to_string(hi) + "]");
}

// A finite real number in [lo, hi].
inline CLI::Validator number_in(double lo, double hi) {
  const std::string expected = "expected a number from " + readable(lo) + " to " + readable(hi);
  return CLI::Validator(
      [lo, hi, expected](std::string& text) -> std::string {
        double v = 0;
        if (!parse_all(text, v) || !std::isfinite(v)) {
          return "'" + text + "' is not a finite number; " + expected;
        }
        if (v < lo || v > hi) return text + " is out of range; " + expected;
        return {};
      },
      "FLOAT in [" + readable(lo) + " - " + readable(hi) + "]");
}

// A finite real number > 0 (learning rates); `example` is named in the message.
inline CLI::Validator positive_number(double example = 0.001) {
  const std::string expected = "expected a finite number > 0 (e.g. " + readable(example) + ")";
  return CLI::Validator(
      [expected](std::string& text) -> std::string {
        double v = 0;
        if (!parse_all(text, v) || !std::isfinite(v)) {
          return "'" + text + "' is not a finite number; " + expected;
        }
        if (v <= 0) return text + " is not a positive number; " + expected;
        return {};
      },
      "FLOAT > 0");
}

}  // namespace tinytorch::milestones
