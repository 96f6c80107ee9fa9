#pragma once
// An estimate of the smoothness b from a fitted slope, when b was not given to the estimator:
// the selected pieces grow like K_hat ~ M^(1/(2b+1)), the error decays like M^(-2b/(2b+1)).
#include <map>
#include <string>

#include "studies/stats/rate_fit.hpp"
#include "theory/claims/measurement.hpp"

namespace attnrate {

/// b from the slope s of log K_hat on log M: (1/s - 1) / 2, decreasing for s > 0; 100 for s <= 0
/// (K does not grow: b beyond any bound the clip tells apart).
double b_from_pieces_slope(double s);
/// b from the slope s of log error on log M: -s / (2 (1 + s)), decreasing on (-1, 0); 0 for s >= 0
/// and 100 for s <= -1.
double b_from_error_slope(double s);

/// "b-hat" at `select` plus {"from", from}: the slope's point value and both intervals mapped
/// through `to_b` (a decreasing map, so interval ends swap) and clipped to [0, 100] (beyond 100 a
/// smoothness is not told apart from infinity); details: the slope, its intervals, clipped_to.
Measurement b_hat_measurement(const SlopeFit& f, double (*to_b)(double), const std::string& from,
                              std::map<std::string, std::string> select = {});

}  // namespace attnrate
