// Slope fits and verdicts: OLS against closed forms and a textbook data set, Student-t quantiles
// against closed forms and table values, t-interval coverage by simulation, the seed bootstrap
// against an exactly enumerable resampling distribution, and the verdict rule on its boundaries.
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include <catch2/catch.hpp>

#include "estimators/common/input_error.hpp"
#include "estimators/common/random.hpp"
#include "studies/stats/rate_fit.hpp"
#include "studies/stats/smoothness_estimate.hpp"

using namespace attnrate;

namespace {

constexpr double kPi = 3.141592653589793238462643383279502884;

// x = log M for the sizes, each repeated `seeds` times; y = a + b x + sigma * N(0, 1).
struct Cells {
  std::vector<double> x, y;
};
Cells line_cells(const std::vector<double>& sizes, int seeds, double a, double b, double sigma, Rng& rng) {
  Cells c;
  for (double m : sizes)
    for (int s = 0; s < seeds; ++s) {
      const double x = std::log(m);
      c.x.push_back(x);
      c.y.push_back(a + b * x + sigma * rng.normal());
    }
  return c;
}

// Half-width of the t-interval in units of the standard error: the t quantile actually used.
double used_t_quantile(const SlopeFit& f) { return (f.ci_t_hi - f.slope) / f.slope_se; }

}  // namespace

TEST_CASE("fit_slope: exact line gives the exact slope and zero uncertainty", "[rate_fit]") {
  SECTION("dyadic data: every operation is exact") {
    const std::vector<double> x{0, 0, 1, 1, 2, 2, 3, 5};  // mean 7/4, exact
    std::vector<double> y;
    for (double v : x) y.push_back(0.5 + 2.0 * v);
    const SlopeFit f = fit_slope(x, y, 0.95, 500, 3);
    CHECK(f.slope == 2.0);
    CHECK(f.intercept == 0.5);
    CHECK(f.slope_se == 0.0);
    CHECK(f.residual_sd == 0.0);
    CHECK(f.ci_t_lo == 2.0);
    CHECK(f.ci_t_hi == 2.0);
    CHECK(f.ci_boot_lo == 2.0);  // all cells of one x are equal: every resample is the data
    CHECK(f.ci_boot_hi == 2.0);
    CHECK(f.n == 8);
    CHECK(f.distinct_x == 5);
    CHECK(f.bootstrap_resamples == 500);
    CHECK(f.level == 0.95);
  }
  SECTION("x = log M, y = 1.7 - 0.6 x: exact up to rounding") {
    std::vector<double> x, y;
    for (double m = 500; m <= 64000; m *= 2)
      for (int s = 0; s < 3; ++s) {
        x.push_back(std::log(m));
        y.push_back(1.7 - 0.6 * x.back());
      }
    const SlopeFit f = fit_slope(x, y);
    CHECK(std::abs(f.slope + 0.6) <= 1e-13);
    CHECK(std::abs(f.intercept - 1.7) <= 1e-12);
    CHECK(f.slope_se <= 1e-14);
    CHECK(f.ci_t_hi - f.ci_t_lo <= 1e-12);
    CHECK(f.ci_boot_hi - f.ci_boot_lo <= 1e-13);
  }
}

