// Module 07 — early stopping. Learner region: EarlyStopping::step (the rule).
#include "tinytorch/train/early_stopping.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <utility>

#include "tinytorch/core/exception.h"

namespace tinytorch::train {

namespace {
double worst_value(MonitorMode mode) {
  return mode == MonitorMode::kMin ? std::numeric_limits<double>::infinity()
                                   : -std::numeric_limits<double>::infinity();
}
}  // namespace

EarlyStopping::EarlyStopping(EarlyStoppingOptions options)
    : options_(std::move(options)), best_(worst_value(options_.mode)) {
  TT_CHECK_VALUE(options_.patience >= 1, "EarlyStopping: patience must be at least 1, got ",
                 options_.patience);
  TT_CHECK_VALUE(options_.min_delta >= 0.0, "EarlyStopping: min_delta must be >= 0, got ",
                 options_.min_delta);
}

bool EarlyStopping::step(double value) {
  // BEGIN SOLUTION
  ++epochs_seen_;
  const bool better = options_.mode == MonitorMode::kMin ? value < best_ - options_.min_delta
                                                         : value > best_ + options_.min_delta;
  improved_ = better;  // a NaN compares false: never an improvement
  if (better) {
    best_ = value;
    best_epoch_ = epochs_seen_;
    wait_ = 0;
  } else {
    ++wait_;
  }
  return should_stop();
  // END SOLUTION
}

void EarlyStopping::reset() {
  best_ = worst_value(options_.mode);
  best_epoch_ = 0;
  wait_ = 0;
  epochs_seen_ = 0;
  improved_ = false;
}

std::string EarlyStopping::state_string() const {
  // %a writes the double in hexadecimal: exact, and strtod reads it back bit for bit.
  char best[64];
  std::snprintf(best, sizeof(best), "%a", best_);
  std::ostringstream os;
  os << best << ' ' << best_epoch_ << ' ' << wait_ << ' ' << epochs_seen_ << ' '
     << (improved_ ? 1 : 0);
  return os.str();
}

void EarlyStopping::load_state_string(const std::string& state) {
  std::istringstream in(state);
  std::string best;
  int64_t best_epoch = 0, wait = 0, seen = 0;
  int improved = 0;
  in >> best >> best_epoch >> wait >> seen >> improved;
  char* end = nullptr;
  const double value = in.fail() ? 0.0 : std::strtod(best.c_str(), &end);
  TT_CHECK(!in.fail() && end != nullptr && *end == '\0' && wait >= 0 && seen >= 0,
           "EarlyStopping: malformed saved state '", state, "'");
  best_ = value;
  best_epoch_ = best_epoch;
  wait_ = wait;
  epochs_seen_ = seen;
  improved_ = improved != 0;
}

}  // namespace tinytorch::train
