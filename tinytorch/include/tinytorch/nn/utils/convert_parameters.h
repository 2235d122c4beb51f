// tinytorch/nn/utils/convert_parameters.h — every parameter as one flat vector and back, as
// libtorch's torch::nn::utils (torch.nn.utils.parameters_to_vector / vector_to_parameters).
//
//   Tensor theta = nn::utils::parameters_to_vector(model->parameters());   // [P], P = Σ numel
//   ... theta − lr · direction (a line search, an evolution strategy, a Hessian-vector product)
//   nn::utils::vector_to_parameters(theta_new, model->parameters());
//
//   parameters  w [4, 3]   b [4]
//   vector      [ w.view(-1): 12 values | b: 4 values ]   = [16]
#pragma once

#include <vector>

#include "tinytorch/core/tensor.h"

namespace tinytorch::nn::utils {

// cat of every parameter's view(-1), in order: a new tensor, differentiable (its gradient hands
// each parameter its slice, reshaped). The parameters must share one dtype (cat's rule, after
// promotion) and be contiguous enough to view(-1).
Tensor parameters_to_vector(const std::vector<Tensor>& parameters);

// Gives each parameter, in order, the next numel() elements of vec as its data, viewed in its
// shape (set_data: the parameter keeps its identity — an optimizer holding it sees the change —
// and its requires_grad). NOTE: as in libtorch, the parameters then ALIAS vec's storage: writing
// to vec writes to them (and an optimizer step on them writes to vec). The values are slices of
// vec's first dim; elements past the last parameter are ignored, too few is an error.
void vector_to_parameters(const Tensor& vec, std::vector<Tensor> parameters);

}  // namespace tinytorch::nn::utils
