// Seeding and the project generator (estimators/random.hpp): reference implementations of
// SplitMix64 and xoshiro256++ (checked against published outputs), then statistical
// properties with 5-sigma bounds (or a chi-square quantile at 1e-6) from exact moments.
#include <boost/math/distributions/chi_squared.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <catch2/catch.hpp>
#include <cmath>
#include <concepts>
#include <cstring>
#include <limits>
#include <numeric>
#include <random>
#include <set>
#include <vector>

#include "estimators/common/random.hpp"

using namespace attnrate;

namespace {

constexpr std::uint64_t kGolden = 0x9e3779b97f4a7c15ULL;

/// SplitMix64 as in Vigna's reference splitmix64.c: x += golden, then the finaliser.
struct RefSplitMix64 {
  std::uint64_t x;
  std::uint64_t next() {
    std::uint64_t z = (x += kGolden);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
};

/// xoshiro256++ as in Blackman & Vigna's reference xoshiro256plusplus.c, state settable.
struct RefXoshiro256pp {
  std::array<std::uint64_t, 4> s;
  std::uint64_t next() {
    const std::uint64_t result = std::rotl(s[0] + s[3], 23) + s[0];
    const std::uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = std::rotl(s[3], 45);
    return result;
  }
};

/// |observed - expected| <= 5 sigma, printing all three on failure.
void check_5sigma(const char* what, double observed, double expected, double sigma) {
  INFO(what << ": observed " << observed << ", expected " << expected << ", sigma " << sigma);
  CHECK(std::abs(observed - expected) <= 5.0 * sigma);
}

/// Upper 1e-6 quantile of chi-square with df degrees of freedom.
double chi2_threshold(int df) {
  return boost::math::quantile(boost::math::complement(boost::math::chi_squared(df), 1e-6));
}

double chi2_statistic(const std::vector<double>& counts, double expected_each) {
  double x2 = 0.0;
  for (double c : counts) x2 += (c - expected_each) * (c - expected_each) / expected_each;
  return x2;
}

}  // namespace

static_assert(std::uniform_random_bit_generator<Rng>);
// derive_seed, hash_name and mix64 are usable in constant expressions (seeds fixed at compile time).
static_assert(derive_seed(1, {2, 3}) != derive_seed(1, {3, 2}));
static_assert(hash_name("model") != hash_name("test"));

TEST_CASE("reference SplitMix64 and xoshiro256++ reproduce published outputs", "[random]") {
  // SplitMix64 from x = 0 (Vigna's splitmix64.c; the usual test vector).
  RefSplitMix64 sm{0};
  CHECK(sm.next() == 0xe220a8397b1dcdafULL);
  CHECK(sm.next() == 0x6e789e6aa1b965f4ULL);
  CHECK(sm.next() == 0x06c45d188009454fULL);
  // xoshiro256++ from state {1, 2, 3, 4} (reference implementation's known answers).
  RefXoshiro256pp x{{1, 2, 3, 4}};
  CHECK(x.next() == 41943041ULL);
  CHECK(x.next() == 58720359ULL);
  CHECK(x.next() == 3588806011781223ULL);
  CHECK(x.next() == 3591011842654386ULL);
  // mix64 is the SplitMix64 step: mix64(x) is the output following state x.
  for (std::uint64_t s : {0ULL, 1ULL, 42ULL, 0xdeadbeefULL, ~0ULL}) {
    RefSplitMix64 r{s};
    CHECK(mix64(s) == r.next());
  }
}

TEST_CASE("Rng is xoshiro256++ with a SplitMix64-filled state", "[random]") {
  // Rng(seed) fills its state with the SplitMix64 outputs that follow state seed + golden,
  // i.e. outputs 2..5 of SplitMix64(seed) (see the note in the report: Vigna's usual
  // seeding would use outputs 1..4, i.e. start from x = seed).
  for (std::uint64_t seed : {0ULL, 1ULL, 12345ULL, 0xffffffffffffffffULL}) {
    INFO("seed " << seed);
    RefSplitMix64 sm{seed + kGolden};
    RefXoshiro256pp ref{{sm.next(), sm.next(), sm.next(), sm.next()}};
    Rng rng(seed);
    bool same = true;
    for (int i = 0; i < 1000; ++i) same = same && rng() == ref.next();
    CHECK(same);
  }
}

TEST_CASE("uniform() and normal() are the documented transforms of the raw stream", "[random]") {
  // Moment tests cannot see small distortions (e.g. one variate of each pair scaled by
  // 1.003); this pins the transforms themselves: top 53 bits for uniform(), Marsaglia's
  // polar method (u first, then the cached v) for normal().
  const std::uint64_t seed = 77;
  RefSplitMix64 sm{seed + kGolden};
  RefXoshiro256pp ref{{sm.next(), sm.next(), sm.next(), sm.next()}};
  auto ref_uniform = [&] { return std::ldexp(static_cast<double>(ref.next() >> 11), -53); };
  Rng rng(seed);
  double worst_u = 0.0, worst_z = 0.0;
  for (int i = 0; i < 1000; ++i) worst_u = std::max(worst_u, std::abs(rng.uniform() - ref_uniform()));
  for (int i = 0; i < 1000; ++i) {
    double u, v, s;
    do {
      u = 2.0 * ref_uniform() - 1.0;
      v = 2.0 * ref_uniform() - 1.0;
      s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    const double f = std::sqrt(-2.0 * std::log(s) / s);
    const double z1 = rng.normal(), z2 = rng.normal();
    worst_z = std::max({worst_z, std::abs(z1 - u * f), std::abs(z2 - v * f)});
  }
  CHECK(worst_u == 0.0);
  CHECK(worst_z <= 8 * std::numeric_limits<double>::epsilon());
}

TEST_CASE("uniform_streams: every width gives each stream's own uniforms and leaves it where they end", "[random]") {
  // The reference: each stream on its own, xoshiro256++ and uniform()'s documented transform
  // lo + (hi - lo) (x >> 11) 2^-53. Stream counts below, at and past the eight lanes of a pass
  // (partial passes run copies in their spare lanes), lengths from none to a sample's worth.
  const std::pair<double, double> ranges[] = {{-1.0, 1.0}, {0.0, 1.0}, {2.5, 7.25}, {-3.0, -2.0}};
  for (const VectorWidth width : {VectorWidth::sse2, VectorWidth::avx, VectorWidth::avx512})
    for (const std::size_t count : {std::size_t{0}, std::size_t{1}, std::size_t{3}, std::size_t{8}, std::size_t{9},
                                    std::size_t{16}, std::size_t{19}})
      for (const std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{7}, std::size_t{40}})
        for (const auto& [lo, hi] : ranges) {
          std::vector<Rng> rngs;
          std::vector<RefXoshiro256pp> refs;
          for (std::size_t t = 0; t < count; ++t) {
            const std::uint64_t seed = 1000 * count + 31 * t + n;
            rngs.emplace_back(seed);
            RefSplitMix64 sm{seed + kGolden};
            refs.push_back({{sm.next(), sm.next(), sm.next(), sm.next()}});
          }
          const std::size_t stride = n + 3;  // gaps between the streams' outputs stay untouched
          std::vector<double> out(count * stride, -99.0);
          uniform_streams(rngs.data(), count, n, lo, hi, out.data(), stride, width);
          std::size_t mismatches = 0, touched_gaps = 0, diverged = 0;
          for (std::size_t t = 0; t < count; ++t) {
            for (std::size_t k = 0; k < n; ++k) {
              const double x = lo + (hi - lo) * std::ldexp(static_cast<double>(refs[t].next() >> 11), -53);
              mismatches += std::memcmp(&x, &out[t * stride + k], sizeof(double)) != 0;
            }
            for (std::size_t k = n; k < stride; ++k) touched_gaps += out[t * stride + k] != -99.0;
            for (int k = 0; k < 5; ++k) diverged += rngs[t]() != refs[t].next();
          }
          INFO("width " << static_cast<int>(width) << ", " << count << " streams, " << n << " values, [" << lo << ", "
                        << hi << ")");
          CHECK(mismatches == 0);
          CHECK(touched_gaps == 0);
          CHECK(diverged == 0);
        }
  // A stream keeps the second variate normal() cached before the uniforms.
  Rng a(5), b(5);
  (void)a.normal();
  (void)b.normal();
  double x = 0.0;
  uniform_streams(&a, 1, 1, 0.0, 1.0, &x, 1);
  CHECK(x == b.uniform());
  CHECK(a.normal() == b.normal());
}

TEST_CASE("normal_streams: each stream's own normal() values, and its cached variate after them", "[random]") {
  // Against n calls of normal() on copies of the same streams: odd and even n (an odd count leaves
  // a variate cached), streams that start with one cached, and none at all; then the streams
  // continue alike (the next normal() returns the same cached or fresh value, the raw outputs agree).
  for (const std::size_t count : {std::size_t{0}, std::size_t{1}, std::size_t{5}, std::size_t{16}})
    for (const std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{2}, std::size_t{7}, std::size_t{8}})
      for (const bool start_with_spare : {false, true}) {
        std::vector<Rng> streams, copies;
        for (std::size_t t = 0; t < count; ++t) {
          streams.emplace_back(derive_seed(3, {count, n, t}));
          if (start_with_spare) (void)streams.back().normal();
          copies.push_back(streams.back());
        }
        const std::size_t stride = n + 1;
        std::vector<double> out(count * stride, -99.0);
        normal_streams(streams.data(), count, n, out.data(), stride);
        std::size_t mismatches = 0, touched_gaps = 0, diverged = 0;
        for (std::size_t t = 0; t < count; ++t) {
          for (std::size_t k = 0; k < n; ++k) {
            const double z = copies[t].normal();
            mismatches += std::memcmp(&z, &out[t * stride + k], sizeof(double)) != 0;
          }
          touched_gaps += out[t * stride + n] != -99.0;
          for (int k = 0; k < 3; ++k) diverged += streams[t].normal() != copies[t].normal();
          diverged += streams[t]() != copies[t]();
        }
        INFO(count << " streams, " << n << " normals" << (start_with_spare ? ", a variate cached" : ""));
        CHECK(mismatches == 0);
        CHECK(touched_gaps == 0);
        CHECK(diverged == 0);
      }
}

