#include "theory/pairwise/schedule.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "estimators/common/enum_names.hpp"
#include "estimators/common/input_error.hpp"

namespace attnrate {

namespace {
constexpr auto kScheduleNames = enum_names<Schedule>({"plain", "paper", "adaptive"});
}  // namespace

Schedule parse_schedule(std::string_view s) {
  if (const auto schedule = kScheduleNames.find(s)) return *schedule;
  throw InputError("--schedule must be plain, paper or adaptive, got '" + std::string(s) + "'");
}

std::string to_string(Schedule s) { return kScheduleNames.name(s); }

int schedule_pieces(Schedule s, double beta_eff, double c_K, std::size_t M) {
  if (s == Schedule::adaptive) throw std::logic_error("schedule_pieces: the adaptive schedule selects K from the data");
  const double m = static_cast<double>(M);
  const double base = s == Schedule::plain ? m : m / std::log(m);
  return std::max(1, static_cast<int>(std::lround(c_K * std::pow(base, 1.0 / (2.0 * beta_eff + 1.0)))));
}

double smoothness_from_pieces_slope(double s) { return (1.0 / s - 1.0) / 2.0; }

double rate_abscissa(Schedule s, std::size_t M) {
  const double m = static_cast<double>(M);
  return s == Schedule::paper ? std::log(m / std::log(m)) : std::log(m);
}

}  // namespace attnrate
