// Unit tests of the RFA study helpers: n_eps interpolation and censoring and the side on which
// censoring puts the truth of a ratio (studies/stats/sample_complexity.hpp), mean intervals
// (studies/stats/mean_ci.hpp), the normalised error, the study-level control target, kernel
// GCV, settings parsing (studies/rfa/rfa_common.hpp), and checkpoint validation on --resume.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <algorithm>
#include <fstream>
#include <sstream>
#include <tuple>

#include "estimators/common/input_error.hpp"
#include "estimators/common/random.hpp"
#include "studies/rfa/biased_weights.hpp"
#include "studies/rfa/heads.hpp"
#include "studies/rfa/rfa_common.hpp"
#include "studies/rfa/rfa_vs_mlp.hpp"
#include "studies/rfa/target_complexity.hpp"
#include "studies/stats/mean_ci.hpp"
#include "studies/stats/sample_complexity.hpp"
#include "studies/sweep/sweep.hpp"

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

TEST_CASE("exp_mean_measurement: geometric mean of ratios with exponentiated intervals and a log width", "[rfa_study]") {
  const MeanCi m = mean_ci({std::log(2.0), std::log(8.0), std::log(4.0)}, 0.95, 500, 3);
  const Measurement r = exp_mean_measurement(m, "n-ratio", {{"N", "8"}});
  CHECK(r.value == Approx(4.0).epsilon(1e-12));  // (2 * 8 * 4)^(1/3)
  CHECK(r.width_scale == WidthScale::log);
  CHECK(r.ci_t_lo < 4.0);
  CHECK(r.ci_t_hi > 4.0);
  CHECK(r.ci_t_lo * r.ci_t_hi == Approx(16.0).epsilon(1e-12));  // symmetric on the log scale around log 4
  CHECK(r.ci_boot_lo >= 2.0);
  CHECK(r.ci_boot_hi <= 8.0);
  CHECK(r.select.at("N") == "8");
  CHECK_FALSE(r.may_be_higher);
  CHECK_FALSE(r.may_be_lower);
  const Measurement e = mean_measurement(mean_ci({0.5, 0.7}, 0.95, 100, 1), "rfa-error", {}, WidthScale::log);
  CHECK(e.value == Approx(0.6));
}

TEST_CASE("add_censoring: the flagged side is where the true ratio of two n_eps lies", "[rfa_study]") {
  // Curves e = C n^-a cross eps at n* = (C/eps)^(1/a). A grid that ends before n* right-censors
  // the curve, one that starts after n* left-censors it; the true ratio n*_num / n*_den is then
  // compared with the measured one.
  const double eps = 0.2, a = 0.8;
  const auto curve = [&](double C, Censoring wanted) {
    const double n_true = std::pow(C / eps, 1.0 / a);
    const double first = wanted == Censoring::left ? 2 * n_true : wanted == Censoring::right ? n_true / 64 : n_true / 6;
    std::vector<double> n, e;
    for (double x = first; n.size() < 4; x *= 2) {
      n.push_back(x);
      e.push_back(C * std::pow(x, -a));
    }
    const Crossing c = crossing_n(n, e, eps);
    REQUIRE(c.censoring == wanted);
    return std::pair{c, n_true};
  };
  for (Censoring num : {Censoring::none, Censoring::left, Censoring::right})
    for (Censoring den : {Censoring::none, Censoring::left, Censoring::right}) {
      INFO("numerator " << to_string(num) << ", denominator " << to_string(den));
      const auto [cn, tn] = curve(40.0, num);
      const auto [cd, td] = curve(3.0, den);
      Measurement m;
      add_censoring(m, cn.censoring, +1);
      add_censoring(m, cd.censoring, -1);
      CHECK(m.may_be_higher == (num == Censoring::right || den == Censoring::left));
      CHECK(m.may_be_lower == (num == Censoring::left || den == Censoring::right));
      const double measured = cn.n / cd.n, truth = tn / td;
      if (truth > measured * (1 + 1e-9)) CHECK(m.may_be_higher);
      if (truth < measured * (1 - 1e-9)) CHECK(m.may_be_lower);
      if (num == Censoring::none && den == Censoring::none) CHECK(truth == Approx(measured).epsilon(1e-9));
    }
  // Flags accumulate over several n's, and only +1 and -1 are exponents.
  Measurement both;
  add_censoring(both, Censoring::right, +1);
  add_censoring(both, Censoring::none, -1);
  add_censoring(both, Censoring::right, -1);
  CHECK(both.may_be_higher);
  CHECK(both.may_be_lower);
  CHECK_THROWS_AS(add_censoring(both, Censoring::left, 0), InputError);
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
  // Messages that say what to write: the control among the valid names, its degree, one target.
  CHECK_THROWS_WITH(StudyTarget("nonsense", d, law, 5),
                    Catch::Contains("valid: inner-poly:p") && Catch::Contains("first-key-poly:p"));
  CHECK_THROWS_WITH(StudyTarget("first-key-poly", d, law, 5), Catch::Contains("needs a degree, e.g. \"first-key-poly:2\""));
  CHECK_THROWS_WITH(StudyTarget("key-poly:2,mixed:2", d, law, 5),
                    Catch::Contains("takes one target, got the list \"key-poly:2,mixed:2\""));
}

