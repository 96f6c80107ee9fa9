#pragma once
// Internal helpers of the ridge solvers (estimators/ridge.cpp on a dense Phi,
// estimators/ridge_streaming.cpp on the normal equations): argument checks, the Cholesky solve
// with its condition estimate, the symmetric eigendecomposition, and the spectral (GCV and
// truncated minimum-norm) formulas of ridge.hpp written on one Gram matrix. Not part of the
// public API; both solvers must give bit-identical results through these, so any change here
// changes both.
//
// Notation as in ridge.hpp: n samples, ridge objective (1/n) ||y - Phi w||^2 + lambda ||w||^2,
// so the regularised system is (K + n lambda I) with K = Phi^T Phi (primal, p x p) or
// Phi Phi^T (dual, n x n).
#include <armadillo>
#include <cstddef>
#include <string>
#include <utility>

#include "estimators/ridge/ridge.hpp"

namespace attnrate::detail {

/// `v` as std::ostream prints it (6 significant digits), for error messages.
std::string format_value(double v);

/// Throws InputError (prefixed by `where`) unless lambda is finite and >= 0.
void check_lambda(double lambda, const char* where);

/// Throws InputError (prefixed by `where`) unless the grid is non-empty with all values finite and > 0.
void check_lambda_grid(const arma::vec& grid, const char* where);

/// max_j sum_i |A_ij|: the 1-norm (= infinity norm for symmetric A) that LAPACK pocon expects.
double one_norm_symmetric(const arma::mat& A);

/// Cholesky (potrf, upper) of the symmetric A, which is overwritten by its factor; reciprocal
/// 1-norm condition estimate (pocon) into rcond (0 when the factorisation fails); then b <- A^{-1} b
/// (potrs). Returns false, b untouched, when A is not numerically positive definite or
/// rcond < floor.
bool cholesky_solve_inplace(arma::mat& A, arma::vec& b, double floor, double& rcond);

/// Symmetric eigendecomposition by divide and conquer (LAPACK dsyevd, upper triangle, optimal
/// workspace): A is overwritten by the eigenvectors, s gets the eigenvalues in ascending order.
/// Throws std::runtime_error when LAPACK fails.
void eig_sym_inplace(arma::mat& A, arma::vec& s);

/// Solver name of a truncated spectral solution: "min-norm (rank r of m)".
std::string min_norm_solver_name(arma::uword rank, arma::uword m);

/// Eigendecomposition K = E diag(s) E^T of one Gram matrix with the right-hand side projected:
/// everything the GCV scores and the spectral solution need.
struct GramSpectrum {
  RidgeForm form = RidgeForm::primal;  ///< primal: K = Phi^T Phi; dual: K = Phi Phi^T
  double n = 0.0;                      ///< number of samples (the n of n lambda)
  arma::vec s;                         ///< eigenvalues, ascending, clamped at 0
  arma::mat E;                         ///< eigenvectors: V (p x p, primal) or U (n x n, dual)
  arma::vec proj;                      ///< E^T rhs: primal V^T Phi^T y, dual U^T y
  arma::uword first = 0;               ///< directions j >= first have s_j > size * eps * max s (numerical range)
  arma::uword rank() const { return s.n_elem - first; }
  /// (U^T y)_j^2 for a range direction j: proj_j^2 (dual) or proj_j^2 / s_j (primal).
  double c2(arma::uword j) const { return form == RidgeForm::dual ? proj[j] * proj[j] : proj[j] * proj[j] / s[j]; }
};

/// Spectrum of the Gram matrix K (consumed: it becomes E) of `form`, n samples, with
/// rhs = Phi^T y (primal) or y (dual) projected on the eigenvectors. Eigenvalues at or below
/// size * eps * max s are treated as exact zeros (outside the range).
GramSpectrum gram_spectrum(arma::mat K, const arma::vec& rhs, std::size_t n, RidgeForm form);

/// E_r diag(1/s_r) proj_r over the range: the minimum-norm least-squares w (primal; zero when the
/// rank is 0). Dual: the dual coefficients alpha with w_ls = Phi^T alpha.
arma::vec range_least_squares(const GramSpectrum& sp);

/// (||(I - H) y||^2, n (1 - tr(H)/n)) for one lambda, where r_perp = ||(I - U_r U_r^T) y||^2 is the
/// part of y outside the range; the denominator is summed as sum_range n lambda/(s_j + n lambda)
/// + (n - rank) to avoid cancellation (ridge.hpp).
std::pair<double, double> gcv_parts(const GramSpectrum& sp, double r_perp, double lambda);

/// GCV(lambda) = (1/n) ||(I - H) y||^2 / (1 - tr(H)/n)^2 from gcv_parts.
double gcv_score(const GramSpectrum& sp, double r_perp, double lambda);

/// GCV selection on `grid` (first minimum on ties), extended at an end by minimise_on_grid.
LambdaSelection gcv_selection(const GramSpectrum& sp, double r_perp, const arma::vec& grid);

/// The selection record of a fixed lambda: rule fixed, grid {lambda}, no scores.
LambdaSelection fixed_selection(double lambda);

/// Ridge solution on the numerical range, E_r diag(1/(s_r + n lambda)) proj_r (minimum norm for
/// lambda = 0), with lambda, form, rank and the exact 2-norm rcond (s_min + n lambda)/(s_max + n lambda)
/// filled in; solver, fallback and train_mse are left to the caller. w is the primal solution
/// (primal form) or the dual coefficients alpha, w = Phi^T alpha (dual form); zero when the rank is 0.
RidgeSolution spectral_solution(const GramSpectrum& sp, double lambda);

}  // namespace attnrate::detail
