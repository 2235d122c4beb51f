// tinytorch/distributed/mpi.h — the ProcessGroup of Open MPI (module 21). Part of the separate
// library tinytorch_distributed (built when CMake finds MPI): the core library never sees MPI.
//
//   mpirun -np 2 build/release/bin/milestone_1986_ddp        (+ --allow-run-as-root as root)
//
//   int main(int argc, char** argv) {
//     distributed::relaunch_under_mpirun(argc, argv, /*ranks=*/2);  // optional convenience
//     auto& pg = distributed::ProcessGroupMPI::world();   // MPI_Init on first use
//     std::cout << "rank " << pg.rank() << " of " << pg.size() << "\n";
//   }                                                     // MPI_Finalize at exit
//
// mpirun starts p copies of the program; MPI_Init connects them and tells each its rank. A
// program started without mpirun is a world of one rank: everything still works, with
// all-reduce and broadcast doing nothing.
#pragma once

#include <string>
#include <vector>

#include "tinytorch/distributed/process_group.h"

namespace tinytorch::distributed {

class ProcessGroupMPI final : public ProcessGroup {
 public:
  // MPI_COMM_WORLD: every rank mpirun started. Initializes MPI on the first call (MPI can be
  // initialized once per process, hence one world per process) and finalizes it at exit.
  static ProcessGroupMPI& world();

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void all_reduce(Tensor& tensor, ReduceOp op = ReduceOp::kSum) override;
  void broadcast(Tensor& tensor, int root) override;
  void barrier() override;
  void send_recv(const Tensor& send, int dst, Tensor& recv, int src) override;

  ProcessGroupMPI(const ProcessGroupMPI&) = delete;
  ProcessGroupMPI& operator=(const ProcessGroupMPI&) = delete;
  ~ProcessGroupMPI() override;

 private:
  ProcessGroupMPI();
  int rank_ = 0;
  int size_ = 1;
  bool finalize_ = false;  // we initialized MPI, so we finalize it
};

// True when this process was started by mpirun (Open MPI sets OMPI_COMM_WORLD_SIZE; other MPIs
// PMI_SIZE).
bool launched_by_mpirun();

// The command that starts `ranks` copies of a program on this machine: mpirun with the flags
// this project needs everywhere (cmake/TinyTorchMPI.cmake is the one place that sets them).
std::vector<std::string> mpirun_command(int ranks);

// For programs meant to run on several ranks (the lab, the DDP milestone, the benchmark): when
// this process was NOT started by mpirun and ranks > 1, replaces it (execvp) by
// mpirun_command(ranks) + argv, and does not return; otherwise returns at once. Throws
// tinytorch::Error when mpirun cannot be started.
void relaunch_under_mpirun(int argc, char** argv, int ranks);

}  // namespace tinytorch::distributed