TEST_CASE("Rng is reproducible for a seed and copies continue the same stream", "[random]") {
  Rng r1(2024), r2(2024), r3(2025);
  std::vector<std::uint64_t> a(1000), b(1000), c(1000);
  for (int i = 0; i < 1000; ++i) {
    a[i] = r1();
    b[i] = r2();
    c[i] = r3();
  }
  CHECK(a == b);
  CHECK(a != c);
  Rng r4 = r1;
  bool same = true;
  for (int i = 0; i < 100; ++i) same = same && r4.normal() == r1.normal();
  CHECK(same);
  // normal() caches its second variate; a copy taken between the two continues identically.
  Rng r5(7);
  (void)r5.normal();
  Rng r6 = r5;
  CHECK(r6.normal() == r5.normal());
  CHECK(r6() == r5());
}

TEST_CASE("derive_seed separates key paths and spreads single-bit changes", "[random]") {
  // Distinctness over many structured paths: different bases, lengths, orders and values.
  std::set<std::uint64_t> seen;
  std::size_t n = 0;
  for (std::uint64_t base : {0ULL, 1ULL, 2ULL, 0x6a09e667f3bcc909ULL}) {
    seen.insert(derive_seed(base, {}));
    ++n;
    for (std::uint64_t i = 0; i < 64; ++i) {
      seen.insert(derive_seed(base, {i}));
      ++n;
      for (std::uint64_t j = 0; j < 64; ++j) {
        seen.insert(derive_seed(base, {i, j}));
        seen.insert(derive_seed(base, {i, j, 0}));
        n += 2;
      }
    }
    seen.insert(derive_seed(base, {hash_name("model")}));
    seen.insert(derive_seed(base, {hash_name("test")}));
    seen.insert(derive_seed(base, {hash_name("model"), 0}));
    n += 3;
  }
  CHECK(seen.size() == n);  // a 64-bit collision among ~3e4 values has probability ~ 3e-11
  CHECK(derive_seed(5, {1, 2}) == derive_seed(5, {1, 2}));

  // Avalanche: flipping one input bit flips each output bit with probability 1/2, so the
  // Hamming distance has mean 32 and variance 16 per flip.
  Rng rng(99);
  double total = 0.0;
  int trials = 0;
  for (int rep = 0; rep < 100; ++rep) {
    const std::uint64_t base = rng(), k0 = rng(), k1 = rng();
    const std::uint64_t ref = derive_seed(base, {k0, k1});
    for (int bit = 0; bit < 64; ++bit) {
      const std::uint64_t m = 1ULL << bit;
      total += std::popcount(ref ^ derive_seed(base ^ m, {k0, k1}));
      total += std::popcount(ref ^ derive_seed(base, {k0 ^ m, k1}));
      total += std::popcount(ref ^ derive_seed(base, {k0, k1 ^ m}));
      trials += 3;
    }
  }
  check_5sigma("mean Hamming distance", total / trials, 32.0, 4.0 / std::sqrt(trials));

  // Seeds from neighbouring keys give unrelated streams: their first outputs differ in ~32 bits.
  double d = 0.0;
  for (std::uint64_t i = 0; i < 1000; ++i) d += std::popcount(Rng(derive_seed(1, {i}))() ^ Rng(derive_seed(1, {i + 1}))());
  check_5sigma("neighbouring streams", d / 1000, 32.0, 4.0 / std::sqrt(1000.0));
}

