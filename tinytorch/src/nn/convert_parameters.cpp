// parameters_to_vector / vector_to_parameters (tinytorch/nn/utils/convert_parameters.h).
#include "tinytorch/nn/utils/convert_parameters.h"

#include <cstdint>

#include "tinytorch/core/exception.h"
#include "tinytorch/core/join.h"

namespace tinytorch::nn::utils {

Tensor parameters_to_vector(const std::vector<Tensor>& parameters) {
  TT_CHECK_VALUE(!parameters.empty(),
                 "parameters_to_vector: expected at least one parameter, got an empty list");
  std::vector<Tensor> flat;  // each [numel]
  flat.reserve(parameters.size());
  for (const Tensor& p : parameters) flat.push_back(p.view(-1));
  return cat(flat);  // [Σ numel]
}

void vector_to_parameters(const Tensor& vec, std::vector<Tensor> parameters) {
  TT_CHECK_VALUE(vec.defined(), "vector_to_parameters: vec is undefined; expected a tensor");
  TT_CHECK_VALUE(vec.dim() >= 1, "vector_to_parameters: vec must have at least one dim, got a ",
                 "0-d tensor");
  int64_t offset = 0;  // where the next parameter's values start along vec's first dim
  for (size_t i = 0; i < parameters.size(); ++i) {
    const Tensor& p = parameters[i];
    const int64_t n = p.numel();
    const Tensor piece = vec.slice(0, offset, offset + n);
    TT_CHECK_VALUE(piece.numel() == n, "vector_to_parameters: vec of shape ", vec.sizes(),
                   " is too short: parameter ", i, " (shape ", p.sizes(), ") needs elements ",
                   offset, " to ", offset + n, " of its first dim");
    p.set_data(piece.view_as(p).detach());
    offset += n;
  }
}

}  // namespace tinytorch::nn::utils
