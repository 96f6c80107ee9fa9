#include "studies/stats/sample_complexity.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "estimators/common/enum_names.hpp"
#include "estimators/common/input_error.hpp"

namespace attnrate {

const char* to_string(Censoring c) noexcept {
  static constexpr auto names = enum_names<Censoring>({"none", "left", "right"});
  return names.name(c);
}

Crossing crossing_n(const std::vector<double>& n, const std::vector<double>& error, double eps) {
  if (n.empty() || n.size() != error.size())
    throw InputError("crossing_n: need as many errors as sample sizes (got " + std::to_string(n.size()) + " sizes and " +
                     std::to_string(error.size()) + " errors), at least one");
  if (!(eps > 0) || !std::isfinite(eps)) throw InputError("crossing_n: eps must be finite and > 0");
  for (std::size_t k = 0; k < n.size(); ++k) {
    if (!(n[k] > 0) || !std::isfinite(n[k]) || (k > 0 && !(n[k] > n[k - 1])))
      throw InputError("crossing_n: sample sizes must be finite, > 0 and strictly increasing");
    if (!std::isfinite(error[k])) throw InputError("crossing_n: errors must be finite");
  }
  for (std::size_t k = 0; k < n.size(); ++k) {
    if (error[k] > eps) continue;
    if (k == 0) return {n[0], Censoring::left};
    const double e0 = std::log(error[k - 1]), e1 = std::log(std::max(error[k], 1e-300));
    const double l0 = std::log(n[k - 1]), l1 = std::log(n[k]);
    const double t = (std::log(eps) - e0) / (e1 - e0);  // in (0, 1]: e0 > log eps >= e1
    return {std::exp(l0 + t * (l1 - l0)), Censoring::none};
  }
  return {n.back(), Censoring::right};
}

void add_censoring(Measurement& m, Censoring c, int sign) {
  if (sign != 1 && sign != -1) throw InputError("add_censoring: sign must be +1 or -1");
  if (c == Censoring::none) return;
  // +1: the truth of this n is above the substituted value (right), -1: below (left).
  const int truth_of_n = c == Censoring::right ? 1 : -1;
  if (truth_of_n * sign > 0) m.may_be_higher = true;
  else m.may_be_lower = true;
}

}  // namespace attnrate