TEST_CASE("hash_name is 64-bit FNV-1a", "[random]") {
  // Test vectors of the FNV reference (Fowler, Noll, Vo): offset basis for "", then "a", "foobar".
  CHECK(hash_name("") == 0xcbf29ce484222325ULL);
  CHECK(hash_name("a") == 0xaf63dc4c8601ec8cULL);
  CHECK(hash_name("foobar") == 0x85944171f73967e8ULL);
}

TEST_CASE("uniform() lies in [0, 1) with the moments of U(0, 1)", "[random]") {
  Rng rng(derive_seed(11, {1}));
  const int n = 1'000'000;
  double s1 = 0.0, s2 = 0.0, lo = 1.0, hi = 0.0;
  bool on_grid = true;
  for (int i = 0; i < n; ++i) {
    const double u = rng.uniform();
    lo = std::min(lo, u);
    hi = std::max(hi, u);
    on_grid = on_grid && std::ldexp(u, 53) == std::floor(std::ldexp(u, 53));  // 53-bit grid
    s1 += u;
    s2 += (u - 0.5) * (u - 0.5);
  }
  CHECK(lo >= 0.0);
  CHECK(hi < 1.0);
  CHECK(on_grid);
  // Var(U) = 1/12; Var((U - 1/2)^2) = E(U-1/2)^4 - 1/144 = 1/80 - 1/144 = 1/180.
  check_5sigma("mean", s1 / n, 0.5, std::sqrt(1.0 / 12 / n));
  check_5sigma("variance", s2 / n, 1.0 / 12, std::sqrt(1.0 / 180 / n));
  // Range form.
  double lo2 = 3.0, hi2 = -2.0;
  for (int i = 0; i < 10000; ++i) {
    const double u = rng.uniform(-2.0, 3.0);
    lo2 = std::min(lo2, u);
    hi2 = std::max(hi2, u);
  }
  CHECK(lo2 >= -2.0);
  CHECK(hi2 < 3.0);
  CHECK(lo2 < -1.99);
  CHECK(hi2 > 2.99);
}

