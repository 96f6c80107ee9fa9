#pragma once
// What a study measures: one named quantity (a slope, a ratio, an error, ...) of one curve or
// group of cells, with its two 95% intervals. Studies report measurements and never judge them;
// a claim (claim.hpp) selects one measurement by quantity and select keys, and the judge
// (judge.hpp) compares it with the claim's theory.
#include <map>
#include <nlohmann/json.hpp>
#include <string>

namespace attnrate {

/// How an interval's width is measured for the claim's max-ci-width rule.
enum class WidthScale {
  linear,  ///< hi - lo (slopes, errors)
  log      ///< log(hi / lo) (ratios and sample sizes; requires lo > 0)
};

struct Measurement {
  std::string quantity;                       ///< e.g. "slope", "spread", "n-ratio"
  std::map<std::string, std::string> select;  ///< the keys that tell this curve from the others, e.g. {"d": "5"}
  double value = 0.0;                         ///< the point estimate
  double ci_t_lo = 0.0, ci_t_hi = 0.0;        ///< Student-t (or normal) 95% interval
  double ci_boot_lo = 0.0, ci_boot_hi = 0.0;  ///< seed-bootstrap 95% interval
  WidthScale width_scale = WidthScale::linear;
  /// Censoring: the value (and its intervals) were computed with substituted values, so the
  /// truth may lie above (may_be_higher) or below (may_be_lower) everything measured.
  bool may_be_higher = false, may_be_lower = false;
  /// Study-specific context (cells used, abscissa, rank condition, ...), copied into reports.
  nlohmann::json details = nlohmann::json::object();

  /// The interval a claim is judged on: the hull of both intervals, so a verdict must survive
  /// both ways of measuring the uncertainty.
  double lo() const noexcept { return ci_t_lo < ci_boot_lo ? ci_t_lo : ci_boot_lo; }
  double hi() const noexcept { return ci_t_hi > ci_boot_hi ? ci_t_hi : ci_boot_hi; }
};

/// JSON record of a measurement (summary.json "quantities" entries); documented in docs/formats.md.
nlohmann::json to_json(const Measurement& m);
/// Inverse of to_json. Throws InputError naming the field when a record is malformed.
Measurement measurement_from_json(const nlohmann::json& j);

const char* to_string(WidthScale s) noexcept;

}  // namespace attnrate
