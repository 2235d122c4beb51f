// tinytorch/tinytorch.h — everything, in one include (like <torch/torch.h>).
#pragma once

#include "tinytorch/core/allocator.h"
#include "tinytorch/core/exception.h"
#include "tinytorch/core/generator.h"
#include "tinytorch/core/int_array_ref.h"
#include "tinytorch/core/scalar_type.h"
#include "tinytorch/core/shape.h"
#include "tinytorch/core/storage.h"
#include "tinytorch/core/tensor.h"
#include "tinytorch/core/tensor_impl.h"
#include "tinytorch/core/tensor_options.h"
#include "tinytorch/data/dataloader.h"
#include "tinytorch/data/dataset.h"
#include "tinytorch/data/idx.h"
#include "tinytorch/data/transforms.h"
