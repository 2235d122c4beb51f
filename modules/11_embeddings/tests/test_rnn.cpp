// Module 11, Part 6 — the recurrent layers, through libtorch's spelling (<torch/torch.h>):
// torch::nn::RNN, LSTM, GRU and the cells run the step functions you write (elman_step, lstm_step,
// gru_step in src/nn/rnn.cpp). Checked: libtorch's options, forward signatures and return types,
// PyTorch's parameter names (a state_dict maps one to one) and PyTorch's numbers —
// tests/data/rnn_reference.json, written by tools/reference/gen_rnn.py: forward values, final
// states and the gradients of a scalar loss w.r.t. the input, the initial state and every
// parameter; float64 gradchecks (and gradgradchecks) of every layer and cell. The gradient tests
// need module 05.
#include <torch/torch.h>

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/prerequisites.h"
#include "support/reference.h"

namespace {

namespace nn = torch::nn;
using tinytorch::test::json;
using tinytorch::test::load_reference;
using tinytorch::test::tensor_from_json;
using torch::Tensor;

// ── libtorch's signatures ────────────────────────────────────────────────────────────────────

using LSTMState = std::tuple<Tensor, Tensor>;
static_assert(std::is_same_v<decltype(std::declval<nn::RNN&>()(std::declval<Tensor>())),
                             std::tuple<Tensor, Tensor>>);
static_assert(std::is_same_v<decltype(std::declval<nn::GRU&>()(std::declval<Tensor>(),
                                                               std::declval<Tensor>())),
                             std::tuple<Tensor, Tensor>>);
static_assert(std::is_same_v<decltype(std::declval<nn::LSTM&>()(std::declval<Tensor>())),
                             std::tuple<Tensor, LSTMState>>);
static_assert(std::is_same_v<decltype(std::declval<nn::LSTMImpl&>().forward(
                                 std::declval<Tensor>(), std::optional<LSTMState>())),
                             std::tuple<Tensor, LSTMState>>);
static_assert(
    std::is_same_v<decltype(std::declval<nn::RNNCell&>()(std::declval<Tensor>())), Tensor>);
static_assert(
    std::is_same_v<decltype(std::declval<nn::GRUCell&>()(std::declval<Tensor>())), Tensor>);
static_assert(
    std::is_same_v<decltype(std::declval<nn::LSTMCell&>()(std::declval<Tensor>())), LSTMState>);
// The nonlinearity is libtorch's variant of two tag types: torch::kTanh or torch::kReLU.
static_assert(std::is_same_v<nn::RNNOptions::nonlinearity_t,
                             std::variant<torch::enumtype::kTanh, torch::enumtype::kReLU>>);

TEST(Rnn, OptionsHaveLibtorchsDefaults) {
  const nn::RNNOptions rnn(3, 4);
  EXPECT_EQ(rnn.input_size(), 3);
  EXPECT_EQ(rnn.hidden_size(), 4);
  EXPECT_EQ(rnn.num_layers(), 1);
  EXPECT_TRUE(std::holds_alternative<torch::enumtype::kTanh>(rnn.nonlinearity()));
  EXPECT_TRUE(rnn.bias());
  EXPECT_FALSE(rnn.batch_first());
  EXPECT_EQ(rnn.dropout(), 0.0);
  EXPECT_FALSE(rnn.bidirectional());
  const nn::LSTMOptions lstm(3, 4);
  EXPECT_EQ(lstm.num_layers(), 1);
  EXPECT_TRUE(lstm.bias());
  EXPECT_FALSE(lstm.batch_first());
  EXPECT_EQ(lstm.dropout(), 0.0);
  EXPECT_FALSE(lstm.bidirectional());
  EXPECT_EQ(lstm.proj_size(), 0);
  const nn::GRUOptions gru(3, 4);
  EXPECT_EQ(gru.num_layers(), 1);
  EXPECT_FALSE(gru.bidirectional());
  EXPECT_TRUE(nn::LSTMCellOptions(3, 4).bias());
  EXPECT_TRUE(nn::GRUCellOptions(3, 4).bias());
  const nn::RNNCellOptions cell(3, 4);
  EXPECT_TRUE(cell.bias());
  EXPECT_TRUE(std::holds_alternative<torch::enumtype::kTanh>(cell.nonlinearity()));
  EXPECT_TRUE(std::holds_alternative<torch::enumtype::kReLU>(
      nn::RNNCellOptions(3, 4).nonlinearity(torch::kReLU).nonlinearity()));
}

TEST(Rnn, ASequenceModelAsALibtorchProgramWritesIt) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  torch::manual_seed(0);
  nn::LSTM lstm(nn::LSTMOptions(8, 16).num_layers(2).batch_first(true));
  nn::Linear head(16, 5);
  const Tensor x = torch::randn({4, 7, 8});  // [batch, time, features]
  auto [output, state] = lstm(x);
  auto [h_n, c_n] = state;
  EXPECT_EQ(output.sizes(), torch::IntArrayRef({4, 7, 16}));
  EXPECT_EQ(h_n.sizes(), torch::IntArrayRef({2, 4, 16}));
  EXPECT_EQ(c_n.sizes(), torch::IntArrayRef({2, 4, 16}));
  // The last step of the top layer is h_n's last row.
  EXPECT_TRUE(torch::allclose(output.select(1, 6), h_n[1]));
  // Carrying the state on: two halves of a sequence give the whole sequence's result.
  auto [first, mid] = lstm(x.narrow(1, 0, 3));
  auto [second, end] = lstm->forward(x.narrow(1, 3, 4), mid);
  EXPECT_TRUE(torch::allclose(torch::cat({first, second}, 1), output, 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(std::get<1>(end), c_n, 1e-5, 1e-6));
  const Tensor loss =
      torch::nn::functional::cross_entropy(head(h_n[1]), torch::tensor({0, 1, 2, 3}));
  loss.backward();
  for (const auto& p : lstm->parameters()) EXPECT_TRUE(p.grad().defined());

  nn::GRU gru(nn::GRUOptions(8, 6).bidirectional(true));
  auto [y, h] = gru(x.transpose(0, 1));  // [time, batch, features], no h_0: zeros
  EXPECT_EQ(y.sizes(), torch::IntArrayRef({7, 4, 12}));
  EXPECT_EQ(h.sizes(), torch::IntArrayRef({2, 4, 6}));
  nn::RNN rnn(nn::RNNOptions(8, 6).nonlinearity(torch::kReLU));
  EXPECT_GE(std::get<0>(rnn(x[0])).min().item<float>(), 0.0f);  // unbatched [7, 8]

  nn::LSTMCell cell(8, 16);
  std::tuple<Tensor, Tensor> hc = cell(x.select(1, 0));
  for (int64_t t = 1; t < 7; ++t) hc = cell(x.select(1, t), hc);
  EXPECT_EQ(std::get<0>(hc).sizes(), torch::IntArrayRef({4, 16}));
}

TEST(Rnn, ParametersAreNamedAndInitialisedAsPyTorchs) {
  torch::manual_seed(0);
  nn::LSTM lstm(nn::LSTMOptions(3, 5).num_layers(2).bidirectional(true).proj_size(2));
  const std::vector<std::string> expected = {
      "weight_ih_l0",         "weight_hh_l0",         "bias_ih_l0",
      "bias_hh_l0",           "weight_hr_l0",         "weight_ih_l0_reverse",
      "weight_hh_l0_reverse", "bias_ih_l0_reverse",   "bias_hh_l0_reverse",
      "weight_hr_l0_reverse", "weight_ih_l1",         "weight_hh_l1",
      "bias_ih_l1",           "bias_hh_l1",           "weight_hr_l1",
      "weight_ih_l1_reverse", "weight_hh_l1_reverse", "bias_ih_l1_reverse",
      "bias_hh_l1_reverse",   "weight_hr_l1_reverse"};
  const auto named = lstm->named_parameters();
  EXPECT_EQ(named.keys(), expected);
  EXPECT_EQ(named["weight_ih_l0"].sizes(), torch::IntArrayRef({20, 3}));
  EXPECT_EQ(named["weight_hh_l0"].sizes(), torch::IntArrayRef({20, 2}));
  EXPECT_EQ(named["weight_hr_l0"].sizes(), torch::IntArrayRef({2, 5}));
  EXPECT_EQ(named["weight_ih_l1"].sizes(), torch::IntArrayRef({20, 4}));  // 2 directions · 2
  EXPECT_EQ(lstm->all_weights().size(), expected.size());
  const double bound = 1.0 / std::sqrt(5.0);
  for (const auto& p : lstm->parameters()) {
    EXPECT_LE(p.abs().max().item<float>(), bound);
    EXPECT_GT(p.abs().max().item<float>(), bound / 4);  // drawn, not zeros
  }
  nn::GRUCell cell(nn::GRUCellOptions(3, 4).bias(false));
  EXPECT_EQ(cell->named_parameters().keys(), (std::vector<std::string>{"weight_ih", "weight_hh"}));
  EXPECT_EQ(cell->weight_ih.sizes(), torch::IntArrayRef({12, 3}));
  EXPECT_FALSE(cell->bias_ih.defined());
  nn::RNN rnn(nn::RNNOptions(3, 4).bias(false));
  EXPECT_EQ(rnn->named_parameters().keys(),
            (std::vector<std::string>{"weight_ih_l0", "weight_hh_l0"}));
}

TEST(Rnn, PrintsAsPyTorch) {
  auto repr = [](const auto& holder) {
    std::ostringstream os;
    os << *holder;
    return os.str();
  };
  EXPECT_EQ(repr(nn::RNN(nn::RNNOptions(3, 4)
                             .num_layers(2)
                             .nonlinearity(torch::kReLU)
                             .bias(false)
                             .batch_first(true)
                             .dropout(0.5)
                             .bidirectional(true))),
            "RNN(3, 4, num_layers=2, bias=false, batch_first=true, dropout=0.5, "
            "bidirectional=true)");
  EXPECT_EQ(repr(nn::LSTM(nn::LSTMOptions(3, 4).proj_size(2))), "LSTM(3, 4, proj_size=2)");
  EXPECT_EQ(repr(nn::GRU(3, 4)), "GRU(3, 4)");
  EXPECT_EQ(repr(nn::RNNCell(nn::RNNCellOptions(3, 4).bias(false).nonlinearity(torch::kReLU))),
            "RNNCell(3, 4, bias=false, nonlinearity=relu)");
  EXPECT_EQ(repr(nn::LSTMCell(3, 4)), "LSTMCell(3, 4)");
  EXPECT_EQ(repr(nn::GRUCell(nn::GRUCellOptions(3, 4).bias(false))), "GRUCell(3, 4, bias=false)");
}

// ── PyTorch's numbers ────────────────────────────────────────────────────────────────────────

// A module built from a case's options, and its forward as a list of outputs.
struct Built {
  std::shared_ptr<nn::Module> module;
  std::function<std::vector<Tensor>(const Tensor&, const std::vector<Tensor>&)> forward;
};

template <typename Options>
Options layer_options(Options o, const json& j) {
  o.num_layers(j.value("num_layers", 1))
      .bias(j.value("bias", true))
      .batch_first(j.value("batch_first", false))
      .dropout(j.value("dropout", 0.0))
      .bidirectional(j.value("bidirectional", false))
      .dtype(torch::kFloat64);
  return o;
}

Built build(const json& c) {
  const json& j = c.at("options");
  const int64_t in = j.at("input_size"), hidden = j.at("hidden_size");
  const bool bias = j.value("bias", true), relu = j.value("nonlinearity", "tanh") == "relu";
  const std::string kind = c.at("module");
  auto optional_state = [](const std::vector<Tensor>& s) {
    return s.empty() ? std::optional<LSTMState>() : std::make_optional(LSTMState(s[0], s[1]));
  };
  auto first_or_none = [](const std::vector<Tensor>& s) { return s.empty() ? Tensor() : s[0]; };
  if (kind == "RNN") {
    auto options = layer_options(nn::RNNOptions(in, hidden), j);
    if (relu) options.nonlinearity(torch::kReLU);
    nn::RNN m(options);
    return {m.ptr(), [=](const Tensor& x, const std::vector<Tensor>& s) {
              auto [out, h] = m(x, first_or_none(s));
              return std::vector<Tensor>{out, h};
            }};
  }
  if (kind == "LSTM") {
    nn::LSTM m(layer_options(nn::LSTMOptions(in, hidden), j).proj_size(j.value("proj_size", 0)));
    return {m.ptr(), [=](const Tensor& x, const std::vector<Tensor>& s) {
              auto [out, state] = m(x, optional_state(s));
              return std::vector<Tensor>{out, std::get<0>(state), std::get<1>(state)};
            }};
  }
  if (kind == "GRU") {
    nn::GRU m(layer_options(nn::GRUOptions(in, hidden), j));
    return {m.ptr(), [=](const Tensor& x, const std::vector<Tensor>& s) {
              auto [out, h] = m(x, first_or_none(s));
              return std::vector<Tensor>{out, h};
            }};
  }
  if (kind == "RNNCell") {
    auto options = nn::RNNCellOptions(in, hidden).bias(bias).dtype(torch::kFloat64);
    if (relu) options.nonlinearity(torch::kReLU);
    nn::RNNCell m(options);
    return {m.ptr(), [=](const Tensor& x, const std::vector<Tensor>& s) {
              return std::vector<Tensor>{m(x, first_or_none(s))};
            }};
  }
  if (kind == "LSTMCell") {
    nn::LSTMCell m(nn::LSTMCellOptions(in, hidden).bias(bias).dtype(torch::kFloat64));
    return {m.ptr(), [=](const Tensor& x, const std::vector<Tensor>& s) {
              auto [h, c] = m(x, optional_state(s));
              return std::vector<Tensor>{h, c};
            }};
  }
  EXPECT_EQ(kind, "GRUCell");
  nn::GRUCell m(nn::GRUCellOptions(in, hidden).bias(bias).dtype(torch::kFloat64));
  return {m.ptr(), [=](const Tensor& x, const std::vector<Tensor>& s) {
            return std::vector<Tensor>{m(x, first_or_none(s))};
          }};
}

constexpr double kRtol = 1e-10, kAtol = 1e-12;

// Every case of the reference file whose module is one of `kinds` (at least one case of each):
// PyTorch's parameters loaded by name, then the outputs and the gradients of the case's loss.
void expect_cases_match_pytorch(const std::set<std::string>& kinds) {
  const json& cases = load_reference("rnn_reference.json").at("cases");
  std::set<std::string> seen;
  for (const json& c : cases) {
    if (kinds.count(c.at("module").get<std::string>()) == 0) continue;
    SCOPED_TRACE(c.at("name").get<std::string>());
    seen.insert(c.at("module").get<std::string>());
    Built m = build(c);
    m.module->train(c.at("train").get<bool>());

    // PyTorch's parameters, by name: load_state_dict (strict) checks every name and shape.
    EXPECT_EQ(m.module->named_parameters().keys(),
              c.at("param_names").get<std::vector<std::string>>());
    torch::OrderedDict<std::string, Tensor> state_dict;
    for (const auto& item : c.at("params").items()) {
      state_dict.insert(item.key(), tensor_from_json(item.value()));
    }
    m.module->load_state_dict(state_dict);

    const Tensor x = tensor_from_json(c.at("input")).requires_grad_();
    std::vector<Tensor> state;
    for (const json& s : c.at("state")) state.push_back(tensor_from_json(s).requires_grad_());
    const std::vector<Tensor> outputs = m.forward(x, state);
    ASSERT_EQ(outputs.size(), c.at("outputs").size());
    Tensor loss = torch::zeros({}, torch::kFloat64);
    for (size_t k = 0; k < outputs.size(); ++k) {
      TT_EXPECT_TENSOR_EQ(outputs[k], c.at("outputs")[k], kRtol, kAtol) << "output " << k;
      loss = loss + (outputs[k] * tensor_from_json(c.at("loss_weights")[k])).sum();
    }

    std::vector<Tensor> wrt = {x};
    wrt.insert(wrt.end(), state.begin(), state.end());
    const auto named = m.module->named_parameters();
    for (const auto& item : named) wrt.push_back(item.value());
    const auto grads = torch::autograd::grad({loss}, wrt);
    const json& expected = c.at("grads");
    TT_EXPECT_TENSOR_EQ(grads[0], expected.at("input"), kRtol, kAtol) << "d loss / d input";
    for (size_t k = 0; k < state.size(); ++k) {
      TT_EXPECT_TENSOR_EQ(grads[1 + k], expected.at("state")[k], kRtol, kAtol)
          << "d loss / d state " << k;
    }
    size_t k = 1 + state.size();
    for (const auto& item : named) {
      TT_EXPECT_TENSOR_EQ(grads[k++], expected.at("params").at(item.key()), kRtol, kAtol)
          << "d loss / d " << item.key();
    }
  }
  EXPECT_EQ(seen, kinds);
}

// tanh and relu; stacked, bidirectional, batch_first, unbatched, no bias; h_0 given or zeros.
TEST(RnnReference, ElmanLayersAndCellsMatchPyTorch) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  expect_cases_match_pytorch({"RNN", "RNNCell"});
}

