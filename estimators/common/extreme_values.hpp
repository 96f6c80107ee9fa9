#pragma once
// The k smallest and k largest values of a stream, in O(k) memory: after the pushes, low.top() is
// the k-th smallest value (order statistic k-1, 0-based) and high.top() the k-th largest. The
// order statistics do not depend on the order of the pushes, so streams split over threads and
// merged give the same values.
#include <cstddef>
#include <functional>
#include <queue>
#include <vector>

namespace attnrate {

struct ExtremeValues {
  std::size_t k = 1;
  std::priority_queue<double> low;                                              // max-heap of the k smallest
  std::priority_queue<double, std::vector<double>, std::greater<double>> high;  // min-heap of the k largest

  void push(double u) {
    if (low.size() < k) low.push(u);
    else if (u < low.top()) low.pop(), low.push(u);
    if (high.size() < k) high.push(u);
    else if (u > high.top()) high.pop(), high.push(u);
  }
  /// Pushes the values `other` holds (the extremes of another part of the stream).
  void merge(ExtremeValues other) {
    for (; !other.low.empty(); other.low.pop()) push(other.low.top());
    for (; !other.high.empty(); other.high.pop()) push(other.high.top());
  }
};

}  // namespace attnrate
