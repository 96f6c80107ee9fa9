#pragma once
// Counter-based seeding and the project's random generator.
//
// Every random draw in attnrate comes from an Rng built by derive_seed(study seed, key...),
// where the keys name what is drawn (the model, one cell, one sample, the test set).
// Draws therefore depend only on (seed, key), never on thread count or evaluation order.
// We do not use Armadillo's randn/randu (thread-dependent with OpenMP).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string_view>

#include "estimators/common/vector_width.hpp"

namespace attnrate {

/// SplitMix64 finaliser: a bijective 64-bit mixer (Steele, Lea, Flood 2014).
constexpr std::uint64_t mix64(std::uint64_t z) noexcept {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/// FNV-1a hash of a name, to use strings ("model", "test") as seed keys.
constexpr std::uint64_t hash_name(std::string_view s) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

/// Seed for the stream named by `keys` under `base`; distinct key paths give unrelated seeds.
constexpr std::uint64_t derive_seed(std::uint64_t base, std::initializer_list<std::uint64_t> keys) noexcept {
  std::uint64_t h = mix64(base ^ 0x6a09e667f3bcc909ULL);
  for (std::uint64_t k : keys) h = mix64(h ^ mix64(k + 0x3c6ef372fe94f82bULL));
  return h;
}

class Rng;

/// n uniforms on [lo, hi) from each of the streams rngs[0..count-1], stream t's into
/// out[t * stride + k], k = 0..n-1: exactly the values, and the states afterwards, of n calls of
/// rngs[t].uniform(lo, hi) on each stream. The streams run side by side in vector lanes (the
/// generator is integer arithmetic, the conversion to double exact), so the serial dependence of
/// one stream's state no longer sets the pace. Every x86-64 CPU gives the same values.
void uniform_streams(Rng* rngs, std::size_t count, std::size_t n, double lo, double hi, double* out,
                     std::size_t stride) noexcept;
/// The same at a given width (avx: the AVX2 code), or at the widest this CPU runs if it cannot.
void uniform_streams(Rng* rngs, std::size_t count, std::size_t n, double lo, double hi, double* out,
                     std::size_t stride, VectorWidth width) noexcept;

/// n standard normals from each of the streams rngs[0..count-1], stream t's into
/// out[t * stride + k], k = 0..n-1: exactly the values, and the states afterwards (a cached second
/// variate included), of n calls of rngs[t].normal() on each stream. The accepted points of the
/// polar method are found first, stream by stream; their logarithms, divisions and square roots
/// follow in one pass, where their latencies overlap instead of waiting on the rejection branch.
void normal_streams(Rng* rngs, std::size_t count, std::size_t n, double* out, std::size_t stride);

/// xoshiro256++ (Blackman & Vigna), seeded through SplitMix64. Satisfies
/// UniformRandomBitGenerator; normal() is our own (polar method) so the stream is
/// defined by this file alone, not by a standard library's distribution code.
class Rng {
 public:
  using result_type = std::uint64_t;
  explicit Rng(std::uint64_t seed) noexcept {
    for (auto& w : s_) {
      seed += 0x9e3779b97f4a7c15ULL;
      w = mix64(seed);
    }
  }
  static constexpr result_type min() noexcept { return 0; }
  static constexpr result_type max() noexcept { return std::numeric_limits<result_type>::max(); }

  result_type operator()() noexcept {
    const std::uint64_t result = rotl(s_[0] + s_[3], 23) + s_[0];
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  /// Uniform on [0, 1) with 53 random bits.
  double uniform() noexcept { return static_cast<double>((*this)() >> 11) * 0x1.0p-53; }
  /// Uniform on [lo, hi).
  double uniform(double lo, double hi) noexcept { return lo + (hi - lo) * uniform(); }
  /// Standard normal (Marsaglia polar method; caches the second variate).
  double normal() noexcept {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u, v, s;
    polar_point(u, v, s);
    const double f = polar_factor(s);
    spare_ = v * f;
    has_spare_ = true;
    return u * f;
  }
  /// Uniform integer in [0, n), n >= 1 (Lemire's nearly divisionless method).
  std::uint64_t below(std::uint64_t n) noexcept {
    __uint128_t m = static_cast<__uint128_t>((*this)()) * n;
    auto low = static_cast<std::uint64_t>(m);
    if (low < n) {
      const std::uint64_t threshold = (0 - n) % n;
      while (low < threshold) {
        m = static_cast<__uint128_t>((*this)()) * n;
        low = static_cast<std::uint64_t>(m);
      }
    }
    return static_cast<std::uint64_t>(m >> 64);
  }

 private:
  friend void uniform_streams(Rng*, std::size_t, std::size_t, double, double, double*, std::size_t,
                              VectorWidth) noexcept;
  friend void normal_streams(Rng*, std::size_t, std::size_t, double*, std::size_t);
  /// A point of the polar method: (u, v) uniform in the unit disc without its centre, s = u^2 + v^2.
  void polar_point(double& u, double& v, double& s) noexcept {
    do {
      u = 2.0 * uniform() - 1.0;
      v = 2.0 * uniform() - 1.0;
      s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
  }
  /// The factor that maps a polar point to two independent standard normals u f and v f.
  static double polar_factor(double s) noexcept { return std::sqrt(-2.0 * std::log(s) / s); }
  static constexpr std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4]{};
  double spare_ = 0.0;
  bool has_spare_ = false;
};

}  // namespace attnrate
