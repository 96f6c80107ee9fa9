#pragma once
// A measurement from a point estimate and its two 95% intervals, the form every statistic of the
// studies (slopes, means, ratios) reports in.
#include <map>
#include <string>

#include "theory/claims/measurement.hpp"

namespace attnrate {

/// A point estimate with its Student-t (or normal) and seed-bootstrap 95% intervals.
struct IntervalEstimate {
  double value = 0.0;
  double t_lo = 0.0, t_hi = 0.0;
  double boot_lo = 0.0, boot_hi = 0.0;
};

/// The measurement of `quantity` at `select` carrying `e` (linear width scale, no details).
Measurement interval_measurement(std::string quantity, std::map<std::string, std::string> select,
                                 const IntervalEstimate& e);

}  // namespace attnrate
