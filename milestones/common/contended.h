// milestones/common/contended.h — a budgeted run on a machine that is not idle, on purpose.
//
//   milestone_2017 --contended     a CPU-bound process spins for the first third of the budget
//
// A learner's laptop is never idle; a milestone's budget must hold anyway (common/budget.h plans
// the run again as the pace changes). --contended makes that checkable: it starts a second
// program that keeps one core busy — as a compiler would — for the first third of the budget,
// then ends; the run reports its time and every move of its plan, so the check can be rerun.
//
// The load is a child process (fork), not a thread of this one: another program competes for the
// cores through the OS scheduler, as it does on a laptop, and shares nothing else with the run.
#pragma once

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <csignal>

#include <chrono>
#include <stdexcept>
#include <string>

namespace tinytorch::milestones {

class ContendedLoad {
 public:
  // Starts the load: a child process spinning for `seconds` (wall clock), then exiting.
  explicit ContendedLoad(double seconds) : seconds_(seconds) {
    if (seconds <= 0.0) return;
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("--contended: could not start the load process (fork)");
    if (pid_ == 0) {  // the child: spin, touching no state of the parent
      const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
      volatile unsigned long long sink = 0;
      while (std::chrono::steady_clock::now() < end) {
        for (int i = 0; i < 100000; ++i) sink = sink + static_cast<unsigned long long>(i);
      }
      _exit(0);
    }
  }
  // Stops the load if it is still running (a run that ended early), and reaps it.
  ~ContendedLoad() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  ContendedLoad(const ContendedLoad&) = delete;
  ContendedLoad& operator=(const ContendedLoad&) = delete;

  double seconds() const { return pid_ > 0 ? seconds_ : 0.0; }

 private:
  double seconds_;
  pid_t pid_ = -1;
};

}  // namespace tinytorch::milestones
