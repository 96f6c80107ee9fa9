#include "plots/cell_summary.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>

namespace attnrate {

double cell_quantile(std::vector<double> values, double p) {
  if (values.empty()) throw std::invalid_argument("cell_quantile: no values");
  if (!(p >= 0.0 && p <= 1.0))
    throw std::invalid_argument("cell_quantile: p = " + std::to_string(p) + " is outside [0, 1]");
  std::sort(values.begin(), values.end());
  const double h = static_cast<double>(values.size() - 1) * p;
  const auto lo = static_cast<std::size_t>(std::floor(h));
  if (lo + 1 >= values.size()) return values.back();
  return values[lo] + (h - static_cast<double>(lo)) * (values[lo + 1] - values[lo]);
}

std::vector<CellSummary> summarise_cells(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() != y.size())
    throw std::invalid_argument("summarise_cells: " + std::to_string(x.size()) + " x values but " +
                                std::to_string(y.size()) + " y values");
  std::map<double, std::vector<double>> groups;  // ordered by x
  for (std::size_t i = 0; i < x.size(); ++i) groups[x[i]].push_back(y[i]);
  std::vector<CellSummary> out;
  out.reserve(groups.size());
  for (const auto& [gx, ys] : groups) {
    out.push_back({gx, cell_quantile(ys, 0.25), cell_quantile(ys, 0.5), cell_quantile(ys, 0.75),
                   ys.size()});
  }
  return out;
}

void require_loglog_cells(const std::string& what, const std::vector<double>& x,
                          const std::vector<double>& y) {
  if (x.empty() && y.empty()) throw std::invalid_argument(what + ": no cells (x and y are empty)");
  if (x.size() != y.size())
    throw std::invalid_argument(what + ": " + std::to_string(x.size()) + " x values but " +
                                std::to_string(y.size()) + " y values; they must pair up");
  for (std::size_t k = 0; k < x.size(); ++k) {
    // Zero, negative, NaN or infinite values have no place on log-log axes.
    if (!(std::isfinite(x[k]) && x[k] > 0.0) || !(std::isfinite(y[k]) && y[k] > 0.0)) {
      std::ostringstream msg;
      msg << what << ": cell " << k << " has (x, y) = (" << x[k] << ", " << y[k]
          << "); both must be finite and > 0 on log-log axes";
      throw std::invalid_argument(msg.str());
    }
  }
}

}  // namespace attnrate
