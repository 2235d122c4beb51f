// Milestone 2017 — "Attention Is All You Need" (Vaswani et al.) and GPT (Radford et al., 2018):
// a character-level GPT trained on Debian's fortunes with YOUR framework: tensors to data (01–08),
// tokenization (10), embeddings (11), attention (12), transformers (13) and the KV cache (17).
//
//   build/release/bin/milestone_2017                         validation loss ≤ 1.60 nats/char
//   build/release/bin/milestone_2017 --steps 200 --json r.json
//   build/release/bin/milestone_2017 --resume runs/2017/checkpoint.ttc   (same arguments as the
//                                                     interrupted run: --steps is the schedule)
//   build/release/bin/milestone_2017 --autocast bf16  the training step in bfloat16 autocast
//
//   text ─► CharTokenizer ─► ids [B, T] ─► wte + wpe ─► 4 × [x + attn(ln_1 x); x + mlp(ln_2 x)]
//        ─► ln_f ─► lm_head ─► logits [B, T, V] ─► cross-entropy against the ids shifted by one
//
// The corpus (every fortune file, data::load_fortunes) is split 90/10 into training and
// validation text (data::split_text: every tenth fortune validates); each training step takes
// --batch-size random windows of --context characters of the training text. AdamW with a linear
// warm-up and a cosine decay per step (common/warmup_cosine.h), the gradients' joint norm clipped
// to --clip. Every --eval-every steps: the loss on FIXED batches of the training and the
// validation text (the same windows every time, so the curve is not noise), a short sample, and
// the logs; at the end a longer sample. --autocast bf16 runs each training step's forward and
// loss under autocast (common/checkpointed_gpt.h's gpt_training_loss); the parameters, the
// optimizer, the evaluations and the samples stay float32.
//
// Writes into --out (default runs/2017/): checkpoint.ttc (resumable), tokenizer.txt,
// metrics.csv, metrics.json and training_curve.svg at every evaluation. See
// milestones/2017_gpt/README.md.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "common/budget.h"
#include "common/char_gpt.h"
#include "common/char_training.h"
#include "common/checkpointed_gpt.h"
#include "common/cli.h"
#include "common/contended.h"
#include "common/export.h"
#include "common/memory.h"
#include "common/outputs.h"
#include "common/warmup_cosine.h"
#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/core/generator.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/data/text.h"
#include "tinytorch/kernels/registry.h"
#include "tinytorch/nn/modules/transformer.h"
#include "tinytorch/nn/nn.h"
#include "tinytorch/nn/utils/clip_grad.h"
#include "tinytorch/optim/optim.h"
#include "tinytorch/text/tokenizer.h"
#include "tinytorch/tinytorch.h"
#include "tinytorch/train/train.h"

namespace tt = tinytorch;
namespace nn = tinytorch::nn;
namespace F = tinytorch::nn::functional;
namespace optim = tinytorch::optim;
namespace data = tinytorch::data;
namespace train = tinytorch::train;
namespace ms = tinytorch::milestones;

