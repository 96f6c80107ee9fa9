#pragma once
// The one verdict rule of attnrate: a claim's bound, theory and tolerance against a measurement
// with its two 95% intervals. Every claim of every study is judged here and nowhere else.
//
// Let [lo, hi] be the hull of the t and bootstrap intervals, tol the claim's tolerance and
// width = hi - lo (log(hi / lo) for a log-scale measurement). Then
//   inconclusive  if max_ci_width is set and width > max_ci_width;
//   equal t:      consistent if lo - tol <= t <= hi + tol, inconsistent otherwise;
//   within [a,b]: consistent if [lo - tol, hi + tol] meets [a, b], inconsistent otherwise;
//   at-most t:    consistent if hi <= t + tol, inconsistent if lo > t + tol, else inconclusive;
//   at-least t:   consistent if lo >= t - tol, inconsistent if hi < t - tol, else inconclusive.
// Censoring (Measurement::may_be_higher / may_be_lower): when the truth may lie on the claimed
// side of everything measured, "inconsistent" becomes inconclusive; when it may lie on the other
// side, "consistent" does. For equal and within both sides count as the other side for
// "consistent", and the side towards the theory for "inconsistent".
#include <optional>
#include <string>

#include "theory/claims/measurement.hpp"

namespace attnrate {

enum class Verdict { consistent, inconclusive, inconsistent };
std::string to_string(Verdict v);

/// What a theorem states about a quantity.
enum class Bound {
  equal,     ///< the quantity equals theory (a tight rate)
  at_most,   ///< the quantity is at most theory (an upper bound, e.g. on an error's slope)
  at_least,  ///< the quantity is at least theory
  within     ///< the quantity lies in [theory_lo, theory_hi]
};
std::string to_string(Bound b);
/// "equal", "at-most", "at-least", "within"; nullopt otherwise.
std::optional<Bound> parse_bound(const std::string& s);

/// The part of a claim the judge reads.
struct JudgeRule {
  Bound bound = Bound::equal;
  double theory_lo = 0.0, theory_hi = 0.0;  ///< equal: theory_lo == theory_hi
  double tolerance = 0.0;                   ///< >= 0, in the quantity's units
  std::optional<double> max_ci_width;       ///< none: no width rule
};

struct Judgement {
  Verdict verdict = Verdict::inconclusive;
  double lo = 0.0, hi = 0.0;  ///< the judged interval (hull)
  double width = 0.0;         ///< on the measurement's width scale
  std::string reason;         ///< one sentence: which rule decided
};

/// Applies the rule above. Throws InputError when the rule is malformed (theory not finite,
/// theory_lo > theory_hi, theory_lo != theory_hi for a one-value bound, tolerance < 0 or not finite,
/// max_ci_width <= 0), when the measurement's interval is not finite or has lo > hi, or when a
/// log-scale width meets lo <= 0.
Judgement judge(const JudgeRule& rule, const Measurement& m);

/// The rule as one line for reports, e.g. "at-most -0.8 + 0.05 (hull of t and bootstrap 95% CIs)".
std::string describe(const JudgeRule& rule);

}  // namespace attnrate
