// Module 12 — Attention: scaled dot-product attention, forward and backward, and masked_fill.
// The checks, the mask preparation and the drivers are given; the two reference kernels — the
// forward that builds the L×S score matrix and its softmax, and the backward that rebuilds it —
// are yours to write (modules/12_attention/README.md).
//
// For each of the `batch` independent problems (B·H of them in multi-head attention):
//
//         keys j → (S of them)
//        ┌─────────────────┐
//   q_i  │ s_ij = q_i·k_j  │ ·scale + mask_ij       (−∞: "may not look")
//   (L)  │                 │ ─softmax over j─► P_ij  (each row sums to 1, or is 0 if all −∞)
//        └─────────────────┘
//   out_i = Σ_j P_ij · v_j                          a weighted average of the values
//
// The forward returns out and logsumexp_i = log Σ_j exp(s_ij) — enough for the backward to
// rebuild P_ij = exp(s_ij − logsumexp_i) without anyone keeping the L×S matrix P around.
//
// The backward, from out_i = Σ_j P_ij v_j and P_ij = exp(s_ij) / Σ_l exp(s_il):
//
//   dV_j  = Σ_i P_ij · dO_i                                 (dV = Pᵀ·dO)
//   dP_ij = dO_i · v_j                                      (dP = dO·Vᵀ)
//   dS_ij = Σ_l dP_il · ∂P_il/∂s_ij = Σ_l dP_il · P_il (δ_lj − P_ij)
//         = P_ij · (dP_ij − Σ_l P_il dP_il)                  (the softmax's Jacobian-vector
//         product)
//   s_ij  = scale · q_i·k_j + mask_ij   ⇒   dQ_i = scale · Σ_j dS_ij k_j,   dK_j = scale · Σ_i
//   dS_ij q_i,
//                                           dmask_ij = dS_ij
//
// With dropout the forward uses P̃ = P ⊙ Z (Z_ij = 0 or 1/(1 − p)): dV = P̃ᵀ·dO and dP = (dO·Vᵀ) ⊙ Z,
// the rest unchanged.
#include <cmath>
#include <limits>
#include <optional>
#include <string_view>
#include <type_traits>
#include <vector>

#include "opmath.h"
#include "tinytorch/kernels/attention.h"
#include "tinytorch/kernels/registry.h"
#include "tinytorch/native/attention.h"
#include "tinytorch/native/tensor_ops.h"

