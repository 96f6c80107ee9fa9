// Activation kernels on one thread: the C library's scalar functions (Activation::evaluate_libm,
// the values before SLEEF) against the SLEEF block kernel (Activation::evaluate) at its 2-lane SSE2,
// 4-lane AVX and 8-lane AVX-512F widths (the same bits; the studies take the widest the CPU has), on 4096
// interactions uniform in [-1.5, 1.5] (the bulk of u = X_1^T A X_2 after A's normalisation).
// items_per_second is activation values per second; the ratio of the two rows is the speed-up.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "estimators/common/random.hpp"
#include "theory/pairwise/activation.hpp"

using namespace attnrate;

namespace {

constexpr std::size_t kBlock = 4096;
const char* const kSpecs[] = {"weierstrass:1", "weierstrass:0.5", "kink:1.5", "tanh", "softplus", "gelu", "exp"};

std::vector<double> interactions() {
  std::vector<double> u(kBlock);
  Rng rng(1);
  for (auto& v : u) v = rng.uniform(-1.5, 1.5);
  return u;
}

void BM_ActivationLibm(benchmark::State& state) {
  const Activation a = Activation::parse(kSpecs[state.range(0)]);
  const std::vector<double> u = interactions();
  std::vector<double> out(kBlock);
  for (auto _ : state) {
    for (std::size_t k = 0; k < kBlock; ++k) out[k] = a.evaluate_libm(u[k]);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBlock));
  state.SetLabel(a.name());
}

void activation_sleef(benchmark::State& state, Activation::VectorWidth width) {
  const Activation a = Activation::parse(kSpecs[state.range(0)]);
  const std::vector<double> u = interactions();
  std::vector<double> out(kBlock);
  for (auto _ : state) {
    a.evaluate(u, out, width);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBlock));
  state.SetLabel(a.name());
}

void BM_ActivationSleefSse2(benchmark::State& state) { activation_sleef(state, Activation::VectorWidth::sse2); }

void activation_sleef_if_supported(benchmark::State& state, Activation::VectorWidth width, const char* name) {
  if (!Activation::cpu_supports(width)) {
    state.SkipWithError((std::string("this CPU has no ") + name).c_str());
    return;
  }
  activation_sleef(state, width);
}

void BM_ActivationSleefAvx(benchmark::State& state) {
  activation_sleef_if_supported(state, Activation::VectorWidth::avx, "AVX");
}

void BM_ActivationSleefAvx512(benchmark::State& state) {
  activation_sleef_if_supported(state, Activation::VectorWidth::avx512, "AVX-512F");
}

}  // namespace

BENCHMARK(BM_ActivationLibm)->DenseRange(0, std::size(kSpecs) - 1)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ActivationSleefSse2)->DenseRange(0, std::size(kSpecs) - 1)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ActivationSleefAvx)->DenseRange(0, std::size(kSpecs) - 1)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ActivationSleefAvx512)->DenseRange(0, std::size(kSpecs) - 1)->Unit(benchmark::kMicrosecond);
