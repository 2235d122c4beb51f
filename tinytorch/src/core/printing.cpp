// Printing tensors the way PyTorch does (torch/_tensor_str.py), so output can be compared at a
// glance:   tensor([[ 1.0000, -0.5000],
//                   [ 3.2500,  0.0000]], dtype=tinytorch.float64)
//
// All visible elements share one format and one column width, chosen from their values:
//   all whole numbers       → "1."  "-3."        (int mode)
//   moderate range          → "0.1235"           (4 decimals)
//   max/min > 1000, |x|>1e8 or |x|<1e-4 → "1.2346e-05" (scientific)
// Tensors with more than 1000 elements are summarised: 3 items from each end of every dim.
#include <cmath>
#include <cstdio>
#include <sstream>

#include "tinytorch/core/tensor.h"

namespace tinytorch {

namespace {

constexpr int64_t kThreshold = 1000;  // summarise above this many elements
constexpr int64_t kEdgeItems = 3;     // items kept at each end of a summarised dim
constexpr int64_t kLineWidth = 80;

std::string printf_str(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

// Calls fn(value as double) for each element that will be printed, in print order.
template <typename Fn>
void visit_visible(const Tensor& t, bool summarize, Fn&& fn) {
  if (t.dim() == 0) {
    fn(t.item<double>());
    return;
  }
  const int64_t n = t.size(0);
  for (int64_t i = 0; i < n; ++i) {
    if (summarize && n > 2 * kEdgeItems && i == kEdgeItems) i = n - kEdgeItems;
    visit_visible(t.select(0, i), summarize, fn);
  }
}

class Formatter {
 public:
  Formatter(const Tensor& t, bool summarize)
      : floating_(t.is_floating_point()), bool_(t.dtype() == kBool) {
    if (!floating_) {
      visit_visible(t, summarize, [&](double v) { width_ = std::max(width_, raw(v).size()); });
      return;
    }
    double lo = INFINITY, hi = 0;
    bool any = false;
    visit_visible(t, summarize, [&](double v) {
      if (!std::isfinite(v) || v == 0) return;
      any = true;
      lo = std::min(lo, std::abs(v));
      hi = std::max(hi, std::abs(v));
      if (v != std::ceil(v)) int_mode_ = false;
    });
    if (!any) return;  // only zeros, infs, NaNs: int mode, width 1
    sci_mode_ = hi / lo > 1000 || hi > 1e8 || (!int_mode_ && lo < 1e-4);
    visit_visible(t, summarize, [&](double v) {
      if (std::isfinite(v) && v != 0) width_ = std::max(width_, raw(v).size());
    });
  }

  size_t width() const { return width_; }

  // One element, right-aligned to the common width.
  std::string format(double v) const {
    std::string s = raw(v);
    return std::string(width_ > s.size() ? width_ - s.size() : 0, ' ') + s;
  }

 private:
  std::string raw(double v) const {
    if (bool_) return v != 0 ? "True" : "False";
    if (!floating_) return std::to_string(static_cast<int64_t>(v));
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    if (sci_mode_) return printf_str("%.4e", v);
    if (int_mode_) return printf_str("%.0f", v) + ".";
    return printf_str("%.4f", v);
  }

  bool floating_, bool_;
  bool int_mode_ = true;
  bool sci_mode_ = false;
  size_t width_ = 1;
};

void print_vector(std::ostream& os, const Tensor& t, int64_t indent, bool summarize,
                  const Formatter& f) {
  const int64_t per_line =
      std::max<int64_t>(1, (kLineWidth - indent) / static_cast<int64_t>(f.width() + 2));
  std::vector<std::string> items;
  const int64_t n = t.size(0);
  for (int64_t i = 0; i < n; ++i) {
    if (summarize && n > 2 * kEdgeItems && i == kEdgeItems) {
      items.emplace_back(" ...");
      i = n - kEdgeItems;
    }
    items.push_back(f.format(t.select(0, i).item<double>()));
  }
  os << '[';
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) {
      os << ',';
      if (static_cast<int64_t>(i) % per_line == 0) {
        os << '\n' << std::string(static_cast<size_t>(indent + 1), ' ');
      } else {
        os << ' ';
      }
    }
    os << items[i];
  }
  os << ']';
}

void print_tensor(std::ostream& os, const Tensor& t, int64_t indent, bool summarize,
                  const Formatter& f) {
  if (t.dim() == 0) {
    os << f.format(t.item<double>());
    return;
  }
  if (t.dim() == 1) {
    print_vector(os, t, indent, summarize, f);
    return;
  }
  // Rows are separated by ",", then one newline per remaining dim, then the indentation.
  const std::string sep = "," + std::string(static_cast<size_t>(t.dim() - 1), '\n') +
                          std::string(static_cast<size_t>(indent + 1), ' ');
  const int64_t n = t.size(0);
  os << '[';
  for (int64_t i = 0; i < n; ++i) {
    if (i > 0) os << sep;
    if (summarize && n > 2 * kEdgeItems && i == kEdgeItems) {
      os << "..." << sep;
      i = n - kEdgeItems;
    }
    print_tensor(os, t.select(0, i), indent + 1, summarize, f);
  }
  os << ']';
}

// The suffix PyTorch prints after a quantized tensor's (dequantized) values.
std::string quantization_suffix(const Tensor& t) {
  std::ostringstream os;
  os << "dtype=tinytorch.q" << t.dtype() << ", quantization_scheme=tinytorch."
     << to_string(t.qscheme());
  if (t.qscheme() == kPerTensorAffine) {
    os << ", scale=" << t.q_scale() << ", zero_point=" << t.q_zero_point();
  } else {
    os << ", axis=" << t.q_per_channel_axis();
  }
  return os.str();
}

}  // namespace

std::string repr(const Tensor& t) {
  if (!t.defined()) return "tensor(undefined)";
  if (t.is_quantized()) {  // tensor([...values...], size=..., dtype=tinytorch.qint8, ...)
    std::string body = repr(t.dequantize());
    body.pop_back();  // the ')'
    return body + ", " + quantization_suffix(t) + ")";
  }
  std::ostringstream os;
  const std::string prefix = "tensor(";
  std::vector<std::string> suffixes;
  if (t.numel() == 0) {
    os << prefix << "[]";
    if (t.dim() != 1) {
      std::ostringstream size;
      size << "size=(";
      for (int64_t d = 0; d < t.dim(); ++d) size << (d ? ", " : "") << t.size(d);
      size << ")";
      suffixes.push_back(size.str());
    }
    if (t.dtype() != kDefaultFloat) suffixes.push_back(detail::str("dtype=tinytorch.", t.dtype()));
  } else {
    const bool summarize = t.numel() > kThreshold;
    const Formatter f(t, summarize);
    os << prefix;
    print_tensor(os, t, static_cast<int64_t>(prefix.size()), summarize, f);
    // float32, int64 and bool are the dtypes a value's kind implies; others are spelled out.
    if (t.dtype() != kFloat32 && t.dtype() != kInt64 && t.dtype() != kBool) {
      suffixes.push_back(detail::str("dtype=tinytorch.", t.dtype()));
    }
  }
  if (t.requires_grad()) suffixes.emplace_back("requires_grad=True");
  for (const std::string& s : suffixes) os << ", " << s;
  os << ')';
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) {
  return os << repr(t);
}

}  // namespace tinytorch