TEST_CASE("normal() has the moments of N(0, 1)", "[random]") {
  Rng rng(derive_seed(11, {2}));
  const int n = 1'000'000;
  double m1 = 0, m2 = 0, m3 = 0, m4 = 0, tail = 0;
  for (int i = 0; i < n; ++i) {
    const double z = rng.normal();
    const double z2 = z * z;
    m1 += z;
    m2 += z2;
    m3 += z2 * z;
    m4 += z2 * z2;
    tail += std::abs(z) > 2.0;
  }
  // E Z^k = 0, 1, 0, 3; Var Z^k = 1, 2, 15, 105 - 9 = 96.
  check_5sigma("mean", m1 / n, 0.0, std::sqrt(1.0 / n));
  check_5sigma("second moment", m2 / n, 1.0, std::sqrt(2.0 / n));
  check_5sigma("third moment", m3 / n, 0.0, std::sqrt(15.0 / n));
  check_5sigma("fourth moment (kurtosis)", m4 / n, 3.0, std::sqrt(96.0 / n));
  // Tail mass P(|Z| > 2) = erfc(sqrt 2): checks the shape beyond the moments.
  const double p = std::erfc(std::sqrt(2.0));
  check_5sigma("P(|Z| > 2)", tail / n, p, std::sqrt(p * (1 - p) / n));
}

