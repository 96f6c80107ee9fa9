// Random-feature attention (issue 4): feature construction and the ridge solve at n = 8000,
// M = 1000 heads, d = 16, N = 16 (p = M(d+1) = 17000 features, so the dual n x n system is
// solved), next to a plain dgemm of the same shapes. Each reports GFLOP/s of its dense work:
//   features  per sample 2 M(d+1)(d+1) (query times all heads) + 2 N(d+1)M (scores)
//             + 2 (d+1) N M (weighted key sums) flops;
//   solve     n^2 p (dsyrk of Phi Phi^T, upper triangle) + n^3/3 (Cholesky) flops;
//   dgemm     2 n^2 p flops for Phi Phi^T (the solve's Gram as a full GEMM), and the feature
//             GEMMs' shapes as one (M(d+1) x (d+1)) by ((d+1) x nN) product.
// One iteration each (they take seconds to minutes on a small machine). OpenBLAS is set to 2
// threads before the dgemm and the solve; features() pins BLAS to one thread and runs its own
// 2 OpenMP threads over blocks.
#include <benchmark/benchmark.h>

#include <armadillo>

#include "estimators/random.hpp"
#include "estimators/random_feature_attention.hpp"
#include "estimators/ridge.hpp"
#include "theory/attention_law.hpp"

extern "C" void openblas_set_num_threads(int num_threads);

using namespace attnrate;

namespace {

constexpr std::size_t kN = 8000;
constexpr int kHeads = 1000, kD = 16, kKeys = 16, kThreads = 2;

struct RfaProblem {
  AttentionInputs inputs;
  arma::vec y;
  RfaProblem() {
    inputs = AttentionLaw{}.sample(kD, kKeys, kN, 1);
    y.set_size(kN);
    Rng rng(2);
    for (auto& v : y) v = rng.normal();
  }
};

const RfaProblem& problem() {
  static const RfaProblem p;
  return p;
}

RandomFeatureAttention make_model() {
  RfaOptions o;
  o.heads = kHeads;
  o.seed = 3;
  o.threads = kThreads;
  return RandomFeatureAttention(kD, o);
}

double feature_flops() {
  const double M = kHeads, d1 = kD + 1, N = kKeys;
  return static_cast<double>(kN) * (2 * M * d1 * d1 + 2 * N * d1 * M + 2 * d1 * N * M);
}

void BM_RfaFeatures(benchmark::State& state) {
  const RfaProblem& P = problem();
  const RandomFeatureAttention rfa = make_model();
  for (auto _ : state) {
    arma::mat F = rfa.features(P.inputs);
    benchmark::DoNotOptimize(F.memptr());
  }
  state.counters["GFLOPs"] = benchmark::Counter(static_cast<double>(state.iterations()) * feature_flops(),
                                                benchmark::Counter::kIsRate, benchmark::Counter::kIs1000);
}

void BM_RfaSolveDual(benchmark::State& state) {
  const RfaProblem& P = problem();
  const arma::mat F = make_model().features(P.inputs);
  openblas_set_num_threads(kThreads);
  std::string solver;
  for (auto _ : state) {
    RidgeSolution s = ridge_solve(F, P.y, 1e-3);
    solver = s.solver + " / " + to_string(s.form);
    benchmark::DoNotOptimize(s.w.memptr());
  }
  openblas_set_num_threads(1);
  const double n = kN, p = static_cast<double>(F.n_cols);
  state.counters["GFLOPs"] = benchmark::Counter(static_cast<double>(state.iterations()) * (n * n * p + n * n * n / 3),
                                                benchmark::Counter::kIsRate, benchmark::Counter::kIs1000);
  state.SetLabel(solver);
}

void BM_DgemmGramSameShape(benchmark::State& state) {
  const std::size_t p = static_cast<std::size_t>(kHeads) * (kD + 1);
  arma::mat F(kN, p);
  Rng rng(4);
  for (auto& v : F) v = rng.uniform();
  arma::mat G(kN, kN);
  openblas_set_num_threads(kThreads);
  for (auto _ : state) {
    G = F * F.t();  // dgemm (Armadillo may use dsyrk for A*A^T; both are reported as 2 n^2 p)
    benchmark::DoNotOptimize(G.memptr());
  }
  openblas_set_num_threads(1);
  state.counters["GFLOPs"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * 2.0 * kN * kN * static_cast<double>(p),
                         benchmark::Counter::kIsRate, benchmark::Counter::kIs1000);
}

void BM_DgemmFeatureShape(benchmark::State& state) {
  // All heads against the tokens of every sample at once: (M(d+1) x (d+1)) * ((d+1) x n(N+1)).
  const int d1 = kD + 1;
  arma::mat W(static_cast<arma::uword>(kHeads) * d1, d1), X(d1, kN * (kKeys + 1) / 64);
  Rng rng(5);
  for (auto& v : W) v = rng.normal();
  for (auto& v : X) v = rng.normal();
  arma::mat S;
  openblas_set_num_threads(kThreads);
  for (auto _ : state) {
    S = W * X;
    benchmark::DoNotOptimize(S.memptr());
  }
  openblas_set_num_threads(1);
  state.counters["GFLOPs"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * 2.0 * W.n_rows * W.n_cols * static_cast<double>(X.n_cols),
      benchmark::Counter::kIsRate, benchmark::Counter::kIs1000);
  state.SetLabel("1/64 of the tokens (memory)");
}

}  // namespace

BENCHMARK(BM_RfaFeatures)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();
BENCHMARK(BM_RfaSolveDual)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();
BENCHMARK(BM_DgemmGramSameShape)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();
BENCHMARK(BM_DgemmFeatureShape)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();