namespace tinytorch {

namespace {

using kernels::AttentionInputs;
using kernels::AttentionShape;

// Whether query row i may look at key j under is_causal: bottom-right aligned, so that with
// L < S the queries are the last L of the S positions (kernels/attention.h).
inline bool visible(const AttentionShape& s, int64_t i, int64_t j) {
  return !s.causal || j <= i + (s.kv_len - s.q_len);
}

// ── Part 1: the reference kernels ─────────────────────────────────────────────────────────────
// query [batch, L, E], key [batch, S, E], value [batch, S, Ev] and out [batch, L, Ev] are Rows
// (kernels/attention.h): problem b's query row i is in.query.row(b, i), E contiguous elements,
// but the rows themselves may be strided (a transformer's heads are views). logsumexp
// [batch, L] and the gradients are contiguous. in.mask, when not null, is additive: problem b's [L,
// S] plane starts at in.mask + in.mask_offsets[b]. in.keep, when not null, is the dropout mask Z
// [batch, L, S].

// out = softmax(q·kᵀ·scale + mask) ⊙ Z · v and logsumexp, one [L, S] score matrix at a time:
//   1. scores[i][j] = scale · q_i·k_j + mask[i][j], or −∞ when visible(s, i, j) is false;
//   2. per row: m = max_j scores (subtract it before exp: exp of a large score overflows);
//      m = −∞ means every key is masked: logsumexp = −∞ and out row = 0 — never exp(−∞ − −∞);
//      otherwise sum = Σ exp(scores − m), logsumexp = m + log(sum), P = exp(scores − m) / sum;
//   3. out_i = Σ_j P_ij · Z_ij · v_j   (Z = in.keep, or 1).
template <typename T>
void attention_forward_reference(const AttentionShape& s, const AttentionInputs<T>& in,
                                 const kernels::Rows<T>& out, T* logsumexp) {
  // BEGIN SOLUTION
  const int64_t L = s.q_len, S = s.kv_len, E = s.head_dim, Ev = s.value_dim;
  const T scale = static_cast<T>(s.scale);
  const T neg_inf = -std::numeric_limits<T>::infinity();
  std::vector<T> scores(static_cast<size_t>(L * S));  // one problem's score matrix, reused
  for (int64_t b = 0; b < s.batch; ++b) {
    const T* mask = in.mask != nullptr ? in.mask + in.mask_offsets[b] : nullptr;
    const T* z = in.keep != nullptr ? in.keep + b * L * S : nullptr;
    T* lse = logsumexp + b * L;
    for (int64_t i = 0; i < L; ++i) {
      const T* q_i = in.query.row(b, i);
      for (int64_t j = 0; j < S; ++j) {
        T& score = scores[static_cast<size_t>(i * S + j)];
        if (!visible(s, i, j)) {
          score = neg_inf;
          continue;
        }
        const T* k_j = in.key.row(b, j);
        T dot = 0;
        for (int64_t e = 0; e < E; ++e) dot += q_i[e] * k_j[e];
        score = dot * scale + (mask != nullptr ? mask[i * S + j] : T(0));
      }
    }
    for (int64_t i = 0; i < L; ++i) {
      T* row = scores.data() + i * S;
      T* o_i = out.row(b, i);
      for (int64_t e = 0; e < Ev; ++e) o_i[e] = 0;
      T m = neg_inf;
      for (int64_t j = 0; j < S; ++j) m = std::max(m, row[j]);
      if (m == neg_inf) {  // every key masked: no distribution to take
        lse[i] = neg_inf;
        continue;
      }
      T sum = 0;
      for (int64_t j = 0; j < S; ++j) {
        row[j] = std::exp(row[j] - m);
        sum += row[j];
      }
      lse[i] = m + std::log(sum);
      for (int64_t j = 0; j < S; ++j) {
        const T p = row[j] / sum * (z != nullptr ? z[i * S + j] : T(1));
        const T* v_j = in.value.row(b, j);
        for (int64_t e = 0; e < Ev; ++e) o_i[e] += p * v_j[e];
      }
    }
  }
  // END SOLUTION
}

// The gradients, rebuilding one problem's P [L, S] at a time from logsumexp:
//   1. P_ij = exp(scale · q_i·k_j + mask_ij − logsumexp_i) where visible and logsumexp_i > −∞,
//      else 0;
//   2. dV = (P ⊙ Z)ᵀ·dO;       3. dP = (dO·vᵀ) ⊙ Z   (Z = in.keep, or 1);
//   4. dS_ij = P_ij · (dP_ij − Σ_l P_il · dP_il);
//   5. dQ = dS·k·scale,  dK = dSᵀ·q·scale;  grad_scores (when not null) = dS.
// grad_query, grad_key, grad_value are overwritten.
template <typename T>
void attention_backward_reference(const AttentionShape& s, const AttentionInputs<T>& in,
                                  const T* logsumexp, const kernels::Rows<const T>& grad_out,
                                  T* grad_query, T* grad_key, T* grad_value, T* grad_scores) {
  // BEGIN SOLUTION
  const int64_t L = s.q_len, S = s.kv_len, E = s.head_dim, Ev = s.value_dim;
  const T scale = static_cast<T>(s.scale);
  const T neg_inf = -std::numeric_limits<T>::infinity();
  std::vector<T> P(static_cast<size_t>(L * S)), dS(P.size());
  for (int64_t b = 0; b < s.batch; ++b) {
    const auto q = [&](int64_t i) { return in.query.row(b, i); };   // [E]
    const auto k = [&](int64_t j) { return in.key.row(b, j); };     // [E]
    const auto v = [&](int64_t j) { return in.value.row(b, j); };   // [Ev]
    const auto dO = [&](int64_t i) { return grad_out.row(b, i); };  // [Ev]
    const T* mask = in.mask != nullptr ? in.mask + in.mask_offsets[b] : nullptr;
    const T* z = in.keep != nullptr ? in.keep + b * L * S : nullptr;
    const T* lse = logsumexp + b * L;
    T* dq = grad_query + b * L * E;
    T* dk = grad_key + b * S * E;
    T* dv = grad_value + b * S * Ev;
    // 1. P, rebuilt
    for (int64_t i = 0; i < L; ++i) {
      for (int64_t j = 0; j < S; ++j) {
        T p = 0;
        if (visible(s, i, j) && lse[i] != neg_inf) {
          T dot = 0;
          for (int64_t e = 0; e < E; ++e) dot += q(i)[e] * k(j)[e];
          p = std::exp(dot * scale + (mask != nullptr ? mask[i * S + j] : T(0)) - lse[i]);
        }
        P[static_cast<size_t>(i * S + j)] = p;
      }
    }
    // 2. dV = (P ⊙ Z)ᵀ·dO
    for (int64_t x = 0; x < S * Ev; ++x) dv[x] = 0;
    for (int64_t i = 0; i < L; ++i) {
      for (int64_t j = 0; j < S; ++j) {
        const T p = P[static_cast<size_t>(i * S + j)] * (z != nullptr ? z[i * S + j] : T(1));
        for (int64_t e = 0; e < Ev; ++e) dv[j * Ev + e] += p * dO(i)[e];
      }
    }
    // 3. and 4. dP = (dO·Vᵀ) ⊙ Z, then dS = P ⊙ (dP − rowsum(P ⊙ dP))
    for (int64_t i = 0; i < L; ++i) {
      T* ds = dS.data() + i * S;
      const T* p = P.data() + i * S;
      T rowsum = 0;
      for (int64_t j = 0; j < S; ++j) {
        T dot = 0;
        for (int64_t e = 0; e < Ev; ++e) dot += dO(i)[e] * v(j)[e];
        ds[j] = dot * (z != nullptr ? z[i * S + j] : T(1));
        rowsum += p[j] * ds[j];
      }
      for (int64_t j = 0; j < S; ++j) ds[j] = p[j] * (ds[j] - rowsum);
    }
    // 5. dQ = dS·K·scale, dK = dSᵀ·Q·scale
    for (int64_t x = 0; x < L * E; ++x) dq[x] = 0;
    for (int64_t x = 0; x < S * E; ++x) dk[x] = 0;
    for (int64_t i = 0; i < L; ++i) {
      for (int64_t j = 0; j < S; ++j) {
        const T ds = dS[static_cast<size_t>(i * S + j)] * scale;
        for (int64_t e = 0; e < E; ++e) {
          dq[i * E + e] += ds * k(j)[e];
          dk[j * E + e] += ds * q(i)[e];
        }
      }
    }
    if (grad_scores != nullptr) {
      for (int64_t x = 0; x < L * S; ++x) grad_scores[b * L * S + x] = dS[static_cast<size_t>(x)];
    }
  }
  // END SOLUTION
}

// ── the drivers (given) ───────────────────────────────────────────────────────────────────────

constexpr std::string_view kOp = "scaled_dot_product_attention";

// The sizes of a checked call, and its batch dims (the query's dims but the last two).
struct Problem {
  AttentionShape shape;
  std::vector<int64_t> batch_sizes;
};

// The mask as the kernels take it: additive planes of the query's dtype, [*mask batch dims, L, S]
// contiguous (a dim the mask broadcasts along is stored once), and where problem b's plane starts.
struct PreparedMask {
  Tensor planes;
  std::vector<int64_t> offsets;
};

Problem check_attention_args(const Tensor& query, const Tensor& key, const Tensor& value,
                             const Tensor& attn_mask, const Tensor& dropout_mask, bool is_causal,
                             double scale) {
  TT_CHECK(query.defined() && key.defined() && value.defined(), kOp,
           ": query, key and value must all be defined tensors");
  TT_CHECK(query.dim() >= 2 && key.dim() == query.dim() && value.dim() == query.dim(), kOp,
           ": expected query [*, L, E], key [*, S, E] and value [*, S, Ev] with the same number "
           "of dims (at least 2), but got query ",
           query.sizes(), ", key ", key.sizes(), " and value ", value.sizes());
  TT_CHECK_TYPE(
      query.is_floating_point() && key.dtype() == query.dtype() && value.dtype() == query.dtype(),
      kOp,
      ": expected query, key and value of one floating-point dtype (float32 or "
      "float64), but got ",
      query.dtype(), ", ", key.dtype(), " and ", value.dtype());
  const int64_t n = query.dim();
  for (int64_t d = 0; d < n - 2; ++d) {
    TT_CHECK(key.size(d) == query.size(d) && value.size(d) == query.size(d), kOp,
             ": the batch dims (all but the last two) of query, key and value must be equal, but "
             "got query ",
             query.sizes(), ", key ", key.sizes(), " and value ", value.sizes());
  }
  TT_CHECK(key.size(-1) == query.size(-1), kOp,
           ": query and key must have the same last dim E (q·k is a dot product), but got query ",
           query.sizes(), " and key ", key.sizes());
  TT_CHECK(value.size(-2) == key.size(-2), kOp,
           ": key and value must have the same number of positions S (dim -2), but got key ",
           key.sizes(), " and value ", value.sizes());
  TT_CHECK_VALUE(std::isfinite(scale), kOp, ": scale must be finite, but got ", scale);
  Problem p;
  p.batch_sizes.assign(query.sizes().begin(), query.sizes().end() - 2);
  p.shape.batch = 1;
  for (int64_t s : p.batch_sizes) p.shape.batch *= s;
  p.shape.q_len = query.size(-2);
  p.shape.kv_len = key.size(-2);
  p.shape.head_dim = query.size(-1);
  p.shape.value_dim = value.size(-1);
  p.shape.scale = scale;
  p.shape.causal = is_causal;
  std::vector<int64_t> scores_shape = p.batch_sizes;
  scores_shape.push_back(p.shape.q_len);
  scores_shape.push_back(p.shape.kv_len);
  if (attn_mask.defined()) {
    TT_CHECK_TYPE(attn_mask.dtype() == kBool || attn_mask.dtype() == query.dtype(), kOp,
                  ": attn_mask must be bool (true = may attend) or of the query's dtype ",
                  query.dtype(), " (added to the scores), but got ", attn_mask.dtype());
    bool broadcastable = attn_mask.dim() <= n;
    for (int64_t d = 1; broadcastable && d <= attn_mask.dim(); ++d) {
      const int64_t m = attn_mask.size(-d), want = scores_shape[static_cast<size_t>(n - d)];
      broadcastable = m == want || m == 1;
    }
    TT_CHECK(broadcastable, kOp, ": attn_mask of shape ", attn_mask.sizes(),
             " cannot be broadcast to the scores' shape ", IntArrayRef(scores_shape),
             " ([*, L, S] for query ", query.sizes(), " and key ", key.sizes(), ")");
  }
  if (dropout_mask.defined()) {
    TT_CHECK(
        dropout_mask.sizes() == IntArrayRef(scores_shape) && dropout_mask.dtype() == query.dtype(),
        kOp, ": dropout_mask must be of shape ", IntArrayRef(scores_shape), " and dtype ",
        query.dtype(), ", but got ", dropout_mask.sizes(), " ", dropout_mask.dtype());
  }
  return p;
}

std::vector<int64_t> with_last(std::vector<int64_t> sizes, std::initializer_list<int64_t> last) {
  sizes.insert(sizes.end(), last);
  return sizes;
}

// Where problem b of t [*batch dims, rows, width] starts, counted from t's first element: with
// b = (b_0, ..., b_{n-3}) over the batch dims (the last one fastest), Σ_d b_d · t.stride(d). A dim
// t is broadcast along has stride 0 and adds nothing.
std::vector<int64_t> problem_offsets(const Tensor& t, const Problem& p) {
  std::vector<int64_t> offsets(static_cast<size_t>(p.shape.batch), 0);
  for (int64_t b = 0; b < p.shape.batch; ++b) {
    int64_t rest = b, offset = 0;
    for (int64_t d = static_cast<int64_t>(p.batch_sizes.size()) - 1; d >= 0; --d) {
      const int64_t size = p.batch_sizes[static_cast<size_t>(d)];
      offset += (rest % size) * t.stride(d);
      rest /= size;
    }
    offsets[static_cast<size_t>(b)] = offset;
  }
  return offsets;
}

// One of q, k, v, out, grad_out [*batch dims, rows, width] as the kernels read it (kernels::Rows):
// the tensor itself, strided as it is — a transformer's heads are views into one projection —
// with problem b's offset and the stride between rows.
// NOTE: the kernels read a row as `width` consecutive elements, so a tensor whose last dim has a
// stride other than 1 (say a transposed [*, E, L] seen as [*, L, E]) is copied contiguous first.
struct Operand {
  Tensor tensor;
  std::vector<int64_t> offsets;  // [batch]

