// Module 05 — hidden (grader) tests: the engine under stress, and gradcheck on random shapes.
//
// The visible tests check each rule once. These check the properties a correct engine has on
// graphs the visible tests do not spell out: very deep chains, very wide fan-out, several roots,
// several inputs, repeated backward passes, grad-mode toggles in the middle of a graph, the order
// in which nodes run, the memory a graph holds and gives back — and random compositions of ops
// on random (broadcast, transposed, strided) shapes, checked by gradcheck and by the gradients
// themselves. Seeds are fixed, so a failure reproduces; each failure names its trial. The checks
// are graded ones (tests/support/graded.h).
#include <gtest/gtest.h>

#include <pthread.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "support/graded.h"
#include "support/reference.h"
#include "tinytorch/autograd/autograd_meta.h"
#include "tinytorch/autograd/engine.h"
#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/autograd/gradcheck.h"
#include "tinytorch/autograd/node.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch {
namespace {

using autograd::variable_list;

Tensor param(std::vector<double> values) {
  const auto n = static_cast<int64_t>(values.size());
  return from_vector(values, {n}, kFloat64).set_requires_grad(true);
}

Tensor vec(std::vector<double> values) {
  const auto n = static_cast<int64_t>(values.size());
  return from_vector(values, {n}, kFloat64);
}

Tensor uniform(std::mt19937_64& rng, std::vector<int64_t> shape, double lo = -1.0,
               double hi = 1.0) {
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<double> v(static_cast<size_t>(compute_numel(shape)));
  for (double& x : v) x = u(rng);
  return from_vector(v, shape, kFloat64);
}

// An identity op recorded by hand, which counts how often the engine runs it and logs the order
// in which such nodes run. (Any Node subclass plugs into the engine — as in PyTorch, where custom
// autograd.Function objects are nodes like any other.)
class Probe final : public autograd::Node {
 public:
  Probe(std::string label, std::vector<std::string>* log) : label_(std::move(label)), log_(log) {}
  std::string name() const override { return "Probe"; }
  variable_list apply(variable_list&& grads) override {
    ++calls;
    if (log_ != nullptr) log_->push_back(label_);
    return {grads[0]};
  }
  int calls = 0;

 private:
  std::string label_;
  std::vector<std::string>* log_;
};

Tensor probe(const Tensor& x, const std::shared_ptr<Probe>& node) {
  Tensor out = x.detach();
  node->set_next_edges({autograd::gradient_edge(x)}, {{x.sizes().vec(), x.dtype()}});
  autograd::materialize_autograd_meta(out).grad_fn_ = node;
  return out;
}

// ── deep and wide graphs ─────────────────────────────────────────────────────────────────────

TEST(HiddenEngine, DeepChainGradient) {
  // 20,000 nodes in a row: the engine must not recurse, and the product of the local
  // derivatives must come out right: d/dx (x · 1.0001^n) = 1.0001^n.
  const int n = 20000;
  Tensor x = param({1.0, -2.0});
  Tensor y = x;
  for (int i = 0; i < n; ++i) y = y * 1.0001;
  y.sum().backward();
  const double want = std::pow(1.0001, n);
  TT_GRADE_TENSOR(x.grad(), vec({want, want}), 1e-9, 0);
}

// Builds a chain of `depth` NegBackward nodes on a thread with a small (1 MiB) stack, drops it,
// and exits 0. A graph is a linked list of nodes; freeing it by plain recursive destruction
// needs stack in proportion to its depth, and overflows (SIGSEGV) long before memory runs out.
// PyTorch frees long chains iteratively for this reason (torch/csrc/autograd/function.cpp,
// deleteNode). A training loop that sums losses without .item() builds exactly such a chain.
void* build_and_drop_chain(void* arg) {
  const int depth = *static_cast<int*>(arg);
  Tensor x = ones({1}, kFloat64).set_requires_grad(true);
  {
    Tensor y = x;
    for (int i = 0; i < depth; ++i) y = y.neg();
  }
  return nullptr;
}

void run_with_small_stack(int depth) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 1 << 20);
  pthread_t thread;
  if (pthread_create(&thread, &attr, build_and_drop_chain, &depth) != 0) std::exit(3);
  pthread_join(thread, nullptr);
  pthread_attr_destroy(&attr);
  std::exit(0);
}