TEST_CASE("fit_slope: Anscombe's quartet, data set I (published regression)", "[rate_fit]") {
  // Anscombe (1973), The American Statistician 27(1): fitted line y = 3.00 + 0.500 x,
  // se(slope) = 0.118, residual standard error 1.237 on 9 df (R: lm(y1 ~ x1, anscombe)
  // gives intercept 3.0001, slope 0.5001, slope se 0.1179).
  const std::vector<double> x{10, 8, 13, 9, 11, 14, 6, 4, 12, 7, 5};
  const std::vector<double> y{8.04, 6.95, 7.58, 8.81, 8.33, 9.96, 7.24, 4.26, 10.84, 4.82, 5.68};
  const SlopeFit f = fit_slope(x, y);
  CHECK(std::abs(f.slope - 0.5001) <= 5e-5);
  CHECK(std::abs(f.intercept - 3.0001) <= 5e-5);
  CHECK(std::abs(f.slope_se - 0.1179) <= 5e-5);
  CHECK(std::abs(f.residual_sd - 1.237) <= 5e-4);
  // Closed form: Sxx = 110 and Sxy = 55.01 for these data.
  CHECK(f.slope == Approx(55.01 / 110.0).epsilon(1e-13));
  CHECK(f.n == 11);
  CHECK(f.distinct_x == 11);
  // One cell per x: nothing to resample, the bootstrap interval collapses onto the OLS slope.
  CHECK(f.ci_boot_lo == f.slope);
  CHECK(f.ci_boot_hi == f.slope);
}

TEST_CASE("fit_slope: agrees with the normal equations in long double", "[rate_fit]") {
  Rng rng(derive_seed(11, {hash_name("rate_fit normal equations")}));
  const Cells c = line_cells({250, 1000, 4000, 16000, 64000, 256000}, 5, 3.0, -0.4, 0.3, rng);
  const SlopeFit f = fit_slope(c.x, c.y);

  long double sx = 0, sy = 0, sxx = 0, sxy = 0;
  const auto n = static_cast<long double>(c.x.size());
  for (std::size_t i = 0; i < c.x.size(); ++i) {
    const long double xi = c.x[i], yi = c.y[i];
    sx += xi;
    sy += yi;
    sxx += xi * xi;
    sxy += xi * yi;
  }
  const long double det = n * sxx - sx * sx;
  const long double b = (n * sxy - sx * sy) / det;
  const long double a = (sy * sxx - sx * sxy) / det;
  long double rss = 0;
  for (std::size_t i = 0; i < c.x.size(); ++i) {
    const long double e = c.y[i] - a - b * c.x[i];
    rss += e * e;
  }
  const long double centred_sxx = sxx - sx * sx / n;
  const long double se = std::sqrt(rss / (n - 2) / centred_sxx);

  CHECK(f.slope == Approx(static_cast<double>(b)).epsilon(1e-12));
  CHECK(f.intercept == Approx(static_cast<double>(a)).epsilon(1e-12));
  CHECK(f.slope_se == Approx(static_cast<double>(se)).epsilon(1e-10));
  CHECK(f.residual_sd == Approx(static_cast<double>(std::sqrt(rss / (n - 2)))).epsilon(1e-10));
  CHECK(f.n == c.x.size());
  CHECK(f.distinct_x == 6);
}

TEST_CASE("fit_slope: t-interval uses the Student-t quantile with n - 2 degrees of freedom", "[rate_fit]") {
  Rng rng(derive_seed(12, {hash_name("rate_fit t quantile")}));
  SECTION("1 df (n = 3): t_p = tan(pi (p - 1/2))") {
    const Cells c = line_cells({100, 1000, 10000}, 1, 0.0, -0.5, 0.2, rng);
    for (double level : {0.95, 0.9, 0.5}) {
      const double p = 1.0 - (1.0 - level) / 2.0;
      const SlopeFit f = fit_slope(c.x, c.y, level, 10);
      CHECK(used_t_quantile(f) == Approx(std::tan(kPi * (p - 0.5))).epsilon(1e-10));
    }
  }
  SECTION("2 df (n = 4): t_p = (2p - 1) / sqrt(2 p (1 - p))") {
    const Cells c = line_cells({100, 1000}, 2, 0.0, -0.5, 0.2, rng);
    for (double level : {0.95, 0.9, 0.5}) {
      const double p = 1.0 - (1.0 - level) / 2.0;
      const SlopeFit f = fit_slope(c.x, c.y, level, 10);
      CHECK(used_t_quantile(f) == Approx((2 * p - 1) / std::sqrt(2 * p * (1 - p))).epsilon(1e-10));
    }
  }
  SECTION("10 df (n = 12): table value t_{0.975, 10} = 2.228138851986") {
    const Cells c = line_cells({100, 200, 400, 800, 1600, 3200}, 2, 0.0, -0.5, 0.2, rng);
    const SlopeFit f = fit_slope(c.x, c.y, 0.95, 10);
    CHECK(std::abs(used_t_quantile(f) - 2.228138851986) <= 1e-9);
    CHECK(f.ci_t_lo == Approx(f.slope - (f.ci_t_hi - f.slope)).epsilon(1e-14));  // symmetric
  }
}

