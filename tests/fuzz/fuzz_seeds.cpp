// fuzz_seeds OUT_DIR REPO_ROOT — writes the seed corpus of every harness, OUT_DIR/<harness>/...,
// with the library's own writers where it has them (serialize::save, save_checkpoint), so the
// seeds follow the formats as they change. Run by the build (target fuzz_corpus); nothing binary
// is committed.
//
//   idx, idx_gzip   IDX files of unsigned bytes (the library reads IDX but never writes it: the
//                   four-line writer below), plain and gzip-compressed (idx only)
//   cifar           CIFAR-10 binary batch files of 1 and 2 records (no library writer either)
//   archive         archives of each dtype, an empty tensor, a scalar, a view, generator states
//   state_dict      the state_dict of fuzz_support.h's model
//   checkpoint      checkpoints of model + Adam + StepLR + generator, before and after 2 steps
//   torch_load      torch::save of that model, of its Adam after 2 steps, of a tensor and of a
//                   vector of tensors
//   indexing        byte strings that decode (fuzz_indexing.cpp) into a base tensor and index
//                   lists: slices, None and Ellipsis, an index tensor, a mask
//   modules_json    the repository's modules/modules.json
//   markers         every library source with solution markers (tinytorch/src/**/*.cpp)
//   junit           a ctest JUnit file with a passed, a failed and a not-implemented test
//   vocab           CharTokenizer and BpeTokenizer files (save), trained on a short text
//   model_file      model files (export_model) of an MLP, its int8 version, a conv net with
//                   BatchNorm2d and a GPT, all tiny
//   predict_request /v1/predict bodies: valid ones for fuzz_predict_request's signatures, and
//                   each kind of invalid one the server answers 400
//   http_request    what a client sends the server on one connection: pipelined requests, a
//                   chunked body, Expect: 100-continue, a HEAD, and each head the server refuses
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "tinytorch/deploy/model_file.h"

namespace fs = std::filesystem;
namespace tt = tinytorch;

namespace {

void write_file(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// IDX: 0x00 0x00 0x08 D, D big-endian uint32 sizes, the bytes (tinytorch/data/idx.h).
std::string idx_bytes(const std::vector<uint32_t>& sizes) {
  std::string out{'\0', '\0', '\x08', static_cast<char>(sizes.size())};
  size_t n = 1;
  for (uint32_t s : sizes) {
    for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((s >> shift) & 0xFF);
    n *= s;
  }
  for (size_t i = 0; i < n; ++i) out += static_cast<char>(i * 37 % 256);
  return out;
}

void write_gzip(const fs::path& path, const std::string& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  if (f == nullptr || gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())) <= 0) {
    throw std::runtime_error("cannot write " + path.string());
  }
  gzclose(f);
}

