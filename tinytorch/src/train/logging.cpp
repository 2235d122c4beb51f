// Module 07 — metric logs on disk (given code: read it, nothing to implement).
#include "tinytorch/train/logging.h"

#include <charconv>
#include <cmath>
#include <filesystem>
#include <limits>
#include <system_error>

#include <nlohmann/json.hpp>

#include "tinytorch/core/exception.h"
#include "tinytorch/serialize/archive.h"

namespace tinytorch::train {

void write_file_atomically(const std::string& path, std::string_view contents) {
  serialize::write_file_atomically(path, contents);  // one implementation, shared with save()
}

std::string format_number(double value) {
  if (std::isnan(value)) return "";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buf[64];
  const auto result = std::to_chars(buf, buf + sizeof(buf), value);  // shortest round trip
  return std::string(buf, result.ptr);
}

namespace {

// RFC 4180: a field with a comma, quote or newline is quoted, quotes doubled.
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (const char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

nlohmann::ordered_json json_number(double v) {
  if (std::isnan(v)) return nullptr;
  // Integral values (epoch, sample counts) as JSON integers: "epoch": 3, not 3.0.
  if (std::isfinite(v) && v == std::floor(v) && std::abs(v) < 9.0e15) {
    return static_cast<int64_t>(v);
  }
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";  // JSON has no infinity
  return v;
}

}  // namespace

std::string history_to_csv(const History& history) {
  std::string out;
  const auto& columns = history.columns();
  for (size_t c = 0; c < columns.size(); ++c) out += (c ? "," : "") + csv_field(columns[c]);
  out += "\n";
  for (int64_t r = 0; r < history.size(); ++r) {
    const Metrics row = history.row(r);
    size_t c = 0;
    for (const auto& [name, value] : row) out += (c++ ? "," : "") + format_number(value);
    out += "\n";
  }
  return out;
}

std::string history_to_json(const History& history) {
  // Written by hand at the top level so that "columns" comes first and each epoch is one line;
  // nlohmann::ordered_json keeps each row's keys in column order.
  std::string out =
      "{\n  \"columns\": " + nlohmann::json(history.columns()).dump() + ",\n  \"epochs\": [";
  for (int64_t r = 0; r < history.size(); ++r) {
    nlohmann::ordered_json row = nlohmann::ordered_json::object();
    for (const auto& [name, value] : history.row(r)) row[name] = json_number(value);
    out += (r ? ",\n    " : "\n    ") + row.dump();
  }
  out += history.empty() ? "]\n}\n" : "\n  ]\n}\n";
  return out;
}

void write_csv(const History& history, const std::string& path) {
  write_file_atomically(path, history_to_csv(history));
}

void write_json(const History& history, const std::string& path) {
  write_file_atomically(path, history_to_json(history));
}

std::vector<std::string> write_logs(const History& history, const std::string& directory,
                                    const CurveOptions& curve) {
  std::error_code ec;
  std::filesystem::create_directories(directory, ec);
  TT_CHECK(!ec, "write_logs: cannot create directory '", directory, "': ", ec.message());
  const std::filesystem::path dir(directory);
  const std::string csv = (dir / kMetricsCsv).string();
  const std::string json = (dir / kMetricsJson).string();
  const std::string svg = (dir / kTrainingCurveSvg).string();
  write_csv(history, csv);
  write_json(history, json);
  write_training_curve_svg(history, svg, curve);
  return {csv, json, svg};
}

}  // namespace tinytorch::train
