// keep_freed_memory (studies/io/heap_policy.hpp), which the test runner calls as the CLI does:
// a large block comes from the heap, not from its own mmap region, and stays after it is freed.
#include <catch2/catch.hpp>
#include <vector>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "studies/io/heap_policy.hpp"

TEST_CASE("keep_freed_memory: large blocks come from the heap and stay with the process", "[heap]") {
#if defined(__GLIBC__)
  attnrate::keep_freed_memory();  // idempotent
  constexpr std::size_t bytes = std::size_t{64} << 20;  // above glibc's largest mmap threshold (32 MiB)
  {
    std::vector<char> block(bytes, 1);
    const struct mallinfo2 live = mallinfo2();
    CHECK(live.hblks == 0);  // no block served by mmap
    CHECK(live.uordblks >= bytes);
  }
  const struct mallinfo2 freed = mallinfo2();
  CHECK(freed.arena >= bytes);     // the heap still holds the freed block ...
  CHECK(freed.fordblks >= bytes);  // ... as free space for the next allocation
#else
  SUCCEED("not glibc: keep_freed_memory does nothing");
#endif
}
