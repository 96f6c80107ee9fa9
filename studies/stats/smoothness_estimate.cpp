#include "studies/stats/smoothness_estimate.hpp"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>
#include <vector>

#include "estimators/common/input_error.hpp"
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

nlohmann::json b_hat_by_subsampling(std::size_t M, std::size_t min_M,
                                    const std::function<SelectedSpace(std::size_t)>& pieces_at) {
  std::vector<double> lm, lk;
  nlohmann::json sub = nlohmann::json::array();
  std::string stopped;  // why a subsample could not be fitted (the smaller ones are not tried)
  std::vector<std::size_t> limited;  // sizes whose selected K is the largest of the grid
  for (int k = 0; k < 4; ++k) {
    const std::size_t Mk = M >> k;
    if (Mk < min_M || Mk < 2) break;
    SelectedSpace space;
    try {
      space = pieces_at(Mk);
    } catch (const InputError& e) {
      if (k == 0) throw;  // the fit at hand itself
      stopped = "the fit on " + std::to_string(Mk) + " samples failed: " + e.what();
      break;
    }
    sub.push_back({{"M", Mk}, {"degree", space.degree}, {"pieces", space.pieces}, {"largest_pieces", space.largest_pieces}});
    if (space.largest_pieces) limited.push_back(Mk);
    lm.push_back(std::log(static_cast<double>(Mk)));
    lk.push_back(std::log(static_cast<double>(space.pieces)));
  }
  nlohmann::json bh = {{"subsamples", sub},
                       {"note", "from the selected K on the first M / 2^j samples, K_hat ~ M^(1/(2b+1)); K_hat moves "
                                "on a dyadic grid and four sizes leave two degrees of freedom, so this is a rough "
                                "check, not a measurement of b"}};
  bh["value"] = nullptr;  // undefined unless the selected K grows
  bh["ci_t"] = {nullptr, nullptr};
  if (lm.size() >= 3) {
    const SlopeFit f = fit_slope(lm, lk, 0.95, 1);  // OLS; one fit per size, no bootstrap
    bh["slope_log_K_on_log_M"] = f.slope;
    // Snapped to 0 below 1e-12: when K doubles with M the OLS slope is 1 up to rounding
    // (1 - 2e-16), and b = 7.8e-16 would read as a measured smoothness.
    const auto b = [](double slope) {
      const double v = std::clamp(b_from_pieces_slope(slope), 0.0, 100.0);
      return v < 1e-12 ? 0.0 : v;
    };
    if (f.slope > 0) {
      bh["value"] = b(f.slope);
      if (f.slope >= 1.0 - 1e-12) {  // the clip at 0, which a warning of bias may otherwise seem to contradict
        std::ostringstream m;
        m << std::setprecision(3) << "the selected K grows at least as fast as M (slope " << f.slope
          << " of log K_hat on log M), which no b > 0 gives: b_hat is 0, the end of its range, not an estimate";
        bh["at_bound"] = m.str();
      }
      if (f.ci_t_hi - f.ci_t_lo > 1e-9) {  // below: rounding of points exactly on a line
        bh["ci_t"] = {b(f.ci_t_hi), b(f.ci_t_lo)};  // decreasing map: the ends swap
      } else {
        // No scatter about the line (e.g. K doubling exactly as M does): a t interval of width 0
        // would claim a precision the dyadic grid of K cannot give.
        bh["why_no_interval"] = "the selected K lie exactly on a line in log M, so the t interval has no width and "
                                "says nothing (K moves on a dyadic grid)";
      }
    } else {
      bh["why_no_value"] = limited.size() == lm.size()
                               ? "the selected K is the largest of the candidate grid at every size, so the grid "
                                 "(--max-knots), not the data, bounds it"
                               : "the selected K does not grow with M";
    }
  } else {
    bh["why_no_value"] = "fewer than 3 subsample sizes of at least " + std::to_string(std::max<std::size_t>(min_M, 2)) +
                         " samples, the fewest the selection can use";
  }
  if (!stopped.empty()) bh["subsample_failed"] = stopped;
  if (!limited.empty()) {
    std::string sizes;
    for (std::size_t Mk : limited) sizes += (sizes.empty() ? "" : ", ") + std::to_string(Mk);
    // The direction of the bias: capping the larger sizes flattens the slope of log K on log M
    // (b_hat too high), capping the smaller ones steepens it (too low); capping every size leaves
    // the slope of the grid's own top.
    const std::size_t largest = M, smallest = sub.back().at("M").get<std::size_t>();
    const bool top = limited.front() == largest, bottom = limited.back() == smallest;
    const char* bias = limited.size() == lm.size() ? "it follows the grid's top, not phi"
                       : top && !bottom            ? "it is biased high (the larger sizes are capped)"
                       : bottom && !top            ? "it is biased low (the smaller sizes are capped)"
                                                   : "it is biased, in either direction";
    bh["grid_limited"] = "at M = " + sizes + " the selected K is the largest of the candidate grid, so K_hat is "
                         "bounded by the grid (--max-knots, by default M / (ln M)^2 at each size), not by the data, "
                         "and b_hat is not a measurement: " + bias + "; raise --max-knots";
  }
  return bh;
}

}  // namespace attnrate
