#pragma once
// Joint fit of the pairwise-interaction model with A unknown:
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
// range of u; (2) normal equations (a Gram matrix per block, or sparse outer products for large p);
// (3) residuals (the risk is summed from them, not from c^T G c - 2 c^T h + yy, which cancels)
// and the gradient, whose U- and V-parts are one d x 2r GEMM per block. In the hot loops the basis
// is a piecewise-polynomial table built by running de Boor's triangle in polynomial arithmetic
// (agrees with BSplineBasis to rounding; no divisions per interaction), and phi, phi' are two
// Horner schemes.
//
// Knot interval and the scale ambiguity. The knot interval is [a, b] = [min u, max u] over the
// training pairs at the current (U, V), so no training interaction is ever clamped. Because uniform clamped knots on [a, b] are
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
// Start of restart 0 (ErmOptions::start, when init_U/init_V are not given). `moment` (default):
// the moment estimate of A (moment_init_A below). Its expectation is E[phi(x^T A y) x y^T] for an
// independent token pair: Sigma A Sigma for a linear phi; for centred Gaussian tokens and any
// phi, Stein's identity (in x given y, and in y given x) puts its column space in that of
// Sigma A and its row space in that of A^T Sigma (for r = 1 it is c Sigma A Sigma). Random starts
// miss that basin increasingly often as d grows. The moment carries no information when the
// Stein weight vanishes (e.g. an even phi with symmetric tokens): then it is a noise matrix and
// the random restarts must do the work.
// If the estimate is zero or not finite, restart 0 falls back to its random start (reported).
//
// Trimmed refit (ErmOptions::refit_trim = t > 0). With [min u, max u] the outer spline pieces
// carry a handful of interactions and their coefficients fit noise; the composed error can be
// dominated by them. After the ERM the phi-step is therefore redone at the returned (U, V) on the
// knot interval [u_(t), u_(n-1-t)] (order statistics of the n = M N (N-1) training interactions,
// 0-based: the t smallest and t largest are cut; interactions outside are clamped to the ends,
// as phi_hat does). A fixed count, not a fixed quantile, lets the clamped region shrink with M
// (no bias floor). The returned basis, coef, train_risk and diagnostics.phi_step are the refit's;
// diagnostics.train_risk_untrimmed is the ERM's own training risk on [min u, max u].
//
// Continuation in K (ErmOptions::coarse_pieces = K0 > 0, K0 < K). With many pieces the phi-step
// fits whatever u = x^T A y it is given, noise and fine structure included, so the reduced risk
// R(U, V) is rugged: with a rough phi (weierstrass:2: cosines of rising frequency) a random or
// moment start often ends in a local minimum whose risk is clearly above that of the true A.
// With few pieces phi_hat can follow only the coarse shape of phi, R is smoother and the basin of
// the true A wider (graduated non-convexity). So every restart (and the screening) runs with K0
// pieces; the chosen run then continues with 2 K0, 4 K0, ... and finally K pieces, each stage
// warm-started at the previous one's (U, V) with the L-BFGS memory cleared and its own step cap
// max_iterations. Measured on weierstrass:2, N = 8, d = 30, r = 1, sigma = 0.5, M = 2000 and
// 8000 (4 seeds each): from the moment start alone 5 of the 8 fits ended 10-12% above the
// training risk of a fit started at the true A; with K0 = 4, 7 of 8 ended within 0.1% of it, and
// with 8 restarts at K0 so did all four at M = 2000 (tests/test_erm_continuation.cpp). At K0 the
// restarts are cheap and useful; at K = K_M they were not (docs/estimators.md, section 3).
// The continuation has a cost of its own: at K0 the best A for a coarse phi_hat is not the true
// A, and the finer stages can settle in a nearby local minimum. Measured on weierstrass:2, d = 5,
// N = 8, r = 1, sigma = 2, M = 500..8000 (80 fits, base seeds 1-4): one fit ended 1.8e-3 above
// the training risk of a fit started at the true A with K = K_M; a fit started at the true A
// with the continuation ended at the same point (within 1e-4), and continuing the lowest restart
// of further coarse basins did not help; all other fits ended within 1e-3 of (or below) the
// true-A start.
//
// Restarts on a subsample (ErmOptions::restart_samples = R, 0 < R < M). The restarts only have to
// find the basin of the best local minimum; that basin is a property of the population risk, which
// R samples resolve once R is in the thousands (at K0 pieces a handful of coefficients are fitted
// to R N (N-1) interactions). So the restarts' first stage runs on the first R samples (the
// samples are i.i.d., so these are a random subsample; the moment start of restart 0 is still
// estimated from all M), the lowest of them is chosen, and it then runs its first stage again on
// all M samples (warm start, L-BFGS memory cleared) before the continuation. Data whose order
// carries information (sorted samples) must be shuffled first, or run with R = 0. The restarts were about 80% of a fit's work at M = 8000 (d = 5, N = 8, 8 restarts
// with K0 = 4): with R = 2000 their share falls by M / R. The per-restart risks and the basins
// (restart_basins.hpp) are those of the subsample. With R >= M, R = 0 or a single restart (no
// choice to make) every stage uses all M.
//
// Outer optimiser: our own L-BFGS (memory 8) with a backtracking Armijo line search (safeguarded
// quadratic interpolation). Own code rather than NLopt because (i) trial points with a
// non-finite risk or a min-norm phi-step (when the current point had a regular one) must be
// rejected, counted and backtracked, which NLopt's L-BFGS cannot express, (ii) the gauge
// re-balancing resets the memory, (iii) no extra link dependency. Seeded restarts: restart k
// starts from U, V with iid N(0, 1) entries from Rng(derive_seed(seed, {k})), except restart 0:
// from init_U, init_V when given, else from the moment estimate (start = moment, the default).
// Screening: every restart runs screen_iterations iterations, then the one with the lowest
// training risk (first on ties) continues up to max_iterations; with screen_iterations >=
// max_iterations each restart runs to its own stop and the best is kept. By default
// (screen_iterations = -1) the restarts run to their own stop when the continuation in K is on:
// the coarse stage is cheap, and a fixed screening budget compared unfinished runs, so that a
// restart still descending into the best basin could lose to one already settled in a worse
// local minimum. Without the continuation the default is 30 screening iterations (full runs of
// every restart at K = pieces are costly). The final risks of the restarts' first stage are
// reported (ErmRestartReport) and grouped into basins by restart_basins.hpp.
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
#include <utility>
#include <vector>

