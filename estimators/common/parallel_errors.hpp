#pragma once
// Exceptions out of OpenMP parallel regions. An exception must not leave a parallel region: the
// program would call std::terminate (an InputError or a bad_alloc would abort instead of being
// reported). Every thread's work runs inside run(index, body); after the region, rethrow() raises
// the exception of the lowest index, so the message does not depend on which thread failed first.
// parallel_for_blocks() below is the usual shape: per-thread scratch, then blocks.
//
// Every thread of the team must reach a worksharing loop, so a failed allocation does not skip
// the loop; it only skips the thread's blocks (the error is reported, the run's work is lost).
// The other blocks still run after a failure, so that the lowest failing index, and with it the
// message, is the same for any thread count.
#include <cstddef>
#include <exception>
#include <limits>
#include <mutex>
#include <optional>
#include <type_traits>

namespace attnrate {

class ParallelErrors {
 public:
  /// Runs body(); an exception it throws is kept when its index is the lowest so far.
  template <class Body>
  void run(std::size_t index, Body&& body) noexcept {
    try {
      body();
    } catch (...) {
      keep(index, std::current_exception());
    }
  }
  /// Raises the kept exception, if any.
  void rethrow() const {
    if (first_) std::rethrow_exception(first_);
  }

 private:
  void keep(std::size_t index, std::exception_ptr e) noexcept {
    const std::lock_guard<std::mutex> lock(mutex_);
    if (!first_ || index < index_) {
      first_ = std::move(e);
      index_ = index;
    }
  }
  std::mutex mutex_;
  std::size_t index_ = std::numeric_limits<std::size_t>::max();
  std::exception_ptr first_;
};

/// body(b, scratch) for every block b in [0, blocks) on `threads` OpenMP threads (dynamic
/// schedule, one block at a time). Each thread makes its scratch once with make_scratch(), inside
/// the region, so a failed allocation is reported like a failed block. Afterwards the lowest
/// failure is raised (a scratch's counts as index 0, block b's as b + 1). Blocks must write only
/// what is theirs; their order of execution varies, their results must not.
template <class MakeScratch, class Body>
void parallel_for_blocks(int threads, std::size_t blocks, MakeScratch&& make_scratch, Body&& body) {
  ParallelErrors errors;
#pragma omp parallel num_threads(threads)
  {
    std::optional<std::invoke_result_t<MakeScratch&>> scratch;
    errors.run(0, [&] { scratch.emplace(make_scratch()); });
#pragma omp for schedule(dynamic, 1)
    for (std::size_t b = 0; b < blocks; ++b)
      if (scratch) errors.run(b + 1, [&] { body(b, *scratch); });
  }
  errors.rethrow();
}

}  // namespace attnrate
