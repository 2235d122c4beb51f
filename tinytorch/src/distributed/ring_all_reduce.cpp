// The ring all-reduce over ProcessGroup::send_recv (module 21; see distributed/process_group.h).
#include <algorithm>
#include <cstdint>

#include "tinytorch/core/exception.h"
#include "tinytorch/distributed/process_group.h"

namespace tinytorch::distributed {

namespace {

// The ring cuts the flat tensor into p chunks, as even as possible: chunk c is
// [chunk_begin(c), chunk_begin(c + 1)). [[maybe_unused]], like wrap: a learner release, where
// ring_phases is a stub, still builds with -Werror.
[[maybe_unused]] int64_t chunk_begin(int64_t numel, int p, int c) {
  return numel * c / p;
}

// The (p + c) mod p that C++'s % does not give for negative c.
[[maybe_unused]] int wrap(int c, int p) {
  return ((c % p) + p) % p;
}

// The two phases on `flat` ([n], contiguous), each rank calling with its own tensor.
// p = 4, rank r sends to r+1 and receives from r−1; chunks c₀ … c₃ of n/4 elements.
//
//   reduce-scatter, step s: send chunk (r − s), receive chunk (r − s − 1) and ADD it.
//     after p − 1 steps rank r holds the full sum of chunk (r + 1).
//   all-gather, step s:     send chunk (r + 1 − s), receive chunk (r − s) and COPY it.
//     after p − 1 steps every rank holds every summed chunk.
//
// Each step moves n/p elements per rank: 2(p − 1) · n/p in all, whatever p is.
void ring_phases(ProcessGroup& pg, Tensor& flat, ReduceOp op) {
  // BEGIN SOLUTION
  const int p = pg.size();
  const int r = pg.rank();
  const int64_t n = flat.numel();
  const auto chunk = [&](int c) {
    const int64_t begin = chunk_begin(n, p, c);
    return flat.narrow(0, begin, chunk_begin(n, p, c + 1) - begin);
  };
  const int next = wrap(r + 1, p);
  const int prev = wrap(r - 1, p);
  // One receive buffer, as long as the longest chunk; each step receives into a prefix of it.
  Tensor scratch = empty({n / p + 1}, flat.dtype());
  for (int s = 0; s + 1 < p; ++s) {
    Tensor incoming = chunk(wrap(r - s - 1, p));
    Tensor received = scratch.narrow(0, 0, incoming.numel());
    pg.send_recv(chunk(wrap(r - s, p)), next, received, prev);
    incoming.add_(received);
  }
  for (int s = 0; s + 1 < p; ++s) {
    Tensor incoming = chunk(wrap(r - s, p));
    pg.send_recv(chunk(wrap(r + 1 - s, p)), next, incoming, prev);
  }
  if (op == ReduceOp::kAvg) flat.div_(static_cast<double>(p));
  // END SOLUTION
}

}  // namespace

void ring_all_reduce(ProcessGroup& pg, Tensor& tensor, ReduceOp op) {
  TT_CHECK(tensor.is_contiguous(), "ring_all_reduce(): expected a contiguous tensor");
  TT_CHECK_TYPE(tensor.dtype() == kFloat32 || tensor.dtype() == kFloat64,
                "ring_all_reduce(): expected a float32 or float64 tensor, got ", tensor.dtype());
  Tensor flat = tensor.view({tensor.numel()});
  ring_phases(pg, flat, op);
}

}  // namespace tinytorch::distributed
