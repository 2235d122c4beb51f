// Module 20 — the server's request parser (deploy/request.h): a /v1/predict body becomes the
// input tensor [n, *input_shape], or a ValueError whose message says what was wrong and what was
// expected (the server's 400 answer). tests/serve checks the same answers over HTTP.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tinytorch/deploy/request.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch::deploy {
namespace {

ModelSignature request_signature(std::vector<int64_t> shape, ScalarType dtype = kFloat32) {
  return {.name = "m",
          .version = "1",
          .input_shape = std::move(shape),
          .input_dtype = dtype,
          .labels = {}};
}

// The error parsing `body` gives ("" when it parses).
std::string request_error_of(const std::string& body, const ModelSignature& sig,
                             int64_t max_rows = 4) {
  try {
    parse_predict_request(body, sig, 10, max_rows);
  } catch (const ValueError& e) {
    return e.what();
  }
  return "";
}

#define EXPECT_HAS(text, fragment)                         \
  do {                                                     \
    const std::string t_ = (text);                         \
    EXPECT_NE(t_.find(fragment), std::string::npos) << t_; \
  } while (false)

TEST(PredictRequest, RowsBecomeTheInputTensor) {
  const Tensor x = parse_predict_request(R"({"inputs": [[1, 2, 3, 4], [0.5, -1, 0, 2e3]]})",
                                         request_signature({1, 2, 2}), 10, 4);
  EXPECT_EQ(x.sizes(), IntArrayRef({2, 1, 2, 2}));
  EXPECT_EQ(x.to_vector<float>(), (std::vector<float>{1, 2, 3, 4, 0.5F, -1, 0, 2000}));
  // Token ids: any length, as long as row 0.
  const Tensor ids = parse_predict_request(R"({"inputs": [[1, 2, 9], [0, 0, 0]]})",
                                           request_signature({-1}, kInt64), 10, 4);
  EXPECT_EQ(ids.sizes(), IntArrayRef({2, 3}));
  EXPECT_EQ(ids.to_vector<int64_t>(), (std::vector<int64_t>{1, 2, 9, 0, 0, 0}));
}

TEST(PredictRequest, BadBodiesSayWhatWasExpected) {
  const ModelSignature sig = request_signature({4});
  EXPECT_HAS(request_error_of(R"({"inputs": [[1, 2)", sig), "the body is not valid JSON");
  EXPECT_HAS(request_error_of(R"({"rows": []})", sig), "expected a JSON object with \"inputs\"");
  EXPECT_HAS(request_error_of(R"({"inputs": []})", sig), "\"inputs\" has 0 rows; expected 1 to 4");
  EXPECT_HAS(request_error_of(R"({"inputs": [[1], [2]]})", sig, 1), "has 2 rows; expected 1 to 1");
  EXPECT_HAS(request_error_of(R"({"inputs": [[1, 2, 3, 4], [1]]})", sig),
             "row 1 has 1 values; expected a flat list of 4 values (one sample of shape [4]");
  EXPECT_HAS(request_error_of(R"({"inputs": [[1, 2, "a", 4]]})", sig),
             "inputs[0][2] is \"a\"; expected a finite number");
  EXPECT_HAS(request_error_of(R"({"inputs": [[1, 2, 3, 1.5]]})", request_signature({-1}, kInt64)),
             "inputs[0][3] is 1.5; expected a token id, an integer in [0, 10)");
  EXPECT_HAS(request_error_of(R"({"inputs": [[10]]})", request_signature({-1}, kInt64)), "[0, 10)");
  EXPECT_HAS(request_error_of(R"({"inputs": [[1, 2], [3]]})", request_signature({-1}, kInt64)),
             "every row as long as row 0");
}

// 1e39 is a finite double but float32's infinity: the server's parser let it through (the model
// then answered inf/NaN). tests/fuzz/fuzz_predict_request.cpp checks every accepted value.
TEST(PredictRequest, ValuesBeyondFloat32AreRefused) {
  EXPECT_HAS(request_error_of(R"({"inputs": [[1e39, 0, 0, 0]]})", request_signature({4})),
             "inputs[0][0] is 1e+39; expected a finite number (within float32's range)");
  EXPECT_HAS(request_error_of(R"({"inputs": [[0, -3.5e38, 0, 0]]})", request_signature({4})),
             "inputs[0][1]");
  EXPECT_EQ(request_error_of(R"({"inputs": [[3.4e38, -3.4e38, 0, 0]]})", request_signature({4})),
            "");
}

// A value nested a million levels deep is named by its kind: its text (dump() recurses once per
// level) would overflow the stack of the server's thread.
TEST(PredictRequest, ADeeplyNestedValueIsNamedNotPrinted) {
  const std::string deep = std::string(1000000, '[') + std::string(1000000, ']');
  EXPECT_HAS(request_error_of(R"({"inputs": [[)" + deep + ", 0, 0, 0]]}", request_signature({4})),
             "inputs[0][0] is a list; expected a finite number");
  EXPECT_HAS(request_error_of(R"({"inputs": [[0, 0, 0, )" + std::string(300, 'x') + "]]}",
                              request_signature({4})),
             "not valid JSON");
}

}  // namespace
}  // namespace tinytorch::deploy
