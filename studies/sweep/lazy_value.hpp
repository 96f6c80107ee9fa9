#pragma once
// A value a study's cells share, computed once, on first use, by whichever cell asks first: a
// model's A (scaled by a quantile of 20000 drawn interactions) or a spline range from 10^6
// interactions. A resumed run whose cells are all checkpointed, or an MPI rank whose cells are
// elsewhere, never computes it. The value depends on the study's seed alone, never on which cell
// or thread computed it, so deferring it changes no result.
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

  /// The value. The first call computes it while concurrent callers wait (std::call_once); when
  /// the computation throws, the exception propagates and the next call tries again.
  const T& get() const {
    std::call_once(once_, [this] {
      value_.emplace(make_());
      computed_.store(true, std::memory_order_release);
    });
    return *value_;
  }

  /// Whether the value has been computed.
  bool computed() const noexcept { return computed_.load(std::memory_order_acquire); }

 private:
  std::function<T()> make_;
  mutable std::once_flag once_;
  mutable std::optional<T> value_;
  mutable std::atomic<bool> computed_{false};
};

}  // namespace attnrate
