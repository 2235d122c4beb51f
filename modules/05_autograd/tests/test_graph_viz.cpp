// autograd::to_dot: the graph behind a tensor as Graphviz DOT text. The tests read the text back
// (node labels and arrows), so they check the graph drawn, not the formatting.
#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "tinytorch/autograd/graph_viz.h"
#include "tinytorch/nn/modules/linear.h"
#include "tinytorch/tinytorch.h"

namespace tt = tinytorch;
using tt::Tensor;

namespace {

int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

// Number of arrows, dashed (saved tensors) or not.
int arrows(const std::string& dot) {
  return count(dot, " -> ");
}

}  // namespace

TEST(GraphViz, DrawsEveryNodeOnceWithLeafNamesAndSavedShapes) {
  tt::Generator gen(3);
  tt::nn::Linear fc(tt::nn::LinearOptions(3, 2));
  const Tensor x = tt::randn({4, 3}, tt::kFloat32, &gen);
  // fc's output is used twice: its node must be drawn once, with two arrows into it.
  const Tensor y = fc->forward(x);
  const Tensor loss = (y * y).sum() + y.sum();
  const std::string dot = tt::autograd::to_dot(loss, fc->named_parameters());

  EXPECT_EQ(dot.rfind("digraph autograd {", 0), 0u);
  EXPECT_EQ(count(dot, "label=\"AddBackward0\""), 1);
  EXPECT_EQ(count(dot, "label=\"MulBackward0\""), 1);
  EXPECT_EQ(count(dot, "label=\"SumBackward1\""), 2);
  EXPECT_EQ(count(dot, "label=\"AddmmBackward0\"") + count(dot, "label=\"LinearBackward0\""), 1);
  // The parameters, by name and shape, each reached through its AccumulateGrad.
  EXPECT_EQ(count(dot, "weight\\n[2, 3]\\nAccumulateGrad"), 1);
  EXPECT_EQ(count(dot, "bias\\n[2]\\nAccumulateGrad"), 1);
  // MulBackward0 saved both factors, [4, 2] each.
  EXPECT_GE(count(dot, "saved\\n[4, 2]"), 2);
  // The linear node is reached from MulBackward0 twice and from SumBackward1 once.
  const std::regex linear_id("(n[0-9]+) \\[label=\"(Addmm|Linear)Backward0\"\\]");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(dot, m, linear_id));
  EXPECT_EQ(count(dot, "-> " + m[1].str() + "\n"), 3);
}

TEST(GraphViz, SavedTensorsShowAsFreedAfterBackward) {
  const Tensor w = tt::ones({3}, tt::kFloat32).set_requires_grad(true);
  const Tensor loss = (w * w).sum();
  const std::string before = tt::autograd::to_dot(loss);
  EXPECT_EQ(count(before, "saved\\n[3]"), 2);
  EXPECT_EQ(count(before, "(freed)"), 0);
  loss.backward();
  const std::string after = tt::autograd::to_dot(loss);
  EXPECT_EQ(count(after, "saved\\n(freed)"), 2);
  EXPECT_EQ(arrows(before), arrows(after));
}

TEST(GraphViz, ALeafAloneIsItsAccumulateGrad) {
  const Tensor w = tt::zeros({2, 5}, tt::kFloat32).set_requires_grad(true);
  tt::OrderedDict<std::string, Tensor> names;
  names.insert("w", w);
  const std::string dot = tt::autograd::to_dot(w, names);
  EXPECT_EQ(count(dot, "w\\n[2, 5]\\nAccumulateGrad"), 1);
  EXPECT_EQ(arrows(dot), 1);  // output → its AccumulateGrad
}

TEST(GraphViz, NamesAreEscaped) {
  const Tensor w = tt::zeros({1}, tt::kFloat32).set_requires_grad(true);
  tt::OrderedDict<std::string, Tensor> names;
  names.insert("a\"b\\c", w);
  const std::string dot = tt::autograd::to_dot(w.exp(), names);
  EXPECT_NE(dot.find("a\\\"b\\\\c\\n[1]"), std::string::npos) << dot;
}

TEST(GraphViz, DeepGraphsDoNotOverflowTheStack) {
  Tensor x = tt::ones({1}, tt::kFloat32).set_requires_grad(true);
  Tensor y = x;
  for (int i = 0; i < 100000; ++i) y = y.neg();
  EXPECT_EQ(count(tt::autograd::to_dot(y), "label=\"NegBackward0\""), 100000);
}

TEST(GraphViz, RefusesATensorWithoutAGraph) {
  try {
    tt::autograd::to_dot(tt::ones({2}, tt::kFloat32));
    FAIL() << "expected an error";
  } catch (const tt::ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("requires_grad is false"), std::string::npos);
  }
  EXPECT_THROW(tt::autograd::to_dot(Tensor()), tt::ValueError);
}

// saved_tensor_bytes: what the saved tensors hold, by node and dtype, each storage counted once.
TEST(GraphViz, SavedTensorBytesCountsEachStorageOnceByNodeAndDtype) {
  const Tensor x = tt::randn({8, 4}).requires_grad_();  // a float32 leaf
  const Tensor e = x.to(tt::kBFloat16).exp();  // ToCopyBackward0 saves nothing; ExpBackward0 e
  const Tensor m = e * e;                      // MulBackward0 saves e twice: one storage
  const Tensor loss = m.to(tt::kFloat32).sum() + (x * x).sum();  // MulBackward0: x twice
  const auto rows = tt::autograd::saved_tensor_bytes(loss);
  // Most bytes first: x's 8·4·4 = 128; e's 8·4·2 = 64, counted at the bf16 MulBackward0, which
  // the walk reaches before ExpBackward0 (whose row then adds no bytes).
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].node, "MulBackward0");
  EXPECT_EQ(rows[0].dtype, tt::kFloat32);
  EXPECT_EQ(rows[0].tensors, 2);
  EXPECT_EQ(rows[0].bytes, 128);
  EXPECT_EQ(rows[1].node, "MulBackward0");
  EXPECT_EQ(rows[1].dtype, tt::kBFloat16);
  EXPECT_EQ(rows[1].tensors, 2);
  EXPECT_EQ(rows[1].bytes, 64);
  EXPECT_EQ(rows[2].node, "ExpBackward0");
  EXPECT_EQ(rows[2].dtype, tt::kBFloat16);
  EXPECT_EQ(rows[2].tensors, 1);
  EXPECT_EQ(rows[2].bytes, 0);
  // A saved view keeps its whole base: sin saves its input, one column of the [8, 4] result of
  // exp, and that costs all 128 bytes (exp's own saved output is the same storage).
  const Tensor col = x.exp().select(1, 0);
  const auto view_rows = tt::autograd::saved_tensor_bytes(col.sin());
  ASSERT_EQ(view_rows.size(), 2u);
  EXPECT_EQ(view_rows[0].node, "SinBackward0");
  EXPECT_EQ(view_rows[0].bytes, 128);
  EXPECT_EQ(view_rows[1].node, "ExpBackward0");
  EXPECT_EQ(view_rows[1].bytes, 0);
  // Freed by a backward: nothing held.
  loss.backward();
  EXPECT_TRUE(tt::autograd::saved_tensor_bytes(loss).empty());
  try {
    tt::autograd::saved_tensor_bytes(tt::ones({2}, tt::kFloat32));
    FAIL() << "expected an error";
  } catch (const tt::ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("saved_tensor_bytes(): the tensor takes part in no"),
              std::string::npos)
        << e.what();
  }
}