TEST_CASE("below(n) is in range and uniform", "[random]") {
  Rng rng(derive_seed(11, {3}));
  bool in_range = true;
  for (std::uint64_t n : {1ULL, 2ULL, 3ULL, 7ULL, 1000ULL, (1ULL << 63) + 1, ~0ULL})
    for (int i = 0; i < 20000; ++i) in_range = in_range && rng.below(n) < n;
  CHECK(in_range);
  for (int i = 0; i < 100; ++i) CHECK(rng.below(1) == 0);

  // Chi-square goodness of fit for small n; threshold = upper 1e-6 quantile.
  for (std::uint64_t n : {2ULL, 10ULL, 37ULL}) {
    INFO("n = " << n);
    const int draws = 1'000'000;
    std::vector<double> counts(n, 0.0);
    for (int i = 0; i < draws; ++i) counts[rng.below(n)] += 1.0;
    const double x2 = chi2_statistic(counts, static_cast<double>(draws) / n);
    INFO("chi2 " << x2 << " threshold " << chi2_threshold(static_cast<int>(n) - 1));
    CHECK(x2 <= chi2_threshold(static_cast<int>(n) - 1));
  }

  // n ~ (2/3) 2^64: without Lemire's rejection step, floor(x n / 2^64) hits even values twice
  // as often as odd ones (P(even) = 2/3), and x mod n hits the lower third twice as often.
  // With rejection both are 1/2 (up to 1/(2n)).
  const std::uint64_t n = 0xAAAAAAAAAAAAAAABULL;
  const int draws = 200'000;
  double even = 0, lower_half = 0;
  for (int i = 0; i < draws; ++i) {
    const std::uint64_t v = rng.below(n);
    even += (v % 2 == 0);
    lower_half += (v < n / 2);
  }
  const double sigma = std::sqrt(0.25 / draws);
  check_5sigma("P(even) for n ~ 2^65/3", even / draws, 0.5, sigma);
  check_5sigma("P(v < n/2) for n ~ 2^65/3", lower_half / draws, 0.5, sigma);
}

TEST_CASE("Rng works with std::shuffle and standard distributions", "[random]") {
  std::vector<int> v(10);
  std::iota(v.begin(), v.end(), 0);
  Rng r1(5), r2(5);
  std::vector<int> a = v, b = v;
  std::shuffle(a.begin(), a.end(), r1);
  std::shuffle(b.begin(), b.end(), r2);
  CHECK(a == b);  // reproducible for a seed (same standard library)
  CHECK(std::is_permutation(a.begin(), a.end(), v.begin()));

  // Where element 0 lands is uniform over the 10 positions.
  Rng rng(derive_seed(11, {4}));
  const int reps = 200'000;
  std::vector<double> counts(10, 0.0);
  for (int r = 0; r < reps; ++r) {
    std::vector<int> w = v;
    std::shuffle(w.begin(), w.end(), rng);
    counts[std::find(w.begin(), w.end(), 0) - w.begin()] += 1.0;
  }
  const double x2 = chi2_statistic(counts, reps / 10.0);
  INFO("chi2 " << x2);
  CHECK(x2 <= chi2_threshold(9));

  std::uniform_int_distribution<int> die(1, 6);
  bool ok = true;
  for (int i = 0; i < 1000; ++i) {
    const int k = die(rng);
    ok = ok && k >= 1 && k <= 6;
  }
  CHECK(ok);
}
