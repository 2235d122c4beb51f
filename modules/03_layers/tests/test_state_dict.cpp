// Module 03 — checkpoints (Part 5): state_dict / load_state_dict. Round trips, aliasing, in-place
// loading, dtype conversion, and every error message against the one PyTorch wrote for the same
// mistake (tests/data/module03_reference.json, "load_errors").
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "layers_test_util.h"

namespace tinytorch {
namespace {

using S = std::vector<std::string>;
using test::Net;

nn::Sequential seq_model() {
  return nn::Sequential(nn::Linear(4, 10), nn::ReLU(), nn::Linear(10, 3));
}

OrderedDict<std::string, Tensor> dict_of(const test::json& entries, double value = 0.0) {
  OrderedDict<std::string, Tensor> sd;
  for (const auto& e : entries) {
    sd.insert(e.at("key").get<std::string>(), full(test::int_list(e.at("shape")), value));
  }
  return sd;
}

TEST(StateDict, KeysValuesAndAliasing) {
  auto model = seq_model();
  const auto sd = model->state_dict();
  EXPECT_EQ(sd.keys(), (S{"0.weight", "0.bias", "2.weight", "2.bias"}));
  // The values alias the parameters (no copy) but are detached from autograd.
  const Tensor& w = sd["0.weight"];
  EXPECT_TRUE(w.is_alias_of(model[0]->as<nn::Linear>()->weight));
  EXPECT_FALSE(w.requires_grad());
  EXPECT_TRUE(model->ptr<nn::LinearImpl>(0)->weight.requires_grad());
  // So a state_dict sees later changes of the model — clone() for a snapshot.
  const Tensor snapshot = w.clone();
  {
    NoGradGuard no_grad;
    model->ptr<nn::LinearImpl>(0)->weight.fill_(3.0);
  }
  EXPECT_EQ(w.max().item<double>(), 3.0);
  EXPECT_FALSE(snapshot.equal(w));
}

TEST(StateDict, RoundTripCopiesValuesInPlace) {
  manual_seed(1);
  Net a;
  manual_seed(2);
  Net b;
  ASSERT_FALSE(a->fc1->weight.equal(b->fc1->weight));
  {
    NoGradGuard no_grad;
    a->steps.fill_(17.0);  // buffers travel too
  }
  const Tensor b_weight_handle = b->fc1->weight;
  const nn::LoadStateDictResult r = b->load_state_dict(a->state_dict());
  EXPECT_TRUE(r.missing_keys.empty());
  EXPECT_TRUE(r.unexpected_keys.empty());
  for (const auto& [key, value] : a->state_dict()) {
    EXPECT_TRUE(b->state_dict()[key].equal(value)) << key;
    EXPECT_FALSE(b->state_dict()[key].is_alias_of(value)) << key << ": copied, not aliased";
  }
  // In place: b's member handles still name b's parameters, which still require grad.
  EXPECT_TRUE(b->fc1->weight.is_same(b_weight_handle));
  EXPECT_TRUE(b->fc1->weight.requires_grad());
  EXPECT_TRUE(b->fc1->weight.is_leaf());
  EXPECT_EQ(b->steps.item<double>(), 17.0);
  // Same parameters, same function.
  a->eval();
  b->eval();
  const Tensor x = randn({5, 4});
  EXPECT_TRUE(a(x).equal(b(x)));
}

TEST(StateDict, LoadingItsOwnStateDictIsANoOp) {
  auto model = seq_model();
  const Tensor before = model->ptr<nn::LinearImpl>(2)->weight.clone();
  model->load_state_dict(model->state_dict());
  EXPECT_TRUE(model->ptr<nn::LinearImpl>(2)->weight.equal(before));
}

// An entry may share memory with another parameter of the model: here the source for 1.weight
// is a transposed view of 0.weight, which the same load overwrites, and the source for
// 2.weight is a view of 2.weight itself. Every source is read as it was before the load began
// (no entry sees another's new values), and nothing fails half-way.
TEST(StateDict, SourcesThatAliasTheModelAreReadBeforeAnythingIsWritten) {
  auto model = nn::Sequential(nn::Linear(3, 3), nn::Linear(3, 3), nn::Linear(3, 3));
  const Tensor w0 = model->ptr<nn::LinearImpl>(0)->weight;
  const Tensor w1 = model->ptr<nn::LinearImpl>(1)->weight;
  const Tensor w2 = model->ptr<nn::LinearImpl>(2)->weight;
  const Tensor old0 = w0.clone(), old2 = w2.clone();
  auto sd = model->state_dict();
  sd["0.weight"] = full({3, 3}, 7.0);
  sd["1.weight"] = w0.detach().t();
  sd["2.weight"] = w2.detach().t();
  model->load_state_dict(sd);
  EXPECT_TRUE(w0.equal(full({3, 3}, 7.0)));
  EXPECT_TRUE(w1.equal(old0.t()));
  EXPECT_TRUE(w2.equal(old2.t()));
}

TEST(StateDict, DtypeIsConvertedToTheModels) {
  auto model = seq_model();
  OrderedDict<std::string, Tensor> sd;
  for (const auto& [key, value] : model->state_dict())
    sd.insert(key, full(value.sizes(), 0.5, kFloat64));
  model->load_state_dict(sd);
  for (const Tensor& p : model->parameters()) {
    EXPECT_EQ(p.dtype(), kFloat32);
    EXPECT_EQ(p.max().item<double>(), 0.5);
    EXPECT_EQ(p.min().item<double>(), 0.5);
  }
}

TEST(StateDict, ErrorMessagesMatchPyTorch) {
  for (const auto& c : test::module03_reference().at("load_errors")) {
    const std::string name = c.at("name").get<std::string>();
    const bool strict = c.at("strict").get<bool>();
    std::shared_ptr<nn::Module> model;
    if (c.at("model") == "seq") {
      model = seq_model().ptr();
    } else {
      model = nn::Linear(nn::LinearOptions(3, 2).bias(false)).ptr();
    }
    const auto before = model->state_dict();
    std::vector<Tensor> snapshot;
    for (const auto& [k, v] : before) snapshot.push_back(v.clone());
    const std::string expected = c.at("expected").get<std::string>();
    try {
      model->load_state_dict(dict_of(c.at("entries"), 0.25), strict);
      ADD_FAILURE() << name << ": no error; expected:\n" << expected;
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()), expected) << name << (strict ? " (strict)" : "");
    }
    // Nothing was loaded: the check comes before any copy.
    size_t i = 0;
    for (const auto& [k, v] : model->state_dict()) {
      EXPECT_TRUE(v.equal(snapshot[i++])) << name << ": " << k << " changed";
    }
  }
}

