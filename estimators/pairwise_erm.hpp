#pragma once
// Joint fit of the pairwise-interaction model with A unknown (SPEC §2.1, "joint fit"):
// empirical risk minimisation over g(x, y) = phi(x^T A y) with phi in the clamped B-spline
// space of degree s with K equal pieces and A = U V^T of rank r (U, V in R^{d x r}).
//
// Training risk (the one minimised and reported), over M samples of N tokens:
//   L(c; U, V) = 1/(MN) sum_{m,i} (Y_mi - 1/(N-1) sum_{j != i} phi_c(u_mij))^2,
//   u_mij = X_mi^T U V^T X_mj.
//
// Variable projection. For fixed (U, V) the phi-step is the exact least squares of
// estimators/pairwise_lse (normal equations, Cholesky, reported min-norm fallback), so the outer
// problem is the reduced risk R(U, V) = min_c L(c; U, V). By the envelope (Kaufman) argument its
// gradient is the partial gradient of L at the optimal c:
//   dR/dA = -2/(MN) sum_{m,i} r_mi 1/(N-1) sum_{j != i} phi_hat'(u_mij) X_mi X_mj^T,
// r the residuals, and dR/dU = (dR/dA) V, dR/dV = (dR/dA)^T U (plus the interval terms below).
// Each evaluation of (R, grad R) is three streaming passes over the in-memory data in blocks of
// samples: (1) P = U^T X, Q = V^T X (two GEMMs per block; u_mij = P_i . Q_j costs r flops) and the
// range of u; (2) normal equations (dsyrk per block, or sparse outer products for large p);
// (3) residuals (the risk is summed from them, not from c^T G c - 2 c^T h + yy, which cancels)
// and the gradient, whose U- and V-parts are one d x 2r GEMM per block. In the hot loops the basis
// is a piecewise-polynomial table built by running de Boor's triangle in polynomial arithmetic
// (agrees with BSplineBasis to rounding; no divisions per interaction), and phi, phi' are two
// Horner schemes.
//
// Knot interval and the scale ambiguity. The knot interval is [a, b] = [min u, max u] over the
// training pairs at the current (U, V) (SPEC: "the knot interval follows the current range of
// u"), so no training interaction is ever clamped. Because uniform clamped knots on [a, b] are
// the affine image of those on [0, 1], phi(u) = f((u - a)/(b - a)), and R(cU, V) = R(U, V) for
// every c > 0 exactly: the scale of A carries no information. The gradient therefore includes the
// derivative through a and b (a = u at the arg-min pair, b at the arg-max pair):
//   d phi/da = -phi'(u) (b - u)/(b - a),  d phi/db = -phi'(u) (u - a)/(b - a),
// which makes <grad_A R, A> = 0 exactly (Euler), and R is piecewise smooth (its pieces change
// when the arg-min/arg-max pair changes). Gauge: every start and every re-balance puts (U, V) in
// the canonical form U = Q_u W S^{1/2}, V = Q_v Z S^{1/2} from the SVD of A = U V^T with
// ||A||_F = 1 / mean_t ||X_t||^2 (so |u| is of order 1 whatever the token scale); a re-balance
// happens when ||U||_F / ||V||_F or ||U||_F ||V||_F drifts by more than a factor 2 and resets
// the L-BFGS memory. If all interactions are (nearly) equal (b - a <= 1e-10 max(|a|, |b|)) the
// interval is widened about its centre and treated as fixed; reported as a degenerate range.
// Outputs Y are divided by their RMS inside the passes (no overflow for huge Y); reported risks,
// gradients and coefficients are in the units of Y.
//
// Outer optimiser: our own L-BFGS (memory 8) with a backtracking Armijo line search (safeguarded
// quadratic interpolation). Own code rather than NLopt because (i) trial points with a
// non-finite risk or a min-norm phi-step (when the current point had a regular one) must be
// rejected, counted and backtracked, which NLopt's L-BFGS cannot express, (ii) the gauge
// re-balancing resets the memory, (iii) no extra link dependency. Seeded restarts: restart k
// starts from U, V with iid N(0, 1) entries from Rng(derive_seed(seed, {k})) (restart 0 from
// init_U, init_V when given). Screening: every restart runs screen_iterations iterations, then the
// one with the lowest training risk (first on ties) continues up to max_iterations; with
// screen_iterations >= max_iterations each restart runs to its own stop and the best is kept.
// Stop rules: relative risk decrease (R_old - R_new)/R_old < rel_tol on an accepted step, the
// step cap, zero risk or gradient, or a line search without an acceptable point.
//
// Determinism: passes thread over a fixed number of contiguous chunks of blocks (a function of
// the problem size only), partial sums reduced in chunk order, BLAS pinned to one thread: the
// result is bit-identical for any thread count.
#include <armadillo>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "estimators/bspline.hpp"
#include "estimators/pairwise_lse.hpp"