fs::path fresh_dir(const fs::path& dir) {
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: fuzz_seeds OUT_DIR REPO_ROOT\n";
    return 2;
  }
  const fs::path out = argv[1], root = argv[2];

  // ---- IDX -----------------------------------------------------------------------------
  const std::vector<std::vector<uint32_t>> idx_shapes{{5}, {3, 2, 2}, {2, 2, 2, 2}, {0}};
  const fs::path idx = fresh_dir(out / "idx"), idx_gzip = fresh_dir(out / "idx_gzip");
  for (size_t i = 0; i < idx_shapes.size(); ++i) {
    const std::string bytes = idx_bytes(idx_shapes[i]);
    const std::string name = "shape" + std::to_string(i);
    write_file(idx / (name + ".idx"), bytes);
    write_gzip(idx / (name + ".idx.gz"), bytes);
    write_file(idx_gzip / (name + ".idx"), bytes);
  }

  // ---- CIFAR-10: records of a label byte and 3072 pixel bytes (tinytorch/data/cifar.h) ------
  const fs::path cifar = fresh_dir(out / "cifar");
  for (int records = 1; records <= 2; ++records) {
    std::string bytes;
    for (int r = 0; r < records; ++r) {
      bytes += static_cast<char>(r + 3);  // the label
      for (int64_t i = 0; i < tt::data::kCifar10ImageBytes; ++i) {
        bytes += static_cast<char>((i * 37 + r) % 256);
      }
    }
    write_file(cifar / ("records" + std::to_string(records) + ".bin"), bytes);
  }

  // ---- Archives ------------------------------------------------------------------------
  const fs::path archive = fresh_dir(out / "archive");
  {
    tt::manual_seed(0);
    tt::serialize::Archive a;
    a.tensors.insert("float32", tt::randn({2, 3}));
    a.tensors.insert("float64", tt::randn({4}, tt::TensorOptions().dtype(tt::kFloat64)));
    a.tensors.insert("int64", tt::arange(6, tt::TensorOptions().dtype(tt::kInt64)));
    a.tensors.insert("bool", tt::ones({3}, tt::TensorOptions().dtype(tt::kBool)));
    a.tensors.insert("scalar", tt::ones({}));
    a.tensors.insert("view", tt::randn({3, 4}).transpose(0, 1));  // saved contiguous
    a.strings.insert("rng", tt::serialize::generator_state(tt::default_generator()));
    a.strings.insert("note", "epoch 3");
    tt::serialize::save(a, (archive / "dtypes.ttc").string());
  }
  {
    tt::serialize::Archive a;
    a.tensors.insert("empty", tt::zeros({0, 3}));
    tt::serialize::save(a, (archive / "empty_tensor.ttc").string());
  }
  tt::serialize::save(tt::serialize::Archive{}, (archive / "nothing.ttc").string());

  // ---- state_dict and checkpoints of fuzz_support.h's training state ----------------------
  {
    tt::fuzz::TrainingObjects t;
    tt::serialize::Archive a;
    a.tensors = t.model->state_dict();
    tt::serialize::save(a, (fresh_dir(out / "state_dict") / "model.ttc").string());

    const fs::path checkpoint = fresh_dir(out / "checkpoint");
    tt::train::History history;
    tt::train::save_checkpoint(tt::train::capture_checkpoint(t.state, 0, history),
                               (checkpoint / "epoch0.ttc").string());
    for (int epoch = 1; epoch <= 2; ++epoch) {
      tt::fuzz::train_step(t.model, t.optimizer);
      t.scheduler.step();
      history.append({{"loss", 1.0 / epoch}, {"accuracy", 0.5 + 0.1 * epoch}});
    }
    tt::train::Checkpoint ckpt = tt::train::capture_checkpoint(t.state, 2, history);
    ckpt.extra.insert("early_stopping.best", "0.5");
    tt::train::save_checkpoint(ckpt, (checkpoint / "epoch2.ttc").string());
  }

  // ---- torch::save of a module, an optimizer, a tensor and a vector of tensors ---------------
  {
    const fs::path torch_load = fresh_dir(out / "torch_load");
    tt::fuzz::TrainingObjects t;
    for (int step = 0; step < 2; ++step) tt::fuzz::train_step(t.model, t.optimizer);
    tt::save(t.model, (torch_load / "model.ttc").string());
    tt::save(t.optimizer, (torch_load / "adam.ttc").string());
    tt::save(tt::arange(4, tt::TensorOptions().dtype(tt::kFloat64)),
             (torch_load / "tensor.ttc").string());
    tt::save(std::vector<tt::Tensor>{tt::ones({2, 3}), tt::arange(3)},
             (torch_load / "vector.ttc").string());
  }

  // ---- index lists: byte strings in fuzz_indexing.cpp's decoding ---------------------------
  {
    const fs::path indexing = fresh_dir(out / "indexing");
    // A base of shape [3, 4, 2], transposed (bytes 3 | 3 4 2 | 1), then the item count and the
    // items; each list leads with a different item kind (0 Slice, 2 Ellipsis, 5 index tensor,
    // 6 mask), so the search starts from every branch of decode_item.
    const std::string base = {3, 3, 4, 2, 1};
    const std::vector<std::string> lists = {
        {3, 0, 1, 5, 1, 2, 1, 5, 2, 1, 0, 0},
        {3, 2, 1, 3, 0, 1},
        {2, 5, 1, 3, 0, 1, 0, 2, 0, 4, 1, 0},
        {1, 6, 3, 3, 4, 2, 1, 0, 1, 1, 0, 1, 0, 1, 1, 0, 1, 0, 0, 1, 1, 0, 1, 0, 1, 1, 0, 0},
    };
    for (size_t i = 0; i < lists.size(); ++i) {
      write_file(indexing / ("items" + std::to_string(i) + ".bin"), base + lists[i]);
    }
  }

  // ---- tokenizer vocabularies --------------------------------------------------------------
  {
    const fs::path vocab = fresh_dir(out / "vocab");
    const std::string text =
        "the cat sat on the mat; then the cats sat there 1234 times.\n<|endoftext|>the end\n";
    tt::text::CharTokenizer::train(text).save(vocab / "char.vocab");
    tt::text::BpeTokenizer::train(text, 256 + 24, {"<|endoftext|>", "<|pad|>"})
        .save(vocab / "bpe.vocab");
    tt::text::BpeTokenizer().save(vocab / "bytes.vocab");  // no merges, no special tokens
  }

  // ---- model files (module 20's exporter), tiny: the fuzz limits are 2^16 values per layer ----
  {
    const fs::path models = fresh_dir(out / "model_file");
    const auto sig = [](std::vector<int64_t> shape, std::vector<std::string> labels) {
      return tt::deploy::ModelSignature{.name = "seed",
                                        .version = "",
                                        .input_shape = std::move(shape),
                                        .input_dtype = tt::kFloat32,
                                        .labels = std::move(labels)};
    };
    tt::manual_seed(0);
    tt::nn::Sequential mlp(tt::nn::Linear(6, 5), tt::nn::ReLU(), tt::nn::Linear(5, 3));
    tt::OrderedDict<std::string, tt::Tensor> stats{"Statistic"};
    stats.insert("mean", tt::zeros({6}));
    tt::deploy::export_model(*mlp.ptr(), sig({6}, {"a", "b", "c"}), (models / "mlp.ttm").string(),
                             stats);
    tt::nn::Sequential q = tt::quantization::quantize_dynamic(mlp);
    tt::deploy::export_model(*q.ptr(), sig({6}, {}), (models / "mlp_int8.ttm").string());
    tt::nn::Sequential cnn(tt::nn::Conv2d(tt::nn::Conv2dOptions(1, 2, 3).padding(1)),
                           tt::nn::BatchNorm2d(2), tt::nn::ReLU(),
                           tt::nn::MaxPool2d(tt::nn::MaxPool2dOptions(2)), tt::nn::Flatten(),
                           tt::nn::Linear(8, 2));
    tt::deploy::export_model(*cnn.ptr(), sig({1, 4, 4}, {}), (models / "cnn.ttm").string());
    tt::nn::GPTConfig c;
    c.vocab_size = 8;
    c.block_size = 4;
    c.n_layer = 1;
    c.n_head = 2;
    c.n_embd = 4;
    tt::nn::GPT gpt(c);
    tt::deploy::export_model(*gpt.ptr(),
                             {.name = "gpt",
                              .version = "",
                              .input_shape = {-1},
                              .input_dtype = tt::kInt64,
                              .labels = {}},
                             (models / "gpt.ttm").string());
  }

  // ---- /v1/predict bodies ----------------------------------------------------------------
  {
    const fs::path bodies = fresh_dir(out / "predict_request");
    const std::vector<std::pair<std::string, std::string>> seeds = {
        {"floats", R"({"inputs": [[0.5, -1, 2e3, 0], [1, 2, 3, 4]]})"},
        {"image", R"({"inputs": [[0.25, 0.5, 0.75, 1.0]]})"},
        {"four_rows",
         R"({"inputs": [[1, 2, 3, 4], [-0.0, 1e-45, 3.4e38, -7], [0, 0, 0, 0], [9, 8, 7, 6]],)"
         R"( "extra": {"ignored": [true, null, "x"]}})"},
        {"tokens", R"({"inputs": [[1, 2, 3], [9, 0, 5]]})"},
        {"malformed", R"({"inputs": [[1, 2)"},
        {"no_inputs", R"({"rows": []})"},
        {"short_row", R"({"inputs": [[1, 2, 3, 4], [1]]})"},
        {"string_value", R"({"inputs": [["a", "b", "c", "d"]]})"},
        {"too_many_rows", R"({"inputs": [[1], [2], [3], [4], [5]]})"},
        {"out_of_range", R"({"inputs": [[1e39, -1, 10, 1.5]]})"},
        {"nested", R"({"inputs": [[[0.5], {"x": 1}, null, true]]})"},
    };
    for (const auto& [name, body] : seeds) write_file(bodies / (name + ".json"), body);
  }

  // ---- the server's connections ---------------------------------------------------------
  {
    const fs::path http = fresh_dir(out / "http_request");
    const std::string post =
        "POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 17\r\n\r\n"
        R"({"inputs": [[1]]})";
    const std::vector<std::pair<std::string, std::string>> seeds = {
        {"pipelined", post + "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" + post},
        {"chunked",
         "POST /v1/predict HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
         "5\r\n{\"a\":\r\n3;ext=1\r\n 1}\r\n0\r\nTrailer: x\r\n\r\n"},
        {"expect",
         "POST /v1/predict HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n{}"},
        {"head_and_close",
         "HEAD /healthz HTTP/1.0\r\n\r\nGET /%ff HTTP/1.1\r\nConnection: close\r\n\r\n"},
        {"bad_length", "POST /v1/predict HTTP/1.1\r\nContent-Length: -1\r\n\r\n{}"},
        {"two_lengths",
         "POST /v1/predict HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}"},
        {"no_length", "POST /v1/predict HTTP/1.1\r\n\r\n"},
        {"gzip",
         "POST /v1/predict HTTP/1.1\r\nContent-Encoding: gzip\r\nContent-Length: 2\r\n\r\n{}"},
        {"bare_lf", "GET /healthz HTTP/1.1\nHost: x\n\n"},
        {"half_head", "POST /v1/predict HTTP/1.1\r\nHost: x\r\nX-Slow: a"},
    };
    for (const auto& [name, bytes] : seeds) write_file(http / (name + ".http"), bytes);
  }

  // ---- tito's inputs ---------------------------------------------------------------------
  fs::copy_file(root / "modules" / "modules.json",
                fresh_dir(out / "modules_json") / "modules.json");
  const fs::path markers = fresh_dir(out / "markers");
  for (const auto& entry : fs::recursive_directory_iterator(root / "tinytorch" / "src")) {
    if (entry.path().extension() != ".cpp") continue;
    const std::string text = read_file(entry.path());
    if (text.find("BEGIN SOLUTION") == std::string::npos) continue;  // no learner regions
    write_file(markers / entry.path().filename(), text);
  }
  write_file(fresh_dir(out / "junit") / "ctest.xml", R"(<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="Linux" tests="3" failures="2" disabled="0" skipped="0" hostname="" time="1" >
	<testcase name="module01.Tensor.Zeros" classname="module01.Tensor" time="0.01" status="run">
		<system-out>[ RUN      ] Tensor.Zeros&#10;[       OK ] Tensor.Zeros (0 ms)</system-out>
	</testcase>
	<testcase name="module01.Views.T" classname="module01.Views" time="0.02" status="fail">
		<failure message="Failed"/>
		<system-out>tests/test_views.cpp:12: Failure
Expected equality of these values:
  t.size(0)
    Which is: 3
[  FAILED  ] Views.T (0 ms)</system-out>
	</testcase>
	<testcase name="module01.Views.View" classname="module01.Views" time="0.0" status="fail">
		<system-out>unknown file: Failure
C++ exception with description &quot;not implemented yet — module 01 (tensor): implement Tensor::view in tinytorch/src/core/views.cpp; read modules/01_tensor/README.md&quot; thrown in the test body.
[  FAILED  ] Views.View (0 ms)</system-out>
	</testcase>
</testsuite>
)");
  std::cout << "fuzz_seeds: wrote the seed corpora to " << out.string() << "\n";
  return 0;
}
