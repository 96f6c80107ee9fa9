// Joint fit: M = 64000 samples, N = 8, d = 30, r = 2,
// phi = bspline:3 (the dimension-free study's choice), estimator K = 9 pieces (plain schedule at
// beta = 2), degree s = 3, so p = K + s = 12 spline coefficients; T = M N = 512000 tokens and
// P = M N (N-1) = 3584000 ordered pairs.
//
// BM_PairwiseErmEvaluation: one evaluation of the reduced risk and its gradient (reduced_risk:
// the three streaming passes an outer iteration repeats per line-search trial), with GFLOP/s.
// Flops per evaluation (multiply and add counted separately; see estimators/pairwise_erm.hpp):
//   per token  8 r d     the GEMMs [U V]^T X (pass 1) and X Z^T (pass 3), 2 (2r) d each
//            + p (p+1)   dsyrk of the normal equations (pass 2, dense path: p <= 3 (N-1)(s+1))
//            + 2 p       Psi y (pass 2)
//   per pair   3 * 2 r   the interaction u = P_i . Q_j (recomputed in each pass)
//            + 2 s (s+1) + 2 (s+1)   the s+1 basis values by Horner and their scaled accumulation (pass 2)
//            + 4 s + 3   phi and phi' by Horner, the prediction sum (pass 3)
//            + 4 r + 9   gradient: the two r-vector updates and the knot-interval sums (pass 3)
//   = T (8 r d + p (p+1) + 2 p) + P (10 r + 2 (s+1)^2 + 4 s + 11)
//   (locating the piece, clamping and the small p x p solve are not counted.)
// BM_RefDgemmErmShape: the dominant dense product's shape alone, (2r x d) times (d x 256 N) per
// block of 256 samples over all T tokens of the same X, threaded like the evaluation (OpenMP over
// blocks, BLAS pinned to one thread); 2 (2r) d T flops per pass. BM_RefDsyrkErmShape: pass 2's
// dsyrk shape alone, (p x 256 N) panels, p (p+1) T flops per pass. Both run in the same process
// on the same data, 10 passes per measurement (one pass takes milliseconds only).
// BM_PairwiseErmIteration: one outer L-BFGS iteration (one accepted step from a fixed start, no
// restarts). BM_PairwiseErmFullFit/threads/coarse_pieces/restarts/restart_samples: the whole fit
// (screening, rel_tol 1e-8, step cap 200): the library default (no continuation, 4 restarts, all
// samples), 8 restarts at 4 pieces then the continuation in K, and the same with the restarts on
// 2000 samples (the studies' setting); the target for the whole fit is under 60 s on 2 cores.
// GFLOPs_wall = flops / wall time; GFLOPs_core = flops / process CPU time (all threads), the rate
// per busy core, much less disturbed by other load on the machine. Min/max over 3 repetitions.
#include <benchmark/benchmark.h>
#include <omp.h>

#include <algorithm>
#include <vector>

#include "bench/flop_timer.hpp"
#include "estimators/common/blas.hpp"
#include "estimators/pairwise_erm/pairwise_erm.hpp"
#include "estimators/common/random.hpp"
#include "theory/pairwise/pairwise_model.hpp"

extern "C" void openblas_set_num_threads(int num_threads);

using namespace attnrate;

