#pragma once
// Basins of the restarts of one joint fit (estimators/pairwise_erm), from their reports.
//
// Restarts that end in the same local minimum of the reduced risk end at the same training risk
// (to the optimiser's stop rule), and different minima of a rough phi differ in risk by far
// more (0.5-1% at the studies' sizes). So the restarts are grouped by their final risk: with
// R* the lowest finite risk, a restart is in the *best basin* when its risk is at most
// (1 + rel_tol) R*; the others are grouped into *other basins* by the same rule applied in
// increasing order of risk (a level opens at the lowest remaining risk and takes every risk at
// most (1 + rel_tol) times it). Restarts with a non-finite risk are in none. The risks are those
// of the restarts' first stage (ErmRestartReport::risk), compared with each other only.
#include <vector>

#include "estimators/pairwise_erm/pairwise_erm.hpp"

namespace attnrate {

/// The default relative width of a basin (1e-3).
inline constexpr double kBasinRelTol = 1e-3;

struct RestartBasins {
  int restarts = 0;       ///< restarts reported
  int finite = 0;         ///< of which with a finite risk
  int in_best = 0;        ///< risk <= (1 + rel_tol) R*, R* the lowest finite risk (0 if none is finite)
  int levels = 0;         ///< distinct risk levels (best included) by the rule of the header comment
  double best_risk = 0.0; ///< R* (+inf if none is finite)
};

/// Groups the restarts of `reports` as in the header comment. rel_tol must be finite and >= 0
/// (else InputError).
RestartBasins restart_basins(const std::vector<ErmRestartReport>& reports, double rel_tol = kBasinRelTol);

}  // namespace attnrate
