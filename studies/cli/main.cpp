#include "studies/cli/cli.hpp"
#include "studies/sweep/distributed.hpp"

int main(int argc, char** argv) {
  attnrate::MpiSession mpi(argc, argv);  // no-op unless built with MPI and started by mpirun
  return mpi.finish(attnrate::run_cli(argc, argv));
}
