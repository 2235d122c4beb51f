// Module 20 — exported model files: every milestone architecture (MLP, LeNet-5, its int8 version,
// GPT) survives export → load with identical outputs; a file that is missing, truncated, corrupt,
// of another kind or whose tensors disagree with its architecture is an error naming the file
// and the problem; forward refuses inputs that do not match the signature.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "support/reference.h"
#include "support/temp_dir.h"
#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/deploy/model_file.h"
#include "tinytorch/nn/modules/quantized_linear.h"
#include "tinytorch/nn/nn.h"
#include "tinytorch/serialize/archive.h"
#include "tinytorch/tinytorch.h"
#include "tinytorch/train/checkpoint.h"

namespace tinytorch::deploy {
namespace {

// The milestones' models, small enough for a unit test (the real ones are in
// milestones/common/models.h; the 2018 test exports those).
nn::Sequential small_mlp() {
  return nn::Sequential(nn::Linear(12, 16), nn::ReLU(), nn::Linear(16, 8), nn::ReLU(),
                        nn::Linear(8, 3));
}

nn::Sequential small_lenet() {
  return nn::Sequential(nn::Conv2d(nn::Conv2dOptions(1, 4, 3).padding(1)), nn::ReLU(),
                        nn::MaxPool2d(nn::MaxPool2dOptions(2)),
                        nn::Conv2d(nn::Conv2dOptions(4, 6, 3)), nn::ReLU(),
                        nn::AvgPool2d(nn::AvgPool2dOptions(2)), nn::Flatten(), nn::Linear(6, 5));
}

ModelSignature signature(std::vector<int64_t> shape, std::vector<std::string> labels = {}) {
  return {.name = "test-model",
          .version = "",
          .input_shape = std::move(shape),
          .input_dtype = kFloat32,
          .labels = std::move(labels)};
}

Tensor in_process(nn::Module& model, const std::function<Tensor(const Tensor&)>& forward,
                  const Tensor& x) {
  model.eval();
  NoGradGuard no_grad;
  return forward(x);
}

void expect_identical(const Tensor& a, const Tensor& b) {
  ASSERT_EQ(a.sizes(), b.sizes());
  EXPECT_EQ(a.to_vector<float>(), b.to_vector<float>());
}

// The error `fn` throws (as text), or "" when it does not throw.
template <typename Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(ExportModel, MlpRoundTripIsExact) {
  test::TempDir dir("tt20");
  nn::Sequential mlp = small_mlp();
  export_model(*mlp.ptr(), signature({12}, {"a", "b", "c"}), dir.file("mlp.ttm"));
  const InferenceModel loaded = InferenceModel::load(dir.file("mlp.ttm"));

  const Tensor x = randn({5, 12});
  expect_identical(loaded.forward(x), in_process(
                                          *mlp.ptr(), [&](auto& t) { return mlp->forward(t); }, x));
  EXPECT_EQ(loaded.num_outputs(), 3);
  EXPECT_EQ(loaded.signature().labels, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(loaded.signature().input_shape, std::vector<int64_t>{12});
  // The version names the weights: "<name>-<8 hex digits>", the same for the same weights.
  EXPECT_TRUE(loaded.signature().version.starts_with("test-model-"));
  EXPECT_EQ(loaded.signature().version.size(), std::string("test-model-").size() + 8);
  export_model(*mlp.ptr(), signature({12}), dir.file("again.ttm"));
  EXPECT_EQ(InferenceModel::load(dir.file("again.ttm")).signature().version,
            loaded.signature().version);
  EXPECT_EQ(loaded.weight_bytes(), (12 * 16 + 16 + 16 * 8 + 8 + 8 * 3 + 3) * 4);
  // The loaded model trains nothing.
  for (const Tensor& p : loaded.module().parameters()) EXPECT_FALSE(p.requires_grad());
}

TEST(ExportModel, ConvNetRoundTripIsExact) {
  test::TempDir dir("tt20");
  nn::Sequential cnn = small_lenet();
  export_model(*cnn.ptr(), signature({1, 8, 8}), dir.file("cnn.ttm"));
  const InferenceModel loaded = InferenceModel::load(dir.file("cnn.ttm"));
  const Tensor x = randn({3, 1, 8, 8});
  expect_identical(loaded.forward(x), in_process(
                                          *cnn.ptr(), [&](auto& t) { return cnn->forward(t); }, x));
  EXPECT_EQ(loaded.architecture(), describe_architecture(*cnn.ptr()));
}

TEST(ExportModel, BatchNormDropoutAndActivationsRoundTrip) {
  test::TempDir dir("tt20");
  // The second BatchNorm fuses its ReLU (BatchNormOptions::fuse_relu): the file must keep that.
  nn::Sequential net(nn::Linear(6, 8), nn::BatchNorm1d(8), nn::LeakyReLU(0.2), nn::Dropout(0.3),
                     nn::Linear(8, 8), nn::BatchNorm1d(nn::BatchNormOptions(8).fuse_relu(true)),
                     nn::Linear(8, 8), nn::GELU("tanh"), nn::Linear(8, 8), nn::Tanh(),
                     nn::Linear(8, 8), nn::Sigmoid(), nn::Linear(8, 8), nn::SiLU(), nn::Identity(),
                     nn::Linear(8, 4), nn::LogSoftmax(1));
  net->train();
  for (int i = 0; i < 3; ++i) net->forward(randn({10, 6}) * 3.0 + 1.0);  // running statistics move
  export_model(*net.ptr(), signature({6}), dir.file("net.ttm"));
  const InferenceModel loaded = InferenceModel::load(dir.file("net.ttm"));
  const Tensor x = randn({7, 6});
  expect_identical(loaded.forward(x), in_process(
                                          *net.ptr(), [&](auto& t) { return net->forward(t); }, x));
}

// A file gets the lowest format version that holds it: 1, unless a BatchNorm fuses its ReLU,
// which a version-1 reader would silently drop (deploy/model_file.h) — then 2.
TEST(ExportModel, FormatVersionIsTheLowestThatHoldsTheModel) {
  test::TempDir dir("tt20");
  for (const bool fuse : {false, true}) {
    nn::Sequential net(nn::Linear(4, 3), nn::BatchNorm1d(nn::BatchNormOptions(3).fuse_relu(fuse)));
    export_model(*net.ptr(), signature({4}), dir.file("net.ttm"));
    const serialize::Archive archive = serialize::load(dir.file("net.ttm"));
    EXPECT_EQ(*archive.strings.find("format_version"), fuse ? "2" : "1");
    EXPECT_NO_THROW(InferenceModel::load(dir.file("net.ttm")));
  }
}

TEST(ExportModel, Int8MlpKeepsItsIntegerWeights) {
  test::TempDir dir("tt20");
  nn::Sequential mlp = small_mlp();
  nn::Sequential q = quantization::quantize_dynamic(mlp);
  export_model(*q.ptr(), signature({12}), dir.file("q.ttm"));

  // In the file: int8 weights and their scales, not floats.
  const serialize::Archive a = serialize::load(dir.file("q.ttm"));
  EXPECT_EQ(a.tensors.find("model.0.weight")->dtype(), kInt8);
  EXPECT_EQ(a.tensors.find("model.0.weight_scale")->sizes(), IntArrayRef({16}));
  const InferenceModel loaded = InferenceModel::load(dir.file("q.ttm"));
  const Tensor x = randn({9, 12});
  expect_identical(loaded.forward(x), in_process(
                                          *q.ptr(), [&](auto& t) { return q->forward(t); }, x));
  // One byte per weight, four per scale and bias.
  EXPECT_EQ(loaded.weight_bytes(), (12 * 16 + 16 * 8 + 8 * 3) + 4 * 2 * (16 + 8 + 3));

  // The unpacked weight is what quantization made: round(w / s) for s = max|w| / 127 per row.
  const auto& qlin = q->at<nn::quantized::dynamic::LinearImpl>(0);
  const auto& flin = mlp->at<nn::LinearImpl>(0);
  const auto w = flin.weight.to_vector<float>();
  const auto scales = qlin.weight_scales().to_vector<float>();
  const auto ints = qlin.weight().to_vector<int8_t>();
  for (size_t i = 0; i < ints.size(); ++i) {
    EXPECT_EQ(ints[i], static_cast<int8_t>(std::nearbyint(w[i] / scales[i / 12]))) << i;
  }
}

TEST(ExportModel, GptRoundTripGivesNextTokenLogits) {
  test::TempDir dir("tt20");
  nn::GPTConfig c;
  c.vocab_size = 11;
  c.block_size = 8;
  c.n_layer = 2;
  c.n_head = 2;
  c.n_embd = 16;
  c.tie_weights = true;
  nn::GPT gpt(c);
  ModelSignature sig{
      .name = "gpt", .version = "v1", .input_shape = {-1}, .input_dtype = kInt64, .labels = {}};
  export_model(*gpt.ptr(), sig, dir.file("gpt.ttm"));
  const InferenceModel loaded = InferenceModel::load(dir.file("gpt.ttm"));
  EXPECT_EQ(loaded.signature().version, "v1");
  EXPECT_EQ(loaded.num_outputs(), 11);
  const Tensor idx = randint(0, 11, {3, 5});
  const Tensor want = in_process(
      *gpt.ptr(), [&](auto& t) { return gpt->forward(t); }, idx);
  expect_identical(loaded.forward(idx), want.select(1, 4).contiguous());
  // Rows longer than the context, or ids outside the vocabulary, are refused.
  EXPECT_NE(error_of([&] {
              loaded.forward(zeros({1, 9}, kInt64));
            }).find("at most 8 tokens"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              loaded.forward(full({1, 2}, 11, kInt64));
            }).find("[0, 11)"),
            std::string::npos);
}

TEST(ExportModel, StatisticsTravelWithTheModel) {
  test::TempDir dir("tt20");
  nn::Sequential mlp = small_mlp();
  OrderedDict<std::string, Tensor> stats;
  stats.insert("drift.edges", arange(6, kFloat32));
  export_model(*mlp.ptr(), signature({12}), dir.file("m.ttm"), stats);
  const InferenceModel loaded = InferenceModel::load(dir.file("m.ttm"));
  ASSERT_TRUE(loaded.statistics().contains("drift.edges"));
  expect_identical(*loaded.statistics().find("drift.edges"), arange(6, kFloat32));
}

TEST(ExportModel, ForwardChecksTheSignature) {
  test::TempDir dir("tt20");
  nn::Sequential mlp = small_mlp();
  export_model(*mlp.ptr(), signature({12}), dir.file("m.ttm"));
  const InferenceModel m = InferenceModel::load(dir.file("m.ttm"));
  EXPECT_NE(error_of([&] {
              m.forward(randn({2, 11}));
            }).find("expected inputs [N, 12] with N >= 1, got [2, 11]"),
            std::string::npos);
  EXPECT_NE(error_of([&] { m.forward(randn({12})); }).find("expected inputs [N, 12]"),
            std::string::npos);
  EXPECT_NE(error_of([&] { m.forward(randn({0, 12})); }).find("N >= 1"), std::string::npos);
  EXPECT_NE(error_of([&] {
              m.forward(randn({2, 12}, kFloat64));
            }).find("expected float32 inputs, got float64"),
            std::string::npos);
}

TEST(ExportModel, ForwardIsSafeFromManyThreads) {
  test::TempDir dir("tt20");
  nn::Sequential cnn = small_lenet();
  export_model(*cnn.ptr(), signature({1, 8, 8}), dir.file("cnn.ttm"));
  const InferenceModel m = InferenceModel::load(dir.file("cnn.ttm"));
  const Tensor x = randn({4, 1, 8, 8});
  const auto want = m.forward(x).to_vector<float>();
  std::vector<std::thread> threads;
  std::vector<int> same(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) same[t] += m.forward(x).to_vector<float>() == want;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(same, std::vector<int>(4, 50));
}

TEST(ExportModel, RefusesWhatItCannotDescribe) {
  struct Custom : nn::Module {
    Custom() : nn::Module("MyBlock") {}
    Tensor forward(const Tensor& x) { return x; }
  };
  nn::Sequential net(nn::Linear(2, 2), nn::AnyModule(std::make_shared<Custom>()));
  test::TempDir dir("tt20");
  const std::string e =
      error_of([&] { export_model(*net.ptr(), signature({2}), dir.file("x.ttm")); });
  EXPECT_NE(e.find("no architecture record for a MyBlock module"), std::string::npos) << e;
  EXPECT_FALSE(std::filesystem::exists(dir.file("x.ttm")));

  // JSON text is UTF-8: a label of raw bytes is refused with a hint.
  nn::Sequential mlp = small_mlp();
  EXPECT_NE(error_of([&] {
              export_model(*mlp.ptr(), signature({12}, {"a", "\x80", "c"}), dir.file("x.ttm"));
            }).find("is not valid UTF-8"),
            std::string::npos);

  nn::Sequential bad = small_mlp();
  {
    NoGradGuard g;
    bad->at<nn::LinearImpl>(2).weight.fill_(std::numeric_limits<float>::infinity());
  }
  EXPECT_NE(error_of([&] {
              export_model(*bad.ptr(), signature({12}), dir.file("x.ttm"));
            }).find("tensor '2.weight' has a non-finite value"),
            std::string::npos);
}

// ── files that must be refused, each with an error naming the file ──────────────────────────

class BadModelFile : public ::testing::Test {
 protected:
  void SetUp() override {
    nn::Sequential mlp = small_mlp();
    export_model(*mlp.ptr(), signature({12}), dir.file("good.ttm"));
    good = serialize::load(dir.file("good.ttm"));
  }
  // Saves `a` and returns the error loading it gives ("" if none).
  std::string load_error(const serialize::Archive& a) {
    serialize::save(a, dir.file("bad.ttm"));
    return error_of([&] { InferenceModel::load(dir.file("bad.ttm")); });
  }
  test::TempDir dir{"tt20"};
  serialize::Archive good;
};

#define EXPECT_ERROR_HAS(text, fragment)                                     \
  do {                                                                       \
    const std::string e_ = (text);                                           \
    EXPECT_NE(e_.find(fragment), std::string::npos) << "error was: " << e_;  \
    EXPECT_NE(e_.find("bad.ttm"), std::string::npos) << "error was: " << e_; \
  } while (false)

TEST_F(BadModelFile, MissingTruncatedOrCorrupt) {
  EXPECT_NE(error_of([&] { InferenceModel::load(dir.file("none.ttm")); }).find("none.ttm"),
            std::string::npos);
  std::string bytes;
  {
    std::ifstream in(dir.file("good.ttm"), std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  auto write = [&](const std::string& b) {
    std::ofstream(dir.file("bad.ttm"), std::ios::binary) << b;
    return error_of([&] { InferenceModel::load(dir.file("bad.ttm")); });
  };
  EXPECT_ERROR_HAS(write(bytes.substr(0, bytes.size() / 2)), "bad.ttm");
  std::string flipped = bytes;
  flipped[flipped.size() - 40] ^= 0x10;
  EXPECT_ERROR_HAS(write(flipped), "checksum");
  EXPECT_ERROR_HAS(write("not a model"), "bad.ttm");
}

// The rule export_model writes by holds at load too: a NaN weight would make every answer NaN.
TEST_F(BadModelFile, NonFiniteWeight) {
  for (const float v :
       {std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::infinity()}) {
    serialize::Archive a = good;
    Tensor w = good.tensors.find("model.0.weight")->clone();  // (a copy of `good` aliases it)
    w.data_ptr<float>()[3] = v;
    *a.tensors.find("model.0.weight") = w;
    EXPECT_ERROR_HAS(load_error(a), "tensor 'model.0.weight' has a non-finite value");
  }
}

TEST_F(BadModelFile, ATrainingCheckpointIsNamedAsSuch) {
  nn::Sequential mlp = small_mlp();
  train::save_checkpoint(train::capture_checkpoint({.model = mlp.ptr().get()}, 1),
                         dir.file("bad.ttm"));
  EXPECT_ERROR_HAS(error_of([&] { InferenceModel::load(dir.file("bad.ttm")); }),
                   "training checkpoint, not an exported model");
}

TEST_F(BadModelFile, FormatAndVersion) {
  serialize::Archive a = good;
  *a.strings.find("format") = "something-else";
  EXPECT_ERROR_HAS(load_error(a), "not a tinytorch model file");
  a = good;
  *a.strings.find("format_version") = "3";
  EXPECT_ERROR_HAS(load_error(a), "model format version 3 is not supported");
  a = good;
  *a.strings.find("format_version") = "";
  EXPECT_ERROR_HAS(load_error(a), "model format version  is not supported");
}

TEST_F(BadModelFile, RecordsThatDoNotParse) {
  serialize::Archive a = good;
  *a.strings.find("architecture") = "{\"type\": \"Sequential\", \"layers\": [";
  EXPECT_ERROR_HAS(load_error(a), "malformed record");
  a = good;
  *a.strings.find("architecture") =
      R"({"type": "Sequential", "layers": [{"name": "0", "type": "Warp"}]})";
  EXPECT_ERROR_HAS(load_error(a), "unknown layer type 'Warp'");
  a = good;
  *a.strings.find("architecture") =
      R"({"type": "Sequential", "layers": [{"name": "0", "type": "Linear", "in_features": -5, "out_features": 2, "bias": true}]})";
  EXPECT_ERROR_HAS(load_error(a), "'in_features' must be in [1, 2^24], got -5");
  a = good;
  *a.strings.find("signature") = R"({"name": "x"})";
  EXPECT_ERROR_HAS(load_error(a), "malformed record");
  a = good;
  *a.strings.find("signature") =
      R"({"name": "x", "version": "1", "input_shape": [12], "input_dtype": "float32", "labels": ["a"]})";
  EXPECT_ERROR_HAS(load_error(a), "1 labels for 3 outputs");
  a = good;
  *a.strings.find("signature") =
      R"({"name": "x", "version": "1", "input_shape": [13], "input_dtype": "float32", "labels": []})";
  EXPECT_ERROR_HAS(load_error(a), "does not accept the signature's input [13]");
}

TEST_F(BadModelFile, TensorsThatDoNotFitTheArchitecture) {
  serialize::Archive a = good;
  *a.tensors.find("model.0.weight") = randn({16, 13});
  EXPECT_ERROR_HAS(load_error(a), "size mismatch for 0.weight");
  a = good;
  *a.tensors.find("model.0.weight") = randn({16, 12}, kFloat64);
  EXPECT_ERROR_HAS(load_error(a),
                   "tensor 'model.0.weight' is float64, the architecture needs float32");
  a = serialize::Archive{};
  for (const auto& [k, v] : good.strings) a.strings.insert(k, v);
  for (const auto& [k, v] : good.tensors) {
    if (k != "model.4.bias") a.tensors.insert(k, v);
  }
  EXPECT_ERROR_HAS(load_error(a), "Missing key(s) in state_dict: \"4.bias\"");
  a = good;
  a.tensors.insert("model.9.weight", randn({2}));
  EXPECT_ERROR_HAS(load_error(a), "Unexpected key(s)");
  a = good;
  a.tensors.insert("optimizer.step", randn({1}));
  EXPECT_ERROR_HAS(load_error(a), "unexpected tensor 'optimizer.step'");
}

TEST_F(BadModelFile, Int8WeightsOutOfRange) {
  nn::Sequential q = quantization::quantize_dynamic(small_mlp());
  export_model(*q.ptr(), signature({12}), dir.file("q.ttm"));
  serialize::Archive a = serialize::load(dir.file("q.ttm"));
  a.tensors.find("model.0.weight")->fill_(-128);
  EXPECT_ERROR_HAS(load_error(a), "is -128; expected values in [-127, 127]");
  a = serialize::load(dir.file("q.ttm"));
  a.tensors.find("model.0.weight_scale")->fill_(0.0);
  EXPECT_ERROR_HAS(load_error(a), "weight scales must be finite and > 0");
  a = serialize::load(dir.file("q.ttm"));
  *a.tensors.find("model.0.weight") = zeros({16, 11}, kInt8);
  EXPECT_ERROR_HAS(load_error(a), "has shape [16, 11], the record says [16, 12]");
}

// A record's sizes are trusted only as far as the file's tensors back them, and a model may ask
// for so much per sample and no more (ModelLimits): each refused before it allocates or computes.
// Before, a record of a few bytes could declare a 2^48-weight layer, and load() allocated it
// (tests/fuzz/fuzz_model_file.cpp runs under -malloc_limit_mb).
TEST_F(BadModelFile, SizesTheTensorsDoNotBackAreRefusedBeforeAllocating) {
  serialize::Archive a = good;
  *a.strings.find("architecture") =
      R"({"type": "Sequential", "layers": [{"name": "0", "type": "Linear", "in_features": 16777216, "out_features": 16777216, "bias": true}]})";
  EXPECT_ERROR_HAS(load_error(a),
                   "declares layers of 1125899973951488 bytes of parameters, "
                   "but the model's tensors hold only ");
  a = good;
  *a.strings.find("architecture") =
      R"({"type": "GPT", "vocab_size": 16777216, "block_size": 16777216, "n_layer": 1, "n_head": 1, "n_embd": 1024, "bias": true, "tie_weights": false})";
  EXPECT_ERROR_HAS(load_error(a), "bytes of parameters, but the model's tensors hold only");
  a = good;
  *a.strings.find("architecture") =
      R"({"type": "Sequential", "layers": [{"name": "0", "type": "Conv2d", "in_channels": 1, "out_channels": 1, "kernel_size": [1, 1], "stride": [0, 1], "padding": [0, 0], "dilation": [1, 1], "groups": 1, "bias": false}]})";
  EXPECT_ERROR_HAS(load_error(a), "'stride' values must be in [1, 2^24], got 0");
}

// A record of Sequentials nested `depth` deep around one Linear(2, 2).
std::string nested_record(int depth) {
  // Openings, then the Linear, then closings: appended once each (wrapping the record `depth`
  // times would copy it `depth` times, 14 GB for a 20,000-deep record).
  std::string record;
  for (int i = 0; i < depth; ++i) record += R"({"name": "0", "type": "Sequential", "layers": [)";
  record += R"({"name": "0", "type": "Linear", "in_features": 2, "out_features": 2, "bias": true})";
  for (int i = 0; i < depth; ++i) record += "]}";
  return record;
}

// The model loader and tinytorch_export (build_module, with the checkpoint's tensors) share one
// builder and its limits: a record nested 20,000 deep (which crashed the export with a stack
// overflow), sizes the tensors do not back, and a float where an integer belongs are each a
// clear error before anything is built.
TEST_F(BadModelFile, BothBuildersApplyTheSameLimits) {
  const std::string deep = nested_record(20000);
  serialize::Archive a = good;
  *a.strings.find("architecture") = deep;
  EXPECT_ERROR_HAS(load_error(a), "Sequentials nested more than 64 deep");
  const OrderedDict<std::string, Tensor> tensors = small_mlp()->state_dict();
  TT_EXPECT_THROW_WITH(build_module(deep, tensors), ValueError,
                       "Sequentials nested more than 64 deep");
  // Nested 63 deep is within the limit: built, and its one Linear takes its tensors.
  const std::string ok = nested_record(63);
  OrderedDict<std::string, Tensor> linear_tensors;
  std::string prefix;
  for (int i = 0; i < 63; ++i) prefix += "0.";
  linear_tensors.insert(prefix + "weight", randn({2, 2}));
  linear_tensors.insert(prefix + "bias", randn({2}));
  const auto built = build_module(ok, linear_tensors);
  built->load_state_dict(linear_tensors);

  const std::string huge =
      R"({"type": "Sequential", "layers": [{"name": "0", "type": "Linear", "in_features": 16777216, "out_features": 16777216, "bias": true}]})";
  TT_EXPECT_THROW_WITH(build_module(huge, tensors), ValueError,
                       "declares layers of 1125899973951488 bytes of parameters",
                       "but the model's tensors hold only");
  for (const std::string number : {"1e300", "2.5", "18446744073709551615"}) {
    const std::string record =
        R"({"type": "Sequential", "layers": [{"name": "0", "type": "Linear", "in_features": )" +
        number + R"(, "out_features": 2, "bias": true}]})";
    TT_EXPECT_THROW_WITH(build_module(record, tensors), ValueError,
                         "'in_features' must be an integer that fits int64");
    a = good;
    *a.strings.find("architecture") = record;
    EXPECT_ERROR_HAS(load_error(a), "'in_features' must be an integer that fits int64");
  }
  a = good;
  *a.strings.find("signature") =
      R"({"name": "x", "version": "1", "input_shape": [1e300], "input_dtype": "float32", "labels": []})";
  EXPECT_ERROR_HAS(load_error(a), "'input_shape' must be an integer that fits int64");
}

TEST_F(BadModelFile, WorkOverTheLimitsIsRefusedBeforeComputing) {
  // A 1x1 convolution (2 weights in the file) whose padding makes a 2^24 x 2^24 output plane.
  nn::Sequential conv(nn::Conv2d(nn::Conv2dOptions(1, 1, 1).bias(true)), nn::Flatten());
  serialize::Archive a;
  export_model(*conv.ptr(), signature({1, 2, 2}), dir.file("conv.ttm"));
  a = serialize::load(dir.file("conv.ttm"));
  *a.strings.find("architecture") =
      R"({"type": "Sequential", "layers": [{"name": "0", "type": "Conv2d", "in_channels": 1, "out_channels": 1, "kernel_size": [1, 1], "stride": [1, 1], "padding": [16777216, 16777216], "dilation": [1, 1], "groups": 1, "bias": true}, {"name": "1", "type": "Flatten", "start_dim": 1, "end_dim": -1}]})";
  EXPECT_ERROR_HAS(load_error(a),
                   "layer '0' (Conv2d) would hold 1125900041060356 values for one "
                   "sample; the limit is 16777216");
  // An input of 2^48 values per sample.
  a = good;
  *a.strings.find("signature") =
      R"({"name": "x", "version": "1", "input_shape": [16777216, 16777216], "input_dtype": "float32", "labels": []})";
  EXPECT_ERROR_HAS(load_error(a), "holds 281474976710656 values per sample; the limit is 16777216");

  // Lower limits: the same checks on a real MLP (12·16 + 16·8 + 8·3 = 344 multiply-adds).
  serialize::save(good, dir.file("bad.ttm"));
  EXPECT_ERROR_HAS(
      error_of([&] { InferenceModel::load(dir.file("bad.ttm"), {.max_sample_macs = 300}); }),
      "need 336 multiply-adds per sample; the limit is 300");
  EXPECT_ERROR_HAS(
      error_of([&] { InferenceModel::load(dir.file("bad.ttm"), {.max_activation_elements = 15}); }),
      "layer '0' (Linear) would hold 16 values for one sample; the limit is 15");
  EXPECT_EQ(InferenceModel::load(dir.file("bad.ttm"),
                                 {.max_activation_elements = 16, .max_sample_macs = 400})
                .num_outputs(),
            3);
  // A GPT at its full context: 4 heads of [T, T] attention weights.
  nn::GPTConfig c;
  c.vocab_size = 5;
  c.block_size = 8;
  c.n_layer = 1;
  c.n_head = 4;
  c.n_embd = 8;
  nn::GPT gpt(c);
  export_model(
      *gpt.ptr(),
      {.name = "gpt", .version = "", .input_shape = {-1}, .input_dtype = kInt64, .labels = {}},
      dir.file("bad.ttm"));
  EXPECT_ERROR_HAS(error_of([&] {
                     InferenceModel::load(dir.file("bad.ttm"), {.max_activation_elements = 255});
                   }),
                   "a GPT with block_size 8 would hold 256 values in one layer");
}

}  // namespace
}  // namespace tinytorch::deploy
