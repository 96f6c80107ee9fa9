// Helpers of the pairwise studies (studies/pairwise_studies.hpp), each against an independent
// truth: a brute-force loop, a closed form, LAPACK's generalised eigensolver, an identity.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>

#include "estimators/bspline.hpp"
#include "estimators/input_error.hpp"
#include "estimators/random.hpp"
#include "studies/pairwise_studies.hpp"

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
