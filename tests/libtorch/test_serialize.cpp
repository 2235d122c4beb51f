// torch::save / torch::load, serialize::OutputArchive / InputArchive and module->to(dtype), as
// a libtorch program writes them (serialize/serialize.h): round trips are bit-exact, a module
// loads in place into a fresh instance, an optimizer resumes exactly, and every file that does
// not fit is an error naming the file and what is wrong.
#include <torch/torch.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "../support/temp_dir.h"

namespace {

using tinytorch::test::TempDir;

// A model with parameters at two depths and buffers (BatchNorm: float running statistics and an
// int64 step counter).
struct SavedNetImpl : torch::nn::Module {
  explicit SavedNetImpl(int64_t hidden = 5) {
    fc1 = register_module("fc1", torch::nn::Linear(3, hidden));
    bn = register_module("bn", torch::nn::BatchNorm1d(hidden));
    fc2 = register_module("fc2", torch::nn::Linear(hidden, 2));
  }
  torch::Tensor forward(const torch::Tensor& x) { return fc2(torch::relu(bn(fc1(x)))); }
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
  torch::nn::BatchNorm1d bn{nullptr};
};
TORCH_MODULE(SavedNet);

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const torch::Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return "";
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// ── tensors ───────────────────────────────────────────────────────────────────────────────────

TEST(Save, TensorsRoundTripBitExactInEveryDtype) {
  const TempDir dir("ttser");
  torch::manual_seed(0);
  const std::vector<torch::Tensor> values = {
      torch::randn({3, 4}),
      torch::randn({2, 3}, torch::dtype(torch::kFloat64)).t(),  // not contiguous
      torch::arange(6, torch::dtype(torch::kInt64)).reshape({2, 3}),
      torch::randn({5}) > 0,
      torch::zeros({0, 3}),
      torch::tensor(3.5),
  };
  for (const torch::Tensor& x : values) {
    torch::save(x, dir.file("x.ttc"));
    torch::Tensor y;
    torch::load(y, dir.file("x.ttc"));
    EXPECT_EQ(y.dtype(), x.dtype());
    EXPECT_EQ(y.sizes(), x.sizes());
    EXPECT_TRUE(y.equal(x)) << x;
  }
}

TEST(Save, LoadingIntoADefinedTensorReplacesItsDataInPlace) {
  const TempDir dir("ttser");
  torch::save(torch::arange(4, torch::dtype(torch::kFloat64)), dir.file("x.ttc"));
  torch::Tensor x = torch::zeros({2, 2});
  const torch::Tensor alias = x;  // another handle of the same tensor
  torch::load(x, dir.file("x.ttc"));
  // libtorch's InputArchive::read: the tensor takes the stored shape, dtype and values.
  EXPECT_TRUE(alias.is_same(x));
  EXPECT_EQ(alias.dtype(), torch::kFloat64);
  EXPECT_EQ(alias.sizes(), torch::IntArrayRef({4}));
  EXPECT_TRUE(alias.equal(torch::arange(4, torch::dtype(torch::kFloat64))));
}

TEST(Save, VectorsOfTensorsRoundTripAndLoadAppends) {
  const TempDir dir("ttser");
  const std::vector<torch::Tensor> saved = {torch::randn({2}), torch::ones({3, 1}),
                                            torch::arange(3)};
  torch::save(saved, dir.file("v.ttc"));
  std::vector<torch::Tensor> loaded = {torch::zeros({1})};
  torch::load(loaded, dir.file("v.ttc"));  // appends, as libtorch's does
  ASSERT_EQ(loaded.size(), 4U);
  for (size_t i = 0; i < saved.size(); ++i) EXPECT_TRUE(loaded[i + 1].equal(saved[i]));
  // A single tensor is key "0" of the same format.
  torch::Tensor first;
  torch::load(first, dir.file("v.ttc"));
  EXPECT_TRUE(first.equal(saved[0]));
}

// ── modules ───────────────────────────────────────────────────────────────────────────────────

TEST(Save, AModuleLoadedIntoAFreshInstanceGivesIdenticalOutputs) {
  const TempDir dir("ttser");
  torch::manual_seed(1);
  SavedNet saved;
  (void)saved(torch::randn({8, 3}));  // training mode: the running statistics move
  saved->eval();
  torch::save(saved, dir.file("net.ttc"));

  torch::manual_seed(2);
  auto fresh = std::make_shared<SavedNetImpl>();  // libtorch's other spelling: a shared_ptr
  const std::vector<torch::Tensor> params = fresh->parameters();
  torch::load(fresh, dir.file("net.ttc"));
  fresh->eval();
  // In place: the same parameter tensors (an optimizer built on them keeps working).
  const std::vector<torch::Tensor> after = fresh->parameters();
  for (size_t i = 0; i < params.size(); ++i) EXPECT_TRUE(after[i].is_same(params[i]));
  for (const auto& [key, value] : saved->named_buffers()) {
    EXPECT_TRUE(fresh->named_buffers()[key].equal(value)) << key;
  }
  const torch::Tensor x = torch::randn({4, 3});
  EXPECT_TRUE(fresh->forward(x).equal(saved(x)));
}

TEST(Save, LoadingAnotherModelNamesEveryMismatchAndChangesNothing) {
  const TempDir dir("ttser");
  torch::save(SavedNet(5), dir.file("net.ttc"));
  SavedNet wider(7);
  const std::vector<torch::Tensor> live = wider->state_dict().values();
  std::vector<torch::Tensor> snapshot;
  for (const torch::Tensor& t : live) snapshot.push_back(t.clone());
  const std::string m = message_of([&] { torch::load(wider, dir.file("net.ttc")); });
  EXPECT_TRUE(has(m, dir.file("net.ttc"))) << m;
  EXPECT_TRUE(has(m, "size mismatch for fc1.weight")) << m;
  EXPECT_TRUE(has(m, "[5, 3]")) << m;
  for (size_t i = 0; i < snapshot.size(); ++i) EXPECT_TRUE(live[i].equal(snapshot[i]));

  torch::nn::Sequential other(torch::nn::Linear(3, 5));
  const std::string m2 = message_of([&] { torch::load(other, dir.file("net.ttc")); });
  EXPECT_TRUE(has(m2, "Missing key(s) in state_dict: \"0.weight\", \"0.bias\"")) << m2;
  EXPECT_TRUE(has(m2, "Unexpected key(s) in state_dict: \"fc1.weight\"")) << m2;
}

// ── optimizers ────────────────────────────────────────────────────────────────────────────────

// Two steps, save model and optimizer, two more steps; then a fresh model and optimizer loaded
// from the files take the same two steps: the weights must agree bit for bit.
void expect_resumes_exactly(
    const std::function<std::unique_ptr<torch::optim::Optimizer>(SavedNet&)>& make) {
  const TempDir dir("ttser");
  const torch::Tensor x = torch::randn({6, 3});
  const torch::Tensor y = torch::randn({6, 2});
  auto train = [&](SavedNet& net, torch::optim::Optimizer& opt, int steps) {
    for (int i = 0; i < steps; ++i) {
      opt.zero_grad();
      torch::mse_loss(net(x), y).backward();
      opt.step();
    }
  };
  torch::manual_seed(3);
  SavedNet net;
  auto opt = make(net);
  train(net, *opt, 2);
  torch::save(net, dir.file("net.ttc"));
  torch::save(*opt, dir.file("opt.ttc"));
  train(net, *opt, 2);

  torch::manual_seed(4);
  SavedNet resumed;
  auto resumed_opt = make(resumed);  // built before the load: load keeps the parameters
  torch::load(resumed, dir.file("net.ttc"));
  torch::load(*resumed_opt, dir.file("opt.ttc"));
  train(resumed, *resumed_opt, 2);
  for (const auto& [key, value] : net->state_dict()) {
    EXPECT_TRUE(resumed->state_dict()[key].equal(value)) << opt->name() << " " << key;
  }
}

TEST(Save, OptimizersResumeExactly) {
  expect_resumes_exactly([](SavedNet& net) {
    return std::make_unique<torch::optim::SGD>(
        net->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9).nesterov(true));
  });
  expect_resumes_exactly([](SavedNet& net) {
    return std::make_unique<torch::optim::Adam>(net->parameters(), torch::optim::AdamOptions(1e-2));
  });
  expect_resumes_exactly([](SavedNet& net) {
    return std::make_unique<torch::optim::AdamW>(
        net->parameters(), torch::optim::AdamWOptions(1e-2).weight_decay(0.1));
  });
  expect_resumes_exactly([](SavedNet& net) {
    return std::make_unique<torch::optim::RMSprop>(
        net->parameters(), torch::optim::RMSpropOptions(1e-2).momentum(0.5).centered(true));
  });
}

