#include "estimators/common/vector_width.hpp"

namespace attnrate {

bool cpu_supports(VectorWidth width) noexcept {
  static const bool avx = (__builtin_cpu_init(), __builtin_cpu_supports("avx")),  // init: safe before main too
      avx512 = __builtin_cpu_supports("avx512f");
  return width == VectorWidth::sse2 || (width == VectorWidth::avx && avx) || (width == VectorWidth::avx512 && avx512);
}

VectorWidth widest_vector() noexcept {
  return cpu_supports(VectorWidth::avx512) ? VectorWidth::avx512
         : cpu_supports(VectorWidth::avx)  ? VectorWidth::avx
                                           : VectorWidth::sse2;
}

KernelBuild kernel_build(VectorWidth width) noexcept {
  static const bool avx2 = (__builtin_cpu_init(), __builtin_cpu_supports("avx2"));
  if (!cpu_supports(width)) width = widest_vector();
  return width == VectorWidth::avx512            ? KernelBuild::avx512
         : width == VectorWidth::avx && avx2 ? KernelBuild::avx2
                                             : KernelBuild::baseline;
}

}  // namespace attnrate
