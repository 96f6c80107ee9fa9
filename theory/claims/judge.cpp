#include "theory/claims/judge.hpp"

#include <cmath>
#include <sstream>

#include "estimators/common/input_error.hpp"

namespace attnrate {

std::string to_string(Verdict v) {
  switch (v) {
    case Verdict::consistent: return "consistent";
    case Verdict::inconclusive: return "inconclusive";
    case Verdict::inconsistent: return "inconsistent";
  }
  return "?";
}

std::string to_string(Bound b) {
  switch (b) {
    case Bound::equal: return "equal";
    case Bound::at_most: return "at-most";
    case Bound::at_least: return "at-least";
    case Bound::within: return "within";
  }
  return "?";
}

std::optional<Bound> parse_bound(const std::string& s) {
  for (Bound b : {Bound::equal, Bound::at_most, Bound::at_least, Bound::within})
    if (to_string(b) == s) return b;
  return std::nullopt;
}

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
  const double tol = r.tolerance;
  // Which side of the theory the truth may lie on, beyond what was measured.
  bool toward_higher_ok = false, toward_lower_ok = false;  // censoring that can only help the claim
  switch (r.bound) {
    case Bound::equal:
    case Bound::within: {
      const bool meets = j.lo - tol <= r.theory_hi && j.hi + tol >= r.theory_lo;
      if (meets) {
        j.verdict = Verdict::consistent;
        j.reason = hull + ", widened by the tolerance " + fmt(tol) + ", meets the theory";
        if (m.may_be_higher || m.may_be_lower) {
          j.verdict = Verdict::inconclusive;
          j.reason += ", but censored values may move the truth away from it";
        }
      } else {
        const bool below = j.hi + tol < r.theory_lo;  // measured below the theory
        j.verdict = Verdict::inconsistent;
        j.reason = hull + ", widened by the tolerance " + fmt(tol) + ", lies " + (below ? "below" : "above") +
                   " the theory";
        if ((below && m.may_be_higher) || (!below && m.may_be_lower)) {
          j.verdict = Verdict::inconclusive;
          j.reason += ", but censored values may move the truth towards it";
        }
      }
      return j;
    }
    case Bound::at_most: {
      const double b = r.theory_hi + tol;
      if (j.hi <= b) {
        j.verdict = Verdict::consistent;
        j.reason = hull + " lies at or below theory + tolerance = " + fmt(b);
      } else if (j.lo > b) {
        j.verdict = Verdict::inconsistent;
        j.reason = hull + " lies above theory + tolerance = " + fmt(b);
      } else {
        j.verdict = Verdict::inconclusive;
        j.reason = hull + " contains theory + tolerance = " + fmt(b);
      }
      toward_lower_ok = m.may_be_lower;
      toward_higher_ok = false;
      if (j.verdict == Verdict::consistent && m.may_be_higher) {
        j.verdict = Verdict::inconclusive;
        j.reason += ", but censored values may put the truth above it";
      }
      if (j.verdict == Verdict::inconsistent && toward_lower_ok) {
        j.verdict = Verdict::inconclusive;
        j.reason += ", but censored values may put the truth below it";
      }
      return j;
    }
    case Bound::at_least: {
      const double b = r.theory_lo - tol;
      if (j.lo >= b) {
        j.verdict = Verdict::consistent;
        j.reason = hull + " lies at or above theory - tolerance = " + fmt(b);
      } else if (j.hi < b) {
        j.verdict = Verdict::inconsistent;
        j.reason = hull + " lies below theory - tolerance = " + fmt(b);
      } else {
        j.verdict = Verdict::inconclusive;
        j.reason = hull + " contains theory - tolerance = " + fmt(b);
      }
      toward_higher_ok = m.may_be_higher;
      if (j.verdict == Verdict::consistent && m.may_be_lower) {
        j.verdict = Verdict::inconclusive;
        j.reason += ", but censored values may put the truth below it";
      }
      if (j.verdict == Verdict::inconsistent && toward_higher_ok) {
        j.verdict = Verdict::inconclusive;
        j.reason += ", but censored values may put the truth above it";
      }
      return j;
    }
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