TEST_CASE("fit_slope: t-interval covers the true slope at the nominal rate", "[rate_fit][claims]") {
  // n = 6 cells (4 df) so that a normal quantile or a wrong df would visibly under-cover
  // (z = 1.96 instead of t_4 = 2.776 gives ~88% coverage at 95%).
  const double true_slope = -2.0 / 3.0;
  const int reps = 2000;
  for (double level : {0.95, 0.8}) {
    Rng rng(derive_seed(13, {hash_name("rate_fit coverage"), static_cast<std::uint64_t>(level * 100)}));
    int covered = 0;
    for (int r = 0; r < reps; ++r) {
      const Cells c = line_cells({500, 2000, 8000}, 2, 1.5, true_slope, 0.25, rng);
      const SlopeFit f = fit_slope(c.x, c.y, level, 1);
      if (f.ci_t_lo <= true_slope && true_slope <= f.ci_t_hi) ++covered;
    }
    const double frac = static_cast<double>(covered) / reps;
    const double band = 4.0 * std::sqrt(level * (1 - level) / reps);  // binomial 4 sigma
    INFO("level " << level << ": coverage " << frac << " (allowed +- " << band << ")");
    CHECK(std::abs(frac - level) <= band);
  }
}

TEST_CASE("quantile_type7 matches the Hyndman-Fan type 7 definition", "[rate_fit]") {
  // Values from the definition h = (B-1) p (also R's quantile(..., type = 7)).
  const std::vector<double> v{4, 1, 3, 2};  // unsorted on purpose
  CHECK(quantile_type7(v, 0.0) == 1.0);
  CHECK(quantile_type7(v, 1.0) == 4.0);
  CHECK(quantile_type7(v, 0.1) == Approx(1.3).epsilon(1e-15));
  CHECK(quantile_type7(v, 0.5) == 2.5);
  CHECK(quantile_type7(v, 0.75) == 3.25);
  std::vector<double> ten;
  for (int i = 1; i <= 10; ++i) ten.push_back(i);
  CHECK(quantile_type7(ten, 0.25) == 3.25);
  CHECK(quantile_type7(ten, 0.975) == Approx(9.775).epsilon(1e-15));
  CHECK(quantile_type7({7.0}, 0.3) == 7.0);
  CHECK_THROWS_AS(quantile_type7({}, 0.5), InputError);
  CHECK_THROWS_AS(quantile_type7(v, -0.1), InputError);
  CHECK_THROWS_AS(quantile_type7(v, 1.1), InputError);
  CHECK_THROWS_AS(quantile_type7({1.0, std::nan("")}, 0.5), InputError);
}

