// Random-feature attention and the random-feature MLP: features against naive loops, thread
// invariance, (non-)invariance under key permutations, attention normalisation, weight laws.
#include <omp.h>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <vector>

#include "estimators/random_features/attention_inputs.hpp"
#include "estimators/common/input_error.hpp"
#include "estimators/common/random.hpp"
#include "estimators/random_features/random_feature_attention.hpp"
#include "estimators/random_features/random_feature_mlp.hpp"

using namespace attnrate;

namespace {

// Query and keys iid uniform on the unit sphere S^{d-1}.
AttentionInputs sphere_inputs(std::size_t n, int N, int d, std::uint64_t seed) {
  AttentionInputs in;
  in.d = d;
  in.N = N;
  in.query.set_size(d, n);
  in.keys.set_size(d, n * N);
  Rng rng(seed);
  auto fill = [&](arma::mat& X) {
    for (arma::uword c = 0; c < X.n_cols; ++c) {
      for (arma::uword r = 0; r < X.n_rows; ++r) X(r, c) = rng.normal();
      X.col(c) /= arma::norm(X.col(c));
    }
  };
  fill(in.query);
  fill(in.keys);
  return in;
}

// Keys of every sample reordered by a seeded random permutation (the same query).
AttentionInputs permute_keys(const AttentionInputs& in, std::uint64_t seed) {
  AttentionInputs out = in;
  Rng rng(seed);
  std::vector<int> perm(in.N);
  for (std::size_t s = 0; s < in.n(); ++s) {
    std::iota(perm.begin(), perm.end(), 0);
    for (int i = in.N - 1; i > 0; --i) std::swap(perm[i], perm[rng.below(i + 1)]);
    for (int i = 0; i < in.N; ++i) out.keys.col(s * in.N + i) = in.keys.col(s * in.N + perm[i]);
  }
  return out;
}

double rel_max(const arma::mat& a, const arma::mat& b) { return arma::abs(a - b).max() / arma::abs(b).max(); }

bool same_bits(const arma::mat& a, const arma::mat& b) {
  return a.n_rows == b.n_rows && a.n_cols == b.n_cols && std::memcmp(a.memptr(), b.memptr(), a.n_elem * sizeof(double)) == 0;
}

// phi_m(x_0, X) = sum_i a_{m,i} xt_i by explicit loops over samples, heads, keys and entries.
arma::mat naive_rfa_features(const arma::cube& W, RfaActivation act, const AttentionInputs& in) {
  const int d = in.d, N = in.N, d1 = d + 1, M = W.n_slices;
  arma::mat Phi(in.n(), M * d1, arma::fill::zeros);
  std::vector<double> q(d1), k(d1), score(N);
  for (std::size_t s = 0; s < in.n(); ++s) {
    for (int a = 0; a < d; ++a) q[a] = in.query(a, s);
    q[d] = 1.0;
    for (int m = 0; m < M; ++m) {
      for (int i = 0; i < N; ++i) {
        double sc = 0.0;
        for (int a = 0; a < d1; ++a)
          for (int b = 0; b < d1; ++b) sc += q[a] * W(a, b, m) * (b < d ? in.keys(b, s * N + i) : 1.0);
        score[i] = sc;
      }
      double denom = N;
      if (act == RfaActivation::softmax) {
        denom = 0.0;
        for (int i = 0; i < N; ++i) denom += std::exp(score[i]);
      }
      for (int i = 0; i < N; ++i) {
        const double sig = act == RfaActivation::relu ? std::max(score[i], 0.0) : std::exp(score[i]);
        for (int b = 0; b < d1; ++b) Phi(s, m * d1 + b) += sig / denom * (b < d ? in.keys(b, s * N + i) : 1.0);
      }
    }
  }
  return Phi;
}

arma::mat naive_mlp_features(const arma::mat& W, MlpActivation act, const AttentionInputs& in) {
  const int d = in.d, N = in.N;
  arma::mat Phi(in.n(), W.n_cols);
  for (std::size_t s = 0; s < in.n(); ++s)
    for (arma::uword k = 0; k < W.n_cols; ++k) {
      double u = W(W.n_rows - 1, k);  // constant coordinate
      for (int a = 0; a < d; ++a) u += W(a, k) * in.query(a, s);
      for (int i = 0; i < N; ++i)
        for (int a = 0; a < d; ++a) u += W(d + i * d + a, k) * in.keys(a, s * N + i);
      Phi(s, k) = act == MlpActivation::relu ? std::max(u, 0.0) : std::exp(u);
    }
  return Phi;
}

}  // namespace

