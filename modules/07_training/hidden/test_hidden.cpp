// Module 07 — hidden (grader) tests: the same contracts as the visible tests, on cases a learner
// has not seen: brute-force metric checks on random data, Adam + cosine schedule resume with
// Dropout and worker threads, every truncation point of a checkpoint, mode kMax early stopping
// inside the Trainer, and the plain-lines progress output of a whole fit(). The checks are graded
// ones (tests/support/graded.h).
#include <cmath>
#include <limits>
#include <sstream>

#include <nlohmann/json.hpp>

#include "../tests/train_test_util.h"
#include "support/graded.h"

namespace tinytorch::test07 {
namespace {

TEST(Hidden, MetricsAgreeWithBruteForceOnRandomData) {
  Generator gen(2024);
  for (const int64_t classes : {2, 5, 13}) {
    const int64_t n = 257;
    const Tensor logits = randn({n, classes}, {}, &gen);
    const Tensor labels = randint(classes, {n}, kInt64, &gen);
    std::vector<int64_t> counts;
    int64_t correct = 0;
    TT_GRADE_EXPECTED_ONLY(
        const auto l = logits.contiguous().to_vector<float>();
        const auto y = labels.to_vector<int64_t>();
        counts.assign(static_cast<size_t>(classes * classes), 0); for (int64_t i = 0; i < n; ++i) {
          int64_t best = 0;
          for (int64_t c = 1; c < classes; ++c) {
            if (l[static_cast<size_t>(i * classes + c)] >
                l[static_cast<size_t>(i * classes + best)]) {
              best = c;
            }
          }
          correct += best == y[static_cast<size_t>(i)] ? 1 : 0;
          ++counts[static_cast<size_t>(y[static_cast<size_t>(i)] * classes + best)];
        });
    TT_GRADE_EQ(train::count_correct(logits, labels), correct);
    train::ConfusionMatrix cm(classes);
    // In uneven batches: the matrix accumulates.
    cm.update(logits.narrow(0, 0, 100), labels.narrow(0, 0, 100));
    cm.update(logits.narrow(0, 100, 157), labels.narrow(0, 100, 157));
    TT_GRADE_EQ(test::values_as_int(cm.matrix()), counts);
    int64_t present = 0;  // classes with a defined recall
    for (int64_t c = 0; c < classes; ++c) {
      if (!std::isnan(cm.recall(c))) ++present;
    }
    TT_GRADE_GT(present, 0);
    TT_GRADE_DOUBLE_EQ(cm.accuracy(), static_cast<double>(correct) / static_cast<double>(n));
  }
}

TEST(Hidden, NonContiguousInputsWork) {
  const Tensor logits = tensor({{0.1, 3.0}, {2.0, 0.0}, {0.0, 1.0}}).t().contiguous().t();
  const Tensor wide = tensor({{0.1, 2.0, 0.0}, {3.0, 0.0, 1.0}}).t();  // [3, 2], strided
  const Tensor labels = tensor({1, 0, 0, 9}).narrow(0, 0, 3);
  TT_GRADE_EQ(train::count_correct(wide, labels), 2);
  TT_GRADE_EQ(train::count_correct(logits, labels), 2);
  train::ConfusionMatrix cm(2);
  cm.update(wide, labels);
  TT_GRADE_EQ(cm.at(0, 1), 1);
}

// Adam + CosineAnnealingLR + Dropout + 2 workers, checkpoint after epoch 3 of 5.
struct AdamRun {
  explicit AdamRun(uint64_t seed, std::string out = "")
      : model((manual_seed(seed), make_model())),
        optimizer(model->parameters(), optim::AdamOptions(3e-3)),
        scheduler(optimizer, 5),
        loader(make_problem(80, 11),
               {.batch_size = 12, .shuffle = true, .num_workers = 2, .seed = seed + 1}),
        val(make_problem(30, 12), {.batch_size = 7, .shuffle = true, .seed = seed + 2}),
        trainer(model, optimizer, cross_entropy_loss, loader, &val, silent(std::move(out))) {
    trainer.set_scheduler(&scheduler);
  }
  nn::Sequential model;
  optim::Adam optimizer;
  optim::CosineAnnealingLR scheduler;
  data::DataLoader loader;
  data::DataLoader val;
  train::Trainer trainer;
};

TEST(Hidden, AdamCosineResumeIsExact) {
  TempDir dir;
  AdamRun full(31);
  full.trainer.fit(5);
  {
    AdamRun part(31, dir.path().string());
    part.trainer.fit(3);
  }
  AdamRun resumed(1);
  resumed.trainer.resume(dir.file("checkpoint.ttc"));
  resumed.trainer.fit(5);
  TT_GRADE_TRUE(same_state(*full.model, *resumed.model));
  for (const char* c : {"train_loss", "train_acc", "val_loss", "val_acc", "lr"}) {
    TT_GRADE_TRUE(same_column(full.trainer.history(), resumed.trainer.history(), c));
  }
  const auto a = full.optimizer.state_dict(), b = resumed.optimizer.state_dict();
  for (const auto& [key, value] : a) TT_GRADE_TRUE(value.equal(b[key])) << key;
}

TEST(Hidden, EveryTruncationOfACheckpointIsAnError) {
  TempDir dir;
  AdamRun run(4);
  run.trainer.fit(1);
  const std::string path = dir.file("ckpt.ttc");
  run.trainer.save_checkpoint(path);
  const std::string bytes = read_file(path);
  int64_t checked = 0;
  for (size_t keep = 0; keep < bytes.size(); keep += std::max<size_t>(1, bytes.size() / 97)) {
    write_file(path, bytes.substr(0, keep));
    TT_GRADE_THROW(train::load_checkpoint(path), Error) << "cut to " << keep << " bytes";
    ++checked;
  }
  TT_GRADE_GT(checked, 90);
  // And flipping any one of a sample of bytes.
  for (size_t at = 0; at < bytes.size(); at += bytes.size() / 31 + 1) {
    std::string bad = bytes;
    bad[at] = static_cast<char>(bad[at] ^ 0x20);
    write_file(path, bad);
    TT_GRADE_THROW(train::load_checkpoint(path), Error) << "byte " << at << " flipped";
  }
}

TEST(Hidden, CheckpointOfAnotherOptimizerLeavesEverythingUnchanged) {
  AdamRun a(6);
  a.trainer.fit(1);
  const train::Checkpoint ckpt = a.trainer.checkpoint();
  manual_seed(9);
  nn::Sequential model = make_model();
  optim::SGD sgd(model->parameters(), optim::SGDOptions(0.1).momentum(0.9));
  optim::CosineAnnealingLR sched(sgd, 5);
  Generator gen(77);
  const std::string gen_before = serialize::generator_state(gen);
  const Tensor w = model[0]->as<nn::Linear>()->weight.clone();
  TT_GRADE_THROW_WITH(train::restore_checkpoint(ckpt, {.model = model.ptr().get(),
                                                       .optimizer = &sgd,
                                                       .scheduler = &sched,
                                                       .generators = {{"default", &gen}}}),
                      Error, "optimizer state does not fit", "Adam");
  TT_GRADE_TRUE(model[0]->as<nn::Linear>()->weight.equal(w));
  TT_GRADE_TRUE(serialize::generator_state(gen) == gen_before);
}

TEST(Hidden, EarlyStoppingOnAnAccuracyInTheTrainer) {
  AdamRun run(8);
  train::TrainerOptions options = silent();
  options.early_stopping = train::EarlyStoppingOptions{
      .monitor = "val_acc", .mode = train::MonitorMode::kMax, .patience = 1, .min_delta = 2.0};
  // min_delta 2.0: no accuracy can improve by more than 1, so only the first epoch improves.
  train::Trainer trainer(run.model, run.optimizer, cross_entropy_loss, run.loader, &run.val,
                         options);
  trainer.fit(6);
  TT_GRADE_EQ(trainer.epoch(), 2);
  TT_GRADE_TRUE(trainer.stopped_early());
  TT_GRADE_EQ(trainer.early_stopping()->best_epoch(), 1);
}

TEST(Hidden, LinesModePrintsExactlyOneLinePerEpoch) {
  std::ostringstream out;
  AdamRun run(10);
  train::TrainerOptions options;
  options.progress.mode = train::ProgressMode::kLines;
  options.progress.out = &out;
  options.early_stopping = train::EarlyStoppingOptions{.patience = 100};
  train::Trainer trainer(run.model, run.optimizer, cross_entropy_loss, run.loader, &run.val,
                         options);
  trainer.fit(3);
  const std::string text = out.str();
  TT_GRADE_EQ(count_of(text, "\n"), 3) << text;
  TT_GRADE_LACKS(text, "\r");
  TT_GRADE_EQ(count_of(text, "epoch "), 3);
  TT_GRADE_CONTAINS(text, "epoch 3/3", "val_acc", "samples/s");
}

TEST(Hidden, JsonAndCsvRoundTripTheValuesExactly) {
  train::History h;
  Generator gen(5);
  for (int e = 1; e <= 4; ++e) {
    h.append(
        {{"epoch", e}, {"train_loss", gen.uniform_double()}, {"val_acc", gen.uniform_double()}});
  }
  const test::json doc = test::json::parse(train::history_to_json(h));
  std::istringstream csv(train::history_to_csv(h));
  std::string line;
  std::getline(csv, line);  // header
  for (int64_t r = 0; r < h.size(); ++r) {
    TT_GRADE_EQ(doc.at("epochs").at(r).at("train_loss").get<double>(), h.at(r, "train_loss"));
    std::getline(csv, line);
    const auto first = line.find(','), second = line.find(',', first + 1);
    TT_GRADE_EQ(std::stod(line.substr(first + 1, second - first - 1)), h.at(r, "train_loss"));
    TT_GRADE_EQ(std::stod(line.substr(second + 1)), h.at(r, "val_acc"));
  }
}

}  // namespace
}  // namespace tinytorch::test07
