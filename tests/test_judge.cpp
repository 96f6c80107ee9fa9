// The one verdict rule (theory/claims/judge.hpp) at spot values: every bound kind, the width
// rule, censoring, and the exact edges (a value exactly at theory +- tolerance, a width exactly
// at max-ci-width). All numbers are dyadic so the edges are exact in floating point.
#include <catch2/catch.hpp>
#include <cmath>

#include "estimators/common/input_error.hpp"
#include "theory/claims/judge.hpp"

using namespace attnrate;

namespace {

Measurement interval(double lo, double hi) {
  Measurement m;
  m.value = (lo + hi) / 2;
  m.ci_t_lo = m.ci_boot_lo = lo;
  m.ci_t_hi = m.ci_boot_hi = hi;
  return m;
}

JudgeRule rule(Bound b, double t, double tol, std::optional<double> width = std::nullopt) {
  JudgeRule r;
  r.bound = b;
  r.theory_lo = r.theory_hi = t;
  r.tolerance = tol;
  r.max_ci_width = width;
  return r;
}

Verdict verdict(const JudgeRule& r, const Measurement& m) { return judge(r, m).verdict; }

}  // namespace

TEST_CASE("judge equal: theory within tolerance of the hull, edges inclusive", "[judge]") {
  const Measurement m = interval(-0.75, -0.5);
  CHECK(verdict(rule(Bound::equal, -0.625, 0.0), m) == Verdict::consistent);
  CHECK(verdict(rule(Bound::equal, -0.75, 0.0), m) == Verdict::consistent);         // at lo
  CHECK(verdict(rule(Bound::equal, -0.875, 0.125), m) == Verdict::consistent);      // exactly lo - tol
  CHECK(verdict(rule(Bound::equal, -0.875, 0.0625), m) == Verdict::inconsistent);   // beyond lo - tol
  CHECK(verdict(rule(Bound::equal, -0.375, 0.125), m) == Verdict::consistent);      // exactly hi + tol
  CHECK(verdict(rule(Bound::equal, -0.25, 0.125), m) == Verdict::inconsistent);
}

TEST_CASE("judge: the hull of the t and bootstrap intervals is judged", "[judge]") {
  Measurement m = interval(0.0, 0.25);
  m.ci_boot_lo = 0.5;  // bootstrap interval [0.5, 0.75], t interval [0, 0.25]
  m.ci_boot_hi = 0.75;
  const Judgement j = judge(rule(Bound::equal, 0.625, 0.0), m);
  CHECK(j.lo == 0.0);
  CHECK(j.hi == 0.75);
  CHECK(j.verdict == Verdict::consistent);  // inside the boot interval only: the hull decides
}

TEST_CASE("judge: the width rule, linear and log scale, edge inclusive", "[judge]") {
  const Measurement m = interval(1.0, 1.5);
  CHECK(verdict(rule(Bound::equal, 1.25, 0.0, 0.5), m) == Verdict::consistent);     // width == max
  CHECK(verdict(rule(Bound::equal, 1.25, 0.0, 0.4375), m) == Verdict::inconclusive);
  CHECK(verdict(rule(Bound::equal, 9.0, 0.0, 0.4375), m) == Verdict::inconclusive);  // too wide beats inconsistent
  Measurement r = interval(1.0, 4.0);
  r.width_scale = WidthScale::log;
  CHECK(judge(rule(Bound::at_least, 0.5, 0.0, 1.0), r).width == Approx(std::log(4.0)).epsilon(1e-15));
  CHECK(verdict(rule(Bound::at_least, 0.5, 0.0, 1.0), r) == Verdict::inconclusive);  // log 4 > 1
  CHECK(verdict(rule(Bound::at_least, 0.5, 0.0, 1.5), r) == Verdict::consistent);    // log 4 < 1.5
  Measurement neg = interval(-1.0, 4.0);
  neg.width_scale = WidthScale::log;
  CHECK_THROWS_AS(judge(rule(Bound::at_least, 0.5, 0.0), neg), InputError);
}

TEST_CASE("judge at-most: one-sided, with the tolerance above the theory", "[judge]") {
  CHECK(verdict(rule(Bound::at_most, -0.75, 0.0), interval(-1.0, -0.875)) == Verdict::consistent);
  CHECK(verdict(rule(Bound::at_most, -0.75, 0.125), interval(-1.0, -0.625)) == Verdict::consistent);  // hi == t + tol
  CHECK(verdict(rule(Bound::at_most, -0.75, 0.125), interval(-0.5, -0.25)) == Verdict::inconsistent);
  CHECK(verdict(rule(Bound::at_most, -0.75, 0.125), interval(-0.625, -0.25)) == Verdict::inconclusive);  // lo == t + tol
  CHECK(verdict(rule(Bound::at_most, -0.75, 0.0), interval(-1.0, -0.5)) == Verdict::inconclusive);
  // A much smaller value is consistent with an upper bound (a smoother function learns faster).
  CHECK(verdict(rule(Bound::at_most, -0.75, 0.0), interval(-2.0, -1.5)) == Verdict::consistent);
}

TEST_CASE("judge at-least: one-sided, with the tolerance below the theory", "[judge]") {
  CHECK(verdict(rule(Bound::at_least, 4.0, 0.0), interval(4.0, 8.0)) == Verdict::consistent);  // lo == t
  CHECK(verdict(rule(Bound::at_least, 4.0, 0.5), interval(3.5, 8.0)) == Verdict::consistent);  // lo == t - tol
  CHECK(verdict(rule(Bound::at_least, 4.0, 0.5), interval(2.0, 3.25)) == Verdict::inconsistent);
  CHECK(verdict(rule(Bound::at_least, 4.0, 0.5), interval(2.0, 3.5)) == Verdict::inconclusive);  // hi == t - tol
  CHECK(verdict(rule(Bound::at_least, 4.0, 0.0), interval(100.0, 200.0)) == Verdict::consistent);
}

