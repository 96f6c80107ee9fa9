#pragma once
// Wall-clock and process CPU time around the measured part of a benchmark loop, reported as
// achieved GFLOP/s: GFLOPs_wall = flops / wall time; GFLOPs_core = flops / process CPU time summed
// over all threads, i.e. the rate per busy core (much less disturbed by other load on the machine).
// Also the run protocol of those GFLOP/s benchmarks (threads 1 and 2, repetitions, min/max).
// Header-only: shared by the bench/*.cpp translation units.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <vector>

namespace attnrate {

class FlopTimer {
 public:
  /// Starts one measured interval (call in the benchmark loop, after any untimed setup).
  void start() {
    wall0_ = std::chrono::steady_clock::now();
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu0_);
  }
  /// Ends the interval and adds its wall and CPU time to the totals.
  void stop() {
    timespec c1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    wall_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0_).count();
    cpu_ += static_cast<double>(c1.tv_sec - cpu0_.tv_sec) + 1e-9 * static_cast<double>(c1.tv_nsec - cpu0_.tv_nsec);
  }
  /// Sets the counters GFLOPs_wall and GFLOPs_core from the totals, for flops_per_iteration
  /// flops per benchmark iteration.
  void report(benchmark::State& state, double flops_per_iteration) const {
    const double f = flops_per_iteration * static_cast<double>(state.iterations());
    state.counters["GFLOPs_wall"] = f / wall_ * 1e-9;
    state.counters["GFLOPs_core"] = f / cpu_ * 1e-9;
  }

 private:
  std::chrono::steady_clock::time_point wall0_;
  timespec cpu0_{};
  double wall_ = 0.0, cpu_ = 0.0;
};

/// Largest and smallest value of the repetitions (statistics "max" and "min").
inline double repetitions_max(const std::vector<double>& v) { return *std::max_element(v.begin(), v.end()); }
inline double repetitions_min(const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); }

/// Runs a benchmark with argument "threads" = 1 and 2, one iteration per repetition, `repetitions`
/// repetitions reported each and as their max and min, in milliseconds of wall time.
inline void configure_thread_runs(benchmark::internal::Benchmark* b, int repetitions) {
  b->ArgName("threads")->Arg(1)->Arg(2)->Iterations(1)->Repetitions(repetitions)
      ->ComputeStatistics("max", repetitions_max)
      ->ComputeStatistics("min", repetitions_min)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
}

}  // namespace attnrate
