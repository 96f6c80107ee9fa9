#include "estimators/blas.hpp"

extern "C" {
void openblas_set_num_threads(int num_threads);
void dgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k, const double* alpha,
            const double* a, const int* lda, const double* b, const int* ldb, const double* beta, double* c,
            const int* ldc);
void dsyrk_(const char* uplo, const char* trans, const int* n, const int* k, const double* alpha, const double* a,
            const int* lda, const double* beta, double* c, const int* ldc);
}

namespace attnrate {

void pin_blas_to_one_thread() noexcept { openblas_set_num_threads(1); }

void syrk_upper_add(const double* P, int p, int k, double alpha, double* C) noexcept {
  if (p == 0 || k == 0) return;
  const char uplo = 'U', trans = 'N';
  const double beta = 1.0;
  dsyrk_(&uplo, &trans, &p, &k, &alpha, P, &p, &beta, C, &p);
}

void gemm(const double* A, int m, int k, const double* B, int n, double* C) noexcept {
  if (m == 0 || n == 0) return;
  const char no = 'N';
  const double one = 1.0, zero = 0.0;
  dgemm_(&no, &no, &m, &n, &k, &one, A, &m, B, &k, &zero, C, &m);
}

void symmetrise_from_upper(arma::mat& C) noexcept {
  const arma::uword n = C.n_rows;
  for (arma::uword j = 0; j < n; ++j)
    for (arma::uword i = j + 1; i < n; ++i) C(i, j) = C(j, i);
}

}  // namespace attnrate
