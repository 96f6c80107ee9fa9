// Theory side of random-feature attention: the input law, the targets (unit variance,
// permutation invariance) and the infinite-width ReLU kernel (closed forms against Monte Carlo
// and quadrature, PSD, kernel ridge); both kernels' Gram matrices of a growing training set.
#include <omp.h>

#include <boost/math/quadrature/gauss_kronrod.hpp>
#include <boost/math/special_functions/hermite.hpp>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <numeric>
#include <span>
#include <vector>

#include "estimators/common/input_error.hpp"
#include "estimators/common/random.hpp"
#include "theory/rfa/arc_cosine.hpp"
#include "theory/rfa/attention_law.hpp"
#include "theory/rfa/mlp_kernel.hpp"
#include "theory/rfa/rfa_kernel.hpp"
#include "theory/rfa/rfa_targets.hpp"

using namespace attnrate;

namespace {

// Mean, variance and their standard errors of a sample (SE of the variance from the 4th
// central moment: Var(s^2) ~ (m4 - v^2) / n).
struct SampleStats {
  double mean, var, se_mean, se_var;
};
SampleStats stats(const arma::vec& x) {
  const double n = x.n_elem;
  const double m = arma::mean(x);
  const arma::vec c = x - m;
  const double v = arma::accu(c % c) / (n - 1.0);
  const double m4 = arma::accu(c % c % c % c) / n;
  return {m, v, std::sqrt(v / n), std::sqrt(std::max(m4 - v * v, 0.0) / n)};
}

// Same inputs with the keys of every sample permuted by a seeded random permutation.
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

// E[relu(X) relu(Y)] by nested adaptive Gauss-Kronrod quadrature over the positive region:
// X = m1 + s1 z, Y | z = m2 + s2 rho z + s2 sqrt(1 - rho^2) w, z and w standard normal.
double relu_product_quadrature(double m1, double m2, double s1, double s2, double rho) {
  using boost::math::quadrature::gauss_kronrod;
  const double L = 15.0, tol = 1e-11;
  auto phi = [](double x) { return std::exp(-0.5 * x * x) / std::sqrt(2.0 * M_PI); };
  const double r = std::sqrt(std::max(0.0, (1.0 - rho) * (1.0 + rho)));
  auto inner = [&](double z) {  // E[Y^+ | z]
    const double mc = m2 + s2 * rho * z, sc = s2 * r;
    if (sc == 0.0) return std::max(mc, 0.0);
    const double w0 = std::max(-mc / sc, -L);
    if (w0 >= L) return 0.0;
    return gauss_kronrod<double, 31>::integrate([&](double w) { return (mc + sc * w) * phi(w); }, w0, L, 15, tol);
  };
  auto outer = [&](double z) { return (m1 + s1 * z) * phi(z) * inner(z); };
  const double z0 = std::max(-m1 / s1, -L);
  if (z0 >= L) return 0.0;
  std::vector<double> cuts{z0};
  if (rho != 0.0) {  // kink of E[Y^+ | z] where its conditional mean crosses 0
    const double zk = -m2 / (s2 * rho);
    if (zk > z0 + 1e-6 && zk < L) cuts.push_back(zk);  // (a sliver piece only costs time)
  }
  cuts.push_back(L);
  double total = 0.0;
  for (std::size_t k = 0; k + 1 < cuts.size(); ++k)
    total += gauss_kronrod<double, 31>::integrate(outer, cuts[k], cuts[k + 1], 15, tol);
  return total;
}

struct BivariateCase {
  double m1, m2, s1, s2, rho;
};
const std::vector<BivariateCase> kCases = {
    {0.0, 0.0, 1.0, 1.0, 0.3},      {0.0, 0.0, 2.0, 0.5, -0.7},     {0.5, -0.3, 1.0, 1.5, 0.4},
    {-1.0, -2.0, 1.0, 1.0, 0.6},    {-0.8, -0.5, 0.7, 1.2, -0.5},   {1.0, 2.0, 0.5, 1.0, 0.999},
    {0.3, -0.2, 1.0, 1.0, -0.999},  {0.0, 0.7, 1.0, 1.0, 0.5},      {-0.4, 0.0, 1.3, 0.8, -0.2},
    {2.0, -1.0, 1.0, 1.0, 1.0},     {1.0, 0.5, 1.0, 1.0, -1.0},     {0.2, 0.1, 1.0, 2.0, 0.0},
    {0.5, 0.5, 1.0, 1.0, 1 - 1e-9}, {0.5, -0.4, 1.0, 1.0, -1 + 1e-9}, {3.0, 2.5, 1.0, 0.8, 0.2},
    {-3.0, 1.0, 1.0, 1.0, 0.9}};

// phi_W(x_0, X) = (1/N) sum_i relu(xt_0^T W xt_i) xt_i for one sample.
arma::vec rfa_feature(const arma::mat& W, const AttentionInputs& in, std::size_t s) {
  const int d = in.d;
  arma::vec x0(d + 1, arma::fill::ones), f(d + 1, arma::fill::zeros);
  x0.head(d) = in.query.col(s);
  const arma::vec Wt0 = W.t() * x0;
  for (int i = 0; i < in.N; ++i) {
    arma::vec xi(d + 1, arma::fill::ones);
    xi.head(d) = in.keys.col(s * in.N + i);
    f += std::max(arma::dot(Wt0, xi), 0.0) * xi;
  }
  return f / in.N;
}

}  // namespace

