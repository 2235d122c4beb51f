// Helpers shared by module 10's visible and hidden tests.
#pragma once

#include <cstdint>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/reference.h"
#include "tinytorch/data/text.h"
#include "tinytorch/text/tokenizer.h"

namespace tinytorch::test10 {

// "0a2061" -> "\n a" (the reference file stores byte strings as hexadecimal).
inline std::string from_hex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  }
  return out;
}

// `n` bytes drawn uniformly from all 256 values (NUL and invalid UTF-8 included).
inline std::string random_bytes(Generator& gen, int64_t n) {
  std::string s(static_cast<size_t>(n), '\0');
  for (char& c : s) c = static_cast<char>(gen.random_int(0, 256));
  return s;
}

inline void write_file(const std::string& path, std::string_view contents) {
  std::ofstream out(path, std::ios::binary);
  out << contents;
}

// The reference cases of tools/reference/gen_module10.py.
inline const nlohmann::json& bpe_reference() {
  return test::load_reference("module10_bpe_reference.json");
}

inline std::vector<std::string> special_tokens_of(const nlohmann::json& c) {
  std::vector<std::string> specials;
  for (const auto& s : c.at("special_tokens_hex"))
    specials.push_back(from_hex(s.get<std::string>()));
  return specials;
}

inline std::vector<text::BpeTokenizer::Merge> merges_of(const nlohmann::json& c) {
  std::vector<text::BpeTokenizer::Merge> merges;
  for (const auto& m : c.at("merges"))
    merges.emplace_back(m.at(0).get<int64_t>(), m.at(1).get<int64_t>());
  return merges;
}

}  // namespace tinytorch::test10
