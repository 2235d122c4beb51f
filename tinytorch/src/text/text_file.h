// Internal to the text code (module 10): reading whole text files with a size limit, and the
// line reader behind CharTokenizer::load / BpeTokenizer::load. See tinytorch/text/tokenizer.h for
// the vocabulary file formats.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace tinytorch::text::detail {

// The whole file. Errors (naming `who` and the path): missing, a directory, unreadable, or
// larger than `max_bytes` (checked before anything is allocated).
std::string read_file_limited(const std::filesystem::path& path, int64_t max_bytes,
                              std::string_view who);

// Bytes as lowercase hexadecimal ("\n a" -> "0a2061"), and back.
std::string to_hex(std::string_view bytes);

// Reads a vocabulary file line by line (lines end in "\n" or "\r\n"); every error names `who`,
// the path and the line number.
class VocabFileReader {
 public:
  static constexpr int64_t kMaxFileBytes = int64_t{64} << 20;  // 64 MiB
  static constexpr int64_t kVersion = 1;

  // Reads the file and checks its first line: "<magic> 1".
  VocabFileReader(const std::filesystem::path& path, std::string_view magic, std::string_view who);

  // A line "<keyword> <count>" with 0 <= count <= max_count.
  int64_t read_count(std::string_view keyword, int64_t max_count);
  // A line of two decimal ids "a b", each in [0, limit).
  std::pair<int64_t, int64_t> read_pair(int64_t limit);
  // A line of hexadecimal digits, decoded; `what` names it in errors.
  std::string read_hex(std::string_view what);
  // Checks that nothing but empty lines follow.
  void expect_end();

  // Throws tinytorch::Error: "<who>: '<path>' line <n> <message>".
  [[noreturn]] void fail(std::string_view message) const;
  // For a problem of the whole vocabulary (found after parsing), without a line number.
  [[noreturn]] void fail_contents(std::string_view message) const;

 private:
  std::string_view next_line(std::string_view expected);

  std::string path_;
  std::string who_;
  std::string contents_;
  size_t pos_ = 0;
  int64_t line_ = 0;  // 1-based number of the line last read
};

}  // namespace tinytorch::text::detail
