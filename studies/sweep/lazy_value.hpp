#pragma once
// A value a study's cells share, computed once, on first use, by whichever cell asks first: a
// model's A (scaled by a quantile of 20000 drawn interactions) or a spline range from 10^6
// interactions. A resumed run whose cells are all checkpointed, or an MPI rank whose cells are
// elsewhere, does not compute it before or during its sweep (a summary that reports it may, after).
// The value depends on the study's seed alone, never on which cell or thread computed it, so
// deferring it changes no result.
#include <atomic>
#include <functional>
#include <mutex>
#include <optional>
#include <utility>

namespace attnrate {

template <class T>
class LazyValue {
 public:
  explicit LazyValue(std::function<T()> make) : make_(std::move(make)) {}
  LazyValue(const LazyValue&) = delete;
  LazyValue& operator=(const LazyValue&) = delete;

  /// The value. The first call computes it while concurrent callers wait; when the computation
  /// throws, the exception propagates and the next call tries again. (A mutex, not
  /// std::call_once, whose retry after an exception hangs on some C++ runtimes.)
  const T& get() const {
    if (computed_.load(std::memory_order_acquire)) return *value_;
    std::lock_guard<std::mutex> lock(mutex_);
    if (!value_) {
      value_.emplace(make_());
      computed_.store(true, std::memory_order_release);
    }
    return *value_;
  }

  /// Whether the value has been computed.
  bool computed() const noexcept { return computed_.load(std::memory_order_acquire); }

 private:
  std::function<T()> make_;
  mutable std::mutex mutex_;
  mutable std::optional<T> value_;
  mutable std::atomic<bool> computed_{false};
};

}  // namespace attnrate
