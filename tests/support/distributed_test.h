// The fixture of module 21's tests: the world process group, and one verdict for all ranks.
//
//   class SamplerTest : public tinytorch::testing::DistributedTest {};
//   TEST_F(SamplerTest, ShardsAreDisjoint) { auto& pg = world(); ... }
//
// NOTE: every rank runs every test; between two collectives use EXPECT_*, not ASSERT_*: a rank
// that returns early leaves the others waiting in the next collective (the test then times out
// instead of failing).
#pragma once

#include <gtest/gtest.h>

#include "tinytorch/core/exception.h"
#include "tinytorch/distributed/mpi.h"

namespace tinytorch::testing {

class DistributedTest : public ::testing::Test {
 protected:
  static distributed::ProcessGroupMPI& world() { return distributed::ProcessGroupMPI::world(); }

  // Every rank learns whether the test failed on any rank; rank 0 (whose report counts) then
  // fails too, naming the ranks.
  void TearDown() override {
    try {
      distributed::agree_or_throw(world(), !HasFailure(), "the test failed");
    } catch (const Error& e) {
      if (!HasFailure()) ADD_FAILURE() << e.what() << " (the failing rank's messages are above)";
    }
  }
};

}  // namespace tinytorch::testing
