// Part 5 — early stopping: the patience / min_delta rule, step by step, against sequences from
// tests/data/module07_reference.json ("early_stopping", Keras' rule written out in Python).
#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include "train_test_util.h"

namespace tinytorch::test07 {
namespace {

using test::json;

TEST(EarlyStopping, FollowsTheRuleStepByStep) {
  for (const json& c : test::load_reference("module07_reference.json").at("early_stopping")) {
    const std::string name = c.at("name").get<std::string>();
    SCOPED_TRACE(name);
    train::EarlyStopping stopper(
        {.monitor = "x",
         .mode = c.at("mode") == "min" ? train::MonitorMode::kMin : train::MonitorMode::kMax,
         .patience = c.at("patience").get<int64_t>(),
         .min_delta = c.at("min_delta").get<double>()});
    const json& values = c.at("values");
    for (size_t i = 0; i < values.size(); ++i) {
      const bool stop = stopper.step(test::json_to_double(values[i]));
      EXPECT_EQ(stopper.improved(), c.at("improved").at(i).get<bool>()) << "step " << i + 1;
      EXPECT_EQ(stopper.wait(), c.at("wait").at(i).get<int64_t>()) << "step " << i + 1;
      EXPECT_EQ(stop, c.at("stop").at(i).get<bool>()) << "step " << i + 1;
      EXPECT_EQ(stopper.should_stop(), stop);
    }
    EXPECT_EQ(stopper.best(), test::json_to_double(c.at("best")));
    EXPECT_EQ(stopper.best_epoch(), c.at("best_epoch").get<int64_t>());
    EXPECT_EQ(stopper.epochs_seen(), static_cast<int64_t>(values.size()));
  }
}

TEST(EarlyStopping, MinDeltaIsStrict) {
  // 0.40 → 0.39 is exactly min_delta better: not MORE than min_delta, so no improvement.
  train::EarlyStopping stopper({.patience = 1, .min_delta = 0.25});
  EXPECT_FALSE(stopper.step(1.0));
  EXPECT_TRUE(stopper.improved());
  EXPECT_TRUE(stopper.step(0.75));
  EXPECT_FALSE(stopper.improved());
  EXPECT_EQ(stopper.best(), 1.0);
}

TEST(EarlyStopping, StartsFreshAndResets) {
  train::EarlyStopping min_mode({.mode = train::MonitorMode::kMin});
  EXPECT_EQ(min_mode.best(), std::numeric_limits<double>::infinity());
  train::EarlyStopping max_mode({.mode = train::MonitorMode::kMax, .patience = 2});
  EXPECT_EQ(max_mode.best(), -std::numeric_limits<double>::infinity());
  max_mode.step(0.5);
  max_mode.step(0.4);
  max_mode.step(0.3);
  EXPECT_TRUE(max_mode.should_stop());
  max_mode.reset();
  EXPECT_FALSE(max_mode.should_stop());
  EXPECT_EQ(max_mode.best_epoch(), 0);
  EXPECT_EQ(max_mode.epochs_seen(), 0);
}

TEST(EarlyStopping, StateRoundTripsExactly) {
  train::EarlyStopping a({.patience = 4, .min_delta = 1e-3});
  for (const double v : {0.9, 0.1 + 0.2, 0.31, 0.32}) a.step(v);
  train::EarlyStopping b({.patience = 4, .min_delta = 1e-3});
  b.load_state_string(a.state_string());
  EXPECT_EQ(b.best(), a.best());  // 0.30000000000000004, bit for bit
  EXPECT_EQ(b.best_epoch(), a.best_epoch());
  EXPECT_EQ(b.wait(), a.wait());
  EXPECT_EQ(b.epochs_seen(), a.epochs_seen());
  EXPECT_EQ(b.improved(), a.improved());
  // From here on both make the same decisions.
  for (const double v : {0.33, 0.29, 0.5, 0.5, 0.5, 0.5}) EXPECT_EQ(a.step(v), b.step(v));
  TT_EXPECT_THROW_WITH(b.load_state_string("nonsense"), Error, "malformed");
}

TEST(EarlyStopping, RejectsBadOptions) {
  TT_EXPECT_THROW_WITH(train::EarlyStopping({.patience = 0}), ValueError, "patience");
  TT_EXPECT_THROW_WITH(train::EarlyStopping({.min_delta = -0.1}), ValueError, "min_delta");
}

}  // namespace
}  // namespace tinytorch::test07
