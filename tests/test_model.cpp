// The pairwise-interaction model: activations, token laws, A normalisation, data generation,
// schedules, settings parsing.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <limits>
#include <numbers>
#include <tuple>
#include <utility>
#include <vector>

#include "estimators/common/did_you_mean.hpp"
#include "estimators/common/input_error.hpp"
#include "studies/io/settings.hpp"
#include "theory/pairwise/pairwise_model.hpp"
#include "theory/pairwise/schedule.hpp"

using namespace attnrate;

TEST_CASE("activations: values, smoothness, parsing", "[model]") {
  const Activation w = Activation::parse("weierstrass:1");
  CHECK(w.holder_smoothness() == 1.0);
  CHECK(w.default_degree() == 1);
  // Direct evaluation of the documented series.
  double ref = 0.0;
  const double u = 0.37, golden = (std::sqrt(5.0) - 1.0) / 2.0;
  for (int j = 0; j <= 16; ++j) {
    const double f = j * golden;
    ref += std::pow(std::numbers::sqrt2, -j) * std::cos(3.0 * std::pow(std::numbers::sqrt2, j) * u +
                                                         2.0 * std::numbers::pi * (f - std::floor(f)));
  }
  CHECK(w(u) == Approx(ref).epsilon(1e-12));
  CHECK(Activation::parse("weierstrass:0.5").default_degree() == 0);
  CHECK(Activation::parse("weierstrass:1.5").default_degree() == 1);
  CHECK(Activation::parse("kink:0.5")(1.25) == Approx(1.0));
  CHECK(Activation::parse("tanh")(0.3) == Approx(std::tanh(0.3)));
  CHECK(Activation::parse("softplus")(0.0) == Approx(std::log(2.0)));
  CHECK(Activation::parse("gelu")(1.0) == Approx(0.8413447460685429));
  CHECK(std::isinf(Activation::parse("exp").holder_smoothness()));
  const Activation b3 = Activation::parse("bspline:3", 42);
  CHECK(b3.holder_smoothness() == 3.0);
  CHECK(b3.claimed_smoothness() == 2.0);
  CHECK(b3(-3.5) == 0.0);
  CHECK(b3(3.5) == 0.0);
  // C^(P-1) at the ends: the value next to the boundary is tiny (zero coefficients there).
  CHECK(std::abs(b3(2.999)) < 1e-6);
  CHECK(Activation::parse("bspline:3", 42)(0.3) == b3(0.3));  // seeded
  CHECK(Activation::parse("bspline:3", 43)(0.3) != b3(0.3));
  CHECK_THROWS_AS(Activation::parse("relu"), InputError);
  CHECK_THROWS_AS(Activation::parse("weierstrass"), InputError);
  CHECK_THROWS_AS(Activation::parse("weierstrass:-1"), InputError);
  CHECK_THROWS_AS(Activation::parse("weierstrass:abc"), InputError);
  CHECK_THROWS_AS(Activation::parse("bspline:2.5"), InputError);
  CHECK_THROWS_AS(Activation::parse("bspline:11"), InputError);
  CHECK_THROWS_AS(Activation::parse("tanh:2"), InputError);
  CHECK(minimax_exponent(1.0, 1) == Approx(2.0 / 3.0));
  CHECK(minimax_exponent(5.0, 1) == Approx(0.8));  // capped at s + 1 = 2
}

TEST_CASE("token laws: moments and dependence", "[model]") {
  Rng rng(5);
  const int d = 3, N = 4, n = 40000;
  for (const char* spec : {"uniform", "gaussian", "exchangeable:0.5"}) {
    const TokenLaw law = TokenLaw::parse(spec);
    std::vector<double> x(static_cast<std::size_t>(d) * N);
    double m = 0, v = 0, c01 = 0;
    for (int s = 0; s < n; ++s) {
      law.draw_sample(rng, N, d, x.data());
      m += x[0];
      v += x[0] * x[0];
      c01 += x[0] * x[d];  // coordinate 0 of tokens 0 and 1
    }
    m /= n;
    v /= n;
    c01 /= n;
    INFO(spec);
    CHECK(std::abs(m) < 5 * std::sqrt(1.0 / 3.0 / n));
    CHECK(v == Approx(1.0 / 3.0).epsilon(0.03));  // all three laws have per-coordinate variance 1/3
    const double expected_cov = law.kind == TokenLaw::Kind::exchangeable ? 0.5 / 3.0 : 0.0;
    CHECK(std::abs(c01 - expected_cov) < 5 * std::sqrt(1.0 / 9.0 / n) + 1e-3);
  }
  CHECK_THROWS_AS(TokenLaw::parse("exchangeable:1"), InputError);
  CHECK_THROWS_AS(TokenLaw::parse("cauchy"), InputError);
}

