// end_blas_worker_pool and pin_blas_to_one_thread (estimators/common/blas.hpp): once the pool is
// ended, pinning and level-3 calls run on the calling thread and start no thread.
#include <armadillo>
#include <catch2/catch.hpp>
#include <filesystem>

#include "estimators/common/blas.hpp"

extern "C" int openblas_get_num_threads(void);

namespace {

std::size_t process_threads() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/task")) ++n;
  return n;
}

}  // namespace

TEST_CASE("BLAS worker pool: ended at start, not restarted by pinning or by BLAS calls", "[blas]") {
  attnrate::end_blas_worker_pool();  // the test runner did it already; idempotent
  CHECK(openblas_get_num_threads() == 1);
  const std::size_t threads = process_threads();
  arma::mat A(300, 300, arma::fill::ones), B;
  for (int k = 0; k < 3; ++k) {
    attnrate::pin_blas_to_one_thread();
    B = A * A;  // dgemm
    arma::mat L;
    CHECK(arma::chol(L, A * A.t() + arma::eye(300, 300)));  // LAPACK on top of level-3 BLAS
  }
  CHECK(B(0, 0) == 300.0);
  CHECK(openblas_get_num_threads() == 1);
  // OpenBLAS's setter would restart the pool (one worker per extra core): none appeared.
  CHECK(process_threads() == threads);
}
