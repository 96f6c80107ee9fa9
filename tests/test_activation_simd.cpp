// The SLEEF kernels of Activation (theory/pairwise/activation.hpp): error against a long double
// reference and the C library on the activations' working ranges, the documented bounds, and
// the reproducibility contract (a value does not depend on its block, its offset, or the vector
// width of SLEEF's deterministic variants).
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <numbers>
#include <string>
#include <vector>

#include <immintrin.h>
#include <sleef.h>

#include "estimators/common/random.hpp"
#include "theory/pairwise/activation.hpp"
#include "theory/pairwise/sleef_avx.hpp"

using namespace attnrate;

namespace {

// Error of y in units in the last place of the exact value `ref` (long double has 11 more
// bits, so the reference's own error is below 2^-11 ulp).
double ulps(double y, long double ref) {
  if (std::isnan(y) || std::isnan(static_cast<double>(ref))) return std::isnan(y) == std::isnan(static_cast<double>(ref)) ? 0.0 : INFINITY;
  const int e = std::max(std::ilogb(ref), -1022);
  return static_cast<double>(std::fabs(static_cast<long double>(y) - ref) / std::ldexp(1.0L, e - 52));
}

// SLEEF's 2-lane SSE2 deterministic function over an array, as the kernels use it.
template <class F>
std::vector<double> sleef2(F f, const std::vector<double>& x) {
  std::vector<double> y(x.size());
  for (std::size_t k = 0; k + 2 <= x.size(); k += 2) _mm_storeu_pd(y.data() + k, f(_mm_loadu_pd(x.data() + k)));
  return y;
}

constexpr double kSlack = 1e-3;  // the long double reference's own error, in ulps

}  // namespace

TEST_CASE("SLEEF sincos (_u35) within its documented 3.5 ulp on the Weierstrass arguments (10^7 points)", "[simd]") {
  // theta = f_j u in double, as the kernel computes a chain's start; u over the interactions'
  // range (|u| <= 4, beyond the 1e-4 tail quantiles), 9 in 10 terms of weierstrass:1 (|theta| up
  // to ~3100) and 1 in 10 of weierstrass:0.16 (up to ~2e16: SLEEF's Payne-Hanek reduction).
  const Activation w1 = Activation::parse("weierstrass:1"), w016 = Activation::parse("weierstrass:0.16");
  constexpr std::size_t n = 10'000'000;
  Rng rng(20240611);
  std::vector<double> theta(n);
  for (std::size_t k = 0; k < n; ++k) {
    const Activation& w = k % 10 == 9 ? w016 : w1;
    const std::size_t j = static_cast<std::size_t>(rng.uniform() * static_cast<double>(w.weierstrass_frequencies().size()));
    theta[k] = w.weierstrass_frequencies()[j] * rng.uniform(-4.0, 4.0);
  }
  std::vector<double> sin_s(n), cos_s(n);
  for (std::size_t k = 0; k + 2 <= n; k += 2) {
    const Sleef___m128d_2 sc = Sleef_cinz_sincosd2_u35sse2(_mm_loadu_pd(theta.data() + k));
    _mm_storeu_pd(sin_s.data() + k, sc.x);
    _mm_storeu_pd(cos_s.data() + k, sc.y);
  }
  // All points against the C library; every 10th (10^6) also against the long double reference,
  // which costs most of this test's time.
  double max_sleef = 0.0, max_libm = 0.0, max_diff = 0.0;
  for (std::size_t k = 0; k < n; ++k) {
    const double c = std::cos(theta[k]), si = std::sin(theta[k]);
    max_diff = std::max({max_diff, ulps(cos_s[k], c), ulps(sin_s[k], si)});
    if (k % 10 == 0) {
      const long double t = theta[k];
      max_sleef = std::max({max_sleef, ulps(cos_s[k], std::cos(t)), ulps(sin_s[k], std::sin(t))});
      max_libm = std::max({max_libm, ulps(c, std::cos(t)), ulps(si, std::sin(t))});
    }
  }
  INFO("max ulp of sin and cos: SLEEF " << max_sleef << ", libm " << max_libm << ", SLEEF vs libm " << max_diff);
  CHECK(max_sleef <= 3.5 + kSlack);
  // SLEEF's 3.5 ulp plus glibc's (its manual lists 1 ulp for sin and cos on x86_64) around the same value.
  CHECK(max_diff <= 4.5 + kSlack);
}

