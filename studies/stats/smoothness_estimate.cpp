#include "studies/stats/smoothness_estimate.hpp"

#include <algorithm>

#include "studies/stats/interval_measurement.hpp"
#include "theory/pairwise/schedule.hpp"

namespace attnrate {

double b_from_pieces_slope(double s) { return s > 0 ? smoothness_from_pieces_slope(s) : 100.0; }

double b_from_error_slope(double s) { return s >= 0 ? 0.0 : s <= -1 ? 100.0 : -s / (2.0 * (1.0 + s)); }

Measurement b_hat_measurement(const SlopeFit& f, double (*to_b)(double), const std::string& from,
                              std::map<std::string, std::string> select) {
  const auto b = [to_b](double slope) { return std::clamp(to_b(slope), 0.0, 100.0); };
  IntervalEstimate e;
  e.value = b(f.slope);
  e.t_lo = b(f.ci_t_hi);
  e.t_hi = b(f.ci_t_lo);
  e.boot_lo = b(f.ci_boot_hi);
  e.boot_hi = b(f.ci_boot_lo);
  select["from"] = from;
  Measurement m = interval_measurement("b-hat", std::move(select), e);
  m.details["slope"] = f.slope;
  m.details["slope_ci_t"] = {f.ci_t_lo, f.ci_t_hi};
  m.details["slope_ci_boot"] = {f.ci_boot_lo, f.ci_boot_hi};
  m.details["clipped_to"] = {0.0, 100.0};
  return m;
}

}  // namespace attnrate
