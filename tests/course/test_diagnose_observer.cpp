// The op observer (autograd/op_observer.h) and the diagnosis recorder built on it
// (tools/diagnose/recorder.h): what the hooks report, that they report only the program's own
// ops, that observing changes no result, and that a program's trace is the same in every run.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "../support/temp_dir.h"
#include "programs.h"
#include "recorder.h"
#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/autograd/op_observer.h"
#include "tinytorch/nn/functional.h"

namespace tinytorch::diagnose {
namespace {

using test::TempDir;

// Writes down what the hooks report: "f MulBackward0 2→[2, 3]", "b+ MulBackward0 1",
// "b- MulBackward0 2".
struct Log final : autograd::OpObserver {
  std::vector<std::string> lines;
  std::vector<Tensor> outputs;
  void forward_op(const char* node, const std::vector<Tensor>& inputs,
                  const Tensor& output) override {
    lines.push_back(std::string("f ") + node + " " + std::to_string(inputs.size()) + "→" +
                    shape_text(output.sizes().vec()));
    EXPECT_TRUE(output.grad_fn()) << node << ": the output's node is recorded before the call";
    outputs.push_back(output);
  }
  void backward_begin(const autograd::Node& node, const autograd::variable_list& grads) override {
    lines.push_back("b+ " + node.name() + " " + std::to_string(grads.size()));
  }
  void backward_end(const autograd::Node& node, const autograd::variable_list& result) override {
    lines.push_back("b- " + node.name() + " " + std::to_string(result.size()));
  }
};

Tensor leaf(std::vector<float> values, std::vector<int64_t> sizes) {
  Tensor t = from_vector(values, sizes);
  t.set_requires_grad(true);
  return t;
}

TEST(DiagnoseObserver, SeesTheProgramsOwnOpsAndEveryNodeRun) {
  Log log;
  const Tensor x = leaf({1, -2, 3, -4, 5, -6}, {2, 3});
  const Tensor target = from_vector(std::vector<int64_t>{2, 0}, {2});
  {
    const autograd::OpObserverGuard watch(&log);
    // cross_entropy is written from log_softmax and nll_loss, and the natives call public ops
    // inside with grad mode off: neither adds an op of its own.
    const Tensor loss = cross_entropy(x * 2.0, target);
    {
      const NoGradGuard no_grad;
      (void)(x * 3.0);  // records nothing: not seen
    }
    loss.backward();
  }
  const std::vector<std::string> expected = {
      "f MulBackward0 2→[2, 3]",        "f LogSoftmaxBackward0 1→[2, 3]",
      "f NllLossBackward0 1→[]",        "b+ NllLossBackward0 1",
      "b- NllLossBackward0 1",          "b+ LogSoftmaxBackward0 1",
      "b- LogSoftmaxBackward0 1",       "b+ MulBackward0 1",
      "b- MulBackward0 2",              "b+ AccumulateGrad 1",
      "b- AccumulateGrad 0",
  };
  EXPECT_EQ(log.lines, expected);
  // The guard put the previous observer (none) back: nothing more is seen.
  const size_t seen = log.lines.size();
  (void)(x * 2.0);
  EXPECT_EQ(log.lines.size(), seen);
}

TEST(DiagnoseObserver, ObservingChangesNoResult) {
  const auto run = [](autograd::OpObserver* observer) {
    const autograd::OpObserverGuard watch(observer);
    Tensor w = leaf({0.5f, -1.5f, 2.0f, 0.25f}, {2, 2});
    Tensor b = leaf({0.1f, -0.2f}, {2});
    const Tensor x = from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, {3, 2});
    Tensor h = linear(x, w, b) + 0.5;
    h.mul_(2.0);  // an in-place op on a non-leaf
    h = relu(h);
    const Tensor loss = (softmax(h, 1) * h).sum();
    loss.backward();
    return std::vector<Tensor>{loss.detach(), w.grad(), b.grad()};
  };
  Log log;
  const auto plain = run(nullptr);
  const auto observed = run(&log);
  EXPECT_FALSE(log.lines.empty());
  for (size_t i = 0; i < plain.size(); ++i) EXPECT_TRUE(plain[i].equal(observed[i])) << i;
}

TEST(DiagnoseObserver, RecordsValuesThroughStrides) {
  const Tensor x = from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, {2, 3});
  const TensorRecord r = record_tensor(x.t(), "xt");
  EXPECT_EQ(r.sizes, (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(r.values, (std::vector<double>{1, 4, 2, 5, 3, 6}));
  const TensorRecord e = record_tensor(x.select(1, 1).unsqueeze(1).expand({2, 3}));
  EXPECT_EQ(e.values, (std::vector<double>{2, 2, 2, 5, 5, 5}));
  EXPECT_FALSE(record_tensor(Tensor()).defined);
}

// The two builds must start every program from the same bits and run it the same way: two runs
// of every module program give traces that compare equal, and none of them fails in the
// reference build.
TEST(DiagnoseObserver, EveryModuleProgramRunsAndRepeatsExactly) {
  const TempDir dir("diagobs");
  for (const char* name : {"a", "b"}) {
    TraceWriter writer(dir.file(name));
    TraceRecorder recorder(writer);
    run_programs(module_programs(), recorder);
    writer.finish();
  }
  const Trace a = read_trace(dir.file("a"));
  ASSERT_TRUE(a.complete) << a.problem;
  for (const Event& e : a.events) {
    EXPECT_NE(e.kind, EventKind::kError) << e.name;
  }
  const auto c = compare_traces(read_trace(dir.file("b")), a);
  EXPECT_TRUE(c.divergences.empty()) << format_comparison(c);
  EXPECT_EQ(c.programs, module_programs().size());
}

TEST(DiagnoseObserver, MilestoneProgramsNameTheLayers) {
  const TempDir dir("diagobs");
  {
    TraceWriter writer(dir.file("t"));
    TraceRecorder recorder(writer);
    run_programs(milestone_programs("1986"), recorder);
    writer.finish();
  }
  const Trace t = read_trace(dir.file("t"));
  std::vector<std::string> linear_layers;
  bool backward_labelled = false;
  for (const Event& e : t.events) {
    EXPECT_NE(e.kind, EventKind::kError) << e.name;
    if (e.kind == EventKind::kForward && e.name == "AddmmBackward0") linear_layers.push_back(e.where);
    backward_labelled = backward_labelled || (e.kind == EventKind::kBackward &&
                                              e.name == "AddmmBackward0" &&
                                              e.where == "layer 4 (Linear)");
  }
  // Two programs (reference and fast tier) of three Linear layers each.
  const std::vector<std::string> expected = {"layer 0 (Linear)", "layer 2 (Linear)",
                                             "layer 4 (Linear)"};
  ASSERT_EQ(linear_layers.size(), 6u);
  EXPECT_EQ(std::vector<std::string>(linear_layers.begin(), linear_layers.begin() + 3), expected);
  EXPECT_TRUE(backward_labelled);
  EXPECT_THROW(milestone_programs("1900"), std::invalid_argument);
}

}  // namespace
}  // namespace tinytorch::diagnose
