// Part 8 — the Trainer: resuming from a checkpoint continues exactly like an uninterrupted run
// (with shuffling, Dropout and worker threads), early stopping, files written every epoch, hooks.
#include <nlohmann/json.hpp>

#include "train_test_util.h"

namespace tinytorch::test07 {
namespace {

// Everything one training run needs, built the same way every time from `seed`.
struct TrainingRun {
  explicit TrainingRun(uint64_t seed, std::string out_dir = "", int64_t workers = 2)
      : model((manual_seed(seed), make_model())),
        optimizer(model->parameters(), optim::SGDOptions(0.05).momentum(0.9)),
        scheduler(optimizer, 2, 0.5),
        train_loader(make_problem(96, 1),
                     {.batch_size = 16, .shuffle = true, .num_workers = workers, .seed = seed}),
        val_loader(make_problem(40, 2), {.batch_size = 16}),
        trainer(model, optimizer, cross_entropy_loss, train_loader, &val_loader,
                silent(std::move(out_dir))) {
    trainer.set_scheduler(&scheduler);
  }
  nn::Sequential model;
  optim::SGD optimizer;
  optim::StepLR scheduler;
  data::DataLoader train_loader;
  data::DataLoader val_loader;
  train::Trainer trainer;
};

const char* const kDeterministicColumns[] = {"epoch",    "train_loss", "train_acc",
                                             "val_loss", "val_acc",    "lr"};

TEST(Trainer, ResumingGivesBitIdenticalResults) {
  TempDir dir;
  // The uninterrupted run: 5 epochs.
  TrainingRun full(42);
  full.trainer.fit(5);

  // The interrupted run: 2 epochs, checkpoint written to out_dir after each epoch ...
  {
    TrainingRun first(42, dir.path().string());
    first.trainer.fit(2);
  }
  // ... then a "new process": other random state, freshly built objects, resume, 3 more epochs.
  manual_seed(12345);
  static_cast<void>(randn({100}));
  TrainingRun second(777);
  second.trainer.resume(dir.file("checkpoint.ttc"));
  EXPECT_EQ(second.trainer.epoch(), 2);
  second.trainer.fit(5);

  EXPECT_TRUE(same_state(*full.model, *second.model));
  ASSERT_EQ(second.trainer.history().size(), 5);
  for (const char* column : kDeterministicColumns) {
    EXPECT_TRUE(same_column(full.trainer.history(), second.trainer.history(), column));
  }
  EXPECT_EQ(serialize::generator_state(full.train_loader.generator()),
            serialize::generator_state(second.train_loader.generator()));
}

TEST(Trainer, ResumingWithoutTheRandomStateWouldDiverge) {
  // The control for the test above: restore the weights, optimizer and scheduler but NOT the
  // generators, and the next epochs differ (other shuffles, other dropout masks). This is why a
  // checkpoint stores them.
  TrainingRun full(42);
  full.trainer.fit(3);
  TrainingRun first(42);
  first.trainer.fit(2);
  const train::Checkpoint ckpt = train::capture_checkpoint({.model = first.model.ptr().get(),
                                                            .optimizer = &first.optimizer,
                                                            .scheduler = &first.scheduler},
                                                           2);
  TrainingRun second(777);
  train::restore_checkpoint(ckpt, {.model = second.model.ptr().get(),
                                   .optimizer = &second.optimizer,
                                   .scheduler = &second.scheduler});
  second.trainer.fit(1);  // its own epoch counter: one epoch, from the restored weights
  EXPECT_FALSE(same_state(*full.model, *second.model));
}

TEST(Trainer, SameSeedSameNumbersAndWorkerCountDoesNotMatter) {
  // One after the other: both runs draw Dropout masks from the one default generator.
  TrainingRun a(9, "", /*workers=*/0);
  a.trainer.fit(2);
  TrainingRun b(9, "", /*workers=*/3);
  b.trainer.fit(2);
  EXPECT_TRUE(same_state(*a.model, *b.model));
  for (const char* column : kDeterministicColumns) {
    EXPECT_TRUE(same_column(a.trainer.history(), b.trainer.history(), column));
  }
}

TEST(Trainer, RecordsTheHistoryAndWritesItsFilesEveryEpoch) {
  TempDir dir;
  TrainingRun run(3, dir.path().string());
  int64_t epochs_seen = 0, batches_seen = 0;
  run.trainer.on_batch_end([&](train::Trainer&, int64_t, const train::StepResult& r) {
    ++batches_seen;
    EXPECT_TRUE(std::isfinite(r.loss));
  });
  run.trainer.on_epoch_end([&](train::Trainer& t, const train::Metrics& m) {
    ++epochs_seen;
    EXPECT_EQ(m["epoch"], static_cast<double>(t.epoch()));
    // The files on disk already hold this epoch.
    EXPECT_EQ(train::load_checkpoint(dir.file("checkpoint.ttc")).epoch, t.epoch());
    EXPECT_EQ(count_of(read_file(dir.file("metrics.csv")), "\n"), t.epoch() + 1);
  });
  const train::History& h = run.trainer.fit(3);
  EXPECT_EQ(epochs_seen, 3);
  EXPECT_EQ(batches_seen, 3 * 6);  // 96 samples / 16
  EXPECT_EQ(h.columns(),
            (std::vector<std::string>{"epoch", "train_loss", "train_acc", "val_loss", "val_acc",
                                      "lr", "epoch_seconds", "samples_per_second"}));
  // The lr each epoch trained with: StepLR(2, 0.5) steps after each epoch and first decays on
  // its 3rd step() (libtorch's timing), so a 4th epoch would train with 0.025.
  EXPECT_EQ(h.column("lr"), (std::vector<double>{0.05, 0.05, 0.05}));
  EXPECT_EQ(run.scheduler.get_last_lr(), (std::vector<double>{0.025}));
  EXPECT_LT(h.at(-1, "train_loss"), h.at(0, "train_loss")) << "it should learn something";
  EXPECT_GT(h.at(-1, "samples_per_second"), 0.0);
  const std::string csv = read_file(dir.file("metrics.csv"));
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "epoch,train_loss,train_acc,val_loss,val_acc,lr,epoch_seconds,samples_per_second");
  EXPECT_EQ(read_file(dir.file("metrics.json")), train::history_to_json(h));
  EXPECT_NE(read_file(dir.file("training_curve.svg")).find("<polyline"), std::string::npos);
  // fit(N) counts epochs in total: nothing left to do.
  run.trainer.fit(3);
  EXPECT_EQ(run.trainer.history().size(), 3);
}

TEST(Trainer, EarlyStoppingEndsTheRunAndSurvivesAResume) {
  TempDir dir;
  // lr = 0: nothing is learned, val_loss never improves after epoch 1: patience 2 stops after 3.
  auto make = [&](const std::string& out) {
    auto run = std::make_unique<TrainingRun>(5, out);
    run->optimizer.param_groups()[0].options().set_lr(0.0);
    return run;
  };
  auto with_stopping = [](TrainingRun& run, const std::string& out) {
    train::TrainerOptions options = silent(out);
    options.early_stopping = train::EarlyStoppingOptions{.monitor = "val_loss", .patience = 2};
    return std::make_unique<train::Trainer>(run.model, run.optimizer, cross_entropy_loss,
                                            run.train_loader, &run.val_loader, options);
  };
  auto run = make("");
  auto trainer = with_stopping(*run, dir.path().string());
  trainer->fit(10);
  EXPECT_TRUE(trainer->stopped_early());
  EXPECT_EQ(trainer->epoch(), 3);
  EXPECT_EQ(trainer->early_stopping()->best_epoch(), 1);
  EXPECT_EQ(trainer->early_stopping()->wait(), 2);

  // A resumed trainer knows it had stopped, and so does not train on.
  auto run2 = make("");
  auto trainer2 = with_stopping(*run2, "");
  trainer2->resume(dir.file("checkpoint.ttc"));
  EXPECT_TRUE(trainer2->stopped_early());
  trainer2->fit(10);
  EXPECT_EQ(trainer2->epoch(), 3);

  // A monitored metric that is never recorded is an error that names what is.
  auto run3 = make("");
  train::TrainerOptions options = silent();
  options.early_stopping = train::EarlyStoppingOptions{.monitor = "val_f1"};
  train::Trainer bad(run3->model, run3->optimizer, cross_entropy_loss, run3->train_loader,
                     &run3->val_loader, options);
  TT_EXPECT_THROW_WITH(bad.fit(1), Error, "val_f1", "val_loss");
}

TEST(Trainer, RequestStopFromAHook) {
  TrainingRun run(6);
  run.trainer.on_epoch_end([](train::Trainer& t, const train::Metrics&) {
    if (t.epoch() == 2) t.request_stop();
  });
  run.trainer.fit(5);
  EXPECT_EQ(run.trainer.epoch(), 2);
  EXPECT_FALSE(run.trainer.stopped_early());
}

TEST(Trainer, ResumingIntoADifferentModelIsAClearError) {
  TempDir dir;
  {
    TrainingRun run(1, dir.path().string());
    run.trainer.fit(1);
  }
  nn::Sequential other(nn::Linear(8, 4));
  optim::SGD opt(other->parameters(), optim::SGDOptions(0.1));
  data::DataLoader loader(make_problem(16, 1), {.batch_size = 8});
  train::Trainer trainer(other, opt, cross_entropy_loss, loader, nullptr, silent());
  TT_EXPECT_THROW_WITH(trainer.resume(dir.file("checkpoint.ttc")), Error, "checkpoint.ttc",
                       "different model");
  EXPECT_EQ(trainer.epoch(), 0);
}

}  // namespace
}  // namespace tinytorch::test07
