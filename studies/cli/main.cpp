#include <csignal>

#include "estimators/common/blas.hpp"
#include "studies/cli/cli.hpp"
#include "studies/io/heap_policy.hpp"
#include "studies/sweep/distributed.hpp"

int main(int argc, char** argv) {
  attnrate::keep_freed_memory();  // before MPI and OpenMP start threads
  attnrate::end_blas_worker_pool();
  // Past a file size limit a write then fails (EFBIG) and the run ends with exit 3, its temporary
  // files removed, instead of being killed by SIGXFSZ midway.
  std::signal(SIGXFSZ, SIG_IGN);
  attnrate::MpiSession mpi(argc, argv);  // no-op unless built with MPI and started by mpirun
  return mpi.finish(attnrate::run_cli(argc, argv));
}
