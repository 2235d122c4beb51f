// tinytorch/data/text.h — the text every language-model module trains on (module 10): Debian's
// `fortunes` collection, a deterministic train/validation split, and random training windows.
//
//   std::string corpus = data::load_fortunes();                    // ~2.5 MB of quotes
//   data::TextSplit split = data::split_text(corpus, 0.1);         // every 10th fortune:
//   validation auto tok = text::CharTokenizer::train(split.train); Tensor tokens =
//   data::encode_to_tensor(tok.encode(split.train));   // int64 [N] auto [x, y] =
//   data::random_windows(tokens, 32, 64, gen);       // int64 [32, 64] each
//
// A fortune file holds records separated by a line holding only "%":
//
//   Q: How many ...?\n
//   A: Four.\n
//   %\n                              <- separator
//   He hated being thought of ...\n
//   %\n
//
// random_windows cuts `batch` windows of `context + 1` consecutive tokens at random offsets; the
// input is the first `context`, the target the last `context` — the next token at every position:
//
//   tokens  t0 t1 t2 t3 t4 t5 t6 t7 ...        start s = 2, context = 4
//   x             t2 t3 t4 t5
//   y                t3 t4 t5 t6               y[b][i] == x[b][i + 1] for i < context - 1
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tinytorch/core/generator.h"
#include "tinytorch/core/tensor.h"

namespace tinytorch::data {

inline constexpr std::string_view kFortunesDir = "/usr/share/games/fortunes";

// The text of every fortune file in `dir`, concatenated in sorted file-name order (so the result
// is the same on every machine). Skipped: the .dat index files strfile writes, the .u8 names
// (symbolic links to the same text), and every other symbolic link or non-regular file. Each
// file's text ends with "%\n" in the result, so records never run across files. Errors: `dir`
// missing (naming the Debian packages `fortunes` and `fortunes-min` and the command
// `apt-get install fortunes fortunes-min`), or holding no fortune file.
std::string load_fortunes(const std::filesystem::path& dir = kFortunesDir);

struct TextSplit {
  std::string train;
  std::string validation;
};

// Splits `corpus` into records at every "\n%\n" (a record keeps its separator), and sends record
// i to validation when floor((i + 1) * f) > floor(i * f) (f = validation_fraction): with f = 0.1
// records 9, 19, 29, ... — spread evenly, so both splits see every source file. The rest,
// in order, is train. Deterministic: no random generator; train + validation hold every byte of
// the corpus once. validation_fraction must be in (0, 1).
TextSplit split_text(std::string_view corpus, double validation_fraction = 0.1);

// The ids as a 1-D int64 tensor [N] (a copy).
Tensor encode_to_tensor(const std::vector<int64_t>& ids);

// `batch` windows of a 1-D int64 tensor of N tokens (N > context): for b = 0, 1, ... a start
// s_b = gen.random_int(0, N - context) is drawn (in that order, so a seed fixes the batch), and
// x[b] = tokens[s_b, s_b + context), y[b] = tokens[s_b + 1, s_b + context + 1).
// Returns (x, y), both int64 [batch, context], new contiguous tensors.
std::pair<Tensor, Tensor> random_windows(const Tensor& tokens, int64_t batch, int64_t context,
                                         Generator& gen);

}  // namespace tinytorch::data