TEST_CASE("attention input law: shapes, normalisation, reproducibility, validation", "[rfa_theory]") {
  const int d = 4, N = 3;
  const std::size_t n = 20000;
  const AttentionLaw sphere = AttentionLaw::parse("sphere"), gauss = AttentionLaw::parse("gaussian");
  CHECK(AttentionLaw{}.kind == AttentionLaw::Kind::sphere);
  const AttentionInputs a = sphere.sample(d, N, n, 5);
  REQUIRE(a.query.n_rows == d);
  REQUIRE(a.query.n_cols == n);
  REQUIRE(a.keys.n_cols == n * N);
  CHECK(a.d == d);
  CHECK(a.N == N);
  // On the sphere every token has norm 1.
  CHECK(arma::abs(arma::sqrt(arma::sum(arma::square(a.keys), 0)) - 1.0).max() < 1e-14);
  CHECK(arma::abs(arma::sqrt(arma::sum(arma::square(a.query), 0)) - 1.0).max() < 1e-14);
  // Both laws: E x x^T = I/d, so every squared coordinate has mean 1/d (4 standard errors).
  for (const AttentionLaw& law : {sphere, gauss}) {
    const AttentionInputs b = law.sample(d, N, n, 9);
    for (int c = 0; c < d; ++c) {
      const SampleStats st = stats(arma::square(b.keys.row(c).t()));
      INFO(law.name() << " coordinate " << c);
      CHECK(std::abs(st.mean - 1.0 / d) < 4 * st.se_mean);
    }
    const SampleStats cross = stats((b.keys.row(0) % b.keys.row(1)).t());
    CHECK(std::abs(cross.mean) < 4 * cross.se_mean);
  }
  // Reproducible from the seed, and different seeds differ.
  const AttentionInputs a2 = sphere.sample(d, N, n, 5), a3 = sphere.sample(d, N, n, 6);
  CHECK(arma::approx_equal(a.keys, a2.keys, "absdiff", 0.0));
  CHECK(arma::approx_equal(a.query, a2.query, "absdiff", 0.0));
  CHECK_FALSE(arma::approx_equal(a.keys, a3.keys, "absdiff", 1e-3));
  CHECK_THROWS_AS(sphere.sample(0, N, n, 1), InputError);
  CHECK_THROWS_AS(sphere.sample(d, 0, n, 1), InputError);
  CHECK_THROWS_AS(sphere.sample(d, N, 0, 1), InputError);
  CHECK_THROWS_AS(AttentionLaw::parse("uniform"), InputError);
}

TEST_CASE("probabilists' Hermite polynomials match explicit forms and Boost's H_n", "[rfa_theory]") {
  for (double x : {-2.3, -0.7, 0.0, 0.4, 1.9, 3.1}) {
    CHECK(hermite_he(0, x) == 1.0);
    CHECK(hermite_he(1, x) == x);
    CHECK(hermite_he(2, x) == Approx(x * x - 1).margin(1e-14));
    CHECK(hermite_he(3, x) == Approx(x * x * x - 3 * x).margin(1e-13));
    CHECK(hermite_he(4, x) == Approx(std::pow(x, 4) - 6 * x * x + 3).margin(1e-12));
    for (int p = 0; p <= 10; ++p) {  // He_p(x) = 2^{-p/2} H_p(x / sqrt 2)
      const double ref = std::pow(2.0, -p / 2.0) * boost::math::hermite(p, x / std::sqrt(2.0));
      CHECK(hermite_he(p, x) == Approx(ref).epsilon(1e-12).margin(1e-12));
    }
  }
}