TEST(StateDict, NonStrictReportsAndLoadsTheRest) {
  for (const auto& c : test::module03_reference().at("load_nonstrict")) {
    auto model = seq_model();
    const nn::LoadStateDictResult r = model->load_state_dict(dict_of(c.at("entries"), 0.5), false);
    EXPECT_EQ(r.missing_keys, test::keys_of(c.at("missing_keys"))) << c.at("name");
    EXPECT_EQ(r.unexpected_keys, test::keys_of(c.at("unexpected_keys"))) << c.at("name");
    for (const auto& [key, value] : model->state_dict()) {
      const bool given =
          std::find(r.missing_keys.begin(), r.missing_keys.end(), key) == r.missing_keys.end();
      if (given) {
        EXPECT_EQ(value.max().item<double>(), 0.5) << key;
      } else {
        EXPECT_NE(value.max().item<double>(), 0.5) << key;
      }
    }
  }
}

TEST(StateDict, UndefinedTensorInTheDict) {
  nn::Linear fc(2, 2);
  auto sd = fc->state_dict();
  sd["bias"] = Tensor();
  TT_EXPECT_THROW_WITH(fc->load_state_dict(sd), Error, "Error(s) in loading state_dict for Linear",
                       "\"bias\"", "undefined");
}

TEST(StateDict, CustomModelWithBuffers) {
  Net net;
  auto sd = net->state_dict();
  EXPECT_EQ(sd.keys(), test::keys_of(test::module03_reference().at("names").at("state_dict")));
  // A buffer missing from the dict is reported like a parameter.
  OrderedDict<std::string, Tensor> partial;
  for (const auto& [k, v] : sd) {
    if (k != "steps") partial.insert(k, v);
  }
  TT_EXPECT_THROW_WITH(net->load_state_dict(partial), Error,
                       "Error(s) in loading state_dict for Net:\n\tMissing key(s) in state_dict: "
                       "\"steps\". ");
}

}  // namespace
}  // namespace tinytorch