TEST_CASE("RFA features equal a naive loop implementation", "[rfa]") {
  const AttentionInputs in = sphere_inputs(37, 5, 3, 1);
  for (RfaActivation act : {RfaActivation::relu, RfaActivation::exp, RfaActivation::softmax})
    for (WeightLaw law : {WeightLaw::zero_mean, WeightLaw::biased}) {
      RfaOptions opt;
      opt.heads = 7;
      opt.activation = act;
      opt.law = law;
      opt.mu = 1.5;
      opt.seed = 11;
      opt.block_samples = 8;  // several blocks and a partial one
      const RandomFeatureAttention rfa(3, opt);
      const arma::mat Phi = rfa.features(in);
      REQUIRE(Phi.n_rows == 37);
      REQUIRE(Phi.n_cols == rfa.feature_count());
      INFO(to_string(act) << " " << to_string(law));
      CHECK(rel_max(Phi, naive_rfa_features(rfa.weights(), act, in)) < 1e-12);
    }
}

TEST_CASE("RFA features and predictions do not depend on the thread count", "[rfa]") {
  const AttentionInputs in = sphere_inputs(301, 6, 4, 2);
  const arma::vec y = arma::sum(in.query, 0).t();
  RfaOptions opt;
  opt.heads = 50;
  opt.seed = 3;
  opt.block_samples = 16;
  const int saved = omp_get_max_threads();
  omp_set_num_threads(1);
  RandomFeatureAttention one(4, opt);
  const arma::mat Phi1 = one.features(in);
  one.fit_features(Phi1, y, {});
  const arma::vec f1 = one.predict(in);
  omp_set_num_threads(2);
  RandomFeatureAttention two(4, opt);
  const arma::mat Phi2 = two.features(in);
  two.fit_features(Phi2, y, {});
  const arma::vec f2 = two.predict(in);
  omp_set_num_threads(saved);
  CHECK(same_bits(Phi1, Phi2));
  CHECK(same_bits(f1, f2));
}

TEST_CASE("RFA is invariant to the order of the keys", "[rfa]") {
  const AttentionInputs in = sphere_inputs(64, 7, 5, 4);
  const AttentionInputs perm = permute_keys(in, 5);
  REQUIRE(rel_max(perm.keys, in.keys) > 0.1);  // the permutation did move keys
  for (RfaActivation act : {RfaActivation::relu, RfaActivation::softmax}) {
    RfaOptions opt;
    opt.heads = 20;
    opt.activation = act;
    opt.seed = 6;
    RandomFeatureAttention rfa(5, opt);
    const arma::mat Phi = rfa.features(in);
    CHECK(rel_max(rfa.features(perm), Phi) < 1e-13);
    rfa.fit(in, arma::vec(arma::sum(in.query, 0).t()), {});
    CHECK(rel_max(rfa.predict(perm), rfa.predict(in)) < 1e-12);
  }
}

