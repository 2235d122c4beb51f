// Part 4 — checkpoints: a whole training run in one versioned, checksummed file; clear errors
// for damaged files and for checkpoints of another model; restore is all or nothing.
#include <cstdio>

#include "train_test_util.h"

namespace tinytorch::test07 {
namespace {

// A model, an optimizer that has taken two steps (so it has state), a scheduler, a loader.
struct Fixture {
  nn::Sequential model = make_model();
  optim::SGD optimizer{model->parameters(), optim::SGDOptions(0.1).momentum(0.9)};
  optim::StepLR scheduler{optimizer, 1, 0.5};
  data::DataLoader loader{make_problem(32, 1), {.batch_size = 8, .shuffle = true, .seed = 5}};

  Fixture() {
    for (int i = 0; i < 2; ++i) {
      for (auto& batch : loader)
        train::train_step(forward_of_model(), cross_entropy_loss, optimizer, batch);
      scheduler.step();
    }
  }
  train::ForwardFn forward_of_model() { return train::forward_of(model); }
  train::TrainingState state() {
    return {.model = model.ptr().get(),
            .optimizer = &optimizer,
            .scheduler = &scheduler,
            .generators = {{"default", &default_generator()}, {"loader", &loader.generator()}}};
  }
};

train::History some_history() {
  train::History h;
  h.append({{"epoch", 1}, {"train_loss", 0.7}});
  h.append({{"epoch", 2}, {"train_loss", 0.1 + 0.2}, {"val_acc", 0.5}});
  return h;
}

TEST(Checkpoint, RoundTripsEverythingExactly) {
  TempDir dir;
  manual_seed(11);
  Fixture a;
  train::Checkpoint saved = train::capture_checkpoint(a.state(), 2, some_history());
  saved.extra.insert("note", "hello");
  train::save_checkpoint(saved, dir.file("ckpt.ttc"));
  const std::string default_state = serialize::generator_state(default_generator());
  const std::string loader_state = serialize::generator_state(a.loader.generator());

  // A different run: other weights, no optimizer state yet, other random streams.
  manual_seed(99);
  Fixture b;
  b.loader.generator().manual_seed(123);
  default_generator().manual_seed(456);
  ASSERT_FALSE(same_state(*a.model, *b.model));

  const train::Checkpoint loaded = train::load_checkpoint(dir.file("ckpt.ttc"));
  EXPECT_EQ(loaded.epoch, 2);
  EXPECT_EQ(loaded.source, dir.file("ckpt.ttc"));
  EXPECT_TRUE(loaded.history == some_history());
  EXPECT_EQ(loaded.extra.at("note"), "hello");
  EXPECT_EQ(loaded.model_repr, a.model->to_string());
  train::restore_checkpoint(loaded, b.state());

  EXPECT_TRUE(same_state(*a.model, *b.model));
  const auto sa = a.optimizer.state_dict(), sb = b.optimizer.state_dict();
  ASSERT_EQ(sa.keys(), sb.keys());
  for (const auto& [key, value] : sa) EXPECT_TRUE(value.equal(sb[key])) << key;
  EXPECT_EQ(b.scheduler.last_epoch(), a.scheduler.last_epoch());
  EXPECT_EQ(b.scheduler.get_last_lr(), a.scheduler.get_last_lr());
  EXPECT_EQ(b.optimizer.param_groups()[0].options().get_lr(), 0.05);  // StepLR(1, 0.5), 2 steps
  EXPECT_EQ(serialize::generator_state(default_generator()), default_state);
  EXPECT_EQ(serialize::generator_state(b.loader.generator()), loader_state);
}

TEST(Checkpoint, TheCheckpointIsASnapshot) {
  manual_seed(3);
  Fixture a;
  const train::Checkpoint ckpt = train::capture_checkpoint(a.state(), 2);
  const Tensor before = ckpt.model["0.weight"].clone();
  for (auto& batch : a.loader)
    train::train_step(a.forward_of_model(), cross_entropy_loss, a.optimizer, batch);
  EXPECT_TRUE(ckpt.model["0.weight"].equal(before)) << "training on must not change a checkpoint";
  EXPECT_FALSE(a.model[0]->as<nn::Linear>()->weight.equal(before));
}

TEST(Checkpoint, FlippedByteIsACorruptionError) {
  TempDir dir;
  Fixture a;
  const std::string path = dir.file("ckpt.ttc");
  train::save_checkpoint(train::capture_checkpoint(a.state(), 2), path);
  std::string bytes = read_file(path);
  bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x01);  // one bit
  write_file(path, bytes);
  TT_EXPECT_THROW_WITH(train::load_checkpoint(path), Error, path, "corrupt", "checksum");
}

TEST(Checkpoint, TruncatedFileIsAnError) {
  TempDir dir;
  Fixture a;
  const std::string path = dir.file("ckpt.ttc");
  train::save_checkpoint(train::capture_checkpoint(a.state(), 2), path);
  const std::string bytes = read_file(path);
  for (const size_t keep : {bytes.size() - 1, bytes.size() / 2, size_t{20}, size_t{3}}) {
    write_file(path, bytes.substr(0, keep));
    try {
      train::load_checkpoint(path);
      ADD_FAILURE() << "a file cut to " << keep << " bytes was accepted";
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(path), std::string::npos) << what;
      EXPECT_TRUE(what.find("truncated") != std::string::npos ||
                  what.find("not a tinytorch archive") != std::string::npos)
          << what;
    }
  }
  std::remove(path.c_str());
  TT_EXPECT_THROW_WITH(train::load_checkpoint(path), Error, path, "cannot open");
}