TEST(HiddenEngine, DeepGraphIsFreedWithoutRecursion) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(run_with_small_stack(50000), ::testing::ExitedWithCode(0), "")
      << "dropping a 50,000-node graph overflowed a 1 MiB stack: nodes are freed recursively";
  // The child's verdict, as the graded value.
  TT_GRADE_FALSE(::testing::Test::HasNonfatalFailure())
      << "the child that drops a 50,000-node graph did not exit with code 0";
}

TEST(HiddenEngine, WideFanOutAccumulates) {
  // One leaf read by 2,000 ops whose results are summed: every contribution must arrive.
  Tensor x = param({0.5, 1.5, -1.0});
  Tensor total = zeros({3}, kFloat64);
  for (int i = 0; i < 2000; ++i) total = total + x * static_cast<double>(i % 7);
  total.sum().backward();
  double s = 0;
  for (int i = 0; i < 2000; ++i) s += i % 7;
  TT_GRADE_TENSOR(x.grad(), vec({s, s, s}), 1e-12, 0);
}

TEST(HiddenEngine, EachNodeRunsExactlyOnceAfterAllItsConsumers) {
  // y feeds a direct use and a 30-node detour. Its node must wait for both and run once.
  Tensor x = param({1.0, 2.0});
  auto p = std::make_shared<Probe>("y", nullptr);
  Tensor y = probe(x * 2.0, p);
  Tensor detour = y;
  for (int i = 0; i < 30; ++i) detour = detour * 1.0;
  (y * 3.0 + detour).sum().backward();
  TT_GRADE_EQ(p->calls, 1);
  TT_GRADE_TENSOR(x.grad(), vec({8.0, 8.0}), 1e-12, 0);  // (3 + 1) · 2
}

TEST(HiddenEngine, NodesRunInReverseCreationOrder) {
  // Two independent branches become ready together; the later-created one runs first (highest
  // sequence number), as in PyTorch's single-threaded engine.
  std::vector<std::string> log;
  Tensor x = param({1.0});
  auto a = std::make_shared<Probe>("a", &log);
  auto b = std::make_shared<Probe>("b", &log);
  auto c = std::make_shared<Probe>("c", &log);
  Tensor ya = probe(x, a);
  Tensor yb = probe(x, b);
  Tensor yc = probe(ya + yb, c);
  yc.sum().backward();
  TT_GRADE_EQ(log, (std::vector<std::string>{"c", "b", "a"}));
  TT_GRADE_TENSOR(x.grad(), vec({2.0}), 0, 0);
}

// ── repeated passes and several roots ─────────────────────────────────────────────────────────

TEST(HiddenEngine, RetainGraphManyTimesThenFree) {
  Tensor x = param({1.0, 2.0, 3.0});
  Tensor loss = (x.exp() * x).sum();
  for (int i = 0; i < 3; ++i) loss.backward({}, /*retain_graph=*/true);
  loss.backward();  // the fourth frees the saved tensors
  std::vector<double> want;
  for (double v : {1.0, 2.0, 3.0}) want.push_back(4.0 * std::exp(v) * (1.0 + v));
  TT_GRADE_TENSOR(x.grad(), vec(want), 1e-12, 0);
  TT_GRADE_THROW_WITH(loss.backward(), Error, "second time");
  // A graph that saves nothing (add, sub, neg) can be run again without retain_graph, as in
  // PyTorch. (x * 2.0 could not: MulBackward saves its operands.)
  Tensor lin = (x + 1.0 - x.neg()).sum();
  x.mutable_grad() = Tensor();
  lin.backward();
  lin.backward();
  TT_GRADE_TENSOR(x.grad(), vec({4.0, 4.0, 4.0}), 0, 0);
}

TEST(HiddenEngine, SeveralRootsShareOnePass) {
  // backward({l1, l2}) is one pass: the shared node below both runs once with the sum.
  Tensor x = param({1.0, 2.0});
  auto p = std::make_shared<Probe>("shared", nullptr);
  Tensor h = probe(x * x, p);
  Tensor l1 = (h * 2.0).sum();
  Tensor l2 = (h * 5.0).sum();
  autograd::backward({l1, l2});
  TT_GRADE_EQ(p->calls, 1);
  TT_GRADE_TENSOR(x.grad(), vec({14.0, 28.0}), 1e-12, 0);  // 7 · 2x
}

