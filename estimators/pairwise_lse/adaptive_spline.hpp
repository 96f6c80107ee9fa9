#pragma once
// Least squares for the pairwise model with A known, the spline space chosen from the data
// (no smoothness b given): candidates S(s, K) = clamped uniform B-splines of degree s and K
// pieces on [a, b], p = K + s functions, for
//   s = 0..max_degree,   K in {K_min 2^j : j = 0, 1, ..., K_min 2^j <= K_max},
//   K_max = max(K_min, floor(M / (ln M)^2)) unless given, M the number of samples
// (K_max grows faster than every M^(1/(2b+1)), so the grid eventually holds the rate-optimal
// K of every b > 0, while the top of the grid, which costs most, stays far below M).
//
// One streamed pass per degree at the finest K (K_top, the largest grid value) per fold gives
// the fine normal equations (and a mixture over several degrees one more pass, for its training
// risk); every coarser K of the grid divides K_top, so its system is
// R^T G R, R^T h (knot insertion, estimators/knot_insertion.hpp). Folds are contiguous sample
// ranges F_f = [floor(f M / k), floor((f+1) M / k)), f = 0..k-1, n_f = |F_f| N outputs, with
// normalised systems (G_f, h_f, yy_f). The full system is sum_f n_f (G_f, h_f, yy_f) / n
// (summed in fold order: bit-identical for any thread count).
//
// Rules (all computed for every candidate; `rule` chooses which one selects):
//  * cv (and cv-refit, which is cv with A known): c_{-f} solves the system of the other folds,
//        sum_{g != f} n_g (G_g, h_g) / sum n_g;
//        its validation risk on fold f is V_f = c^T G_f c - 2 c^T h_f + yy_f (the mean squared
//        error on F_f's outputs, exactly, from the fold statistics); CV = sum_f n_f V_f / n.
//  * penalty: with c the full-data fit and R_emp = c^T G c - 2 c^T h + yy its training risk,
//        PEN = R_emp + c_pen sigma2_hat df ln(n) / n,  df = the solve's degrees of freedom (the
//        rank of the observed functions' system, p when it has full rank; tr(G (G + ridge I)^+)
//        with --ridge): functions without data, or collinear ones, add no parameter;
//        sigma2_hat = min over the candidates of n R_emp / (n - df), the residual variance with
//        degrees of freedom corrected: each is sigma^2 plus its squared bias in expectation, so
//        the smallest is the least biased (its spread is of relative order sqrt(2 / n), and its
//        downward bias from the minimum with it). An exact fit gives 0.
//        c_pen = 1 is BIC with a plug-in variance (RSS / sigma^2 + df ln n, divided by n): it is
//        consistent when phi lies in a candidate space, and its ln n makes the selected K of a
//        b-smooth phi ~ (n / ln n)^(1/(2b+1)), the rate up to the log factor of the paper's schedule.
//  * mixture (the default): Mallows' C_p with the same plug-in variance,
//        CP = R_emp + 2 sigma2_hat df / n   (an unbiased estimate of the risk at the design's outputs),
//        and the returned phi_hat is the exponential-weights mixture of every candidate, all
//        degrees (Leung and Barron, "Information theory and mixing least-squares regressions",
//        IEEE Trans. Inf. Theory 52(8), 2006):
//          w_i = exp(-n (CP_i - CP_min) / (4 sigma2_hat)) / sum,   phi_hat = sum_i w_i phi_i;
//        the candidate of smallest CP is reported as the selection. The temperature 4 sigma^2 is
//        the smallest for which their oracle inequality holds (with leading constant 1: the
//        mixture's risk is at most the best candidate's plus 4 sigma^2 ln(#candidates) / n; for
//        projection estimators, i.e. without --ridge).
//        Within one degree the candidates are nested (every K divides the largest K with a
//        weight), so degree s's part is one spline of degree s on that K, its coefficients
//        sum_i w_i R_i c_i (knot insertion); phi_hat is the sum of these splines, one term per
//        degree with a weight (estimators/spline_sum.hpp). Weights below 2^-53 of the largest are
//        dropped before normalising (terms below the rounding of the sum); with sigma2_hat <=
//        1e-10 yy (an exact fit: the C_p differences are rounding) phi_hat is the selected
//        candidate. The mixture is flagged when a candidate with weight >= 1% had a min-norm
//        full-data solve (fold solves do not enter it). Why a mixture: the candidates next to the
//        best one differ from it by less than the noise of any risk estimate (also across
//        degrees: a degree-1 space on 8 pieces and a cubic one on 4 can have C_p within that
//        noise and errors five times apart), so a selection rule
//        picks one of them at random and pays its whole error; the mixture pays a weighted average.
//
// Selection: best = the smallest finite criterion; candidates within
// tol = max(1e-9 |best|, 1e-10 yy) of it are ties (below 1e-10 yy a risk is rounding: the
// risk formula cancels yy), and among ties the candidate first in (p, degree) order wins.
// A candidate whose full or any fold solve fell back to the minimum-norm solution is allowed
// but flagged.
#include <armadillo>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "estimators/bspline.hpp"
#include "estimators/pairwise_lse/pairwise_lse.hpp"
#include "estimators/spline_sum.hpp"

