#include "estimators/common/gram.hpp"

#include <immintrin.h>  // the vector types; AVX and AVX-512F only in functions compiled for them

#include <algorithm>
#include <cstring>
#include <utility>

namespace attnrate {
namespace {

// One register tile: rows a0..a0+L-1 (the L lanes of V) by columns b0..b0+NB-1, over the k
// columns of P. A lane's operations are the scalar definition's, in its order: acc = 0, then
// acc = acc + P(a, t) * P(b, t) for t = 0..k-1 (the build's -ffp-contract=off keeps the multiply
// and the add separate). Columns t < full are loaded as one vector (rows past p are other
// values of P, in lanes that are never stored); the rest, whose vector would run past the end
// of P, through a zero-padded copy.
template <class V, int NB>
[[gnu::always_inline]] inline void gram_tile(const double* __restrict P, int p, std::size_t ld, std::size_t k,
                                             std::size_t full, int a0, int b0, double* __restrict C,
                                             std::size_t ldc) noexcept {
  constexpr int L = sizeof(V) / sizeof(double);
  V acc[NB];
#pragma GCC unroll 24
  for (int q = 0; q < NB; ++q) acc[q] = V{};
  std::size_t t = 0;
  for (; t < full; ++t) {
    const double* col = P + t * ld;
    V x;
    std::memcpy(&x, col + a0, sizeof(V));
#pragma GCC unroll 24
    for (int q = 0; q < NB; ++q) acc[q] = acc[q] + x * (col[b0 + q] - V{});
  }
  for (; t < k; ++t) {
    const double* col = P + t * ld;
    double rows[L] = {};
    std::copy(col + a0, col + std::min(p, a0 + L), rows);
    V x;
    std::memcpy(&x, rows, sizeof(V));
#pragma GCC unroll 24
    for (int q = 0; q < NB; ++q) acc[q] = acc[q] + x * (col[b0 + q] - V{});
  }
  for (int q = 0; q < NB; ++q) {
    const int b = b0 + q;
    for (int l = 0; l < L && a0 + l <= b && a0 + l < p; ++l) C[static_cast<std::size_t>(b) * ldc + a0 + l] += acc[q][l];
  }
}

// gram_tile<V, nb> for the run-time nb in 1..NBMAX (every case inlined into the caller, so
// compiled for its instruction set).
template <class V, int... I>
[[gnu::always_inline]] inline void gram_tile_of_width(int nb, const double* P, int p, std::size_t ld, std::size_t k,
                                                      std::size_t full, int a0, int b0, double* C, std::size_t ldc,
                                                      std::integer_sequence<int, I...>) noexcept {
  (void)((nb == I + 1 && (gram_tile<V, I + 1>(P, p, ld, k, full, a0, b0, C, ldc), true)) || ...);
}

// Row blocks of L rows; per row block, the columns b >= a0 in tiles of at most NBMAX.
template <class V, int NBMAX>
[[gnu::always_inline]] inline void gram_upper_add_t(const double* P, int p, std::size_t ld, std::size_t k, double* C,
                                                    std::size_t ldc) noexcept {
  constexpr int L = sizeof(V) / sizeof(double);
  if (p <= 0 || k == 0) return;
  for (int a0 = 0; a0 < p; a0 += L) {
    // P holds (k-1) ld + p doubles; column t's vector ends at t ld + a0 + L.
    std::size_t full = k;
    if (a0 + L > p) {
      const long long room = static_cast<long long>((k - 1) * ld) + p - a0 - L;
      full = room < 0 ? 0 : std::min<std::size_t>(k, static_cast<std::size_t>(room) / ld + 1);
    }
    for (int b0 = a0; b0 < p; b0 += NBMAX)
      gram_tile_of_width<V>(std::min(NBMAX, p - b0), P, p, ld, k, full, a0, b0, C, ldc,
                            std::make_integer_sequence<int, NBMAX>{});
  }
}

// Register budget: NBMAX accumulators, the rows' vector and a broadcast (16 registers for SSE2
// and AVX, 32 for AVX-512F).
void gram_sse2(const double* P, int p, std::size_t ld, std::size_t k, double* C, std::size_t ldc) noexcept {
  gram_upper_add_t<__m128d, 12>(P, p, ld, k, C, ldc);
}

[[gnu::target("avx")]] void gram_avx(const double* P, int p, std::size_t ld, std::size_t k, double* C,
                                     std::size_t ldc) noexcept {
  gram_upper_add_t<__m256d, 12>(P, p, ld, k, C, ldc);
}

[[gnu::target("avx512f")]] void gram_avx512(const double* P, int p, std::size_t ld, std::size_t k, double* C,
                                            std::size_t ldc) noexcept {
  gram_upper_add_t<__m512d, 24>(P, p, ld, k, C, ldc);
}

}  // namespace

void gram_upper_add(const double* P, int p, std::size_t ld, std::size_t k, double* C, std::size_t ldc,
                    VectorWidth width) noexcept {
  if (!cpu_supports(width)) width = widest_vector();
  switch (width) {
    case VectorWidth::avx512: return gram_avx512(P, p, ld, k, C, ldc);
    case VectorWidth::avx: return gram_avx(P, p, ld, k, C, ldc);
    case VectorWidth::sse2: return gram_sse2(P, p, ld, k, C, ldc);
  }
}

void gram_upper_add(const double* P, int p, std::size_t ld, std::size_t k, double* C, std::size_t ldc) noexcept {
  static const VectorWidth widest = widest_vector();
  gram_upper_add(P, p, ld, k, C, ldc, widest);
}

}  // namespace attnrate
