// Reading whole text files with a size limit, hexadecimal, and the vocabulary line reader.
// See text_file.h.
#include "text_file.h"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <iterator>
#include <system_error>

#include "tinytorch/core/exception.h"

namespace tinytorch::text::detail {
namespace fs = std::filesystem;

std::string read_file_limited(const fs::path& path, int64_t max_bytes, std::string_view who) {
  std::error_code ec;
  TT_CHECK(fs::exists(path, ec), who, ": cannot open '", path.string(), "': no such file");
  TT_CHECK(!fs::is_directory(path, ec), who, ": cannot open '", path.string(),
           "': it is a directory, not a file");
  const auto size = fs::file_size(path, ec);
  TT_CHECK(!ec, who, ": cannot read '", path.string(), "': ", ec.message());
  // NOTE: the size is checked before a byte is allocated, so a huge (or hostile) file is refused
  // instead of exhausting memory.
  TT_CHECK(size <= static_cast<uintmax_t>(max_bytes), who, ": '", path.string(), "' is ", size,
           " bytes, more than the limit of ", max_bytes, " bytes");
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  TT_CHECK(in.good(), who, ": cannot open '", path.string(),
           "': ", errno != 0 ? std::strerror(errno) : "unknown error");
  std::string contents(static_cast<size_t>(size), '\0');
  in.read(contents.data(), static_cast<std::streamsize>(size));
  TT_CHECK(in.gcount() == static_cast<std::streamsize>(size), who, ": cannot read '", path.string(),
           "': it changed size while being read");
  return contents;
}

std::string to_hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * bytes.size());
  for (const char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    out += kDigits[b >> 4];
    out += kDigits[b & 0xF];
  }
  return out;
}

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A decimal integer >= 0 that fills `text` exactly, or -1.
int64_t parse_nonnegative(std::string_view text) {
  int64_t value = -1;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0) return -1;
  return value;
}

}  // namespace

VocabFileReader::VocabFileReader(const fs::path& path, std::string_view magic, std::string_view who)
    : path_(path.string()), who_(who), contents_(read_file_limited(path, kMaxFileBytes, who)) {
  const std::string_view first = next_line(std::string(magic) + " 1");
  const auto space = first.find(' ');
  if (first.substr(0, space) != magic) {
    fail("is not a " + std::string(magic) + " vocabulary file: expected the first line '" +
         std::string(magic) + " 1', got '" + std::string(first.substr(0, 40)) + "'");
  }
  const int64_t version =
      space == std::string_view::npos ? -1 : parse_nonnegative(first.substr(space + 1));
  if (version != kVersion) {
    fail("has unsupported version '" +
         std::string(space == std::string_view::npos ? "" : first.substr(space + 1)) +
         "'; this build reads version " + std::to_string(kVersion));
  }
}

std::string_view VocabFileReader::next_line(std::string_view expected) {
  if (pos_ >= contents_.size()) {
    fail("is truncated: expected " + std::string(expected) + " after line " +
         std::to_string(line_));
  }
  const size_t eol = contents_.find('\n', pos_);
  const size_t end = eol == std::string::npos ? contents_.size() : eol;
  std::string_view line(contents_.data() + pos_, end - pos_);
  pos_ = end + 1;
  // A file saved with Windows line ends ("\r\n") reads the same: no line of the format holds a
  // '\r' of its own (token bytes are hex).
  if (line.ends_with('\r')) line.remove_suffix(1);
  ++line_;
  return line;
}

int64_t VocabFileReader::read_count(std::string_view keyword, int64_t max_count) {
  const std::string expected = "'" + std::string(keyword) + " <count>'";
  const std::string_view line = next_line(expected);
  const int64_t count = line.substr(0, keyword.size() + 1) == std::string(keyword) + " "
                            ? parse_nonnegative(line.substr(keyword.size() + 1))
                            : -1;
  if (count < 0) fail("expected " + expected + ", got '" + std::string(line.substr(0, 40)) + "'");
  if (count > max_count) {
    fail("has " + std::string(keyword) + " count " + std::to_string(count) +
         ", more than the limit of " + std::to_string(max_count));
  }
  return count;
}

std::pair<int64_t, int64_t> VocabFileReader::read_pair(int64_t limit) {
  const std::string_view line = next_line("a merge 'left right'");
  const auto space = line.find(' ');
  const int64_t a = space == std::string_view::npos ? -1 : parse_nonnegative(line.substr(0, space));
  const int64_t b =
      space == std::string_view::npos ? -1 : parse_nonnegative(line.substr(space + 1));
  if (a < 0 || b < 0) {
    fail("expected a merge 'left right' (two ids >= 0), got '" + std::string(line.substr(0, 40)) +
         "'");
  }
  if (a >= limit || b >= limit) {
    fail("has merge (" + std::to_string(a) + ", " + std::to_string(b) + ") using an id >= " +
         std::to_string(limit) + "; a merge may only use the bytes and earlier merges");
  }
  return {a, b};
}

std::string VocabFileReader::read_hex(std::string_view what) {
  const std::string_view line = next_line(what);
  if (line.size() % 2 != 0) fail("has an odd number of hex digits in " + std::string(what));
  std::string bytes;
  bytes.reserve(line.size() / 2);
  for (size_t i = 0; i < line.size(); i += 2) {
    const int hi = hex_value(line[i]);
    const int lo = hex_value(line[i + 1]);
    if (hi < 0 || lo < 0) {
      fail("has a non-hexadecimal character in " + std::string(what) + " at column " +
           std::to_string(i + 1));
    }
    bytes += static_cast<char>(hi * 16 + lo);
  }
  return bytes;
}

void VocabFileReader::expect_end() {
  for (; pos_ < contents_.size(); ++pos_) {
    if (contents_[pos_] != '\n' && contents_[pos_] != '\r') {
      fail("has unexpected text after line " + std::to_string(line_));
    }
  }
}

void VocabFileReader::fail(std::string_view message) const {
  throw Error(tinytorch::detail::str(who_, ": '", path_, "' line ", line_, " ", message));
}

void VocabFileReader::fail_contents(std::string_view message) const {
  throw Error(
      tinytorch::detail::str(who_, ": '", path_, "' holds an invalid vocabulary: ", message));
}

}  // namespace tinytorch::text::detail
