// Module 07 — the training-curve SVG (given code: read it, nothing to implement).
//
// SVG in brief: a text file of shapes in pixel coordinates, origin at the TOP left, y growing
// downwards — so a value v is drawn at y = bottom − (v − lo) / (hi − lo) · height.
//   <line x1 y1 x2 y2/>   <polyline points="x,y x,y ..."/>   <circle cx cy r/>   <text x
//   y>..</text>
#include "tinytorch/train/plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

#include "tinytorch/core/exception.h"
#include "tinytorch/train/logging.h"

namespace tinytorch::train {

namespace {

std::string xml_escape(const std::string& s) {
  std::string out;
  for (const char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string px(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f", v);
  return buf;
}

// A step of 1, 2 or 5 · 10^k close to `raw`.
double nice_step(double raw) {
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / magnitude;
  const double nice = f < 1.5 ? 1.0 : f < 3.0 ? 2.0 : f < 7.0 ? 5.0 : 10.0;
  return nice * magnitude;
}

std::string tick_label(double value, double step, bool percent) {
  const int decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%.*f%s", decimals, std::abs(value) < step * 1e-6 ? 0.0 : value,
                percent ? "%" : "");
  return buf;
}

// matplotlib's "tab10": ten colours that stay apart (a ladder of 8 GEMM steps needs them all).
const char* const kPalette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

const char* color_of(size_t series_index) {
  return kPalette[series_index % (sizeof(kPalette) / sizeof(kPalette[0]))];
}

// Validation / test curves are dashed, training curves solid.
bool is_dashed(const std::string& name) {
  return name.rfind("val", 0) == 0 || name.rfind("test", 0) == 0;
}

struct Series {
  std::string name;
  std::vector<double> y;  // NaN: no point at that epoch
};

// The columns for one panel: the requested ones, or every column whose name contains `needle`.
std::vector<Series> pick(const History& history, const std::vector<std::string>& requested,
                         const std::string& needle, const std::string& x_column) {
  std::vector<Series> out;
  if (!requested.empty()) {
    for (const auto& name : requested) out.push_back({name, history.column(name)});
    return out;
  }
  for (const auto& name : history.columns()) {
    if (name != x_column && name.find(needle) != std::string::npos) {
      out.push_back({name, history.column(name)});
    }
  }
  return out;
}

struct Box {
  double left, top, width, height;
  double right() const { return left + width; }
  double bottom() const { return top + height; }
};

void draw_panel(std::ostringstream& svg, const Box& box, const std::string& title,
                const std::string& y_label, const std::vector<double>& xs,
                std::vector<Series> series, bool as_percent, const CurveOptions& options) {
  // Panel title and frame of the plot area.
  svg << "  <text x=\"" << px(box.left + box.width / 2) << "\" y=\"" << px(box.top - 12)
      << "\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">" << xml_escape(title)
      << "</text>\n";
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  bool percent = as_percent;
  for (const auto& s : series) {
    for (const double v : s.y) {
      if (!std::isfinite(v)) continue;
      lo = std::min(lo, v);
      hi = std::max(hi, v);
      if (v < 0.0 || v > 1.0) percent = false;
    }
  }
  if (!(lo <= hi)) {  // nothing finite to draw
    svg << "  <text x=\"" << px(box.left + box.width / 2) << "\" y=\""
        << px(box.top + box.height / 2) << "\" text-anchor=\"middle\" fill=\"#888\">no data"
        << "</text>\n";
    return;
  }
  const double scale = percent ? 100.0 : 1.0;
  for (auto& s : series) {
    for (double& v : s.y) v *= scale;
  }
  lo *= scale;
  hi *= scale;
  if (hi - lo < 1e-12) {  // a flat line: give it some room
    const double pad = std::max(std::abs(lo) * 0.05, 1e-3);
    lo -= pad;
    hi += pad;
  }
  const std::vector<double> yticks = nice_ticks(lo, hi, 5);
  const double y0 = yticks.front(), y1 = yticks.back();
  const double ystep = yticks.size() > 1 ? yticks[1] - yticks[0] : 1.0;

  double xmin = xs.front(), xmax = xs.front();
  for (const double x : xs) {
    xmin = std::min(xmin, x);
    xmax = std::max(xmax, x);
  }
  if (xmax - xmin < 1e-12) {
    xmin -= 1.0;
    xmax += 1.0;
  }
  auto sx = [&](double x) { return box.left + (x - xmin) / (xmax - xmin) * box.width; };
  auto sy = [&](double y) { return box.bottom() - (y - y0) / (y1 - y0) * box.height; };

  // Horizontal grid lines and y tick labels.
  for (const double t : yticks) {
    svg << "  <line x1=\"" << px(box.left) << "\" y1=\"" << px(sy(t)) << "\" x2=\""
        << px(box.right()) << "\" y2=\"" << px(sy(t)) << "\" stroke=\"#e5e5e5\"/>\n";
    svg << "  <text x=\"" << px(box.left - 6) << "\" y=\"" << px(sy(t) + 4)
        << "\" text-anchor=\"end\" font-size=\"11\">" << tick_label(t, ystep, percent)
        << "</text>\n";
  }
  // x ticks at a 1-2-5 step that leaves room for the labels (whole numbers for epochs).
  double xstep = nice_step((xmax - xmin) / 8.0);
  if (options.x_whole_numbers) xstep = std::max(1.0, xstep);
  for (double t = std::ceil(xmin / xstep) * xstep; t <= xmax + 1e-9; t += xstep) {
    svg << "  <line x1=\"" << px(sx(t)) << "\" y1=\"" << px(box.bottom()) << "\" x2=\"" << px(sx(t))
        << "\" y2=\"" << px(box.bottom() + 5) << "\" stroke=\"#333\"/>\n";
    svg << "  <text x=\"" << px(sx(t)) << "\" y=\"" << px(box.bottom() + 18)
        << "\" text-anchor=\"middle\" font-size=\"11\">"
        << tick_label(t, options.x_whole_numbers ? 1.0 : xstep, false) << "</text>\n";
  }
  // Axes and their labels.
  svg << "  <line x1=\"" << px(box.left) << "\" y1=\"" << px(box.bottom()) << "\" x2=\""
      << px(box.right()) << "\" y2=\"" << px(box.bottom()) << "\" stroke=\"#333\"/>\n";
  svg << "  <line x1=\"" << px(box.left) << "\" y1=\"" << px(box.top) << "\" x2=\"" << px(box.left)
      << "\" y2=\"" << px(box.bottom()) << "\" stroke=\"#333\"/>\n";
  svg << "  <text x=\"" << px(box.left + box.width / 2) << "\" y=\"" << px(box.bottom() + 38)
      << "\" text-anchor=\"middle\" font-size=\"12\">" << xml_escape(options.x_label)
      << "</text>\n";
  const std::string ylab = percent ? y_label + " (%)" : y_label;
  svg << "  <text transform=\"translate(" << px(box.left - 48) << ","
      << px(box.top + box.height / 2) << ") rotate(-90)\" text-anchor=\"middle\" font-size=\"12\">"
      << xml_escape(ylab) << "</text>\n";

  // The series: a polyline through the finite points, and a dot on each; then the legend, top
  // right, on a translucent white box so that a curve passing under it stays readable.
  for (size_t i = 0; i < series.size(); ++i) {
    const Series& s = series[i];
    const char* color = color_of(i);
    const bool dashed = is_dashed(s.name);
    std::string points;
    for (size_t k = 0; k < s.y.size() && k < xs.size(); ++k) {
      if (!std::isfinite(s.y[k])) continue;
      points += (points.empty() ? "" : " ") + px(sx(xs[k])) + "," + px(sy(s.y[k]));
    }
    svg << "  <g class=\"series\" data-name=\"" << xml_escape(s.name) << "\">\n";
    svg << "    <polyline fill=\"none\" stroke=\"" << color << "\" stroke-width=\"2\""
        << (dashed ? " stroke-dasharray=\"6 4\"" : "") << " points=\"" << points << "\"/>\n";
    for (size_t k = 0; k < s.y.size() && k < xs.size(); ++k) {
      if (!std::isfinite(s.y[k])) continue;
      svg << "    <circle cx=\"" << px(sx(xs[k])) << "\" cy=\"" << px(sy(s.y[k]))
          << "\" r=\"3\" fill=\"" << color << "\"/>\n";
    }
    svg << "  </g>\n";
  }
  svg << "  <rect x=\"" << px(box.right() - 126) << "\" y=\"" << px(box.top + 2)
      << "\" width=\"122\" height=\"" << px(16.0 * static_cast<double>(series.size()) + 6)
      << "\" fill=\"white\" fill-opacity=\"0.8\"/>\n";
  for (size_t i = 0; i < series.size(); ++i) {
    const Series& s = series[i];
    const char* color = color_of(i);
    const bool dashed = is_dashed(s.name);
    const double ly = box.top + 14 + 16 * static_cast<double>(i);
    svg << "  <line x1=\"" << px(box.right() - 120) << "\" y1=\"" << px(ly - 4) << "\" x2=\""
        << px(box.right() - 96) << "\" y2=\"" << px(ly - 4) << "\" stroke=\"" << color
        << "\" stroke-width=\"2\"" << (dashed ? " stroke-dasharray=\"6 4\"" : "") << "/>\n";
    svg << "  <text x=\"" << px(box.right() - 90) << "\" y=\"" << px(ly) << "\" font-size=\"11\">"
        << xml_escape(s.name) << "</text>\n";
  }
}

}  // namespace

std::vector<double> nice_ticks(double lo, double hi, int target) {
  TT_CHECK_VALUE(std::isfinite(lo) && std::isfinite(hi) && lo <= hi && target >= 1,
                 "nice_ticks: need finite lo <= hi and target >= 1, got lo=", lo, " hi=", hi,
                 " target=", target);
  if (hi - lo < 1e-300) hi = lo + 1.0;
  const double step = nice_step((hi - lo) / target);
  const double first = std::floor(lo / step + 1e-9) * step;
  const double last = std::ceil(hi / step - 1e-9) * step;
  std::vector<double> ticks;
  for (int64_t i = 0;; ++i) {
    const double t = first + static_cast<double>(i) * step;  // no accumulated rounding
    ticks.push_back(t);
    if (t >= last - step * 1e-9) break;
  }
  return ticks;
}

std::string training_curve_svg(const History& history, const CurveOptions& options) {
  TT_CHECK_VALUE(options.width >= 200 && options.height >= 150,
                 "training_curve_svg: the picture must be at least 200×150 pixels, got ",
                 options.width, "×", options.height);
  std::vector<double> xs;
  if (history.contains(options.x_column)) {
    xs = history.column(options.x_column);
  } else {
    for (int64_t i = 1; i <= history.size(); ++i) xs.push_back(static_cast<double>(i));
  }
  const auto w = static_cast<double>(options.width), h = static_cast<double>(options.height);
  std::ostringstream svg;
  svg << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << options.width << "\" height=\""
      << options.height << "\" viewBox=\"0 0 " << options.width << " " << options.height
      << "\" font-family=\"sans-serif\">\n"
      << "  <title>" << xml_escape(options.title) << "</title>\n"
      << "  <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      << "  <text x=\"" << px(w / 2) << "\" y=\"22\" text-anchor=\"middle\" font-size=\"17\">"
      << xml_escape(options.title) << "</text>\n";
  if (history.empty()) {
    svg << "  <text x=\"" << px(w / 2) << "\" y=\"" << px(h / 2)
        << "\" text-anchor=\"middle\" fill=\"#888\">no epochs recorded yet</text>\n</svg>\n";
    return svg.str();
  }
  const double panel = w / 2;
  const double top = 64, bottom = 52, left = 70, right = 20;
  const Box loss_box{left, top, panel - left - right, h - top - bottom};
  const Box acc_box{panel + left, top, panel - left - right, h - top - bottom};
  draw_panel(svg, loss_box, options.left_title, options.left_y_label, xs,
             pick(history, options.loss_columns, "loss", options.x_column),
             /*as_percent=*/false, options);
  draw_panel(svg, acc_box, options.right_title, options.right_y_label, xs,
             pick(history, options.accuracy_columns, "acc", options.x_column),
             /*as_percent=*/true, options);
  svg << "</svg>\n";
  return svg.str();
}

void write_training_curve_svg(const History& history, const std::string& path,
                              const CurveOptions& options) {
  write_file_atomically(path, training_curve_svg(history, options));
}

std::string confusion_matrix_svg(const ConfusionMatrix& confusion, const std::string& title) {
  const int64_t C = confusion.num_classes();
  const auto& names = confusion.class_names();
  const auto label = [&](int64_t c) {
    return names.empty() ? std::to_string(c) : names[static_cast<size_t>(c)];
  };
  // Layout: a column of row labels, C × C cells, a recall column; the predicted labels above.
  constexpr double kCell = 46, kLabel = 96, kTop = 96, kRecall = 70, kMargin = 16;
  const double grid = kCell * static_cast<double>(C);
  const double width = kMargin + kLabel + grid + kRecall + kMargin;
  const double height = kTop + grid + 40;
  std::ostringstream svg;
  svg << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << px(width) << "\" height=\""
      << px(height) << "\" viewBox=\"0 0 " << px(width) << " " << px(height)
      << "\" font-family=\"sans-serif\">\n"
      << "  <title>" << xml_escape(title) << "</title>\n"
      << "  <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      << "  <text x=\"" << px(width / 2) << "\" y=\"22\" text-anchor=\"middle\" font-size=\"16\">"
      << xml_escape(title) << "</text>\n";
  const double x0 = kMargin + kLabel, y0 = kTop;
  svg << "  <text x=\"" << px(x0 + grid / 2) << "\" y=\"44\" text-anchor=\"middle\" "
      << "font-size=\"12\" fill=\"#555\">predicted class</text>\n"
      << "  <text x=\"" << px(kMargin) << "\" y=\"" << px(y0 - 8)
      << "\" font-size=\"12\" fill=\"#555\">true class</text>\n";
  for (int64_t j = 0; j < C; ++j) {  // column labels, slanted so long names fit
    const double x = x0 + kCell * (static_cast<double>(j) + 0.5);
    svg << "  <text transform=\"translate(" << px(x) << "," << px(y0 - 8)
        << ") rotate(-40)\" font-size=\"11\">" << xml_escape(label(j)) << "</text>\n";
  }
  svg << "  <text x=\"" << px(x0 + grid + kRecall / 2) << "\" y=\"" << px(y0 - 8)
      << "\" text-anchor=\"middle\" font-size=\"11\">recall</text>\n";
  for (int64_t i = 0; i < C; ++i) {
    int64_t row_total = 0;
    for (int64_t j = 0; j < C; ++j) row_total += confusion.at(i, j);
    const double y = y0 + kCell * static_cast<double>(i);
    svg << "  <text x=\"" << px(x0 - 6) << "\" y=\"" << px(y + kCell / 2 + 4)
        << "\" text-anchor=\"end\" font-size=\"11\">" << xml_escape(label(i)) << "</text>\n";
    for (int64_t j = 0; j < C; ++j) {
      const int64_t count = confusion.at(i, j);
      const double share =
          row_total > 0 ? static_cast<double>(count) / static_cast<double>(row_total) : 0.0;
      // White (share 0) to dark blue (share 1), in sRGB steps.
      const auto channel = [&](int dark) {
        return static_cast<int>(std::lround(255.0 - share * (255.0 - dark)));
      };
      const double x = x0 + kCell * static_cast<double>(j);
      svg << "  <rect x=\"" << px(x) << "\" y=\"" << px(y) << "\" width=\"" << px(kCell)
          << "\" height=\"" << px(kCell) << "\" fill=\"rgb(" << channel(8) << "," << channel(48)
          << "," << channel(107) << ")\" stroke=\"#ddd\"/>\n"
          << "  <text x=\"" << px(x + kCell / 2) << "\" y=\"" << px(y + kCell / 2 + 4)
          << "\" text-anchor=\"middle\" font-size=\"11\" fill=\""
          << (share > 0.5 ? "white" : "#222") << "\">" << count << "</text>\n";
    }
    const double recall = confusion.recall(i);
    svg << "  <text x=\"" << px(x0 + grid + kRecall / 2) << "\" y=\"" << px(y + kCell / 2 + 4)
        << "\" text-anchor=\"middle\" font-size=\"11\">"
        << (std::isnan(recall) ? std::string("–") : px(100.0 * recall) + "%") << "</text>\n";
  }
  char accuracy[64];
  std::snprintf(accuracy, sizeof(accuracy), "accuracy %.2f%% of %lld", 100.0 * confusion.accuracy(),
                static_cast<long long>(confusion.total()));
  svg << "  <text x=\"" << px(x0 + grid / 2) << "\" y=\"" << px(y0 + grid + 26)
      << "\" text-anchor=\"middle\" font-size=\"12\" fill=\"#555\">" << accuracy
      << "</text>\n</svg>\n";
  return svg.str();
}

void write_confusion_matrix_svg(const ConfusionMatrix& confusion, const std::string& path,
                                const std::string& title) {
  write_file_atomically(path, confusion_matrix_svg(confusion, title));
}

}  // namespace tinytorch::train
