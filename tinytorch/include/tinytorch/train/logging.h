// tinytorch/train/logging.h — the run's record on disk (module 07): metrics as CSV and JSON,
// and the training-curve picture (SVG), all written atomically.
//
//   train::write_logs(history, "runs/1986");   // metrics.csv, metrics.json, training_curve.svg
//
//   metrics.csv                               metrics.json
//   epoch,train_loss,train_acc,val_acc        {"columns": ["epoch", "train_loss", ...],
//   1,0.5213,0.8142,0.8391                     "epochs": [{"epoch": 1, "train_loss": 0.5213,
//   2,0.3862,0.8601,0.8580                                  ...}, ...]}
//
// Why atomic: the logs are rewritten after every epoch, and a plotting script or a person may
// read them while training runs, or the run may be killed mid-write. Each file is written to a
// temporary name in the same directory and renamed over the old one: a reader sees the old file
// or the new one, never half of one. (TensorBoard and Weights & Biases append event records
// instead; a rewrite is simpler and a few KB per epoch is nothing.)
//
// Numbers are written in the shortest form that reads back to the same double (std::to_chars),
// so a log can be compared exactly; a missing value (NaN) is an empty CSV cell / a JSON null.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tinytorch/train/metrics.h"
#include "tinytorch/train/plot.h"

namespace tinytorch::train {

// Writes `contents` to `path` atomically (temporary file + rename). Throws tinytorch::Error
// naming the path when the directory does not exist or the write fails.
void write_file_atomically(const std::string& path, std::string_view contents);

// The shortest text that reads back as exactly `value` ("0.1", "88", "1e-05"); "" for NaN,
// "inf" / "-inf" for the infinities.
std::string format_number(double value);

// The history as CSV: a header row of column names, then one row per epoch.
std::string history_to_csv(const History& history);
// The history as JSON: {"columns": [...], "epochs": [{name: value, ...}, ...]} (NaN → null).
std::string history_to_json(const History& history);

void write_csv(const History& history, const std::string& path);
void write_json(const History& history, const std::string& path);

// The file names write_logs uses inside its directory.
inline constexpr const char* kMetricsCsv = "metrics.csv";
inline constexpr const char* kMetricsJson = "metrics.json";
inline constexpr const char* kTrainingCurveSvg = "training_curve.svg";
// The test set's confusion matrix, drawn by the milestones that classify (plot.h).
inline constexpr const char* kConfusionMatrixSvg = "confusion_matrix.svg";

// Writes metrics.csv, metrics.json and training_curve.svg into `directory` (created if missing)
// and returns their paths.
std::vector<std::string> write_logs(const History& history, const std::string& directory,
                                    const CurveOptions& curve = {});

}  // namespace tinytorch::train
