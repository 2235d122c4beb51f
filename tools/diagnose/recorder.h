// tools/diagnose/recorder.h — what a diagnosis program runs in: the op observer that turns every
// recorded op and backward node into trace events, and the Context a program makes its inputs,
// named values and backward passes with.
//
//   Program softmax: x = ctx.input("x", {4, 7}, -3, 3)          value "x"           [4, 7]
//                    y = softmax(x, -1)                           forward SoftmaxBackward0
//                    ctx.backward(ctx.project(y))                 forward MulBackward0,
//                    SumBackward0,
//                                                                 backward SumBackward0, ...,
//                                                                 value "grad x"
//
// Every value a program makes comes from a generator seeded by the program's name and drawn in
// this file, never from the framework's random functions (which may be the code under test), so
// the two builds start every program from the same bits.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "tinytorch/autograd/op_observer.h"
#include "tinytorch/kernels/registry.h"
#include "tinytorch/nn/module.h"
#include "trace.h"

namespace tinytorch::diagnose {

// A tensor as the trace keeps it: its values read straight from memory through its strides (the
// framework's own copy and contiguous() may be the code under test).
TensorRecord record_tensor(const Tensor& t, const std::string& name = "");

class TraceRecorder final : public autograd::OpObserver {
 public:
  explicit TraceRecorder(TraceWriter& writer) : writer_(writer) {}

  void begin_program(const std::string& name, const std::string& where);
  // `files`: the code that computed it, comma-separated ("" for the ops traced before it).
  void value(const std::string& name, const Tensor& t, const std::string& files = "");
  void error(const std::string& message);
  // `t` is shown under `name` wherever it is an op's input, and its AccumulateGrad as
  // "leaf <name>"; a name with a dot ("0.weight") is a parameter of the layer before the dot.
  void name_tensor(const Tensor& t, const std::string& name);
  // The layers' types by path ("0" → "Linear"), for "layer 0 (Linear)".
  void set_layers(std::map<std::string, std::string> layers);

  void forward_op(const char* node_name, const std::vector<Tensor>& inputs,
                  const Tensor& output) override;
  void backward_begin(const autograd::Node& node, const autograd::variable_list& grads) override;
  void backward_end(const autograd::Node& node, const autograd::variable_list& result) override;

 private:
  std::string layer_of(const std::vector<Tensor>& inputs);
  // Whether t's values are in the trace already (a named value, an earlier op's output).
  bool recorded(const Tensor& t) const;
  // t as an op's (a node's) input: its values, or only its shape when they are recorded already.
  TensorRecord input_record(const Tensor& t) const;
  void remember_output(const Tensor& t);

  std::mutex mu_;
  TraceWriter& writer_;
  // Named tensors by their TensorImpl; `kept_` holds them so that no address is reused.
  std::unordered_map<const TensorImpl*, std::string> names_;
  std::vector<Tensor> kept_;
  // The outputs of the ops and backward nodes recorded in this program: an op (a node) given one
  // of them is given values the trace holds already, so only its shape is written. Held weakly
  // (holding them would change when the program frees memory, and the engine's and AccumulateGrad's
  // choices depend on who else holds a gradient); an entry whose tensor is gone no longer counts.
  std::unordered_map<const TensorImpl*, std::weak_ptr<TensorImpl>> outputs_;
  std::map<std::string, std::string> layers_;
  std::string last_layer_;  // the last layer whose parameters an op used
  // The forward op and layer of each node recorded in this program, by sequence number.
  std::unordered_map<uint64_t, std::pair<std::string, std::string>> nodes_;
  std::vector<Event> running_;  // backward nodes begun and not ended (CopySlices nests)
};

// What a program is given: seeded inputs, named values, a backward pass that records gradients.
class Context {
 public:
  Context(TraceRecorder& recorder, const std::string& program);

  // A float32 leaf of values uniform in [lo, hi) (requires grad unless told otherwise), recorded
  // as the value `name`.
  Tensor input(const std::string& name, std::vector<int64_t> sizes, double lo = -1.0,
               double hi = 1.0, bool requires_grad = true);
  // int64 values uniform in [0, high), recorded.
  Tensor indices(const std::string& name, std::vector<int64_t> sizes, int64_t high);
  // A float32 constant (no gradient), not recorded: weights of a projection, fixed gradients.
  Tensor constant(std::vector<int64_t> sizes, double lo = -1.0, double hi = 1.0);
  // Σ outputs[k] · c_k with fresh constants c_k: a scalar whose gradient reaches each output with
  // values that differ per element (a plain sum would send ones, which some backward formulas
  // map to zero — softmax's does).
  Tensor project(const std::vector<Tensor>& outputs);
  // loss.backward(), then the gradient of every leaf made by input() as the value "grad <name>".
  void backward(const Tensor& loss);
  void value(const std::string& name, const Tensor& t, const std::string& files = "") {
    recorder_.value(name, t, files);
  }
  void value(const std::string& name, double v, const std::string& files = "");
  // Numbers that are no tensor (token ids, sample indices, counts, statistics) as a 1-D int64 or
  // float64 value, so that the first that differs is named with its index.
  void value(const std::string& name, const std::vector<int64_t>& v, const std::string& files = "");
  void value(const std::string& name, const std::vector<double>& v, const std::string& files = "");
  // Names a model's parameters (for layer names in the trace) and gives each fixed values drawn
  // here: weights uniform in ±1/√fan_in, 1-D weights 1 ± 0.1, biases ±0.1.
  void set_parameters(const nn::Module& model);
  TraceRecorder& recorder() { return recorder_; }

 private:
  double uniform(double lo, double hi);

  TraceRecorder& recorder_;
  uint64_t state_;  // splitmix64
  std::vector<std::pair<std::string, Tensor>> leaves_;
};

// One seeded program: runs on `tier` and records what it does.
struct Program {
  std::string name;   // unique: "softmax", "1986 forward and backward (fast tier)"
  std::string owner;  // its module ("02") or milestone ("1986")
  kernels::Tier tier = kernels::Tier::kReference;
  std::function<void(Context&)> run;
};

// Runs the programs in order, each inside its own try (an error becomes an error event and the
// next program runs), with `recorder` installed as the op observer.
void run_programs(const std::vector<Program>& programs, TraceRecorder& recorder);

}  // namespace tinytorch::diagnose
