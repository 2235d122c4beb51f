// LeakSanitizer hooks for the programs that run on Open MPI: module 21's test programs (beside
// mpi_gtest_main.cpp) and, in the sanitized build, examples/dist_mnist. Without ASan nothing reads
// them.
//
// Open MPI's libraries allocate at load time and in MPI_Init what they never free (its FAQ says
// so of valgrind too), from their own code and from the components they dlopen. LeakSanitizer
// reads these two hooks at start-up: the full stack of every allocation (the default fast
// unwinder stops at the first frame without a frame pointer, i.e. inside MPI, leaving nothing to
// match), and the MPI libraries' leaks suppressed by name. Our own code's leaks are still
// reported. The components must stay loaded (OMPI_MCA_mca_base_component_disable_dlclose=1, set
// by mpi_gtest_main.cpp and by examples.dist_mnist's test) so that their frames still have names
// when the leaks are reported at exit.
extern "C" const char* __lsan_default_options() {  // NOLINT(bugprone-reserved-identifier)
  return "fast_unwind_on_malloc=0";
}
extern "C" const char* __lsan_default_suppressions() {  // NOLINT(bugprone-reserved-identifier)
  return "leak:libmpi.so\nleak:libopen-pal.so\nleak:libopen-rte.so\nleak:libpmix.so\n"
         "leak:libhwloc.so\nleak:libevent\nleak:mca_\n";
}
