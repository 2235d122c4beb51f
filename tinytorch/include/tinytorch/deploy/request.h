// tinytorch/deploy/request.h — the body of a prediction request, checked against the model
// (module 20). The server (tools/serve) answers POST /v1/predict with it; it lives in the library,
// free of HTTP, so that the fuzz harness (tests/fuzz/fuzz_predict_request.cpp) and the tests reach
// it without a socket.
//
//   {"inputs": [[0.0, 0.1, ...], [...]]}     one flat row per sample, row-major in the layout of
//                                            the signature's input_shape
//   Tensor x = deploy::parse_predict_request(req.body, model.signature(), model.num_outputs(), 32);
//   // → [2, *input_shape]; on a bad body tinytorch::ValueError, whose message the server sends
//   //   as {"error": "..."} with status 400
#pragma once

#include <cstdint>
#include <string_view>

#include "tinytorch/core/tensor.h"
#include "tinytorch/deploy/model_file.h"

namespace tinytorch::deploy {

// The inputs [n, *input_shape] of `signature.input_dtype` from a request body. A -1 entry of the
// input shape (a GPT's token ids) takes the length of row 0, which every row must share. Checks,
// each a ValueError that says what was wrong and what was expected: valid JSON, an object with an
// "inputs" list of 1 to `max_rows` rows, each row a flat list of the right length; float32 values
// finite numbers within float's range; int64 values token ids, integers in [0, num_outputs).
// `signature` must be a loaded model's (its sample size is bounded by ModelLimits).
Tensor parse_predict_request(std::string_view body, const ModelSignature& signature,
                             int64_t num_outputs, int64_t max_rows);

}  // namespace tinytorch::deploy