TEST_CASE("fit_slope: seed bootstrap matches the enumerable resampling distribution", "[rate_fit]") {
  // x = {0, 0, 1, 1}: slope = mean(y*(x=1)) - mean(y*(x=0)). With y = {0, 1} at x = 0 and
  // y = {0, 2} at x = 1, resampling two cells with replacement within each x gives
  // m0 in {0, 1/2, 1} and m1 in {0, 1, 2} with probabilities (1, 2, 1)/4, so the slope D = m1 - m0
  // takes -1, -1/2, 0, 1/2, 1, 3/2, 2 with probabilities (1, 2, 3, 4, 3, 2, 1)/16.
  // CDF: 1/16, 3/16, 6/16, 10/16, 13/16, 15/16, 1. Quantiles strictly inside a CDF step are that atom:
  // 2.5% -> -1, 97.5% -> 2, 25% -> 0, 75% -> 1. Pooling the x groups would give slopes down to -2
  // (and up to 2.5 is impossible but -1.5 is possible); permuting without replacement gives 0.5 always.
  const std::vector<double> x{0, 0, 1, 1};
  const std::vector<double> y{0, 1, 0, 2};
  const int B = 20000;  // the CDF margins (>= 0.0375) are > 20 Monte Carlo sd
  const SlopeFit f95 = fit_slope(x, y, 0.95, B, 21);
  CHECK(f95.slope == 0.5);
  CHECK(f95.ci_boot_lo == -1.0);
  CHECK(f95.ci_boot_hi == 2.0);
  const SlopeFit f50 = fit_slope(x, y, 0.5, B, 22);
  CHECK(f50.ci_boot_lo == 0.0);
  CHECK(f50.ci_boot_hi == 1.0);
  // Changing the order of the cells changes nothing about the distribution.
  const SlopeFit g = fit_slope({1, 0, 1, 0}, {2, 1, 0, 0}, 0.5, B, 23);
  CHECK(g.ci_boot_lo == 0.0);
  CHECK(g.ci_boot_hi == 1.0);
}

TEST_CASE("fit_slope: bootstrap interval contains the slope, is reproducible and comparable to t", "[rate_fit]") {
  Rng rng(derive_seed(14, {hash_name("rate_fit bootstrap")}));
  const Cells c = line_cells({500, 1000, 2000, 4000, 8000}, 8, 2.0, -0.5, 0.2, rng);
  const SlopeFit a = fit_slope(c.x, c.y, 0.95, 2000, 101);
  const SlopeFit b = fit_slope(c.x, c.y, 0.95, 2000, 101);
  const SlopeFit d = fit_slope(c.x, c.y, 0.95, 2000, 102);

  CHECK(a.ci_boot_lo < a.slope);
  CHECK(a.slope < a.ci_boot_hi);
  // Same seed: bit-identical; other seed: a different Monte Carlo interval; the OLS part is seed-free.
  CHECK(a.ci_boot_lo == b.ci_boot_lo);
  CHECK(a.ci_boot_hi == b.ci_boot_hi);
  CHECK((a.ci_boot_lo != d.ci_boot_lo || a.ci_boot_hi != d.ci_boot_hi));
  CHECK(a.slope == d.slope);
  CHECK(a.ci_t_lo == d.ci_t_lo);
  // Homoscedastic data, 8 seeds per size: both intervals measure the same noise.
  const double ratio = (a.ci_boot_hi - a.ci_boot_lo) / (a.ci_t_hi - a.ci_t_lo);
  INFO("bootstrap / t width ratio " << ratio);
  CHECK(ratio >= 0.5);
  CHECK(ratio <= 2.0);

  // As a measurement, the slope is judged on the hull of both intervals.
  const Measurement m = slope_measurement(a, "slope", {{"d", "5"}});
  CHECK(m.value == a.slope);
  CHECK(m.lo() == std::min(a.ci_t_lo, a.ci_boot_lo));
  CHECK(m.hi() == std::max(a.ci_t_hi, a.ci_boot_hi));
  CHECK(m.select.at("d") == "5");
  CHECK(m.details.at("cells_used") == a.n);
}

