#pragma once
// The sample complexity n_eps of an error curve over a grid of training sizes, read off by
// log-log interpolation and never extrapolated, and the censoring it carries into the
// measurements built from it (docs/statistics.md, section 4).
#include <vector>

#include "theory/claims/measurement.hpp"

namespace attnrate {

/// Where an error curve first reaches eps.
///   none   the curve crosses eps between two grid points; n is the log-log interpolation
///   left   the first grid point is already <= eps: the true n_eps is <= n (n = first grid n)
///   right  no grid point is <= eps: the true n_eps is > n (n = last grid n)
enum class Censoring { none, left, right };
const char* to_string(Censoring c) noexcept;

struct Crossing {
  double n = 0.0;
  Censoring censoring = Censoring::none;
};

/// n_eps of one curve: grid n (strictly increasing, > 0) and errors (same length, >= 1 point).
/// Takes the first k with error[k] <= eps; for k > 0 interpolates linearly in (log n, log error)
/// between points k-1 and k (error[k-1] > eps >= error[k], so the crossing lies between them;
/// an error <= 0 is treated as 1e-300). Throws InputError on bad shapes or eps <= 0.
Crossing crossing_n(const std::vector<double>& n, const std::vector<double>& error, double eps);

/// Flags the side(s) on which the truth of `m` may lie when an n_eps with censoring `c` entered
/// it with exponent `sign` (+1: numerator, e.g. n_eps(MLP) in n_eps(MLP)/n_eps(RFA); -1:
/// denominator). A right-censored n_eps is a lower bound of its truth and a left-censored one an
/// upper bound, so the truth of m may be higher when a right-censored value is in the numerator
/// or a left-censored one in the denominator, and lower in the two other cases. Flags are only
/// ever set, so a quantity built from several n's collects them all. Throws InputError unless
/// sign is +1 or -1.
void add_censoring(Measurement& m, Censoring c, int sign);

}  // namespace attnrate
