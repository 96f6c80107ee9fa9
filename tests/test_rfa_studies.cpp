// Unit tests of the RFA study helpers (studies/rfa_common.hpp): n_eps interpolation and
// censoring, mean intervals, directional verdicts, censoring bookkeeping, the normalised
// error, the study-level control target, kernel GCV, and settings parsing.
#include <catch2/catch.hpp>
#include <cmath>

#include "estimators/common/input_error.hpp"
#include "estimators/common/random.hpp"
#include "studies/rfa/rfa_common.hpp"
#include "studies/rfa/rfa_studies.hpp"

using namespace attnrate;

TEST_CASE("crossing_n interpolates log-log and reports censoring", "[rfa_study]") {
  // (100, 0.8) -> (400, 0.05): log-linear, eps = 0.2 is halfway in log error, so n = 200.
  const Crossing c = crossing_n({50, 100, 400, 800}, {0.9, 0.8, 0.05, 0.01}, 0.2);
  CHECK(c.censoring == Censoring::none);
  CHECK(c.n == Approx(200.0).epsilon(1e-12));

  // A power law e = C n^-a crosses exactly at (C/eps)^(1/a), wherever the grid points are.
  const double C = 30.0, a = 0.7, eps = 0.13;
  std::vector<double> n, e;
  for (double x = 37; x < 1e5; x *= 2.3) {
    n.push_back(x);
    e.push_back(C * std::pow(x, -a));
  }
  const Crossing p = crossing_n(n, e, eps);
  CHECK(p.censoring == Censoring::none);
  CHECK(p.n == Approx(std::pow(C / eps, 1.0 / a)).epsilon(1e-10));

  // First crossing wins for a non-monotone curve.
  CHECK(crossing_n({10, 20, 40, 80}, {0.5, 0.1, 0.6, 0.05}, 0.2).n < 20.0);
  // Censoring.
  const Crossing left = crossing_n({10, 20}, {0.1, 0.05}, 0.2);
  CHECK(left.censoring == Censoring::left);
  CHECK(left.n == 10.0);
  const Crossing right = crossing_n({10, 20}, {0.5, 0.3}, 0.2);
  CHECK(right.censoring == Censoring::right);
  CHECK(right.n == 20.0);
  // An error exactly at eps counts as reached.
  CHECK(crossing_n({10, 20}, {0.5, 0.2}, 0.2).n == Approx(20.0));
  CHECK_THROWS_AS(crossing_n({10, 10}, {0.5, 0.1}, 0.2), InputError);
  CHECK_THROWS_AS(crossing_n({10, 20}, {0.5}, 0.2), InputError);
  CHECK_THROWS_AS(crossing_n({10, 20}, {0.5, 0.1}, 0.0), InputError);
}

TEST_CASE("mean_ci: Student-t interval by hand and a bootstrap inside the data range", "[rfa_study]") {
  const std::vector<double> v = {1.0, 2.0, 4.0, 3.0, 5.0};
  const MeanCi m = mean_ci(v, 0.95, 4000, 7);
  CHECK(m.mean == Approx(3.0));
  CHECK(m.sd == Approx(std::sqrt(2.5)));
  const double t975_4 = 2.7764451051977987;  // qt(0.975, 4)
  CHECK(m.t_lo == Approx(3.0 - t975_4 * std::sqrt(2.5 / 5.0)).epsilon(1e-10));
  CHECK(m.t_hi == Approx(3.0 + t975_4 * std::sqrt(2.5 / 5.0)).epsilon(1e-10));
  CHECK(m.boot_lo >= 1.0);
  CHECK(m.boot_hi <= 5.0);
  CHECK(m.boot_lo < 3.0);
  CHECK(m.boot_hi > 3.0);
  CHECK(m.lo() == std::min(m.t_lo, m.boot_lo));
  // Same seed, same interval; constant data give a degenerate interval.
  const MeanCi m2 = mean_ci(v, 0.95, 4000, 7);
  CHECK(m2.boot_lo == m.boot_lo);
  const MeanCi c = mean_ci({2.0, 2.0, 2.0}, 0.95, 100, 1);
  CHECK(c.t_lo == 2.0);
  CHECK(c.boot_hi == 2.0);
  CHECK_THROWS_AS(mean_ci({}, 0.95, 100, 1), InputError);
  CHECK_THROWS_AS(mean_ci({1.0, NAN}, 0.95, 100, 1), InputError);
}

