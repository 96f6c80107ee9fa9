#include "studies/stats/rate_fit.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <map>
#include <sstream>
#include <vector>

#include <boost/math/distributions/students_t.hpp>

#include "estimators/common/input_error.hpp"
#include "estimators/common/random.hpp"
#include "studies/stats/interval_measurement.hpp"

namespace attnrate {
namespace {

struct Ols {
  double slope = 0.0, intercept = 0.0, sxx = 0.0, rss = 0.0;
};

// Two-pass (centred) OLS: slope = Sxy / Sxx with centred sums, which avoids the cancellation of
// the raw normal equations when x = log M is far from 0. RSS is summed from the residuals
// themselves (not Syy - slope * Sxy) so an exact line gives RSS exactly 0 when the arithmetic is
// exact. Caller guarantees n >= 1; sxx may come out 0 and is checked by the caller.
Ols ols(const std::vector<double>& x, const std::vector<double>& y) {
  const std::size_t n = x.size();
  double mx = 0.0, my = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    mx += x[i];
    my += y[i];
  }
  mx /= static_cast<double>(n);
  my /= static_cast<double>(n);
  double sxx = 0.0, sxy = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double dx = x[i] - mx;
    sxx += dx * dx;
    sxy += dx * (y[i] - my);
  }
  Ols r;
  r.sxx = sxx;
  if (!(sxx > 0.0)) return r;
  r.slope = sxy / sxx;
  r.intercept = my - r.slope * mx;
  double rss = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double e = y[i] - (r.intercept + r.slope * x[i]);
    rss += e * e;
  }
  r.rss = rss;
  return r;
}

// Type-7 quantile of an already sorted, non-empty vector (see quantile_type7 in the header).
double sorted_quantile_type7(const std::vector<double>& sorted, double p) {
  const std::size_t b = sorted.size();
  const double h = static_cast<double>(b - 1) * p;
  const auto lo = static_cast<std::size_t>(std::floor(h));
  if (lo + 1 >= b) return sorted[b - 1];
  return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[lo + 1] - sorted[lo]);
}

}  // namespace

bool slope_fittable(const std::vector<double>& x) {
  std::vector<double> xs = x;
  std::sort(xs.begin(), xs.end());
  return x.size() >= 3 && std::unique(xs.begin(), xs.end()) - xs.begin() >= 2;
}

double quantile_type7(std::vector<double> values, double p) {
  if (values.empty()) throw InputError("quantile_type7: need at least one value, got none");
  if (!(p >= 0.0 && p <= 1.0)) {
    std::ostringstream m;
    m << "quantile_type7: probability must lie in [0, 1], got " << p;
    throw InputError(m.str());
  }
  for (double v : values)
    if (std::isnan(v)) throw InputError("quantile_type7: values must not be NaN");
  std::sort(values.begin(), values.end());
  return sorted_quantile_type7(values, p);
}

SlopeFit fit_slope(const std::vector<double>& x, const std::vector<double>& y, double level, int resamples,
                   std::uint64_t bootstrap_seed) {
  if (x.size() != y.size()) {
    std::ostringstream m;
    m << "fit_slope: x and y must have the same length, got " << x.size() << " and " << y.size();
    throw InputError(m.str());
  }
  const std::size_t n = x.size();
  if (n < 3) {
    std::ostringstream m;
    m << "fit_slope: need at least 3 cells for a slope with a confidence interval, got " << n;
    throw InputError(m.str());
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (!std::isfinite(x[i]) || !std::isfinite(y[i])) {
      std::ostringstream m;
      m << "fit_slope: cell " << i << " has non-finite (x, y) = (" << x[i] << ", " << y[i]
        << "); exclude non-finite cells before fitting";
      throw InputError(m.str());
    }
  }
  if (!(level > 0.0 && level < 1.0)) {
    std::ostringstream m;
    m << "fit_slope: confidence level must lie in (0, 1), got " << level;
    throw InputError(m.str());
  }
  if (resamples < 1) {
    std::ostringstream m;
    m << "fit_slope: bootstrap resamples must be >= 1, got " << resamples;
    throw InputError(m.str());
  }

  // Group cells by exact x (cells of one size share the same computed x).
  std::map<double, std::vector<std::size_t>> groups;
  for (std::size_t i = 0; i < n; ++i) groups[x[i]].push_back(i);
  if (groups.size() < 2) {
    std::ostringstream m;
    m << "fit_slope: need at least 2 distinct x values (sizes), got " << groups.size() << " (x = " << x[0] << ")";
    throw InputError(m.str());
  }

  const Ols full = ols(x, y);
  if (!(full.sxx > 0.0) || !std::isfinite(full.sxx)) {
    std::ostringstream m;
    m << "fit_slope: x values are too close together (or too large) for a slope: centred sum of squares = "
      << full.sxx;
    throw InputError(m.str());
  }

  SlopeFit f;
  f.slope = full.slope;
  f.intercept = full.intercept;
  f.n = n;
  f.distinct_x = groups.size();
  f.level = level;
  const double dof = static_cast<double>(n - 2);
  f.residual_sd = std::sqrt(full.rss / dof);
  f.slope_se = std::sqrt(full.rss / dof / full.sxx);
  const double alpha = 1.0 - level;
  const double tq = boost::math::quantile(boost::math::complement(boost::math::students_t(dof), alpha / 2.0));
  f.ci_t_lo = f.slope - tq * f.slope_se;
  f.ci_t_hi = f.slope + tq * f.slope_se;

  // Seed bootstrap within sizes. Resampling cell i's y from its own x group keeps every x at its
  // position, so each resample has exactly the x vector of the data: the same multiset as drawing
  // "count(x) cells with replacement per x", and a bit-identical Sxx > 0 (checked above), so no
  // resample can be degenerate. Draw order: cells 0..n-1, one rng.below per cell, per resample.
  std::vector<const std::vector<std::size_t>*> group_of(n);
  for (const auto& [xv, idx] : groups)
    for (std::size_t i : idx) group_of[i] = &idx;
  Rng rng(bootstrap_seed);
  std::vector<double> yb(n), slopes(static_cast<std::size_t>(resamples));
  for (int b = 0; b < resamples; ++b) {
    for (std::size_t i = 0; i < n; ++i) {
      const auto& g = *group_of[i];
      yb[i] = y[g[rng.below(g.size())]];
    }
    const Ols r = ols(x, yb);
    slopes[static_cast<std::size_t>(b)] = r.slope;
  }
  std::sort(slopes.begin(), slopes.end());
  f.ci_boot_lo = sorted_quantile_type7(slopes, alpha / 2.0);
  f.ci_boot_hi = sorted_quantile_type7(slopes, 1.0 - alpha / 2.0);
  f.bootstrap_resamples = resamples;
  return f;
}

Measurement slope_measurement(const SlopeFit& f, std::string quantity, std::map<std::string, std::string> select) {
  Measurement m = interval_measurement(std::move(quantity), std::move(select),
                                       {f.slope, f.ci_t_lo, f.ci_t_hi, f.ci_boot_lo, f.ci_boot_hi});
  m.details = {{"intercept", f.intercept},       {"slope_se", f.slope_se},
               {"cells_used", f.n},              {"distinct_sizes", f.distinct_x},
               {"ci_level", f.level},            {"bootstrap_resamples", f.bootstrap_resamples}};
  return m;
}

}  // namespace attnrate