TEST_CASE("RFA targets have mean 0 and variance 1 under the input law", "[rfa_theory]") {
  const std::vector<std::string> specs = {"inner-poly:1", "inner-poly:2", "inner-poly:3", "inner-poly:4",
                                          "key-poly:1",   "key-poly:2",   "key-poly:3",   "mixed:1",
                                          "mixed:2",      "mixed:3",      "cos-inner",    "cos-inner:2.5",
                                          "first-key"};
  const std::size_t n = 100000;
  for (const char* law_name : {"sphere", "gaussian"}) {
    const AttentionLaw law = AttentionLaw::parse(law_name);
    for (int d : {3, 8}) {
      for (int N : {1, 5}) {
        const AttentionInputs in = law.sample(d, N, n, derive_seed(77, {static_cast<std::uint64_t>(d), static_cast<std::uint64_t>(N)}));
        for (const std::string& spec : specs) {
          const RfaTarget t = RfaTarget::parse(spec, d, law, 3);
          const SampleStats st = stats(t.evaluate(in));
          INFO(spec << " law " << law_name << " d " << d << " N " << N << " (" << t.raw_moments().method
                    << "): mean " << st.mean << " +- " << st.se_mean << ", variance " << st.var << " +- " << st.se_var);
          CHECK(std::abs(st.mean) < 4 * st.se_mean);
          CHECK(std::abs(st.var - 1.0) < 4 * st.se_var);
        }
      }
    }
  }
}

TEST_CASE("RFA target normalisation methods are the documented ones", "[rfa_theory]") {
  const AttentionLaw sphere{}, gauss = AttentionLaw::parse("gaussian");
  CHECK(RfaTarget::parse("inner-poly:2", 4, gauss).raw_moments().method == "closed form");
  CHECK(RfaTarget::parse("cos-inner", 4, sphere).raw_moments().method == "quadrature");
  CHECK(RfaTarget::parse("mixed:2", 4, sphere).raw_moments().method.rfind("monte carlo", 0) == 0);
  // Gaussian law: key-poly:p is exactly He_p of a standard normal, mean 0 and variance 1.
  const RfaTarget key3 = RfaTarget::parse("key-poly:3", 5, gauss);
  const auto& m = key3.raw_moments();
  CHECK(m.mean == Approx(0.0).margin(1e-15));
  CHECK(m.variance == Approx(1.0).epsilon(1e-14));
  // Sphere, inner-poly:2: t^2 = d u^2, E t^2 = 1, E t^4 = 3d/(d+2): v = (E t^4 - 1) / 2.
  const int d = 6;
  const RfaTarget inner2 = RfaTarget::parse("inner-poly:2", d, sphere);
  const auto& s = inner2.raw_moments();
  CHECK(s.mean == Approx(0.0).margin(1e-15));
  CHECK(s.variance == Approx((3.0 * d / (d + 2.0) - 1.0) / 2.0).epsilon(1e-14));
  CHECK(s.covariance == 0.0);
  // The same target under the gaussian law: the keys share |x_0|, c = Var(|x_0|^2)/2 = 1/d.
  CHECK(RfaTarget::parse("inner-poly:2", d, gauss).raw_moments().covariance == Approx(1.0 / d).epsilon(1e-13));
}

TEST_CASE("RFA targets: permutation invariance, and its absence for first-key", "[rfa_theory]") {
  const int d = 5, N = 6;
  for (const char* law_name : {"sphere", "gaussian"}) {
    const AttentionLaw law = AttentionLaw::parse(law_name);
    const AttentionInputs in = law.sample(d, N, 2000, 21);
    const AttentionInputs perm = permute_keys(in, 22);
    REQUIRE_FALSE(arma::approx_equal(in.keys, perm.keys, "absdiff", 1e-3));
    for (const char* spec : {"inner-poly:2", "inner-poly:3", "key-poly:2", "mixed:2", "mixed:3", "cos-inner", "first-key"}) {
      const RfaTarget t = RfaTarget::parse(spec, d, law, 8);
      const double diff = arma::abs(t.evaluate(in) - t.evaluate(perm)).max();
      INFO(spec << " " << law_name << " max |f(X) - f(perm X)| = " << diff);
      CHECK(t.is_permutation_invariant() == (std::string(spec) != "first-key"));
      if (t.is_permutation_invariant())
        CHECK(diff < 1e-12);
      else
        CHECK(diff > 0.1);
    }
  }
}

