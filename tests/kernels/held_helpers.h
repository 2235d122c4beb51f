// HeldHelpers: plays "the operating system has not scheduled the helper threads yet", for the tests
// of parallel_team / parallel_for and of the GEMM that runs on it.
//
//   {
//     HeldHelpers held;          // every helper of the pool is parked before it can join a team
//     gemm_fast(...);            // must finish on the calling thread alone, and be right
//   }                            // the helpers go on (and find the call's team closed)
//
// Deterministic: the constructor returns only once every helper thread of the pool is parked in
// the pool's before-join hook, so none can join a team while `held` lives.
#pragma once

#include <atomic>
#include <chrono>
#include <thread>

#include "tinytorch/core/parallel.h"

namespace tinytorch::testing {

class HeldHelpers {
 public:
  // `helpers`: at least this many helper threads exist (started by a team of helpers + 1).
  explicit HeldHelpers(int helpers = 2) {
    parallel_team(helpers + 1, [](int) {});  // start them, if the pool has fewer
    hold().store(true);
    parked().store(0);
    detail::set_before_join_hook_for_testing(&park);
    // Setting the hook woke every helper: wait until each one sits in it.
    while (parked().load() < detail::helper_threads()) {
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }
  ~HeldHelpers() {
    hold().store(false);
    while (parked().load() > 0) std::this_thread::yield();
    detail::set_before_join_hook_for_testing(nullptr);
  }
  HeldHelpers(const HeldHelpers&) = delete;
  HeldHelpers& operator=(const HeldHelpers&) = delete;

 private:
  static std::atomic<bool>& hold() {
    static std::atomic<bool> flag{false};
    return flag;
  }
  static std::atomic<int>& parked() {
    static std::atomic<int> count{0};
    return count;
  }
  static void park() {
    if (!hold().load()) return;
    ++parked();
    while (hold().load()) std::this_thread::sleep_for(std::chrono::microseconds(50));
    --parked();
  }
};

// Makes every helper wait a pseudo-random 0-300 us before each attempt to join a team, so that
// helpers arrive at every point of a call: before the caller starts, in the middle, after it ended.
class LateHelpers {
 public:
  LateHelpers() { detail::set_before_join_hook_for_testing(&delay); }
  ~LateHelpers() { detail::set_before_join_hook_for_testing(nullptr); }
  LateHelpers(const LateHelpers&) = delete;
  LateHelpers& operator=(const LateHelpers&) = delete;

 private:
  static void delay() {
    static std::atomic<uint32_t> state{12345};
    const uint32_t x = state.fetch_add(0x9e3779b9U) * 2654435761U;
    std::this_thread::sleep_for(std::chrono::microseconds(x % 300));
  }
};

}  // namespace tinytorch::testing
