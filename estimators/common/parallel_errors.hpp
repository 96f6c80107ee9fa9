#pragma once
// Exceptions out of OpenMP parallel regions. An exception must not leave a parallel region: the
// program would call std::terminate (an InputError or a bad_alloc would abort instead of being
// reported). Every thread's work runs inside run(index, body); after the region, rethrow() raises
// the exception of the lowest index, so the message does not depend on which thread failed first.
//
//   ParallelErrors errors;
//   #pragma omp parallel
//   {
//     bool ready = false;  // this thread's buffers
//     errors.run(0, [&] { ...allocate...; ready = true; });
//     #pragma omp for
//     for (b ...)
//       if (ready) errors.run(b + 1, [&] { ...block b... });
//   }
//   errors.rethrow();
//
// Every thread of the team must reach a worksharing loop, so a failed allocation does not skip
// the loop; it only skips the thread's blocks (the error is reported, the run's work is lost).
// The other blocks still run after a failure, so that the lowest failing index, and with it the
// message, is the same for any thread count.
#include <cstddef>
#include <exception>
#include <limits>
#include <mutex>

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

}  // namespace attnrate
