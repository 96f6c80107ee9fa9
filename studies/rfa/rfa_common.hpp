#pragma once
// Shared pieces of the random-feature attention studies (issue 4, SPEC §3-§5): the sample
// complexity n_eps read off an error curve (with censoring), confidence intervals of a mean
// over seeds (Student t and seed bootstrap), directional verdicts for "at least" / "at most"
// claims, the normalised test error, and parsing of the list-valued settings.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "estimators/random_features/attention_inputs.hpp"
#include "estimators/ridge/ridge.hpp"
#include "studies/stats/rate_fit.hpp"
#include "studies/io/settings.hpp"
#include "studies/sweep/study.hpp"
#include "studies/sweep/sweep.hpp"
#include "theory/rfa/attention_law.hpp"
#include "theory/rfa/rfa_targets.hpp"

#include <armadillo>

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

/// Direction of a one-sided claim "quantity >= threshold" or "quantity <= threshold".
enum class Direction { at_least, at_most };
const char* to_string(Direction d) noexcept;

/// Directional verdict on the judged interval [lo, hi] (hull of the t and bootstrap intervals).
/// The tolerance is relative: the bound is b = threshold (1 - tol) for at_least and
/// threshold (1 + tol) for at_most (thresholds > 0). width = log(hi/lo) when log_width (ratios,
/// n's; lo > 0), else hi - lo.
///   inconclusive  width > max_width
///   consistent    the whole interval is on the claimed side of b (lo >= b, resp. hi <= b)
///   inconsistent  the whole interval is on the other side (hi < b, resp. lo > b)
///   inconclusive  otherwise (the interval contains b)
Verdict judge_direction(double threshold, Direction dir, double lo, double hi, double tolerance, double max_width,
                        bool log_width);

/// Censoring of a statistic built from censored n's: `conservative` when at least one censored
/// value entered and every one of them can only have moved the statistic against the claimed
/// direction; `anti` when some censored value may have moved it towards the claim.
struct CensorTally {
  int conservative = 0, anti = 0;
  /// A value with censoring c entering the log of the statistic with sign +1 (numerator) or -1.
  void add(Censoring c, int sign, Direction claimed);
};
/// A verdict adjusted for censoring: an anti-conservative substitution forbids "consistent",
/// a conservative one forbids "inconsistent" (both become inconclusive).
Verdict censored_verdict(Verdict v, const CensorTally& t);

/// JSON record of a directional claim (SPEC §5 fields plus direction, judged interval, width
/// rule, censoring counts). measured and the intervals are on the quantity's own scale.
nlohmann::json directional_claim_json(const std::string& id, const std::string& statement, const std::string& quantity,
                                      double threshold, Direction dir, double measured, double t_lo, double t_hi,
                                      double boot_lo, double boot_hi, double tolerance, double max_width,
                                      bool log_width, Verdict verdict, const CensorTally& censor);

/// Normalised test error mean((pred - truth)^2) / Var(truth) (empirical variance of the test
/// targets, so 1 = predicting their mean) and its Monte Carlo standard error.
struct TestError {
  double error = 0.0, se = 0.0;
};
/// y += sigma * N(0, 1) noise drawn from Rng(seed) (the studies' noisy training targets).
void add_noise(arma::vec& y, double sigma, std::uint64_t seed);

/// Default ostream formatting of a number (6 significant digits), for labels and claim ids.
std::string format_short(double v);

TestError normalised_test_error(const arma::vec& prediction, const arma::vec& truth);

/// Comma-separated list of strings (trimmed, non-empty entries), e.g. targets.
std::vector<std::string> get_string_list(const Settings& s, const std::string& key);
/// Comma-separated list of doubles in [min, max].
std::vector<double> get_double_list(const Settings& s, const std::string& key, double min, double max);

/// Lambda setting: "gcv", "kfold" (5 folds), "kfold:K", or a number >= 0 (fixed).
RidgeFitOptions parse_lambda(const Settings& s, const std::string& key);

/// A target of the RFA studies: every RfaTarget name of theory/rfa_targets.hpp, plus the
/// study-level control `first-key-poly:p` = key-poly:p evaluated on the first key only,
/// He_p(sqrt(d) <b, x_1>)/sqrt(p!) normalised to unit variance (not permutation-invariant,
/// and of degree p in the concatenated input, so a random-feature MLP can learn it at the
/// same cost as key-poly:p, while the best permutation-invariant predictor has normalised
/// error exactly 1 - 1/N: the key terms are independent).
class StudyTarget {
 public:
  StudyTarget(const std::string& spec, int d, const AttentionLaw& law, std::uint64_t seed);
  arma::vec evaluate(const AttentionInputs& inputs) const;
  const std::string& name() const noexcept { return name_; }
  bool is_permutation_invariant() const noexcept { return invariant_; }
  /// Normalised error of the best permutation-invariant predictor, for the non-invariant
  /// targets (else -1). That predictor is the key average (1/N) sum_i h(x_0, x_i) of the per-key
  /// term, whose variance is c + (v - c)/N (v, c: variance and key-key covariance of h), so the
  /// floor is 1 - (c + (v - c)/N) / v; c = 0 for first-key-poly (independent keys) and for
  /// first-key on the sphere, giving 1 - 1/N.
  double invariant_floor(int N) const;

 private:
  std::string name_;
  bool first_key_only_ = false, invariant_ = true;
  std::vector<RfaTarget> target_;  // one element (no default constructor)
};

/// File-name-safe form of a target or label ("key-poly:2" -> "key-poly-2").
std::string file_stem(std::string s);

/// Geometric mean.
double geometric_mean(const std::vector<double>& v);

/// Runs groups 0..names.size()-1 of a study, in parallel over groups (ctx.threads; 0 = all
/// cores, schedule dynamic), each group returning its result rows as JSON. Each finished group
/// is checkpointed atomically to ctx.out/cells/<names[g]>.json with the fingerprint; with
/// ctx.resume a checkpoint with the same fingerprint is reused instead of recomputed. The
/// results are returned in group order, so outputs do not depend on the thread count (run()
/// must itself be deterministic given g). The first exception thrown by a group is rethrown
/// after the loop.
std::vector<nlohmann::json> run_groups(const StudyContext& ctx, const std::string& label, const std::string& fingerprint,
                                       const std::vector<std::string>& names,
                                       const std::function<nlohmann::json(std::size_t)>& run);

/// GCV choice of the kernel ridge penalty on the training kernel matrix K (n x n) and y: with
/// K = U diag(s) U^T (negative eigenvalues floored at 0) and c = U^T y,
///   GCV(lambda) = (1/n) sum_j (n lambda/(s_j + n lambda))^2 c_j^2 / ((1/n) sum_j n lambda/(s_j + n lambda))^2,
/// the same criterion as select_lambda_gcv for the kernel (K + n lambda I)^{-1}. Returns the
/// first minimiser over `grid` (all > 0); `scores` receives every score when not null.
double kernel_gcv_lambda(const arma::mat& K, const arma::vec& y, const arma::vec& grid, arma::vec* scores);

}  // namespace attnrate