TEST_CASE("attention weights: softmax sums to one, features are the weighted key sums", "[rfa]") {
  const AttentionInputs in = sphere_inputs(5, 9, 4, 7);
  for (RfaActivation act : {RfaActivation::relu, RfaActivation::exp, RfaActivation::softmax}) {
    RfaOptions opt;
    opt.heads = 6;
    opt.activation = act;
    opt.tau = 1.0;
    opt.seed = 8;
    const RandomFeatureAttention rfa(4, opt);
    const arma::mat Phi = rfa.features(in);
    for (std::size_t s = 0; s < in.n(); ++s) {
      const arma::mat a = rfa.attention_weights(in, s);
      const arma::mat sc = rfa.scores(in, s);
      REQUIRE(a.n_rows == 6);
      REQUIRE(a.n_cols == 9);
      if (act == RfaActivation::softmax) {
        CHECK(arma::abs(arma::sum(a, 1) - 1.0).max() < 1e-14);
        CHECK(a.min() > 0.0);
      } else if (act == RfaActivation::relu) {
        CHECK(arma::abs(a - arma::clamp(sc, 0.0, arma::datum::inf) / 9.0).max() < 1e-15);
      } else {
        CHECK(rel_max(a, arma::exp(sc) / 9.0) < 1e-14);
      }
      arma::mat Kt(5, 9, arma::fill::ones);
      Kt.rows(0, 3) = in.keys.cols(s * 9, s * 9 + 8);
      const arma::mat phi = Kt * a.t();  // (d+1) x M, column m = phi_m
      CHECK(rel_max(arma::vectorise(phi).t(), Phi.row(s)) < 1e-13);
    }
  }
}

TEST_CASE("biased weights: the mean score is mu <x_0, x_i>", "[rfa]") {
  const int d = 6, N = 4;
  const AttentionInputs in = sphere_inputs(3, N, d, 9);
  const double mu = 2.5;
  SECTION("tau = 0: every head's score is exactly mu <x_0, x_i>") {
    RfaOptions opt;
    opt.heads = 3;
    opt.law = WeightLaw::biased;
    opt.mu = mu;
    opt.tau = 0.0;
    const RandomFeatureAttention rfa(d, opt);
    for (std::size_t s = 0; s < in.n(); ++s) {
      const arma::mat sc = rfa.scores(in, s);
      for (int i = 0; i < N; ++i) {
        const double expect = mu * arma::dot(in.query.col(s), in.keys.col(s * N + i));
        CHECK(arma::abs(sc.col(i) - expect).max() < 1e-14);
      }
    }
  }
  SECTION("tau > 0: the head-average score is within 4 standard errors of mu <x_0, x_i> (0 for zero-mean)") {
    const int M = 4000;
    const double tau = 0.5;
    for (WeightLaw law : {WeightLaw::biased, WeightLaw::zero_mean}) {
      RfaOptions opt;
      opt.heads = M;
      opt.law = law;
      opt.mu = mu;
      opt.tau = tau;
      opt.seed = 10;
      const RandomFeatureAttention rfa(d, opt);
      for (std::size_t s = 0; s < in.n(); ++s) {
        const arma::mat sc = rfa.scores(in, s);
        for (int i = 0; i < N; ++i) {
          const double mean = law == WeightLaw::biased ? mu * arma::dot(in.query.col(s), in.keys.col(s * N + i)) : 0.0;
          // Var(xt_0^T E xt_i) = tau^2 |xt_0|^2 |xt_i|^2 = 4 tau^2 on the sphere.
          const double se = 2.0 * tau / std::sqrt(double(M));
          CHECK(std::abs(arma::mean(sc.col(i)) - mean) < 4.0 * se);
          CHECK(std::abs(arma::stddev(sc.col(i)) / (2.0 * tau) - 1.0) < 0.1);
        }
      }
    }
  }
}

TEST_CASE("RFA weight laws and seeding", "[rfa]") {
  RfaOptions opt;
  opt.heads = 400;
  opt.tau = 0.5;
  opt.seed = 12;
  const RandomFeatureAttention a(5, opt), b(5, opt);
  CHECK(same_bits(arma::vectorise(a.weights()), arma::vectorise(b.weights())));
  opt.seed = 13;
  const RandomFeatureAttention c(5, opt);
  CHECK_FALSE(same_bits(arma::vectorise(a.weights()), arma::vectorise(c.weights())));
  const arma::vec w = arma::vectorise(a.weights());  // 400 * 36 = 14400 iid N(0, 1/4)
  CHECK(std::abs(arma::mean(w)) < 4.0 * 0.5 / std::sqrt(double(w.n_elem)));
  // Var of the sample variance of normals: 2 sigma^4 / (n-1).
  CHECK(std::abs(arma::var(w) - 0.25) < 4.0 * 0.25 * std::sqrt(2.0 / (w.n_elem - 1)));
  opt.law = WeightLaw::biased;
  opt.mu = 3.0;
  opt.seed = 12;
  const RandomFeatureAttention biased(5, opt);
  // Same stream: the biased law is the zero-mean draw plus mu W_0.
  arma::mat W0 = arma::eye(6, 6);
  W0(5, 5) = 0.0;
  for (int m = 0; m < 400; ++m) CHECK(same_bits(biased.weights().slice(m), a.weights().slice(m) + 3.0 * W0));
}