TEST(HiddenEngine, RootThatIsAlsoAnInteriorNode) {
  // Seeding an intermediate AND the loss that depends on it adds both seeds.
  Tensor x = param({1.0, 2.0});
  Tensor h = x * 3.0;
  Tensor loss = (h * h).sum();
  autograd::backward({loss, h}, {ones({}, kFloat64), vec({1.0, 10.0})});
  // d loss/dx = 18x, plus the direct seed of h times dh/dx = 3.
  TT_GRADE_TENSOR(x.grad(), vec({18.0 + 3.0, 36.0 + 30.0}), 1e-12, 0);
}

TEST(HiddenEngine, SeedIsCastToTheRootDtype) {
  Tensor x = param({1.0, 2.0});
  Tensor y = x * 2.0;
  y.backward(ones({2}, kFloat32));
  TT_GRADE_EQ(x.grad().dtype(), kFloat64);
  TT_GRADE_TENSOR(x.grad(), vec({2.0, 2.0}), 0, 0);
}

TEST(HiddenEngine, BackwardOnALeafFillsItsGrad) {
  Tensor x = param({1.0, 2.0});
  x.backward(vec({3.0, 4.0}));
  TT_GRADE_TENSOR(x.grad(), vec({3.0, 4.0}), 0, 0);
}

TEST(HiddenEngine, EmptyTensorsHaveEmptyGradients) {
  Tensor x = zeros({0, 3}, kFloat64).set_requires_grad(true);
  (x * 2.0).sum().backward();
  TT_GRADE_TRUE(x.grad().defined());
  TT_GRADE_EQ(x.grad(), zeros({0, 3}, kFloat64));
}

// ── autograd::grad ───────────────────────────────────────────────────────────────────────────

TEST(HiddenGrad, MultipleOutputsAndInputs) {
  Tensor a = param({1.0, 2.0}), b = param({3.0, -1.0});
  Tensor y1 = a * b;          // [2]
  Tensor y2 = (a * a).sum();  // 0-d
  const variable_list g = autograd::grad({y1, y2}, {a, b}, {vec({1.0, 10.0}), ones({}, kFloat64)});
  ASSERT_EQ(g.size(), 2U);
  // d/da = v ⊙ b + 2a ;  d/db = v ⊙ a
  TT_GRADE_TENSOR(g[0], vec({3.0 + 2.0, -10.0 + 4.0}), 1e-12, 0);
  TT_GRADE_TENSOR(g[1], vec({1.0, 20.0}), 1e-12, 0);
  TT_GRADE_FALSE(a.grad().defined());
  TT_GRADE_FALSE(b.grad().defined());
}

TEST(HiddenGrad, WithRespectToAnIntermediate) {
  Tensor x = param({1.0, 2.0});
  Tensor h = x * 3.0;
  Tensor y = (h * h).sum();
  const variable_list g = autograd::grad({y}, {h, x});
  TT_GRADE_TENSOR(g[0], vec({6.0, 12.0}), 1e-12, 0);   // 2h
  TT_GRADE_TENSOR(g[1], vec({18.0, 36.0}), 1e-12, 0);  // 2h · 3
  TT_GRADE_FALSE(x.grad().defined());
}

TEST(HiddenGrad, TheSameInputTwiceAndUnusedInputs) {
  Tensor x = param({2.0}), unused = param({5.0});
  Tensor y = (x * x).sum();
  const variable_list g = autograd::grad({y}, {x, unused, x}, {}, /*retain_graph=*/true,
                                         /*create_graph=*/false, /*allow_unused=*/true);
  TT_GRADE_TENSOR(g[0], vec({4.0}), 0, 0);
  TT_GRADE_FALSE(g[1].defined());
  TT_GRADE_TENSOR(g[2], vec({4.0}), 0, 0);
  // retain_graph kept the saved tensors: a second call works.
  TT_GRADE_TENSOR(autograd::grad({y}, {x})[0], vec({4.0}), 0, 0);
}

TEST(HiddenGrad, RejectsInputsThatDoNotRequireGrad) {
  Tensor x = param({1.0});
  Tensor y = (x * 2.0).sum();
  TT_GRADE_THROW_WITH(autograd::grad({y}, {vec({1.0})}), Error, "does not require grad");
}

// ── grad mode ────────────────────────────────────────────────────────────────────────────────