TEST_CASE("SLEEF exp, pow, tanh, log1p, erfc within their documented bounds", "[simd]") {
  constexpr std::size_t n = 300'000;
  Rng rng(7);
  auto points = [&](double lo, double hi) {
    std::vector<double> x(n);
    for (auto& v : x) v = rng.uniform(lo, hi);
    return x;
  };
  struct Case {
    std::string name;
    std::vector<double> x;
    std::vector<double> y;
    std::function<long double(double)> ref;
    std::function<double(double)> libm;
    double bound;
  };
  std::vector<Case> cases;
  {
    auto x = points(-30.0, 30.0);  // softplus and exp activations
    cases.push_back({"exp", x, sleef2(Sleef_cinz_expd2_u10sse2, x), [](double v) { return std::exp(static_cast<long double>(v)); },
                     [](double v) { return std::exp(v); }, 1.0});
  }
  {
    auto x = points(-20.0, 20.0);
    cases.push_back({"tanh", x, sleef2(Sleef_cinz_tanhd2_u10sse2, x), [](double v) { return std::tanh(static_cast<long double>(v)); },
                     [](double v) { return std::tanh(v); }, 1.0});
  }
  {
    std::vector<double> x = points(-30.0, 30.0);
    for (auto& v : x) v = std::exp(v);  // log1p's arguments in softplus
    cases.push_back({"log1p", x, sleef2(Sleef_cinz_log1pd2_u10sse2, x), [](double v) { return std::log1p(static_cast<long double>(v)); },
                     [](double v) { return std::log1p(v); }, 1.0});
  }
  {
    std::vector<double> x = points(-12.0, 12.0);
    for (auto& v : x) v = -v / std::numbers::sqrt2;  // gelu's argument
    cases.push_back({"erfc", x, sleef2(Sleef_cinz_erfcd2_u15sse2, x), [](double v) { return std::erfc(static_cast<long double>(v)); },
                     [](double v) { return std::erfc(v); }, 1.5});
  }
  for (double b : {0.3, 1.0, 2.5, 64.0}) {  // kink: |u - 0.25|^b, |u| <= 8
    std::vector<double> x = points(-8.0, 8.0);
    for (auto& v : x) v = std::abs(v - 0.25);
    auto pw = [b](__m128d v) { return Sleef_cinz_powd2_u10sse2(v, _mm_set1_pd(b)); };
    cases.push_back({"pow b=" + std::to_string(b), x, sleef2(pw, x),
                     [b](double v) { return std::pow(static_cast<long double>(v), static_cast<long double>(b)); },
                     [b](double v) { return std::pow(v, b); }, 1.0});
  }
  for (const Case& c : cases) {
    double max_sleef = 0.0, max_libm = 0.0;
    for (std::size_t k = 0; k < n; ++k) {
      const long double ref = c.ref(c.x[k]);
      max_sleef = std::max(max_sleef, ulps(c.y[k], ref));
      max_libm = std::max(max_libm, ulps(c.libm(c.x[k]), ref));
    }
    INFO(c.name << ": max ulp SLEEF " << max_sleef << " (bound " << c.bound << "), libm " << max_libm);
    CHECK(max_sleef <= c.bound + kSlack);
  }
}

