// Part 3 — train_step and evaluate, checked against PyTorch: the same small networks trained for a
// few epochs (tests/data/module07_reference.json, "training"), through the plain loop and through
// the Trainer.
#include <cmath>

#include <nlohmann/json.hpp>

#include "train_test_util.h"

namespace tinytorch::test07 {
namespace {

using test::json;
using test::tensor_from_json;

// The reference network: Linear layers with ReLU between, weights from the reference file.
nn::Sequential reference_model(const json& c) {
  nn::Sequential model;
  const json& layers = c.at("model");
  for (size_t i = 0; i < layers.size(); ++i) {
    model->push_back(nn::Linear(layers[i][0].get<int64_t>(), layers[i][1].get<int64_t>()));
    if (i + 1 < layers.size()) model->push_back(nn::ReLU());
  }
  OrderedDict<std::string, Tensor> init("Key");
  for (const auto& [key, value] : c.at("init").items()) init.insert(key, tensor_from_json(value));
  model->load_state_dict(init);
  return model;
}

std::unique_ptr<optim::Optimizer> reference_optimizer(const json& c, nn::Sequential& model) {
  const json& o = c.at("optimizer");
  if (o.at("type") == "SGD") {
    return std::make_unique<optim::SGD>(
        model->parameters(),
        optim::SGDOptions(o.at("lr").get<double>()).momentum(o.value("momentum", 0.0)));
  }
  return std::make_unique<optim::Adam>(model->parameters(),
                                       optim::AdamOptions(o.at("lr").get<double>()));
}

std::unique_ptr<optim::LRScheduler> reference_scheduler(const json& c, optim::Optimizer& opt) {
  const json& s = c.at("scheduler");
  if (s.is_null()) return nullptr;
  return std::make_unique<optim::StepLR>(opt, s.at("step_size").get<int64_t>(),
                                         s.at("gamma").get<double>());
}

void expect_final_parameters(const json& c, const nn::Module& model) {
  const auto state = model.state_dict();
  for (const auto& [key, value] : c.at("final").items()) {
    TT_EXPECT_TENSOR_EQ(state[key], tensor_from_json(value), 1e-5, 1e-6);
  }
}

TEST(TrainStep, PlainLoopMatchesPyTorch) {
  for (const json& c : test::load_reference("module07_reference.json").at("training")) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    nn::Sequential model = reference_model(c);
    auto optimizer = reference_optimizer(c, model);
    auto scheduler = reference_scheduler(c, *optimizer);
    data::DataLoader loader(
        data::TensorDataset(tensor_from_json(c.at("x")), tensor_from_json(c.at("y"))),
        {.batch_size = c.at("batch_size").get<int64_t>()});
    data::DataLoader val(
        data::TensorDataset(tensor_from_json(c.at("val_x")), tensor_from_json(c.at("val_y"))),
        {.batch_size = 4});
    const auto forward = train::forward_of(model);
    const json& h = c.at("history");
    const double clip = c.at("max_grad_norm").get<double>();
    for (int64_t epoch = 0; epoch < c.at("epochs").get<int64_t>(); ++epoch) {
      SCOPED_TRACE("epoch " + std::to_string(epoch + 1));
      model->train();
      train::RunningAverage loss;
      int64_t correct = 0;
      for (auto& batch : loader) {
        const train::StepResult r =
            train::train_step(forward, cross_entropy_loss, *optimizer, batch, clip);
        EXPECT_FALSE(r.output.requires_grad()) << "the returned output must be detached";
        loss.update(r.loss, batch.data.size(0));
        correct += train::count_correct(r.output, batch.target);
      }
      EXPECT_NEAR(loss.mean(), h.at("train_loss").at(epoch).get<double>(), 1e-5);
      EXPECT_DOUBLE_EQ(static_cast<double>(correct) / static_cast<double>(loss.count()),
                       h.at("train_acc").at(epoch).get<double>());
      const train::EvalResult e = train::evaluate(*model, forward, cross_entropy_loss, val);
      EXPECT_NEAR(e.loss, h.at("val_loss").at(epoch).get<double>(), 1e-5);
      EXPECT_DOUBLE_EQ(e.accuracy, h.at("val_acc").at(epoch).get<double>());
      EXPECT_EQ(e.samples, tensor_from_json(c.at("val_y")).numel());
      if (scheduler) scheduler->step();
    }
    expect_final_parameters(c, *model);
  }
}

TEST(TrainStep, TrainerMatchesPyTorch) {
  for (const json& c : test::load_reference("module07_reference.json").at("training")) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    nn::Sequential model = reference_model(c);
    auto optimizer = reference_optimizer(c, model);
    auto scheduler = reference_scheduler(c, *optimizer);
    data::DataLoader loader(
        data::TensorDataset(tensor_from_json(c.at("x")), tensor_from_json(c.at("y"))),
        {.batch_size = c.at("batch_size").get<int64_t>()});
    data::DataLoader val(
        data::TensorDataset(tensor_from_json(c.at("val_x")), tensor_from_json(c.at("val_y"))),
        {.batch_size = 1000});
    train::TrainerOptions options = silent();
    options.max_grad_norm = c.at("max_grad_norm").get<double>();
    train::Trainer trainer(model, *optimizer, cross_entropy_loss, loader, &val, options);
    trainer.set_scheduler(scheduler.get());
    const train::History& history = trainer.fit(c.at("epochs").get<int64_t>());
    ASSERT_EQ(history.size(), c.at("epochs").get<int64_t>());
    for (const char* column : {"train_loss", "train_acc", "val_loss", "val_acc", "lr"}) {
      const auto got = history.column(column);
      const json& want = c.at("history").at(column);
      for (size_t e = 0; e < got.size(); ++e) {
        EXPECT_NEAR(got[e], want.at(e).get<double>(), 1e-5) << column << " epoch " << e + 1;
      }
    }
    std::vector<double> epochs;
    for (int64_t e = 1; e <= c.at("epochs").get<int64_t>(); ++e)
      epochs.push_back(static_cast<double>(e));
    EXPECT_EQ(history.column("epoch"), epochs);
    EXPECT_EQ(trainer.epoch(), c.at("epochs").get<int64_t>());
    expect_final_parameters(c, *model);
  }
}