namespace attnrate {

struct ErmOptions {
  int rank = 1;                     ///< r, 1 <= r <= d
  int pieces = 8;                   ///< K >= 1, equal pieces of the current u-range
  int degree = 3;                   ///< s in 1..BSplineBasis::max_degree (phi' is needed for the A-step)
  int restarts = 4;                 ///< seeded starts, >= 1
  int max_iterations = 200;         ///< step cap of the run that is continued (per restart without screening)
  int screen_iterations = 30;       ///< iterations every restart runs before the best one continues
  double rel_tol = 1e-8;            ///< stop when the relative risk decrease of an accepted step is below
  int lbfgs_memory = 8;             ///< stored (s, y) pairs
  int max_backtracks = 40;          ///< trial points per line search
  std::uint64_t seed = 1;           ///< restarts draw from Rng(derive_seed(seed, {restart}))
  std::size_t block_samples = 256;  ///< samples per streaming block (fixed: part of the result's definition)
  int threads = 0;                  ///< OpenMP threads; 0 = omp_get_max_threads()
  double rcond_floor = 1e-12;       ///< phi-step: below this reciprocal condition, min-norm solve (reported)
  arma::mat init_U, init_V;         ///< optional start of restart 0 (both d x r, or both empty)
};

/// One restart's run (screening phase plus continuation if it was the chosen one).
struct ErmRestartReport {
  int restart = 0;
  int iterations = 0;       ///< accepted steps
  double risk = 0.0;        ///< training risk at its end (+inf if its start had no finite risk)
  std::string stop_reason;  ///< "screened" when it stopped only because another restart was kept
};

struct ErmDiagnostics {
  int iterations = 0;           ///< accepted steps, summed over restarts
  int restarts = 0;             ///< restarts run
  int best_restart = 0;         ///< the restart whose fit is returned
  std::string stop_reason;      ///< why the returned run stopped
  int evaluations = 0;          ///< (risk, gradient) evaluations, three passes each
  int backtracks = 0;           ///< trial points refused for insufficient decrease (ordinary line search)
  int rejected_steps = 0;       ///< trial points refused as ill-conditioned (sum of the next two)
  int rejected_nonfinite = 0;   ///< ... because the risk or gradient was not finite
  int rejected_fallback = 0;    ///< ... because the phi-step needed the min-norm solve
  int line_search_failures = 0; ///< searches without an acceptable point (memory reset, then stop)
  int rebalances = 0;           ///< gauge re-normalisations of (U, V) (each resets the L-BFGS memory)
  /// ||(U, V)||_F ||(dR/dU, dR/dV)||_F / R at the returned point (0 if R = 0): scale-free, since
  /// the raw gradient scales like Y^2 / ||U|| and can overflow for extreme data.
  double relative_gradient = 0.0;
  bool degenerate_range = false;///< all training interactions (nearly) equal; interval widened
  LseSolution phi_step;         ///< the final phi-step (solver, rcond, fallback, rank)
  std::vector<ErmRestartReport> per_restart;
};

struct PairwiseErmFit {
  arma::mat A;             ///< d x d, A = U V^T
  arma::mat U, V;          ///< d x r, canonical gauge (see header comment)
  BSplineBasis basis;      ///< knots on the training range of u under A
  arma::vec coef;          ///< K + s spline coefficients, in units of Y
  double train_risk = 0.0; ///< 1/(MN) sum (Y - Yhat)^2, from the residuals
  ErmDiagnostics diagnostics;

  double phi_hat(double u) const noexcept { return basis.value(coef, u); }
  /// g_hat(x, y) = phi_hat(x^T A y) for tokens x, y of length d (the only identifiable object).
  double g_hat(const double* x, const double* y) const noexcept;
};

/// Fits (A, phi) to in-memory data: X is d x M*N (token i of sample m in column m*N+i), Y has M*N
/// outputs. Throws InputError on bad options or data (sizes, r, K, s, non-finite values).
PairwiseErmFit fit_pairwise_erm(const arma::mat& X, const arma::vec& Y, int N, const ErmOptions& options = {});

/// Same, materialising M samples of d-dimensional tokens from a streaming source once (the outer
/// iterations revisit the data hundreds of times).
PairwiseErmFit fit_pairwise_erm(const SampleBlockSource& source, std::size_t M, int N, int d,
                                const ErmOptions& options = {});

/// The reduced risk and its gradient at one (U, V) (what the outer optimiser sees); uses
/// options.pieces, degree, block_samples, threads and rcond_floor. `finite` is false when the
/// risk or gradient is not finite (then the other fields are unspecified).
struct ReducedRisk {
  bool finite = false;
  double risk = 0.0;       ///< R(U, V), units of Y^2
  arma::mat grad_U, grad_V;
  double a = 0.0, b = 0.0; ///< knot interval (training range of u)
  bool degenerate_range = false;
  arma::vec coef;
  LseSolution phi_step;
};
ReducedRisk reduced_risk(const arma::mat& X, const arma::vec& Y, int N, const arma::mat& U, const arma::mat& V,
                         const ErmOptions& options = {});

}  // namespace attnrate
