#pragma once
// Ridge regression on a dense feature matrix, shared by the random-feature models.
//
// For Phi (n x p) and y (n) the estimate minimises
//     (1/n) ||y - Phi w||^2 + lambda ||w||^2,
// i.e. w = (Phi^T Phi + n lambda I)^{-1} Phi^T y          (primal: a p x p system)
//        = Phi^T (Phi Phi^T + n lambda I)^{-1} y          (dual:   an n x n system).
// Both give the same w (push-through identity); the smaller system is chosen automatically.
// The Gram matrices are formed with one syrk (BLAS-3), factorised in place by Cholesky
// (LAPACK potrf) with a 1-norm reciprocal condition estimate (pocon). When the factorisation
// fails or is too ill-conditioned, or lambda = 0 in the dual, the solve falls back to a
// truncated spectral (minimum-norm) solution and says so (that rare path forms the Gram again).
// Phi is never copied; the dual form holds one n x n matrix, the primal one p x p. BLAS runs
// with whatever thread count the caller set.
//
// Lambda selection on a log grid:
//  - GCV (Golub, Heath, Wahba 1979). With the hat matrix H = Phi (Phi^T Phi + n lambda I)^{-1} Phi^T,
//        GCV(lambda) = (1/n) ||(I - H) y||^2 / (1 - tr(H)/n)^2.
//    One eigendecomposition of the smaller Gram matrix (n x n: Phi Phi^T = U diag(s) U^T, or
//    p x p: Phi^T Phi = V diag(s) V^T) gives every lambda in O(min(n, p)):
//        tr(H) = sum_j s_j/(s_j + n lambda),
//        ||(I - H) y||^2 = sum_j (n lambda/(s_j + n lambda))^2 c_j^2 + r_perp,
//    with c = U^T y (and r_perp = the part of y outside the used eigenvectors) in the n x n case;
//    c_j = (V^T Phi^T y)_j / sqrt(s_j) and r_perp = ||y - Phi w_ls||^2 (least squares residual,
//    computed directly, not by cancellation) in the p x p case. Eigenvalues below
//    size * eps * s_max are treated as exact zeros (their H-eigenvalue s/(s + n lambda) as 0),
//    and 1 - tr(H)/n is summed as (1/n) sum_j n lambda/(s_j + n lambda) + (n - rank)/n to avoid
//    cancellation when tr(H) is close to n.
//  - k-fold cross-validation: folds from a seeded permutation (Rng), score = mean squared
//    prediction error over all held-out points; each training fold is fitted with its own
//    size: (1/n_train) ||y_tr - Phi_tr w||^2 + lambda ||w||^2. One eigendecomposition per fold.
// Ties in a score pick the first (smallest) lambda of the grid. A choice at an end of the grid
// extends the grid past that end, up to 4 decades (estimators/ridge/lambda_search.hpp); a choice
// still at an end is flagged (LambdaSelection::at_edge).
#include <armadillo>
#include <cstddef>
#include <cstdint>
#include <string>

#include "estimators/ridge/lambda_search.hpp"

namespace attnrate {

enum class RidgeForm { automatic, primal, dual };
const char* to_string(RidgeForm form) noexcept;

struct RidgeOptions {
  RidgeForm form = RidgeForm::automatic;  ///< automatic: primal when p <= n, else dual
  double rcond_floor = 1e-14;             ///< Cholesky accepted only when rcond >= this
};

struct RidgeSolution {
  arma::vec w;                          ///< p coefficients
  double lambda = 0.0;                  ///< the lambda used
  RidgeForm form = RidgeForm::primal;   ///< system actually solved (primal or dual)
  std::string solver;                   ///< "cholesky", "spectral" or "min-norm (rank r of m)"
  bool fallback = false;                ///< true when the Cholesky path was abandoned for min-norm
  double rcond = 0.0;                   ///< reciprocal condition estimate of the system matrix
                                        ///< (Cholesky: LAPACK 1-norm estimate; spectral: 2-norm, exact)
  arma::uword rank = 0;                 ///< eigen-directions used (system size for Cholesky)
  double train_mse = 0.0;               ///< (1/n) ||y - Phi w||^2
};

/// Ridge estimate for a fixed lambda >= 0 (see the header comment). lambda = 0 gives least
/// squares (primal Cholesky when Phi has full column rank) or, in the dual or when singular,
/// the minimum-norm least-squares solution (fallback, reported). Throws InputError on shape
/// mismatch, empty input, non-finite entries or lambda < 0.
RidgeSolution ridge_solve(const arma::mat& Phi, const arma::vec& y, double lambda, const RidgeOptions& options = {});

/// `points` values log-uniform from lo to hi inclusive (0 < lo <= hi; points >= 1).
arma::vec log_lambda_grid(double lo = 1e-8, double hi = 10.0, std::size_t points = 28);

enum class LambdaRule { fixed, gcv, kfold };
const char* to_string(LambdaRule rule) noexcept;

struct LambdaSelection {
  LambdaRule rule = LambdaRule::fixed;
  arma::vec grid;       ///< candidate lambdas
  arma::vec scores;     ///< GCV score, or k-fold mean held-out squared error, per grid point
  arma::uword best = 0; ///< index of the chosen lambda (first minimum)
  double lambda = 0.0;  ///< grid[best]
  bool at_edge = false; ///< the choice is an end of the grid even after extending it (see lambda_search.hpp)
};

/// The selection record of `rule` from a grid minimum.
LambdaSelection lambda_selection(LambdaRule rule, GridMinimum m);

/// GCV scores on `grid` (all > 0) by the eigendecomposition shortcut; `form` picks the Gram
/// matrix (automatic: the smaller one). Any form gives the same scores.
LambdaSelection select_lambda_gcv(const arma::mat& Phi, const arma::vec& y, const arma::vec& grid,
                                  RidgeForm form = RidgeForm::automatic);

/// Fold of each of n points: a uniformly random permutation from Rng(seed), position t goes to
/// fold t mod k (so fold sizes differ by at most one). 2 <= k <= n.
arma::uvec kfold_assignment(std::size_t n, int k, std::uint64_t seed);

/// k-fold cross-validation scores on `grid` (all > 0) with kfold_assignment(n, k, seed).
LambdaSelection select_lambda_kfold(const arma::mat& Phi, const arma::vec& y, const arma::vec& grid, int k = 5,
                                    std::uint64_t seed = 0, RidgeForm form = RidgeForm::automatic);

struct RidgeFitOptions {
  LambdaRule rule = LambdaRule::fixed;
  double lambda = 1e-3;          ///< used when rule == fixed
  arma::vec grid;                ///< candidates for gcv / kfold; empty = log_lambda_grid()
  int folds = 5;                 ///< k for kfold
  std::uint64_t fold_seed = 0;   ///< seed of the fold permutation
  RidgeOptions solve;            ///< form and rcond floor of the final solve
};

/// The penalties gcv / kfold score before any extension: options.grid, or log_lambda_grid()
/// when it is empty.
arma::vec searched_lambda_grid(const RidgeFitOptions& options);

struct RidgeFit {
  RidgeSolution solution;
  LambdaSelection selection;  ///< for rule == fixed: grid = {lambda}, scores empty
};

/// Chooses lambda (fixed / GCV / k-fold, on the training data only) and solves. With GCV the
/// final solution reuses the GCV eigendecomposition (solver "spectral"); otherwise ridge_solve.
RidgeFit ridge_fit(const arma::mat& Phi, const arma::vec& y, const RidgeFitOptions& options = {});

}  // namespace attnrate