TEST_CASE("mean_ci: the t interval covers the true mean at about its level", "[rfa_study]") {
  Rng rng(11);
  int covered = 0;
  const int trials = 2000;
  for (int k = 0; k < trials; ++k) {
    std::vector<double> v(5);
    for (auto& x : v) x = 1.0 + rng.normal();
    const MeanCi m = mean_ci(v, 0.95, 1, 1);
    covered += m.t_lo <= 1.0 && 1.0 <= m.t_hi;
  }
  // Binomial(2000, 0.95): sd ~ 0.0049; 4 sd either way.
  CHECK(covered / double(trials) == Approx(0.95).margin(0.02));
}

TEST_CASE("judge_direction: one-sided verdicts with relative tolerance and width", "[rfa_study]") {
  using D = Direction;
  CHECK(judge_direction(4, D::at_least, 5, 9, 0.0, 2, true) == Verdict::consistent);
  CHECK(judge_direction(4, D::at_least, 3.7, 9, 0.1, 2, true) == Verdict::consistent);   // bound 3.6
  CHECK(judge_direction(4, D::at_least, 3.5, 9, 0.1, 2, true) == Verdict::inconclusive);
  CHECK(judge_direction(4, D::at_least, 1, 3.5, 0.1, 2, true) == Verdict::inconsistent);
  CHECK(judge_direction(4, D::at_least, 5, 50, 0.0, 2, true) == Verdict::inconclusive);  // log width 2.3 > 2
  CHECK(judge_direction(1, D::at_most, 0.5, 0.9, 0.0, 1, true) == Verdict::consistent);
  CHECK(judge_direction(1, D::at_most, 0.5, 1.01, 0.0, 1, true) == Verdict::inconclusive);
  CHECK(judge_direction(1, D::at_most, 1.2, 1.5, 0.1, 1, true) == Verdict::inconsistent);
  CHECK(judge_direction(0.5, D::at_most, 0.2, 0.3, 0.0, 0.05, false) == Verdict::inconclusive);  // linear width 0.1
  CHECK_THROWS_AS(judge_direction(1, D::at_most, 2, 1, 0, 1, false), InputError);
}

TEST_CASE("CensorTally: which substitutions favour a claim", "[rfa_study]") {
  // ratio = n_mlp / n_rfa >= 4: a right-censored n_mlp (truth larger) or a left-censored n_rfa
  // (truth smaller) can only make the true ratio larger: conservative.
  CensorTally t;
  t.add(Censoring::right, +1, Direction::at_least);
  t.add(Censoring::left, -1, Direction::at_least);
  t.add(Censoring::none, +1, Direction::at_least);
  CHECK(t.conservative == 2);
  CHECK(t.anti == 0);
  CHECK(censored_verdict(Verdict::consistent, t) == Verdict::consistent);
  CHECK(censored_verdict(Verdict::inconsistent, t) == Verdict::inconclusive);
  CensorTally u;
  u.add(Censoring::right, -1, Direction::at_least);  // n_rfa right-censored: true ratio smaller
  u.add(Censoring::right, +1, Direction::at_most);
  CHECK(u.anti == 2);
  CHECK(censored_verdict(Verdict::consistent, u) == Verdict::inconclusive);
  CHECK(censored_verdict(Verdict::inconsistent, u) == Verdict::inconsistent);
}

TEST_CASE("normalised_test_error: 0 for the truth, (T-1)/T for the mean", "[rfa_study]") {
  arma::vec truth(1000);
  Rng rng(3);
  for (auto& v : truth) v = 2.0 + 3.0 * rng.normal();
  CHECK(normalised_test_error(truth, truth).error == 0.0);
  const arma::vec mean_pred(truth.n_elem, arma::fill::value(arma::mean(truth)));
  CHECK(normalised_test_error(mean_pred, truth).error == Approx(999.0 / 1000.0).epsilon(1e-12));
  CHECK_THROWS_AS(normalised_test_error(truth.head(10), truth), InputError);
}

