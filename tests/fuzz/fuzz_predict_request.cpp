// Fuzzes deploy::parse_predict_request, the server's body parser (POST /v1/predict): the input is
// a request body, parsed against three fixed signatures — 4 floats, a [1, 2, 2] image, token ids
// of any length — with at most 4 rows. A body it accepts must give [n, *input_shape] of the
// signature's dtype, n in [1, 4], every value finite (float32) or a token id in [0, V); a body it
// refuses, a ValueError (the message the server sends with its 400).
#include "fuzz_support.h"
#include "tinytorch/deploy/request.h"

namespace {

namespace tt = tinytorch;

constexpr int64_t kMaxRows = 4;
constexpr int64_t kVocab = 10;  // the token ids' model: its num_outputs()

tt::deploy::ModelSignature signature(std::vector<int64_t> shape, tt::ScalarType dtype) {
  return {.name = "fuzz", .version = "1", .input_shape = std::move(shape), .input_dtype = dtype};
}

void check(const tt::Tensor& x, const tt::deploy::ModelSignature& sig) {
  if (x.dtype() != sig.input_dtype || x.dim() != static_cast<int64_t>(sig.input_shape.size()) + 1 ||
      x.size(0) < 1 || x.size(0) > kMaxRows) {
    std::abort();
  }
  for (size_t i = 0; i < sig.input_shape.size(); ++i) {
    const int64_t want = sig.input_shape[i], got = x.size(static_cast<int64_t>(i) + 1);
    if (want == -1 ? got < 1 : got != want) std::abort();
  }
  if (x.dtype() == tt::kInt64) {
    for (const int64_t id : x.to_vector<int64_t>()) {
      if (id < 0 || id >= kVocab) std::abort();
    }
  } else {
    for (const float v : x.to_vector<float>()) {
      if (!std::isfinite(v)) std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<tt::deploy::ModelSignature> signatures = {
      signature({4}, tt::kFloat32), signature({1, 2, 2}, tt::kFloat32),
      signature({-1}, tt::kInt64)};
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  for (const auto& sig : signatures) {
    try {
      check(tt::deploy::parse_predict_request(body, sig, kVocab, kMaxRows), sig);
    } catch (const tt::ValueError&) {
    }
  }
  return 0;
}
