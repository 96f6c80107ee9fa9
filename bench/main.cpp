// Google Benchmark entry point; the benchmarks live in bench/bench_*.cpp.
#include <benchmark/benchmark.h>
BENCHMARK_MAIN();
