// The infinite-width RF-MLP kernel (theory/rfa/mlp_kernel.hpp) against Monte Carlo over the
// finite model's own neurons (estimators/random_features/random_feature_mlp.hpp), a closed form
// on the diagonal, and its structure (symmetric, PSD, thread-invariant, order-dependent).
#include <omp.h>

#include <catch2/catch.hpp>
#include <cmath>

#include "estimators/common/input_error.hpp"
#include "estimators/random_features/random_feature_mlp.hpp"
#include "theory/rfa/attention_law.hpp"
#include "theory/rfa/mlp_kernel.hpp"

using namespace attnrate;

TEST_CASE("MLP kernel equals the mean product of the RF-MLP's ReLU features (Monte Carlo, 3 SE)", "[rfa_theory]") {
  const int d = 3, N = 2;
  const AttentionInputs a = AttentionLaw{}.sample(d, N, 3, 61);
  const AttentionInputs b = AttentionLaw::parse("gaussian").sample(d, N, 2, 62);
  const MlpKernel k;
  // Neurons are iid: each column of the feature matrices is one draw of relu(<w, z>).
  const std::size_t width = 250000;
  std::vector<double> sum(4, 0.0), sum2(4, 0.0);
  std::size_t draws = 0;
  for (std::uint64_t seed : {71u, 72u}) {
    RfMlpOptions o;
    o.width = width;
    o.seed = seed;
    const RandomFeatureMlp mlp(d, N, o);
    const arma::mat Fa = mlp.features(a), Fb = mlp.features(b);
    const std::vector<arma::rowvec> x = {Fa.row(0), Fa.row(1), Fa.row(2), Fb.row(0)};
    const std::vector<std::pair<int, int>> pairs = {{0, 0}, {0, 1}, {1, 2}, {2, 3}};
    for (std::size_t j = 0; j < width; ++j)
      for (std::size_t p = 0; p < pairs.size(); ++p) {
        const double v = x[pairs[p].first][j] * x[pairs[p].second][j];
        sum[p] += v;
        sum2[p] += v * v;
      }
    draws += width;
  }
  const std::vector<double> exact = {k(a, 0, a, 0), k(a, 0, a, 1), k(a, 1, a, 2), k(a, 2, b, 0)};
  for (std::size_t p = 0; p < exact.size(); ++p) {
    const double mean = sum[p] / draws, se = std::sqrt((sum2[p] / draws - mean * mean) / draws);
    INFO("pair " << p << ": kernel " << exact[p] << ", Monte Carlo " << mean << " +- " << se);
    CHECK(std::abs(exact[p] - mean) < 3 * se);
  }
}

TEST_CASE("MLP kernel: diagonal closed form, symmetry, PSD, thread invariance, key order", "[rfa_theory]") {
  const int d = 4, N = 3;
  const AttentionInputs a = AttentionLaw{}.sample(d, N, 40, 81);
  const MlpKernel k;
  // E relu(X)^2 = Var(X) / 2 for X ~ N(0, |z|^2 / D).
  double zz = 1.0 + arma::dot(a.query.col(5), a.query.col(5));
  for (int i = 0; i < N; ++i) zz += arma::dot(a.keys.col(5 * N + i), a.keys.col(5 * N + i));
  CHECK(k(a, 5, a, 5) == Approx(zz / (2.0 * (N + 1) * d)).epsilon(1e-14));
  const arma::mat K = k.gram(a);
  CHECK(K.is_symmetric());
  CHECK(arma::eig_sym(K).min() > -1e-12 * arma::eig_sym(K).max());
  CHECK(arma::approx_equal(K, k.gram(a, a), "absdiff", 0.0));
  omp_set_num_threads(1);
  const arma::mat K1 = k.gram(a);
  omp_set_num_threads(2);
  CHECK(arma::approx_equal(K, K1, "absdiff", 0.0));
  // The MLP reads the keys in order: swapping two keys of one sample changes K.
  AttentionInputs swapped = a;
  swapped.keys.swap_cols(0, 1);
  CHECK(k(swapped, 0, a, 1) != k(a, 0, a, 1));
  CHECK_THROWS_AS(k.gram(a, AttentionLaw{}.sample(d, N + 1, 5, 1)), InputError);
}