TEST(HiddenGradMode, NestedGuardsRestoreThePreviousState) {
  TT_GRADE_TRUE(GradMode::is_enabled());
  {
    NoGradGuard outer;
    TT_GRADE_FALSE(GradMode::is_enabled());
    {
      AutoGradMode inner(true);
      TT_GRADE_TRUE(GradMode::is_enabled());
      {
        NoGradGuard innermost;
        TT_GRADE_FALSE(GradMode::is_enabled());
      }
      TT_GRADE_TRUE(GradMode::is_enabled());
    }
    TT_GRADE_FALSE(GradMode::is_enabled());
  }
  TT_GRADE_TRUE(GradMode::is_enabled());
}

TEST(HiddenGradMode, ExceptionInsideAGuardRestoresGradMode) {
  try {
    NoGradGuard guard;
    throw std::runtime_error("boom");
  } catch (const std::runtime_error&) {
  }
  TT_GRADE_TRUE(GradMode::is_enabled());
}

TEST(HiddenGradMode, ToggledInTheMiddleOfAGraph) {
  // The part computed with grad mode off is a constant: no gradient flows through it.
  Tensor x = param({1.0, 2.0});
  Tensor a = x * x;  // recorded
  Tensor b;
  {
    NoGradGuard no_grad;
    b = a * 10.0;  // not recorded: a leaf that does not require grad
  }
  TT_GRADE_FALSE(b.requires_grad());
  TT_GRADE_TRUE(b.is_leaf());
  Tensor c = a * b;  // recorded again: only the `a` path is differentiated
  c.sum().backward();
  // dc/dx = b · 2x with b treated as a constant = 10x² · 2x
  TT_GRADE_TENSOR(x.grad(), vec({20.0, 160.0}), 1e-12, 0);
}

TEST(HiddenGradMode, BackwardItselfRecordsNothing) {
  // The formulas run with grad mode off: the gradient is a plain tensor, not part of a graph,
  // even though it was computed from tensors that require grad.
  Tensor x = param({1.0, 2.0});
  (x * x).sum().backward();
  TT_GRADE_FALSE(x.grad().requires_grad());
  TT_GRADE_TRUE(x.grad().grad_fn() == nullptr);
  TT_GRADE_TRUE(GradMode::is_enabled());  // and the engine restored grad mode afterwards
}

TEST(HiddenGradMode, ErrorDuringBackwardRestoresGradMode) {
  Tensor x = param({1.0, 2.0});
  Tensor y = x.exp();
  Tensor loss = y.sum();
  {
    NoGradGuard no_grad;
    y.mul_(2.0);  // invalidates ExpBackward's saved output
  }
  TT_GRADE_THROW(loss.backward(), Error);
  TT_GRADE_TRUE(GradMode::is_enabled());
}

// ── saved tensors and memory ─────────────────────────────────────────────────────────────────

// Installs a private allocator for the scope of a test, so its live-byte count sees only the
// tensors the test makes.
class ScopedAllocator {
 public:
  ScopedAllocator() { set_allocator(&alloc_); }
  ~ScopedAllocator() { set_allocator(nullptr); }
  ScopedAllocator(const ScopedAllocator&) = delete;
  ScopedAllocator& operator=(const ScopedAllocator&) = delete;
  int64_t live() const { return alloc_.stats().live_bytes; }

 private:
  CPUAllocator alloc_;
};

TEST(HiddenMemory, SavedTensorsAreFreedByBackwardAndTheGraphWithItsOutput) {
  ScopedAllocator scope;
  {
    Tensor x = ones({256}, kFloat64).set_requires_grad(true);
    const int64_t base = scope.live();
    Tensor loss;
    {
      Tensor h = x;
      // Each exp saves its output (256 doubles); the intermediates are otherwise dropped.
      for (int i = 0; i < 8; ++i) h = (h * 0.5).exp();
      loss = h.sum();
    }
    const int64_t with_graph = scope.live() - base;
    TT_GRADE_GE(with_graph, 8 * 256 * 8) << "the 8 saved exp outputs are alive";
    loss.backward();
    const int64_t after = scope.live() - base;
    // Left: x.grad (256 doubles) and the 0-d loss.
    TT_GRADE_LE(after, 256 * 8 + 64) << "backward without retain_graph frees the saved tensors";
    loss = Tensor();
    x.mutable_grad() = Tensor();
    TT_GRADE_EQ(scope.live() - base, 0) << "nothing outlives the graph (no reference cycles)";
  }
  TT_GRADE_EQ(scope.live(), 0);
}

