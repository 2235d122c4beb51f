// Triangles of matrices: tril keeps element (i, j) of the last two dims where j − i ≤ diagonal,
// triu where j − i ≥ diagonal; the rest becomes zero. Leading dims are a batch of matrices.
//
//   diagonal:   0 → the main diagonal is the border; 1 → one above it; −1 → one below it.
//   tril(0) of 3×3:  x . .        triu(1) of 3×3:  . x x
//                    x x .                         . . x
//                    x x x                         . . .
#include <algorithm>

#include "tinytorch/native/tensor_ops.h"

namespace tinytorch {

namespace {

Tensor triangle(std::string_view op, const Tensor& self, int64_t diagonal, bool lower) {
  TT_CHECK_VALUE(self.dim() >= 2, op, ": input tensor must have at least 2 dimensions, got ",
                 self.dim(), " (shape ", self.sizes(), ")");
  Tensor out = native::clone(self);  // contiguous: [batch, rows, cols]
  const int64_t rows = self.size(-2), cols = self.size(-1);
  const int64_t batch = rows * cols == 0 ? 0 : self.numel() / (rows * cols);
  dispatch_all_types(self.dtype(), op, [&]<typename T>() {
    T* p = out.data_ptr<T>();
    for (int64_t b = 0; b < batch; ++b) {
      for (int64_t i = 0; i < rows; ++i) {
        T* row = p + (b * rows + i) * cols;
        // tril zeroes the columns j > i + diagonal; triu the columns j < i + diagonal.
        const int64_t border = std::clamp<int64_t>(i + diagonal + (lower ? 1 : 0), 0, cols);
        std::fill(lower ? row + border : row, lower ? row + cols : row + border, T(0));
      }
    }
  });
  return out;
}

}  // namespace

Tensor native::tril(const Tensor& self, int64_t diagonal) {
  return triangle("tril", self, diagonal, true);
}

Tensor native::triu(const Tensor& self, int64_t diagonal) {
  return triangle("triu", self, diagonal, false);
}

}  // namespace tinytorch
