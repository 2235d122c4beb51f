// Part 7 — the run's record on disk: metrics.csv, metrics.json (atomic writes) and the
// training-curve SVG.
#include <cmath>
#include <limits>
#include <sstream>

#include <nlohmann/json.hpp>

#include "train_test_util.h"

namespace tinytorch::test07 {
namespace {

using test::json;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

train::History three_epochs() {
  train::History h;
  h.append({{"epoch", 1},
            {"train_loss", 0.9},
            {"train_acc", 0.6},
            {"val_loss", 0.8},
            {"val_acc", 0.65}});
  h.append({{"epoch", 2},
            {"train_loss", 0.5},
            {"train_acc", 0.8},
            {"val_loss", kNaN},
            {"val_acc", 0.75}});
  h.append({{"epoch", 3},
            {"train_loss", 0.3},
            {"train_acc", 0.9},
            {"val_loss", 0.4},
            {"val_acc", 0.85}});
  return h;
}

TEST(Logging, FormatsNumbersShortestAndExact) {
  EXPECT_EQ(train::format_number(0.1), "0.1");
  EXPECT_EQ(train::format_number(3.0), "3");
  EXPECT_EQ(train::format_number(1e-5), "1e-05");
  EXPECT_EQ(train::format_number(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(train::format_number(kNaN), "");
  EXPECT_EQ(train::format_number(-std::numeric_limits<double>::infinity()), "-inf");
  for (const double v : {0.4646693685690562, 1.0 / 3.0, 6.02e23, -2.5e-300}) {
    EXPECT_EQ(std::stod(train::format_number(v)), v) << "must read back exactly";
  }
}

TEST(Logging, CsvHasAHeaderAndOneRowPerEpoch) {
  EXPECT_EQ(train::history_to_csv(three_epochs()),
            "epoch,train_loss,train_acc,val_loss,val_acc\n"
            "1,0.9,0.6,0.8,0.65\n"
            "2,0.5,0.8,,0.75\n"
            "3,0.3,0.9,0.4,0.85\n");
  train::History odd;
  odd.append({{"a,b", 1}, {"say \"hi\"", 2}});
  EXPECT_EQ(train::history_to_csv(odd), "\"a,b\",\"say \"\"hi\"\"\"\n1,2\n");
}

TEST(Logging, JsonListsColumnsAndEpochs) {
  const json doc = json::parse(train::history_to_json(three_epochs()));
  EXPECT_EQ(doc.at("columns"), json({"epoch", "train_loss", "train_acc", "val_loss", "val_acc"}));
  ASSERT_EQ(doc.at("epochs").size(), 3U);
  const json& e2 = doc.at("epochs").at(1);
  EXPECT_TRUE(e2.at("epoch").is_number_integer());
  EXPECT_EQ(e2.at("epoch").get<int64_t>(), 2);
  EXPECT_DOUBLE_EQ(e2.at("train_loss").get<double>(), 0.5);
  EXPECT_TRUE(e2.at("val_loss").is_null()) << "NaN is written as null";
  // Each row keeps the column order.
  const std::string text = train::history_to_json(three_epochs());
  EXPECT_LT(text.find("\"train_loss\":0.9"), text.find("\"val_acc\":0.65"));
  EXPECT_EQ(json::parse(train::history_to_json({})).at("epochs").size(), 0U);
}

TEST(Logging, WritesAtomicallyAndReplacesOldFiles) {
  TempDir dir;
  const std::string path = dir.file("metrics.csv");
  write_file(path, "old contents that are longer than the new ones\n");
  train::write_csv(three_epochs(), path);
  EXPECT_EQ(read_file(path), train::history_to_csv(three_epochs()));
  // No temporary files are left behind.
  int64_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    static_cast<void>(entry);
    ++files;
  }
  EXPECT_EQ(files, 1);
  TT_EXPECT_THROW_WITH(train::write_file_atomically(dir.file("no/such/dir/x.json"), "{}"), Error,
                       "no/such/dir", "directory");
}

TEST(Logging, WriteLogsMakesTheDirectoryAndThreeFiles) {
  TempDir dir;
  const std::string out = dir.file("run/logs");
  const auto paths = train::write_logs(three_epochs(), out);
  ASSERT_EQ(paths.size(), 3U);
  EXPECT_EQ(read_file(out + "/metrics.csv"), train::history_to_csv(three_epochs()));
  EXPECT_EQ(read_file(out + "/metrics.json"), train::history_to_json(three_epochs()));
  EXPECT_EQ(read_file(out + "/training_curve.svg"), train::training_curve_svg(three_epochs()));
}

void expect_ticks(const std::vector<double>& got, const std::vector<double>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-12) << "tick " << i;
}

TEST(Plot, NiceTicks) {
  expect_ticks(train::nice_ticks(0.23, 0.61, 5), {0.2, 0.3, 0.4, 0.5, 0.6, 0.7});
  expect_ticks(train::nice_ticks(0, 10, 5), {0, 2, 4, 6, 8, 10});
  expect_ticks(train::nice_ticks(83.2, 89.9, 5), {83, 84, 85, 86, 87, 88, 89, 90});
  expect_ticks(train::nice_ticks(0.8, 9.5, 4), {0, 2, 4, 6, 8, 10});
  expect_ticks(train::nice_ticks(-0.03, 0.012, 5), {-0.03, -0.02, -0.01, 0.0, 0.01, 0.02});
  TT_EXPECT_THROW_WITH(train::nice_ticks(1, 0), ValueError, "lo <= hi");
}

// The points of each <polyline> in the SVG, in order. (Plain string search: std::regex trips a
// GCC 12 false -Wmaybe-uninitialized in the sanitizer build.)
std::vector<std::vector<std::pair<double, double>>> polylines(const std::string& svg) {
  std::vector<std::vector<std::pair<double, double>>> out;
  const std::string attr = "points=\"";
  for (size_t at = svg.find("<polyline"); at != std::string::npos;
       at = svg.find("<polyline", at + 1)) {
    const size_t begin = svg.find(attr, at) + attr.size();
    const size_t end = svg.find('"', begin);
    std::vector<std::pair<double, double>> pts;
    std::istringstream in(svg.substr(begin, end - begin));
    std::string pair;
    while (in >> pair) {
      const auto comma = pair.find(',');
      pts.emplace_back(std::stod(pair.substr(0, comma)), std::stod(pair.substr(comma + 1)));
    }
    out.push_back(pts);
  }
  return out;
}

TEST(Plot, DrawsLossAndAccuracyWithAxesLabelsAndLegend) {
  train::CurveOptions options;
  options.title = "MLP <test> & curves";
  const std::string svg = train::training_curve_svg(three_epochs(), options);
  EXPECT_EQ(svg.rfind("<?xml", 0), 0U);
  EXPECT_NE(svg.find("<svg xmlns=\"http://www.w3.org/2000/svg\""), std::string::npos);
  EXPECT_EQ(svg.substr(svg.size() - 7), "</svg>\n");
  EXPECT_NE(svg.find("MLP &lt;test&gt; &amp; curves"), std::string::npos) << "escaped title";
  EXPECT_NE(svg.find(">Loss</text>"), std::string::npos);
  EXPECT_NE(svg.find(">Accuracy</text>"), std::string::npos);
  EXPECT_EQ(count_of(svg, ">epoch</text>"), 2) << "an x label per panel";
  EXPECT_NE(svg.find(">loss</text>"), std::string::npos);
  EXPECT_NE(svg.find(">accuracy (%)</text>"), std::string::npos);
  for (const char* name : {"train_loss", "val_loss", "train_acc", "val_acc"}) {
    EXPECT_NE(svg.find(std::string(">") + name + "</text>"), std::string::npos) << name;
  }
  // Four series; val_loss has a NaN at epoch 2, so 3 + 2 + 3 + 3 points.
  const auto lines = polylines(svg);
  ASSERT_EQ(lines.size(), 4U);
  EXPECT_EQ(lines[0].size(), 3U);
  EXPECT_EQ(lines[1].size(), 2U);
  EXPECT_EQ(count_of(svg, "<circle"), 11);
  // train_loss falls, so its y pixel grows (SVG's y points down); x moves right.
  EXPECT_LT(lines[0][0].second, lines[0][1].second);
  EXPECT_LT(lines[0][1].second, lines[0][2].second);
  EXPECT_LT(lines[0][0].first, lines[0][1].first);
  // train_acc rises: its y pixel shrinks; it is drawn in the right-hand panel.
  EXPECT_GT(lines[2][0].second, lines[2][2].second);
  EXPECT_GT(lines[2][0].first, 480.0);
  // Accuracy ticks are percentages; the tick labels are inside the picture.
  EXPECT_NE(svg.find(">60%</text>"), std::string::npos) << svg;
  // Validation curves are dashed.
  EXPECT_EQ(count_of(svg, "stroke-dasharray"), 4) << "2 dashed lines + 2 legend entries";
}

TEST(Plot, EmptyAndSingleEpochHistoriesStillMakeAPicture) {
  const std::string empty = train::training_curve_svg({});
  EXPECT_NE(empty.find("no epochs recorded yet"), std::string::npos);
  EXPECT_NE(empty.find("</svg>"), std::string::npos);
  train::History one;
  one.append({{"epoch", 1}, {"train_loss", 0.5}});
  const std::string svg = train::training_curve_svg(one);
  EXPECT_EQ(polylines(svg).size(), 1U);
  EXPECT_NE(svg.find("no data"), std::string::npos) << "no accuracy column: said so";
  TT_EXPECT_THROW_WITH(train::training_curve_svg(one, {.width = 10}), ValueError, "200");
}

// The confusion matrix's picture: one cell per (true, predicted) pair with its count, shaded by
// its share of the row; the recall column; escaped names; written atomically like the curve.
TEST(Plot, ConfusionMatrixHeatMap) {
  train::ConfusionMatrix cm(3, {"cat", "dog", "<b>"});
  // true 0: 8 right, 2 as class 1; true 1: 5 right; true 2: never seen.
  cm.update(tensor({0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1}),   // predicted
            tensor({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1}));  // true
  const std::string svg = train::confusion_matrix_svg(cm, "pets & co");
  EXPECT_EQ(svg.rfind("<?xml", 0), 0U);
  EXPECT_EQ(svg.substr(svg.size() - 7), "</svg>\n");
  EXPECT_NE(svg.find("pets &amp; co"), std::string::npos);
  EXPECT_NE(svg.find("&lt;b&gt;"), std::string::npos) << "class names are escaped";
  EXPECT_EQ(count_of(svg, "<rect x="), 9) << "a cell per pair";
  EXPECT_NE(svg.find(">8</text>"), std::string::npos);
  EXPECT_NE(svg.find(">80.0%</text>"), std::string::npos) << "recall of class 0";
  EXPECT_NE(svg.find(">100.0%</text>"), std::string::npos) << "recall of class 1";
  EXPECT_NE(svg.find(">–</text>"), std::string::npos) << "class 2 never occurred";
  // Shades: the diagonal cell of row 1 (share 1) is the darkest blue, an empty cell white.
  EXPECT_NE(svg.find("fill=\"rgb(8,48,107)\""), std::string::npos);
  EXPECT_NE(svg.find("fill=\"rgb(255,255,255)\""), std::string::npos);
  EXPECT_NE(svg.find("accuracy 86.67% of 15"), std::string::npos);
  TempDir dir;
  const std::string path = dir.file("cm.svg");
  train::write_confusion_matrix_svg(cm, path, "pets & co");
  EXPECT_EQ(read_file(path), svg);
}

}  // namespace
}  // namespace tinytorch::test07
