#pragma once
// An estimate of the smoothness b from a fitted slope, when b was not given to the estimator:
// the selected pieces grow like K_hat ~ M^(1/(2b+1)), the error decays like M^(-2b/(2b+1)).
#include <cstddef>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

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

/// The space an adaptive fit selected: its degree and K, and whether K is the largest of the
/// candidate grid (then the grid, not the data, bounds the selection).
struct SelectedSpace {
  int degree = 0, pieces = 0;
  bool largest_pieces = false;
};

/// b_hat of one data set of M samples, by subsampling: the selected K on the first M / 2^j
/// samples (j = 0..3, each subsample at least min_M and 2 samples), K_hat ~ M^(1/(2b+1)), so with
/// s the OLS slope of log K_hat on log M_j, b_hat = b_from_pieces_slope(s) (reported when s > 0).
/// `pieces_at(Mj)` fits the first Mj samples (Mj = M: the fit at hand) and returns the selected
/// space; an InputError of a subsample's fit (e.g. too few outputs for the penalty rule's
/// variance) ends the subsampling there and is reported as `subsample_failed`, not thrown.
/// Returns the fit.json entry: `value` (null when undefined, with `why_no_value`), `ci_t` (the
/// slope's 95% Student-t interval, df = sizes - 2, mapped through b_from_pieces_slope; both
/// clipped to [0, 100], and below 1e-12 set to 0: rounding of a slope of exactly 1; nulls with the
/// value, and with `why_no_interval` when the slope's interval is narrower than 1e-9: the points
/// lie on a line, and a width of 0 says nothing), `subsamples` (M, degree, pieces, largest_pieces), `slope_log_K_on_log_M` and a `note`;
/// `grid_limited` (the sizes whose selected K is the largest of their grid) when there are any,
/// since K_hat there is bounded by the grid and b_hat biased, in the direction it states: high
/// when only the larger sizes are capped (a flattened slope), low when only the smaller ones are,
/// the grid's own growth when every size is (then `why_no_value` names the grid when the slope is
/// not positive).
/// K_hat moves on a dyadic grid and four sizes leave two degrees of freedom, so the interval is
/// wide: a rough check, not a measurement of b.
nlohmann::json b_hat_by_subsampling(std::size_t M, std::size_t min_M,
                                    const std::function<SelectedSpace(std::size_t)>& pieces_at);

}  // namespace attnrate
