#include "estimators/pairwise_erm/restart_basins.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "estimators/common/input_error.hpp"

namespace attnrate {

RestartBasins restart_basins(const std::vector<ErmRestartReport>& reports, double rel_tol) {
  if (!(rel_tol >= 0.0) || !std::isfinite(rel_tol))
    throw InputError("restart basins: the relative tolerance must be finite and >= 0");
  RestartBasins b;
  b.restarts = static_cast<int>(reports.size());
  b.best_risk = std::numeric_limits<double>::infinity();
  std::vector<double> risks;
  for (const auto& r : reports)
    if (std::isfinite(r.risk)) risks.push_back(r.risk);
  b.finite = static_cast<int>(risks.size());
  if (risks.empty()) return b;
  std::sort(risks.begin(), risks.end());
  b.best_risk = risks.front();
  std::size_t k = 0;
  while (k < risks.size()) {
    const double level = risks[k];
    std::size_t end = k;
    while (end < risks.size() && risks[end] <= (1.0 + rel_tol) * level) ++end;
    if (b.levels == 0) b.in_best = static_cast<int>(end - k);
    ++b.levels;
    k = end;
  }
  return b;
}

}  // namespace attnrate