TEST_CASE("RFA fit and predict agree with the features", "[rfa]") {
  const AttentionInputs train = sphere_inputs(200, 6, 4, 14), test = sphere_inputs(50, 6, 4, 15);
  RfaOptions opt;
  opt.heads = 30;
  opt.seed = 16;
  RandomFeatureAttention rfa(4, opt);
  arma::vec y(train.n());  // <x_0, x_1>: a smooth target
  for (std::size_t s = 0; s < train.n(); ++s) y[s] = arma::dot(train.query.col(s), train.keys.col(s * 6));
  RidgeFitOptions ridge;
  ridge.lambda = 1e-4;
  const RidgeFit fit = rfa.fit(train, y, ridge);
  REQUIRE(rfa.fitted());
  CHECK(rfa.coefficients().n_elem == 150);
  CHECK(fit.solution.form == RidgeForm::primal);
  const arma::vec ftrain = rfa.predict(train);
  CHECK(std::abs(arma::mean(arma::square(y - ftrain)) - fit.solution.train_mse) < 1e-12);
  CHECK(rel_max(rfa.predict(test), rfa.features(test) * rfa.coefficients()) < 1e-12);
}

TEST_CASE("RFA and RF-MLP restored from options and coefficients predict as the fitted models", "[rfa][mlp]") {
  // A saved fit holds no weights: they are redrawn from the seed (fit.json, pickling).
  const AttentionInputs train = sphere_inputs(120, 3, 4, 21), test = sphere_inputs(40, 3, 4, 22);
  arma::vec y(train.n());
  for (std::size_t s = 0; s < train.n(); ++s) y[s] = arma::dot(train.query.col(s), train.keys.col(s * 3));
  RfaOptions o;
  o.heads = 7;
  o.seed = 23;
  o.law = WeightLaw::biased;
  o.mu = 1.5;
  RandomFeatureAttention rfa(4, o);
  rfa.fit(train, y);
  RandomFeatureAttention back(4, rfa.options());
  CHECK_FALSE(back.fitted());
  back.set_coefficients(rfa.coefficients());
  const arma::vec p = rfa.predict(test), q = back.predict(test);
  CHECK(std::memcmp(p.memptr(), q.memptr(), p.n_elem * sizeof(double)) == 0);
  CHECK_THROWS_WITH(back.set_coefficients(arma::vec(27, arma::fill::ones)),
                    Catch::Contains("27 coefficients; this model has M(d+1) = 35"));
  arma::vec nan = rfa.coefficients();
  nan[3] = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_WITH(back.set_coefficients(nan), Catch::Contains("must be finite"));

  RfMlpOptions mo;
  mo.match_heads = 5;
  mo.seed = 24;
  RandomFeatureMlp mlp(4, 3, mo);
  mlp.fit(train, y);
  RandomFeatureMlp mback(4, 3, mlp.options());
  mback.set_coefficients(mlp.coefficients());
  const arma::vec pm = mlp.predict(test), qm = mback.predict(test);
  CHECK(std::memcmp(pm.memptr(), qm.memptr(), pm.n_elem * sizeof(double)) == 0);
  CHECK_THROWS_AS(mback.set_coefficients(arma::vec(3, arma::fill::zeros)), InputError);
}

