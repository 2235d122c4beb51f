// tinytorch/core/quantizer.h — what turns an int8 tensor into a QUANTIZED tensor (module 15).
//
// A quantized tensor stores small integers q and means real numbers
//
//     x ≈ scale * (q - zero_point)          (the affine map; PyTorch's dequantize)
//
//   TensorImpl { storage: int8/uint8 bytes, dtype: kInt8/kUInt8, ..., quantizer_ ─┐ }
//                                                                                 ▼
//   Quantizer { qscheme: per_tensor_affine  | per_channel_affine
//               scales:  [s]                | [s_0, s_1, ..., s_{C-1}]  (one per index of axis)
//               zero_points: [z]            | [z_0, ..., z_{C-1}]
//               axis:    (unused)           | the channel dim, e.g. 0 for a Linear weight [out, in]
//               }
//
// A plain int8 tensor has no quantizer; quantize_per_tensor / quantize_per_channel hang one on
// the impl. PyTorch does the same (c10::TensorImpl → at::Quantizer, PerTensorAffineQuantizer /
// PerChannelAffineQuantizer), except that it also gives such tensors their own dtypes
// (torch.qint8 / torch.quint8). TinyTorch keeps kInt8 / kUInt8 and asks is_quantized() instead.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace tinytorch {

// torch.qscheme. The symmetric schemes are an OBSERVER's choice of how to pick scale and
// zero_point (zero_point fixed at 0 / 128); the tensor they make is stored as affine, as in
// PyTorch.
enum class QScheme : int8_t {
  PerTensorAffine,
  PerChannelAffine,
  PerTensorSymmetric,
  PerChannelSymmetric,
};
inline constexpr QScheme kPerTensorAffine = QScheme::PerTensorAffine;
inline constexpr QScheme kPerChannelAffine = QScheme::PerChannelAffine;
inline constexpr QScheme kPerTensorSymmetric = QScheme::PerTensorSymmetric;
inline constexpr QScheme kPerChannelSymmetric = QScheme::PerChannelSymmetric;

// "per_tensor_affine", ... (PyTorch's spelling, used in printing and errors).
std::string_view to_string(QScheme q);

// Immutable once made, so views and copies of the handle share it freely.
struct Quantizer {
  QScheme qscheme = kPerTensorAffine;  // kPerTensorAffine or kPerChannelAffine
  std::vector<double> scales;          // [1] or [size(axis)], every one > 0 and finite
  std::vector<int64_t> zero_points;    // same length; inside the dtype's [qmin, qmax]
  int64_t axis = 0;                    // per-channel only
};

}  // namespace tinytorch
