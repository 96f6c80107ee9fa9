#pragma once
// Per-x summary of the cells of a sweep (several seeds per grid point), for the median markers
// and interquartile bars of the plots.
#include <cstddef>
#include <string>
#include <vector>

namespace attnrate {

/// Quartiles of the y values that share one x (exactly equal doubles, as grid points are;
/// callers reject NaN first, as it has no place in the ordering).
struct CellSummary {
  double x = 0.0;
  double q1 = 0.0;      ///< 25% quantile
  double median = 0.0;  ///< 50% quantile
  double q3 = 0.0;      ///< 75% quantile
  std::size_t count = 0;
};

/// (Same definition as studies/rate_fit.hpp quantile_type7; plots/ is standalone, so its own copy.)
/// Quantile p in [0, 1] of `values` by linear interpolation between order statistics
/// (Hyndman & Fan type 7, the R/NumPy default): sorted v, h = (n-1) p,
/// Q = v[floor h] + (h - floor h)(v[floor h + 1] - v[floor h]). Throws std::invalid_argument
/// when `values` is empty or p is outside [0, 1].
double cell_quantile(std::vector<double> values, double p);

/// One summary per distinct x, sorted by increasing x. Throws std::invalid_argument when x and
/// y differ in length.
std::vector<CellSummary> summarise_cells(const std::vector<double>& x, const std::vector<double>& y);

/// Checks cells for log-log axes: x and y non-empty, of equal length, every value finite and
/// > 0. Throws std::invalid_argument naming `what`, the offending cell and its values.
void require_loglog_cells(const std::string& what, const std::vector<double>& x,
                          const std::vector<double>& y);

}  // namespace attnrate
