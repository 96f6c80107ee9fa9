#include "estimators/common/blas.hpp"

extern "C" void openblas_set_num_threads(int num_threads);
extern "C" int openblas_get_num_threads(void);
extern "C" int blas_thread_shutdown_(void);

namespace attnrate {

void pin_blas_to_one_thread() noexcept {
  if (openblas_get_num_threads() != 1) openblas_set_num_threads(1);
}

void end_blas_worker_pool() noexcept {
  openblas_set_num_threads(1);  // first: every later call then runs on the calling thread
  blas_thread_shutdown_();      // joins the workers; only a setter call or a threaded call restarts them
}

void syrk_upper_add(const double* P, int p, int k, double alpha, double* C) noexcept {
  if (p == 0 || k == 0) return;
  const char uplo = 'U', trans = 'N';
  const double beta = 1.0;
  // Through Armadillo's BLAS declarations (with the Fortran hidden length arguments where the
  // compiler needs them), never a second, conflicting prototype of our own.
  const arma::blas_int n = p, kk = k;
  arma::blas::syrk<double>(&uplo, &trans, &n, &kk, &alpha, P, &n, &beta, C, &n);
}

void gemm(const double* A, int m, int k, const double* B, int n, double* C) noexcept {
  if (m == 0 || n == 0) return;
  const char no = 'N';
  const double one = 1.0, zero = 0.0;
  const arma::blas_int mm = m, nn = n, kk = k;
  arma::blas::gemm<double>(&no, &no, &mm, &nn, &kk, &one, A, &mm, B, &kk, &zero, C, &mm);
}

void symmetrise_from_upper(arma::mat& C) noexcept {
  const arma::uword n = C.n_rows;
  for (arma::uword j = 0; j < n; ++j)
    for (arma::uword i = j + 1; i < n; ++i) C(i, j) = C(j, i);
}

}  // namespace attnrate