namespace {

using Clock = std::chrono::steady_clock;

// The defaults: the recipe of the README's "How the defaults were chosen" (checked with PyTorch,
// bench/gpt_torch.py --train, before our model existed).
struct Settings {
  int64_t steps = 7000;
  int64_t batch_size = 32;
  int64_t context = 64;
  double lr = 2e-3;      // the peak, after the warm-up
  double min_lr = 1e-4;  // the end of the cosine
  int64_t warmup = 200;  // steps
  double beta2 = 0.99;
  double weight_decay = 0.1;
  double clip = 1.0;  // the gradients' joint 2-norm
  int64_t eval_every = 500;
  int64_t eval_batches = 20;
  int64_t sample_chars = 300;
  double time_budget = 900.0;  // seconds for the whole run, evaluations included
  uint64_t seed = 2017;
  int threads = 0;  // 0: the framework's default (TINYTORCH_NUM_THREADS or all hardware threads)
  std::string fortunes_dir = std::string(data::kFortunesDir);
  std::string out_dir = "runs/2017";
  std::string json_path;
  std::string resume_path;
  bool quiet = false;
  bool contended = false;  // a CPU-bound process for the first third of the budget (contended.h)
  int64_t checkpoint_segments = 0;  // 0: no activation checkpointing (common/checkpointed_gpt.h)
  std::string autocast = "off";     // "off" or "bf16": the training step's forward and loss
};

// The checkpoint's extra entry that records --autocast (a checkpoint without one was trained
// before the flag existed: in float32, "off").
constexpr const char* kAutocastKey = "autocast";

// --autocast's values, and why float16 is not one: its 5 exponent bits round gradients at or
// below 2^-25 (half of its smallest subnormal, 2^-24) to zero unless the loss is scaled
// (amp::GradScaler), which this training loop does not do. bfloat16 has float32's 8 exponent
// bits: it needs no loss scaling.
CLI::Validator autocast_setting() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        if (text == "off" || text == "bf16") return {};
        if (text == "fp16") {
          return "'fp16' is not offered: float16 gradients underflow without loss scaling "
                 "(amp::GradScaler), which this training loop does not do; expected off or bf16";
        }
        return "'" + text + "' is not a setting; expected off or bf16";
      },
      "off|bf16");
}

constexpr double kTargetValLoss = ms::kGptTargetValLoss;  // nats per character
constexpr const char* kPrompt = "The ";                   // where every sample starts

// `chars` characters after kPrompt, sampled at temperature 0.8 from the 40 likeliest (seeded:
// the same text for the same weights), with the KV cache. (generate() runs in eval mode without
// a graph and restores the training mode; past the context, it recomputes the last 64.)
// A token's label in the exported signature: its text, or — a byte that is only part of a UTF-8
// character (JSON text must be valid UTF-8) — "<0x80>", the byte-token notation of
// SentencePiece's byte fallback.
std::string token_label(const std::string& text) {
  const auto lead = text.empty() ? 0 : static_cast<unsigned char>(text[0]);
  const size_t need = lead < 0x80           ? 1
                      : (lead >> 5) == 0x6  ? 2
                      : (lead >> 4) == 0xE  ? 3
                      : (lead >> 3) == 0x1E ? 4
                                            : 0;
  bool valid = need != 0 && text.size() == need;
  for (size_t i = 1; valid && i < text.size(); ++i) {
    valid = (static_cast<unsigned char>(text[i]) >> 6) == 0x2;
  }
  if (valid) return text;
  std::string label;
  for (const char c : text) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "<0x%02X>", static_cast<unsigned char>(c));
    label += hex;
  }
  return label;
}

std::string sample(nn::GPT& model, const tt::text::CharTokenizer& tokenizer, int64_t chars,
                   uint64_t seed) {
  const std::vector<int64_t> prompt_ids = tokenizer.encode(kPrompt);
  const auto prompt_length = static_cast<int64_t>(prompt_ids.size());
  const tt::Tensor prompt = data::encode_to_tensor(prompt_ids).view({1, prompt_length});
  nn::GenerateOptions options;
  options.max_new_tokens = chars;
  options.temperature = 0.8;
  options.top_k = 40;
  options.seed = seed;
  options.use_cache = true;
  const tt::Tensor out =
      model->generate(prompt, options);  // [1, prompt + chars]; eval mode, no graph
  const std::vector<int64_t> ids = out.view({-1}).to_vector<int64_t>();
  return tokenizer.decode(ids);
}

// A sample as one line: newlines shown as "⏎", cut to `width` bytes (at a UTF-8 boundary).
std::string one_line(std::string text, size_t width) {
  if (text.size() > width) {
    size_t cut = width;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    text.resize(cut);
  }
  std::string out;
  for (const char c : text) out += c == '\n' ? std::string("⏎") : std::string(1, c);
  return out;
}

