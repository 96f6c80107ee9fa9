#include "estimators/pairwise_erm/adaptive_erm.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "estimators/common/input_error.hpp"

namespace attnrate {

namespace {

// Selection at a fitted A = U V^T on its training interactions with `trim` cut at each end; when
// that range is (nearly) a point, on the ERM's own interval (widened there).
AdaptiveSplineFit select_at(const arma::mat& X, const arma::vec& Y, int N, const PairwiseErmFit& erm,
                            const AdaptiveErmOptions& o) {
  const std::size_t M = X.n_cols / static_cast<std::size_t>(N);
  auto [a, b] = trimmed_interaction_range(X, N, erm.U, erm.V, o.trim);
  if (!(b - a > 1e-10 * std::max(std::abs(a), std::abs(b)))) {
    a = erm.basis.a();
    b = erm.basis.b();
  }
  return fit_adaptive_spline(a, b, erm.A, N, static_cast<int>(X.n_rows), M, in_memory_source(X, Y, N), o.select);
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
  AdaptiveSplineFit pilot_selection = select_at(X, Y, N, pilot_fit, o);

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
  AdaptiveSplineFit selection = select_at(X, Y, N, erm_fit, o);
  const arma::mat A = erm_fit.A, U = erm_fit.U, V = erm_fit.V;
  return {std::move(pilot_fit), std::move(pilot_selection), std::move(erm_fit), std::move(selection), A, U, V};
}

}  // namespace attnrate
