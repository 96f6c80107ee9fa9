#include "estimators/common/random.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

#include "estimators/common/target_pragmas.hpp"
#include "estimators/common/vector_width.hpp"

namespace attnrate {
namespace {

// Eight streams per pass, one per lane of a GCC vector of 64-bit integers: one AVX-512F
// register, two AVX2 ones, four SSE2 ones; integer arithmetic, so every variant gives the same
// bits. A pass with fewer streams runs copies of its last stream in the spare lanes and keeps
// nothing of them.
constexpr std::size_t kLanes = 8;
using U = std::uint64_t __attribute__((vector_size(8 * kLanes)));
using D = double __attribute__((vector_size(8 * kLanes)));

#define ATTNRATE_UNIFORM_STREAMS_BODY                                                                     \
  U s0, s1, s2, s3;                                                                                       \
  for (std::size_t l = 0; l < kLanes; ++l) {                                                              \
    const std::uint64_t* w = state[std::min(l, lanes - 1)];                                              \
    s0[l] = w[0], s1[l] = w[1], s2[l] = w[2], s3[l] = w[3];                                               \
  }                                                                                                       \
  /* static_cast<double>(v) for v = x >> 11 < 2^53, exactly: v = hi 2^32 + lo, each half becomes a */   \
  /* double by placing it in the mantissa of 2^52 and subtracting 2^52, and hi 2^32 + lo < 2^53 is */    \
  /* an integer, so the sum is exact. */                                                                  \
  const U magic = U{} + 0x4330000000000000ULL, low32 = U{} + 0xffffffffULL;                               \
  const D two52 = D{} + 0x1.0p52, two32 = D{} + 0x1.0p32, two_m53 = D{} + 0x1.0p-53;                      \
  const D vlo = lo - D{}, width = (hi - lo) - D{}; /* x - 0 = x, -0 included */                          \
  for (std::size_t k = 0; k < n; ++k) {                                                                   \
    const U sum = s0 + s3;                                                                                \
    const U result = ((sum << 23) | (sum >> 41)) + s0;                                                    \
    const U t = s1 << 17;                                                                                 \
    s2 ^= s0;                                                                                             \
    s3 ^= s1;                                                                                             \
    s1 ^= s2;                                                                                             \
    s0 ^= s3;                                                                                             \
    s2 ^= t;                                                                                              \
    s3 = (s3 << 45) | (s3 >> 19);                                                                         \
    const U v = result >> 11;                                                                             \
    const D hi32 = (D)((v >> 32) | magic) - two52, lo32 = (D)((v & low32) | magic) - two52;              \
    const D uniform = (hi32 * two32 + lo32) * two_m53;                                                    \
    const D x = vlo + width * uniform;                                                                    \
    for (std::size_t l = 0; l < lanes; ++l) out[l * stride + k] = x[l];                                   \
  }                                                                                                       \
  for (std::size_t l = 0; l < lanes; ++l) {                                                               \
    std::uint64_t* w = state[l];                                                                          \
    w[0] = s0[l], w[1] = s1[l], w[2] = s2[l], w[3] = s3[l];                                               \
  }

void pass_baseline(std::uint64_t* const* state, std::size_t lanes, std::size_t n, double lo, double hi, double* out,
                   std::size_t stride) noexcept {
  ATTNRATE_UNIFORM_STREAMS_BODY
}

ATTNRATE_TARGET_BEGIN("avx2")
void pass_avx2(std::uint64_t* const* state, std::size_t lanes, std::size_t n, double lo, double hi, double* out,
               std::size_t stride) noexcept {
  ATTNRATE_UNIFORM_STREAMS_BODY
}
ATTNRATE_TARGET_END

ATTNRATE_TARGET_BEGIN("avx512f")
void pass_avx512(std::uint64_t* const* state, std::size_t lanes, std::size_t n, double lo, double hi, double* out,
                 std::size_t stride) noexcept {
  ATTNRATE_UNIFORM_STREAMS_BODY
}
ATTNRATE_TARGET_END
#undef ATTNRATE_UNIFORM_STREAMS_BODY

}  // namespace

void uniform_streams(Rng* rngs, std::size_t count, std::size_t n, double lo, double hi, double* out,
                     std::size_t stride, VectorWidth width) noexcept {
  const KernelBuild build = kernel_build(width);
  const auto pass = build == KernelBuild::avx512 ? pass_avx512 : build == KernelBuild::avx2 ? pass_avx2 : pass_baseline;
  for (std::size_t t0 = 0; t0 < count; t0 += kLanes) {
    const std::size_t lanes = std::min(kLanes, count - t0);
    std::uint64_t* state[kLanes];
    for (std::size_t l = 0; l < lanes; ++l) state[l] = rngs[t0 + l].s_;
    pass(state, lanes, n, lo, hi, out + t0 * stride, stride);
  }
}

void uniform_streams(Rng* rngs, std::size_t count, std::size_t n, double lo, double hi, double* out,
                     std::size_t stride) noexcept {
  static const VectorWidth widest = widest_vector();
  uniform_streams(rngs, count, n, lo, hi, out, stride, widest);
}

void normal_streams(Rng* rngs, std::size_t count, std::size_t n, double* out, std::size_t stride) {
  // Pass 1, stream by stream: a cached variate first, then the accepted polar points (u, v, s)
  // that normal() would draw; the factors f are left for pass 2. Point i of stream t gives
  // outputs first_out + 2i and + 1 (the second kept as the spare past n).
  struct Point {
    double u, v, s;
    double* first;  // where u f goes; v f goes to first[1], or to the stream's spare past n
    Rng* spare_of;  // non-null: v f becomes this stream's cached variate
  };
  std::vector<Point> points;
  points.reserve(count * (n / 2 + 1));
  for (std::size_t t = 0; t < count; ++t) {
    Rng& rng = rngs[t];
    double* o = out + t * stride;
    std::size_t k = 0;
    if (n > 0 && rng.has_spare_) {
      rng.has_spare_ = false;
      o[k++] = rng.spare_;
    }
    for (; k < n; k += 2) {
      Point& p = points.emplace_back();
      rng.polar_point(p.u, p.v, p.s);
      p.first = o + k;
      p.spare_of = k + 1 < n ? nullptr : &rng;
    }
  }
  // Pass 2: f = sqrt(-2 log(s) / s), the same expression as normal()'s, for every point.
  for (const Point& p : points) {
    const double f = Rng::polar_factor(p.s);
    p.first[0] = p.u * f;
    if (p.spare_of == nullptr) {
      p.first[1] = p.v * f;
    } else {
      p.spare_of->spare_ = p.v * f;
      p.spare_of->has_spare_ = true;
    }
  }
}

}  // namespace attnrate
