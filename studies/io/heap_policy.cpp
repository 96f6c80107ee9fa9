#include "studies/io/heap_policy.hpp"

#include <climits>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace attnrate {

void keep_freed_memory() noexcept {
#if defined(__GLIBC__)
  // Both are hints: a refusal (mallopt returns 0) leaves glibc's defaults, which are correct, only slower.
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, INT_MAX);
#endif
}

}  // namespace attnrate