TEST_CASE("fit_slope: rejects bad input with InputError", "[rate_fit]") {
  const std::vector<double> x{1, 2, 3, 4};
  const std::vector<double> y{1, 0, 2, 1};
  const double nan = std::nan(""), inf = HUGE_VAL;
  CHECK_THROWS_AS(fit_slope(x, {1, 0, 2}), InputError);                   // size mismatch
  CHECK_THROWS_AS(fit_slope({1, 2}, {1, 0}), InputError);                 // n < 3
  CHECK_THROWS_AS(fit_slope({2, 2, 2, 2}, y), InputError);                // one distinct x
  CHECK_THROWS_AS(fit_slope({1, 2, nan, 4}, y), InputError);              // non-finite x
  CHECK_THROWS_AS(fit_slope(x, {1, inf, 2, 1}), InputError);              // non-finite y
  CHECK_THROWS_AS(fit_slope(x, {1, -inf, 2, 1}), InputError);
  CHECK_THROWS_AS(fit_slope(x, y, 0.0), InputError);                      // level outside (0, 1)
  CHECK_THROWS_AS(fit_slope(x, y, 1.0), InputError);
  CHECK_THROWS_AS(fit_slope(x, y, nan), InputError);
  CHECK_THROWS_AS(fit_slope(x, y, 0.95, 0), InputError);                  // no resamples
  CHECK_THROWS_AS(fit_slope({1, 1 + 1e-300, 1, 1}, y), InputError);       // Sxx underflows
  CHECK_THROWS_AS(fit_slope(x, {1, 0, 2}), std::invalid_argument);        // the documented base type
  CHECK_THROWS_WITH(fit_slope({2, 2, 2}, {1, 2, 3}), Catch::Contains("distinct x"));
  CHECK_THROWS_WITH(fit_slope(x, {1, 0, nan, 1}), Catch::Contains("cell 2"));
  CHECK_NOTHROW(fit_slope({1, 2, 2}, {0, 1, 1.5}, 0.95, 1));              // the minimum: 3 cells, 2 sizes
}

TEST_CASE("smoothness estimates invert the rate exponents, with swapped and clipped intervals", "[rate]") {
  for (double b : {0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 7.0}) {
    CHECK(b_from_error_slope(-2.0 * b / (2.0 * b + 1.0)) == Approx(b).epsilon(1e-12));
    CHECK(b_from_pieces_slope(1.0 / (2.0 * b + 1.0)) == Approx(b).epsilon(1e-12));
  }
  CHECK(b_from_error_slope(0.1) == 0.0);     // a growing error: no smoothness
  CHECK(b_from_error_slope(-1.0) == 100.0);  // the parametric rate or faster: beyond the clip
  CHECK(b_from_pieces_slope(0.0) == 100.0);  // K does not grow
  SlopeFit f;
  f.slope = -0.8;  // b = 2
  f.ci_t_lo = -1.2;  // beyond -1: clipped to 100
  f.ci_t_hi = -0.75;  // b = 1.5
  f.ci_boot_lo = -0.9;  // b = 4.5
  f.ci_boot_hi = -2.0 / 3.0;  // b = 1
  const Measurement m = b_hat_measurement(f, b_from_error_slope, "error-slope", {{"activation", "weierstrass:2"}});
  CHECK(m.quantity == "b-hat");
  CHECK(m.select.at("from") == "error-slope");
  CHECK(m.select.at("activation") == "weierstrass:2");
  CHECK(m.value == Approx(2.0).epsilon(1e-12));
  CHECK(m.ci_t_lo == Approx(1.5).epsilon(1e-12));
  CHECK(m.ci_t_hi == 100.0);
  CHECK(m.ci_boot_lo == Approx(1.0).epsilon(1e-12));
  CHECK(m.ci_boot_hi == Approx(4.5).epsilon(1e-12));
}

