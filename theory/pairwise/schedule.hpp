#pragma once
// K_M schedules: the number of spline pieces as a function of the sample size.
//   plain: K_M = max(1, round(c_K M^{1/(2 beta + 1)}))
//   paper: K_M = max(1, round(c_K (M / log M)^{1/(2 beta + 1)}))  (the theorem's choice)
//   adaptive: no K_M from beta; the degree and K are selected from the data
//             (estimators/pairwise_lse/adaptive_spline.hpp), the rate is read against log M.
// beta is the effective smoothness min(beta, degree + 1).
#include <cstddef>
#include <string>
#include <string_view>

namespace attnrate {

enum class Schedule { plain, paper, adaptive };

/// Throws InputError unless "plain", "paper" or "adaptive".
Schedule parse_schedule(std::string_view s);
std::string to_string(Schedule s);

/// Pieces for M samples (M >= 2, beta_eff > 0, c_K > 0). Throws std::logic_error for adaptive
/// (which has no K_M formula).
int schedule_pieces(Schedule s, double beta_eff, double c_K, std::size_t M);

/// The smoothness a schedule exponent stands for: K ~ M^(1/(2b+1)) has slope s = 1/(2b+1) of
/// log K on log M, so b = (1/s - 1)/2 (s > 0; decreasing in s).
double smoothness_from_pieces_slope(double s);

/// The abscissa the schedule's rate is linear in: log M (plain, adaptive) or log(M / log M) (paper).
double rate_abscissa(Schedule s, std::size_t M);

}  // namespace attnrate
