#include "estimators/pairwise_erm/adaptive_erm.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "estimators/common/input_error.hpp"

namespace attnrate {

namespace {

// Selection at a fitted A = U V^T on its training interactions with `trim` cut at each end; when
// that range is (nearly) a point, on the ERM's own interval (widened there). form_estimate: false
// where only the selected candidate is used (the pilot, cv-refit's folds).
AdaptiveSplineFit select_at(const arma::mat& X, const arma::vec& Y, int N, const PairwiseErmFit& erm,
                            const AdaptiveErmOptions& o, bool form_estimate) {
  const std::size_t M = X.n_cols / static_cast<std::size_t>(N);
  auto [a, b] = trimmed_interaction_range(X, N, erm.U, erm.V, o.trim);
  if (!(b - a > 1e-10 * std::max(std::abs(a), std::abs(b)))) {
    a = erm.basis.a();
    b = erm.basis.b();
  }
  AdaptiveSplineOptions select = o.select;
  select.form_estimate = form_estimate;
  return fit_adaptive_spline(a, b, erm.A, N, static_cast<int>(X.n_rows), M, in_memory_source(X, Y, N), select);
}

// cv-refit (header): A_{-f} from the ERM on the other folds, the selection's fold-f risk at it.
void refit_per_fold(const arma::mat& X, const arma::vec& Y, int N, const AdaptiveErmOptions& o, ErmOptions erm,
                    AdaptiveErmFit& fit) {
  // The folds were checked by the selections before (fit_adaptive_spline).
  const std::size_t M = X.n_cols / static_cast<std::size_t>(N);
  const int k = o.select.folds;
  erm.init_U = fit.erm.U;
  erm.init_V = fit.erm.V;
  erm.coarse_pieces = 0;  // warm-started from A_2 in the final space
  const std::size_t n_cand = fit.selection.candidates.size();
  std::vector<double> cv(n_cand, 0.0);
  double n = 0.0;
  for (int f = 0; f < k; ++f) {
    const std::size_t c0 = fold_first_sample(f, M, k) * N, c1 = fold_first_sample(f + 1, M, k) * N;
    arma::mat Xo(X.n_rows, X.n_cols - (c1 - c0));
    arma::vec Yo(Xo.n_cols);
    if (c0 > 0) {
      Xo.head_cols(c0) = X.head_cols(c0);
      Yo.head(c0) = Y.head(c0);
    }
    if (c1 < X.n_cols) {
      Xo.tail_cols(X.n_cols - c1) = X.tail_cols(X.n_cols - c1);
      Yo.tail(X.n_cols - c1) = Y.tail(X.n_cols - c1);
    }
    const PairwiseErmFit erm_f = fit_pairwise_erm(Xo, Yo, N, erm);
    const AdaptiveSplineFit sel_f = select_at(X, Y, N, erm_f, o, false);  // same grid: it depends on M and options
    if (sel_f.candidates.size() != n_cand)
      throw std::logic_error("cv-refit: the fold selection has another candidate grid");
    const double w = static_cast<double>(c1 - c0);
    for (std::size_t i = 0; i < n_cand; ++i) {
      const SplineCandidate& c = sel_f.candidates[i];
      if (c.degree != fit.selection.candidates[i].degree || c.pieces != fit.selection.candidates[i].pieces)
        throw std::logic_error("cv-refit: the fold selection orders its candidates differently");
      cv[i] += w * c.fold_risk.at(static_cast<std::size_t>(f));
      fit.selection.candidates[i].flagged = fit.selection.candidates[i].flagged || c.flagged;
    }
    n += w;
    fit.fold_A.push_back(erm_f.A);
  }
  std::vector<double> crit(n_cand);
  for (std::size_t i = 0; i < n_cand; ++i) {
    cv[i] /= n;
    fit.selection.candidates[i].criterion = crit[i] = cv[i];
  }
  fit.refit_cv = cv;
  // The tie rule of adaptive_spline, with its rounding floor.
  fit.selection.selected = select_candidate(crit, 1e-10 * fit.selection.yy);
  if (fit.selection.selected == n_cand)
    throw InputError("adaptive joint fit, cv-refit: no candidate has a finite criterion (non-finite data?)");
  use_candidate_as_estimate(fit.selection, fit.selection.selected);
}

}  // namespace

AdaptiveErmFit fit_adaptive_erm(const arma::mat& X, const arma::vec& Y, int N, const AdaptiveErmOptions& o) {
  if (o.pilot_degree < 1 || o.pilot_degree > BSplineBasis::max_degree)
    throw InputError("the pilot degree of the adaptive joint fit must be in 1.." +
                     std::to_string(BSplineBasis::max_degree) + ", got " + std::to_string(o.pilot_degree));
  if (N < 2 || X.n_cols % static_cast<arma::uword>(N) != 0)
    throw InputError("adaptive joint fit: X must have M N columns with N >= 2");
  const std::size_t M = X.n_cols / static_cast<std::size_t>(N);
  const std::size_t n_int = M * static_cast<std::size_t>(N) * static_cast<std::size_t>(N - 1);
  if (2 * o.trim >= n_int)
    throw InputError("--refit-trim (interactions cut at each end of the selection's interval) must satisfy 2 trim < "
                     "M N (N-1) = " + std::to_string(n_int) + ", got " + std::to_string(o.trim) + "; use at most " +
                     std::to_string((n_int - 1) / 2));
  const int k0 = o.erm.coarse_pieces > 0 ? o.erm.coarse_pieces : 4;

  ErmOptions pilot = o.erm;
  pilot.pieces = k0;
  pilot.degree = o.pilot_degree;
  pilot.coarse_pieces = 0;
  pilot.refit_trim = 0;
  pilot.init_U.reset();
  pilot.init_V.reset();
  PairwiseErmFit pilot_fit = fit_pairwise_erm(X, Y, N, pilot);
  AdaptiveSplineFit pilot_selection = select_at(X, Y, N, pilot_fit, o, false);  // its selection only

  const SplineCandidate& s1 = pilot_selection.candidates[pilot_selection.selected];
  ErmOptions erm = o.erm;
  erm.pieces = s1.pieces;
  erm.degree = std::max(1, s1.degree);
  erm.coarse_pieces = k0 < s1.pieces ? k0 : 0;
  erm.restarts = 1;
  erm.refit_trim = 0;
  erm.init_U = pilot_fit.U;
  erm.init_V = pilot_fit.V;
  PairwiseErmFit erm_fit = fit_pairwise_erm(X, Y, N, erm);
  AdaptiveSplineFit selection = select_at(X, Y, N, erm_fit, o, true);
  const arma::mat A = erm_fit.A, U = erm_fit.U, V = erm_fit.V;
  AdaptiveErmFit fit{std::move(pilot_fit), std::move(pilot_selection), std::move(erm_fit), std::move(selection),
                     A, U, V, {}, {}};
  if (o.select.rule == SelectionRule::cv_refit) refit_per_fold(X, Y, N, o, erm, fit);
  return fit;
}

}  // namespace attnrate