// The same variations, and proj_size.
TEST(RnnReference, LstmLayersAndCellsMatchPyTorch) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  expect_cases_match_pytorch({"LSTM", "LSTMCell"});
}

// The same variations, and dropout between layers in eval mode.
TEST(RnnReference, GruLayersAndCellsMatchPyTorch) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  expect_cases_match_pytorch({"GRU", "GRUCell"});
}

// ── gradients by finite differences (float64) ───────────────────────────────────────────────

// Every output flattened into one vector: gradcheck's function has one output.
Tensor flat(const std::vector<Tensor>& outputs) {
  std::vector<Tensor> parts;
  for (const Tensor& t : outputs) parts.push_back(t.reshape({-1}));
  return torch::cat(parts);
}

Tensor leaf(torch::IntArrayRef sizes) {
  return torch::randn(sizes, torch::kFloat64).requires_grad_();
}

using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

void expect_gradcheck(const Fn& fn, const std::vector<Tensor>& inputs) {
  const auto result = torch::autograd::gradcheck(fn, inputs);
  EXPECT_TRUE(result.ok) << result.message;
}

void expect_gradgradcheck(const Fn& fn, const std::vector<Tensor>& inputs) {
  const auto result = torch::autograd::gradgradcheck(fn, inputs);
  EXPECT_TRUE(result.ok) << result.message;
}