TEST_CASE("activations: SLEEF values within the bounds the header derives", "[simd]") {
  constexpr std::size_t n = 100'000;
  Rng rng(11);
  std::vector<double> u(n);
  for (auto& v : u) v = rng.uniform(-4.0, 4.0);
  std::vector<double> out(n);

  SECTION("weierstrass: the angle-doubling bound of activation.hpp around the exact series") {
    // Reference: sum_j a_j cos(f_j u + phase_j) of the stored doubles in long double (products of
    // two doubles there are within 2^-64 relative, 1/2048 of the bound's own |f_j u| 2^-53).
    for (const char* spec : {"weierstrass:1", "weierstrass:0.5", "weierstrass:3", "weierstrass:0.16"}) {
      const Activation w = Activation::parse(spec);
      w.evaluate(u, out);
      const auto amp = w.weierstrass_amplitudes(), freq = w.weierstrass_frequencies(), ph = w.weierstrass_phases();
      const auto doublings = w.weierstrass_doublings();
      const long double J = static_cast<long double>(amp.size() - 1);
      long double sum_amp = 0.0L;
      for (double a : amp) sum_amp += a;
      double worst = 0.0, worst_libm = 0.0;  // error / bound
      int squared = 0;
      for (int s : doublings) squared += s > 0;
      for (std::size_t k = 0; k < n; k += 5) {  // 2 10^4 points: J + 1 long double cosines each
        long double ref = 0.0L, simd_terms = 0.0L, libm_terms = 0.0L;
        for (std::size_t j = 0; j < amp.size(); ++j) {
          const long double fu = static_cast<long double>(freq[j]) * u[k];
          ref += amp[j] * std::cos(fu + ph[j]);
          simd_terms += amp[j] * (std::fabs(fu) + 10.0L * std::ldexp(1.0L, doublings[j]) + 3.0L);
          libm_terms += amp[j] * (2.0L * std::fabs(fu) + ph[j] + 3.0L);
        }
        const long double simd_bound = 0x1p-53L * (simd_terms + 1.5L * J * sum_amp) * (1.0L + kSlack);
        const long double libm_bound = 0x1p-53L * (libm_terms + 1.5L * J * sum_amp) * (1.0L + kSlack);
        worst = std::max(worst, static_cast<double>(std::fabs(out[k] - ref) / simd_bound));
        worst_libm = std::max(worst_libm, static_cast<double>(std::fabs(w.evaluate_libm(u[k]) - ref) / libm_bound));
      }
      INFO(spec << ": " << squared << " of " << amp.size() << " terms by squaring; max error / bound: vector "
                << worst << ", libm " << worst_libm);
      CHECK(squared > 0);
      CHECK(worst <= 1.0);
      CHECK(worst_libm <= 1.0);
    }
  }
  SECTION("kink, tanh, exp (1 ulp), softplus (3 ulp), gelu (3.5 ulp); bspline unchanged") {
    struct Case {
      const char* spec;
      std::function<long double(double)> ref;
      double bound;
      double scale;  // of u, to cover each family's range
    };
    const std::vector<Case> cases = {
        {"kink:0.5", [](double v) { return std::pow(static_cast<long double>(std::abs(v - 0.25)), 0.5L); }, 1.0, 1.0},
        {"kink:2.5", [](double v) { return std::pow(static_cast<long double>(std::abs(v - 0.25)), 2.5L); }, 1.0, 1.0},
        {"tanh", [](double v) { return std::tanh(static_cast<long double>(v)); }, 1.0, 1.0},
        {"exp", [](double v) { return std::exp(static_cast<long double>(v)); }, 1.0, 5.0},
        {"softplus", [](double v) { return v > 30.0 ? v : std::log1p(std::exp(static_cast<long double>(v))); }, 3.0, 10.0},
        {"gelu",
         [](double v) {
           const double x = -v / std::numbers::sqrt2;  // rounded as in both kernels
           return 0.5L * v * std::erfc(static_cast<long double>(x));
         },
         3.5, 3.0},
    };
    for (const Case& c : cases) {
      const Activation a = Activation::parse(c.spec);
      std::vector<double> x(u);
      for (auto& v : x) v *= c.scale;
      a.evaluate(x, out);
      double max_sleef = 0.0, max_libm = 0.0;
      for (std::size_t k = 0; k < n; ++k) {
        const long double ref = c.ref(x[k]);
        max_sleef = std::max(max_sleef, ulps(out[k], ref));
        max_libm = std::max(max_libm, ulps(a.evaluate_libm(x[k]), ref));
      }
      INFO(c.spec << ": max ulp SLEEF " << max_sleef << " (bound " << c.bound << "), libm " << max_libm);
      CHECK(max_sleef <= c.bound + kSlack);
    }
    const Activation bs = Activation::parse("bspline:3", 5);
    bs.evaluate(u, out);
    for (std::size_t k = 0; k < n; ++k) REQUIRE(out[k] == bs.evaluate_libm(u[k]));
  }
}

TEST_CASE("activations: a value does not depend on its block, offset or split", "[simd]") {
  Rng rng(3);
  std::vector<double> u(1001);
  for (auto& v : u) v = rng.uniform(-5.0, 5.0);
  // Special values at odd and even offsets.
  const double specials[] = {0.0, -0.0, 0.25, 30.0, 30.5, -800.0, 1e5, std::numeric_limits<double>::quiet_NaN(),
                             std::numeric_limits<double>::infinity(), 1e-310};
  for (std::size_t i = 0; i < std::size(specials); ++i) u[7 * i + 1] = specials[i];
  auto same_bits = [](double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; };
  for (const char* spec : {"weierstrass:1", "weierstrass:0.16", "kink:0.5", "kink:3", "bspline:3", "tanh", "softplus",
                           "gelu", "exp"}) {
    INFO(spec);
    const Activation a = Activation::parse(spec, 9);
    std::vector<double> whole(u.size());
    a.evaluate(u, whole);
    for (std::size_t k = 0; k < u.size(); ++k) REQUIRE(same_bits(whole[k], a(u[k])));
    // Every vector width the CPU runs, and blocks of lengths 1..9 cycling, starting at offsets
    // 0, 1, 2: every element lands at every lane position of each width and in a padded tail.
    for (const auto width : {Activation::VectorWidth::sse2, Activation::VectorWidth::avx,
                             Activation::VectorWidth::avx512}) {
      if (!Activation::cpu_supports(width)) continue;
      INFO("vector width " << static_cast<int>(width));
      std::vector<double> at_width(u.size());
      a.evaluate(u, at_width, width);
      for (std::size_t k = 0; k < u.size(); ++k) REQUIRE(same_bits(at_width[k], whole[k]));
      for (std::size_t start : {0, 1, 2}) {
        std::vector<double> pieces(u.size(), -1.0);
        a.evaluate(std::span(u).first(start), std::span(pieces).first(start), width);
        std::size_t len = 1;
        for (std::size_t k = start; k < u.size(); k += len, len = len % 9 + 1) {
          const std::size_t m = std::min(len, u.size() - k);
          a.evaluate(std::span(u).subspan(k, m), std::span(pieces).subspan(k, m), width);
        }
        for (std::size_t k = 0; k < u.size(); ++k) REQUIRE(same_bits(pieces[k], whole[k]));
      }
      std::vector<double> inplace(u);
      a.evaluate(inplace, inplace, width);
      for (std::size_t k = 0; k < u.size(); ++k) REQUIRE(same_bits(inplace[k], whole[k]));
    }
  }
  // Which widths this machine compared (CI's x86-64 machines have AVX and AVX-512F).
  WARN("widths compared: SSE2" << (Activation::cpu_supports(Activation::VectorWidth::avx) ? ", AVX" : "")
                               << (Activation::cpu_supports(Activation::VectorWidth::avx512) ? ", AVX-512F" : ""));
}