TEST_CASE("A has rank r and the documented normalisation", "[model]") {
  PairwiseModelSpec spec;
  spec.d = 6;
  spec.r = 2;
  const PairwiseModel model(spec, 11);
  CHECK(arma::rank(model.A()) == 2);
  const arma::vec u = arma::abs(model.draw_pair_interactions(123, 200000));
  const double frac = static_cast<double>(arma::accu(u <= 1.0)) / u.n_elem;
  CHECK(frac == Approx(0.99).margin(0.003));  // pilot of 20000 pairs: quantile error ~ 0.0007
}

TEST_CASE("interaction ranges are the order statistics of the drawn interactions", "[model]") {
  PairwiseModelSpec spec;
  spec.d = 4;
  spec.r = 2;
  const PairwiseModel model(spec, 5);
  for (const std::size_t pairs : {1u, 2u, 7u, 1001u, 20000u}) {
    // The interactions are those of the drawn token pairs, bit for bit at every vector width.
    const arma::vec drawn = model.draw_pair_interactions(99, pairs);
    const arma::mat tokens = model.draw_token_pairs(99, pairs);
    for (const VectorWidth width : {VectorWidth::sse2, VectorWidth::avx, VectorWidth::avx512}) {
      const arma::vec at_width = model.draw_pair_interactions(99, pairs, width);
      std::size_t mismatches = 0;
      for (std::size_t t = 0; t < pairs; ++t) {
        const double u = bilinear_form(model.A(), tokens.colptr(2 * t), tokens.colptr(2 * t + 1), spec.d);
        mismatches += std::memcmp(&u, &at_width[t], sizeof(double)) != 0;
      }
      INFO(pairs << " pairs, width " << static_cast<int>(width));
      CHECK(mismatches == 0);
    }
    arma::vec sorted = arma::sort(drawn);  // brute force
    const std::vector<double> tails{0.0, 1e-4, 0.01, 0.25, 0.5};
    const auto ranges = interaction_ranges(model, 99, pairs, tails);
    REQUIRE(ranges.size() == tails.size());
    for (std::size_t t = 0; t < tails.size(); ++t) {
      const auto k = static_cast<arma::uword>(std::floor(tails[t] * static_cast<double>(pairs - 1)));
      CHECK(ranges[t].first == sorted[k]);
      CHECK(ranges[t].second == sorted[pairs - 1 - k]);
      CHECK(interaction_range(model, 99, pairs, tails[t]) == ranges[t]);
    }
  }
  CHECK_THROWS_AS(interaction_range(model, 99, 0), InputError);
}

TEST_CASE("data generation follows the model equation and is order independent", "[model]") {
  PairwiseModelSpec spec;
  spec.N = 5;
  spec.d = 3;
  spec.r = 1;
  spec.sigma = 0.0;
  spec.activation = "tanh";
  const PairwiseModel model(spec, 2);
  const std::size_t M = 20;
  arma::mat X(spec.d, M * spec.N);
  arma::vec Y(M * spec.N);
  model.draw_samples(7, 0, M, X.memptr(), Y.memptr());
  for (std::size_t m = 0; m < M; ++m)
    for (int i = 0; i < spec.N; ++i) {
      double s = 0;
      for (int j = 0; j < spec.N; ++j)
        if (j != i) s += std::tanh(arma::dot(X.col(m * spec.N + i), model.A() * X.col(m * spec.N + j)));
      CHECK(Y[m * spec.N + i] == Approx(s / (spec.N - 1)).epsilon(1e-12));
    }
  // Samples 10..19 drawn alone equal the same samples drawn in one call.
  arma::mat X2(spec.d, 10 * spec.N);
  arma::vec Y2(10 * spec.N);
  model.draw_samples(7, 10, 10, X2.memptr(), Y2.memptr());
  CHECK(arma::approx_equal(X2, X.cols(10 * spec.N, 20 * spec.N - 1), "absdiff", 0.0));
  CHECK(arma::approx_equal(Y2, Y.subvec(10 * spec.N, 20 * spec.N - 1), "absdiff", 0.0));
  // Noise has the stated standard deviation.
  spec.sigma = 0.5;
  const PairwiseModel noisy(spec, 2);
  arma::mat X3(spec.d, 4000 * spec.N);
  arma::vec Y3(4000 * spec.N);
  noisy.draw_samples(7, 0, 4000, X3.memptr(), Y3.memptr());
  arma::vec Y0(4000 * spec.N);
  model.draw_samples(7, 0, 4000, X3.memptr(), Y0.memptr());  // same tokens, sigma = 0
  CHECK(arma::stddev(Y3 - Y0) == Approx(0.5).epsilon(0.02));
  // With noise too, a sample's draws (tokens, then its noise) do not depend on which other
  // samples share its call: one at a time equals the samples inside a long call, bit for bit.
  for (std::size_t m = 13; m < 30; ++m) {
    arma::mat X4(spec.d, spec.N);
    arma::vec Y4(spec.N);
    noisy.draw_samples(7, m, 1, X4.memptr(), Y4.memptr());
    REQUIRE(arma::approx_equal(X4, X3.cols(m * spec.N, (m + 1) * spec.N - 1), "absdiff", 0.0));
    REQUIRE(arma::approx_equal(Y4, Y3.subvec(m * spec.N, (m + 1) * spec.N - 1), "absdiff", 0.0));
  }
}