int run(const Settings& s) {
  const auto t_start = Clock::now();
  const ms::ContendedLoad load(s.contended ? s.time_budget / 3.0 : 0.0);
  const auto elapsed = [&] {
    return std::chrono::duration<double>(Clock::now() - t_start).count();
  };
  ms::check_outputs(s.json_path, s.out_dir);  // before training, not after
  TT_CHECK_VALUE(s.warmup < s.steps, "--warmup ", s.warmup, " must be fewer than --steps ",
                 s.steps);
  const int64_t layers = nn::GPTConfig().n_layer;
  TT_CHECK_VALUE(s.checkpoint_segments <= layers, "--checkpoint-segments ", s.checkpoint_segments,
                 " is more than the model's ", layers, " blocks (expected 0 to ", layers, ")");
  if (s.threads > 0) tt::set_num_threads(s.threads);
  tt::manual_seed(s.seed);
  std::ostream& out = std::cout;

  // ── data: the corpus, its characters, the two splits ────────────────────────────────────
  // (common/char_text.h: milestone 1997's LSTM reads, splits and scores the same text.)
  const ms::CharCorpus fortunes = ms::load_char_corpus(s.fortunes_dir);
  const std::string& corpus = fortunes.corpus;
  const tt::text::CharTokenizer& tokenizer = fortunes.tokenizer;
  const tt::Tensor& train_tokens = fortunes.train_tokens;
  const tt::Tensor& val_tokens = fortunes.val_tokens;
  const auto train_eval = ms::fixed_batches(train_tokens, s.eval_batches, s.batch_size, s.context);
  const auto val_eval = ms::fixed_batches(val_tokens, s.eval_batches, s.batch_size, s.context);

  // ── model, optimizer, schedule ──────────────────────────────────────────────────────────
  nn::GPTConfig config;
  config.vocab_size = tokenizer.vocab_size();
  config.block_size = s.context;
  nn::GPT model(config);
  int64_t parameters = 0;
  for (const auto& p : model->parameters()) parameters += p.numel();
  optim::AdamW optimizer(
      model->parameters(),
      optim::AdamWOptions(s.lr).betas({0.9, s.beta2}).weight_decay(s.weight_decay));
  ms::WarmupCosineLR scheduler(optimizer, s.warmup, s.steps, s.min_lr);
  tt::Generator windows(s.seed);  // the training windows' stream
  // The exported model (module 20): token ids [T] → the next character's logits, one label per
  // character of the vocabulary. Every checkpoint records it for ./tito export.
  tt::deploy::ModelSignature signature{.name = "fortunes-gpt",
                                       .version = "",
                                       .input_shape = {-1},
                                       .input_dtype = tt::kInt64,
                                       .labels = {}};
  for (int64_t id = 0; id < tokenizer.vocab_size(); ++id) {
    signature.labels.push_back(token_label(tokenizer.decode(std::vector<int64_t>{id})));
  }
  const auto export_metadata = ms::export_metadata(*model.ptr(), signature);

  // ── resume ─────────────────────────────────────────────────────────────────────────────
  const train::TrainingState state{
      .model = model.ptr().get(),
      .optimizer = &optimizer,
      .scheduler = &scheduler,
      .generators = {{"default", &tt::default_generator()}, {"windows", &windows}}};
  train::History history;
  int64_t step = 0;  // steps done
  if (!s.resume_path.empty()) {
    const train::Checkpoint ckpt = train::load_checkpoint(s.resume_path);
    // NOTE: refused, not warned: --resume promises the numbers of a run that never stopped, and a
    // run switched from float32 to bfloat16 halfway (or back) is neither run. A different
    // precision is a new run.
    const std::string* trained = ckpt.extra.find(kAutocastKey);
    const std::string trained_with = trained != nullptr ? *trained : "off";
    TT_CHECK_VALUE(trained_with == s.autocast, "--resume ", s.resume_path,
                   ": the checkpoint was trained with --autocast ", trained_with,
                   " and this run has --autocast ", s.autocast,
                   " (a run resumes only with the setting it was trained with: expected "
                   "--autocast ",
                   trained_with, ")");
    train::restore_checkpoint(ckpt, state);
    step = ckpt.epoch;  // this milestone counts steps where the Trainer counts epochs
    history = ckpt.history;
  }
  if (!s.out_dir.empty()) {
    tokenizer.save(std::filesystem::path(s.out_dir) / "tokenizer.txt");
  }

  if (!s.quiet) {
    out << "Milestone 2017 — attention is all you need: a character-level GPT\n"
        << tt::kernels::which_code_report() << "\n"
        << (load.seconds() > 0
                ? "contended: a second, CPU-bound process runs for the first " +
                      std::to_string(static_cast<int>(load.seconds())) + " s of the budget\n"
                : "")
        << "GPT: " << config.n_layer << " layers, " << config.n_head << " heads, d_model "
        << config.n_embd << ", context " << config.block_size << ", vocabulary "
        << config.vocab_size << " characters; " << parameters << " parameters\n"
        << "fortunes corpus " << corpus.size() << " bytes: " << train_tokens.numel()
        << " training / " << val_tokens.numel() << " validation characters (every tenth fortune)\n"
        << "AdamW(lr=" << s.lr << " peak, betas (0.9, " << s.beta2 << "), weight decay "
        << s.weight_decay << "), warm-up " << s.warmup << " steps then cosine to " << s.min_lr
        << ", clip " << s.clip << ", batch " << s.batch_size << " x " << s.context
        << " characters, " << s.steps << " steps, time budget " << s.time_budget << " s, seed "
        << s.seed << ", " << tt::get_num_threads() << " thread(s)\n"
        << "activation checkpointing: "
        << (s.checkpoint_segments == 0 ? std::string("off")
                                       : std::to_string(s.checkpoint_segments) +
                                             " segments of the " + std::to_string(config.n_layer) +
                                             " blocks (all but the last recomputed in backward)")
        << "\n"
        << "autocast: "
        << (s.autocast == "bf16"
                ? "bf16 — each training step's forward and loss under autocast(kCPU, kBFloat16): "
                  "the linear layers and attention in bfloat16, the loss in float32; the "
                  "parameters, their gradients and AdamW float32"
                : "off — the training step in float32")
        << "; the validation loss (the target) is the float32 model's, evaluated without "
           "autocast\n";
    if (step > 0) out << "resumed from " << s.resume_path << " after step " << step << "\n";
    out << "\n" << std::flush;
  }

  // ── train ──────────────────────────────────────────────────────────────────────────────
  // common/char_training.h: intervals of --eval-every steps, each ended by an evaluation and a
  // new plan of the schedule's end at that interval's pace (shorter when the machine is busy,
  // longer again, up to --steps, when it is free, so that the cosine ends annealed when the budget
  // ends).
  const ms::BudgetedTraining budget{
      .steps = s.steps,
      .warmup = s.warmup,
      .eval_every = s.eval_every,
      .batch_size = s.batch_size,
      .context = s.context,
      .clip = s.clip,
      .time_budget = s.time_budget,
      .quiet = s.quiet,
      .elapsed = elapsed,
      .loss = [&model, &s](const tt::Tensor& ids, const tt::Tensor& targets) {
        return ms::gpt_training_loss(model, ids, targets, s.checkpoint_segments,
                                     s.autocast == "bf16");
      }};
  const ms::BudgetedOutcome outcome = ms::train_within_budget(
      budget, model, optimizer, scheduler, train_tokens, windows, train_eval, val_eval, step,
      history, out, [] { return std::string(); },
      [&](int64_t at_step) {
        if (!s.quiet) {
          out << "  sample: " << kPrompt
              << one_line(
                     sample(model, tokenizer, 60, s.seed).substr(std::string_view(kPrompt).size()),
                     60)
              << "\n"
              << std::flush;
        }
        if (s.out_dir.empty()) return;
        train::CurveOptions curve;
        curve.title = "2017 character-level GPT on fortunes (4 layers, 4 heads, d 128)";
        curve.x_column = "step";
        curve.loss_columns = {"train_loss", "val_loss"};
        train::write_logs(history, s.out_dir, curve);
        train::Checkpoint checkpoint = train::capture_checkpoint(state, at_step, history);
        for (const auto& [key, value] : export_metadata) checkpoint.extra.insert(key, value);
        checkpoint.extra.insert(kAutocastKey, s.autocast);
        train::save_checkpoint(checkpoint,
                               (std::filesystem::path(s.out_dir) / "checkpoint.ttc").string());
      });
  const double train_seconds = outcome.train_seconds;
  const int64_t trained_steps = outcome.trained_steps;
  const bool stopped_by_budget = outcome.stopped_by_budget;
  const int64_t planned = outcome.planned;
  const std::vector<ms::PlanChange>& plan_changes = outcome.plan_changes;

  // ── the end: a longer sample, the results ──────────────────────────────────────────────
  const std::string text = sample(model, tokenizer, s.sample_chars, s.seed);
  const double final_val_loss = history.empty() ? std::nan("") : history.at(-1, "val_loss");
  const double tokens_per_second =
      train_seconds > 0
          ? static_cast<double>(trained_steps * s.batch_size * s.context) / train_seconds
          : 0.0;
  const int64_t rss = ms::peak_rss_bytes();
  const double total_seconds = elapsed();
  const bool reached = final_val_loss <= kTargetValLoss;
  if (!s.quiet) out << "\nsample (temperature 0.8, top-k 40):\n" << text << "\n\n";
  out << std::fixed << std::setprecision(4) << "final validation loss " << final_val_loss
      << " nats/char (target <= " << std::setprecision(2) << kTargetValLoss << ": "
      << (reached ? "reached" : "NOT reached") << ")\n"
      << "training throughput " << train::format_count(tokens_per_second) << " tokens/s ("
      << std::setprecision(1)
      << (trained_steps > 0 ? 1e3 * train_seconds / static_cast<double>(trained_steps) : 0.0)
      << " ms a step); " << step << " of " << s.steps << " steps"
      << (planned < s.steps
              ? " (the schedule shortened to " + std::to_string(planned) + " to fit the budget)"
              : "")
      << (plan_changes.empty() ? ""
                               : " (planned " + std::to_string(plan_changes.size() + 1) +
                                     " times, at the pace "
                                     "of the moment)")
      << (stopped_by_budget ? " (stopped by the time budget)" : "") << "; total "
      << std::setprecision(1) << total_seconds << " s\n"
      << "peak RSS " << ms::mib(rss) << "; autocast " << s.autocast
      << " (the training step; the validation loss is evaluated in float32)\n"
      << std::defaultfloat;
  if (!s.out_dir.empty() && trained_steps > 0) {
    out << "wrote checkpoint.ttc, tokenizer.txt, metrics.csv, metrics.json, training_curve.svg "
           "into "
        << s.out_dir << "\n";
  }
  const bool exported = ms::write_model_file(out, *model.ptr(), signature, s.out_dir);

  if (!s.json_path.empty()) {
    nlohmann::ordered_json j;
    j["milestone"] = "2017_gpt";
    j["final_val_loss"] = final_val_loss;
    j["val_loss"] = history.empty() ? std::vector<double>{} : history.column("val_loss");
    j["train_loss"] = history.empty() ? std::vector<double>{} : history.column("train_loss");
    std::vector<int64_t> eval_steps;
    if (!history.empty()) {
      for (const double v : history.column("step")) eval_steps.push_back(static_cast<int64_t>(v));
    }
    j["eval_steps"] = eval_steps;
    // When each evaluation ended, in seconds since the start: milestone 1997 compares its LSTM's
    // curve with this one at the same wall-clock times.
    j["eval_seconds"] = history.empty() ? std::vector<double>{} : history.column("seconds");
    j["tokens_per_second"] = tokens_per_second;
    j["threads"] = tt::get_num_threads();
    j["seed"] = s.seed;
    j["peak_rss_bytes"] = rss;
    j["steps"] = s.steps;
    j["planned_steps"] = planned;
    j["plan_changes"] = nlohmann::ordered_json::array();
    for (const ms::PlanChange& c : plan_changes) {
      j["plan_changes"].push_back({{"step", c.at},
                                   {"from", c.from},
                                   {"to", c.to},
                                   {"seconds_per_step", c.seconds_per_unit}});
    }
    j["steps_trained"] = step;
    j["stopped_by_budget"] = stopped_by_budget;
    j["time_budget_seconds"] = s.time_budget;
    j["contended_seconds"] = load.seconds();
    j["training_seconds"] = train_seconds;
    j["total_seconds"] = total_seconds;
    j["target_val_loss"] = kTargetValLoss;
    j["reached_target"] = reached;
    j["config"] = {{"vocab_size", config.vocab_size},
                   {"block_size", config.block_size},
                   {"n_layer", config.n_layer},
                   {"n_head", config.n_head},
                   {"n_embd", config.n_embd},
                   {"dropout", config.dropout},
                   {"bias", config.bias},
                   {"tie_weights", config.tie_weights},
                   {"parameters", parameters}};
    j["batch_size"] = s.batch_size;
    j["lr"] = s.lr;
    j["min_lr"] = s.min_lr;
    j["warmup"] = s.warmup;
    j["beta2"] = s.beta2;
    j["weight_decay"] = s.weight_decay;
    j["clip"] = s.clip;
    j["checkpoint_segments"] = s.checkpoint_segments;
    j["autocast"] = s.autocast;
    j["eval_every"] = s.eval_every;
    j["eval_batches"] = s.eval_batches;
    j["train_tokens"] = train_tokens.numel();
    j["val_tokens"] = val_tokens.numel();
    j["sample"] = text;
    j["out_dir"] = s.out_dir;
    j["model_file"] =
        exported ? (std::filesystem::path(s.out_dir) / ms::kModelFileName).string() : "";
    train::write_file_atomically(
        s.json_path,
        j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n");
    if (!s.quiet) out << "wrote " << s.json_path << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Settings s;
  CLI::App app{
      "Milestone 2017: a character-level GPT (4 layers, 4 heads, d_model 128) trained with AdamW "
      "on Debian's fortunes; target: validation loss <= 1.60 nats per character",
      "milestone_2017"};
  app.add_option("--steps", s.steps,
                 "optimizer steps (the schedule's length; in total, when resuming)")
      ->capture_default_str()
      ->check(ms::whole_number_in(2, 1000000));
  app.add_option("--batch-size", s.batch_size, "windows per step")
      ->capture_default_str()
      ->check(ms::whole_number_in(1, 4096));
  app.add_option("--context", s.context, "characters per window (the model's block size)")
      ->capture_default_str()
      ->check(ms::whole_number_in(8, 1024));
  app.add_option("--lr", s.lr, "AdamW's peak learning rate (after the warm-up)")
      ->capture_default_str()
      ->check(ms::positive_number(0.002));
  app.add_option("--min-lr", s.min_lr, "the learning rate at the end of the cosine")
      ->capture_default_str()
      ->check(ms::number_in(0, 1));
  app.add_option("--warmup", s.warmup, "warm-up steps (linear, from lr/warmup to lr)")
      ->capture_default_str()
      ->check(ms::whole_number_in(1, 1000000));
  app.add_option("--beta2", s.beta2, "AdamW's second-moment decay")
      ->capture_default_str()
      ->check(ms::number_in(0, 0.9999));
  app.add_option("--weight-decay", s.weight_decay, "AdamW's decoupled weight decay")
      ->capture_default_str()
      ->check(ms::number_in(0, 1));
  app.add_option("--clip", s.clip, "clip the gradients' joint 2-norm to this")
      ->capture_default_str()
      ->check(ms::positive_number(1.0));
  app.add_option("--eval-every", s.eval_every,
                 "steps between evaluations (train/val loss on fixed batches, a sample, the logs "
                 "and the checkpoint)")
      ->capture_default_str()
      ->check(ms::whole_number_in(1, 1000000));
  app.add_option("--eval-batches", s.eval_batches, "fixed batches per evaluation of each split")
      ->capture_default_str()
      ->check(ms::whole_number_in(1, 1000));
  app.add_option("--sample-chars", s.sample_chars, "characters of the final sample")
      ->capture_default_str()
      ->check(ms::whole_number_in(1, 100000));
  app.add_option("--checkpoint-segments", s.checkpoint_segments,
                 "activation checkpointing: split the transformer blocks into this many "
                 "segments and recompute all but the last in backward (less memory, one more "
                 "forward of those blocks); 0: off")
      ->capture_default_str()
      ->check(ms::whole_number_in(0, 64));
  app.add_option("--autocast", s.autocast,
                 "the training step's forward and loss in mixed precision: off (float32) or bf16 "
                 "(autocast: linear layers and attention in bfloat16, the loss and the parameters "
                 "float32); evaluation is always float32")
      ->capture_default_str()
      ->check(autocast_setting());
  app.add_flag("--contended", s.contended,
               "check the budget on a busy machine: a second, CPU-bound process runs for the "
               "first third of --time-budget");
  app.add_option("--time-budget", s.time_budget,
                 "wall-clock seconds for the whole run, evaluations included: training stops "
                 "(and evaluates) when it is spent")
      ->capture_default_str()
      ->check(ms::number_in(1, 86400));
  app.add_option("--seed", s.seed, "random seed: weights, training windows, samples")
      ->capture_default_str();
  app.add_option("--threads", s.threads,
                 "threads for the kernels (0: TINYTORCH_NUM_THREADS or all hardware threads)")
      ->capture_default_str()
      ->check(ms::whole_number_in(0, 1024));
  app.add_option("--fortunes", s.fortunes_dir, "directory with the fortune files")
      ->capture_default_str();
  app.add_option("--out", s.out_dir,
                 "output directory: checkpoint.ttc, tokenizer.txt, metrics.csv/.json, "
                 "training_curve.svg (created if missing)")
      ->capture_default_str();
  app.add_option("--json", s.json_path, "also write the results to this JSON file");
  app.add_option("--resume", s.resume_path, "continue from a checkpoint written by this program")
      ->check(CLI::ExistingFile);
  app.add_flag("--quiet,-q", s.quiet, "print only the final results");
  // NOTE: the other milestones train for --epochs, full passes over their data; this one draws
  // random windows of the text, so it counts optimizer steps and has no epochs. A learner who
  // types --epochs is told what to use instead of CLI11's "arguments were not expected".
  std::string epochs;
  app.add_option("--epochs", epochs)->group("");  // hidden from --help
  CLI11_PARSE(app, argc, argv);
  if (app.count("--epochs") > 0) {
    std::cerr << "milestone_2017: error: --epochs " << epochs
              << ": this milestone has no epochs — it trains on random windows of the text, "
                 "not in passes over it, and counts optimizer steps: use --steps N (now "
              << s.steps << "; each step is --batch-size " << s.batch_size
              << " windows of --context " << s.context
              << " characters) and --time-budget SECONDS (now " << s.time_budget
              << "); a short try: --steps 400 --time-budget 60\n";
    return 2;
  }
  try {
    return run(s);
  } catch (const std::exception& e) {
    std::cerr << "milestone_2017: error: " << e.what() << "\n";
    return 1;
  }
}