TEST_CASE("kernel GCV equals ridge GCV with the linear kernel", "[rfa_study]") {
  Rng rng(21);
  arma::mat Phi(60, 15);
  for (auto& v : Phi) v = rng.normal();
  arma::vec y(60);
  for (auto& v : y) v = rng.normal();
  y += Phi.col(0);
  const arma::vec grid = log_lambda_grid(1e-6, 10.0, 20);
  const LambdaSelection sel = kernel_gcv_lambda(Phi * Phi.t(), y, grid);
  const LambdaSelection ref = select_lambda_gcv(Phi, y, grid, RidgeForm::dual);
  REQUIRE(sel.scores.n_elem == ref.scores.n_elem);
  for (arma::uword i = 0; i < sel.grid.n_elem; ++i) CHECK(sel.scores[i] == Approx(ref.scores[i]).epsilon(1e-8));
  CHECK(sel.lambda == ref.lambda);
  CHECK(sel.at_edge == ref.at_edge);
}

TEST_CASE("RFA study settings are validated with actionable messages", "[rfa_study]") {
  Settings s(rfa_vs_mlp_study().keys());
  s.set("lambda", "kfold:3", "test");
  CHECK(parse_lambda(s, "lambda").rule == LambdaRule::kfold);
  CHECK(parse_lambda(s, "lambda").folds == 3);
  s.set("lambda", "0.01", "test");
  CHECK(parse_lambda(s, "lambda").lambda == 0.01);
  s.set("lambda", "often", "test");
  CHECK_THROWS_AS(parse_lambda(s, "lambda"), InputError);
  s.set("target", "key-poly:2,,mixed:2", "test");
  CHECK_THROWS_AS(get_string_list(s, "target"), InputError);
  Settings b(biased_weights_study().keys());
  CHECK(get_double_list(b, "mu", 0.0, 10.0) == std::vector<double>{1.0, 2.0, 4.0});
  b.set("mu", "1,x", "test");
  CHECK_THROWS_AS(get_double_list(b, "mu", 0.0, 10.0), InputError);
  // A bad target fails before any work.
  Settings r(rfa_vs_mlp_study().keys());
  r.set("target", "key-poly:99", "test");
  StudyContext ctx{std::filesystem::temp_directory_path() / "attnrate-rfa-never-written", 1, false, false};
  CHECK_THROWS_AS(rfa_vs_mlp_study().run(r, ctx), InputError);
  CHECK_FALSE(std::filesystem::exists(ctx.out / "cells.csv"));
}


TEST_CASE("the RFA studies take no verdict options", "[rfa_study]") {
  for (const auto& keys : {rfa_vs_mlp_study().keys(), biased_weights_study().keys(), target_complexity_study().keys(), heads_study().keys()})
    for (const auto& k : keys) {
      INFO(k.key);
      CHECK(k.key.find("tolerance") == std::string::npos);
      CHECK(k.key.find("threshold") == std::string::npos);
      CHECK(k.key.find("max-ci-width") == std::string::npos);
      CHECK(k.key.find("claim") == std::string::npos);
    }
  Settings b(biased_weights_study().keys());
  b.set("n", "250,500", "test");
  CHECK_THROWS_WITH(biased_weights_study().check(b), Catch::Contains("from-n"));
  Settings t(target_complexity_study().keys());
  t.set("p", "1,11", "test");
  CHECK_THROWS_AS(target_complexity_study().check(t), InputError);
  Settings h(heads_study().keys());
  h.set("sigma-act", "exp", "test");
  CHECK_THROWS_WITH(heads_study().check(h), Catch::Contains("relu only"));
  CHECK_NOTHROW(rfa_vs_mlp_study().check(Settings(rfa_vs_mlp_study().keys())));
}

