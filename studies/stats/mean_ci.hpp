#pragma once
// The mean of per-seed values with its Student-t and seed-bootstrap 95% intervals
// (docs/statistics.md, section 3), and that mean as a measurement for claims.
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "theory/claims/measurement.hpp"

namespace attnrate {

/// Mean of per-seed values with a Student-t interval (mean +- t_{k-1} sd / sqrt k) and a
/// percentile bootstrap interval (resample the k values with replacement, `resamples` times,
/// Rng(seed), type-7 quantiles). k = 1 gives the degenerate interval [mean, mean] for both.
struct MeanCi {
  double mean = 0.0, sd = 0.0;
  std::size_t count = 0;
  double t_lo = 0.0, t_hi = 0.0, boot_lo = 0.0, boot_hi = 0.0;
  double lo() const noexcept { return t_lo < boot_lo ? t_lo : boot_lo; }  ///< hull of both intervals
  double hi() const noexcept { return t_hi > boot_hi ? t_hi : boot_hi; }
};
/// Throws InputError on empty or non-finite values, level outside (0, 1) or resamples < 1.
MeanCi mean_ci(const std::vector<double>& values, double level = 0.95, int resamples = 2000,
               std::uint64_t seed = 0x5eed);

/// The mean itself as a measurement: value = mean, the t and bootstrap intervals as they are.
Measurement mean_measurement(const MeanCi& m, std::string quantity, std::map<std::string, std::string> select,
                             WidthScale scale);

/// A ratio averaged on the log scale (`m` is the mean of per-seed log ratios) as a measurement:
/// value = exp(mean), the geometric mean of the ratios, with the exponentiated intervals and a
/// log width.
Measurement exp_mean_measurement(const MeanCi& m, std::string quantity, std::map<std::string, std::string> select);

/// The geometric mean of per-seed ratios num[k] / den[k] over the k where both are finite and
/// > 0: exp_mean_measurement of mean_ci(their logs, 0.95, resamples, seed), with details per_rep
/// (the ratios used). None when no k qualifies. num and den must have one size.
std::optional<Measurement> ratio_measurement(const std::vector<double>& num, const std::vector<double>& den,
                                             int resamples, std::uint64_t seed, std::string quantity,
                                             std::map<std::string, std::string> select);

}  // namespace attnrate
