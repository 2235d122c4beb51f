// DistributedDataParallel: buckets, gradient averaging, and checkpoints from rank 0 (module 21;
// see distributed/ddp.h).
#include "tinytorch/distributed/ddp.h"

#include <exception>
#include <utility>

#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/core/exception.h"

namespace tinytorch::distributed {

namespace {

// compute_bucket_assignment_by_size once its arguments are checked: from the last parameter to
// the first, open a new bucket when the next one does not fit (bytes or dtype).
std::vector<std::vector<size_t>> assign_buckets(const std::vector<Tensor>& parameters,
                                                int64_t bucket_cap_bytes) {
  // BEGIN SOLUTION
  std::vector<std::vector<size_t>> buckets;
  int64_t open_bytes = 0;  // bytes in buckets.back(), the open bucket
  for (size_t i = parameters.size(); i-- > 0;) {
    const Tensor& p = parameters[i];
    const bool fits = !buckets.empty() && open_bytes + p.nbytes() <= bucket_cap_bytes &&
                      parameters[buckets.back().front()].dtype() == p.dtype();
    if (!fits) {
      buckets.emplace_back();
      open_bytes = 0;
    }
    buckets.back().push_back(i);
    open_bytes += p.nbytes();
  }
  return buckets;
  // END SOLUTION
}

// One bucket's all-reduce: pack the gradients of its parameters into its flat buffer, ONE
// all-reduce (mean), unpack them back.
//
//   buffer [numel]:  │ grad b3 (10) │ grad W3 (1280) │ grad b2 (128) │ … │
//                    └ offset 0     └ offset 10      └ offset 1290
//
// A parameter without a gradient (unused in this step) contributes zeros and receives the mean.
void reduce_bucket(ProcessGroup& pg, DistributedDataParallel::Bucket& bucket,
                   const std::vector<Tensor>& parameters) {
  // BEGIN SOLUTION
  int64_t offset = 0;
  for (size_t i : bucket.parameters) {
    const Tensor& p = parameters[i];
    Tensor slice = bucket.buffer.narrow(0, offset, p.numel());
    if (p.grad().defined()) {
      slice.copy_(p.grad().reshape({p.numel()}));
    } else {
      slice.zero_();
    }
    offset += p.numel();
  }
  pg.all_reduce(bucket.buffer, ReduceOp::kAvg);
  offset = 0;
  for (size_t i : bucket.parameters) {
    Tensor p = parameters[i];
    Tensor slice = bucket.buffer.narrow(0, offset, p.numel()).view(p.sizes());
    if (p.grad().defined()) {
      p.mutable_grad().copy_(slice);
    } else {
      p.mutable_grad() = slice.clone();
    }
    offset += p.numel();
  }
  // END SOLUTION
}

}  // namespace

std::vector<std::vector<size_t>> compute_bucket_assignment_by_size(
    const std::vector<Tensor>& parameters, int64_t bucket_cap_bytes) {
  TT_CHECK_VALUE(bucket_cap_bytes >= 1,
                 "compute_bucket_assignment_by_size(): expected bucket_cap_bytes >= 1, got ",
                 bucket_cap_bytes);
  return assign_buckets(parameters, bucket_cap_bytes);
}

DistributedDataParallel::DistributedDataParallel(std::shared_ptr<nn::Module> module,
                                                 ProcessGroup& pg, int64_t bucket_cap_bytes)
    : module_(std::move(module)), pg_(pg) {
  TT_CHECK(module_ != nullptr, "DistributedDataParallel: the module is null");
  parameters_ = module_->parameters();
  // Every rank must hold the same model, or the bucket all-reduces would pair up different
  // tensors (or hang): compare the number of tensors, then each one's shape.
  std::vector<Tensor> state = parameters_;
  for (const Tensor& b : module_->buffers()) state.push_back(b);
  check_same_on_all_ranks(pg_, zeros({static_cast<int64_t>(state.size())}),
                          "DistributedDataParallel: the number of parameters and buffers");
  for (Tensor& t : state) {
    check_same_on_all_ranks(pg_, t, "DistributedDataParallel: a parameter or buffer");
    TT_CHECK(t.is_contiguous(),
             "DistributedDataParallel: expected contiguous parameters and buffers, got one of "
             "shape ",
             t.sizes(), " with strides ", t.strides());
    pg_.broadcast(t, /*root=*/0);  // raw bytes into the leaf: no autograd history
  }
  for (auto& indices : compute_bucket_assignment_by_size(parameters_, bucket_cap_bytes)) {
    int64_t numel = 0;
    for (size_t i : indices) numel += parameters_[i].numel();
    Tensor buffer = empty({numel}, parameters_[indices.front()].dtype());
    buckets_.push_back({std::move(indices), std::move(buffer)});
  }
}

void DistributedDataParallel::sync_gradients() {
  NoGradGuard no_grad;
  for (Bucket& bucket : buckets_) reduce_bucket(pg_, bucket, parameters_);
}

void save_checkpoint(ProcessGroup& pg, const train::Checkpoint& checkpoint,
                     const std::string& path) {
  std::string error;
  if (pg.rank() == 0) {
    try {
      train::save_checkpoint(checkpoint, path);
    } catch (const std::exception& e) {
      error = e.what();
    }
  }
  // Doubles as the barrier: no rank goes on (and may read the file) before rank 0 has written it.
  agree_or_throw(pg, error.empty(),
                 "distributed::save_checkpoint: rank 0 could not write " + path +
                     (error.empty() ? "" : ": " + error));
}

train::Checkpoint load_checkpoint(ProcessGroup& pg, const std::string& path) {
  train::Checkpoint checkpoint;
  std::string error;
  try {
    checkpoint = train::load_checkpoint(path);
  } catch (const std::exception& e) {
    error = e.what();
  }
  agree_or_throw(pg, error.empty(),
                 "distributed::load_checkpoint: cannot read " + path +
                     (error.empty() ? "" : " (" + error + ")"));
  return checkpoint;
}

}  // namespace tinytorch::distributed