TEST(Save, AnOptimizerOfAnotherTypeIsRefused) {
  const TempDir dir("ttser");
  SavedNet net;
  torch::optim::Adam adam(net->parameters());
  torch::save(adam, dir.file("opt.ttc"));
  torch::optim::SGD sgd(net->parameters(), 0.1);
  const std::string m = message_of([&] { torch::load(sgd, dir.file("opt.ttc")); });
  EXPECT_TRUE(has(m, dir.file("opt.ttc"))) << m;
  EXPECT_TRUE(has(m, "Adam")) << m;
}

// ── files that are not what they should be ────────────────────────────────────────────────────

TEST(Save, WrongTruncatedAndCorruptFilesAreErrorsNamingTheFile) {
  const TempDir dir("ttser");
  const std::string path = dir.file("net.ttc");
  torch::save(SavedNet(), path);
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  auto write = [&](const std::string& name, const std::string& content) {
    std::ofstream(dir.file(name), std::ios::binary) << content;
    return dir.file(name);
  };
  SavedNet net;
  const std::string text = write("text.ttc", "not an archive at all");
  EXPECT_TRUE(has(message_of([&] { torch::load(net, text); }), "not a tinytorch archive"));
  const std::string cut = write("cut.ttc", bytes.substr(0, bytes.size() / 2));
  EXPECT_TRUE(has(message_of([&] { torch::load(net, cut); }), cut));
  std::string flipped = bytes;
  flipped[flipped.size() - 10] ^= 0x20;
  const std::string corrupt = write("corrupt.ttc", flipped);
  EXPECT_TRUE(has(message_of([&] { torch::load(net, corrupt); }), "checksum"));
  EXPECT_TRUE(has(message_of([&] { torch::load(net, dir.file("absent.ttc")); }), "absent.ttc"));
  // A module file read as a tensor: no key "0".
  torch::Tensor t;
  EXPECT_TRUE(has(message_of([&] { torch::load(t, path); }), "No such serialized tensor '0'"));
  EXPECT_FALSE(t.defined());
  EXPECT_TRUE(has(message_of([&] { torch::load(t, path, torch::Device("cuda:0")); }), "cuda:0"));
}