TEST_CASE("RFA rejects bad input", "[rfa]") {
  const AttentionInputs in = sphere_inputs(4, 3, 2, 17);
  RfaOptions opt;
  CHECK_THROWS_AS(RandomFeatureAttention(0, opt), InputError);
  opt.heads = 0;
  CHECK_THROWS_AS(RandomFeatureAttention(2, opt), InputError);
  opt.heads = 2;
  opt.tau = -0.1;
  CHECK_THROWS_AS(RandomFeatureAttention(2, opt), InputError);
  opt.tau = 0.5;
  RandomFeatureAttention rfa(3, opt);
  CHECK_THROWS_AS(rfa.features(in), InputError);  // d mismatch
  RandomFeatureAttention rfa2(2, opt);
  CHECK_THROWS_AS(rfa2.predict(in), std::logic_error);
  AttentionInputs bad = in;
  bad.keys.shed_col(0);
  CHECK_THROWS_AS(rfa2.features(bad), InputError);
  bad = in;
  bad.query(0, 0) = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_AS(rfa2.features(bad), InputError);
  CHECK_THROWS_AS(rfa2.fit(in, arma::vec(3, arma::fill::zeros)), InputError);
  CHECK_THROWS_AS(rfa2.scores(in, 4), InputError);
  CHECK_THROWS_AS(parse_rfa_activation("tanh"), InputError);
  CHECK_THROWS_AS(parse_weight_law("zero_mean"), InputError);
  CHECK(parse_rfa_activation("softmax") == RfaActivation::softmax);
  CHECK(parse_weight_law("biased") == WeightLaw::biased);
}

TEST_CASE("RF-MLP features equal a naive loop implementation", "[rfa][mlp]") {
  const AttentionInputs in = sphere_inputs(29, 4, 3, 20);
  for (MlpActivation act : {MlpActivation::relu, MlpActivation::exp}) {
    RfMlpOptions opt;
    opt.match_heads = 5;
    opt.activation = act;
    opt.seed = 21;
    opt.block_samples = 8;
    const RandomFeatureMlp mlp(3, 4, opt);
    REQUIRE(mlp.feature_count() == 5 * 4);
    REQUIRE(mlp.input_dim() == 16);
    const arma::mat Phi = mlp.features(in);
    CHECK(rel_max(Phi, naive_mlp_features(mlp.weights(), act, in)) < 1e-12);
  }
}

TEST_CASE("RF-MLP first layer has variance 1/((N+1)d) and is seeded", "[rfa][mlp]") {
  RfMlpOptions opt;
  opt.width = 3000;
  opt.seed = 22;
  const RandomFeatureMlp a(4, 3, opt), b(4, 3, opt);
  CHECK(same_bits(a.weights(), b.weights()));
  const arma::vec w = arma::vectorise(a.weights());
  const double var = 1.0 / 16.0;
  CHECK(std::abs(arma::mean(w)) < 4.0 * std::sqrt(var / w.n_elem));
  CHECK(std::abs(arma::var(w) - var) < 4.0 * var * std::sqrt(2.0 / (w.n_elem - 1)));
}

TEST_CASE("RF-MLP is not invariant to the order of the keys, and is thread-invariant", "[rfa][mlp]") {
  const AttentionInputs in = sphere_inputs(80, 5, 4, 23);
  const AttentionInputs perm = permute_keys(in, 24);
  RfMlpOptions opt;
  opt.match_heads = 10;
  opt.seed = 25;
  opt.block_samples = 16;
  const int saved = omp_get_max_threads();
  omp_set_num_threads(1);
  RandomFeatureMlp mlp(4, 5, opt);
  const arma::mat Phi1 = mlp.features(in);
  omp_set_num_threads(2);
  const arma::mat Phi2 = mlp.features(in);
  omp_set_num_threads(saved);
  CHECK(same_bits(Phi1, Phi2));
  const arma::vec y = arma::sum(in.query, 0).t();
  mlp.fit_features(Phi1, y, {});
  // Permuting keys moves features and predictions by order one (not rounding).
  CHECK(rel_max(mlp.features(perm), Phi1) > 0.05);
  CHECK(rel_max(mlp.predict(perm), mlp.predict(in)) > 0.01);
  CHECK(rel_max(mlp.predict(in), Phi1 * mlp.coefficients()) < 1e-12);
  CHECK_THROWS_AS(mlp.features(sphere_inputs(3, 4, 4, 1)), InputError);  // N mismatch
  CHECK_THROWS_AS(parse_mlp_activation("softmax"), InputError);
}