TEST_CASE("RFA targets: parsing, names, seeds and errors", "[rfa_theory]") {
  const AttentionLaw law{};
  CHECK(RfaTarget::parse("inner-poly:3", 4, law).name() == "inner-poly:3");
  CHECK(RfaTarget::parse("cos-inner", 4, law).name() == "cos-inner");
  CHECK(RfaTarget::parse("cos-inner:2.5", 4, law).name() == "cos-inner:2.5");
  CHECK(RfaTarget::parse("first-key", 4, law).kind() == RfaTarget::Kind::first_key);
  // The identity writes the parameter out: the default w = 1.5 sqrt(d) = 3 at d = 4.
  CHECK(RfaTarget::parse("cos-inner", 4, law).identity() == "cos-inner:3");
  CHECK(RfaTarget::parse("cos-inner:3.0", 4, law).identity() == "cos-inner:3");
  CHECK(RfaTarget::parse("cos-inner", 9, law).identity() == "cos-inner:4.5");
  CHECK(RfaTarget::parse("cos-inner:2.5", 4, law).identity() == "cos-inner:2.5");
  CHECK(RfaTarget::parse("key-poly:2", 4, law).identity() == "key-poly:2");
  try {
    RfaTarget::parse("foo", 4, law);
    FAIL("no exception");
  } catch (const InputError& e) {
    const std::string msg = e.what();
    CHECK(msg.find("unknown target \"foo\"") != std::string::npos);
    CHECK(msg.find("valid:") != std::string::npos);
    CHECK(msg.find("first-key") != std::string::npos);
  }
  for (const char* bad : {"inner-poly", "inner-poly:0", "inner-poly:11", "key-poly:x", "mixed:2.5", "cos-inner:-1",
                          "cos-inner:0", "cos-inner:abc", "first-key:2", ""})
    CHECK_THROWS_AS(RfaTarget::parse(bad, 4, law), InputError);
  CHECK_THROWS_AS(RfaTarget::parse("inner-poly:2", 0, law), InputError);
  // On S^0 = {-1, 1}, <x_0, x_1> = +-1 and He_2(+-1) = 0: a constant, which cannot be normalised.
  CHECK_THROWS_AS(RfaTarget::parse("inner-poly:2", 1, law), InputError);
  // Dimension mismatch.
  const AttentionInputs in = law.sample(3, 2, 10, 1);
  CHECK_THROWS_AS(RfaTarget::parse("key-poly:2", 4, law).evaluate(in), InputError);
  // The seed fixes b (key-poly) and the polynomial (mixed): same seed same values, else not.
  const AttentionInputs x = law.sample(4, 3, 50, 2);
  for (const char* spec : {"key-poly:2", "mixed:2"}) {
    const arma::vec f1 = RfaTarget::parse(spec, 4, law, 10).evaluate(x);
    const arma::vec f2 = RfaTarget::parse(spec, 4, law, 10).evaluate(x);
    const arma::vec f3 = RfaTarget::parse(spec, 4, law, 11).evaluate(x);
    CHECK(arma::approx_equal(f1, f2, "absdiff", 0.0));
    CHECK_FALSE(arma::approx_equal(f1, f3, "absdiff", 1e-3));
  }
}

