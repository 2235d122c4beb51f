// The fortunes corpus, its train/validation split, and random training windows (module 10).
// See tinytorch/data/text.h.
#include "tinytorch/data/text.h"

#include <algorithm>
#include <cmath>
#include <system_error>

#include "../text/text_file.h"
#include "tinytorch/core/exception.h"

namespace tinytorch::data {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kRecordSeparator = "\n%\n";
constexpr int64_t kMaxFortuneFileBytes = int64_t{64} << 20;  // the largest Debian file is 250 KB

// Fills x and y ([batch, context] each, row-major) with the windows starting at starts[b]:
// x[b][i] = tokens[starts[b] + i], y[b][i] = tokens[starts[b] + i + 1].
void copy_windows(const int64_t* tokens, const std::vector<int64_t>& starts, int64_t context,
                  int64_t* x, int64_t* y) {
  // BEGIN SOLUTION
  for (size_t b = 0; b < starts.size(); ++b) {
    const int64_t* window = tokens + starts[b];  // [context + 1]
    int64_t* x_row = x + static_cast<int64_t>(b) * context;
    int64_t* y_row = y + static_cast<int64_t>(b) * context;
    std::copy(window, window + context, x_row);
    std::copy(window + 1, window + context + 1, y_row);  // the same window, one step later
  }
  // END SOLUTION
}

}  // namespace

std::string load_fortunes(const fs::path& dir) {
  std::error_code ec;
  TT_CHECK(fs::is_directory(dir, ec), "load_fortunes: '", dir.string(),
           "' does not exist or is not a directory; the fortune texts come from the Debian "
           "packages `fortunes` and `fortunes-min`: install them with "
           "`apt-get install fortunes fortunes-min` (as root, or with sudo)");
  std::vector<fs::path> files;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
    const fs::path& path = entry.path();
    // NOTE: symlink_status, not status: the .u8 names are links to the same texts.
    if (!fs::is_regular_file(entry.symlink_status())) continue;
    if (path.extension() == ".dat" || path.extension() == ".u8") continue;
    files.push_back(path);
  }
  std::sort(files.begin(), files.end());  // directory order differs between file systems
  TT_CHECK(!files.empty(), "load_fortunes: '", dir.string(),
           "' holds no fortune files; install them with `apt-get install fortunes fortunes-min`");
  std::string corpus;
  for (const fs::path& path : files) {
    std::string text = text::detail::read_file_limited(path, kMaxFortuneFileBytes, "load_fortunes");
    if (text.empty()) continue;
    // Every file ends its last record, so records never run from one file into the next.
    if (text.size() < 2 || text.compare(text.size() - 2, 2, "%\n") != 0) {
      text += text.back() == '\n' ? "%\n" : "\n%\n";
    }
    corpus += text;
  }
  return corpus;
}

TextSplit split_text(std::string_view corpus, double validation_fraction) {
  TT_CHECK_VALUE(validation_fraction > 0.0 && validation_fraction < 1.0,
                 "split_text: validation_fraction must be in (0, 1), got ", validation_fraction);
  TextSplit split;
  size_t start = 0;
  for (int64_t record = 0; start < corpus.size(); ++record) {
    const size_t found = corpus.find(kRecordSeparator, start);
    const size_t end =
        found == std::string_view::npos ? corpus.size() : found + kRecordSeparator.size();
    const bool to_validation = std::floor(static_cast<double>(record + 1) * validation_fraction) >
                               std::floor(static_cast<double>(record) * validation_fraction);
    (to_validation ? split.validation : split.train) += corpus.substr(start, end - start);
    start = end;
  }
  return split;
}

Tensor encode_to_tensor(const std::vector<int64_t>& ids) {
  return from_vector(ids, {static_cast<int64_t>(ids.size())}, kInt64);
}

std::pair<Tensor, Tensor> random_windows(const Tensor& tokens, int64_t batch, int64_t context,
                                         Generator& gen) {
  TT_CHECK(tokens.defined(), "random_windows: tokens is an undefined tensor");
  TT_CHECK_TYPE(tokens.scalar_type() == kInt64, "random_windows: expected int64 token ids, got ",
                to_string(tokens.scalar_type()), " (encode_to_tensor makes int64)");
  TT_CHECK_VALUE(tokens.dim() == 1, "random_windows: expected a 1-D tensor of token ids, got ",
                 tokens.dim(), "-D");
  TT_CHECK_VALUE(batch > 0 && context > 0,
                 "random_windows: batch and context must be positive, "
                 "got batch=",
                 batch, " context=", context);
  const int64_t n = tokens.numel();
  TT_CHECK_VALUE(n > context, "random_windows: ", n, " tokens are too few for context ", context,
                 "; a window needs context + 1 = ", context + 1, " tokens");
  std::vector<int64_t> starts(static_cast<size_t>(batch));
  for (int64_t& s : starts) s = gen.random_int(0, n - context);  // s + context <= n - 1
  const Tensor source = tokens.contiguous();
  Tensor x = empty({batch, context}, kInt64);
  Tensor y = empty({batch, context}, kInt64);
  copy_windows(source.data_ptr<int64_t>(), starts, context, x.data_ptr<int64_t>(),
               y.data_ptr<int64_t>());
  return {x, y};
}

}  // namespace tinytorch::data