TEST(Checkpoint, OtherArchivesAndVersionsAreRefused) {
  TempDir dir;
  Fixture a;
  // A bare state dict saved with serialize::save is an archive, but not a checkpoint.
  serialize::Archive bare;
  bare.tensors = a.model->state_dict();
  serialize::save(bare, dir.file("state.tta"));
  TT_EXPECT_THROW_WITH(train::load_checkpoint(dir.file("state.tta")), Error, "state.tta",
                       "not a training checkpoint");
  // A checkpoint from a newer build.
  serialize::Archive future;
  future.strings.insert("format", train::kCheckpointFormat);
  future.strings.insert("version", "2");
  future.strings.insert("epoch", "1");
  serialize::save(future, dir.file("future.ttc"));
  TT_EXPECT_THROW_WITH(train::load_checkpoint(dir.file("future.ttc")), Error, "version 2",
                       "reads version 1");
}

TEST(Checkpoint, ADifferentModelIsAClearErrorAndChangesNothing) {
  TempDir dir;
  manual_seed(5);
  Fixture a;
  train::save_checkpoint(train::capture_checkpoint(a.state(), 2), dir.file("ckpt.ttc"));
  const train::Checkpoint ckpt = train::load_checkpoint(dir.file("ckpt.ttc"));

  // Another width: same keys, other shapes.
  nn::Sequential wider(nn::Linear(8, 32), nn::ReLU(), nn::Dropout(0.25), nn::Linear(32, 4));
  const Tensor w_before = wider[0]->as<nn::Linear>()->weight.clone();
  TT_EXPECT_THROW_WITH(train::restore_checkpoint(ckpt, {.model = wider.ptr().get()}), Error,
                       "ckpt.ttc", "different model", "size mismatch", "0.weight", "Sequential(");
  EXPECT_TRUE(wider[0]->as<nn::Linear>()->weight.equal(w_before));

  // Another architecture: missing keys (2.weight, 2.bias) and unexpected ones (3.weight, 3.bias).
  nn::Sequential other(nn::Linear(8, 16), nn::ReLU(), nn::Linear(16, 4));
  TT_EXPECT_THROW_WITH(train::restore_checkpoint(ckpt, {.model = other.ptr().get()}), Error,
                       "different model", "Missing key(s)", "2.weight", "Unexpected key(s)",
                       "3.weight");
}

TEST(Checkpoint, RestoreIsAllOrNothing) {
  TempDir dir;
  manual_seed(6);
  Fixture a;
  const train::Checkpoint ckpt =
      train::capture_checkpoint({.model = a.model.ptr().get(), .optimizer = &a.optimizer}, 2);
  // Same model shape, but an Adam instead of the SGD that was saved: the model must not be
  // left half restored when the optimizer does not fit.
  manual_seed(7);
  nn::Sequential model = make_model();
  optim::Adam adam(model->parameters(), optim::AdamOptions(1e-3));
  const auto before = model->state_dict();
  std::vector<Tensor> copies;
  for (const auto& item : before) copies.push_back(item.value().clone());
  TT_EXPECT_THROW_WITH(
      train::restore_checkpoint(ckpt, {.model = model.ptr().get(), .optimizer = &adam}), Error,
      "optimizer state does not fit");
  size_t i = 0;
  for (const auto& item : model->state_dict()) {
    EXPECT_TRUE(item.value().equal(copies[i++])) << item.key() << " changed by a failed restore";
  }
}

TEST(Checkpoint, MissingPiecesAreNamed) {
  manual_seed(8);
  Fixture a;
  const train::Checkpoint no_sched =
      train::capture_checkpoint({.model = a.model.ptr().get(), .optimizer = &a.optimizer}, 1);
  TT_EXPECT_THROW_WITH(train::restore_checkpoint(no_sched, a.state()), Error, "StepLR",
                       "no scheduler state");
  const train::Checkpoint full = train::capture_checkpoint(a.state(), 1);
  TT_EXPECT_THROW_WITH(
      train::restore_checkpoint(full, {.model = a.model.ptr().get(), .optimizer = &a.optimizer}),
      Error, "no scheduler was given");
  Generator extra(1);
  train::TrainingState more = a.state();
  more.generators.emplace_back("val_loader", &extra);
  TT_EXPECT_THROW_WITH(train::restore_checkpoint(full, more), Error, "val_loader",
                       "default, loader");
  TT_EXPECT_THROW_WITH(train::capture_checkpoint({}, 1), Error, "model is null");
}

}  // namespace
}  // namespace tinytorch::test07
