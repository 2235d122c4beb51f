// Module 07 — training checkpoints. Learner regions: capture_checkpoint, restore_checkpoint.
// The file format (save_checkpoint / load_checkpoint) is given.
#include "tinytorch/train/checkpoint.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string_view>

#include "tinytorch/amp/grad_scaler.h"
#include "tinytorch/amp/master_weights.h"
#include "tinytorch/core/exception.h"
#include "tinytorch/serialize/archive.h"

namespace tinytorch::train {

// The helpers are [[maybe_unused]]: in the learner release the regions that call them are stubs.
namespace {

// "'run/ckpt.ttc'" or "the checkpoint" (one made in memory).
[[maybe_unused]] std::string describe(const Checkpoint& checkpoint) {
  return checkpoint.source.empty() ? std::string("the checkpoint") : "'" + checkpoint.source + "'";
}

[[maybe_unused]] OrderedDict<std::string, Tensor> cloned(
    const OrderedDict<std::string, Tensor>& dict) {
  OrderedDict<std::string, Tensor> out("Key");
  for (const auto& [key, value] : dict) out.insert(key, value.clone());
  return out;
}

// Everything restore_checkpoint can check without touching the live objects.
[[maybe_unused]] void check_fits(const Checkpoint& checkpoint, const TrainingState& state) {
  const std::string file = describe(checkpoint);
  TT_CHECK(state.optimizer == nullptr || !checkpoint.optimizer.is_empty(), "restore_checkpoint(",
           file, "): an optimizer was given but the checkpoint has no optimizer state");
  TT_CHECK(state.scheduler == nullptr || !checkpoint.scheduler.is_empty(), "restore_checkpoint(",
           file, "): a learning-rate scheduler (", state.scheduler->name(),
           ") was given but the checkpoint has no scheduler state");
  TT_CHECK(state.scheduler != nullptr || checkpoint.scheduler.is_empty(), "restore_checkpoint(",
           file,
           "): the checkpoint has a learning-rate scheduler state, but no scheduler was "
           "given (resuming without it would change the learning rate)");
  for (const auto& [name, generator] : state.generators) {
    TT_CHECK(generator != nullptr, "restore_checkpoint(", file, "): generator '", name,
             "' is null");
    if (!checkpoint.generators.contains(name)) {
      std::string saved;
      for (const auto& item : checkpoint.generators)
        saved += (saved.empty() ? "" : ", ") + item.key();
      TT_CHECK(false, "restore_checkpoint(", file, "): the checkpoint has no state for generator '",
               name, "' (it saved: ", saved.empty() ? "none" : saved, ")");
    }
    Generator probe;  // parse now, so a malformed state fails before anything changed
    serialize::set_generator_state(probe, checkpoint.generators.at(name));
  }
}

// Runs `load` (which may throw); on failure runs `undo` and rethrows with context.
template <typename Load, typename Undo>
void load_or_undo(const std::string& what, const Checkpoint& checkpoint, Load&& load, Undo&& undo) {
  try {
    load();
  } catch (const Error& e) {
    undo();
    std::string message =
        "restore_checkpoint(" + describe(checkpoint) + "): the " + what + " state does not fit";
    if (what == "model") {
      message +=
          " — the checkpoint was saved from a different model (or the model's "
          "definition changed)";
      if (!checkpoint.model_repr.empty())
        message += ". It was saved from:\n" + checkpoint.model_repr;
    }
    throw Error(message + "\n" + e.what());
  }
}

}  // namespace

Checkpoint capture_checkpoint(const TrainingState& state, int64_t epoch, const History& history) {
  // BEGIN SOLUTION
  TT_CHECK(state.model != nullptr, "capture_checkpoint: TrainingState.model is null");
  TT_CHECK_VALUE(epoch >= 0, "capture_checkpoint: epoch must be >= 0, got ", epoch);
  Checkpoint checkpoint;
  checkpoint.epoch = epoch;
  // state_dict() gives aliases of the live parameters: clone, or the next step changes them.
  checkpoint.model = cloned(state.model->state_dict());
  checkpoint.model_repr = state.model->to_string();
  if (state.optimizer != nullptr) checkpoint.optimizer = state.optimizer->state_dict();
  if (state.scheduler != nullptr) checkpoint.scheduler = state.scheduler->state_dict();
  for (const auto& [name, generator] : state.generators) {
    TT_CHECK(generator != nullptr, "capture_checkpoint: generator '", name, "' is null");
    checkpoint.generators.insert(name, serialize::generator_state(*generator));
  }
  checkpoint.history = history;
  return checkpoint;
  // END SOLUTION
}

void restore_checkpoint(const Checkpoint& checkpoint, const TrainingState& state) {
  // BEGIN SOLUTION
  TT_CHECK(state.model != nullptr, "restore_checkpoint(", describe(checkpoint),
           "): TrainingState.model is null");
  // Each load_state_dict checks its whole dict before copying anything, so a failed load
  // changes nothing; what was loaded before it is put back from these snapshots.
  const auto model_before = cloned(state.model->state_dict());
  const auto optimizer_before = state.optimizer != nullptr ? state.optimizer->state_dict()
                                                           : OrderedDict<std::string, Tensor>();
  // The model first: a checkpoint of another model is the most likely mistake.
  load_or_undo(
      "model", checkpoint, [&] { state.model->load_state_dict(checkpoint.model); }, [] {});
  try {
    check_fits(checkpoint, state);
  } catch (...) {
    state.model->load_state_dict(model_before);
    throw;
  }
  if (state.optimizer != nullptr) {
    load_or_undo(
        "optimizer", checkpoint, [&] { state.optimizer->load_state_dict(checkpoint.optimizer); },
        [&] { state.model->load_state_dict(model_before); });
  }
  if (state.scheduler != nullptr) {
    load_or_undo(
        "scheduler", checkpoint, [&] { state.scheduler->load_state_dict(checkpoint.scheduler); },
        [&] {
          state.model->load_state_dict(model_before);
          if (state.optimizer != nullptr) state.optimizer->load_state_dict(optimizer_before);
        });
  }
  for (const auto& [name, generator] : state.generators) {
    serialize::set_generator_state(*generator, checkpoint.generators.at(name));
  }
  // END SOLUTION
}

Checkpoint capture_checkpoint(const TrainingState& state, const AmpState& amp, int64_t epoch,
                              const History& history) {
  Checkpoint checkpoint = capture_checkpoint(state, epoch, history);
  if (amp.master_weights != nullptr) {
    checkpoint.master_weights = cloned(amp.master_weights->state_dict());
  }
  // 0-d tensors made fresh by state_dict(): no aliases to clone. Empty for a disabled scaler.
  if (amp.grad_scaler != nullptr) checkpoint.grad_scaler = amp.grad_scaler->state_dict();
  return checkpoint;
}

// NOTE: MasterWeights keeps its model's parameters equal to its copies rounded (every step writes
// them), and its load_state_dict checks everything before it changes anything (then rounds the
// copies into the model); GradScaler's load_state_dict also changes nothing when it throws. So
// the copies are loaded first, then the scaler — a mismatch throws with what came before put
// back — and if the model/optimizer restore then fails (it undoes its own part), loading the
// copies of before puts the model's parameters back too.
void restore_checkpoint(const Checkpoint& checkpoint, const TrainingState& state,
                        const AmpState& amp) {
  TT_CHECK(amp.master_weights == nullptr || !checkpoint.master_weights.is_empty(),
           "restore_checkpoint(", describe(checkpoint),
           "): master weights were given but the checkpoint has none (it was saved without them)");
  // A disabled scaler has no state (as PyTorch's): it needs none from the checkpoint.
  const bool scaler = amp.grad_scaler != nullptr && amp.grad_scaler->is_enabled();
  TT_CHECK(!scaler || !checkpoint.grad_scaler.is_empty(), "restore_checkpoint(",
           describe(checkpoint),
           "): a GradScaler was given but the checkpoint has no scaler state (it was saved "
           "without one, or from a disabled scaler)");
  const auto masters_before = amp.master_weights != nullptr
                                  ? cloned(amp.master_weights->state_dict())
                                  : OrderedDict<std::string, Tensor>();
  const auto scaler_before =
      scaler ? amp.grad_scaler->state_dict() : OrderedDict<std::string, Tensor>();
  const auto undo_masters = [&] {
    if (amp.master_weights != nullptr) amp.master_weights->load_state_dict(masters_before);
  };
  if (amp.master_weights != nullptr) {
    load_or_undo(
        "master weights", checkpoint,
        [&] { amp.master_weights->load_state_dict(checkpoint.master_weights); }, [] {});
  }
  if (scaler) {
    load_or_undo(
        "grad scaler", checkpoint,
        [&] { amp.grad_scaler->load_state_dict(checkpoint.grad_scaler); }, undo_masters);
  }
  try {
    restore_checkpoint(checkpoint, state);
  } catch (...) {
    undo_masters();
    if (scaler) amp.grad_scaler->load_state_dict(scaler_before);
    throw;
  }
}

// ── the file ─────────────────────────────────────────────────────────────────────────────────
//
// One serialize::Archive. Tensors: model.<key>, optimizer.<key>, scheduler.<key>,
// master_weights.<key>, grad_scaler.<key>, and history.<column> (float64 [epochs], in column
// order). Strings: format, version, epoch, model_repr, rng.<name>, extra.<key>.

void save_checkpoint(const Checkpoint& checkpoint, const std::string& path) {
  serialize::Archive archive;
  archive.strings.insert("format", kCheckpointFormat);
  archive.strings.insert("version", std::to_string(kCheckpointVersion));
  archive.strings.insert("epoch", std::to_string(checkpoint.epoch));
  archive.strings.insert("model_repr", checkpoint.model_repr);
  for (const auto& [key, tensor] : checkpoint.model) archive.tensors.insert("model." + key, tensor);
  for (const auto& [key, tensor] : checkpoint.optimizer) {
    archive.tensors.insert("optimizer." + key, tensor);
  }
  for (const auto& [key, tensor] : checkpoint.scheduler) {
    archive.tensors.insert("scheduler." + key, tensor);
  }
  for (const auto& [key, tensor] : checkpoint.master_weights) {
    archive.tensors.insert("master_weights." + key, tensor);
  }
  for (const auto& [key, tensor] : checkpoint.grad_scaler) {
    archive.tensors.insert("grad_scaler." + key, tensor);
  }
  const History& history = checkpoint.history;
  for (const auto& column : history.columns()) {
    archive.tensors.insert("history." + column,
                           from_vector(history.column(column), {history.size()}, kFloat64));
  }
  for (const auto& [name, state] : checkpoint.generators)
    archive.strings.insert("rng." + name, state);
  for (const auto& [key, value] : checkpoint.extra) archive.strings.insert("extra." + key, value);
  serialize::save(archive, path);
}

Checkpoint load_checkpoint(const std::string& path) {
  serialize::Archive archive = serialize::load(path);  // checks magic, sizes, checksum
  const std::string* format = archive.strings.find("format");
  TT_CHECK(format != nullptr && *format == kCheckpointFormat, "load_checkpoint: '", path,
           "' is a tinytorch archive but not a training checkpoint (its format is '",
           format != nullptr ? *format : std::string("none"),
           "'); a bare state dict is read with serialize::load");
  const std::string* version = archive.strings.find("version");
  TT_CHECK(version != nullptr, "load_checkpoint: '", path, "' has no version entry");
  TT_CHECK(*version == std::to_string(kCheckpointVersion), "load_checkpoint: '", path,
           "' is checkpoint version ", *version, "; this build reads version ", kCheckpointVersion);

  Checkpoint checkpoint;
  checkpoint.source = path;
  const std::string* epoch = archive.strings.find("epoch");
  TT_CHECK(epoch != nullptr, "load_checkpoint: '", path, "' has no epoch entry");
  errno = 0;
  char* end = nullptr;
  const long long e = std::strtoll(epoch->c_str(), &end, 10);
  TT_CHECK(errno == 0 && end != epoch->c_str() && *end == '\0' && e >= 0, "load_checkpoint: '",
           path, "' has a malformed epoch entry '", *epoch, "'");
  checkpoint.epoch = e;
  if (const std::string* repr = archive.strings.find("model_repr")) checkpoint.model_repr = *repr;

  auto starts_with = [](const std::string& s, std::string_view prefix) {
    return s.compare(0, prefix.size(), prefix) == 0;
  };
  std::vector<std::pair<std::string, std::vector<double>>> columns;
  for (const auto& [key, tensor] : archive.tensors) {
    if (starts_with(key, "model.")) {
      checkpoint.model.insert(key.substr(6), tensor);
    } else if (starts_with(key, "optimizer.")) {
      checkpoint.optimizer.insert(key.substr(10), tensor);
    } else if (starts_with(key, "scheduler.")) {
      checkpoint.scheduler.insert(key.substr(10), tensor);
    } else if (starts_with(key, "master_weights.")) {
      checkpoint.master_weights.insert(key.substr(15), tensor);
    } else if (starts_with(key, "grad_scaler.")) {
      checkpoint.grad_scaler.insert(key.substr(12), tensor);
    } else if (starts_with(key, "history.")) {
      TT_CHECK(tensor.dtype() == kFloat64 && tensor.dim() == 1, "load_checkpoint: '", path,
               "': history column '", key.substr(8), "' must be float64 1-d");
      columns.emplace_back(key.substr(8), tensor.to_vector<double>());
    } else {
      TT_CHECK(false, "load_checkpoint: '", path, "' has an unknown tensor entry '", key, "'");
    }
  }
  if (!columns.empty()) {
    const size_t epochs = columns.front().second.size();
    for (const auto& [name, values] : columns) {
      TT_CHECK(values.size() == epochs, "load_checkpoint: '", path, "': history column '", name,
               "' has ", values.size(), " entries, '", columns.front().first, "' has ", epochs);
    }
    for (size_t row = 0; row < epochs; ++row) {
      Metrics m("Metric");
      for (const auto& [name, values] : columns) m.insert(name, values[row]);
      checkpoint.history.append(m);
    }
  }
  for (const auto& [key, value] : archive.strings) {
    if (starts_with(key, "rng.")) checkpoint.generators.insert(key.substr(4), value);
    if (starts_with(key, "extra.")) checkpoint.extra.insert(key.substr(6), value);
  }
  return checkpoint;
}

}  // namespace tinytorch::train