TEST_CASE("arc-cosine J: exact ends and clamping, accuracy against long double, one value at every width", "[rfa_theory]") {
  constexpr double kPi = 3.14159265358979323846;
  // Ends: J(1) = 1/2, J(0) = 1/(2 pi), J(-1) = 0; outside [-1, 1] the value at the nearer end.
  CHECK(arc_cosine_j1(1.0) == 0.5);
  CHECK(arc_cosine_j1(0.0) == Approx(1.0 / (2.0 * kPi)).epsilon(1e-15));
  CHECK(arc_cosine_j1(-1.0) == 0.0);
  CHECK(arc_cosine_j1(1.5) == arc_cosine_j1(1.0));
  CHECK(arc_cosine_j1(-7.0) == arc_cosine_j1(-1.0));
  CHECK(std::isnan(arc_cosine_j1(std::nan(""))));
  // Against the formula in long double (64-bit significand). Error budget of the numerator
  // sqrt((1 - r)(1 + r)) + (pi - acos r) r, whose terms are at most 1 and pi: acos within 1 ulp
  // (<= ulp(pi) = 4.4e-16), the rounding of the difference, the product and the sum (1/2 ulp of pi,
  // pi and 4: 2.2e-16, 2.2e-16, 4.4e-16) and of the square-root term (1.7e-16), 1.5e-15 in all;
  // divided by 2 pi, plus the division's 1/2 ulp of J <= 1/2: 2.9e-16 absolute. Absolute because J
  // vanishes at rho = -1, where pi - acos(rho) cancels; rho is drawn near -1 too.
  Rng rng(71);
  std::vector<double> rho(200000);
  for (std::size_t k = 0; k < rho.size(); ++k)
    rho[k] = k % 4 == 0 ? -1.0 + std::ldexp(rng.uniform(), -static_cast<int>(k % 40)) : rng.uniform(-1.0, 1.0);
  std::vector<double> j(rho.size());
  arc_cosine_j1(rho, j);
  double worst = 0.0;
  for (std::size_t k = 0; k < rho.size(); ++k) {
    const long double r = rho[k], pi = 3.141592653589793238462643383279502884L;
    const long double ref = (std::sqrt((1.0L - r) * (1.0L + r)) + (pi - std::acos(r)) * r) / (2.0L * pi);
    worst = std::max(worst, static_cast<double>(std::fabs(static_cast<long double>(j[k]) - ref)));
  }
  INFO("worst absolute error " << worst);
  CHECK(worst <= 2.9e-16);
  // Every width the CPU runs gives the scalar overload's bits, at every position of an odd tail.
  std::vector<double> mixed = {-1.0, -0.999999, -0.5, -0.0, 0.0, 1e-300, 0.3, 0.999, 1.0, 2.0, -2.0, std::nan("")};
  for (int k = 0; k < 25; ++k) mixed.push_back(rng.uniform(-1.0, 1.0));
  for (const auto width : {Activation::VectorWidth::sse2, Activation::VectorWidth::avx, Activation::VectorWidth::avx512}) {
    if (!Activation::cpu_supports(width)) continue;
    for (std::size_t n = 1; n <= mixed.size(); ++n) {
      std::vector<double> out(n);
      arc_cosine_j1(std::span<const double>(mixed.data(), n), out, width);
      for (std::size_t k = 0; k < n; ++k) {
        INFO("width " << static_cast<int>(width) << ", n " << n << ", k " << k << ", rho " << mixed[k]);
        const double one = arc_cosine_j1(mixed[k]);
        CHECK((std::isnan(one) ? std::isnan(out[k]) : std::memcmp(&one, &out[k], sizeof one) == 0));
      }
    }
  }
}

TEST_CASE("E[relu relu] closed form matches Monte Carlo within 3 standard errors", "[rfa_theory]") {
  const std::size_t draws = 1000000;
  Rng rng(2024);
  for (const auto& c : kCases) {
    const double r = std::sqrt(std::max(0.0, (1.0 - c.rho) * (1.0 + c.rho)));
    double sum = 0.0, sum2 = 0.0;
    for (std::size_t k = 0; k < draws; ++k) {
      const double z1 = rng.normal(), z2 = rng.normal();
      const double x = c.m1 + c.s1 * z1, y = c.m2 + c.s2 * (c.rho * z1 + r * z2);
      const double v = std::max(x, 0.0) * std::max(y, 0.0);
      sum += v;
      sum2 += v * v;
    }
    const double mean = sum / draws, se = std::sqrt((sum2 / draws - mean * mean) / draws);
    const double exact = expected_relu_product(c.m1, c.m2, c.s1, c.s2, c.rho);
    INFO("m " << c.m1 << "," << c.m2 << " s " << c.s1 << "," << c.s2 << " rho " << c.rho << ": closed form " << exact
              << ", Monte Carlo " << mean << " +- " << se);
    CHECK(std::abs(exact - mean) < 3 * se);
  }
}

