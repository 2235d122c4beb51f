// Module 07 — the progress bar (given code: read it, nothing to implement).
#include "tinytorch/train/progress.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <sstream>

#include <unistd.h>

namespace tinytorch::train {

namespace {

double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Characters a terminal shows for a UTF-8 string (every byte that does not continue a sequence).
size_t display_width(const std::string& s) {
  size_t n = 0;
  for (const char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

std::string format_value(const std::string& name, double v) {
  std::ostringstream os;
  os << name << ' ';
  if (!std::isfinite(v)) {
    os << v;
  } else if (name.find("acc") != std::string::npos && v >= 0.0 && v <= 1.0) {
    os << std::fixed << std::setprecision(2) << 100.0 * v << '%';  // accuracies as percent
  } else {
    os << std::fixed << std::setprecision(4) << v;
  }
  return os.str();
}

}  // namespace

bool stdout_is_terminal() {
  return ::isatty(STDOUT_FILENO) == 1;
}

ProgressMode resolve_progress_mode(const ProgressOptions& options) {
  if (options.mode != ProgressMode::kAuto) return options.mode;
  const bool to_stdout = options.out == nullptr || options.out == &std::cout;
  return to_stdout && stdout_is_terminal() ? ProgressMode::kBar : ProgressMode::kLines;
}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto total = static_cast<int64_t>(std::llround(seconds));
  const int64_t h = total / 3600, m = (total / 60) % 60, s = total % 60;
  char buf[48];
  if (h > 0) {
    std::snprintf(buf, sizeof(buf), "%lld:%02lld:%02lld", static_cast<long long>(h),
                  static_cast<long long>(m), static_cast<long long>(s));
  } else {
    std::snprintf(buf, sizeof(buf), "%lld:%02lld", static_cast<long long>(m),
                  static_cast<long long>(s));
  }
  return buf;
}

std::string format_count(double value) {
  if (!std::isfinite(value)) return "?";
  const bool negative = value < 0;
  std::string digits = std::to_string(std::llround(std::abs(value)));
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return negative ? "-" + out : out;
}

ProgressBar::ProgressBar(std::string label, int64_t total, ProgressOptions options)
    : label_(std::move(label)),
      total_(std::max<int64_t>(total, 0)),
      options_(std::move(options)),
      mode_(resolve_progress_mode(options_)),
      out_(options_.out != nullptr ? options_.out : &std::cout),
      start_(now()) {}

ProgressBar::~ProgressBar() {
  if (finished_) return;
  try {
    finish();
  } catch (...) {  // NOLINT(bugprone-empty-catch): a destructor must not throw
  }
}

double ProgressBar::now() const {
  return options_.clock ? options_.clock() : steady_seconds();
}

double ProgressBar::elapsed() const {
  return std::max(0.0, now() - start_);
}

double ProgressBar::samples_per_second() const {
  // Up to the last update(), so that work done after the last step (a validation pass before
  // finish()) does not dilute the training rate.
  const double t = steps_ > 0 ? last_update_ - start_ : 0.0;
  return t > 0 ? static_cast<double>(samples_) / t : 0.0;
}

double ProgressBar::eta() const {
  if (total_ == 0 || steps_ == 0) return -1.0;
  return elapsed() / static_cast<double>(steps_) * static_cast<double>(total_ - steps_);
}

std::string ProgressBar::render(bool final_line) const {
  std::ostringstream os;
  os << label_;
  if (mode_ == ProgressMode::kBar && !final_line && total_ > 0) {
    const int width = std::max(1, options_.bar_width);
    const auto filled = static_cast<int>(static_cast<double>(width) *
                                         static_cast<double>(std::min(steps_, total_)) /
                                         static_cast<double>(total_));
    os << " [";
    for (int i = 0; i < width; ++i) os << (i < filled ? "█" : "░");
    os << ']';
  }
  const std::string total = total_ > 0 ? std::to_string(total_) : "?";
  os << "  " << std::setw(static_cast<int>(total.size())) << steps_ << '/' << total;
  for (const auto& [name, value] : values_) os << "  " << format_value(name, value);
  os << "  " << format_count(samples_per_second()) << " samples/s";
  if (final_line) {
    os << "  " << std::fixed << std::setprecision(1) << elapsed() << " s";
  } else if (total_ > 0) {
    os << "  ETA " << format_duration(eta());
  }
  return os.str();
}

void ProgressBar::draw() {
  const std::string line = render();
  const size_t width = display_width(line);
  // '\r' returns to the start of the line; spaces blank what a longer previous line left.
  *out_ << '\r' << line << std::string(drawn_width_ > width ? drawn_width_ - width : 0, ' ')
        << std::flush;
  drawn_width_ = width;
}

void ProgressBar::update(int64_t samples, Values values) {
  ++steps_;
  samples_ += samples;
  values_ = std::move(values);
  const double t = now();
  last_update_ = t;
  if (mode_ != ProgressMode::kBar) return;
  if (t - last_draw_ >= options_.min_interval || steps_ == total_) {
    last_draw_ = t;
    draw();
  }
}

void ProgressBar::finish(const std::string& summary) {
  if (finished_) return;
  finished_ = true;
  if (mode_ == ProgressMode::kSilent) return;
  std::string line = render(/*final_line=*/true);
  if (!summary.empty()) line += "  " + summary;
  if (mode_ == ProgressMode::kBar) {
    const size_t width = display_width(line);
    *out_ << '\r' << line << std::string(drawn_width_ > width ? drawn_width_ - width : 0, ' ');
  } else {
    *out_ << line;
  }
  *out_ << '\n' << std::flush;
}

}  // namespace tinytorch::train