TEST(HiddenMemory, RetainGraphKeepsTheSavedTensors) {
  ScopedAllocator scope;
  Tensor x = ones({512}, kFloat64).set_requires_grad(true);
  Tensor loss = x.exp().exp().sum();
  const int64_t before = scope.live();
  loss.backward({}, /*retain_graph=*/true);
  // Still alive: both saved exp outputs; new: x.grad.
  TT_GRADE_GE(scope.live() - before, 512 * 8);
  TT_GRADE_GE(scope.live(), 3 * 512 * 8);
}

TEST(HiddenSaved, ModifiedThroughAnotherViewIsCaught) {
  // The version counter lives in the Storage: a write through ANY alias is seen.
  Tensor x = param({1.0, 2.0, 3.0, 4.0});
  Tensor y = x.exp();  // saves y
  Tensor loss = y.sum();
  {
    NoGradGuard no_grad;
    y.view({2, 2})[1].fill_(0.0);
  }
  TT_GRADE_THROW_WITH(loss.backward(), Error, "modified by an inplace operation", "ExpBackward0");
}

TEST(HiddenSaved, InPlaceOnATensorNobodySavedIsFine) {
  // add saves nothing, so modifying its input afterwards does not invalidate the graph.
  Tensor x = param({1.0, 2.0});
  Tensor a = x * 1.0;
  Tensor b = a + 1.0;  // AddBackward saves nothing
  a.mul_(3.0);         // recorded in-place on a non-leaf
  (b.sum() + a.sum()).backward();
  TT_GRADE_TENSOR(x.grad(), vec({4.0, 4.0}), 1e-12, 0);  // 1 + 3
}

// ── gradcheck ────────────────────────────────────────────────────────────────────────────────

TEST(HiddenGradcheck, DetectsAWrongGradient) {
  // x · detach(x) has true derivative 2x, but autograd differentiates only the first factor and
  // reports x. gradcheck must notice.
  std::mt19937_64 rng(1);
  Tensor x = uniform(rng, {3}).set_requires_grad(true);
  const autograd::GradcheckResult r = autograd::gradcheck(
      [](const std::vector<Tensor>& in) { return in[0] * in[0].detach(); }, {x});
  TT_GRADE_FALSE(r.ok);
  TT_GRADE_CONTAINS(r.message, "mismatch");
}

TEST(HiddenGradcheck, RefusesFloat32Inputs) {
  Tensor x = ones({2}, kFloat32).set_requires_grad(true);
  TT_GRADE_THROW(
      autograd::gradcheck([](const std::vector<Tensor>& in) { return in[0] * 2.0; }, {x}), Error);
}

// A random shape of 1–3 dims with sizes 1–4, and a shape broadcastable against it.
std::vector<int64_t> random_shape(std::mt19937_64& rng) {
  const int nd = 1 + static_cast<int>(rng() % 3);
  std::vector<int64_t> s;
  for (int d = 0; d < nd; ++d) s.push_back(1 + static_cast<int64_t>(rng() % 4));
  return s;
}

std::vector<int64_t> broadcast_partner(std::mt19937_64& rng, const std::vector<int64_t>& s) {
  std::vector<int64_t> p;
  const size_t drop = rng() % s.size();  // leading dims left out
  for (size_t d = drop; d < s.size(); ++d) p.push_back(rng() % 3 == 0 ? 1 : s[d]);
  return p;
}

// A leaf of `shape` laid out randomly: contiguous, transposed storage, or a step-2 slice.
Tensor random_leaf(std::mt19937_64& rng, const std::vector<int64_t>& shape, double lo, double hi) {
  const int layout =
      shape.size() >= 2 ? static_cast<int>(rng() % 3) : static_cast<int>(rng() % 2) * 2;
  Tensor t;
  if (layout == 1) {
    std::vector<int64_t> rev(shape.rbegin(), shape.rend());
    std::vector<int64_t> perm;
    for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) perm.push_back(d);
    t = uniform(rng, rev, lo, hi).permute(perm);
  } else if (layout == 2) {
    std::vector<int64_t> wide = shape;
    wide.back() *= 2;
    t = uniform(rng, wide, lo, hi).slice(-1, 0, std::nullopt, 2);
  } else {
    t = uniform(rng, shape, lo, hi);
  }
  return t.set_requires_grad(true);
}