namespace {

// u_ij = sum_r x_i[r] (sum_c A(r, c) x_j[c]), both sums from 0.0 in increasing index: the
// model's documented order, one interaction at a time.
double documented_interaction(const arma::mat& A, const double* x, int i, int j, int d) {
  double u = 0.0;
  for (int r = 0; r < d; ++r) {
    double axr = 0.0;
    for (int c = 0; c < d; ++c) axr += A(r, c) * x[j * d + c];
    u += x[i * d + r] * axr;
  }
  return u;
}

// The rank-1 weierstrass:1 model of the data-generation tests.
PairwiseModel test_model(int N, int d, double sigma) {
  PairwiseModelSpec spec;
  spec.N = N;
  spec.d = d;
  spec.r = 1;
  spec.sigma = sigma;
  spec.activation = "weierstrass:1";
  return PairwiseModel(spec, 3);
}

}  // namespace

TEST_CASE("data generation sums each interaction in its documented order (exact bits)", "[model]") {
  // Sample m's tokens are the law's draws from its own stream derive_seed(data_seed, {m});
  // u_ij = sum_r x_i[r] (sum_c A(r, c) x_j[c]), both sums from 0.0 in increasing index, phi over
  // sample i's row in increasing j != i, then Y_i = (1 / (N - 1)) (sum of the row) + sigma eps_i,
  // eps_i the stream's next normal() values: the reference below is that definition, one
  // interaction at a time.
  for (const auto& [N, d] : {std::pair{8, 5}, std::pair{3, 1}, std::pair{5, 7}}) {
    const double sigma = 0.7;
    const PairwiseModel model = test_model(N, d, sigma);
    const std::size_t M = 40, first = 5;
    arma::mat X(d, M * N);
    arma::vec Y(M * N);
    model.draw_samples(11, first, M, X.memptr(), Y.memptr());
    const arma::mat& A = model.A();
    std::vector<double> tokens(static_cast<std::size_t>(N) * d);
    std::size_t wrong_x = 0, mismatches = 0;
    for (std::size_t m = 0; m < M; ++m) {
      const double* x = X.colptr(m * N);
      Rng rng(derive_seed(11, {first + m}));
      model.tokens().draw_sample(rng, N, d, tokens.data());
      wrong_x += std::memcmp(tokens.data(), x, tokens.size() * sizeof(double)) != 0;
      for (int i = 0; i < N; ++i) {
        std::vector<double> row;
        for (int j = 0; j < N; ++j) {
          if (j == i) continue;
          row.push_back(documented_interaction(A, x, i, j, d));
        }
        model.phi().evaluate(row, row);
        double sum = 0.0;
        for (double v : row) sum += v;
        const double y = (1.0 / (N - 1)) * sum + sigma * rng.normal();
        mismatches += std::memcmp(&y, &Y[m * N + i], sizeof(double)) != 0;
      }
    }
    INFO("N = " << N << ", d = " << d);
    CHECK(wrong_x == 0);
    CHECK(mismatches == 0);
  }
}

