// Random-feature attention : the feature kernel, the ridge solve and the fused
// streaming fit (features + normal equations + solve, estimators/ridge_streaming.hpp), each with
// its achieved GFLOP/s next to OpenBLAS dgemm/dsyrk on the same shapes in the same run.
//
// Shapes: d = 16, N = 16 keys, M = 128 heads, so p = M(d+1) = 2176 features; n = 4000 samples for
// the materialised features and solve (Phi is 70 MB; p <= n so the primal p x p system is solved),
// n = 20000 for the streaming fit (blocks of 256 samples). Smaller than the largest RFA
// fit we time by hand (n = 8000, M = 1000, dual solve) so the whole bench stays within minutes on 2 cores; the kernels
// and their BLAS shapes are the same (the feature GEMMs do not depend on M except through their
// width, the Gram work is dsyrk of p-row panels).
//
// Flop counts (executed arithmetic, multiply and add counted separately):
//   features      per sample f_s = 2 p (d+1)   (queries times all heads, (M(d+1) x (d+1)) GEMM)
//                              + 2 N (d+1) M   (scores, (N x (d+1)) by ((d+1) x M))
//                              + 2 (d+1) N M   (weighted key sums, ((d+1) x N) by (N x M))
//                 = p (2(d+1) + 4N); the activation (N M max/exp per sample) is not counted.
//   ridge solve   n p (p+1) (dsyrk Phi^T Phi) + 2 n p (Phi^T y) + p^3/3 (Cholesky) + 2 p^2 (solve)
//                 + 2 n p (training error); the rcond estimate is not counted.
//   streaming fit n (2 f_s + p (p+1) + 4 p) + p^3/3 + 2 p^2: features twice (normal equations,
//                 then the residual pass for the training error), one dsyrk and two gemv per
//                 block, Cholesky and solve.
// References (same run, same shapes):
//   BM_RefDsyrkRfaGram      dsyrk of the materialised Phi^T Phi (p x p from k = n = 4000), n p (p+1).
//   BM_RefDgemmRfaGram      the same product as a full dgemm (Phi^T times a copy of Phi), 2 n p^2.
//   BM_RefDsyrkRfaBlocks    the streaming fit's Gram work alone: n/256 dsyrk calls of (p, k = 256).
//   BM_RefDgemmRfaFeature   the feature kernel's three dgemm shapes alone, on the same data sizes.
//   BM_RefDgemmSquare       2048^3 dgemm: the machine's dgemm peak per core.
// Every case runs with 1 and 2 threads (kernels: OpenMP over blocks, BLAS pinned to one thread;
// references: OpenBLAS threads), 3 repetitions; reported per repetition and as the best (max)
// GFLOP/s. GFLOPs_wall = flops / wall time; GFLOPs_core = flops / process CPU time (all threads),
// i.e. the rate per busy core, which a loaded machine disturbs much less than the wall rate.
//
// Peak memory of the streaming fit at large n (scripts/peak-rss.sh): set
// ATTNRATE_BENCH_STREAM_N to a comma-separated list of n to register
// BM_RfaStreamingFitGenerated/<n> (M = 64 heads, p = 1088, 2 threads, samples drawn block by block
// from derive_seed(7, {first sample}), nothing of size n is stored), and run it alone with
// --benchmark_filter=BM_RfaStreamingFitGenerated under /usr/bin/time -v.
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <armadillo>
#include <cmath>
#include <cstdlib>
#include <sstream>
#include <string>

#include "bench/flop_timer.hpp"
#include "estimators/random_features/attention_inputs.hpp"
#include "estimators/common/blas.hpp"
#include "estimators/common/random.hpp"
#include "estimators/random_features/random_feature_attention.hpp"
#include "estimators/ridge/ridge.hpp"
#include "estimators/ridge/ridge_streaming.hpp"
#include "theory/rfa/attention_law.hpp"

extern "C" void openblas_set_num_threads(int num_threads);

using namespace attnrate;

