// tinytorch/train/checkpoint.h — save a training run and resume it exactly (module 07).
//
//   train::TrainingState state{.model = model.ptr().get(), .optimizer = &opt,
//                              .scheduler = &sched,
//                              .generators = {{"default", &default_generator()},
//                                             {"train_loader", &train_loader.generator()}}};
//   train::save_checkpoint(train::capture_checkpoint(state, epoch, history), "run/ckpt.ttc");
//   ...
//   train::Checkpoint ckpt = train::load_checkpoint("run/ckpt.ttc");   // checks the file
//   train::restore_checkpoint(ckpt, state);                           // checks it fits
//   // continue with epoch ckpt.epoch + 1: same numbers as if training had never stopped
//
// What "resume exactly" needs — everything that decides the next epoch's numbers:
//
//   ┌─────────────────── checkpoint (one file) ───────────────────┐
//   │ model      parameters + buffers          model.<key>        │ what was learned
//   │ optimizer  momentum / Adam moments, step  optimizer.<key>   │ forget them: a different
//   │ scheduler  last_epoch, lrs                scheduler.<key>   │ trajectory from here on
//   │ masters    float32 copies of bf16/f16     master_weights.   │ (amp::MasterWeights, when
//   │            parameters                      <key>            │ training uses them)
//   │ scaler     float16's loss scale, growth   grad_scaler.<key> │ (amp::GradScaler, idem)
//   │            count                                            │
//   │ epoch      epochs completed               "epoch"           │
//   │ RNG        default generator (Dropout,    rng.default       │ forget them: different
//   │            init) and each DataLoader's    rng.train_loader  │ shuffles and dropout masks
//   │ history    every metric so far            history.<column>  │ logs and curves continue
//   │ extra      e.g. early-stopping state      extra.<key>       │
//   └──────────────── + format name, version, CRC-32 ─────────────┘
//
// The file is a serialize::Archive (serialize/archive.h): written atomically (temporary file,
// then rename), with a CRC-32 over every byte, so a crash mid-save never leaves a half file and
// a flipped or missing byte is an error, not silently wrong weights. PyTorch's equivalent is a
// dict passed to torch.save — {"model": model.state_dict(), "optimizer": opt.state_dict(),
// "epoch": e, ...} — and restoring RNG states is left to the user (torch.get_rng_state()).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "tinytorch/core/generator.h"
#include "tinytorch/core/ordered_dict.h"
#include "tinytorch/core/tensor.h"
#include "tinytorch/nn/module.h"
#include "tinytorch/optim/lr_scheduler.h"
#include "tinytorch/optim/optimizer.h"
#include "tinytorch/train/metrics.h"

namespace tinytorch::amp {
class GradScaler;
class MasterWeights;
}  // namespace tinytorch::amp

namespace tinytorch::train {

// The "format" entry of every checkpoint, and the version this build writes and reads.
inline constexpr const char* kCheckpointFormat = "tinytorch-training-checkpoint";
inline constexpr int64_t kCheckpointVersion = 1;

// A checkpoint in memory. Its tensors are copies: training on does not change it.
struct Checkpoint {
  int64_t epoch = 0;  // epochs completed when it was taken
  OrderedDict<std::string, Tensor> model{"Model key"};
  OrderedDict<std::string, Tensor> optimizer{"Optimizer key"};  // empty: saved without one
  OrderedDict<std::string, Tensor> scheduler{"Scheduler key"};  // empty: saved without one
  OrderedDict<std::string, Tensor> master_weights{"Master weights key"};  // empty: without
  OrderedDict<std::string, Tensor> grad_scaler{"Grad scaler key"};        // empty: without
  OrderedDict<std::string, std::string> generators{"Generator"};  // name → generator state text
  History history;
  OrderedDict<std::string, std::string> extra{"Extra key"};  // free-form text entries
  std::string model_repr;  // the model as printed when saved (shown when it does not fit)
  std::string source;      // the file it was loaded from, for error messages ("" if none)
};

// The live objects a checkpoint is taken from and restored into. Only `model` is required.
struct TrainingState {
  nn::Module* model = nullptr;
  optim::Optimizer* optimizer = nullptr;
  optim::LRScheduler* scheduler = nullptr;
  // Every random generator whose stream training reads, by a name of your choice:
  // {"default", &default_generator()} (Dropout, random init), {"train_loader",
  // &train_loader.generator()} (the shuffle order and augmentation of each epoch), ...
  std::vector<std::pair<std::string, Generator*>> generators{};
};

// A copy of everything in `state`, plus the epoch and history.
Checkpoint capture_checkpoint(const TrainingState& state, int64_t epoch,
                              const History& history = {});

// Puts a checkpoint back into the live objects. All or nothing: if anything does not fit — the
// model's keys or shapes (a checkpoint of another model), the optimizer type or its parameter
// count, a scheduler saved but not given (or the reverse), a generator that was not saved — it
// throws tinytorch::Error naming the file and the mismatch, and every object is left as it was.
// (Master weights saved in the checkpoint are skipped: evaluating needs only the model.)
void restore_checkpoint(const Checkpoint& checkpoint, const TrainingState& state);

// What mixed-precision training adds to the state (amp/, module 22); either may be null.
struct AmpState {
  // Float32 copies of a bfloat16/float16 model's parameters (amp/master_weights.h);
  // TrainingState::optimizer is then the one built over the copies.
  amp::MasterWeights* master_weights = nullptr;
  // float16's dynamic loss scale (amp/grad_scaler.h): the scale and its growth tracker decide
  // which of the next steps are skipped, so a resumed run needs them.
  amp::GradScaler* grad_scaler = nullptr;
};

// The same two with the mixed-precision state: what `amp` points to goes into
// Checkpoint::master_weights / grad_scaler and comes back from them, all or nothing as above.
// Restoring an object the checkpoint was saved without is an error naming the file.
Checkpoint capture_checkpoint(const TrainingState& state, const AmpState& amp, int64_t epoch,
                              const History& history = {});
void restore_checkpoint(const Checkpoint& checkpoint, const TrainingState& state,
                        const AmpState& amp);

// Writes `checkpoint` to `path` atomically (the directory must exist).
void save_checkpoint(const Checkpoint& checkpoint, const std::string& path);
// Reads a checkpoint. Throws tinytorch::Error naming the path when the file is missing, not a
// tinytorch archive, truncated, corrupt (checksum), not a training checkpoint, of a newer
// version, or malformed.
Checkpoint load_checkpoint(const std::string& path);

}  // namespace tinytorch::train