namespace {

constexpr std::size_t kM = 64000, kBlock = 256;
constexpr int kN = 8, kD = 30, kR = 2, kK = 9, kDegree = 3, kP = kK + kDegree;
constexpr double kTokens = static_cast<double>(kM) * kN, kPairs = kTokens * (kN - 1);
constexpr int kRepetitions = 3, kRefPasses = 10;

struct Problem {
  arma::mat X;
  arma::vec Y;
  Problem() : X(kD, kM * kN), Y(kM * kN) {
    PairwiseModelSpec spec;
    spec.N = kN;
    spec.d = kD;
    spec.r = kR;
    spec.sigma = 0.5;
    spec.activation = "bspline:3";
    const PairwiseModel model(spec, 11);
    model.draw_samples(12, 0, kM, X.memptr(), Y.memptr());
  }
};

const Problem& problem() {
  static const Problem p;
  return p;
}

ErmOptions options(int threads) {
  ErmOptions o;
  o.rank = kR;
  o.pieces = kK;
  o.degree = kDegree;
  o.threads = threads;
  return o;
}

constexpr double evaluation_flops() {
  constexpr double r = kR, d = kD, p = kP, s = kDegree;
  return kTokens * (8 * r * d + p * (p + 1) + 2 * p) + kPairs * (10 * r + 2 * (s + 1) * (s + 1) + 4 * s + 11);
}

// A fixed (U, V): the moment estimate the fit starts from.
const std::pair<arma::mat, arma::mat>& start() {
  static const std::pair<arma::mat, arma::mat> uv = moment_init_A(problem().X, problem().Y, kN, kR);
  return uv;
}

void BM_PairwiseErmEvaluation(benchmark::State& state) {
  const Problem& P = problem();
  const ErmOptions o = options(static_cast<int>(state.range(0)));
  const auto& [U, V] = start();
  FlopTimer t;
  for (auto _ : state) {
    t.start();
    const ReducedRisk rr = reduced_risk(P.X, P.Y, kN, U, V, o);
    t.stop();
    benchmark::DoNotOptimize(rr.risk);
  }
  t.report(state, evaluation_flops());
}

// Blocks of kBlock samples split over threads (OpenMP, BLAS pinned), like the evaluation's passes.
template <class Op>
void over_blocks(int threads, Op op) {
  const std::size_t blocks = (kM + kBlock - 1) / kBlock;
  pin_blas_to_one_thread();
#pragma omp parallel num_threads(threads)
  {
    std::vector<double> out(std::max<std::size_t>(2 * kR * kBlock * kN, kP * kBlock * kN));
#pragma omp for schedule(dynamic, 1)
    for (std::size_t b = 0; b < blocks; ++b) {
      const std::size_t first = b * kBlock, cols = std::min(kBlock, kM - first) * kN;
      op(first * kN, cols, out.data());
    }
  }
}

void BM_RefDgemmErmShape(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  const Problem& P = problem();
  const arma::mat W = arma::join_rows(start().first, start().second).t();  // 2r x d
  FlopTimer t;
  for (auto _ : state) {
    t.start();
    for (int pass = 0; pass < kRefPasses; ++pass)
      over_blocks(threads, [&](std::size_t c0, std::size_t cols, double* C) {
        gemm(W.memptr(), 2 * kR, kD, P.X.colptr(c0), static_cast<int>(cols), C);
      });
    t.stop();
  }
  t.report(state, kRefPasses * 2.0 * 2 * kR * kD * kTokens);
}

void BM_RefDsyrkErmShape(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  // A p x T panel of B-spline-like values (nonnegative, columns summing to one) to multiply.
  arma::mat Psi(kP, kBlock * kN);
  Rng rng(13);
  for (double& v : Psi) v = rng.uniform();
  Psi.each_row() /= arma::sum(Psi, 0);
  std::vector<arma::mat> C(static_cast<std::size_t>(threads), arma::mat(kP, kP, arma::fill::zeros));
  FlopTimer t;
  for (auto _ : state) {
    t.start();
    for (int pass = 0; pass < kRefPasses; ++pass)
      over_blocks(threads, [&](std::size_t, std::size_t cols, double*) {
        syrk_upper_add(Psi.memptr(), kP, static_cast<int>(cols), 1.0, C[omp_get_thread_num()].memptr());
      });
    t.stop();
    benchmark::DoNotOptimize(C[0].memptr());
  }
  t.report(state, kRefPasses * static_cast<double>(kP) * (kP + 1) * kTokens);
}

void BM_PairwiseErmIteration(benchmark::State& state) {
  const Problem& P = problem();
  ErmOptions o = options(static_cast<int>(state.range(0)));
  o.restarts = 1;
  o.max_iterations = 1;
  int evaluations = 0;
  for (auto _ : state) {
    const PairwiseErmFit fit = fit_pairwise_erm(P.X, P.Y, kN, o);
    evaluations = fit.diagnostics.evaluations;
    benchmark::DoNotOptimize(fit.coef.memptr());
  }
  state.counters["evaluations"] = evaluations;  // start + line-search trials (3 passes each)
}

void BM_PairwiseErmFullFit(benchmark::State& state) {
  const Problem& P = problem();
  ErmOptions o = options(static_cast<int>(state.range(0)));
  o.coarse_pieces = static_cast<int>(state.range(1));
  o.restarts = static_cast<int>(state.range(2));
  o.restart_samples = static_cast<std::size_t>(state.range(3));
  ErmDiagnostics diag;
  for (auto _ : state) {
    const PairwiseErmFit fit = fit_pairwise_erm(P.X, P.Y, kN, o);
    diag = fit.diagnostics;
    benchmark::DoNotOptimize(fit.coef.memptr());
  }
  state.counters["iterations"] = diag.iterations;
  state.counters["evaluations"] = diag.evaluations;
  state.SetLabel(diag.stop_reason);
}

void configure(benchmark::internal::Benchmark* b) { configure_thread_runs(b, kRepetitions); }

}  // namespace

BENCHMARK(BM_PairwiseErmEvaluation)->Apply(configure);
BENCHMARK(BM_RefDgemmErmShape)->Apply(configure);
BENCHMARK(BM_RefDsyrkErmShape)->Apply(configure);
BENCHMARK(BM_PairwiseErmIteration)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_PairwiseErmFullFit)
    ->Args({2, 0, 4, 0})
    ->Args({2, 4, 8, 0})
    ->Args({2, 4, 8, 2000})
    ->ArgNames({"threads", "coarse_pieces", "restarts", "restart_samples"})
    ->Iterations(1)
    ->Unit(benchmark::kSecond)
    ->UseRealTime();
