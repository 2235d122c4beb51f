// Milestone 1997 — "Long Short-Term Memory" (Hochreiter & Schmidhuber): a character-level LSTM
// language model on Debian's fortunes, trained like milestone 2017's GPT — the same text, split,
// vocabulary, evaluation windows, optimizer and time budget — so that the two curves can be laid
// side by side: what did attention win over the recurrent network it replaced?
//
//   build/release/bin/milestone_1997                          15 minutes, like milestone 2017
//   build/release/bin/milestone_1997 --compare runs/2017/metrics.json   (the default, if present)
//   build/release/bin/milestone_1997 --steps 400 --time-budget 60 --json r.json
//
//   text ─► CharTokenizer ─► ids [B, T] ─► Embedding ─► x [B, T, E]
//        ─► nn::LSTM (2 layers, batch_first) ─► h [B, T, H] ─► Linear ─► logits [B, T, V]
//        ─► cross-entropy against the ids shifted by one
//
// Truncated backpropagation through time: every training window of --context characters starts
// from a zero state (h_0 = c_0 = 0) and the gradients flow back through its T steps, no further —
// so each prediction sees at most the T − 1 characters before it, exactly as the GPT's context
// window does. AdamW with a linear warm-up and a cosine (common/warmup_cosine.h) whose end follows
// the time budget (common/budget.h), the gradients' joint norm clipped to --clip. Every
// --eval-every steps: the loss on the FIXED batches of milestone 2017 (common/char_text.h) and the
// time since the start. At the end: what the recurrence costs (one forward pass over the same
// characters as T sequential steps or as one), and the validation loss of this LSTM and of the
// 2017 GPT at matching wall-clock times, read from 2017's results (--compare).
//
// Writes into --out (default runs/1997/): checkpoint.ttc (resumable), tokenizer.txt, metrics.csv,
// metrics.json and training_curve.svg at every evaluation. See milestones/1997_lstm/README.md.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "common/budget.h"
#include "common/char_text.h"
#include "common/char_training.h"
#include "common/cli.h"
#include "common/contended.h"
#include "common/memory.h"
#include "common/outputs.h"
#include "common/text_layout.h"
#include "common/warmup_cosine.h"
#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/core/generator.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/data/text.h"
#include "tinytorch/kernels/registry.h"
#include "tinytorch/nn/modules/rnn.h"
#include "tinytorch/nn/nn.h"
#include "tinytorch/nn/utils/clip_grad.h"
#include "tinytorch/optim/optim.h"
#include "tinytorch/text/tokenizer.h"
#include "tinytorch/tinytorch.h"
#include "tinytorch/train/train.h"