TEST_CASE("heads --resume reuses valid checkpoints and recomputes one whose value fails validation", "[rfa_study]") {
  Settings s(heads_study().keys());
  s.set("heads", "8,16,32", "test");
  s.set("n", "100", "test");
  s.set("seeds", "2", "test");
  s.set("bootstrap", "100", "test");
  const auto dir = std::filesystem::temp_directory_path() / ("attnrate-heads-resume-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  StudyContext ctx{dir, 1, false, false};
  const nlohmann::json first = heads_study().run(s, ctx);
  REQUIRE(first.at("quantities").size() == 1);
  const Measurement m = measurement_from_json(first.at("quantities")[0]);
  CHECK(m.quantity == "gap-slope");
  CHECK(m.details.at("figure") == "heads.png");
  CHECK(std::filesystem::exists(dir / "heads.png"));
  // Its penalty choices are the kernel's, flagged in their own cells.csv column.
  const std::string edge_column = first.at("lambda_at_grid_edge").at("column").get<std::string>();
  CHECK(edge_column == "lambda_K_at_edge");
  {
    std::ifstream csv(dir / "cells.csv");
    std::string header;
    std::getline(csv, header);
    CHECK(("," + header + ",").find("," + edge_column + ",") != std::string::npos);
  }

  // A checkpoint whose checksum is right but whose error is negative is not a result of this
  // study: it must be recomputed, and the results must not change.
  const auto cell = dir / "cells" / "rep1.json";
  nlohmann::json record;
  std::ifstream(cell) >> record;
  CHECK(record.at("study") == "heads");
  CHECK(record.at("cell") == "rep1");
  nlohmann::json forged = record;
  forged["value"][0]["error"] = -1.0;
  forged["checksum"] = checkpoint_checksum(forged["value"]);
  std::ofstream(cell) << forged.dump(1);
  SweepSpec spec;
  spec.study = "heads";
  spec.fingerprint = record.at("fingerprint");
  CHECK(read_checkpoint(cell, spec, "rep1", nullptr).has_value());  // the engine alone accepts it
  ctx.resume = true;
  const nlohmann::json second = heads_study().run(s, ctx);
  CHECK(second.at("quantities") == first.at("quantities"));
  nlohmann::json rewritten;
  std::ifstream(cell) >> rewritten;
  // Recomputed: equal to the original up to the timings.
  const auto untimed = [](nlohmann::json rows) {
    for (auto& r : rows) r.erase("seconds"), r.erase("kernel_seconds");
    return rows;
  };
  CHECK(untimed(rewritten.at("value")) == untimed(record.at("value")));
  std::filesystem::remove_all(dir);
}

TEST_CASE("rfa-vs-mlp records every data-driven lambda choice and counts those at a grid end", "[rfa_study]") {
  const auto run = [](const std::string& lambda, const std::string& tag) {
    Settings s(rfa_vs_mlp_study().keys());
    s.set("N", "2", "test");
    s.set("heads", "8", "test");
    s.set("target", "key-poly:2", "test");
    s.set("n", "50,100", "test");
    s.set("seeds", "2", "test");
    s.set("bootstrap", "100", "test");
    s.set("lambda", lambda, "test");
    const auto dir = std::filesystem::temp_directory_path() /
                     ("attnrate-lambda-edge-" + tag + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    const nlohmann::json summary = rfa_vs_mlp_study().run(s, StudyContext{dir, 1, false, false});
    // cells.csv: the flags, one per row, read back by column name.
    std::ifstream csv(dir / "cells.csv");
    std::string line;
    std::getline(csv, line);
    std::vector<std::string> header;
    for (std::stringstream h(line); std::getline(h, line, ',');) header.push_back(line);
    // The summary names the column that flags its choices.
    const std::string column = summary.at("lambda_at_grid_edge").at("column").get<std::string>();
    CHECK(column == "lambda_at_edge");
    const auto col = std::find(header.begin(), header.end(), column) - header.begin();
    REQUIRE(col < static_cast<long>(header.size()));
    std::size_t rows = 0, flagged = 0;
    while (std::getline(csv, line)) {
      std::vector<std::string> f;
      for (std::stringstream r(line); std::getline(r, line, ',');) f.push_back(line);
      ++rows;
      flagged += f.at(static_cast<std::size_t>(col)) == "1";
    }
    std::filesystem::remove_all(dir);
    return std::tuple{summary.at("lambda_at_grid_edge"), rows, flagged};
  };
  // 2 models x 1 N x 2 sizes x 1 target x 2 repetitions.
  const auto [gcv, gcv_rows, gcv_flagged] = run("gcv", "gcv");
  CHECK(gcv_rows == 8);
  CHECK(gcv.at("choices") == 8);
  CHECK(gcv.at("at_edge") == gcv_flagged);
  CHECK(gcv.at("at_lower_end").get<std::size_t>() + gcv.at("at_upper_end").get<std::size_t>() == gcv_flagged);
  const auto [fixed, fixed_rows, fixed_flagged] = run("0.001", "fixed");
  CHECK(fixed_rows == 8);
  CHECK(fixed.at("choices") == 0);  // a fixed penalty is not a choice
  CHECK(fixed.at("at_edge") == 0);
  CHECK(fixed_flagged == 0);
}