TEST_CASE("E[relu relu] closed form matches 2-D quadrature", "[rfa_theory]") {
  std::vector<BivariateCase> cases = kCases;
  // Near-degenerate correlations, h = 0 or k = 0 exactly, tiny means, large |means|.
  for (double rho : {1 - 1e-6, 1 - 1e-12, -1 + 1e-6, -1 + 1e-12, 0.95, -0.95})
    for (auto [m1, m2] : {std::pair{0.4, -0.3}, {-0.2, -0.6}, {0.0, 0.5}, {-0.5, 0.0}, {1e-12, -1e-12}})
      cases.push_back({m1, m2, 1.2, 0.9, rho});
  cases.push_back({4.0, 3.0, 0.5, 0.7, 0.3});
  cases.push_back({-4.0, -3.0, 0.5, 0.7, 0.3});
  cases.push_back({5.0, -5.0, 1.0, 1.0, -0.8});
  for (const auto& c : cases) {
    const double exact = expected_relu_product(c.m1, c.m2, c.s1, c.s2, c.rho);
    const double quad = relu_product_quadrature(c.m1, c.m2, c.s1, c.s2, c.rho);
    INFO("m " << c.m1 << "," << c.m2 << " s " << c.s1 << "," << c.s2 << " rho " << c.rho << ": closed form " << exact
              << ", quadrature " << quad);
    CHECK(std::abs(exact - quad) < 1e-9 * c.s1 * c.s2);
  }
  // Zero standard deviations: one factor is deterministic.
  CHECK(expected_relu_product(0.7, 0.2, 0.0, 1.5, 0.3) ==
        Approx(0.7 * relu_product_quadrature(0.2, 1.0, 1.5, 1e-300, 0.0) / 1.0).epsilon(1e-9));
  CHECK(expected_relu_product(-0.7, 0.2, 0.0, 1.5, 0.3) == 0.0);
  CHECK(expected_relu_product(0.7, 0.2, 0.0, 0.0, 0.3) == Approx(0.14).epsilon(1e-15));
  // Zero means: arc-cosine kernel; at rho = 1 it is E[relu(Z)^2] s1 s2 = s1 s2 / 2.
  CHECK(expected_relu_product(0.0, 0.0, 2.0, 3.0, 1.0) == Approx(3.0).epsilon(1e-14));
  CHECK(expected_relu_product(0.0, 0.0, 2.0, 3.0, -1.0) == Approx(0.0).margin(1e-14));
  CHECK(expected_relu_product(0.0, 0.0, 2.0, 3.0, 0.0) == Approx(6.0 / (2 * M_PI)).epsilon(1e-14));
}

TEST_CASE("RFA kernel: symmetric, PSD, thread-invariant, consistent entry points", "[rfa_theory]") {
  const AttentionLaw law{};
  const AttentionInputs a = law.sample(3, 3, 60, 31);
  const AttentionInputs b = AttentionLaw::parse("gaussian").sample(3, 2, 25, 32);
  for (const RfaKernel& k : {RfaKernel(0.5, 0.0), RfaKernel(0.5, 2.0), RfaKernel(1.0, -1.0)}) {
    INFO("tau " << k.tau() << " mu " << k.mu());
    const arma::mat K = k.gram(a);
    CHECK(K.is_symmetric());
    const arma::vec ev = arma::eig_sym(K);
    INFO("smallest eigenvalue " << ev.min() << ", largest " << ev.max());
    CHECK(ev.min() >= -1e-10);
    CHECK(ev.max() > 0.0);
    // Cross Gram of a set with itself and the single-entry call agree with the symmetric one.
    CHECK(arma::approx_equal(k.gram(a, a), K, "reldiff", 1e-13));
    CHECK(k(a, 4, a, 17) == K(4, 17));  // the same entry function, bit for bit
    // Cross Gram, different N on the two sides, and PSD of the joint set.
    const arma::mat Kab = k.gram(a, b);
    CHECK(k(a, 5, b, 7) == Kab(5, 7));
    CHECK(arma::approx_equal(Kab.t(), k.gram(b, a), "reldiff", 1e-13));
    // Same result for 1 and 2 threads, bit for bit.
    const int threads = omp_get_max_threads();
    omp_set_num_threads(1);
    const arma::mat K1 = k.gram(a, b);
    omp_set_num_threads(2);
    const arma::mat K2 = k.gram(a, b);
    omp_set_num_threads(threads);
    CHECK(arma::approx_equal(K1, K2, "absdiff", 0.0));
  }
  // tau = 0: W = mu W_0 is deterministic and K is the inner product of the explicit features.
  arma::mat W0(4, 4, arma::fill::zeros);
  for (int c = 0; c < 3; ++c) W0(c, c) = 2.0;
  const RfaKernel k0(0.0, 2.0);
  for (std::size_t t : {0u, 3u, 11u})
    CHECK(k0(a, 7, b, t) == Approx(arma::dot(rfa_feature(W0, a, 7), rfa_feature(W0, b, t))).epsilon(1e-13).margin(1e-15));
  CHECK_THROWS_AS(RfaKernel(-1.0, 0.0), InputError);
  CHECK_THROWS_AS(RfaKernel(std::nan(""), 0.0), InputError);
  CHECK_THROWS_AS(RfaKernel(0.5, std::nan("")), InputError);
  CHECK_THROWS_AS(RfaKernel().gram(a, law.sample(4, 3, 5, 1)), InputError);
}