// ── the archives ──────────────────────────────────────────────────────────────────────────────

TEST(Archive, NestedArchivesWriteAndReadLikeLibtorchs) {
  const TempDir dir("ttser");
  torch::serialize::OutputArchive out;
  torch::serialize::OutputArchive head;
  out.write("w", torch::ones({2}));
  head("bias", torch::arange(3));  // operator() is write
  out.write("head", head);
  out.save_to(dir.file("a.ttc"));

  torch::serialize::InputArchive in;
  in.load_from(dir.file("a.ttc"), torch::kCPU);
  EXPECT_EQ(in.keys(), (std::vector<std::string>{"w", "head"}));
  torch::Tensor w;
  in.read("w", w);
  EXPECT_TRUE(w.equal(torch::ones({2})));
  torch::serialize::InputArchive nested;
  ASSERT_TRUE(in.try_read("head", nested));
  torch::Tensor bias;
  nested("bias", bias);  // operator() is read
  EXPECT_TRUE(bias.equal(torch::arange(3)));
  EXPECT_FALSE(in.try_read("tail", nested));
  EXPECT_FALSE(nested.try_read("missing", bias));
  EXPECT_TRUE(bias.equal(torch::arange(3)));  // untouched
  EXPECT_TRUE(has(message_of([&] { nested.read("missing", bias); }),
                  "No such serialized tensor 'head.missing'"));
  EXPECT_TRUE(has(message_of([&] { out.write("w", torch::ones({1})); }), "already written"));
}

// ── module->to ────────────────────────────────────────────────────────────────────────────────

TEST(ModuleTo, ConvertsFloatingEntriesInPlaceKeepingTheirIdentity) {
  torch::manual_seed(5);
  SavedNet net;
  net->fc1->weight.mutable_grad() = torch::ones({5, 3});
  const std::vector<torch::Tensor> params = net->parameters();
  torch::optim::SGD opt(params, 0.1);  // built before the conversion
  const torch::Tensor before = net->fc1->weight.clone();
  net->to(torch::kFloat64);
  for (const torch::Tensor& p : net->parameters()) EXPECT_EQ(p.dtype(), torch::kFloat64);
  EXPECT_EQ(net->fc1->weight.grad().dtype(), torch::kFloat64);
  EXPECT_TRUE(net->fc1->weight.equal(before.to(torch::kFloat64)));
  EXPECT_TRUE(net->fc1->weight.requires_grad());
  EXPECT_EQ(net->bn->running_mean.dtype(), torch::kFloat64);
  // libtorch's C++ Module::to converts integer buffers too (Python's leaves them).
  EXPECT_EQ(net->bn->num_batches_tracked.dtype(), torch::kFloat64);
  const std::vector<torch::Tensor> after = net->parameters();
  for (size_t i = 0; i < params.size(); ++i) EXPECT_TRUE(after[i].is_same(params[i]));
  // The optimizer still steps the same tensors, now in float64.
  opt.zero_grad();
  torch::mse_loss(net(torch::randn({4, 3}, torch::dtype(torch::kFloat64))),
                  torch::zeros({4, 2}, torch::dtype(torch::kFloat64)))
      .backward();
  const torch::Tensor w = net->fc2->weight.clone();
  opt.step();
  EXPECT_FALSE(net->fc2->weight.equal(w));
  // The training forward counted its batch in the float64 counter, as libtorch's does.
  EXPECT_EQ(net->bn->num_batches_tracked.item<double>(), 1.0);
  net->to(torch::kCPU, torch::kFloat32);
  EXPECT_EQ(net->fc2->weight.dtype(), torch::kFloat32);
}

TEST(ModuleTo, OtherDevicesAndIntegerDtypesAreRefusedBeforeAnythingChanges) {
  SavedNet net;
  const std::string m = message_of([&] { net->to(torch::Device("cuda:1"), torch::kFloat64); });
  EXPECT_TRUE(has(m, "cuda:1")) << m;
  EXPECT_EQ(net->fc1->weight.dtype(), torch::kFloat32);
  EXPECT_THROW(net->to(torch::kInt64), torch::TypeError);
  EXPECT_EQ(net->fc1->weight.dtype(), torch::kFloat32);
}

}  // namespace