#include "estimators/bspline.hpp"
#include "estimators/pairwise_lse/pairwise_lse.hpp"

namespace attnrate {

/// How restart 0 starts when init_U/init_V are not given (restarts >= 1 are always random).
enum class ErmStart {
  random,  ///< iid N(0, 1) entries from Rng(derive_seed(seed, {0})), like the other restarts
  moment,  ///< the moment estimate of A (moment_init_A)
};

struct ErmOptions {
  int rank = 1;                     ///< r, 1 <= r <= d
  int pieces = 8;                   ///< K >= 1, equal pieces of the current u-range
  int degree = 3;                   ///< s in 1..BSplineBasis::max_degree (phi' is needed for the A-step)
  int restarts = 4;                 ///< seeded starts, >= 1
  int max_iterations = 200;         ///< step cap of the run that is continued (per restart without screening)
  /// Iterations every restart runs before the lowest one continues (screening); >= max_iterations:
  /// every restart runs to its own stop. -1 (automatic): to its own stop with the continuation in
  /// K (coarse_pieces), 30 without. See the header comment.
  int screen_iterations = -1;
  double rel_tol = 1e-8;            ///< stop when the relative risk decrease of an accepted step is below
  int lbfgs_memory = 8;             ///< stored (s, y) pairs
  int max_backtracks = 40;          ///< trial points per line search
  std::uint64_t seed = 1;           ///< restarts draw from Rng(derive_seed(seed, {restart}))
  std::size_t block_samples = 256;  ///< samples per streaming block (fixed: part of the result's definition)
  int threads = 0;                  ///< OpenMP threads; 0 = omp_get_max_threads()
  double rcond_floor = 1e-12;       ///< phi-step: below this reciprocal condition, min-norm solve (reported)
  arma::mat init_U, init_V;         ///< optional start of restart 0 (both d x r, or both empty); overrides `start`
  ErmStart start = ErmStart::moment;///< start of restart 0 when init_U/init_V are empty
  /// Training interactions cut at each end for the final phi-step (0 = none: the ERM's own
  /// [min u, max u] fit is returned). Must satisfy 2 refit_trim < M N (N-1).
  std::size_t refit_trim = 0;
  /// Continuation in K (0 = off): the restarts run with coarse_pieces pieces, then the chosen run
  /// is refined with 2, 4, ... times as many pieces (warm start) and finally with `pieces`.
  /// Values >= pieces switch it off. See the header comment.
  int coarse_pieces = 0;
  /// Samples the restarts' first stage runs on (0 = all M): with 0 < restart_samples < M and
  /// restarts > 1 the restarts run on the first restart_samples samples, and the chosen run then
  /// redoes its first stage on all M before the continuation. See the header comment.
  std::size_t restart_samples = 0;
  /// Use the AVX2 build of the per-block loops where the CPU has AVX2 (the same bits as the
  /// baseline build; false forces the baseline, for tests).
  bool allow_avx2 = true;
};

/// One stage of the continuation in K, for the run that is returned.
struct ErmStageReport {
  int pieces = 0;           ///< K of this stage
  int iterations = 0;       ///< accepted steps in this stage
  double risk = 0.0;        ///< training risk at its end, units of Y^2 (on [min u, max u])
  std::string stop_reason;  ///< why the stage ended
};

/// One restart's run (screening phase plus continuation if it was the chosen one).
struct ErmRestartReport {
  int restart = 0;
  std::string start;        ///< "init_U/init_V", "moment", "random" or "random (moment estimate ...)"
  int iterations = 0;       ///< accepted steps
  double risk = 0.0;        ///< training risk at its end (+inf if its start had no finite risk)
  std::string stop_reason;  ///< "screened" when it stopped only because another restart was kept
};

struct ErmDiagnostics {
  int iterations = 0;           ///< accepted steps, summed over restarts
  int restarts = 0;             ///< restarts run
  int best_restart = 0;         ///< the restart whose fit is returned
  std::size_t restart_samples = 0; ///< samples the restarts' first stage ran on (M unless subsampled)
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
  bool degenerate_range = false;///< the returned knot interval was (nearly) a point and was widened
  LseSolution phi_step;         ///< the final phi-step (the trimmed refit's when refit_trim > 0)
  std::size_t refit_trim = 0;   ///< interactions cut at each end for the final phi-step (0 = no refit)
  double train_risk_untrimmed = 0.0; ///< the ERM's training risk on [min u, max u] (= train_risk if no refit)
  std::size_t refit_clamped = 0;///< training interactions outside the refit's interval (>= 2 refit_trim minus ties)
  /// The ERM's own phi_hat (knots on [untrimmed_a, untrimmed_b] = [min u, max u], K + s
  /// coefficients in units of Y): equal to the returned basis and coef when refit_trim = 0.
  double untrimmed_a = 0.0, untrimmed_b = 0.0;
  arma::vec coef_untrimmed;
  std::vector<ErmRestartReport> per_restart;
  /// Stages of the returned run: one entry (K = pieces) without continuation, else
  /// coarse_pieces, 2 coarse_pieces, ..., pieces. per_restart reports the first stage.
  std::vector<ErmStageReport> stages;
};

struct PairwiseErmFit {
  arma::mat A;             ///< d x d, A = U V^T
  arma::mat U, V;          ///< d x r, canonical gauge (see header comment)
  BSplineBasis basis;      ///< knots on the training range of u under A (trimmed if refit_trim > 0)
  arma::vec coef;          ///< K + s spline coefficients, in units of Y
  double train_risk = 0.0; ///< 1/(MN) sum (Y - Yhat)^2 of the returned (A, phi_hat), from the residuals
  ErmDiagnostics diagnostics;

