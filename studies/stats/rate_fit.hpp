#pragma once
// Empirical rates: OLS slope of log(error) on log(size) with a Student-t and a seed-bootstrap
// confidence interval, and the slope as a measurement for claims (docs/statistics.md). Verdicts
// are theory/claims/judge.hpp's.
#include <cstdint>
#include <utility>
#include <string>
#include <vector>
#include <map>

#include "theory/claims/measurement.hpp"

namespace attnrate {

/// OLS fit of y = intercept + slope * x over all cells (natural logs supplied by the caller,
/// e.g. x = log M or x = log(M / log M), y = log error).
struct SlopeFit {
  double slope = 0.0;
  double intercept = 0.0;
  double slope_se = 0.0;       ///< classical OLS standard error of the slope
  double residual_sd = 0.0;    ///< sqrt(RSS / (n - 2))
  std::size_t n = 0;           ///< number of cells used
  std::size_t distinct_x = 0;  ///< number of distinct sizes
  double level = 0.95;         ///< confidence level of both intervals
  double ci_t_lo = 0.0, ci_t_hi = 0.0;        ///< slope +- t_{n-2, 1-(1-level)/2} * se (Boost.Math students_t)
  double ci_boot_lo = 0.0, ci_boot_hi = 0.0;  ///< percentile bootstrap over seeds, see fit_slope
  int bootstrap_resamples = 0;
};

/// Fits the slope and both intervals. The bootstrap resamples seeds within each size: for every
/// distinct x it draws, with replacement, as many cells as that x has, refits the OLS slope,
/// and takes the (1-level)/2 and 1-(1-level)/2 percentiles over `resamples` refits. The
/// bootstrap draws come from Rng(bootstrap_seed) only, so the result is reproducible.
/// Requires x.size() == y.size() >= 3, all finite, and at least two distinct x values;
/// throws std::invalid_argument otherwise (the caller excludes non-finite cells first).
/// Also requires 0 < level < 1 and resamples >= 1; the exception thrown is attnrate::InputError
/// (derived from std::invalid_argument). Implementation notes: OLS uses centred sums; slope_se =
/// sqrt(RSS / (n - 2) / Sxx). Each bootstrap resample replaces every cell's y by the y of a cell
/// drawn uniformly (rng.below) from the cells with the same x, in cell order, so the x vector and
/// its Sxx > 0 are those of the data; percentiles are quantile_type7. With one cell per x the
/// bootstrap has nothing to resample and its interval collapses to the OLS slope.
SlopeFit fit_slope(const std::vector<double>& x, const std::vector<double>& y, double level = 0.95,
                   int resamples = 2000, std::uint64_t bootstrap_seed = 0x5eed);

/// Whether fit_slope's refusal rules let it fit these abscissae: at least 3 points at 2 or more
/// distinct values.
bool slope_fittable(const std::vector<double>& x);

/// Sample quantile of `values` at probability p in [0, 1], Hyndman & Fan (1996) type 7 (R's
/// default): with s sorted ascending and h = (B - 1) p, Q = s[floor h] + (h - floor h)(s[floor h + 1] - s[floor h]).
/// This is the percentile definition of the bootstrap interval. Throws InputError on empty input,
/// a NaN value or p outside [0, 1].
double quantile_type7(std::vector<double> values, double p);

/// The slope as a measurement for claims: value = slope, the t and bootstrap intervals, and the
/// fit's intercept, standard error, cell count and resamples in details.
Measurement slope_measurement(const SlopeFit& fit, std::string quantity, std::map<std::string, std::string> select = {});

}  // namespace attnrate