constexpr int64_t kI = 2, kH = 3, kT = 3, kB = 2;

TEST(RnnGradcheck, ElmanLayersAndCellWrtInputAndState) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  torch::manual_seed(3);
  nn::RNN rnn(nn::RNNOptions(kI, kH).num_layers(2).bidirectional(true).dtype(torch::kFloat64));
  expect_gradcheck(
      [&](const std::vector<Tensor>& in) {
        auto [out, h] = rnn(in[0], in[1]);
        return flat({out, h});
      },
      {leaf({kT, kB, kI}), leaf({4, kB, kH})});
  nn::RNNCell cell(nn::RNNCellOptions(kI, kH).dtype(torch::kFloat64));
  const Fn step = [&](const std::vector<Tensor>& in) { return cell(in[0], in[1]); };
  expect_gradcheck(step, {leaf({kB, kI}), leaf({kB, kH})});
  expect_gradgradcheck(step, {leaf({kB, kI}), leaf({kB, kH})});
}

TEST(RnnGradcheck, LstmLayersAndCellWrtInputAndState) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  torch::manual_seed(4);
  nn::LSTM lstm(nn::LSTMOptions(kI, kH).num_layers(2).batch_first(true).dtype(torch::kFloat64));
  expect_gradcheck(
      [&](const std::vector<Tensor>& in) {
        auto [out, state] = lstm(in[0], LSTMState(in[1], in[2]));
        return flat({out, std::get<0>(state), std::get<1>(state)});
      },
      {leaf({kB, kT, kI}), leaf({2, kB, kH}), leaf({2, kB, kH})});
  nn::LSTM proj(nn::LSTMOptions(kI, kH).proj_size(2).bidirectional(true).dtype(torch::kFloat64));
  expect_gradcheck(
      [&](const std::vector<Tensor>& in) {
        auto [out, state] = proj(in[0], LSTMState(in[1], in[2]));
        return flat({out, std::get<0>(state), std::get<1>(state)});
      },
      {leaf({kT, kI}), leaf({2, 2}), leaf({2, kH})});  // unbatched
  nn::LSTMCell cell(nn::LSTMCellOptions(kI, kH).dtype(torch::kFloat64));
  const Fn step = [&](const std::vector<Tensor>& in) {
    auto [h, c] = cell(in[0], LSTMState(in[1], in[2]));
    return flat({h, c});
  };
  expect_gradcheck(step, {leaf({kB, kI}), leaf({kB, kH}), leaf({kB, kH})});
  expect_gradgradcheck(step, {leaf({kB, kI}), leaf({kB, kH}), leaf({kB, kH})});
}