namespace {

constexpr int kD = 16, kKeys = 16, kHeads = 128, kD1 = kD + 1;
constexpr std::size_t kP = static_cast<std::size_t>(kHeads) * kD1;
constexpr std::size_t kSolveN = 4000, kStreamN = 20000, kBlock = 256;
constexpr int kRepetitions = 3;

double feature_flops_per_sample(std::size_t p) {
  const double M = static_cast<double>(p) / kD1;
  return 2.0 * static_cast<double>(p) * kD1 + 2.0 * kKeys * kD1 * M + 2.0 * kD1 * kKeys * M;
}

double streaming_fit_flops(std::size_t n, std::size_t p) {
  const double pn = static_cast<double>(p), nn = static_cast<double>(n);
  return nn * (2.0 * feature_flops_per_sample(p) + pn * (pn + 1.0) + 4.0 * pn) + pn * pn * pn / 3.0 + 2.0 * pn * pn;
}

// Inner-product target (1/N) sum_i sqrt(d) <x_0, x_i> plus N(0, 1/4) noise: any finite y would do.
arma::vec target(const AttentionInputs& in, std::uint64_t seed) {
  arma::vec y(in.n());
  Rng rng(seed);
  for (std::size_t s = 0; s < in.n(); ++s) {
    double acc = 0.0;
    for (int i = 0; i < in.N; ++i) acc += arma::dot(in.query.col(s), in.keys.col(s * in.N + i));
    y[s] = std::sqrt(static_cast<double>(in.d)) * acc / in.N + 0.5 * rng.normal();
  }
  return y;
}

struct Data {
  AttentionInputs inputs;
  arma::vec y;
  Data(std::size_t n, std::uint64_t seed) : inputs(AttentionLaw{}.sample(kD, kKeys, n, seed)), y(target(inputs, seed + 1)) {}
};

const Data& solve_data() {
  static const Data d(kSolveN, 1);
  return d;
}
const Data& stream_data() {
  static const Data d(kStreamN, 3);
  return d;
}

RandomFeatureAttention make_model(int heads, int threads) {
  RfaOptions o;
  o.heads = heads;
  o.seed = 5;
  o.threads = threads;
  return RandomFeatureAttention(kD, o);
}

// Phi of the solve data, computed once.
const arma::mat& solve_features() {
  static const arma::mat F = make_model(kHeads, 2).features(solve_data().inputs);
  return F;
}

arma::mat random_matrix(arma::uword r, arma::uword c, std::uint64_t seed) {
  arma::mat A(r, c);
  Rng rng(seed);
  for (double& v : A) v = rng.normal();
  return A;
}

void BM_RfaFeatures(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  const RandomFeatureAttention rfa = make_model(kHeads, threads);
  const AttentionInputs& in = solve_data().inputs;
  FlopTimer t;
  for (auto _ : state) {
    t.start();
    arma::mat F = rfa.features(in);
    t.stop();
    benchmark::DoNotOptimize(F.memptr());
  }
  t.report(state, static_cast<double>(in.n()) * feature_flops_per_sample(kP));
}

void BM_RfaSolve(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  const Data& D = solve_data();
  const arma::mat& F = solve_features();
  openblas_set_num_threads(threads);
  std::string solver;
  FlopTimer t;
  for (auto _ : state) {
    t.start();
    RidgeSolution s = ridge_solve(F, D.y, 1e-3);
    t.stop();
    solver = s.solver + " / " + to_string(s.form);
    benchmark::DoNotOptimize(s.w.memptr());
  }
  openblas_set_num_threads(1);
  const double n = static_cast<double>(kSolveN), p = static_cast<double>(kP);
  t.report(state, n * p * (p + 1) + 4 * n * p + p * p * p / 3 + 2 * p * p);
  state.SetLabel(solver);
}

// The timed loop of both streaming-fit cases (lambda 1e-3, blocks of kBlock samples): reports
// GFLOP/s of streaming_fit_flops(n, p) and returns the solver's name.
std::string time_streaming_fit(benchmark::State& state, RandomFeatureAttention& rfa, std::size_t n,
                               std::size_t p, const RandomFeatureAttention::SampleSource& source) {
  RidgeFitOptions fo;
  fo.lambda = 1e-3;
  StreamingRidgeOptions so;
  so.block_samples = kBlock;
  std::string solver;
  FlopTimer t;
  for (auto _ : state) {
    t.start();
    const RidgeFit f = rfa.fit_streaming(n, source, fo, so);
    t.stop();
    solver = f.solution.solver;
    benchmark::DoNotOptimize(f.solution.w.memptr());
  }
  t.report(state, streaming_fit_flops(n, p));
  return solver;
}

void BM_RfaStreamingFit(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  const Data& D = stream_data();
  RandomFeatureAttention rfa = make_model(kHeads, threads);
  const RandomFeatureAttention::SampleSource source = [&D](std::size_t first, std::size_t count,
                                                           AttentionInputs& blk, arma::vec& y) {
    blk.d = kD;
    blk.N = kKeys;
    blk.query = D.inputs.query.cols(first, first + count - 1);
    blk.keys = D.inputs.keys.cols(first * kKeys, (first + count) * kKeys - 1);
    y = D.y.subvec(first, first + count - 1);
  };
  const std::string solver = time_streaming_fit(state, rfa, kStreamN, kP, source);
  state.SetLabel(solver + ", p = " + std::to_string(kP));
}

// Streaming fit on samples drawn block by block (nothing of size n in memory): for peak RSS.
void BM_RfaStreamingFitGenerated(benchmark::State& state) {
  constexpr int heads = 64;
  const std::size_t n = static_cast<std::size_t>(state.range(0)), p = static_cast<std::size_t>(heads) * kD1;
  RandomFeatureAttention rfa = make_model(heads, 2);
  const RandomFeatureAttention::SampleSource source = [](std::size_t first, std::size_t count, AttentionInputs& blk,
                                                         arma::vec& y) {
    const std::uint64_t seed = derive_seed(7, {first});
    blk = AttentionLaw{}.sample(kD, kKeys, count, seed);
    y = target(blk, seed + 1);
  };
  const std::string solver = time_streaming_fit(state, rfa, n, p, source);
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  state.counters["maxrss_MiB"] = static_cast<double>(ru.ru_maxrss) / 1024.0;
  state.SetLabel(solver + ", p = " + std::to_string(p) + " (sampling time included, not counted as flops)");
}

void BM_RefDsyrkRfaGram(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  const arma::mat FT = solve_features().t();  // p x n, what dsyrk reads
  arma::mat C(kP, kP);
  openblas_set_num_threads(threads);
  FlopTimer t;
  for (auto _ : state) {
    C.zeros();
    t.start();
    syrk_upper_add(FT.memptr(), static_cast<int>(kP), static_cast<int>(kSolveN), 1.0, C.memptr());
    t.stop();
    benchmark::DoNotOptimize(C.memptr());
  }
  openblas_set_num_threads(1);
  t.report(state, static_cast<double>(kSolveN) * kP * (kP + 1.0));
}

void BM_RefDgemmRfaGram(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  const arma::mat& F = solve_features();
  const arma::mat FT = F.t();
  arma::mat C(kP, kP);
  openblas_set_num_threads(threads);
  FlopTimer t;
  for (auto _ : state) {
    t.start();
    gemm(FT.memptr(), static_cast<int>(kP), static_cast<int>(kSolveN), F.memptr(), static_cast<int>(kP), C.memptr());
    t.stop();
    benchmark::DoNotOptimize(C.memptr());
  }
  openblas_set_num_threads(1);
  t.report(state, 2.0 * kSolveN * kP * static_cast<double>(kP));
}

void BM_RefDsyrkRfaBlocks(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  const arma::mat A = random_matrix(kP, kBlock, 11);
  arma::mat C(kP, kP);
  const std::size_t blocks = kStreamN / kBlock;
  openblas_set_num_threads(threads);
  FlopTimer t;
  for (auto _ : state) {
    C.zeros();
    t.start();
    for (std::size_t b = 0; b < blocks; ++b)
      syrk_upper_add(A.memptr(), static_cast<int>(kP), static_cast<int>(kBlock), 1.0, C.memptr());
    t.stop();
    benchmark::DoNotOptimize(C.memptr());
  }
  openblas_set_num_threads(1);
  t.report(state, static_cast<double>(blocks * kBlock) * kP * (kP + 1.0));
}

// The three GEMM shapes of the feature kernel on data of the same size (block of 32 samples):
// (p x (d+1)) (((d+1) x 32), then per sample ((N x (d+1)) by ((d+1) x M) and ((d+1) x N) by (N x M).
void BM_RefDgemmRfaFeature(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  constexpr int B = 32;
  const std::size_t n = kSolveN;
  const arma::mat W = random_matrix(kP, kD1, 12), Q = random_matrix(kD1, B, 13),
                  K = random_matrix(kD1, static_cast<arma::uword>(kKeys) * B, 14);
  arma::mat KT(kKeys, static_cast<arma::uword>(kD1) * B);  // K_s^T of every sample, side by side
  for (int s = 0; s < B; ++s) KT.cols(s * kD1, s * kD1 + kD1 - 1) = K.cols(s * kKeys, s * kKeys + kKeys - 1).t();
  arma::mat G(kP, B), S(kKeys, kHeads), F(kD1, kHeads);
  openblas_set_num_threads(threads);
  FlopTimer t;
  for (auto _ : state) {
    t.start();
    for (std::size_t blk = 0; blk < n / B; ++blk) {
      gemm(W.memptr(), static_cast<int>(kP), kD1, Q.memptr(), B, G.memptr());
      for (int s = 0; s < B; ++s) {
        gemm(KT.colptr(s * kD1), kKeys, kD1, G.colptr(s), kHeads, S.memptr());
        gemm(K.colptr(s * kKeys), kD1, kKeys, S.memptr(), kHeads, F.memptr());
      }
    }
    t.stop();
    benchmark::DoNotOptimize(F.memptr());
  }
  openblas_set_num_threads(1);
  t.report(state, static_cast<double>(n) * feature_flops_per_sample(kP));
  state.SetLabel("dgemm calls only (no activation, no copies)");
}

void BM_RefDgemmSquare(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  constexpr int n = 2048;
  const arma::mat A = random_matrix(n, n, 15), B = random_matrix(n, n, 16);
  arma::mat C(n, n);
  openblas_set_num_threads(threads);
  FlopTimer t;
  for (auto _ : state) {
    t.start();
    gemm(A.memptr(), n, n, B.memptr(), n, C.memptr());
    t.stop();
    benchmark::DoNotOptimize(C.memptr());
  }
  openblas_set_num_threads(1);
  t.report(state, 2.0 * n * n * static_cast<double>(n));
}

void configure(benchmark::internal::Benchmark* b) { configure_thread_runs(b, kRepetitions); }

// ATTNRATE_BENCH_STREAM_N="100000,1000000" registers the generated streaming fit at those n.
const bool registered_generated = [] {
  const char* env = std::getenv("ATTNRATE_BENCH_STREAM_N");
  if (env == nullptr || *env == '\0') return false;
  auto* b = benchmark::RegisterBenchmark("BM_RfaStreamingFitGenerated", BM_RfaStreamingFitGenerated);
  std::stringstream list(env);
  std::string item;
  while (std::getline(list, item, ','))
    if (!item.empty()) b->Arg(std::stoll(item));
  b->ArgName("n")->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();
  return true;
}();

}  // namespace

BENCHMARK(BM_RfaFeatures)->Apply(configure);
BENCHMARK(BM_RefDgemmRfaFeature)->Apply(configure);
BENCHMARK(BM_RfaSolve)->Apply(configure);
BENCHMARK(BM_RfaStreamingFit)->Apply(configure);
BENCHMARK(BM_RefDsyrkRfaBlocks)->Apply(configure);
BENCHMARK(BM_RefDsyrkRfaGram)->Apply(configure);
BENCHMARK(BM_RefDgemmRfaGram)->Apply(configure);
BENCHMARK(BM_RefDgemmSquare)->Apply(configure);
