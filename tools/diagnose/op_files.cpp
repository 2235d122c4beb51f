// The table of op_files.h.
#include "op_files.h"

#include <array>

namespace tinytorch::diagnose {

namespace {

// The files, by the part of the framework they hold.
constexpr const char* kLoop = "tinytorch/src/kernels/strided_loop.cpp";  // every element-wise op
constexpr const char* kElementwise = "tinytorch/src/native/elementwise.cpp";
constexpr const char* kViews = "tinytorch/src/core/views.cpp";
constexpr const char* kReduce = "tinytorch/src/native/reduce.cpp";
constexpr const char* kLinalg = "tinytorch/src/native/linalg.cpp";
constexpr const char* kActivation = "tinytorch/src/native/activation.cpp";
constexpr const char* kLinear = "tinytorch/src/native/linear.cpp";
constexpr const char* kLoss = "tinytorch/src/native/loss.cpp";
constexpr const char* kDerivatives = "tinytorch/src/autograd/derivatives.cpp";
constexpr const char* kNode = "tinytorch/src/autograd/node.cpp";
constexpr const char* kConv = "tinytorch/src/native/conv.cpp";
constexpr const char* kPooling = "tinytorch/src/native/pooling.cpp";
constexpr const char* kBatchNorm = "tinytorch/src/native/batch_norm.cpp";
constexpr const char* kEmbedding = "tinytorch/src/native/embedding.cpp";
constexpr const char* kAttention = "tinytorch/src/native/attention.cpp";
constexpr const char* kNormalization = "tinytorch/src/native/normalization.cpp";
constexpr const char* kQuantize = "tinytorch/src/quantization/quantize.cpp";
constexpr const char* kKlDiv = "tinytorch/src/native/kl_div.cpp";
constexpr const char* kIndexing = "tinytorch/src/native/indexing.cpp";
constexpr const char* kSort = "tinytorch/src/native/sort.cpp";
constexpr const char* kCumulative = "tinytorch/src/native/cumulative.cpp";
constexpr const char* kTriangular = "tinytorch/src/native/triangular.cpp";
constexpr const char* kNorm = "tinytorch/src/native/norm.cpp";
constexpr const char* kRandom = "tinytorch/src/native/random.cpp";
constexpr const char* kPadding = "tinytorch/src/native/padding.cpp";
constexpr const char* kUpsample = "tinytorch/src/native/upsample.cpp";
constexpr const char* kJoin = "tinytorch/src/native/join.cpp";

struct Entry {
  std::string_view node;
  std::array<const char*, 2> forward;   // the native(s); nullptr = none
  std::array<const char*, 2> backward;  // besides derivatives.cpp: the backward kernel's file
};

// Element-wise ops: the native in elementwise.cpp runs on module 01's strided loop, and so does
// the formula (written with element-wise ops too).
constexpr Entry elementwise(std::string_view node) {
  return {node, {kElementwise, kLoop}, {kLoop, nullptr}};
}
// View ops: the view and its backward (which scatters into a buffer through the same view).
constexpr Entry view(std::string_view node) {
  return {node, {kViews, nullptr}, {kViews, nullptr}};
}

constexpr Entry kTable[] = {
    elementwise("AbsBackward0"),
    elementwise("AddBackward0"),
    elementwise("SubBackward0"),
    elementwise("MulBackward0"),
    elementwise("DivBackward0"),
    elementwise("NegBackward0"),
    elementwise("PowBackward1"),
    elementwise("ExpBackward0"),
    elementwise("LogBackward0"),
    elementwise("SqrtBackward0"),
    elementwise("SinBackward0"),
    elementwise("CosBackward0"),
    // The further element-wise ops (one table, native::unary_math, and the binary ones).
    elementwise("AcosBackward0"),
    elementwise("AsinBackward0"),
    elementwise("AtanBackward0"),
    elementwise("Atan2Backward0"),
    elementwise("CeilBackward0"),
    elementwise("CoshBackward0"),
    elementwise("ErfBackward0"),
    elementwise("Expm1Backward0"),
    elementwise("FloorBackward0"),
    elementwise("FmodBackward1"),
    elementwise("FracBackward0"),
    elementwise("Log10Backward0"),
    elementwise("Log2Backward0"),
    elementwise("NanToNumBackward0"),
    elementwise("ReciprocalBackward0"),
    elementwise("RemainderBackward1"),
    elementwise("RoundBackward0"),
    elementwise("RsqrtBackward0"),
    elementwise("SignBackward0"),
    elementwise("SinhBackward0"),
    elementwise("TanBackward0"),
    elementwise("TruncBackward0"),
    elementwise("Log1PBackward0"),
    elementwise("ClampBackward1"),
    elementwise("MaximumBackward0"),
    elementwise("MinimumBackward0"),
    elementwise("WhereBackward0"),
    elementwise("ToCopyBackward0"),
    elementwise("CloneBackward0"),
    elementwise("CopyBackwards"),
    elementwise("FillBackward0"),
    view("AliasBackward0"),
    view("AsStridedBackward0"),
    view("ExpandBackward0"),
    view("PermuteBackward0"),
    view("ReshapeAliasBackward0"),
    view("SelectBackward0"),
    view("SliceBackward0"),
    view("SqueezeBackward0"),
    view("SqueezeBackward1"),
    view("TransposeBackward0"),
    view("UnbindBackward0"),
    view("SplitBackward0"),
    view("SplitWithSizesBackward0"),
    {"CatBackward0", {kJoin, nullptr}, {kViews, nullptr}},
    view("UnsqueezeBackward0"),
    view("ViewBackward0"),
    {"SumBackward1", {kReduce, nullptr}, {kViews, nullptr}},
    {"MeanBackward1", {kReduce, nullptr}, {kViews, nullptr}},
    {"VarBackward0", {kReduce, nullptr}, {kLoop, nullptr}},
    {"MaxBackward0", {kReduce, nullptr}, {kLoop, nullptr}},
    {"MaxBackward1", {kReduce, nullptr}, {kLoop, nullptr}},
    {"MinBackward0", {kReduce, nullptr}, {kLoop, nullptr}},
    {"MinBackward1", {kReduce, nullptr}, {kLoop, nullptr}},
    {"MmBackward0", {kLinalg, nullptr}, {kLinalg, nullptr}},
    {"AddmmBackward0", {kLinear, kLinalg}, {kLinalg, nullptr}},
    {"ReluBackward0", {kActivation, nullptr}, {kActivation, nullptr}},
    {"LeakyReluBackward0", {kActivation, nullptr}, {kActivation, nullptr}},
    {"GeluBackward0", {kActivation, nullptr}, {kActivation, nullptr}},
    {"SigmoidBackward0", {kActivation, nullptr}, {kActivation, nullptr}},
    {"TanhBackward0", {kActivation, nullptr}, {kActivation, nullptr}},
    {"SiluBackward0", {kActivation, nullptr}, {kActivation, nullptr}},
    {"SoftmaxBackward0", {kActivation, nullptr}, {kActivation, nullptr}},
    {"LogSoftmaxBackward0", {kActivation, nullptr}, {kActivation, nullptr}},
    {"MseLossBackward0", {kLoss, nullptr}, {kLoss, nullptr}},
    {"L1LossBackward0", {kLoss, nullptr}, {kLoss, nullptr}},
    {"NllLossBackward0", {kLoss, nullptr}, {kLoss, nullptr}},
    {"BinaryCrossEntropyBackward0", {kLoss, nullptr}, {kLoss, nullptr}},
    {"BinaryCrossEntropyWithLogitsBackward0", {kLoss, nullptr}, {kLoss, nullptr}},
    {"ConvolutionBackward0", {kConv, nullptr}, {kConv, nullptr}},
    {"MaxPool2DWithIndicesBackward0", {kPooling, nullptr}, {kPooling, nullptr}},
    {"AvgPool2DBackward0", {kPooling, nullptr}, {kPooling, nullptr}},
    {"AdaptiveAvgPool2DBackward0", {kPooling, nullptr}, {kPooling, nullptr}},
    {"NativeBatchNormBackward0", {kBatchNorm, nullptr}, {kBatchNorm, nullptr}},
    {"NativeBatchNormReluBackward0", {kBatchNorm, nullptr}, {kBatchNorm, nullptr}},
    {"EmbeddingBackward0", {kEmbedding, nullptr}, {kEmbedding, nullptr}},
    {"ScaledDotProductAttentionBackward0", {kAttention, nullptr}, {kAttention, nullptr}},
    {"MaskedFillBackward0", {kAttention, nullptr}, {kAttention, nullptr}},
    {"NativeLayerNormBackward0", {kNormalization, nullptr}, {kNormalization, nullptr}},
    {"RmsNormBackward0", {kNormalization, nullptr}, {kNormalization, nullptr}},
    {"FakeQuantizePerTensorAffineCachemaskBackward0", {kQuantize, nullptr}, {kLoop, nullptr}},
    {"FakeQuantizePerChannelAffineCachemaskBackward0", {kQuantize, nullptr}, {kLoop, nullptr}},
    {"KlDivBackward0", {kKlDiv, nullptr}, {kKlDiv, nullptr}},
    {"SmoothL1LossBackward0", {kLoss, nullptr}, {kLoss, nullptr}},
    {"HuberLossBackward0", {kLoss, nullptr}, {kLoss, nullptr}},
    // Indexing: one gather/scatter native; the formulas are written with the indexing ops.
    {"IndexBackward0", {kIndexing, nullptr}, {kIndexing, nullptr}},
    {"IndexPutBackward0", {kIndexing, nullptr}, {kIndexing, nullptr}},
    {"GatherBackward0", {kIndexing, nullptr}, {kIndexing, nullptr}},
    {"ScatterBackward0", {kIndexing, nullptr}, {kIndexing, nullptr}},
    {"ScatterBackward1", {kIndexing, nullptr}, {kIndexing, nullptr}},
    {"ScatterAddBackward0", {kIndexing, nullptr}, {kIndexing, nullptr}},
    {"IndexSelectBackward0", {kIndexing, nullptr}, {kIndexing, nullptr}},
    {"IndexAddBackward0", {kIndexing, nullptr}, {kIndexing, nullptr}},
    {"MaskedSelectBackward0", {kIndexing, nullptr}, {kIndexing, nullptr}},
    {"SortBackward0", {kSort, nullptr}, {kSort, nullptr}},
    {"TopkBackward0", {kSort, nullptr}, {kSort, nullptr}},
    {"CumsumBackward0", {kCumulative, nullptr}, {kCumulative, nullptr}},
    {"CumprodBackward0", {kCumulative, nullptr}, {kCumulative, nullptr}},
    {"TrilBackward0", {kTriangular, nullptr}, {kTriangular, nullptr}},
    {"TriuBackward0", {kTriangular, nullptr}, {kTriangular, nullptr}},
    {"NormBackward1", {kNorm, nullptr}, {kLoop, nullptr}},
    {"UniformBackward0", {kRandom, nullptr}, {kLoop, nullptr}},
    {"NormalBackward0", {kRandom, nullptr}, {kLoop, nullptr}},
    {"BernoulliBackward0", {kRandom, nullptr}, {kLoop, nullptr}},
    {"PadBackward0", {kPadding, nullptr}, {kPadding, nullptr}},
    {"UpsampleNearest2DBackward0", {kUpsample, nullptr}, {kUpsample, nullptr}},
    {"UpsampleBilinear2DBackward0", {kUpsample, nullptr}, {kUpsample, nullptr}},
    // create_graph: the backward kernels recorded as ops, with their own double backward.
    {"ConvolutionBackwardBackward0", {kConv, nullptr}, {kConv, nullptr}},
    {"GeluBackwardBackward0", {kActivation, nullptr}, {kActivation, nullptr}},
    {"AvgPool2DBackwardBackward0", {kPooling, nullptr}, {kPooling, nullptr}},
    {"AdaptiveAvgPool2DBackwardBackward0", {kPooling, nullptr}, {kPooling, nullptr}},
    {"EmbeddingDenseBackwardBackward0", {kEmbedding, nullptr}, {kEmbedding, nullptr}},
    // The leaves' sink and the write through a view (autograd/node.cpp); no forward op.
    {"AccumulateGrad", {nullptr, nullptr}, {kNode, nullptr}},
    {"CopySlices", {nullptr, nullptr}, {kNode, nullptr}},
};

}  // namespace

std::vector<std::string> op_files(std::string_view node, bool backward) {
  for (const Entry& e : kTable) {
    if (e.node != node) continue;
    std::vector<std::string> out;
    if (backward && e.node != "AccumulateGrad" && e.node != "CopySlices") {
      out.emplace_back(kDerivatives);
    }
    for (const char* f : backward ? e.backward : e.forward) {
      if (f != nullptr) out.emplace_back(f);
    }
    return out;
  }
  return {};
}

std::vector<std::string> known_nodes() {
  std::vector<std::string> out;
  for (const Entry& e : kTable) out.emplace_back(e.node);
  return out;
}

}  // namespace tinytorch::diagnose
