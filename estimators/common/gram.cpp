#include "estimators/common/gram.hpp"

#include <emmintrin.h>  // SSE2, part of every x86-64 CPU
#include <immintrin.h>  // AVX and AVX-512F, in the namespaces compiled for them

#include <algorithm>
#include <cassert>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "estimators/common/target_pragmas.hpp"

namespace attnrate {
namespace {

// The kernel is written once (gram_kernel.inc) and compiled per width, each in a namespace under
// its instruction set; each namespace first says how to test a vector for all zeros.
namespace sse2 {
using V = __m128d;
inline bool all_zero(V x) noexcept { return _mm_movemask_pd(_mm_cmpneq_pd(x, _mm_setzero_pd())) == 0; }
#include "estimators/common/gram_kernel.inc"
}  // namespace sse2

ATTNRATE_TARGET_BEGIN("avx")
namespace avx {
using V = __m256d;
inline bool all_zero(V x) noexcept { return _mm256_movemask_pd(_mm256_cmp_pd(x, _mm256_setzero_pd(), _CMP_NEQ_UQ)) == 0; }
#include "estimators/common/gram_kernel.inc"
}  // namespace avx
ATTNRATE_TARGET_END

ATTNRATE_TARGET_BEGIN("avx512f")
namespace avx512 {
using V = __m512d;
inline bool all_zero(V x) noexcept { return _mm512_cmp_pd_mask(x, _mm512_setzero_pd(), _CMP_NEQ_UQ) == 0; }
#include "estimators/common/gram_kernel.inc"
}  // namespace avx512
ATTNRATE_TARGET_END

}  // namespace

void gram_upper_add(const double* P, int p, std::size_t ld, std::size_t k, double* C, std::size_t ldc,
                    VectorWidth width) {
  if (!cpu_supports(width)) width = widest_vector();
  switch (width) {
    case VectorWidth::avx512: return avx512::gram(P, p, ld, k, C, ldc);
    case VectorWidth::avx: return avx::gram(P, p, ld, k, C, ldc);
    case VectorWidth::sse2: return sse2::gram(P, p, ld, k, C, ldc);
  }
}

void gram_upper_add(const double* P, int p, std::size_t ld, std::size_t k, double* C, std::size_t ldc) {
  static const VectorWidth widest = widest_vector();
  gram_upper_add(P, p, ld, k, C, ldc, widest);
}

}  // namespace attnrate