  double phi_hat(double u) const noexcept { return basis.value(coef, u); }
  /// g_hat(x, y) = phi_hat(x^T A y) for tokens x, y of length d (the only identifiable object).
  double g_hat(const double* x, const double* y) const noexcept;
};

/// Fits (A, phi) to in-memory data: X is d x M*N (token i of sample m in column m*N+i), Y has M*N
/// outputs. Throws InputError on bad options or data (sizes, r, K, s, non-finite values).
PairwiseErmFit fit_pairwise_erm(const arma::mat& X, const arma::vec& Y, int N, const ErmOptions& options = {});

/// The samples the restarts' first stage runs on for M samples: options.restart_samples when
/// restarts > 1 and 0 < restart_samples < M, else M (what diagnostics.restart_samples reports).
std::size_t restart_sample_count(const ErmOptions& options, std::size_t M) noexcept;

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

/// Moment estimate of A up to scale: the rank-r truncated SVD of
///   C = 1/(M N) sum_{m, i} Y_mi X_mi (sum_{j != i} X_mj)^T,
/// returned as (U, V) = (W_r S_r^{1/2}, Z_r S_r^{1/2}) with C = W S Z^T (so U V^T = C_r, the best
/// rank-r approximation in Frobenius norm). For centred tokens with covariance Sigma and
/// phi(u) = u, E C = Sigma A Sigma exactly (terms with two different partners vanish), so the span
/// of U (V) is that of Sigma A (A^T Sigma). X is d x (M N). Computed on X / max|X| and Y / max|Y|
/// and scaled back (intermediate overflow cannot occur; the result itself overflows only if C
/// does). Throws InputError for bad sizes, r outside 1..d or non-finite data.
std::pair<arma::mat, arma::mat> moment_init_A(const arma::mat& X, const arma::vec& Y, int N, int r);

/// [u_(lo), u_(hi)]: order statistics (0-based, of the sorted values) lo = floor(tail (n-1)) and
/// hi = ceil((1-tail)(n-1)) of the n = M N (N-1) training interactions u_mij = X_mi^T U V^T X_mj,
/// i != j. tail in [0, 0.5); tail = 0 gives [min u, max u]. A product tail (n-1) within 1e-9 of an
/// integer k is taken as k, so tail = k / (n-1) cuts exactly k interactions at each end whatever
/// the rounding of the division. Throws InputError for bad sizes or tail.
std::pair<double, double> training_interaction_range(const arma::mat& X, int N, const arma::mat& U,
                                                     const arma::mat& V, double tail);

/// [u_(trim), u_(n-1-trim)]: the training interaction range with exactly `trim` interactions cut at
/// each end (what ErmOptions::refit_trim uses). Streams over samples keeping the trim+1 extreme
/// values at each end (memory O(trim), not O(n)). Requires 2 trim < n, else InputError.
std::pair<double, double> trimmed_interaction_range(const arma::mat& X, int N, const arma::mat& U,
                                                    const arma::mat& V, std::size_t trim);

}  // namespace attnrate
