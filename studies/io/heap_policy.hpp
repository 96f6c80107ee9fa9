#pragma once
// How the process's heap treats the large blocks of a sweep. glibc serves every block above its
// mmap threshold (at most 32 MiB) from a fresh mmap region and unmaps it on free, and returns freed
// memory at the top of the heap to the system. A sweep allocates and frees Gram, feature and
// residual matrices of the same sizes over and over, so each of them is page-faulted in again, one
// fault per 4 KiB page: on the 2-core virtual machine of docs/benchmarks.md the quick profile took
// 134 s instead of 106 s, and the RFA studies lost a third of their time (numbers there).
namespace attnrate {

/// Makes freed memory stay with the process for the next allocation: every block comes from the
/// heap (glibc mallopt M_MMAP_MAX = 0) and the heap is never trimmed (M_TRIM_THRESHOLD at its
/// maximum). Resident memory then stays at the largest simultaneous use plus fragmentation instead
/// of shrinking between cells. Results do not change (allocation does not affect any value).
/// Without glibc it does nothing. For programs (the CLI, the test runner), called before any
/// thread starts; a library never changes its host's heap.
void keep_freed_memory() noexcept;

}  // namespace attnrate
