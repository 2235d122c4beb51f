// Module 08 hidden (grader) tests: harder DataLoader and dataset cases. The checks are graded
// ones (tests/support/graded.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <numeric>
#include <set>
#include <stdexcept>

#include "support/graded.h"
#include "support/reference.h"
#include "support/temp_dir.h"
#include "tinytorch/tinytorch.h"

namespace tt = tinytorch;
namespace td = tinytorch::data;

namespace {

td::TensorDataset counting(int64_t n) {
  tt::Tensor ids = tt::arange(n, tt::kInt64);
  return td::TensorDataset(ids.to(tt::kFloat32).unsqueeze(1), ids);
}

std::vector<int64_t> epoch_targets(td::DataLoader& loader) {
  std::vector<int64_t> out;
  for (auto& b : loader)
    for (int64_t v : b.target.to_vector<int64_t>()) out.push_back(v);
  return out;
}

// A dataset that throws for one index, to check error propagation from workers.
class Faulty : public td::Dataset {
 public:
  explicit Faulty(int64_t bad) : bad_(bad) {}
  td::Example<> get(int64_t i) const override {
    if (i == bad_) throw std::runtime_error("cannot decode sample " + std::to_string(i));
    return {tt::full({2}, static_cast<double>(i)), tt::full({}, i, tt::kInt64)};
  }
  int64_t size() const override { return 64; }

 private:
  int64_t bad_;
};

TEST(Hidden, ManyWorkersTinyBatchesKeepOrder) {
  td::DataLoader ref(counting(257), {.batch_size = 1, .shuffle = true, .seed = 77});
  td::DataLoader par(
      counting(257),
      {.batch_size = 1, .shuffle = true, .num_workers = 8, .prefetch_factor = 1, .seed = 77});
  for (int epoch = 0; epoch < 3; ++epoch) {
    auto a = epoch_targets(ref), b = epoch_targets(par);
    TT_GRADE_TRUE(a == b) << "epoch " << epoch << ": 8 workers change the order";
    std::sort(b.begin(), b.end());
    std::vector<int64_t> all(257);
    TT_GRADE_EXPECTED_ONLY(std::iota(all.begin(), all.end(), 0));
    TT_GRADE_EQ(b, all);
  }
}

TEST(Hidden, WorkerExceptionReachesTheConsumerAtItsBatch) {
  for (int64_t workers : {0, 1, 3}) {
    td::DataLoader loader(std::make_shared<Faulty>(37), {.batch_size = 4, .num_workers = workers});
    int64_t batches_before = 0;
    bool thrown = false;
    try {
      for (auto& b : loader) {
        static_cast<void>(b);
        ++batches_before;
      }
    } catch (const std::runtime_error& e) {
      thrown = true;
      TT_GRADE_CONTAINS(std::string(e.what()), "cannot decode sample 37");
    }
    TT_GRADE_TRUE(thrown) << "workers " << workers;
    TT_GRADE_EQ(batches_before, 9) << "batches 0..8 come before the batch holding sample 37";
  }
}

TEST(Hidden, RandomSplitDisjointAndSeeded) {
  tt::Generator g1(1), g2(1);
  auto a = td::random_split(counting(100), {50, 30, 20}, g1);
  auto b = td::random_split(counting(100), {50, 30, 20}, g2);
  std::set<int64_t> seen;
  int64_t repeated = 0;
  for (size_t p = 0; p < a.size(); ++p) {
    TT_GRADE_TRUE(a[p].indices() == b[p].indices()) << "part " << p << " of the same seed";
    for (int64_t i : a[p].indices()) repeated += !seen.insert(i).second;
  }
  TT_GRADE_EQ(repeated, 0) << "indices in two parts";
  TT_GRADE_EQ(seen.size(), 100u);
  // A Subset plugs into a DataLoader like any Dataset.
  td::DataLoader loader(a[2], {.batch_size = 7, .num_workers = 2});
  TT_GRADE_TRUE(epoch_targets(loader) == a[2].indices());
}

TEST(Hidden, RepeatedEarlyStopsAndAbandonedIterators) {
  td::DataLoader loader(counting(500), {.batch_size = 3, .shuffle = true, .num_workers = 4});
  for (int i = 0; i < 20; ++i) {
    auto it = loader.begin();  // abandoned after one batch: workers must be stopped and joined
    TT_GRADE_EQ(it->target.size(0), 3);
  }
  TT_GRADE_EQ(epoch_targets(loader).size(), 500u);
}

TEST(Hidden, LoaderOutlivedByIterator) {
  std::optional<td::DataLoader::Iterator> it;
  {
    td::DataLoader loader(counting(20), {.batch_size = 4, .num_workers = 2});
    it.emplace(loader.begin());
  }
  int64_t n = 0;
  for (; *it != std::default_sentinel; ++*it) n += (**it).target.size(0);
  TT_GRADE_EQ(n, 20);
}

TEST(Hidden, MismatchedSampleShapesNameTheEntry) {
  class Ragged : public td::Dataset {
   public:
    td::Example<> get(int64_t i) const override {
      return {tt::zeros({i + 1}), tt::full({}, i, tt::kInt64)};
    }
    int64_t size() const override { return 4; }
  };
  td::DataLoader loader(std::make_shared<Ragged>(), {.batch_size = 2, .num_workers = 1});
  TT_GRADE_THROW_WITH(loader.begin(), tt::ValueError, "stack", "[1]", "[2]", "entry 1");
}

// CIFAR-10: every byte value in every plane, the last pixel of the blue plane, labels 0 and 9
// (the edges of the valid range) and 255 (far outside it).
TEST(Hidden, Cifar10EveryByteValueAndLabelEdges) {
  tt::test::TempDir dir("tt08h");
  const auto write = [&](const std::string& name, const std::vector<unsigned char>& labels) {
    std::string bytes;
    for (const unsigned char label : labels) {
      bytes += static_cast<char>(label);
      for (int i = 0; i < 3072; ++i) bytes += static_cast<char>((i + label) % 256);
    }
    std::ofstream(dir.file(name), std::ios::binary) << bytes;
  };
  write("ok.bin", {9, 0});
  const td::TensorDataset ds = td::read_cifar10({dir.file("ok.bin")});
  TT_GRADE_EQ(ds.targets().to_vector<int64_t>(), (std::vector<int64_t>{9, 0}));
  std::vector<float> want;  // label 9: bytes (i + 9) % 256
  TT_GRADE_EXPECTED_ONLY(for (int i = 0; i < 3072; ++i)
                             want.push_back(static_cast<float>((i + 9) % 256) / 255.0f));
  TT_GRADE_FLOAT_EQ(ds.data()[0].contiguous().to_vector<float>(), want);
  TT_GRADE_FLOAT_EQ(ds.data()[1][2][31][31].item<float>(), 3071 % 256 / 255.0f);  // last blue pixel
  write("bad.bin", {0, 255});
  TT_GRADE_THROW_WITH(td::read_cifar10({dir.file("bad.bin")}), tt::Error, "record 1",
                      "has label 255");
}

}  // namespace
