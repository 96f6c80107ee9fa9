#include "estimators/ridge/ridge_detail.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <utility>
#include <vector>

#include "estimators/common/input_error.hpp"

namespace attnrate::detail {

using arma::blas_int;

std::string format_value(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

void check_lambda(double lambda, const char* where) {
  if (!(lambda >= 0.0) || !std::isfinite(lambda))
    throw InputError(std::string(where) + ": lambda = " + format_value(lambda) +
                     " is not allowed; need a finite lambda >= 0");
}

void check_lambda_grid(const arma::vec& grid, const char* where) {
  if (grid.is_empty()) throw InputError(std::string(where) + ": the lambda grid is empty; give at least one value");
  for (double g : grid)
    if (!(g > 0.0) || !std::isfinite(g))
      throw InputError(std::string(where) + ": lambda grid value " + format_value(g) +
                       " is not allowed; grid values must be finite and > 0");
}

double one_norm_symmetric(const arma::mat& A) {
  double best = 0.0;
  for (arma::uword j = 0; j < A.n_cols; ++j) best = std::max(best, arma::accu(arma::abs(A.col(j))));
  return best;
}

bool cholesky_solve_inplace(arma::mat& A, arma::vec& b, double floor, double& rcond) {
  char uplo = 'U';
  blas_int n = static_cast<blas_int>(A.n_rows), info = 0, nrhs = 1;
  const double anorm = one_norm_symmetric(A);  // before potrf overwrites A
  rcond = 0.0;
  arma::lapack::potrf(&uplo, &n, A.memptr(), &n, &info);
  if (info != 0) return false;
  std::vector<double> work(3 * static_cast<std::size_t>(n));
  std::vector<blas_int> iwork(static_cast<std::size_t>(n));
  arma::lapack::pocon(&uplo, &n, A.memptr(), &n, &anorm, &rcond, work.data(), iwork.data(), &info);
  if (info != 0 || !(rcond >= floor)) return false;
  arma::lapack::potrs(&uplo, &n, &nrhs, A.memptr(), &n, b.memptr(), &n, &info);
  return info == 0;
}

void eig_sym_inplace(arma::mat& A, arma::vec& s) {
  char jobz = 'V', uplo = 'U';
  blas_int n = static_cast<blas_int>(A.n_rows), info = 0, lwork = -1, liwork = -1, iwq = 0;
  s.set_size(A.n_rows);
  double wq = 0.0;
  arma::lapack::syevd(&jobz, &uplo, &n, A.memptr(), &n, s.memptr(), &wq, &lwork, &iwq, &liwork, &info);
  lwork = static_cast<blas_int>(wq);
  liwork = iwq;
  std::vector<double> work(static_cast<std::size_t>(std::max<blas_int>(lwork, 1)));
  std::vector<blas_int> iwork(static_cast<std::size_t>(std::max<blas_int>(liwork, 1)));
  arma::lapack::syevd(&jobz, &uplo, &n, A.memptr(), &n, s.memptr(), work.data(), &lwork, iwork.data(), &liwork,
                      &info);
  if (info != 0) throw std::runtime_error("ridge: LAPACK dsyevd failed (info " + std::to_string(info) + ")");
}

std::string min_norm_solver_name(arma::uword rank, arma::uword m) {
  return "min-norm (rank " + std::to_string(rank) + " of " + std::to_string(m) + ")";
}

GramSpectrum gram_spectrum(arma::mat K, const arma::vec& rhs, std::size_t n, RidgeForm form) {
  GramSpectrum sp;
  sp.form = form;
  sp.n = static_cast<double>(n);
  sp.E = std::move(K);
  eig_sym_inplace(sp.E, sp.s);
  sp.s.transform([](double v) { return v > 0.0 ? v : 0.0; });
  const double tol =
      static_cast<double>(sp.s.n_elem) * std::numeric_limits<double>::epsilon() * (sp.s.n_elem ? sp.s.max() : 0.0);
  while (sp.first < sp.s.n_elem && !(sp.s[sp.first] > tol)) ++sp.first;
  sp.proj = sp.E.t() * rhs;
  return sp;
}

arma::vec range_least_squares(const GramSpectrum& sp) {
  const arma::uword m = sp.s.n_elem;
  if (sp.rank() == 0) return arma::vec(m, arma::fill::zeros);
  return sp.E.cols(sp.first, m - 1) * (sp.proj.subvec(sp.first, m - 1) / sp.s.subvec(sp.first, m - 1));
}

std::pair<double, double> gcv_parts(const GramSpectrum& sp, double r_perp, double lambda) {
  const double nl = sp.n * lambda;
  double res = r_perp, den = sp.n - static_cast<double>(sp.rank());  // null directions: H-eigenvalue 0
  for (arma::uword j = sp.first; j < sp.s.n_elem; ++j) {
    const double shrink = nl / (sp.s[j] + nl);  // 1 - H-eigenvalue
    res += shrink * shrink * sp.c2(j);
    den += shrink;
  }
  return {res, den};
}

double gcv_score(const GramSpectrum& sp, double r_perp, double lambda) {
  const auto [res, den_n] = gcv_parts(sp, r_perp, lambda);
  const double den = den_n / sp.n;
  return res / sp.n / (den * den);
}

LambdaSelection gcv_selection(const GramSpectrum& sp, double r_perp, const arma::vec& grid) {
  return lambda_selection(LambdaRule::gcv,
                          minimise_on_grid(grid, [&](double lambda) { return gcv_score(sp, r_perp, lambda); }));
}

LambdaSelection fixed_selection(double lambda) {
  LambdaSelection sel;
  sel.rule = LambdaRule::fixed;
  sel.grid = arma::vec{lambda};
  sel.lambda = lambda;
  return sel;
}

RidgeSolution spectral_solution(const GramSpectrum& sp, double lambda) {
  const double nl = sp.n * lambda;
  const arma::uword m = sp.s.n_elem, r = sp.rank();
  RidgeSolution sol;
  sol.lambda = lambda;
  sol.form = sp.form;
  sol.rank = r;
  sol.rcond = m ? (sp.s[0] + nl) / (sp.s[m - 1] + nl) : 0.0;
  if (!(sol.rcond >= 0.0)) sol.rcond = 0.0;  // 0/0 when Phi = 0 and lambda = 0
  sol.w.zeros(m);
  if (r == 0) return sol;
  sol.w = sp.E.cols(sp.first, m - 1) * (sp.proj.subvec(sp.first, m - 1) / (sp.s.subvec(sp.first, m - 1) + nl));
  return sol;
}

}  // namespace attnrate::detail