namespace tt = tinytorch;
namespace nn = tinytorch::nn;
namespace optim = tinytorch::optim;
namespace data = tinytorch::data;
namespace train = tinytorch::train;
namespace ms = tinytorch::milestones;
namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace {

using Clock = std::chrono::steady_clock;

// Milestone 2017's recipe wherever the two models can share it (batch, context, optimizer,
// schedule, clipping, evaluation, budget); the model's sizes are this milestone's own.
struct Settings {
  int64_t steps = 7000;
  int64_t batch_size = 32;
  int64_t context = 64;
  int64_t embedding = 128;  // E: the GPT's d_model
  int64_t hidden = 235;     // H: the GPT's parameter count (CharLSTMImpl, below)
  int64_t layers = 2;
  double lr = 2e-3;
  double min_lr = 1e-4;
  int64_t warmup = 200;
  double beta2 = 0.99;
  double weight_decay = 0.1;
  double clip = 1.0;
  int64_t eval_every = 500;
  int64_t eval_batches = 20;
  double time_budget = 900.0;
  uint64_t seed = 1997;
  int threads = 0;  // 0: the framework's default (TINYTORCH_NUM_THREADS or all hardware threads)
  std::string fortunes_dir = std::string(data::kFortunesDir);
  std::string out_dir = "runs/1997";
  std::string json_path;
  std::string resume_path;
  std::string compare_path;  // empty: kDefaultCompare when it exists
  bool no_compare = false;
  bool quiet = false;
  bool contended = false;  // a CPU-bound process for the first third of the budget (contended.h)
};

// Where milestone 2017 writes its curve when run with its defaults (./tito milestone run 2017):
// its --out folder's metrics.json, one row per evaluation with its time ("seconds").
constexpr const char* kDefaultCompare = "runs/2017/metrics.json";

// The language model: characters in, the next character's logits out.
//
//   ids [B, T] ─► wte ─► [B, T, E] ─► lstm ─► [B, T, H] ─► head ─► logits [B, T, V]
//
// Parameters: V·E (wte) + 4H·(E + H) + 8H (layer 0) + (L − 1)·(8H² + 8H) (the layers above, whose
// input is the H features of the one below) + H·V + V (head). With V = 114, E = 128, H = 235,
// L = 2: 828 276 — milestone 2017's GPT has 830 720 (4 layers, d_model 128).
class CharLSTMImpl : public nn::Module {
 public:
  CharLSTMImpl(int64_t vocab, int64_t embedding, int64_t hidden, int64_t layers)
      : Module("CharLSTM"),
        wte(register_module("wte", nn::Embedding(vocab, embedding))),
        lstm(register_module(
            "lstm",
            nn::LSTM(nn::LSTMOptions(embedding, hidden).num_layers(layers).batch_first(true)))),
        head(register_module("head", nn::Linear(hidden, vocab))) {}

  // ids [B, T] → logits [B, T, V], every window from a zero state.
  tt::Tensor forward(const tt::Tensor& ids) {
    // (output, (h_n, c_n)): the output is the last layer's h at every step, [B, T, H]; the final
    // states are dropped — the next window starts from zeros again.
    const tt::Tensor h = std::get<0>(lstm(wte(ids)));
    return head(h);
  }

  nn::Embedding wte;
  nn::LSTM lstm;
  nn::Linear head;
};
TT_MODULE(CharLSTM);

// The entropy of the training text's character frequencies, in nats: the loss of the best model
// that ignores the context. A model whose validation loss is below it has learnt something from
// the characters before the one it predicts.
double unigram_entropy(const tt::Tensor& tokens, int64_t vocab) {
  std::vector<double> counts(static_cast<size_t>(vocab), 0.0);
  for (const int64_t id : tokens.to_vector<int64_t>()) counts[static_cast<size_t>(id)] += 1.0;
  const auto n = static_cast<double>(tokens.numel());
  double h = 0.0;
  for (const double c : counts) {
    if (c > 0) h -= c / n * std::log(c / n);
  }
  return h;
}

// What the recurrence costs, measured: one forward pass (eval mode, no graph) over the same
// B·T characters, fed as B windows of T characters — T steps one after another, each waiting
// for the state of the one before — and as B·T windows of one character — one step. The
// arithmetic is the same (every character goes through every gate's GEMMs once); what differs
// is that the first is T small matrix products in a row, the second one large one. A
// transformer's forward over B windows of T is always the second kind: all T positions of a
// layer in one batch of matrix products.
struct SequentialCost {
  int64_t characters = 0;
  int64_t window = 0;
  double windows_ms = 0.0;   // B windows × T steps
  double one_step_ms = 0.0;  // B·T windows × 1 step
};

SequentialCost measure_sequential(CharLSTM& model, const tt::Tensor& tokens, int64_t batch,
                                  int64_t context) {
  tt::Generator gen(2);
  const tt::Tensor windows = data::random_windows(tokens, batch, context, gen).first;
  const tt::Tensor steps = windows.reshape({batch * context, 1});
  model->eval();
  const tt::NoGradGuard no_grad;
  // The median of 5 timed passes after one untimed one, in milliseconds.
  const auto time_ms = [&](const tt::Tensor& x) {
    (void)model->forward(x);
    std::vector<double> ms_each;
    for (int i = 0; i < 5; ++i) {
      const auto t0 = Clock::now();
      (void)model->forward(x);
      ms_each.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    }
    std::sort(ms_each.begin(), ms_each.end());
    return ms_each[2];
  };
  SequentialCost cost;
  cost.characters = batch * context;
  cost.window = context;
  cost.windows_ms = time_ms(windows);
  cost.one_step_ms = time_ms(steps);
  model->train();
  return cost;
}

// Milestone 2017's validation curve: when each evaluation ended and its loss.
struct GptCurve {
  std::string source;
  std::vector<double> seconds;
  std::vector<double> val_loss;
  double tokens_per_second = 0.0;  // 0: not recorded
  int64_t parameters = 0;          // 0: not recorded
  double time_budget = 0.0;        // 0: not recorded
  int64_t threads = 0;             // 0: not recorded
};

// Reads `path`, either of milestone 2017's two files: its results (--json; "milestone":
// "2017_gpt", with "eval_seconds" and "val_loss") or its metrics.json in --out (the evaluation
// history: {"columns": [...], "epochs": [{"seconds": ..., "val_loss": ..., ...}, ...]}).
GptCurve read_gpt_curve(const std::string& path) {
  std::ifstream in(path);
  TT_CHECK_VALUE(in.good(), "--compare ", path, ": cannot read the file");
  json j;
  try {
    j = json::parse(in);
  } catch (const std::exception& e) {
    throw tt::Error("--compare " + path + ": not JSON (" + e.what() + ")");
  }
  GptCurve curve;
  curve.source = path;
  if (j.contains("epochs") && j["epochs"].is_array()) {  // metrics.json
    double tokens = 0.0;
    for (const auto& row : j["epochs"]) {
      TT_CHECK_VALUE(row.contains("seconds") && row.contains("val_loss"), "--compare ", path,
                     ": expected milestone 2017's metrics.json, whose rows have 'seconds' and "
                     "'val_loss'");
      curve.seconds.push_back(row["seconds"].get<double>());
      curve.val_loss.push_back(row["val_loss"].get<double>());
      if (row.contains("tokens_per_second")) tokens += row["tokens_per_second"].get<double>();
    }
    if (!curve.seconds.empty()) tokens /= static_cast<double>(curve.seconds.size());
    curve.tokens_per_second = tokens;  // the mean over the evaluation intervals
  } else {
    TT_CHECK_VALUE(j.value("milestone", "") == "2017_gpt", "--compare ", path,
                   ": expected milestone 2017's results (--json) or its metrics.json");
    TT_CHECK_VALUE(j.contains("eval_seconds"), "--compare ", path,
                   ": these results record no 'eval_seconds' (an older milestone_2017 wrote "
                   "them); compare with its --out folder's metrics.json instead");
    curve.seconds = j["eval_seconds"].get<std::vector<double>>();
    curve.val_loss = j["val_loss"].get<std::vector<double>>();
    curve.tokens_per_second = j.value("tokens_per_second", 0.0);
    if (j.contains("config")) curve.parameters = j["config"].value("parameters", int64_t{0});
    curve.time_budget = j.value("time_budget_seconds", 0.0);
    curve.threads = j.value("threads", int64_t{0});
  }
  TT_CHECK_VALUE(curve.seconds.size() == curve.val_loss.size() && !curve.seconds.empty(),
                 "--compare ", path, ": no evaluations in it");
  return curve;
}

// One row of the comparison: at the time of one of this run's evaluations, the LSTM's loss then
// and the GPT's loss at its latest evaluation by that time (none before its first).
struct ComparisonRow {
  double seconds;
  int64_t lstm_step;
  double lstm_val_loss;
  std::optional<double> gpt_val_loss;
  std::optional<double> gpt_seconds;  // when that GPT evaluation ended
};

std::vector<ComparisonRow> compare(const train::History& history, const GptCurve& gpt) {
  std::vector<ComparisonRow> rows;
  for (int64_t i = 0; i < history.size(); ++i) {
    ComparisonRow row{.seconds = history.at(i, "seconds"),
                      .lstm_step = static_cast<int64_t>(history.at(i, "step")),
                      .lstm_val_loss = history.at(i, "val_loss"),
                      .gpt_val_loss = std::nullopt,
                      .gpt_seconds = std::nullopt};
    for (size_t k = 0; k < gpt.seconds.size(); ++k) {
      if (gpt.seconds[k] > row.seconds) break;
      row.gpt_val_loss = gpt.val_loss[k];
      row.gpt_seconds = gpt.seconds[k];
    }
    rows.push_back(row);
  }
  return rows;
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
  // The GPT's curve is read now, so that a wrong path stops the run before it trains.
  std::optional<GptCurve> gpt;
  if (!s.compare_path.empty()) {
    gpt = read_gpt_curve(s.compare_path);
  } else if (!s.no_compare && fs::is_regular_file(kDefaultCompare)) {
    gpt = read_gpt_curve(kDefaultCompare);
  }
  if (s.threads > 0) tt::set_num_threads(s.threads);
  tt::manual_seed(s.seed);
  std::ostream& out = std::cout;

  // ── data: milestone 2017's corpus, vocabulary, split and evaluation windows ─────────────
  const ms::CharCorpus text = ms::load_char_corpus(s.fortunes_dir);
  const tt::Tensor& train_tokens = text.train_tokens;
  const int64_t vocab = text.tokenizer.vocab_size();
  const auto train_eval = ms::fixed_batches(train_tokens, s.eval_batches, s.batch_size, s.context);
  const auto val_eval = ms::fixed_batches(text.val_tokens, s.eval_batches, s.batch_size, s.context);
  const double unigram = unigram_entropy(train_tokens, vocab);

  // ── model, optimizer, schedule ──────────────────────────────────────────────────────────
  CharLSTM model(vocab, s.embedding, s.hidden, s.layers);
  int64_t parameters = 0;
  for (const auto& p : model->parameters()) parameters += p.numel();
  optim::AdamW optimizer(
      model->parameters(),
      optim::AdamWOptions(s.lr).betas({0.9, s.beta2}).weight_decay(s.weight_decay));
  ms::WarmupCosineLR scheduler(optimizer, s.warmup, s.steps, s.min_lr);
  tt::Generator windows(s.seed);  // the training windows' stream

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
    train::restore_checkpoint(ckpt, state);
    step = ckpt.epoch;  // this milestone counts steps where the Trainer counts epochs
    history = ckpt.history;
  }
  if (!s.out_dir.empty()) text.tokenizer.save(fs::path(s.out_dir) / "tokenizer.txt");

  if (!s.quiet) {
    out << "Milestone 1997 — long short-term memory: a character-level LSTM\n"
        << tt::kernels::which_code_report() << "\n"
        << (load.seconds() > 0
                ? "contended: a second, CPU-bound process runs for the first " +
                      std::to_string(static_cast<int>(load.seconds())) + " s of the budget\n"
                : "")
        << "LSTM: embedding " << s.embedding << ", " << s.layers << " layers of hidden size "
        << s.hidden << ", windows of " << s.context << " characters (zero state each), vocabulary "
        << vocab << " characters; " << parameters << " parameters\n"
        << "fortunes corpus " << text.corpus.size() << " bytes: " << train_tokens.numel()
        << " training / " << text.val_tokens.numel()
        << " validation characters (every tenth fortune); unigram entropy " << ms::fixed(unigram, 4)
        << " nats/char\n"
        << "AdamW(lr=" << s.lr << " peak, betas (0.9, " << s.beta2 << "), weight decay "
        << s.weight_decay << "), warm-up " << s.warmup << " steps then cosine to " << s.min_lr
        << ", clip " << s.clip << ", batch " << s.batch_size << " x " << s.context
        << " characters, " << s.steps << " steps, time budget " << s.time_budget << " s, seed "
        << s.seed << ", " << tt::get_num_threads() << " thread(s)\n"
        << (gpt            ? "comparing with milestone 2017's GPT from " + gpt->source + "\n"
            : s.no_compare ? std::string("--no-compare: this LSTM's curve alone\n")
                           : std::string("no milestone 2017 curve to compare with (") +
                                 kDefaultCompare + " not found)\n");
    if (step > 0) out << "resumed from " << s.resume_path << " after step " << step << "\n";
    out << "\n" << std::flush;
  }

  // ── train ──────────────────────────────────────────────────────────────────────────────
  // common/char_training.h: intervals of --eval-every steps, each ended by an evaluation and a
  // new plan of the schedule's end at that interval's pace (milestone 2017's loop, so the two
  // curves differ by the model alone).
  const ms::BudgetedTraining budget{.steps = s.steps,
                                    .warmup = s.warmup,
                                    .eval_every = s.eval_every,
                                    .batch_size = s.batch_size,
                                    .context = s.context,
                                    .clip = s.clip,
                                    .time_budget = s.time_budget,
                                    .quiet = s.quiet,
                                    .elapsed = elapsed};
  const ms::BudgetedOutcome outcome = ms::train_within_budget(
      budget, model, optimizer, scheduler, train_tokens, windows, train_eval, val_eval, step,
      history, out, [&] { return "  at " + ms::fixed(elapsed(), 1) + " s"; },
      [&](int64_t at_step) {
        if (s.out_dir.empty()) return;
        train::CurveOptions curve;
        curve.title = "1997 character-level LSTM on fortunes (2 layers, hidden " +
                      std::to_string(s.hidden) + ")";
        curve.x_column = "step";
        curve.loss_columns = {"train_loss", "val_loss"};
        train::write_logs(history, s.out_dir, curve);
        train::save_checkpoint(train::capture_checkpoint(state, at_step, history),
                               (fs::path(s.out_dir) / "checkpoint.ttc").string());
      });
  const double train_seconds = outcome.train_seconds;
  const int64_t trained_steps = outcome.trained_steps;
  const bool stopped_by_budget = outcome.stopped_by_budget;
  const int64_t planned = outcome.planned;
  const std::vector<ms::PlanChange>& plan_changes = outcome.plan_changes;

  // ── the end: the recurrence's cost, the comparison, the results ─────────────────────────
  const double final_val_loss = history.empty() ? std::nan("") : history.at(-1, "val_loss");
  const double tokens_per_second =
      train_seconds > 0
          ? static_cast<double>(trained_steps * s.batch_size * s.context) / train_seconds
          : 0.0;
  const SequentialCost cost = measure_sequential(model, train_tokens, s.batch_size, s.context);
  const std::vector<ComparisonRow> rows =
      gpt && !history.empty() ? compare(history, *gpt) : std::vector<ComparisonRow>{};
  const int64_t rss = ms::peak_rss_bytes();
  const double total_seconds = elapsed();

  out << "\none forward pass over " << cost.characters << " characters: as " << s.batch_size
      << " windows x " << cost.window << " steps " << ms::fixed(cost.windows_ms, 2) << " ms, as "
      << cost.characters << " windows x 1 step " << ms::fixed(cost.one_step_ms, 2)
      << " ms: the same arithmetic, " << ms::fixed(cost.windows_ms / cost.one_step_ms, 1)
      << "x the time when each step waits for the one before\n";
  if (gpt) {
    out << "\nvalidation loss (nats/char) at the same wall-clock time, this machine:\n"
        << "  seconds   LSTM (step)        GPT (its evaluation at)\n";
    for (const ComparisonRow& r : rows) {
      std::ostringstream line;
      line << "  " << std::setw(7) << ms::fixed(r.seconds, 1) << "   "
           << ms::fixed(r.lstm_val_loss, 4) << " (" << std::setw(5) << r.lstm_step << ")     "
           << (r.gpt_val_loss
                   ? ms::fixed(*r.gpt_val_loss, 4) + " (" + ms::fixed(*r.gpt_seconds, 1) + " s)"
                   : std::string("-      (no evaluation yet)"));
      out << line.str() << "\n";
    }
    out << "  training throughput: LSTM " << train::format_count(tokens_per_second)
        << " tokens/s, GPT "
        << (gpt->tokens_per_second > 0 ? train::format_count(gpt->tokens_per_second) : "?")
        << " tokens/s"
        << (gpt->parameters > 0 ? "; parameters: LSTM " + std::to_string(parameters) + ", GPT " +
                                      std::to_string(gpt->parameters)
                                : "")
        << "\n";
    if (gpt->time_budget > 0 && gpt->time_budget != s.time_budget) {
      out << "  (the GPT ran with --time-budget " << gpt->time_budget << ", this run with "
          << s.time_budget << ")\n";
    }
  } else if (!s.no_compare) {
    out << "\nTo see the GPT's validation loss at the same wall-clock times beside this curve, "
           "train milestone 2017 on this machine (./tito milestone run 2017, which writes "
        << kDefaultCompare << ") and run this milestone again, or pass --compare PATH\n";
  }
  out << std::fixed << std::setprecision(4) << "\nfinal validation loss " << final_val_loss
      << " nats/char (unigram entropy " << unigram << ": "
      << (final_val_loss < unigram ? "below it — the LSTM uses the context"
                                   : "NOT below it — the LSTM has not learnt from the context")
      << ")\n"
      << "training throughput " << train::format_count(tokens_per_second) << " tokens/s; " << step
      << " of " << s.steps << " steps"
      << (planned < s.steps
              ? " (the schedule shortened to " + std::to_string(planned) + " to fit the budget)"
              : "")
      << (stopped_by_budget ? " (stopped by the time budget)" : "") << "; total "
      << std::setprecision(1) << total_seconds << " s\n"
      << "peak RSS " << ms::mib(rss) << "\n"
      << std::defaultfloat;
  if (!s.out_dir.empty() && trained_steps > 0) {
    out << "wrote checkpoint.ttc, tokenizer.txt, metrics.csv, metrics.json, training_curve.svg "
           "into "
        << s.out_dir << "\n";
  }

  if (!s.json_path.empty()) {
    json j;
    j["milestone"] = "1997_lstm";
    j["final_val_loss"] = final_val_loss;
    j["unigram_entropy"] = unigram;
    j["below_unigram_entropy"] = final_val_loss < unigram;
    j["val_loss"] = history.empty() ? std::vector<double>{} : history.column("val_loss");
    j["train_loss"] = history.empty() ? std::vector<double>{} : history.column("train_loss");
    std::vector<int64_t> eval_steps;
    if (!history.empty()) {
      for (const double v : history.column("step")) eval_steps.push_back(static_cast<int64_t>(v));
    }
    j["eval_steps"] = eval_steps;
    j["eval_seconds"] = history.empty() ? std::vector<double>{} : history.column("seconds");
    j["tokens_per_second"] = tokens_per_second;
    j["threads"] = tt::get_num_threads();
    j["seed"] = s.seed;
    j["peak_rss_bytes"] = rss;
    j["steps"] = s.steps;
    j["planned_steps"] = planned;
    j["plan_changes"] = json::array();
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
    j["config"] = {{"vocab_size", vocab},      {"block_size", s.context},
                   {"embedding", s.embedding}, {"hidden_size", s.hidden},
                   {"num_layers", s.layers},   {"parameters", parameters}};
    j["sequential"] = {{"characters", cost.characters},
                       {"window", cost.window},
                       {"windows_ms", cost.windows_ms},
                       {"one_step_ms", cost.one_step_ms}};
    if (gpt) {
      json c;
      c["source"] = gpt->source;
      c["gpt_tokens_per_second"] = gpt->tokens_per_second;
      c["gpt_parameters"] = gpt->parameters;
      c["rows"] = json::array();
      for (const ComparisonRow& r : rows) {
        c["rows"].push_back({{"seconds", r.seconds},
                             {"lstm_step", r.lstm_step},
                             {"lstm_val_loss", r.lstm_val_loss},
                             {"gpt_val_loss", r.gpt_val_loss ? json(*r.gpt_val_loss) : json()},
                             {"gpt_seconds", r.gpt_seconds ? json(*r.gpt_seconds) : json()}});
      }
      j["comparison"] = c;
    } else {
      j["comparison"] = nullptr;
    }
    j["batch_size"] = s.batch_size;
    j["lr"] = s.lr;
    j["min_lr"] = s.min_lr;
    j["warmup"] = s.warmup;
    j["beta2"] = s.beta2;
    j["weight_decay"] = s.weight_decay;
    j["clip"] = s.clip;
    j["eval_every"] = s.eval_every;
    j["eval_batches"] = s.eval_batches;
    j["train_tokens"] = train_tokens.numel();
    j["val_tokens"] = text.val_tokens.numel();
    j["out_dir"] = s.out_dir;
    train::write_file_atomically(s.json_path,
                                 j.dump(2, ' ', false, json::error_handler_t::replace) + "\n");
    if (!s.quiet) out << "wrote " << s.json_path << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Settings s;
  CLI::App app{
      "Milestone 1997: a character-level LSTM (2 layers) trained on Debian's fortunes with "
      "milestone 2017's data, evaluation, optimizer and time budget, and compared with its GPT",
      "milestone_1997"};
  app.add_option("--steps", s.steps,
                 "optimizer steps (the schedule's length; in total, when resuming)")
      ->capture_default_str()
      ->check(ms::whole_number_in(2, 1000000));
  app.add_option("--batch-size", s.batch_size, "windows per step")
      ->capture_default_str()
      ->check(ms::whole_number_in(1, 4096));
  app.add_option("--context", s.context,
                 "characters per window (the steps backpropagation goes through)")
      ->capture_default_str()
      ->check(ms::whole_number_in(8, 1024));
  app.add_option("--embedding", s.embedding, "the characters' embedding size E")
      ->capture_default_str()
      ->check(ms::whole_number_in(1, 4096));
  app.add_option("--hidden", s.hidden, "the LSTM's hidden size H")
      ->capture_default_str()
      ->check(ms::whole_number_in(1, 4096));
  app.add_option("--layers", s.layers, "stacked LSTM layers")
      ->capture_default_str()
      ->check(ms::whole_number_in(1, 16));
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
                 "steps between evaluations (train/val loss on fixed batches, the logs and the "
                 "checkpoint)")
      ->capture_default_str()
      ->check(ms::whole_number_in(1, 1000000));
  app.add_option("--eval-batches", s.eval_batches, "fixed batches per evaluation of each split")
      ->capture_default_str()
      ->check(ms::whole_number_in(1, 1000));
  app.add_flag("--contended", s.contended,
               "check the budget on a busy machine: a second, CPU-bound process runs for the "
               "first third of --time-budget");
  app.add_option("--time-budget", s.time_budget,
                 "wall-clock seconds for the whole run, evaluations included: training stops "
                 "(and evaluates) when it is spent")
      ->capture_default_str()
      ->check(ms::number_in(1, 86400));
  app.add_option("--seed", s.seed, "random seed: weights, training windows")->capture_default_str();
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
  auto* compare = app.add_option("--compare", s.compare_path,
                                 "milestone 2017's curve to compare with: its results (--json) or "
                                 "its metrics.json (default: " +
                                     std::string(kDefaultCompare) + " when it exists)")
                      ->check(CLI::ExistingFile);
  app.add_flag("--no-compare", s.no_compare, "print this LSTM's curve only")->excludes(compare);
  app.add_flag("--quiet,-q", s.quiet, "print only the final results");
  // As in milestone 2017: random windows of the text, no passes over it — no epochs.
  std::string epochs;
  app.add_option("--epochs", epochs)->group("");  // hidden from --help
  CLI11_PARSE(app, argc, argv);
  if (app.count("--epochs") > 0) {
    std::cerr << "milestone_1997: error: --epochs " << epochs
              << ": this milestone has no epochs — it trains on random windows of the text, "
                 "not in passes over it, and counts optimizer steps: use --steps N (now "
              << s.steps << ") and --time-budget SECONDS (now " << s.time_budget
              << "); a short try: --steps 400 --time-budget 60\n";
    return 2;
  }
  try {
    return run(s);
  } catch (const std::exception& e) {
    std::cerr << "milestone_1997: error: " << e.what() << "\n";
    return 1;
  }
}