namespace {
[[gnu::target("avx")]] std::vector<double> avx4(__m256d (*f)(__m256d), const std::vector<double>& x) {
  std::vector<double> y(x.size());
  for (std::size_t k = 0; k + 4 <= x.size(); k += 4) _mm256_storeu_pd(y.data() + k, f(_mm256_loadu_pd(x.data() + k)));
  return y;
}
[[gnu::target("avx")]] __m256d pow_avx_2p5(__m256d x) { return Sleef_cinz_powd4_u10avx(x, _mm256_set1_pd(2.5)); }
__m128d pow_sse2_2p5(__m128d x) { return Sleef_cinz_powd2_u10sse2(x, _mm_set1_pd(2.5)); }
double pow_purec_2p5(double x) { return Sleef_cinz_powd1_u10purec(x, 2.5); }
}  // namespace

TEST_CASE("SLEEF's deterministic variants give the same bits at 1, 2 and 4 lanes", "[simd]") {
  // Part of what README states: SLEEF's deterministic (cinz) variants of the scalar, 2-lane SSE2
  // and 4-lane AVX widths agree bit for bit, so the choice of width does not change any result.
  // The 8-lane AVX-512F variants are compared through Activation::evaluate at every width (the
  // block/offset/split test above).
  constexpr std::size_t n = 200'000;
  Rng rng(5);
  std::vector<double> x(n);
  for (auto& v : x) v = rng.uniform(-3000.0, 3000.0);
  std::vector<double> small(n);
  for (auto& v : small) v = rng.uniform(-25.0, 25.0);
  std::vector<double> positive(n);
  for (auto& v : positive) v = rng.uniform(0.0, 9.0);
  const bool has_avx = __builtin_cpu_supports("avx");
  auto check = [&](const char* name, const std::vector<double>& in, auto sse2, __m256d (*avx)(__m256d), auto purec) {
    INFO(name);
    const std::vector<double> y2 = sleef2(sse2, in);
    for (std::size_t k = 0; k < n; ++k) {
      const double y1 = purec(in[k]);
      REQUIRE(std::memcmp(&y2[k], &y1, sizeof y1) == 0);
    }
    if (has_avx) {
      const std::vector<double> y4 = avx4(avx, in);
      REQUIRE(std::memcmp(y2.data(), y4.data(), n * sizeof(double)) == 0);
    }
  };
  check("cos", x, Sleef_cinz_cosd2_u10sse2, Sleef_cinz_cosd4_u10avx, Sleef_cinz_cosd1_u10purec);
  check("exp", small, Sleef_cinz_expd2_u10sse2, Sleef_cinz_expd4_u10avx, Sleef_cinz_expd1_u10purec);
  check("tanh", small, Sleef_cinz_tanhd2_u10sse2, Sleef_cinz_tanhd4_u10avx, Sleef_cinz_tanhd1_u10purec);
  check("log1p", positive, Sleef_cinz_log1pd2_u10sse2, Sleef_cinz_log1pd4_u10avx, Sleef_cinz_log1pd1_u10purec);
  check("erfc", small, Sleef_cinz_erfcd2_u15sse2, Sleef_cinz_erfcd4_u15avx, Sleef_cinz_erfcd1_u15purec);
  check("pow", positive, pow_sse2_2p5, pow_avx_2p5, pow_purec_2p5);
}
