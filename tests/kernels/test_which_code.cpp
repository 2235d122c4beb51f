// The registry's "which code runs" answer (kernels/registry.h, src/kernels/which_code.cpp): for
// made-up registrations — nothing, everything, part of a family — and made-up reference-object
// choices, whose code each op family runs and what the report says. Pure: no registration of this
// process is needed, so it runs in the learner release too.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "tinytorch/kernels/gemm.h"
#include "tinytorch/kernels/registry.h"

namespace tinytorch::kernels {
namespace {

const OpFamilyCode& family(const WhichCode& code, const std::string& name) {
  for (const OpFamilyCode& f : code.families) {
    if (f.family == name) return f;
  }
  throw std::runtime_error("no op family named " + name);
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(WhichCode, NothingRegisteredRunsEveryFamilyOnItsModulesCode) {
  const WhichCode code = which_code_runs(FastKernels{}, Tier::kFast, true, "");
  ASSERT_EQ(code.families.size(), 10u);
  int entries = 0;
  for (const OpFamilyCode& f : code.families) {
    EXPECT_EQ(f.runs, CodeSource::kLearner) << f.family;
    EXPECT_EQ(f.registered, 0) << f.family;
    entries += f.entries;
  }
  EXPECT_EQ(entries, 32)
      << "31 kernel entries and the LSTM layer (+ the caching allocator = FastKernels' 33)";
  EXPECT_EQ(family(code, "convolution").module, "09");
  EXPECT_EQ(family(code, "attention").module, "12");
  const std::string report = which_code_report(code);
  EXPECT_TRUE(contains(report, "module 18's register_fast_kernels is not written yet")) << report;
  EXPECT_TRUE(contains(report, "convolution")) << report;
  EXPECT_TRUE(contains(report, "module 09, yours")) << report;
}

TEST(WhichCode, AFullyRegisteredFamilyRunsTheGivenKernels) {
  FastKernels k;
  k.sgemm = &gemm_fast;
  k.dgemm = &gemm_fast;
  k.caching_allocator = true;
  const WhichCode code = which_code_runs(k, Tier::kFast, false, "");
  const OpFamilyCode& gemm = family(code, "GEMM (matmul, Linear)");
  EXPECT_EQ(gemm.runs, CodeSource::kGivenFast);
  EXPECT_EQ(gemm.registered, 2);
  EXPECT_TRUE(gemm.missing.empty());
  EXPECT_EQ(family(code, "LayerNorm").runs, CodeSource::kLearner);
  const std::string report = which_code_report(code);
  EXPECT_TRUE(contains(report, "given fast kernels")) << report;
  EXPECT_TRUE(contains(report, "else module 01, yours")) << report;
  EXPECT_TRUE(contains(report, "fast kernels registered by module 18, yours")) << report;
}

TEST(WhichCode, APartlyRegisteredFamilyNamesTheMissingEntries) {
  FastKernels k;
  k.spatial.conv2d_forward = &conv2d_forward_fast;
  const WhichCode code = which_code_runs(k, Tier::kFast, false, "");
  const OpFamilyCode& conv = family(code, "convolution");
  EXPECT_EQ(conv.registered, 1);
  EXPECT_EQ(conv.entries, 3);
  EXPECT_EQ(conv.runs, CodeSource::kLearner) << "the backward still runs the learner's code";
  ASSERT_EQ(conv.missing.size(), 2u);
  EXPECT_EQ(conv.missing[0], "spatial.conv2d_backward_input");
  const std::string report = which_code_report(code);
  EXPECT_TRUE(contains(report, "given, 1 of 3")) << report;
  EXPECT_TRUE(contains(report, "not registered: spatial.conv2d_backward_input")) << report;
}

TEST(WhichCode, ModulesOnReferenceObjectsAreNamed) {
  const WhichCode code = which_code_runs(FastKernels{}, Tier::kFast, false, "09 18");
  EXPECT_EQ(family(code, "convolution").runs, CodeSource::kReferenceObjects);
  EXPECT_EQ(family(code, "max pooling").reference, CodeSource::kReferenceObjects);
  EXPECT_EQ(family(code, "GELU, sigmoid, tanh").runs, CodeSource::kLearner);
  EXPECT_EQ(code.registration, CodeSource::kReferenceObjects);
  const std::string report = which_code_report(code);
  EXPECT_TRUE(contains(report, "module 09, reference objects")) << report;
  EXPECT_TRUE(contains(report, "reference objects for module 09 18")) << report;
}

TEST(WhichCode, TheReferenceTierIsSaidOutLoud) {
  const WhichCode code = which_code_runs(FastKernels{}, Tier::kReference, false, "");
  const std::string report = which_code_report(code);
  EXPECT_TRUE(contains(report, "kernel tier: reference")) << report;
  EXPECT_TRUE(contains(report, "every op runs its module's code")) << report;
}

}  // namespace
}  // namespace tinytorch::kernels
