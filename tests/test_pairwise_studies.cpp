// Helpers of the pairwise studies (studies/pairwise_studies.hpp), each against an independent
// truth: a brute-force loop, a closed form, LAPACK's generalised eigensolver, an identity; and the
// rank-condition rule of the A-unknown slope claims against judge/judge_range on their intervals.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <filesystem>

#include "estimators/bspline.hpp"
#include "estimators/common/input_error.hpp"
#include "estimators/common/random.hpp"
#include "studies/pairwise/pairwise_studies.hpp"
#include "studies/stats/rate_fit.hpp"

using namespace attnrate;


// moment_init_A and training_interaction_range moved to estimators/pairwise_erm: tested in
// tests/test_pairwise_erm.cpp.

TEST_CASE("generalized_min_eigenvalue: closed form and LAPACK's generalised eigensolver", "[pairwise_study]") {
  const arma::mat Gamma = arma::diagmat(arma::vec{1.0, 2.0, 4.0});
  const arma::mat G = arma::diagmat(arma::vec{3.0, 2.0, 8.0});
  CHECK(generalized_min_eigenvalue(G, Gamma) == Approx(1.0).epsilon(1e-14));
  Rng rng(41);
  arma::mat B(6, 6), C(6, 6);
  for (auto& v : B) v = rng.normal();
  for (auto& v : C) v = rng.normal();
  const arma::mat G2 = B * B.t(), Gamma2 = C * C.t() + 0.1 * arma::eye(6, 6);
  arma::cx_vec ev;
  arma::eig_pair(ev, G2, Gamma2);
  const double truth = arma::min(arma::real(ev));
  CHECK(generalized_min_eigenvalue(G2, Gamma2) == Approx(truth).epsilon(1e-9));
  CHECK_THROWS_AS(generalized_min_eigenvalue(G2, arma::mat(6, 6, arma::fill::zeros)), InputError);
  CHECK_THROWS_AS(generalized_min_eigenvalue(G2, arma::eye(5, 5)), InputError);
}

TEST_CASE("basis_gram: partition of unity and the exact Gram matrix of a linear basis", "[pairwise_study]") {
  // Degree 1 on one piece of [0, 1]: B_0 = 1 - u, B_1 = u; under u ~ U(0, 1),
  // E[B_0^2] = E[B_1^2] = 1/3, E[B_0 B_1] = 1/6. Midpoint grid: error O(1/T^2).
  const std::size_t T = 20000;
  arma::vec u(T);
  for (std::size_t t = 0; t < T; ++t) u[t] = (t + 0.5) / T;
  const arma::mat G1 = basis_gram(BSplineBasis(0.0, 1.0, 1, 1), u);
  CHECK(G1(0, 0) == Approx(1.0 / 3.0).epsilon(1e-7));
  CHECK(G1(1, 1) == Approx(1.0 / 3.0).epsilon(1e-7));
  CHECK(G1(0, 1) == Approx(1.0 / 6.0).epsilon(1e-7));
  CHECK(G1(1, 0) == Approx(1.0 / 6.0).epsilon(1e-7));
  // Any degree: sum_kl B_k B_l = 1 pointwise, so the entries sum to 1 exactly (up to rounding).
  const arma::mat G3 = basis_gram(BSplineBasis(-1.0, 1.0, 7, 3), 2.0 * u - 1.0);
  CHECK(arma::accu(G3) == Approx(1.0).epsilon(1e-12));
  CHECK(arma::norm(G3 - G3.t(), "inf") == 0.0);
}

TEST_CASE("rank_knee and mean_and_se closed forms", "[pairwise_study]") {
  CHECK(rank_knee(4000.0, 2.0) == Approx(std::pow(4000.0 / std::log(4000.0), 0.2)).epsilon(1e-15));
  CHECK_THROWS_AS(rank_knee(2.0, 1.0), InputError);
  const auto [m, se] = mean_and_se({1.0, 2.0, 3.0, 4.0});
  CHECK(m == Approx(2.5).epsilon(1e-15));
  CHECK(se == Approx(std::sqrt(5.0 / 3.0 / 4.0)).epsilon(1e-14));  // sample variance 5/3
}

TEST_CASE("dimension-free: a series outside the rank condition is judged against the range [-1, -2b/(2b+1)]",
          "[pairwise_study]") {
  Settings s(dimension_free_keys());
  s.set("activations", "bspline:3", "test");
  // Knee at M = 100 and 400 (b = 2): 1.85 and 2.28. d = 1 is inside at every M, d = 2 only at the
  // largest (its fitted slope straddles the knee), d = 30 nowhere.
  s.set("d-values", "1,2,30", "test");
  s.set("N-values", "8", "test");
  s.set("r-values", "1", "test");
  s.set("M", "100,200,400", "test");
  s.set("seeds", "2", "test");
  s.set("restarts", "1", "test");
  s.set("test-pairs", "1000", "test");
  s.set("max-ci-width", "100", "test");  // decisive whatever the spread of this tiny sweep
  const auto dir = std::filesystem::temp_directory_path() / ("attnrate-rank-regime-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  const nlohmann::json summary = run_dimension_free(s, StudyContext{dir, 0, false, false});
  std::filesystem::remove_all(dir);
  const double knee_min = rank_knee(100.0, 2.0), knee_max = rank_knee(400.0, 2.0);  // 1.85, 2.28
  int seen = 0;
  for (const auto& c : summary.at("claims")) {
    const std::string id = c.at("id");
    INFO(id << ": " << c.dump());
    if (id == "dimfree.bspline.P3.d.ratio") {
      CHECK(c.at("outside_rank_condition") == nlohmann::json::array({30}));
      CHECK(c.at("statement").get<std::string>().find("outside the theorem's condition") != std::string::npos);
      ++seen;
      continue;
    }
    const int d = id == "dimfree.bspline.P3.d1.slope" ? 1 : id == "dimfree.bspline.P3.d2.slope" ? 2 : 30;
    if (d == 30) REQUIRE(id == "dimfree.bspline.P3.d30.slope");
    const bool outside = d > 1;
    const auto& rc = c.at("rank_condition");
    CHECK(rc.at("r_d") == d);
    CHECK(rc.at("knee_at_smallest_M").get<double>() == Approx(knee_min).epsilon(1e-14));
    CHECK(rc.at("knee_at_largest_M").get<double>() == Approx(knee_max).epsilon(1e-14));
    CHECK(rc.at("M_smallest") == 100);
    CHECK(rc.at("M_largest") == 400);
    CHECK(rc.at("holds_at_every_M") == !outside);
    CHECK(rc.at("holds_at_largest_M") == (d <= 2));
    CHECK(c.contains("theory_range") == outside);
    CHECK((c.at("statement").get<std::string>().find("outside the theorem's condition") != std::string::npos) ==
          outside);
    // The verdict is the documented rule applied to the claim's own intervals.
    const double lo = std::min(c.at("ci_t")[0].get<double>(), c.at("ci_boot")[0].get<double>());
    const double hi = std::max(c.at("ci_t")[1].get<double>(), c.at("ci_boot")[1].get<double>());
    const Verdict v = outside ? judge_range(-1.0, -0.8, lo, hi, 0.05, 100.0) : judge(-0.8, lo, hi, 0.05, 100.0);
    CHECK(c.at("verdict") == to_string(v));
    if (outside) CHECK(c.at("theory_range") == nlohmann::json::array({-1.0, c.at("theory_value").get<double>()}));
    ++seen;
  }
  CHECK(seen == 4);
}