TEST_CASE("judge within: the widened hull must meet the range", "[judge]") {
  JudgeRule r = rule(Bound::within, 0.0, 0.125);
  r.theory_lo = -1.0;
  r.theory_hi = -0.75;
  CHECK(verdict(r, interval(-0.875, -0.8125)) == Verdict::consistent);  // inside
  CHECK(verdict(r, interval(-0.625, -0.5)) == Verdict::consistent);     // lo - tol == theory_hi
  CHECK(verdict(r, interval(-0.5, -0.25)) == Verdict::inconsistent);
  CHECK(verdict(r, interval(-1.25, -1.125)) == Verdict::consistent);    // hi + tol == theory_lo
  CHECK(verdict(r, interval(-1.5, -1.25)) == Verdict::inconsistent);
  CHECK(verdict(r, interval(-2.0, 1.0)) == Verdict::consistent);        // hull contains the range
}

TEST_CASE("judge: censored measurements never give a verdict they could reverse", "[judge]") {
  Measurement m = interval(5.0, 6.0);
  m.may_be_lower = true;  // substituted values may have pushed it up
  CHECK(verdict(rule(Bound::at_least, 4.0, 0.0), m) == Verdict::inconclusive);
  m.may_be_lower = false;
  m.may_be_higher = true;  // the truth can only be higher: still at least 4
  CHECK(verdict(rule(Bound::at_least, 4.0, 0.0), m) == Verdict::consistent);
  Measurement low = interval(1.0, 2.0);
  low.may_be_higher = true;  // below the bound, but the truth may be above it
  CHECK(verdict(rule(Bound::at_least, 4.0, 0.0), low) == Verdict::inconclusive);
  low.may_be_higher = false;
  low.may_be_lower = true;  // the truth can only be lower: still below
  CHECK(verdict(rule(Bound::at_least, 4.0, 0.0), low) == Verdict::inconsistent);

  Measurement u = interval(1.0, 2.0);
  u.may_be_higher = true;
  CHECK(verdict(rule(Bound::at_most, 4.0, 0.0), u) == Verdict::inconclusive);
  u.may_be_higher = false;
  u.may_be_lower = true;
  CHECK(verdict(rule(Bound::at_most, 4.0, 0.0), u) == Verdict::consistent);
  Measurement over = interval(5.0, 6.0);
  over.may_be_lower = true;
  CHECK(verdict(rule(Bound::at_most, 4.0, 0.0), over) == Verdict::inconclusive);

  Measurement e = interval(0.5, 1.5);
  e.may_be_higher = true;
  CHECK(verdict(rule(Bound::equal, 1.0, 0.0), e) == Verdict::inconclusive);
  Measurement below = interval(0.0, 0.25);
  below.may_be_lower = true;  // truth even lower: still inconsistent with 1
  CHECK(verdict(rule(Bound::equal, 1.0, 0.0), below) == Verdict::inconsistent);
  below.may_be_lower = false;
  below.may_be_higher = true;
  CHECK(verdict(rule(Bound::equal, 1.0, 0.0), below) == Verdict::inconclusive);
}

TEST_CASE("judge rejects malformed rules and measurements", "[judge]") {
  const Measurement m = interval(0.0, 1.0);
  JudgeRule r = rule(Bound::equal, 0.5, 0.0);
  r.theory_hi = 0.75;  // a range with a one-value bound
  CHECK_THROWS_AS(judge(r, m), InputError);
  CHECK_THROWS_AS(judge(rule(Bound::equal, 0.5, -0.125), m), InputError);
  CHECK_THROWS_AS(judge(rule(Bound::equal, NAN, 0.0), m), InputError);
  CHECK_THROWS_AS(judge(rule(Bound::equal, 0.5, 0.0, 0.0), m), InputError);
  CHECK_THROWS_AS(judge(rule(Bound::equal, 0.5, 0.0), interval(1.0, 0.0)), InputError);
  CHECK_THROWS_AS(judge(rule(Bound::equal, 0.5, 0.0), interval(0.0, INFINITY)), InputError);
  CHECK(parse_bound("at-most") == Bound::at_most);
  CHECK_FALSE(parse_bound("at_most").has_value());
  for (Bound b : {Bound::equal, Bound::at_most, Bound::at_least, Bound::within}) CHECK(parse_bound(to_string(b)) == b);
}

TEST_CASE("judge: a few ulps of rounding never decide a verdict, anything larger does", "[judge]") {
  // The OLS slope of an exact power law is recovered to a few ulps, with a zero-width interval.
  const double t = -2.0;
  const double ulps_below = std::nextafter(std::nextafter(t, -3.0), -3.0);
  const Measurement exact = interval(ulps_below, ulps_below);
  CHECK(verdict(rule(Bound::equal, t, 0.0), exact) == Verdict::consistent);
  CHECK(verdict(rule(Bound::at_least, t, 0.0), exact) == Verdict::consistent);
  const Measurement off = interval(t - 1e-12, t - 1e-12);
  CHECK(verdict(rule(Bound::equal, t, 0.0), off) == Verdict::inconsistent);
  CHECK(verdict(rule(Bound::at_least, t, 0.0), off) == Verdict::inconsistent);
}
