// SHA-256 (FIPS 180-4), written for tito: fingerprints of a module's learner files, so that a
// recorded completion only counts while the files are unchanged. Not for secrets.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace tito {

class Sha256 {
 public:
  Sha256();
  void update(std::string_view data);
  // The digest as 64 lowercase hex digits. Call once; the object is finished afterwards.
  std::string hex_digest();

 private:
  void block(const unsigned char* p);
  std::array<uint32_t, 8> h_{};
  std::array<unsigned char, 64> buf_{};
  size_t buf_len_ = 0;
  uint64_t total_bytes_ = 0;
};

// SHA-256 of a string, as hex.
std::string sha256_hex(std::string_view data);

}  // namespace tito