  Operand(const Tensor& t, const Problem& p)
      : tensor(t.size(-1) <= 1 || t.stride(-1) == 1 ? t : t.contiguous()),
        offsets(problem_offsets(tensor, p)) {}

  template <typename U>  // const T for an input, T for an output
  kernels::Rows<U> rows() const {
    return {tensor.data_ptr<std::remove_const_t<U>>(), offsets.data(), tensor.stride(-2)};
  }
};

PreparedMask prepare_mask(const Tensor& attn_mask, const Problem& p, ScalarType dtype) {
  PreparedMask m;
  if (!attn_mask.defined()) return m;
  const int64_t n = static_cast<int64_t>(p.batch_sizes.size()) + 2;
  // The mask with n dims (leading 1s), its own batch dims kept, expanded over L and S.
  std::vector<int64_t> padded(static_cast<size_t>(n - attn_mask.dim()), 1);
  padded.insert(padded.end(), attn_mask.sizes().begin(), attn_mask.sizes().end());
  std::vector<int64_t> planes_shape(padded.begin(), padded.end() - 2);
  planes_shape.push_back(p.shape.q_len);
  planes_shape.push_back(p.shape.kv_len);
  Tensor additive = attn_mask;
  if (attn_mask.dtype() == kBool) {  // true → 0, false → −∞
    additive = native::where(attn_mask, zeros({}, dtype),
                             full({}, -std::numeric_limits<double>::infinity(), dtype));
  }
  m.planes = native::reshape(additive, padded).expand(planes_shape).contiguous();
  // Expanded over the batch dims it broadcasts along (stride 0), a plane serves several problems.
  m.offsets = problem_offsets(
      m.planes.expand(with_last(p.batch_sizes, {p.shape.q_len, p.shape.kv_len})), p);
  return m;
}

template <typename T>
AttentionInputs<T> inputs_of(const Operand& q, const Operand& k, const Operand& v,
                             const PreparedMask& m, const Tensor& keep) {
  return {q.rows<const T>(),
          k.rows<const T>(),
          v.rows<const T>(),
          m.planes.defined() ? m.planes.data_ptr<T>() : nullptr,
          m.planes.defined() ? m.offsets.data() : nullptr,
          keep.defined() ? keep.data_ptr<T>() : nullptr};
}

}  // namespace

namespace native {

double attention_scale(const Tensor& query, std::optional<double> scale) {
  TT_CHECK(query.defined() && query.dim() >= 2, kOp, ": expected query [*, L, E], but got ",
           query.defined() ? query.sizes() : IntArrayRef());
  if (scale.has_value()) return *scale;
  TT_CHECK(query.size(-1) > 0, kOp,
           ": the default scale 1/sqrt(E) needs E > 0, but query has shape ", query.sizes());
  return 1.0 / std::sqrt(static_cast<double>(query.size(-1)));
}

std::tuple<Tensor, Tensor> scaled_dot_product_attention_forward(
    const Tensor& query, const Tensor& key, const Tensor& value, const Tensor& attn_mask,
    const Tensor& dropout_mask, bool is_causal, double scale) {
  const Problem p =
      check_attention_args(query, key, value, attn_mask, dropout_mask, is_causal, scale);
  const AttentionShape& s = p.shape;
  // out [*, L, Ev] is laid out in the query's dim order (Ev innermost): for a transformer's head
  // q [B, H, T, hd] with strides (T·3d, hd, 3d, 1) that is [B, T, H, hd] memory, so merge_heads'
  // out.transpose(1, 2).reshape({B, T, d}) is a view, not a copy.
  std::vector<int64_t> dim_order = query.strides().vec();
  dim_order.back() = 0;
  Tensor out = native::empty_in_stride_order(with_last(p.batch_sizes, {s.q_len, s.value_dim}),
                                             dim_order, query.dtype());
  if (opmath::is_reduced(query)) {
    // q, k and v widened together: a transformer's heads are views of one [B, T, 3d] projection,
    // widened in one flat pass (opmath::widen_views), and the float32 heads are the same views
    // of it. The float32 output is then laid out like this one (the query's order, [B, T, H, hd]
    // memory), and is rounded once INTO it by one flat pass — rounding with to() would give
    // [B, H, T, hd] memory, merge_heads would copy it, and the Linear after it would save that
    // copy besides the one this op saves for its backward (0.5 MiB a layer for the 2017 GPT
    // under autocast). The logsumexp, read only by the backward, stays float32.
    const std::vector<Tensor> qkv = opmath::widen_views({query, key, value});
    const auto [wide, lse] =
        scaled_dot_product_attention_forward(qkv[0], qkv[1], qkv[2], opmath::widen(attn_mask),
                                             opmath::widen(dropout_mask), is_causal, scale);
    return {native::copy_(out, wide), lse};
  }
  const Operand q(query, p), k(key, p), v(value, p);
  const Operand o(out, p);
  Tensor lse = empty(with_last(p.batch_sizes, {s.q_len}), query.dtype());
  if (s.batch == 0 || s.q_len == 0) return {o.tensor, lse};
  const Tensor z = dropout_mask.defined() ? dropout_mask.contiguous() : Tensor();
  const PreparedMask m = prepare_mask(attn_mask, p, query.dtype());
  dispatch_floating_types(query.dtype(), kOp, [&]<typename T>() {
    const AttentionInputs<T> in = inputs_of<T>(q, k, v, m, z);
    if constexpr (std::is_same_v<T, float>) {
      if (const auto fast = kernels::fast_kernels().attention.forward) {
        fast(s, in, o.rows<T>(), lse.data_ptr<T>());
        return;
      }
    }
    attention_forward_reference<T>(s, in, o.rows<T>(), lse.data_ptr<T>());
  });
  return {o.tensor, lse};
}

std::tuple<Tensor, Tensor, Tensor, Tensor> scaled_dot_product_attention_backward(
    const Tensor& grad_out, const Tensor& query, const Tensor& key, const Tensor& value,
    const Tensor& attn_mask, const Tensor& dropout_mask, const Tensor& out, const Tensor& logsumexp,
    bool is_causal, double scale, std::array<bool, 4> output_mask) {
  const Problem p =
      check_attention_args(query, key, value, attn_mask, dropout_mask, is_causal, scale);
  if (opmath::is_reduced(query)) {  // logsumexp is the forward's float32 one
    // q, k and v widened together, as in the forward; compute() widens the rest (grad_out and
    // out are dense: each one flat pass) and rounds the gradients.
    const std::vector<Tensor> qkv = opmath::widen_views({query, key, value});
    return opmath::compute(query.dtype(), scaled_dot_product_attention_backward, grad_out, qkv[0],
                           qkv[1], qkv[2], attn_mask, dropout_mask, out, logsumexp, is_causal,
                           scale, output_mask);
  }
  const AttentionShape& s = p.shape;
  const std::vector<int64_t> out_shape = with_last(p.batch_sizes, {s.q_len, s.value_dim});
  TT_CHECK(grad_out.defined() && grad_out.sizes() == IntArrayRef(out_shape) &&
               out.sizes() == IntArrayRef(out_shape) &&
               logsumexp.sizes() == IntArrayRef(with_last(p.batch_sizes, {s.q_len})),
           kOp, "_backward: grad_out and out must have the output's shape ", IntArrayRef(out_shape),
           " and logsumexp [*, L]: pass what scaled_dot_product_attention_forward returned");
  Tensor gs = output_mask[3] ? zeros(with_last(p.batch_sizes, {s.q_len, s.kv_len}), query.dtype())
                             : Tensor();
  // The fast kernel writes every element of gq, gk, gv; the reference one accumulates into them.
  const auto fast = query.dtype() == kFloat32 && !gs.defined()
                        ? kernels::fast_kernels().attention.backward
                        : nullptr;
  const bool writes_all = fast != nullptr && s.batch > 0 && s.q_len > 0 && s.kv_len > 0;
  const auto make_grad = [&](const Tensor& like) {
    return writes_all ? empty(like.sizes(), like.dtype()) : zeros(like.sizes(), like.dtype());
  };
  Tensor gq, gk, gv;
  // When q, k and v are consecutive slices of one buffer (a transformer's heads, views of its one
  // [B, T, 3d] projection), the fast kernel writes their gradients as the same slices of one new
  // buffer of that layout, [B, T, 3, H, hd]; unbind's backward then passes that buffer on as the
  // projection's gradient instead of copying the three into one (opmath::joined_slices).
  const Tensor joined =
      writes_all ? opmath::joined_slices({native::unsqueeze(query, 0), native::unsqueeze(key, 0),
                                          native::unsqueeze(value, 0)},
                                         0)
                 : Tensor();
  if (joined.defined() && query.stride(-1) == 1) {
    const Tensor g = native::empty_in_stride_order(joined.sizes(), joined.strides(), query.dtype());
    gq = native::select(g, 0, 0);
    gk = native::select(g, 0, 1);
    gv = native::select(g, 0, 2);
  } else {
    gq = make_grad(query);
    gk = make_grad(key);
    gv = make_grad(value);
  }
  if (s.batch > 0 && s.q_len > 0 && s.kv_len > 0) {
    const Operand q(query, p), k(key, p), v(value, p);
    const Operand g(grad_out.to(query.dtype()), p), o(out, p);
    const Tensor z = dropout_mask.defined() ? dropout_mask.contiguous() : Tensor();
    const Tensor l = logsumexp.contiguous();
    const PreparedMask m = prepare_mask(attn_mask, p, query.dtype());
    dispatch_floating_types(query.dtype(), kOp, [&]<typename T>() {
      const AttentionInputs<T> in = inputs_of<T>(q, k, v, m, z);
      if constexpr (std::is_same_v<T, float>) {
        if (fast != nullptr) {
          // (Operand keeps a tensor whose rows are contiguous: the kernel writes into gq, gk, gv.)
          const Operand dq(gq, p), dk(gk, p), dv(gv, p);
          fast(s, in, o.rows<const T>(), l.data_ptr<T>(), g.rows<const T>(), dq.rows<T>(),
               dk.rows<T>(), dv.rows<T>());
          return;
        }
      }
      attention_backward_reference<T>(s, in, l.data_ptr<T>(), g.rows<const T>(), gq.data_ptr<T>(),
                                      gk.data_ptr<T>(), gv.data_ptr<T>(),
                                      gs.defined() ? gs.data_ptr<T>() : nullptr);
    });
  }
  return {output_mask[0] ? gq : Tensor(), output_mask[1] ? gk : Tensor(),
          output_mask[2] ? gv : Tensor(), gs};
}

Tensor masked_fill(const Tensor& self, const Tensor& mask, const Scalar& value) {
  TT_CHECK(self.defined() && mask.defined(), "masked_fill: self and mask must be defined");
  TT_CHECK_TYPE(mask.dtype() == kBool, "masked_fill: expected a bool mask, but got ", mask.dtype(),
                " (build one with a comparison, e.g. x.eq(0))");
  bool broadcastable = mask.dim() <= self.dim();
  for (int64_t d = 1; broadcastable && d <= mask.dim(); ++d) {
    broadcastable = mask.size(-d) == self.size(-d) || mask.size(-d) == 1;
  }
  TT_CHECK(broadcastable, "masked_fill: the mask of shape ", mask.sizes(),
           " cannot be broadcast to self's shape ", self.sizes());
  TT_CHECK_TYPE(self.is_floating_point() || !value.is_floating_point(),
                "masked_fill: cannot fill a ", self.dtype(), " tensor with the floating value ",
                value.to<double>(), " (convert self to a floating dtype first)");
  return native::where(mask, full({}, value, self.dtype()), self);
}

}  // namespace native

}  // namespace tinytorch
