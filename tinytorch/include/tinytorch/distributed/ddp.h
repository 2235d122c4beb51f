// tinytorch/distributed/ddp.h — data-parallel training (module 21), PyTorch's
// torch.nn.parallel.DistributedDataParallel at teaching scale.
//
//   auto& pg = distributed::ProcessGroupMPI::world();
//   nn::Sequential model = mlp();
//   distributed::DistributedDataParallel ddp(model, pg);  // rank 0's weights on every rank
//   optim::SGD opt(model->parameters(), 0.1);
//   for (each batch of this rank's shard) {                 // DistributedSampler
//     opt.zero_grad();
//     loss_fn(model->forward(x), y).backward();            // local gradients
//     ddp.sync_gradients();                                 // now the mean over all ranks
//     opt.step();                                           // identical step on every rank
//   }
//
// Every rank holds a full replica of the model. Each computes the gradient of ITS part of the
// global batch; averaging the gradients makes every rank take the step one process would take
// on the whole batch — so the replicas never drift apart:
//
//   rank 0: batch₀ ─► forward ─► backward ─► g₀ ─┐                 ┌─► step ─► W′
//                                                 ├─ all-reduce avg ┤
//   rank 1: batch₁ ─► forward ─► backward ─► g₁ ─┘  (g₀ + g₁) / 2  └─► step ─► W′ (the same)
//
// Buckets. One all-reduce per parameter pays the latency α once per parameter; one for the whole
// model cannot start until the LAST gradient exists. DDP's Reducer packs the gradients into
// buckets of about bucket_cap_bytes, in REVERSE parameter order — the order backward produces
// them (the last layer's gradient is ready first) — and reduces one flat buffer per bucket:
//
//   parameters:  W1 [256,784]  b1 [256]  W2 [128,256]  b2 [128]  W3 [10,128]  b3 [10]
//   backward ──────────────────────────────────────────────────────────────────────► (reversed)
//   cap 256 KiB: bucket 0 = {b3, W3, b2, W2, b1}  (136 KiB)   bucket 1 = {W1} (784 KiB)
//
// PyTorch's default cap is 25 MiB (its first bucket 1 MiB); ours is 1 MiB, because our models
// are small: the 1986 MLP's 0.9 MiB of gradients would be a single bucket at 25 MiB.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tinytorch/core/tensor.h"
#include "tinytorch/distributed/process_group.h"
#include "tinytorch/nn/module.h"
#include "tinytorch/train/checkpoint.h"

namespace tinytorch::distributed {

inline constexpr int64_t kDefaultBucketCapBytes = int64_t{1} << 20;  // 1 MiB

// Groups parameters into buckets (PyTorch's compute_bucket_assignment_by_size): walks
// `parameters` from the LAST to the first, adding each to the open bucket; a bucket is closed
// when the next parameter would take it past `bucket_cap_bytes` or has another dtype (a bucket
// is one flat buffer of one dtype). A parameter larger than the cap gets a bucket of its own.
// Returns the buckets in the order they are filled, each as indices into `parameters` in the
// order they were added. bucket_cap_bytes ≥ 1.
std::vector<std::vector<size_t>> compute_bucket_assignment_by_size(
    const std::vector<Tensor>& parameters, int64_t bucket_cap_bytes);

class DistributedDataParallel {
 public:
  // One bucket: its parameters (indices into parameters()) and the flat buffer their gradients
  // are packed into for the all-reduce: [numel], allocated once.
  struct Bucket {
    std::vector<size_t> parameters;
    Tensor buffer;
  };

  // Broadcasts rank 0's parameters and buffers to every rank (so all replicas start equal, as
  // DDP's constructor does), after checking that every rank built the same model (same count,
  // shapes and dtypes; tinytorch::Error otherwise), then plans the buckets.
  DistributedDataParallel(std::shared_ptr<nn::Module> module, ProcessGroup& pg,
                          int64_t bucket_cap_bytes = kDefaultBucketCapBytes);
  // For a module holder (nn::Sequential, a TT_MODULE type).
  template <typename Holder>
  requires nn::detail::is_module_holder_v<Holder> DistributedDataParallel(
      const Holder& module, ProcessGroup& pg, int64_t bucket_cap_bytes = kDefaultBucketCapBytes)
      : DistributedDataParallel(std::static_pointer_cast<nn::Module>(module.ptr()), pg,
                                bucket_cap_bytes) {}

  // After backward, before the optimizer's step: every parameter's gradient becomes the mean of
  // that gradient over all ranks, one all-reduce per bucket. A parameter without a gradient
  // (unused in this step's forward) counts as a zero gradient, and receives the mean.
  void sync_gradients();

  nn::Module& module() { return *module_; }
  ProcessGroup& process_group() { return pg_; }
  const std::vector<Tensor>& parameters() const { return parameters_; }
  const std::vector<Bucket>& buckets() const { return buckets_; }

 private:
  std::shared_ptr<nn::Module> module_;
  ProcessGroup& pg_;
  std::vector<Tensor> parameters_;  // module_->parameters(), in registration order
  std::vector<Bucket> buckets_;
};

// Checkpointing a data-parallel run. The replicas are identical, so ONE copy is saved: rank 0
// writes it (train::save_checkpoint: atomic, checksummed) while the others wait; every rank learns
// whether the write succeeded (a failed write throws on all ranks instead of hanging them).
void save_checkpoint(ProcessGroup& pg, const train::Checkpoint& checkpoint,
                     const std::string& path);
// Every rank reads `path` itself — it must be visible to all ranks (one machine, or a shared
// file system; see the chapter) — and they agree: if any rank cannot read it, all throw.
train::Checkpoint load_checkpoint(ProcessGroup& pg, const std::string& path);

}  // namespace tinytorch::distributed