namespace attnrate {

/// cv_refit is cv that also refits A in each fold where A is fitted (the joint fit,
/// estimators/pairwise_erm/adaptive_erm.hpp); with A known it is cv. mixture: phi_hat is the
/// exponential-weights mixture of every candidate, weights from C_p (file comment).
enum class SelectionRule { cv, penalty, cv_refit, mixture };

/// Throws InputError unless "mixture", "cv", "cv-refit" or "penalty".
SelectionRule parse_selection_rule(std::string_view s);
std::string to_string(SelectionRule r);

struct AdaptiveSplineOptions {
  SelectionRule rule = SelectionRule::mixture;
  int max_degree = 3;    ///< degrees 0..max_degree (<= BSplineBasis::max_degree)
  int min_pieces = 1;    ///< K_min >= 1
  int max_pieces = 0;    ///< K_max; 0 = max(K_min, floor(M / (ln M)^2))
  int folds = 5;         ///< k >= 2, at most M
  double penalty = 1.0;  ///< c_pen > 0
  LseOptions lse;        ///< ridge (same for every candidate), block size, threads
  /// false: the caller uses the selection only (a pilot, a subsample), so the mixture is not
  /// formed, nor its training risk's pass over the samples; fit.estimate is the selected candidate.
  bool form_estimate = true;
};

/// floor(M / (ln M)^2), at least 1.
int adaptive_max_pieces(std::size_t M);

/// The first sample of cross-validation fold f of k over M samples, floor(f M / k) (f = k: M).
inline std::size_t fold_first_sample(int f, std::size_t M, int k) {
  return static_cast<std::size_t>(f) * M / static_cast<std::size_t>(k);
}

/// The pieces grid K_min 2^j <= K_max (just K_min when K_min >= K_max), increasing.
std::vector<int> adaptive_pieces_grid(int min_pieces, int max_pieces);

struct SplineCandidate {
  int degree = 0, pieces = 0, p = 0;
  double dof = 0.0;         ///< the full-data solve's degrees of freedom (LseSolution::dof; p when full rank)
  double train_risk = 0.0;  ///< R_emp of the full-data fit
  double cv_risk = 0.0;     ///< CV
  std::vector<double> fold_risk;  ///< V_f, f = 0..k-1 (CV = sum_f n_f V_f / n)
  double penalised = 0.0;   ///< PEN
  double cp = 0.0;          ///< CP
  /// The selecting rule's value: cv_risk, penalised or cp (the joint fit's cv-refit sets its own).
  double criterion = 0.0;
  double weight = 0.0;      ///< its weight in phi_hat: the mixture's w_i, else 1 for the selected one
  bool flagged = false;     ///< some solve (full or fold) used the min-norm fallback
  std::string solver;       ///< the full-data solve's solver
  arma::vec coef;           ///< full-data coefficients
};

/// A candidate with at least this weight whose full-data solve was min-norm flags the mixture.
inline constexpr double kMixtureFlagWeight = 0.01;

/// The returned phi_hat on [a, b]: the selected candidate, or the mixture.
struct SplineEstimate {
  SplineSum phi;            ///< phi_hat: one spline (a selected space), or one per degree (the mixture)
  double train_risk = 0.0;  ///< R_emp of phi_hat
  bool flagged = false;     ///< the selected candidate is flagged, or (mixture) see kMixtureFlagWeight
};

struct AdaptiveSplineFit {
  double a = 0.0, b = 1.0;
  SelectionRule rule = SelectionRule::mixture;
  std::vector<SplineCandidate> candidates;  ///< in (p, degree) order
  std::size_t selected = 0;
  SplineEstimate estimate;  ///< phi_hat
  double sigma2_hat = 0.0;  ///< NaN when every candidate has df >= n
  std::size_t outputs = 0;  ///< n = M N
  double yy = 0.0;          ///< 1/n sum Y^2
  std::size_t clamped = 0, interactions = 0;

  BSplineBasis basis(std::size_t i) const { return {a, b, candidates[i].pieces, candidates[i].degree}; }
  /// The candidate's spline at u (clamped to [a, b]).
  double value(std::size_t i, double u) const;
  /// phi_hat(u) (clamped to [a, b]).
  double phi_hat(double u) const { return estimate.phi.value(u); }
};

/// Fits every candidate, selects one and forms phi_hat. Throws InputError on bad options (folds < 2
/// or > M, degrees, pieces, c_pen) and, for the penalty and mixture rules, when sigma2_hat is
/// undefined.
AdaptiveSplineFit fit_adaptive_spline(double a, double b, const arma::mat& A, int N, int d, std::size_t M,
                                      const SampleBlockSource& source, const AdaptiveSplineOptions& options);

/// The selection rule on given criteria (candidates in (p, degree) order): the first within
/// max(1e-9 |best|, floor) of the smallest finite value; candidates.size() when none is finite.
std::size_t select_candidate(const std::vector<double>& criteria, double floor);

/// The exponential weights of the mixture rule (file comment) for candidates' C_p values: zero
/// where `use` is false or the value is not finite; weights below 2^-53 of the largest are zero;
/// the rest sum to 1. With sigma2_hat = 0, all weight on the first smallest used value.
std::vector<double> mixture_weights(const std::vector<double>& cp, const std::vector<bool>& use, double sigma2_hat,
                                    double n);

/// Makes candidate i alone phi_hat: fit.estimate is its spline, its weight 1, every other 0
/// (what the selection rules return; the joint fit's cv-refit after its own selection).
void use_candidate_as_estimate(AdaptiveSplineFit& fit, std::size_t i);

}  // namespace attnrate
