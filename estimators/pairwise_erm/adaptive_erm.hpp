#pragma once
// Joint fit of (A, phi) with the spline space selected from the data (no smoothness b given):
// the A-unknown counterpart of estimators/pairwise_lse/adaptive_spline.hpp.
//
// The ERM needs a space (degree s >= 1, K pieces) and the selection needs A, so the two alternate
// once, each step warm-started by the one before:
//  1. pilot ERM in a coarse space (pilot_degree, K0 = erm.coarse_pieces pieces, or 4 when the
//     continuation is off), erm.restarts restarts (restart 0 from the moment estimate of A):
//     with few pieces the reduced risk is smooth and the basin of the true A wide (the
//     continuation argument of pairwise_erm.hpp), and K0 needs no b;
//  2. selection at the pilot's A_1 (adaptive_spline: candidates S(s, K), s = 0..max_degree,
//     K on the dyadic grid, chosen by the rule's criterion: C_p, k-fold CV or the penalty) on the training interactions
//     under A_1 with `trim` cut at each end;
//  3. ERM in the selected space (degree max(s, 1): the A-step needs phi'), one run from A_1,
//     continued in K from K0 up to the selected K (warm starts; no restarts);
//  4. selection again at the ERM's A_2, on its trimmed interaction range: the returned fit is
//     g_hat(x, y) = phi_hat(x^T A_2 y) with phi_hat that selection's estimate (the mixture of
//     every candidate with the rule mixture, the selected candidate with the others).
// Steps 2 and 3 use the selected candidate (argmin of the criterion; C_p for mixture).
// With the rules mixture, cv and penalty the selection in steps 2 and 4 treats A as known: its folds do
// not refit A, so the criterion ignores the (parametric, order r d / M) variance of A_hat. The rule
// cv-refit cross-validates step 4 with A refitted in each fold: for fold f (the contiguous sample
// ranges of adaptive_spline.hpp), A_{-f} is the ERM of step 3 on the other folds (one run from
// A_2, in step 3's space), every candidate is fitted on the other folds' outputs at A_{-f} and
// scored on fold f's at A_{-f} (its interval that of A_{-f}, trimmed as in step 4), and
// CV_refit = sum_f n_f V_f / n selects among the candidates of step 4 (same order, same tie
// rule); the returned phi_hat is the selected candidate's fit at A_2 on all data. The cost is k
// more ERM runs and k more selections. Step 2 (the pilot's) stays cv. A_hat is identifiable only
// with phi_hat (g is), so errors are measured on g.
//
// Determinism: both estimators are bit-identical for any thread count, so this one is too.
#include <armadillo>
#include <cstddef>
#include <vector>

#include "estimators/pairwise_erm/pairwise_erm.hpp"
#include "estimators/pairwise_lse/adaptive_spline.hpp"

namespace attnrate {

struct AdaptiveErmOptions {
  /// The ERM's options: rank, restarts, seed, tolerances, threads and coarse_pieces (K0) are
  /// used; pieces, degree, init_U/init_V and refit_trim are set per step.
  ErmOptions erm;
  /// The selection's options (rule, grid, folds, penalty; lse.threads, lse.ridge).
  AdaptiveSplineOptions select;
  int pilot_degree = 3;   ///< degree of the pilot space, 1..BSplineBasis::max_degree
  std::size_t trim = 0;   ///< interactions cut at each end of the selection interval (2 trim < M N (N-1))
};

struct AdaptiveErmFit {
  PairwiseErmFit pilot;               ///< step 1
  AdaptiveSplineFit pilot_selection;  ///< step 2 (at the pilot's A)
  PairwiseErmFit erm;                 ///< step 3
  AdaptiveSplineFit selection;        ///< step 4: the returned phi_hat is its estimate
  arma::mat A, U, V;                  ///< the ERM's A = U V^T (canonical gauge)
  /// cv-refit only: CV_refit per candidate of `selection` (in its order), which then holds it as
  /// each candidate's criterion; and A_{-f} per fold. Empty otherwise.
  std::vector<double> refit_cv;
  std::vector<arma::mat> fold_A;

  const SplineCandidate& selected() const { return selection.candidates[selection.selected]; }
  double phi_hat(double u) const { return selection.phi_hat(u); }
};

/// Fits (A, phi) to in-memory data (X: d x M*N, Y: M*N outputs, as fit_pairwise_erm). Throws
/// InputError on bad options or data.
AdaptiveErmFit fit_adaptive_erm(const arma::mat& X, const arma::vec& Y, int N, const AdaptiveErmOptions& options);

}  // namespace attnrate
