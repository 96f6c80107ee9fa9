#include "theory/rfa/arc_cosine.hpp"

#include <algorithm>
#include <cassert>
#include <emmintrin.h>  // SSE2, part of every x86-64 CPU
#include <immintrin.h>  // AVX and AVX-512F, in functions compiled for them and chosen at run time
#include <numbers>
#include <sleef.h>

#include "theory/pairwise/sleef_avx.hpp"

namespace attnrate {
namespace {

// Every width runs the same operations per lane, in this order:
//   r = clamp(rho, -1, 1)  (as std::clamp: NaN stays NaN)
//   J = (sqrt((1 - r) * (1 + r)) + (pi - acos(r)) * r) / (2 pi)
constexpr double kPi = std::numbers::pi, kTwoPi = 2.0 * std::numbers::pi;

inline __m128d j1_vector(__m128d rho) noexcept {
  const __m128d one = _mm_set1_pd(1.0), minus = _mm_set1_pd(-1.0);
  const __m128d lo = _mm_cmplt_pd(rho, minus);  // rho < -1
  __m128d r = _mm_or_pd(_mm_and_pd(lo, minus), _mm_andnot_pd(lo, rho));
  const __m128d hi = _mm_cmplt_pd(one, r);  // 1 < r
  r = _mm_or_pd(_mm_and_pd(hi, one), _mm_andnot_pd(hi, r));
  const __m128d s = _mm_sqrt_pd(_mm_mul_pd(_mm_sub_pd(one, r), _mm_add_pd(one, r)));
  const __m128d t = _mm_mul_pd(_mm_sub_pd(_mm_set1_pd(kPi), Sleef_cinz_acosd2_u10sse2(r)), r);
  return _mm_div_pd(_mm_add_pd(s, t), _mm_set1_pd(kTwoPi));
}

[[gnu::target("avx")]] inline __m256d j1_vector(__m256d rho) noexcept {
  const __m256d one = _mm256_set1_pd(1.0), minus = _mm256_set1_pd(-1.0);
  const __m256d lo = _mm256_cmp_pd(rho, minus, _CMP_LT_OQ);
  __m256d r = _mm256_blendv_pd(rho, minus, lo);
  const __m256d hi = _mm256_cmp_pd(one, r, _CMP_LT_OQ);
  r = _mm256_blendv_pd(r, one, hi);
  const __m256d s = _mm256_sqrt_pd(_mm256_mul_pd(_mm256_sub_pd(one, r), _mm256_add_pd(one, r)));
  const __m256d t = _mm256_mul_pd(_mm256_sub_pd(_mm256_set1_pd(kPi), Sleef_cinz_acosd4_u10avx(r)), r);
  return _mm256_div_pd(_mm256_add_pd(s, t), _mm256_set1_pd(kTwoPi));
}

[[gnu::target("avx512f")]] inline __m512d j1_vector(__m512d rho) noexcept {
  const __m512d one = _mm512_set1_pd(1.0), minus = _mm512_set1_pd(-1.0);
  __m512d r = _mm512_mask_blend_pd(_mm512_cmp_pd_mask(rho, minus, _CMP_LT_OQ), rho, minus);
  r = _mm512_mask_blend_pd(_mm512_cmp_pd_mask(one, r, _CMP_LT_OQ), r, one);
  // The masked form with every lane set: _mm512_sqrt_pd's undefined pass-through operand makes
  // GCC 12 warn about an uninitialised value.
  const __m512d q = _mm512_mul_pd(_mm512_sub_pd(one, r), _mm512_add_pd(one, r));
  const __m512d s = _mm512_mask_sqrt_pd(q, static_cast<__mmask8>(0xFF), q);
  const __m512d t = _mm512_mul_pd(_mm512_sub_pd(_mm512_set1_pd(kPi), Sleef_cinz_acosd8_u10avx512fnofma(r)), r);
  return _mm512_div_pd(_mm512_add_pd(s, t), _mm512_set1_pd(kTwoPi));
}

// Full vectors, then the tail padded with its last value (never a scalar path).
void j1_sse2(const double* rho, double* out, std::size_t n) noexcept {
  constexpr std::size_t lanes = 2;
  std::size_t k = 0;
  for (; k + lanes <= n; k += lanes) _mm_storeu_pd(out + k, j1_vector(_mm_loadu_pd(rho + k)));
  if (k < n) {
    alignas(16) double in[lanes], res[lanes];
    for (std::size_t l = 0; l < lanes; ++l) in[l] = rho[std::min(k + l, n - 1)];
    _mm_store_pd(res, j1_vector(_mm_load_pd(in)));
    for (std::size_t l = 0; k + l < n; ++l) out[k + l] = res[l];
  }
}

[[gnu::target("avx")]] void j1_avx(const double* rho, double* out, std::size_t n) noexcept {
  constexpr std::size_t lanes = 4;
  std::size_t k = 0;
  for (; k + lanes <= n; k += lanes) _mm256_storeu_pd(out + k, j1_vector(_mm256_loadu_pd(rho + k)));
  if (k < n) {
    alignas(32) double in[lanes], res[lanes];
    for (std::size_t l = 0; l < lanes; ++l) in[l] = rho[std::min(k + l, n - 1)];
    _mm256_store_pd(res, j1_vector(_mm256_load_pd(in)));
    for (std::size_t l = 0; k + l < n; ++l) out[k + l] = res[l];
  }
}

[[gnu::target("avx512f")]] void j1_avx512(const double* rho, double* out, std::size_t n) noexcept {
  constexpr std::size_t lanes = 8;
  std::size_t k = 0;
  for (; k + lanes <= n; k += lanes) _mm512_storeu_pd(out + k, j1_vector(_mm512_loadu_pd(rho + k)));
  if (k < n) {
    alignas(64) double in[lanes], res[lanes];
    for (std::size_t l = 0; l < lanes; ++l) in[l] = rho[std::min(k + l, n - 1)];
    _mm512_store_pd(res, j1_vector(_mm512_load_pd(in)));
    for (std::size_t l = 0; k + l < n; ++l) out[k + l] = res[l];
  }
}

}  // namespace

void arc_cosine_j1(std::span<const double> rho, std::span<double> out, Activation::VectorWidth width) noexcept {
  assert(rho.size() == out.size());
  const std::size_t n = std::min(rho.size(), out.size());
  if (n == 0) return;
  if (!Activation::cpu_supports(width)) width = Activation::widest_vector();
  switch (width) {
    case Activation::VectorWidth::avx512: return j1_avx512(rho.data(), out.data(), n);
    case Activation::VectorWidth::avx: return j1_avx(rho.data(), out.data(), n);
    case Activation::VectorWidth::sse2: return j1_sse2(rho.data(), out.data(), n);
  }
}

void arc_cosine_j1(std::span<const double> rho, std::span<double> out) noexcept {
  arc_cosine_j1(rho, out, Activation::widest_vector());
}

double arc_cosine_j1(double rho) noexcept {
  double v = 0.0;
  arc_cosine_j1(std::span<const double>(&rho, 1), std::span<double>(&v, 1));
  return v;
}

}  // namespace attnrate