// The gradients of fn's output, summed, with respect to `inputs`, as the reference solution
// computes them: beside gradcheck's verdict, the numbers themselves are graded.
void grade_gradients(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                     const std::vector<Tensor>& inputs) {
  for (const auto& g : autograd::grad({fn(inputs).sum()}, inputs)) {
    TT_GRADE_SAME_AS_REFERENCE(g, 1e-10, 1e-12);
  }
}

std::string shape_str(IntArrayRef s) {
  std::ostringstream os;
  os << s;
  return os.str();
}

TEST(HiddenGradcheck, RandomBinaryOpsOnRandomBroadcastShapes) {
  std::mt19937_64 rng(2024);
  using Fn = std::function<Tensor(const std::vector<Tensor>&)>;
  const std::vector<std::pair<std::string, Fn>> ops = {
      {"add", [](const std::vector<Tensor>& in) { return in[0].add(in[1], 0.75); }},
      {"sub", [](const std::vector<Tensor>& in) { return in[0].sub(in[1], 2.0); }},
      {"mul", [](const std::vector<Tensor>& in) { return in[0] * in[1]; }},
      {"div", [](const std::vector<Tensor>& in) { return in[0] / in[1]; }},
      {"pow", [](const std::vector<Tensor>& in) { return in[1].pow(in[0]); }},
      {"maximum", [](const std::vector<Tensor>& in) { return in[0].maximum(in[1]); }},
      {"where", [](const std::vector<Tensor>& in) { return where(in[0] > 0.0, in[0], in[1]); }},
  };
  for (int trial = 0; trial < 40; ++trial) {
    const auto& [name, fn] = ops[static_cast<size_t>(trial) % ops.size()];
    const std::vector<int64_t> sa = random_shape(rng);
    const std::vector<int64_t> sb = broadcast_partner(rng, sa);
    const bool swap = rng() % 2 == 1;
    // b stays away from 0 (div) and positive (pow's base); a in [-1, 1].
    Tensor a = random_leaf(rng, swap ? sb : sa, -1.0, 1.0);
    Tensor b = random_leaf(rng, swap ? sa : sb, 0.5, 2.0);
    const autograd::GradcheckResult r = autograd::gradcheck(fn, {a, b});
    TT_GRADE_TRUE(r.ok) << "trial " << trial << ": " << name << " of " << shape_str(a.sizes())
                        << " (strides " << shape_str(a.strides()) << ") and "
                        << shape_str(b.sizes()) << " (strides " << shape_str(b.strides())
                        << "): " << r.message;
    grade_gradients(fn, {a, b});
  }
}

TEST(HiddenGradcheck, RandomReductionsAndViews) {
  std::mt19937_64 rng(77);
  for (int trial = 0; trial < 30; ++trial) {
    std::vector<int64_t> shape = random_shape(rng);
    if (shape.size() < 2) shape.push_back(3);
    Tensor x = random_leaf(rng, shape, -1.0, 1.0);
    const auto nd = static_cast<int64_t>(shape.size());
    int64_t d = static_cast<int64_t>(rng() % static_cast<uint64_t>(nd));
    if (rng() % 2 == 1) d -= nd;  // a negative dim half of the time
    const bool keep = rng() % 2 == 1;
    const int kind = trial % 6;
    std::function<Tensor(const std::vector<Tensor>&)> fn;
    std::string what;
    switch (kind) {
      case 0:
        fn = [d, keep](const std::vector<Tensor>& in) { return (in[0] * in[0]).sum({d}, keep); };
        what = "sum";
        break;
      case 1:
        fn = [d, keep](const std::vector<Tensor>& in) { return in[0].exp().mean({d}, keep); };
        what = "mean";
        break;
      case 2:
        fn = [d, keep](const std::vector<Tensor>& in) {
          return std::get<0>(in[0].max(d, keep)) * 2.0;
        };
        what = "max(dim)";
        break;
      case 3: {
        int64_t& n = shape[static_cast<size_t>((d + nd) % nd)];
        n = std::max<int64_t>(n, 2);  // var needs n ≥ 2
      }
        x = random_leaf(rng, shape, -1.0, 1.0);
        fn = [d, keep](const std::vector<Tensor>& in) { return in[0].var({d}, true, keep); };
        what = "var";
        break;
      case 4:
        fn = [d](const std::vector<Tensor>& in) {
          return in[0].transpose(d, 0).contiguous().view({-1}) * 3.0;
        };
        what = "transpose+view";
        break;
      default:
        fn = [d](const std::vector<Tensor>& in) {
          return in[0].unsqueeze(0).expand({2, -1, -1, -1}).sum({0}) *
                 in[0].unsqueeze(d).squeeze(d);
        };
        what = "unsqueeze+expand";
        if (nd != 3) {
          fn = [](const std::vector<Tensor>& in) {
            return in[0].flatten().slice(0, 1, std::nullopt, 2);
          };
          what = "flatten+slice";
        }
        break;
    }
    const autograd::GradcheckResult r = autograd::gradcheck(fn, {x});
    TT_GRADE_TRUE(r.ok) << "trial " << trial << ": " << what << " dim " << d << " keepdim " << keep
                        << " of " << shape_str(x.sizes()) << " (strides " << shape_str(x.strides())
                        << "): " << r.message;
    grade_gradients(fn, {x});
  }
}

