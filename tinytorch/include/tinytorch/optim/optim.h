// tinytorch/optim/optim.h — every optimizer and LR scheduler of module 06 in one include
// (like <torch/optim.h>).
#pragma once

#include "tinytorch/optim/adagrad.h"
#include "tinytorch/optim/adam.h"
#include "tinytorch/optim/lr_scheduler.h"
#include "tinytorch/optim/optimizer.h"
#include "tinytorch/optim/reduce_on_plateau_scheduler.h"
#include "tinytorch/optim/rmsprop.h"
#include "tinytorch/optim/sgd.h"