TEST_CASE("first-key-poly control: key-poly on the first key, invariant floor 1 - 1/N", "[rfa_study]") {
  const int d = 6, N = 4;
  const AttentionLaw law;
  const StudyTarget control("first-key-poly:2", d, law, 5);
  const StudyTarget keypoly("key-poly:2", d, law, 5);
  CHECK(control.name() == "first-key-poly:2");
  CHECK_FALSE(control.is_permutation_invariant());
  CHECK(keypoly.is_permutation_invariant());
  CHECK(keypoly.invariant_floor(N) < 0);
  CHECK(control.invariant_floor(N) == Approx(0.75));
  const AttentionInputs x = law.sample(d, N, 200000, 9);
  const arma::vec f = control.evaluate(x);
  // Unit variance, and the best invariant predictor is the key average, which is key-poly:2 / sqrt(N)
  // (same b, same seed): its error must be 1 - 1/N (Monte Carlo, 200000 samples).
  const arma::vec best = keypoly.evaluate(x) / std::sqrt(static_cast<double>(N));
  CHECK(arma::var(f) == Approx(1.0).margin(0.02));
  const TestError e = normalised_test_error(best, f);
  CHECK(std::abs(e.error - 0.75) < 4 * e.se + 0.01);
  // Swapping key 1 with key 2 changes the control (not invariant).
  AttentionInputs y = x;
  for (std::size_t s = 0; s < 10; ++s) y.keys.swap_cols(s * N, s * N + 1);
  CHECK(arma::abs(control.evaluate(y).head(10) - f.head(10)).max() > 1e-6);
  CHECK_THROWS_AS(StudyTarget("first-key-poly:0", d, law, 5), InputError);
  CHECK_THROWS_AS(StudyTarget("nonsense", d, law, 5), InputError);
}

TEST_CASE("kernel GCV equals ridge GCV with the linear kernel", "[rfa_study]") {
  Rng rng(21);
  arma::mat Phi(60, 15);
  for (auto& v : Phi) v = rng.normal();
  arma::vec y(60);
  for (auto& v : y) v = rng.normal();
  y += Phi.col(0);
  const arma::vec grid = log_lambda_grid(1e-6, 10.0, 20);
  arma::vec scores;
  const double lambda = kernel_gcv_lambda(Phi * Phi.t(), y, grid, &scores);
  const LambdaSelection ref = select_lambda_gcv(Phi, y, grid, RidgeForm::dual);
  REQUIRE(scores.n_elem == ref.scores.n_elem);
  for (arma::uword i = 0; i < grid.n_elem; ++i) CHECK(scores[i] == Approx(ref.scores[i]).epsilon(1e-8));
  CHECK(lambda == ref.lambda);
}

TEST_CASE("RFA study settings are validated with actionable messages", "[rfa_study]") {
  Settings s(rfa_vs_mlp_keys());
  s.set("lambda", "kfold:3", "test");
  CHECK(parse_lambda(s, "lambda").rule == LambdaRule::kfold);
  CHECK(parse_lambda(s, "lambda").folds == 3);
  s.set("lambda", "0.01", "test");
  CHECK(parse_lambda(s, "lambda").lambda == 0.01);
  s.set("lambda", "often", "test");
  CHECK_THROWS_AS(parse_lambda(s, "lambda"), InputError);
  s.set("target", "key-poly:2,,mixed:2", "test");
  CHECK_THROWS_AS(get_string_list(s, "target"), InputError);
  Settings b(biased_weights_keys());
  CHECK(get_double_list(b, "mu", 0.0, 10.0) == std::vector<double>{1.0, 2.0, 4.0});
  b.set("mu", "1,x", "test");
  CHECK_THROWS_AS(get_double_list(b, "mu", 0.0, 10.0), InputError);
  // A bad target fails before any work.
  Settings r(rfa_vs_mlp_keys());
  r.set("target", "key-poly:99", "test");
  StudyContext ctx{std::filesystem::temp_directory_path() / "attnrate-rfa-never-written", 1, false, false};
  CHECK_THROWS_AS(run_rfa_vs_mlp(r, ctx), InputError);
  CHECK_FALSE(std::filesystem::exists(ctx.out / "cells.csv"));
}