TEST(Evaluate, UsesEvalModeNoGraphAndRestoresTheMode) {
  manual_seed(2);
  nn::Sequential model = make_model();  // has Dropout: eval mode must switch it off
  data::DataLoader loader(make_problem(20, 3), {.batch_size = 6});
  bool saw_grad_mode = true, saw_training = true;
  const train::ForwardFn forward = [&](const Tensor& x) {
    saw_grad_mode = GradMode::is_enabled();
    saw_training = model->is_training();
    return model(x);
  };
  model->train();
  const train::EvalResult a = train::evaluate(*model, forward, cross_entropy_loss, loader);
  EXPECT_FALSE(saw_grad_mode) << "evaluate must run under NoGradGuard";
  EXPECT_FALSE(saw_training) << "evaluate must put the model in eval mode";
  EXPECT_TRUE(model->is_training()) << "and restore the mode afterwards";
  EXPECT_EQ(a.samples, 20);
  // Deterministic in eval mode: Dropout is off.
  const train::EvalResult b = train::evaluate(*model, forward, cross_entropy_loss, loader);
  EXPECT_EQ(a.loss, b.loss);
  EXPECT_EQ(a.accuracy, b.accuracy);
  model->eval();
  train::evaluate(*model, forward, cross_entropy_loss, loader);
  EXPECT_FALSE(model->is_training());
}

TEST(Evaluate, FillsAConfusionMatrixAndWeightsTheLossBySampleCount) {
  manual_seed(4);
  nn::Sequential model = make_model();
  const data::TensorDataset problem = make_problem(23, 5);
  data::DataLoader loader(problem, {.batch_size = 10});  // 10 + 10 + 3
  train::ConfusionMatrix cm(4);
  const train::EvalResult r =
      train::evaluate(*model, train::forward_of(model), cross_entropy_loss, loader, &cm);
  EXPECT_EQ(cm.total(), 23);
  EXPECT_DOUBLE_EQ(cm.accuracy(), r.accuracy);
  model->eval();
  NoGradGuard no_grad;
  const Tensor all = model(problem.data());
  EXPECT_NEAR(r.loss, cross_entropy(all, problem.targets()).item<double>(), 1e-6);
  EXPECT_DOUBLE_EQ(r.accuracy, train::accuracy(all, problem.targets()));
}

TEST(Evaluate, RegressionHasALossButNoAccuracy) {
  manual_seed(5);
  nn::Linear model(3, 1);
  data::DataLoader loader(data::TensorDataset(randn({9, 3}), randn({9, 1})), {.batch_size = 4});
  const train::EvalResult r = train::evaluate(
      *model, train::forward_of(model),
      [](const Tensor& out, const Tensor& y) { return mse_loss(out, y); }, loader);
  EXPECT_TRUE(std::isfinite(r.loss));
  EXPECT_TRUE(std::isnan(r.accuracy));
}

TEST(TrainStep, RefusesANonScalarLoss) {
  manual_seed(6);
  nn::Linear model(3, 2);
  optim::SGD opt(model->parameters(), optim::SGDOptions(0.1));
  const data::Example<> batch{randn({4, 3}), tensor({0, 1, 1, 0})};
  TT_EXPECT_THROW_WITH(train::train_step(
                           train::forward_of(model),
                           [](const Tensor& out, const Tensor& y) {
                             return cross_entropy(out, y, {}, Reduction::None);
                           },
                           opt, batch),
                       ValueError, "train_step", "single number", "[4]");
}

}  // namespace
}  // namespace tinytorch::test07
