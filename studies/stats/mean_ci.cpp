#include "studies/stats/mean_ci.hpp"

#include <boost/math/distributions/students_t.hpp>
#include <cmath>
#include <utility>

#include "estimators/common/input_error.hpp"
#include "estimators/common/random.hpp"
#include "studies/stats/interval_measurement.hpp"
#include "studies/stats/rate_fit.hpp"

namespace attnrate {

MeanCi mean_ci(const std::vector<double>& values, double level, int resamples, std::uint64_t seed) {
  if (values.empty()) throw InputError("mean_ci: no values");
  if (!(level > 0 && level < 1)) throw InputError("mean_ci: level must be in (0, 1)");
  if (resamples < 1) throw InputError("mean_ci: resamples must be >= 1");
  for (double v : values)
    if (!std::isfinite(v)) throw InputError("mean_ci: values must be finite");
  MeanCi r;
  r.count = values.size();
  const double k = static_cast<double>(r.count);
  double sum = 0.0;
  for (double v : values) sum += v;
  r.mean = sum / k;
  if (r.count == 1) {
    r.t_lo = r.t_hi = r.boot_lo = r.boot_hi = r.mean;
    return r;
  }
  double ss = 0.0;
  for (double v : values) ss += (v - r.mean) * (v - r.mean);
  r.sd = std::sqrt(ss / (k - 1.0));
  const double alpha = 1.0 - level;
  const double tq = boost::math::quantile(boost::math::complement(boost::math::students_t(k - 1.0), alpha / 2.0));
  r.t_lo = r.mean - tq * r.sd / std::sqrt(k);
  r.t_hi = r.mean + tq * r.sd / std::sqrt(k);
  Rng rng(seed);
  std::vector<double> means(static_cast<std::size_t>(resamples));
  for (auto& m : means) {
    double s = 0.0;
    for (std::size_t j = 0; j < r.count; ++j) s += values[rng.below(r.count)];
    m = s / k;
  }
  r.boot_lo = quantile_type7(means, alpha / 2.0);
  r.boot_hi = quantile_type7(means, 1.0 - alpha / 2.0);
  return r;
}

Measurement mean_measurement(const MeanCi& m, std::string quantity, std::map<std::string, std::string> select,
                             WidthScale scale) {
  Measurement r =
      interval_measurement(std::move(quantity), std::move(select), {m.mean, m.t_lo, m.t_hi, m.boot_lo, m.boot_hi});
  r.width_scale = scale;
  r.details["seeds"] = m.count;
  return r;
}

Measurement exp_mean_measurement(const MeanCi& m, std::string quantity, std::map<std::string, std::string> select) {
  Measurement r = mean_measurement(m, std::move(quantity), std::move(select), WidthScale::log);
  r.value = std::exp(m.mean);
  r.ci_t_lo = std::exp(m.t_lo);
  r.ci_t_hi = std::exp(m.t_hi);
  r.ci_boot_lo = std::exp(m.boot_lo);
  r.ci_boot_hi = std::exp(m.boot_hi);
  return r;
}

std::optional<Measurement> ratio_measurement(const std::vector<double>& num, const std::vector<double>& den,
                                             int resamples, std::uint64_t seed, std::string quantity,
                                             std::map<std::string, std::string> select) {
  if (num.size() != den.size()) throw InputError("ratio_measurement: numerators and denominators differ in number");
  std::vector<double> logs;
  nlohmann::json per_rep = nlohmann::json::array();
  for (std::size_t k = 0; k < num.size(); ++k)
    if (std::isfinite(num[k]) && std::isfinite(den[k]) && num[k] > 0 && den[k] > 0) {
      logs.push_back(std::log(num[k] / den[k]));
      per_rep.push_back(num[k] / den[k]);
    }
  if (logs.empty()) return std::nullopt;
  Measurement m = exp_mean_measurement(mean_ci(logs, 0.95, resamples, seed), std::move(quantity), std::move(select));
  m.details["per_rep"] = per_rep;
  return m;
}

}  // namespace attnrate
