#include "theory/claims/judge.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "estimators/common/enum_names.hpp"
#include "estimators/common/input_error.hpp"

namespace attnrate {

namespace {
constexpr auto kVerdictNames = enum_names<Verdict>({"consistent", "inconclusive", "inconsistent"});
constexpr auto kBoundNames = enum_names<Bound>({"equal", "at-most", "at-least", "within"});
}  // namespace

std::string to_string(Verdict v) { return kVerdictNames.name(v); }

std::string to_string(Bound b) { return kBoundNames.name(b); }

std::optional<Bound> parse_bound(const std::string& s) { return kBoundNames.find(s); }

namespace {

std::string fmt(double v) {
  std::ostringstream s;
  s.precision(6);
  s << v;
  return s.str();
}

std::string hull_text(double lo, double hi) {
  std::ostringstream s;
  s.precision(6);
  s << "[" << lo << ", " << hi << "]";
  return s.str();
}

void check_rule(const JudgeRule& r) {
  if (!std::isfinite(r.theory_lo) || !std::isfinite(r.theory_hi))
    throw InputError("judge: the theory value must be finite");
  if (r.theory_lo > r.theory_hi) throw InputError("judge: the theory range must have low <= high");
  if (r.bound != Bound::within && r.theory_lo != r.theory_hi)
    throw InputError("judge: bound '" + to_string(r.bound) + "' takes one theory value, not a range");
  if (!std::isfinite(r.tolerance) || r.tolerance < 0) throw InputError("judge: the tolerance must be finite and >= 0");
  if (r.max_ci_width && !(*r.max_ci_width > 0)) throw InputError("judge: max-ci-width must be > 0");
}

// A one-sided bound b (theory + tolerance for at-most, `upper`; theory - tolerance for at-least):
// the hull wholly on the claimed side of b is consistent, wholly beyond it inconsistent, across it
// inconclusive. Censored values that may carry the truth across b make a verdict inconclusive.
void judge_one_sided(Judgement& j, const std::string& hull, double b, bool upper, const Measurement& m) {
  const std::string claimed = upper ? "below" : "above", beyond = upper ? "above" : "below";
  std::string bound = upper ? "theory + tolerance = " : "theory - tolerance = ";
  bound.append(fmt(b));
  j.reason = hull;
  if (upper ? j.hi <= b : j.lo >= b) {
    j.verdict = Verdict::consistent;
    j.reason.append(" lies at or ").append(claimed).append(" ").append(bound);
  } else if (upper ? j.lo > b : j.hi < b) {
    j.verdict = Verdict::inconsistent;
    j.reason.append(" lies ").append(beyond).append(" ").append(bound);
  } else {
    j.verdict = Verdict::inconclusive;
    j.reason.append(" contains ").append(bound);
  }
  const bool may_move_beyond = upper ? m.may_be_higher : m.may_be_lower;
  const bool may_move_back = upper ? m.may_be_lower : m.may_be_higher;
  if (j.verdict == Verdict::consistent && may_move_beyond) {
    j.verdict = Verdict::inconclusive;
    j.reason.append(", but censored values may put the truth ").append(beyond).append(" it");
  }
  if (j.verdict == Verdict::inconsistent && may_move_back) {
    j.verdict = Verdict::inconclusive;
    j.reason.append(", but censored values may put the truth ").append(claimed).append(" it");
  }
}

}  // namespace

Judgement judge(const JudgeRule& r, const Measurement& m) {
  check_rule(r);
  Judgement j;
  j.lo = m.lo();
  j.hi = m.hi();
  if (!std::isfinite(j.lo) || !std::isfinite(j.hi) || j.lo > j.hi)
    throw InputError("judge: the measured interval must be finite with low <= high, got " + hull_text(j.lo, j.hi));
  if (m.width_scale == WidthScale::log && !(j.lo > 0))
    throw InputError("judge: a log-scale width needs a positive interval, got " + hull_text(j.lo, j.hi));
  j.width = m.width_scale == WidthScale::log ? std::log(j.hi / j.lo) : j.hi - j.lo;
  const std::string hull = "hull of the 95% intervals " + hull_text(j.lo, j.hi);
  if (r.max_ci_width && j.width > *r.max_ci_width) {
    j.verdict = Verdict::inconclusive;
    j.reason = hull + " is wider (" + fmt(j.width) + ") than max-ci-width " + fmt(*r.max_ci_width);
    return j;
  }
  // The tolerance plus a rounding allowance of 16 ulps of the largest number compared, so that an
  // interval computed from exact data (e.g. a power law, whose slope OLS recovers only to a few
  // ulps) is not judged beyond a theory it equals.
  const double scale = std::max({1.0, std::abs(r.theory_lo), std::abs(r.theory_hi), std::abs(j.lo), std::abs(j.hi)});
  const double tol = r.tolerance + 16 * std::numeric_limits<double>::epsilon() * scale;
  switch (r.bound) {
    case Bound::equal:
    case Bound::within: {
      const bool meets = j.lo - tol <= r.theory_hi && j.hi + tol >= r.theory_lo;
      if (meets) {
        j.verdict = Verdict::consistent;
        j.reason = hull + ", widened by the tolerance " + fmt(r.tolerance) + ", meets the theory";
        if (m.may_be_higher || m.may_be_lower) {
          j.verdict = Verdict::inconclusive;
          j.reason += ", but censored values may move the truth away from it";
        }
      } else {
        const bool below = j.hi + tol < r.theory_lo;  // measured below the theory
        j.verdict = Verdict::inconsistent;
        j.reason = hull + ", widened by the tolerance " + fmt(r.tolerance) + ", lies " + (below ? "below" : "above") +
                   " the theory";
        if ((below && m.may_be_higher) || (!below && m.may_be_lower)) {
          j.verdict = Verdict::inconclusive;
          j.reason += ", but censored values may move the truth towards it";
        }
      }
      return j;
    }
    case Bound::at_most:
      judge_one_sided(j, hull, r.theory_hi + tol, true, m);
      return j;
    case Bound::at_least:
      judge_one_sided(j, hull, r.theory_lo - tol, false, m);
      return j;
  }
  return j;
}

std::string describe(const JudgeRule& r) {
  std::string s = to_string(r.bound) + " ";
  s += r.bound == Bound::within ? hull_text(r.theory_lo, r.theory_hi) : fmt(r.theory_lo);
  s += ", tolerance " + fmt(r.tolerance);
  s += r.max_ci_width ? ", max CI width " + fmt(*r.max_ci_width) : ", no width limit";
  return s + " (judged on the hull of the t and bootstrap 95% intervals)";
}

}  // namespace attnrate