TEST_CASE("sample_interactions: both vector variants give the documented sums bit for bit", "[model]") {
  // Token counts around the four-lane padding; the reference sums one interaction at a time.
  Rng rng(5);
  for (const int N : {2, 3, 4, 5, 8, 9, 13})
    for (const int d : {1, 2, 5, 7}) {
      arma::mat A(d, d);
      for (double& a : A) a = rng.normal();
      std::vector<double> x(static_cast<std::size_t>(N) * d);
      for (double& v : x) v = rng.uniform(-1.0, 1.0);
      std::vector<double> reference;
      for (int i = 0; i < N; ++i)
        for (int j = 0; j < N; ++j) {
          if (j == i) continue;
          reference.push_back(documented_interaction(A, x.data(), i, j, d));
        }
      for (const bool avx2 : {false, true}) {
        std::vector<double> scratch(sample_interactions_scratch(N, d), std::nan("")), u(reference.size());
        sample_interactions(A, x.data(), N, d, scratch.data(), u.data(), avx2);
        std::size_t mismatches = 0;
        for (std::size_t k = 0; k < u.size(); ++k) mismatches += std::memcmp(&u[k], &reference[k], sizeof(double)) != 0;
        INFO("N = " << N << ", d = " << d << (avx2 ? ", AVX2 where the CPU has it" : ", SSE2"));
        CHECK(mismatches == 0);
      }
    }
}