TEST_CASE("b_hat by subsampling: the OLS slope of log K on log M and its t interval, by hand", "[rate]") {
  // Selected K on M, M/2, M/4, M/8 = 16000, 8000, 4000, 2000: 8, 8, 4, 4.
  std::vector<std::size_t> asked;
  const auto pieces = [&asked](std::size_t Mk) {
    asked.push_back(Mk);
    return SelectedSpace{3, Mk >= 8000 ? 8 : 4, false};
  };
  const nlohmann::json bh = b_hat_by_subsampling(16000, 5, pieces);
  CHECK(asked == std::vector<std::size_t>{16000, 8000, 4000, 2000});
  // x = log M_j = log 16000 - j log 2, y = log K_j = log 2 * (3, 3, 2, 2): centred x = log 2 (1.5, 0.5,
  // -0.5, -1.5), Sxx = 5 log^2 2, Sxy = 2 log^2 2, slope 0.4, residuals log 2 (-0.1, 0.3, -0.3, 0.1),
  // RSS = 0.2 log^2 2, se = sqrt(RSS / 2 / Sxx) = sqrt(0.02) = 0.141421..., t(0.975, 2) = 4.302653.
  const double slope = 0.4, half = 4.302652729749464 * std::sqrt(0.02);
  CHECK(bh.at("slope_log_K_on_log_M").get<double>() == Approx(slope).epsilon(1e-12));
  CHECK(bh.at("value").get<double>() == Approx((1 / slope - 1) / 2).epsilon(1e-12));  // 0.75
  // Both slope ends leave (0, 1): the upper gives b < 0, clipped to 0; the lower (K may not grow) 100.
  CHECK(slope + half > 1);
  CHECK(slope - half < 0);
  CHECK(bh.at("ci_t") == nlohmann::json{0.0, 100.0});
  CHECK(bh.at("subsamples").size() == 4);
  CHECK(bh.at("subsamples")[3].at("M") == 2000);

  // K near 3 M^(1/5) (b = 2): an interval inside the clip, against the OLS sums written out.
  const std::vector<int> K{20, 17, 15, 13};  // M = 16000, 8000, 4000, 2000
  const nlohmann::json near = b_hat_by_subsampling(16000, 5, [&K](std::size_t Mk) {
    return SelectedSpace{3, K[static_cast<std::size_t>(std::log2(16000.0 / static_cast<double>(Mk)) + 0.5)], false};
  });
  double mx = 0, my = 0;
  for (int j = 0; j < 4; ++j) {
    mx += std::log(16000.0 / std::ldexp(1.0, j)) / 4;
    my += std::log(static_cast<double>(K[static_cast<std::size_t>(j)])) / 4;
  }
  double sxx = 0, sxy = 0, syy = 0;
  for (int j = 0; j < 4; ++j) {
    const double dx = std::log(16000.0 / std::ldexp(1.0, j)) - mx, dy = std::log(static_cast<double>(K[static_cast<std::size_t>(j)])) - my;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  const double s = sxy / sxx, se = std::sqrt((syy - s * sxy) / 2 / sxx), h = 4.302652729749464 * se;
  const auto b_of = [](double v) { return (1 / v - 1) / 2; };
  REQUIRE(s - h > 0);
  REQUIRE(b_of(s + h) > 0);
  CHECK(near.at("value").get<double>() == Approx(b_of(s)).epsilon(1e-10));
  CHECK(near.at("ci_t")[0].get<double>() == Approx(b_of(s + h)).epsilon(1e-8));
  CHECK(near.at("ci_t")[1].get<double>() == Approx(b_of(s - h)).epsilon(1e-8));

  // K that does not grow: no value, and why.
  const nlohmann::json flat = b_hat_by_subsampling(16000, 5, [](std::size_t) { return SelectedSpace{1, 4, false}; });
  CHECK(flat.at("value").is_null());
  CHECK(flat.at("ci_t")[0].is_null());
  CHECK(flat.at("why_no_value") == "the selected K does not grow with M");
  // Subsamples below min_M are not fitted: two sizes are too few.
  std::size_t calls = 0;
  const nlohmann::json few = b_hat_by_subsampling(100, 40, [&calls](std::size_t) {
    ++calls;
    return SelectedSpace{1, 2, false};
  });
  CHECK(calls == 2);
  CHECK(few.at("value").is_null());
  CHECK(few.at("why_no_value") == "fewer than 3 subsample sizes of at least 40 samples, the fewest the selection can use");
  // K doubling with M: slope 1 up to rounding, b_hat exactly 0 (not 7.8e-16). The points lie on
  // a line, so the t interval would have width 0 (rounding): none is given, and why.
  const nlohmann::json doubling = b_hat_by_subsampling(16000, 5, [](std::size_t Mk) {
    return SelectedSpace{3, static_cast<int>(Mk / 500), false};
  });
  CHECK(doubling.at("value").get<double>() == 0.0);
  CHECK(doubling.at("ci_t")[0].is_null());
  CHECK(doubling.at("ci_t")[1].is_null());
  CHECK_THAT(doubling.at("why_no_interval").get<std::string>(), Catch::Contains("exactly on a line"));
  // There the value is the clip's 0, and says so; a slope below 1 gives no such note (above).
  CHECK_THAT(doubling.at("at_bound").get<std::string>(),
             Catch::Contains("(slope 1 of log K_hat on log M), which no b > 0 gives: b_hat is 0, the end of its range"));
  CHECK_FALSE(bh.contains("at_bound"));
  CHECK_FALSE(near.contains("at_bound"));
  // A subsample whose fit fails ends the subsampling with the reason; the sizes before it count.
  const nlohmann::json failed = b_hat_by_subsampling(16000, 5, [](std::size_t Mk) {
    if (Mk < 4000) throw InputError("residual variance undefined");
    return SelectedSpace{3, Mk >= 8000 ? 8 : 4, false};
  });
  CHECK(failed.at("subsamples").size() == 3);
  CHECK(failed.at("subsample_failed") == "the fit on 2000 samples failed: residual variance undefined");
  CHECK(failed.at("value").is_number());  // three sizes remain
  // The fit at hand failing is the caller's error.
  CHECK_THROWS_AS(b_hat_by_subsampling(16000, 5, [](std::size_t) -> SelectedSpace { throw InputError("x"); }),
                  InputError);
  CHECK_FALSE(bh.contains("grid_limited"));
  CHECK(bh.at("subsamples")[0].at("largest_pieces") == false);
  // Selections at the top of their grid are named: K_hat there is bounded by the grid.
  const nlohmann::json capped = b_hat_by_subsampling(16000, 5, [](std::size_t Mk) {
    return SelectedSpace{3, static_cast<int>(Mk / 1000), Mk <= 4000};
  });
  CHECK(capped.at("subsamples")[2].at("largest_pieces") == true);
  CHECK(capped.at("grid_limited").get<std::string>().starts_with("at M = 4000, 2000 the selected K is the largest"));
  // The bias's direction follows which sizes are capped: the smaller ones steepen the slope of
  // log K on log M (b_hat low), the larger ones flatten it (high); every size: the grid's growth.
  CHECK_THAT(capped.at("grid_limited").get<std::string>(), Catch::Contains("biased low"));
  const nlohmann::json top = b_hat_by_subsampling(16000, 5, [](std::size_t Mk) {
    return SelectedSpace{3, static_cast<int>(Mk / 1000), Mk >= 8000};
  });
  CHECK_THAT(top.at("grid_limited").get<std::string>(), Catch::Contains("biased high"));
  // Capped at one K everywhere: the slope is 0 and why_no_value names the grid, not the data.
  const nlohmann::json all = b_hat_by_subsampling(16000, 5, [](std::size_t) { return SelectedSpace{1, 2, true}; });
  CHECK(all.at("value").is_null());
  CHECK_THAT(all.at("why_no_value").get<std::string>(), Catch::Contains("largest of the candidate grid at every size"));
  CHECK_THAT(all.at("grid_limited").get<std::string>(), Catch::Contains("follows the grid's top"));
}