TEST(HiddenGradcheck, RandomMatmulShapes) {
  std::mt19937_64 rng(5);
  for (int trial = 0; trial < 20; ++trial) {
    const int64_t m = 1 + static_cast<int64_t>(rng() % 4), k = 1 + static_cast<int64_t>(rng() % 4),
                  n = 1 + static_cast<int64_t>(rng() % 4), b = 1 + static_cast<int64_t>(rng() % 3);
    std::vector<int64_t> sa, sb;
    switch (trial % 5) {
      case 0:
        sa = {k};
        sb = {k};
        break;
      case 1:
        sa = {m, k};
        sb = {k};
        break;
      case 2:
        sa = {k};
        sb = {b, k, n};
        break;
      case 3:
        sa = {b, m, k};
        sb = {k, n};
        break;
      default:
        sa = {b, 1, m, k};
        sb = {2, k, n};
        break;
    }
    Tensor a = random_leaf(rng, sa, -1.0, 1.0), bt = random_leaf(rng, sb, -1.0, 1.0);
    const auto matmul = [](const std::vector<Tensor>& in) { return in[0].matmul(in[1]); };
    const autograd::GradcheckResult r = autograd::gradcheck(matmul, {a, bt});
    TT_GRADE_TRUE(r.ok) << "trial " << trial << ": " << shape_str(sa) << " @ " << shape_str(sb)
                        << ": " << r.message;
    grade_gradients(matmul, {a, bt});
  }
}

// ── views and in-place: PyTorch's behaviour ──────────────────────────────────────────────────

TEST(HiddenViews, ViewOfALeafStaysUsableAfterAnOptimizerStyleUpdate) {
  // A view of a parameter, taken once; the parameter is then updated in place under
  // NoGradGuard (an optimizer step). The view's history (ViewBackward → AccumulateGrad) cannot
  // be stale — a leaf has no history to rewrite — so using the view must work, with the NEW
  // values, as it does in PyTorch (w[:2] after torch.no_grad(): w.add_(1)).
  Tensor w = param({1.0, 2.0, 3.0});
  Tensor first_two = w.slice(0, 0, 2);
  {
    NoGradGuard no_grad;
    w.add_(1.0);
  }
  Tensor loss;
  TT_GRADE_NO_THROW(loss = (first_two * first_two).sum());
  loss.backward();
  TT_GRADE_TENSOR(w.grad(), vec({4.0, 6.0, 0.0}), 1e-12, 0);  // 2 · (new values)
}

TEST(HiddenViews, RetainedGradFollowsAnInPlaceUpdate) {
  // retain_grad() asks for the gradient of y as it is when backward runs. After y.mul_(3), y's
  // history is CopyBackwards → MulBackward0(y_old, 3): the gradient wanted is ∂loss/∂y_new = 1,
  // not ∂loss/∂y_old = 3. PyTorch 1.13 gives 1 whether retain_grad() came before or after the
  // in-place op; the retained tensor must move to the new grad_fn when the history is rebased.
  Tensor x = param({1.0, 1.0, 1.0});
  Tensor y = x * 2.0;
  y.retain_grad();
  y.mul_(3.0);
  y.sum().backward();
  TT_GRADE_TENSOR(y.grad(), vec({1.0, 1.0, 1.0}), 0, 0);
  TT_GRADE_TENSOR(x.grad(), vec({6.0, 6.0, 6.0}), 0, 0);
}

}  // namespace
}  // namespace tinytorch