TEST(RnnGradcheck, GruLayersAndCellWrtInputAndState) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  torch::manual_seed(5);
  nn::GRU gru(nn::GRUOptions(kI, kH).bidirectional(true).dtype(torch::kFloat64));
  expect_gradcheck(
      [&](const std::vector<Tensor>& in) {
        auto [out, h] = gru(in[0], in[1]);
        return flat({out, h});
      },
      {leaf({kT, kB, kI}), leaf({2, kB, kH})});
  nn::GRUCell cell(nn::GRUCellOptions(kI, kH).dtype(torch::kFloat64));
  const Fn step = [&](const std::vector<Tensor>& in) { return cell(in[0], in[1]); };
  expect_gradcheck(step, {leaf({kB, kI}), leaf({kB, kH})});
  expect_gradgradcheck(step, {leaf({kB, kI}), leaf({kB, kH})});
}

// ── dropout between layers ───────────────────────────────────────────────────────────────────

TEST(Rnn, DropoutOnlyBetweenLayersAndOnlyInTraining) {
  torch::manual_seed(6);
  const Tensor x = torch::randn({5, 2, 3});
  nn::GRU stacked(nn::GRUOptions(3, 8).num_layers(2).dropout(0.5));
  const Tensor a = std::get<0>(stacked(x)), b = std::get<0>(stacked(x));
  EXPECT_FALSE(torch::allclose(a, b));  // two masks
  stacked->eval();
  const Tensor c = std::get<0>(stacked(x)), d = std::get<0>(stacked(x));
  EXPECT_TRUE(c.equal(d));
  EXPECT_FALSE(torch::allclose(a, c));
  // One layer: nothing lies between layers, so training changes nothing.
  nn::GRU single(nn::GRUOptions(3, 8).dropout(0.5));
  const Tensor train = std::get<0>(single(x));
  single->eval();
  EXPECT_TRUE(train.equal(std::get<0>(single(x))));
}

