// Joint fit (issue 3, item 4): M = 64000 samples, N = 8, d = 30, r = 2, phi = bspline:3 (the
// dimension-free study's choice), estimator K = 9 pieces (plain schedule at beta = 2), degree 3.
// BM_PairwiseErmIteration: one outer L-BFGS iteration (one accepted step from a fixed start,
// no restarts). BM_PairwiseErmFullFit: the whole default fit (4 restarts, screening,
// rel_tol 1e-8, step cap 200); the target is under 60 s on 2 cores.
#include <benchmark/benchmark.h>

#include "estimators/pairwise_erm.hpp"
#include "theory/pairwise_model.hpp"

using namespace attnrate;

namespace {

constexpr std::size_t kM = 64000;
constexpr int kN = 8, kD = 30, kR = 2, kK = 9, kDegree = 3;

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
  const ErmOptions o = options(static_cast<int>(state.range(0)));
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

}  // namespace

BENCHMARK(BM_PairwiseErmIteration)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_PairwiseErmFullFit)->Arg(2)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();
