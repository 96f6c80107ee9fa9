// Streaming normal-equation accumulation: M = 10^5 samples, N = 8, d = 8, K = 32,
// degree 3, against a plain dsyrk over feature blocks of the same shape ((p+1) x block*N: the
// features with the outputs as one more row, whose Gram matrix holds G, h and sum Y^2), and the
// Gram kernel the accumulation uses (estimators/common/gram.hpp) on that shape and on spline-like
// features. All report sample-tokens per second (items_per_second) and GFLOP/s of the rank-k
// update (q (q+1) per column, whatever work a kernel skips).
#include <benchmark/benchmark.h>
#include <omp.h>

#include <algorithm>

#include "estimators/common/blas.hpp"
#include "estimators/common/gram.hpp"
#include "estimators/pairwise_lse/pairwise_lse.hpp"
#include "estimators/common/random.hpp"

using namespace attnrate;

namespace {

constexpr std::size_t kM = 100000;
constexpr int kN = 8, kD = 8, kK = 32, kDegree = 3;
constexpr std::size_t kBlock = 256;

struct Problem {
  arma::mat X, A;
  arma::vec Y;
  Problem() : X(kD, kM * kN), A(kD, kD), Y(kM * kN) {
    Rng rng(1);
    for (auto& v : X) v = rng.uniform(-1.0, 1.0);
    for (auto& v : A) v = rng.normal() / kD;
    for (auto& v : Y) v = rng.normal();
  }
};

const Problem& problem() {
  static const Problem p;
  return p;
}

void BM_AccumulateNormalEquations(benchmark::State& state) {
  const Problem& P = problem();
  const BSplineBasis basis(-1.5, 1.5, kK, kDegree);
  LseOptions opt;
  opt.threads = static_cast<int>(state.range(0));
  opt.block_samples = kBlock;
  const SampleBlockSource source = in_memory_source(P.X, P.Y, kN);
  for (auto _ : state) {
    NormalEquations ne = accumulate_normal_equations(basis, P.A, kN, kD, kM, source, opt);
    benchmark::DoNotOptimize(ne.G.memptr());
  }
  const double q = basis.size() + 1.0;  // the features and the outputs
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * kM * kN);
  state.counters["syrk_GFLOPs"] = benchmark::Counter(static_cast<double>(state.iterations()) * kM * kN * q * (q + 1),
                                                     benchmark::Counter::kIsRate, benchmark::Counter::kIs1000);
}

// The Gram part alone on feature blocks, repeated for the same number of blocks, threads over
// blocks as in the accumulation: OpenBLAS's dsyrk (BM_Dsyrk*) or attnrate's gram_upper_add
// (BM_Gram*). *SameShape: the accumulation's shape ((p+1) x block*N), dense uniform entries.
// *SplineFeatures: the minimax sweep's largest cells (degree 1, K = 40, q = 42 rows, 7 partners
// per token, u normal with sd 0.45 clamped to the range [-1.67, 1.69], about the default model's
// interactions): most rows are zero, as spline features are, which the Gram kernel skips.
struct FeatureBlock {
  int q = 0;
  arma::mat F;
};

FeatureBlock dense_block() {
  FeatureBlock b{kK + kDegree + 1, {}};
  b.F.set_size(b.q, kBlock * kN);
  Rng rng(2);
  for (auto& v : b.F) v = rng.uniform();
  return b;
}

FeatureBlock spline_block() {
  constexpr int K = 40, partners = 7;
  constexpr double lo = -1.67, hi = 1.69, h = (hi - lo) / K;
  FeatureBlock b{K + 2, {}};
  b.F.zeros(b.q, kBlock * kN);
  Rng rng(3);
  for (arma::uword t = 0; t < b.F.n_cols; ++t) {
    for (int j = 0; j < partners; ++j) {
      const double x = (std::clamp(0.45 * rng.normal(), lo, hi) - lo) / h;
      const int piece = std::min(K - 1, static_cast<int>(x));
      b.F(piece, t) += 1.0 - (x - piece);
      b.F(piece + 1, t) += x - piece;
    }
    b.F(b.q - 1, t) = rng.normal();  // the output row
  }
  return b;
}

template <class Update>
void gram_blocks(benchmark::State& state, const FeatureBlock& block, Update update) {
  const int threads = static_cast<int>(state.range(0));
  const int q = block.q;
  const int cols = static_cast<int>(block.F.n_cols);
  const std::size_t blocks = kM / kBlock;
  pin_blas_to_one_thread();
  for (auto _ : state) {
#pragma omp parallel num_threads(threads)
    {
      arma::mat G(q, q, arma::fill::zeros);
#pragma omp for schedule(static)
      for (std::size_t b = 0; b < blocks; ++b) update(block.F.memptr(), q, cols, G.memptr());
      benchmark::DoNotOptimize(G.memptr());
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * blocks * cols);
  state.counters["syrk_GFLOPs"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * blocks * cols * double(q) * (q + 1),
                         benchmark::Counter::kIsRate, benchmark::Counter::kIs1000);
}

void dsyrk_update(const double* F, int q, int cols, double* G) { syrk_upper_add(F, q, cols, 1.0, G); }

void gram_update(const double* F, int q, int cols, double* G) {
  gram_upper_add(F, q, static_cast<std::size_t>(q), static_cast<std::size_t>(cols), G, static_cast<std::size_t>(q));
}

void BM_DsyrkSameShape(benchmark::State& state) { gram_blocks(state, dense_block(), dsyrk_update); }
void BM_GramSameShape(benchmark::State& state) { gram_blocks(state, dense_block(), gram_update); }
void BM_DsyrkSplineFeatures(benchmark::State& state) { gram_blocks(state, spline_block(), dsyrk_update); }
void BM_GramSplineFeatures(benchmark::State& state) { gram_blocks(state, spline_block(), gram_update); }

}  // namespace

BENCHMARK(BM_AccumulateNormalEquations)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_DsyrkSameShape)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_GramSameShape)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_DsyrkSplineFeatures)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_GramSplineFeatures)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();
