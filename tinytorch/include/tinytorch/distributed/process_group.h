// tinytorch/distributed/process_group.h — the collectives data-parallel training is built on
// (module 21), after PyTorch's c10d::ProcessGroup.
//
//   ProcessGroup& pg = distributed::ProcessGroupMPI::world();   // distributed/mpi.h
//   pg.broadcast(weight, /*root=*/0);         // every rank now holds rank 0's weight
//   pg.all_reduce(grad, ReduceOp::kAvg);      // every rank now holds the mean of all grads
//
// A process group is the p processes ("ranks" 0 … p−1) of one training job, each running the
// same program on its own share of the data:
//
//   rank 0 ──┐                      all_reduce(x):   x₀, x₁, x₂, x₃  ─►  Σx on every rank
//   rank 1 ──┼── ProcessGroup       broadcast(x, 0): x₀ ─► every rank
//   rank 2 ──┤   (MPI_COMM_WORLD)   barrier():       nobody leaves before everybody arrived
//   rank 3 ──┘                      send_recv:       one step of a ring (see ring_all_reduce)
//
// The interface knows nothing about MPI: ProcessGroupMPI (distributed/mpi.h, the separate
// tinytorch_distributed library) implements it with Open MPI, and everything above it —
// ring_all_reduce, DistributedDataParallel — is written against this class only. PyTorch's
// backends (Gloo, NCCL, MPI) plug in the same way.
//
// NOTE: collectives are COLLECTIVE. Every rank must make the same calls in the same order with
// tensors of the same dtype and numel; a rank that skips one leaves the others waiting forever.
// The calls do not compare shapes across ranks (that would cost a second collective on every
// call); check_same_on_all_ranks() does, once, where a mismatch is a likely user error.
#pragma once

#include <string>

#include "tinytorch/core/tensor.h"

namespace tinytorch::distributed {

enum class ReduceOp {
  kSum,  // Σ over ranks
  kAvg,  // Σ over ranks / p (what data-parallel gradients need)
};

class ProcessGroup {
 public:
  virtual ~ProcessGroup() = default;

  virtual int rank() const = 0;  // this process: 0 … size() − 1
  virtual int size() const = 0;  // p, the number of ranks

  // In place: `tensor` (contiguous, float32 or float64) becomes the elementwise reduction of
  // every rank's `tensor`.
  virtual void all_reduce(Tensor& tensor, ReduceOp op = ReduceOp::kSum) = 0;
  // In place: every rank's `tensor` becomes a copy of rank `root`'s.
  virtual void broadcast(Tensor& tensor, int root) = 0;
  // Returns once every rank has called it.
  virtual void barrier() = 0;
  // Sends `send` to rank `dst` while receiving `recv` from rank `src` (MPI_Sendrecv): both at
  // once, so a ring of ranks each sending to the next never deadlocks.
  virtual void send_recv(const Tensor& send, int dst, Tensor& recv, int src) = 0;
};

// The ring all-reduce (Baidu 2017; NCCL's ring, Horovod), built from send_recv: a reduce-scatter
// then an all-gather around the ring 0 → 1 → … → p−1 → 0. Each rank sends 2(p−1)/p · n elements
// whatever p is. Same contract as ProcessGroup::all_reduce; module 21's lab races it against
// MPI_Allreduce.
void ring_all_reduce(ProcessGroup& pg, Tensor& tensor, ReduceOp op = ReduceOp::kSum);

// Throws tinytorch::Error on EVERY rank, starting with `what`, when `tensor` does not have the
// same dtype and shape on all ranks (one small all-reduce of the shape and its square; every
// rank reaches the same verdict, so none is left waiting).
void check_same_on_all_ranks(ProcessGroup& pg, const Tensor& tensor, const std::string& what);

// Throws tinytorch::Error on EVERY rank when `ok` is false on ANY rank: how an error that
// happened on one rank (a file it could not read) reaches the others instead of hanging them.
// The message is `what` followed by the ranks that failed.
void agree_or_throw(ProcessGroup& pg, bool ok, const std::string& what);

}  // namespace tinytorch::distributed
