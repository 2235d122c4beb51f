// Fuzzes data::read_idx through gzip: the input is an IDX file, compressed here before it is read,
// so mutations land in the IDX structure behind a valid gzip stream (fuzz_idx mutates the
// compressed bytes themselves, which mostly tests zlib's checks).
#include <zlib.h>

#include <vector>

#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static tinytorch::fuzz::InputFile file;
  // gzip = deflate with a gzip wrapper (windowBits 15 + 16).
  z_stream z{};
  if (deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) abort();
  std::vector<unsigned char> gz(deflateBound(&z, static_cast<uLong>(size)));
  z.next_in = const_cast<Bytef*>(data);  // zlib's API is not const-correct; it only reads
  z.avail_in = static_cast<uInt>(size);
  z.next_out = gz.data();
  z.avail_out = static_cast<uInt>(gz.size());
  if (deflate(&z, Z_FINISH) != Z_STREAM_END) abort();
  gz.resize(z.total_out);
  deflateEnd(&z);

  const std::string& path = file.write(gz.data(), gz.size());
  try {
    tinytorch::fuzz::touch(tinytorch::data::read_idx(path, tinytorch::kFloat32));
  } catch (const tinytorch::Error&) {
  }
  return 0;
}