// ── bad input ────────────────────────────────────────────────────────────────────────────────

TEST(Rnn, BadOptionsAreErrorsNamingTheArgument) {
  TT_EXPECT_THROW_WITH(nn::RNN(nn::RNNOptions(3, 4).num_layers(0)), torch::Error, "RNN",
                       "num_layers", "0");
  TT_EXPECT_THROW_WITH(nn::LSTM(nn::LSTMOptions(3, 4).dropout(1.5)), torch::Error, "LSTM",
                       "dropout", "1.5", "[0, 1]");
  TT_EXPECT_THROW_WITH(nn::GRU(nn::GRUOptions(3, 4).dropout(-0.1)), torch::Error, "GRU", "dropout",
                       "-0.1");
  TT_EXPECT_THROW_WITH(nn::GRU(3, 0), torch::Error, "hidden_size", "0");
  TT_EXPECT_THROW_WITH(nn::LSTM(nn::LSTMOptions(3, 4).proj_size(4)), torch::Error, "proj_size", "4",
                       "hidden_size");
  TT_EXPECT_THROW_WITH(nn::LSTMCell(nn::LSTMCellOptions(3, -1)), torch::Error, "LSTMCell",
                       "hidden_size", "-1");
  TT_EXPECT_THROW_WITH(nn::RNN(nn::RNNOptions(3, 4).dtype(torch::kInt64)), torch::Error, "dtype");
}