TEST_CASE("RFA kernel equals E_W <phi_W, phi_W'> by Monte Carlo over W", "[rfa_theory]") {
  const int d = 3;
  const AttentionInputs a = AttentionLaw{}.sample(d, 3, 3, 41);
  const AttentionInputs b = AttentionLaw::parse("gaussian").sample(d, 2, 2, 42);
  const std::size_t draws = 400000;
  for (const RfaKernel& k : {RfaKernel(0.5, 0.0), RfaKernel(0.5, 2.0), RfaKernel(0.8, -1.5)}) {
    // Pairs: (a0, a0) diagonal, (a0, a1), (a2, b0) with different N.
    struct Pair {
      const AttentionInputs* x;
      std::size_t s;
      const AttentionInputs* y;
      std::size_t t;
    };
    const std::vector<Pair> pairs = {{&a, 0, &a, 0}, {&a, 0, &a, 1}, {&a, 2, &b, 0}, {&b, 1, &b, 0}};
    std::vector<double> sum(pairs.size(), 0.0), sum2(pairs.size(), 0.0);
    Rng rng(derive_seed(43, {hash_name("W"), static_cast<std::uint64_t>(k.mu() * 10)}));
    arma::mat W(d + 1, d + 1);
    for (std::size_t r = 0; r < draws; ++r) {
      for (auto& w : W) w = k.tau() * rng.normal();
      for (int c = 0; c < d; ++c) W(c, c) += k.mu();
      for (std::size_t p = 0; p < pairs.size(); ++p) {
        const double v = arma::dot(rfa_feature(W, *pairs[p].x, pairs[p].s), rfa_feature(W, *pairs[p].y, pairs[p].t));
        sum[p] += v;
        sum2[p] += v * v;
      }
    }
    for (std::size_t p = 0; p < pairs.size(); ++p) {
      const double mean = sum[p] / draws, se = std::sqrt((sum2[p] / draws - mean * mean) / draws);
      const double exact = k(*pairs[p].x, pairs[p].s, *pairs[p].y, pairs[p].t);
      INFO("tau " << k.tau() << " mu " << k.mu() << " pair " << p << ": kernel " << exact << ", Monte Carlo " << mean
                  << " +- " << se);
      CHECK(std::abs(exact - mean) < 3 * se);
    }
  }
}

TEST_CASE("kernel ridge: normal equations, prediction, fallback, validation", "[rfa_theory]") {
  const AttentionLaw law{};
  const int d = 3, N = 4;
  const AttentionInputs train = law.sample(d, N, 80, 51), test = law.sample(d, N, 30, 52);
  const RfaTarget target = RfaTarget::parse("inner-poly:2", d, law);
  const arma::vec y = target.evaluate(train);
  const RfaKernel k(0.5, 2.0);
  const double lambda = 1e-3;
  const RfaKernelRidge krr(k, train, y, lambda);
  CHECK(krr.solver() == "cholesky");
  const arma::mat K = k.gram(train);
  const double n = train.n();
  // alpha solves (K + n lambda I) alpha = y: the stationarity condition of
  // (1/n)||y - K alpha||^2 + lambda alpha^T K alpha.
  const arma::mat A = K + n * lambda * arma::eye(train.n(), train.n());
  CHECK(arma::norm(A * krr.alpha() - y) < 1e-10 * arma::norm(y));
  // Predictions are sum_s alpha_s K(x, x_s); on the training set, K alpha.
  CHECK(arma::approx_equal(krr.predict(train), K * krr.alpha(), "absdiff", 1e-10));
  CHECK(arma::approx_equal(krr.predict(test), k.gram(test, train) * krr.alpha(), "absdiff", 1e-10));
  // Objective at alpha is below nearby perturbations (it is the minimiser).
  auto objective = [&](const arma::vec& al) {
    const arma::vec r = y - K * al;
    return arma::dot(r, r) / n + lambda * arma::dot(al, K * al);
  };
  Rng rng(53);
  arma::vec dir(train.n());
  for (auto& v : dir) v = rng.normal();
  CHECK(objective(krr.alpha()) < objective(krr.alpha() + 1e-3 * dir));
  CHECK(objective(krr.alpha()) < objective(krr.alpha() - 1e-3 * dir));
  // Fallback: a Gram matrix with a negative spectrum is floored at 0.
  std::string solver;
  const arma::mat Kneg = -10.0 * arma::eye(5, 5);
  const arma::vec y5 = arma::linspace(1.0, 5.0, 5);
  const arma::vec al = kernel_ridge_coefficients(Kneg, y5, 0.1, &solver);
  CHECK(solver != "cholesky");
  CHECK(arma::approx_equal(al, y5 / (5 * 0.1), "absdiff", 1e-12));
  CHECK_THROWS_AS(kernel_ridge_coefficients(K, y, 0.0), InputError);
  CHECK_THROWS_AS(kernel_ridge_coefficients(K, y.head(10), 1e-3), InputError);
  CHECK_THROWS_AS(RfaKernelRidge(k, train, y.head(10), lambda), InputError);
  // One solver over a lambda grid: each solve satisfies its own normal equations, whatever the
  // buffer held before (descending, then ascending lambda).
  KernelRidgeSolver many(K);
  for (double l : {1.0, 1e-2, 1e-5, 1e-2, 1.0}) {
    const arma::vec al_l = many.solve(y, l, &solver);
    CHECK(solver == "cholesky");
    CHECK(arma::norm((K + n * l * arma::eye(train.n(), train.n())) * al_l - y) < 1e-9 * arma::norm(y));
  }
  const arma::mat not_square = K.cols(0, 9);
  CHECK_THROWS_AS(KernelRidgeSolver(not_square), InputError);
  CHECK_THROWS_AS(many.solve(y.head(10), 1e-3), InputError);
}

