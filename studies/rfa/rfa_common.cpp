#include "studies/rfa/rfa_common.hpp"

#include <algorithm>
#include <boost/math/distributions/students_t.hpp>
#include <cctype>
#include <cmath>
#include <limits>
#include <sstream>

#include "estimators/common/input_error.hpp"
#include "estimators/common/random.hpp"

namespace attnrate {

const char* to_string(Censoring c) noexcept {
  switch (c) {
    case Censoring::none: return "none";
    case Censoring::left: return "left";
    case Censoring::right: return "right";
  }
  return "?";
}

const char* to_string(Direction d) noexcept { return d == Direction::at_least ? ">=" : "<="; }

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

Verdict judge_direction(double threshold, Direction dir, double lo, double hi, double tolerance, double max_width,
                        bool log_width) {
  if (!(lo <= hi)) throw InputError("judge_direction: need lo <= hi");
  if (log_width && !(lo > 0)) throw InputError("judge_direction: a log-scale width needs lo > 0");
  const double width = log_width ? std::log(hi / lo) : hi - lo;
  if (width > max_width) return Verdict::inconclusive;
  if (dir == Direction::at_least) {
    const double b = threshold * (1.0 - tolerance);
    if (lo >= b) return Verdict::consistent;
    if (hi < b) return Verdict::inconsistent;
  } else {
    const double b = threshold * (1.0 + tolerance);
    if (hi <= b) return Verdict::consistent;
    if (lo > b) return Verdict::inconsistent;
  }
  return Verdict::inconclusive;
}

void CensorTally::add(Censoring c, int sign, Direction claimed) {
  if (c == Censoring::none) return;
  // A right-censored n is a lower bound of the truth (true >= substituted), a left-censored one
  // an upper bound. Entering log(statistic) with `sign`, the truth lies on the claimed side of
  // the computed value exactly when (right and sign * dir > 0) or (left and sign * dir < 0).
  const int dir = claimed == Direction::at_least ? 1 : -1;
  const int direction_of_truth = (c == Censoring::right ? 1 : -1) * sign;
  if (direction_of_truth * dir > 0) ++conservative;
  else ++anti;
}

Verdict censored_verdict(Verdict v, const CensorTally& t) {
  if (v == Verdict::consistent && t.anti > 0) return Verdict::inconclusive;
  if (v == Verdict::inconsistent && t.conservative > 0) return Verdict::inconclusive;
  return v;
}

nlohmann::json directional_claim_json(const std::string& id, const std::string& statement, const std::string& quantity,
                                      double threshold, Direction dir, double measured, double t_lo, double t_hi,
                                      double boot_lo, double boot_hi, double tolerance, double max_width,
                                      bool log_width, Verdict verdict, const CensorTally& censor) {
  nlohmann::json c;
  c["id"] = id;
  c["statement"] = statement;
  c["quantity"] = quantity;
  c["theory_value"] = threshold;
  c["direction"] = to_string(dir);
  c["measured"] = measured;
  c["ci_t"] = {t_lo, t_hi};
  c["ci_boot"] = {boot_lo, boot_hi};
  c["ci_level"] = 0.95;
  c["judged_interval"] = {std::min(t_lo, boot_lo), std::max(t_hi, boot_hi)};
  c["tolerance"] = tolerance;
  c["max_ci_width"] = max_width;
  c["width_scale"] = log_width ? "log(hi/lo)" : "hi-lo";
  c["censored_conservative"] = censor.conservative;
  c["censored_anticonservative"] = censor.anti;
  std::ostringstream rule;
  rule << "judged on the hull of ci_t and ci_boot; bound = theory_value * (1 " << (dir == Direction::at_least ? "-" : "+")
       << " tolerance); inconclusive if the width (" << (log_width ? "log(hi/lo)" : "hi-lo")
       << ") exceeds max_ci_width; consistent if the whole interval is on the claimed side (" << to_string(dir)
       << ") of the bound, inconsistent if it is wholly on the other side, inconclusive otherwise; a censored n_eps "
          "(curve not crossing eps inside the n grid, replaced by the grid end) that could favour the claim forbids "
          "'consistent', one that can only work against it forbids 'inconsistent'";
  c["verdict_rule"] = rule.str();
  c["verdict"] = to_string(verdict);
  return c;
}

void add_noise(arma::vec& y, double sigma, std::uint64_t seed) {
  Rng noise(seed);
  for (auto& v : y) v += sigma * noise.normal();
}

std::string format_short(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

TestError normalised_test_error(const arma::vec& prediction, const arma::vec& truth) {
  if (prediction.n_elem != truth.n_elem || truth.n_elem < 2)
    throw InputError("normalised_test_error: prediction and truth must have the same length >= 2");
  const double T = static_cast<double>(truth.n_elem);
  double m = 0.0;
  for (double v : truth) m += v;
  m /= T;
  double var = 0.0, sum = 0.0;
  for (arma::uword i = 0; i < truth.n_elem; ++i) {
    var += (truth[i] - m) * (truth[i] - m);
    const double e = prediction[i] - truth[i];
    sum += e * e;
  }
  var /= T - 1.0;
  const double mse = sum / T;
  double ss = 0.0;
  for (arma::uword i = 0; i < truth.n_elem; ++i) {
    const double e = prediction[i] - truth[i];
    ss += (e * e - mse) * (e * e - mse);
  }
  return {mse / var, std::sqrt(ss / (T - 1.0) / T) / var};
}

namespace {
std::string trim(const std::string& s) {
  std::size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return s.substr(a, b - a);
}
}  // namespace

std::vector<std::string> get_string_list(const Settings& s, const std::string& key) {
  std::vector<std::string> out;
  std::stringstream in(s.raw(key));
  std::string item;
  while (std::getline(in, item, ',')) {
    item = trim(item);
    if (item.empty()) throw InputError(s.source(key) + " must be a comma-separated list without empty entries, got '" + s.raw(key) + "'");
    out.push_back(item);
  }
  if (out.empty()) throw InputError(s.source(key) + " must not be empty");
  return out;
}

std::vector<double> get_double_list(const Settings& s, const std::string& key, double min, double max) {
  std::vector<double> out;
  for (const auto& item : get_string_list(s, key)) {
    std::size_t used = 0;
    double v = std::numeric_limits<double>::quiet_NaN();
    try {
      v = std::stod(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != item.size() || !std::isfinite(v) || v < min || v > max) {
      std::ostringstream m;
      m << s.source(key) << " must be a comma-separated list of numbers in [" << min << ", " << max << "], got '"
        << item << "'";
      throw InputError(m.str());
    }
    out.push_back(v);
  }
  return out;
}

RidgeFitOptions parse_lambda(const Settings& s, const std::string& key) {
  RidgeFitOptions o;
  const std::string v = trim(s.raw(key));
  if (v == "gcv") {
    o.rule = LambdaRule::gcv;
  } else if (v == "kfold" || v.rfind("kfold:", 0) == 0) {
    o.rule = LambdaRule::kfold;
    if (v != "kfold") {
      const std::string k = v.substr(6);
      std::size_t used = 0;
      long folds = 0;
      try {
        folds = std::stol(k, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != k.size() || folds < 2 || folds > 100)
        throw InputError(s.source(key) + ": kfold:K needs an integer K in [2, 100], got '" + v + "'");
      o.folds = static_cast<int>(folds);
    }
  } else {
    std::size_t used = 0;
    double x = -1;
    try {
      x = std::stod(v, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != v.size() || !std::isfinite(x) || x < 0)
      throw InputError(s.source(key) + " must be gcv, kfold, kfold:K or a number >= 0, got '" + v + "'");
    o.rule = LambdaRule::fixed;
    o.lambda = x;
  }
  return o;
}

StudyTarget::StudyTarget(const std::string& spec, int d, const AttentionLaw& law, std::uint64_t seed) {
  const std::string prefix = "first-key-poly:";
  if (spec.rfind(prefix, 0) == 0) {
    first_key_only_ = true;
    invariant_ = false;
    target_.push_back(RfaTarget::parse("key-poly:" + spec.substr(prefix.size()), d, law, seed));
    name_ = "first-key-poly:" + spec.substr(prefix.size());
  } else {
    target_.push_back(RfaTarget::parse(spec, d, law, seed));
    invariant_ = target_[0].is_permutation_invariant();
    name_ = target_[0].name();
  }
}

arma::vec StudyTarget::evaluate(const AttentionInputs& inputs) const {
  if (!first_key_only_) return target_[0].evaluate(inputs);
  AttentionInputs first;
  first.d = inputs.d;
  first.N = 1;
  first.query = inputs.query;
  first.keys.set_size(inputs.d, inputs.n());
  for (std::size_t s = 0; s < inputs.n(); ++s) first.keys.col(s) = inputs.keys.col(s * inputs.N);
  return target_[0].evaluate(first);  // normalised for one key: exactly unit variance
}

double StudyTarget::invariant_floor(int N) const {
  if (invariant_) return -1.0;
  if (first_key_only_) return 1.0 - 1.0 / N;
  const auto& m = target_[0].raw_moments();
  return 1.0 - (m.covariance + (m.variance - m.covariance) / N) / m.variance;
}

std::string file_stem(std::string s) {
  for (char& c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) c = '-';
  return s;
}

double geometric_mean(const std::vector<double>& v) {
  double s = 0.0;
  for (double x : v) s += std::log(x);
  return std::exp(s / static_cast<double>(v.size()));
}

}  // namespace attnrate


#include <exception>
#include <fstream>
#include <iostream>
#include <optional>

#include "studies/io/output.hpp"
#include "studies/sweep/sweep.hpp"

namespace attnrate {

// Transitional: the RFA studies' groups through the one sweep engine.
std::vector<nlohmann::json> run_groups(const StudyContext& ctx, const std::string& label, const std::string& fingerprint,
                                       const std::vector<std::string>& names,
                                       const std::function<nlohmann::json(std::size_t)>& run) {
  SweepSpec spec;
  spec.study = label;
  spec.label = label;
  spec.fingerprint = fingerprint;
  spec.names = names;
  return run_sweep(ctx, spec, [&](std::size_t g, int) { return run(g); });
}

}  // namespace attnrate
