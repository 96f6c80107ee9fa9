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

namespace {

arma::mat uniform_tokens(int d, std::size_t n, std::uint64_t seed) {
  Rng rng(seed);
  arma::mat X(d, n);
  for (auto& v : X) v = rng.uniform(-1.0, 1.0);
  return X;
}

}  // namespace

TEST_CASE("moment_init_A equals the truncated SVD of the brute-force cross moment", "[pairwise_study]") {
  const int d = 4, N = 3, M = 50;
  const arma::mat X = uniform_tokens(d, M * N, 11);
  Rng rng(12);
  arma::vec Y(M * N);
  for (auto& v : Y) v = rng.normal();
  arma::mat C(d, d, arma::fill::zeros);  // triple loop, no GEMM tricks
  for (int m = 0; m < M; ++m)
    for (int i = 0; i < N; ++i)
      for (int j = 0; j < N; ++j)
        if (i != j)
          for (int k = 0; k < d; ++k)
            for (int l = 0; l < d; ++l) C(k, l) += Y[m * N + i] * X(k, m * N + i) * X(l, m * N + j);
  C /= static_cast<double>(M * N);
  for (int r : {1, 2, 4}) {
    const auto [U, V] = moment_init_A(X, Y, N, r);
    REQUIRE(U.n_rows == d);
    REQUIRE(U.n_cols == static_cast<arma::uword>(r));
    arma::mat W, Z;
    arma::vec s;
    arma::svd(W, s, Z, C);
    const arma::mat Cr = W.head_cols(r) * arma::diagmat(s.head(r)) * Z.head_cols(r).t();
    CHECK(arma::norm(U * V.t() - Cr, "fro") < 1e-12 * arma::norm(C, "fro"));
    CHECK(arma::norm(U, "fro") == Approx(arma::norm(V, "fro")).epsilon(1e-12));  // balanced
  }
  CHECK_THROWS_AS(moment_init_A(X, Y, N, 5), InputError);
  CHECK_THROWS_AS(moment_init_A(X, Y.head(10), N, 1), InputError);
}

TEST_CASE("moment_init_A recovers Sigma A Sigma for a linear phi", "[pairwise_study]") {
  // Y_i = 1/(N-1) sum_{j != i} X_i^T A X_j with uniform tokens (Sigma = I/3): E C = A / 9.
  const int d = 3, N = 4;
  const std::size_t M = 40000;
  const arma::mat X = uniform_tokens(d, M * N, 21);
  const arma::vec a = {1.0, -0.5, 0.25}, b = {0.3, 0.9, -0.6};
  const arma::mat A = a * b.t();
  arma::vec Y(M * N, arma::fill::zeros);
  for (std::size_t m = 0; m < M; ++m)
    for (int i = 0; i < N; ++i)
      for (int j = 0; j < N; ++j)
        if (i != j) Y[m * N + i] += arma::as_scalar(X.col(m * N + i).t() * A * X.col(m * N + j)) / (N - 1);
  const auto [U, V] = moment_init_A(X, Y, N, 1);
  const arma::mat est = U * V.t();
  // Monte Carlo error ~ 1/sqrt(M N) relative: 2% is > 5 standard errors, A/3 is 200% off.
  CHECK(arma::norm(est - A / 9.0, "fro") < 0.02 * arma::norm(A / 9.0, "fro"));
  CHECK(arma::norm(est - A / 3.0, "fro") > 0.5 * arma::norm(A / 3.0, "fro"));
}

TEST_CASE("training_interaction_range gives the brute-force order statistics", "[pairwise_study]") {
  const int d = 3, N = 5, M = 40, r = 2;
  const arma::mat X = uniform_tokens(d, M * N, 31);
  Rng rng(32);
  arma::mat U(d, r), V(d, r);
  for (auto& v : U) v = rng.normal();
  for (auto& v : V) v = rng.normal();
  const arma::mat A = U * V.t();
  std::vector<double> u;
  for (int m = 0; m < M; ++m)
    for (int i = 0; i < N; ++i)
      for (int j = 0; j < N; ++j)
        if (i != j) u.push_back(arma::as_scalar(X.col(m * N + i).t() * A * X.col(m * N + j)));
  std::sort(u.begin(), u.end());
  const auto [lo0, hi0] = training_interaction_range(X, N, U, V, 0.0);
  CHECK(lo0 == Approx(u.front()).epsilon(1e-12));
  CHECK(hi0 == Approx(u.back()).epsilon(1e-12));
  const double n1 = static_cast<double>(u.size() - 1);
  const auto [lo, hi] = training_interaction_range(X, N, U, V, 7.0 / n1);
  CHECK(lo == Approx(u[7]).epsilon(1e-12));
  CHECK(hi == Approx(u[u.size() - 1 - 7]).epsilon(1e-12));
  CHECK_THROWS_AS(training_interaction_range(X, N, U, V, 0.5), InputError);
}

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