TEST_CASE("token laws draw several streams as each stream draws alone", "[model]") {
  // draw_samples(rngs, count) against draw_sample on copies of the same streams: the same tokens
  // bit for bit, and the streams left in the same states (the next raw outputs agree).
  for (const char* law_name : {"uniform", "gaussian", "exchangeable:0.3"}) {
    const TokenLaw law = TokenLaw::parse(law_name);
    for (const auto& [N, d, count] : {std::tuple{8, 5, 16}, std::tuple{3, 1, 9}, std::tuple{5, 7, 3}}) {
      std::vector<Rng> together, alone;
      for (int t = 0; t < count; ++t) {
        together.emplace_back(derive_seed(4, {static_cast<std::uint64_t>(t)}));
        alone.push_back(together.back());
      }
      const std::size_t n = static_cast<std::size_t>(N) * d;
      std::vector<double> a(n * count), b(n * count);
      law.draw_samples(together.data(), count, N, d, a.data());
      for (int t = 0; t < count; ++t) law.draw_sample(alone[t], N, d, b.data() + t * n);
      std::size_t diverged = 0;
      for (int t = 0; t < count; ++t) diverged += together[t]() != alone[t]();
      INFO(law_name << ", N = " << N << ", d = " << d << ", " << count << " samples");
      CHECK(std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
      CHECK(diverged == 0);
      // n pairs from one stream in one call, as n calls of draw_sample(rng, 2, d).
      Rng one(derive_seed(5, {static_cast<std::uint64_t>(N)})), pairwise = one;
      std::vector<double> p1(2 * d * static_cast<std::size_t>(count)), p2(p1.size());
      law.draw_pairs(one, count, d, p1.data());
      for (int t = 0; t < count; ++t) law.draw_sample(pairwise, 2, d, p2.data() + 2 * d * static_cast<std::size_t>(t));
      CHECK(std::memcmp(p1.data(), p2.data(), p1.size() * sizeof(double)) == 0);
      CHECK(one() == pairwise());
    }
  }
}

TEST_CASE("data generation gives the interactions its outputs came from", "[model]") {
  // draw_samples with U: X and Y as without it, and U is sample_interactions of each drawn sample.
  for (const auto& [N, d] : {std::pair{8, 5}, std::pair{3, 1}, std::pair{5, 7}}) {
    const PairwiseModel model = test_model(N, d, 0.7);
    const std::size_t M = 37, first = 5, per = static_cast<std::size_t>(N) * (N - 1);
    arma::mat X(d, M * N), X2(d, M * N);
    arma::vec Y(M * N), Y2(M * N);
    std::vector<double> U(M * per, std::nan(""));
    model.draw_samples(11, first, M, X.memptr(), Y.memptr());
    model.draw_samples(11, first, M, X2.memptr(), Y2.memptr(), U.data());
    INFO("N = " << N << ", d = " << d);
    CHECK(std::memcmp(X.memptr(), X2.memptr(), X.n_elem * sizeof(double)) == 0);
    CHECK(std::memcmp(Y.memptr(), Y2.memptr(), Y.n_elem * sizeof(double)) == 0);
    std::vector<double> scratch(sample_interactions_scratch(N, d)), u(per);
    std::size_t wrong_u = 0;
    for (std::size_t m = 0; m < M; ++m) {
      sample_interactions(model.A(), X.colptr(m * N), N, d, scratch.data(), u.data());
      wrong_u += std::memcmp(u.data(), U.data() + m * per, per * sizeof(double)) != 0;
    }
    CHECK(wrong_u == 0);
  }
}

TEST_CASE("model validation names the option", "[model]") {
  auto bad = [](auto mutate, const std::string& needle) {
    PairwiseModelSpec s;
    mutate(s);
    try {
      validate(s);
      FAIL("no exception for " << needle);
    } catch (const InputError& e) {
      CHECK_THAT(e.what(), Catch::Contains(needle));
    }
  };
  bad([](PairwiseModelSpec& s) { s.N = 1; }, "--N");
  bad([](PairwiseModelSpec& s) { s.d = 0; }, "--d");
  bad([](PairwiseModelSpec& s) { s.r = 6; }, "--r");
  bad([](PairwiseModelSpec& s) { s.sigma = -1; }, "--sigma");
}

TEST_CASE("K_M schedules", "[model]") {
  CHECK(schedule_pieces(Schedule::plain, 1.0, 1.0, 1000) == 10);
  CHECK(schedule_pieces(Schedule::plain, 1.0, 4.0, 64000) == 160);
  CHECK(schedule_pieces(Schedule::paper, 1.0, 1.0, 1000) == static_cast<int>(std::lround(std::cbrt(1000 / std::log(1000.0)))));
  CHECK(schedule_pieces(Schedule::plain, 1.0, 1e-6, 1000) == 1);
  CHECK(rate_abscissa(Schedule::paper, 1000) == Approx(std::log(1000 / std::log(1000.0))));
  CHECK_THROWS_AS(parse_schedule("fast"), InputError);
}

TEST_CASE("settings: grids, ranges, sources and did-you-mean", "[settings]") {
  Settings s({{"M", "500:4000:x2", ""}, {"sigma", "0.5", ""}, {"range", "auto", ""}});
  CHECK(s.get_sizes("M", 2) == std::vector<std::size_t>{500, 1000, 2000, 4000});
  s.set("M", "100,300", "--M");
  CHECK(s.get_sizes("M", 2) == std::vector<std::size_t>{100, 300});
  s.set("M", "1,300", "--M");
  CHECK_THROWS_WITH(s.get_sizes("M", 2), Catch::Contains("--M entries must be >= 2"));
  s.set("M", "100:50:x2", "--M");
  CHECK_THROWS_AS(s.get_sizes("M", 2), InputError);
  s.set("M", "100:500:x1", "--M");
  CHECK_THROWS_AS(s.get_sizes("M", 2), InputError);
  double a, b;
  CHECK_FALSE(s.get_range("range", a, b));
  s.set("range", "-1,2", "--range");
  CHECK(s.get_range("range", a, b));
  CHECK(a == -1.0);
  CHECK(b == 2.0);
  s.set("range", "2,1", "--range");
  CHECK_THROWS_WITH(s.get_range("range", a, b), Catch::Contains("a < b"));
  s.set("sigma", "-1", "study.toml: sigma");
  CHECK_THROWS_WITH(s.get_double("sigma", 0.0, std::numeric_limits<double>::infinity()), Catch::Contains("study.toml: sigma must be >= 0, got -1"));
  CHECK_THROWS_WITH(s.set("sigam", "1", "--sigam"), Catch::Contains("did you mean 'sigma'"));
}

TEST_CASE("closest_match suggests a name within half the longer name's length of edits", "[model]") {
  const std::vector<std::string> keys = {"token-laws", "M", "seeds", "sigma", "gram-pairs"};
  CHECK(closest_match("sigam", keys) == "sigma");
  CHECK(closest_match("tokens", keys) == "token-laws");  // as "--tokens" finds "--token-laws"
  CHECK(closest_match("seed", keys) == "seeds");
  CHECK(closest_match("bootstrap", keys).empty());
  CHECK(closest_match("x", {"abcdefgh"}).empty());
  CHECK(did_you_mean("sedes", keys) == "; did you mean 'seeds'?");
}

TEST_CASE("smoothness_from_pieces_slope inverts the schedule exponent 1/(2b+1)", "[model]") {
  for (double b : {0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 8.0})
    CHECK(attnrate::smoothness_from_pieces_slope(1.0 / (2.0 * b + 1.0)) == Approx(b).epsilon(1e-14));
  // Pieces growing like M (slope 1) stand for b = 0; slower growth for larger b.
  CHECK(attnrate::smoothness_from_pieces_slope(1.0) == 0.0);
  CHECK(attnrate::smoothness_from_pieces_slope(0.1) > attnrate::smoothness_from_pieces_slope(0.2));
}
