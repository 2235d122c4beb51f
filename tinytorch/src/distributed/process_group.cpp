// What every ProcessGroup shares: checks that all ranks agree (see distributed/process_group.h).
#include "tinytorch/distributed/process_group.h"

#include <algorithm>
#include <cstddef>
#include <vector>

#include "tinytorch/core/exception.h"

namespace tinytorch::distributed {

void check_same_on_all_ranks(ProcessGroup& pg, const Tensor& tensor, const std::string& what) {
  // The signature [dtype, ndim, size₀, size₁, …] of every rank, compared through ONE all-reduce
  // of [v, v²] (float64: exact for these small integers). By Cauchy–Schwarz, Σᵣ vᵣ² · p ≥ (Σᵣ vᵣ)²
  // with equality only when every rank's vᵣ is the same — a test whose result is identical on all
  // ranks, unlike comparing one's own value with the sum.
  std::vector<double> signature = {static_cast<double>(static_cast<int>(tensor.dtype())),
                                   static_cast<double>(tensor.dim())};
  for (int64_t s : tensor.sizes()) signature.push_back(static_cast<double>(s));
  // NOTE: the all-reduce needs the same numel on every rank: pad the signature to a fixed length
  // (tensors have at most a handful of dimensions; more are folded into the last entry's sum).
  constexpr size_t kLength = 10;
  std::vector<double> fixed(kLength, 0.0);
  for (size_t i = 0; i < signature.size(); ++i) fixed[std::min(i, kLength - 1)] += signature[i];
  Tensor both = zeros({2, static_cast<int64_t>(kLength)}, kFloat64);
  auto* p = both.data_ptr<double>();  // [2, kLength]: row 0 v, row 1 v²
  for (size_t i = 0; i < kLength; ++i) {
    p[i] = fixed[i];
    p[kLength + i] = fixed[i] * fixed[i];
  }
  pg.all_reduce(both, ReduceOp::kSum);
  bool same = true;
  for (size_t i = 0; i < kLength; ++i) same = same && p[kLength + i] * pg.size() == p[i] * p[i];
  TT_CHECK(same, what, ": the tensor differs between ranks (this rank, ", pg.rank(), " of ",
           pg.size(), ", has dtype ", tensor.dtype(), " and shape ", tensor.sizes(),
           "); every rank must pass a tensor of the same dtype and shape — did every rank build "
           "the same model?");
}

void agree_or_throw(ProcessGroup& pg, bool ok, const std::string& what) {
  // failed[r] = 1 on rank r if it failed: after the sum, every rank knows who failed.
  Tensor failed = zeros({pg.size()}, kFloat64);
  failed.data_ptr<double>()[pg.rank()] = ok ? 0.0 : 1.0;
  pg.all_reduce(failed, ReduceOp::kSum);
  std::string ranks;
  for (int r = 0; r < pg.size(); ++r) {
    if (failed.data_ptr<double>()[r] != 0.0)
      ranks += (ranks.empty() ? "" : ", ") + std::to_string(r);
  }
  TT_CHECK(ranks.empty(), what, " (failed on rank(s) ", ranks, " of ", pg.size(), ")");
}

}  // namespace tinytorch::distributed