TEST_CASE("kernel predictions: each output summed over training points in increasing order", "[rfa_theory]") {
  // kernel_predict reads K by columns; each f_s must still be the left-to-right sum over t
  // (the thread-invariant order), bit for bit, on sizes that are not multiples of a vector width.
  Rng rng(61);
  for (const auto& [rows, cols] : {std::pair{1u, 1u}, std::pair{7u, 13u}, std::pair{33u, 5u}}) {
    arma::mat K(rows, cols);
    arma::vec alpha(cols);
    for (auto& v : K) v = rng.normal() * std::exp(4.0 * rng.normal());  // wide magnitudes: rounding shows
    for (auto& v : alpha) v = rng.normal();
    const arma::vec f = kernel_predict(K, alpha);
    REQUIRE(f.n_elem == rows);
    for (arma::uword s = 0; s < rows; ++s) {
      double v = 0.0;
      for (arma::uword t = 0; t < cols; ++t) v += K(s, t) * alpha[t];
      CHECK(f[s] == v);
    }
  }
  CHECK(kernel_predict(arma::mat(4, 0), arma::vec()).n_elem == 4);
  CHECK_THROWS_AS(kernel_predict(arma::mat(3, 4, arma::fill::zeros), arma::vec(3, arma::fill::zeros)), InputError);
}

namespace {

template <class Kernel>
void check_growing_gram(const Kernel& k) {
  const AttentionInputs a = AttentionLaw{}.sample(3, 4, 37, 91);
  const arma::mat full = k.gram(a);
  // From nothing, from a block, from the whole matrix: the same bits as gram(a).
  for (std::size_t m : {0u, 1u, 16u, 37u}) {
    INFO("first " << m << " samples known");
    const arma::mat first = m == 0 ? arma::mat() : k.gram(a.samples(0, m));
    CHECK(arma::approx_equal(k.gram(a, first), full, "absdiff", 0.0));
  }
  // Growing twice, as a learning curve does.
  const arma::mat K20 = k.gram(a.samples(0, 20), k.gram(a.samples(0, 8)));
  CHECK(arma::approx_equal(k.gram(a, K20), full, "absdiff", 0.0));
  // Test-by-training blocks: new columns for new training samples.
  const AttentionInputs test = AttentionLaw{}.sample(3, 4, 11, 92);
  const arma::mat cross = arma::join_rows(k.gram(test, a.samples(0, 20)), k.gram(test, a.samples(20, 37)));
  CHECK(arma::approx_equal(cross, k.gram(test, a), "absdiff", 0.0));
  // A known block that is not square or larger than the set.
  CHECK_THROWS_AS(k.gram(a, arma::mat(3, 4, arma::fill::zeros)), InputError);
  CHECK_THROWS_AS(k.gram(a.samples(0, 5), k.gram(a.samples(0, 6))), InputError);
}

}  // namespace

TEST_CASE("Gram matrices of a growing training set extend the smaller one with the same bits", "[rfa_theory]") {
  SECTION("RFA kernel") { check_growing_gram(RfaKernel(0.5, 1.0)); }
  SECTION("MLP kernel") { check_growing_gram(MlpKernel()); }
}