TEST(Rnn, BadInputsAreErrorsNamingTheArgument) {
  nn::LSTM lstm(nn::LSTMOptions(3, 4).num_layers(2));
  nn::GRU gru(3, 4);
  const Tensor x = torch::randn({5, 2, 3});
  TT_EXPECT_THROW_WITH(lstm(torch::randn({5, 2, 4})), torch::Error, "LSTM", "input_size=3",
                       "got 4");
  TT_EXPECT_THROW_WITH(gru(torch::randn({5, 2, 3, 1})), torch::Error, "GRU", "input", "4-D");
  TT_EXPECT_THROW_WITH(gru(torch::randn({3})), torch::Error, "GRU", "input", "1-D");
  TT_EXPECT_THROW_WITH(gru(x, torch::zeros({2, 2, 4})), torch::Error, "GRU", "hx", "[1, 2, 4]",
                       "[2, 2, 4]");
  TT_EXPECT_THROW_WITH(gru(x, torch::zeros({1, 4})), torch::Error, "hx", "3-D", "2-D");
  TT_EXPECT_THROW_WITH(gru(x[0], torch::zeros({1, 2, 4})), torch::Error, "hx", "unbatched");
  TT_EXPECT_THROW_WITH(lstm(x, LSTMState(torch::zeros({2, 2, 4}), torch::zeros({2, 3, 4}))),
                       torch::Error, "LSTM", "c_0", "[2, 2, 4]", "[2, 3, 4]");
  TT_EXPECT_THROW_WITH(lstm(x, LSTMState(torch::zeros({1, 2, 4}), torch::zeros({2, 2, 4}))),
                       torch::Error, "h_0", "[2, 2, 4]", "[1, 2, 4]");
  TT_EXPECT_THROW_WITH(gru(x.to(torch::kFloat64)), torch::Error, "GRU", "dtype", "float64");
  TT_EXPECT_THROW_WITH(gru(torch::randn({0, 2, 3})), torch::Error, "GRU", "length");

  nn::RNNCell cell(3, 4);
  TT_EXPECT_THROW_WITH(cell(torch::randn({2, 5})), torch::Error, "RNNCell", "input_size=3",
                       "got 5");
  TT_EXPECT_THROW_WITH(cell(torch::randn({2, 2, 3})), torch::Error, "RNNCell", "input", "3-D");
  TT_EXPECT_THROW_WITH(cell(torch::randn({2, 3}), torch::zeros({3, 4})), torch::Error, "hx",
                       "[2, 4]", "[3, 4]");
  nn::LSTMCell lstm_cell(3, 4);
  TT_EXPECT_THROW_WITH(
      lstm_cell(torch::randn({2, 3}), LSTMState(torch::zeros({2, 4}), torch::zeros({2, 5}))),
      torch::Error, "LSTMCell", "cx", "[2, 4]", "[2, 5]");
  TT_EXPECT_THROW_WITH(
      lstm_cell(torch::randn({3}), LSTMState(torch::zeros({2, 4}), torch::zeros({2, 4}))),
      torch::Error, "hx", "unbatched", "1-D");
}

}  // namespace
