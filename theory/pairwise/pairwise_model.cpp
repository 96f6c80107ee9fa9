#include "theory/pairwise/pairwise_model.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <span>
#include <vector>

#include "estimators/common/input_error.hpp"
#include "estimators/common/parallel_errors.hpp"
#include "estimators/common/vector_width.hpp"

namespace attnrate {
double bilinear_form(const arma::mat& A, const double* x, const double* y, int d) noexcept {
  double s = 0.0;
  for (int c = 0; c < d; ++c) {
    const double* col = A.colptr(c);
    double t = 0.0;
    for (int r = 0; r < d; ++r) t += x[r] * col[r];
    s += t * y[c];
  }
  return s;
}

void validate(const PairwiseModelSpec& s) {
  if (s.N < 2) throw InputError("--N must be >= 2 (tokens per sample), got " + std::to_string(s.N));
  if (s.d < 1) throw InputError("--d must be >= 1 (token dimension), got " + std::to_string(s.d));
  if (s.r < 1 || s.r > s.d)
    throw InputError("--r must satisfy 1 <= r <= d = " + std::to_string(s.d) + ", got " + std::to_string(s.r));
  if (!(s.sigma >= 0.0) || !std::isfinite(s.sigma))
    throw InputError("--sigma must be >= 0 and finite, got " + std::to_string(s.sigma));
  (void)TokenLaw::parse(s.tokens);
  (void)Activation::parse(s.activation);
}

arma::mat draw_low_rank_A(const TokenLaw& law, int d, int r, Rng& rng) {
  arma::mat U(d, r), V(d, r);
  for (auto& v : U) v = rng.normal();
  for (auto& v : V) v = rng.normal();
  arma::mat A = U * V.t();
  constexpr std::size_t pilot = 20000;
  std::vector<double> absu(pilot);
  std::vector<double> tokens(2 * static_cast<std::size_t>(d));
  for (std::size_t t = 0; t < pilot; ++t) {
    law.draw_sample(rng, 2, d, tokens.data());
    absu[t] = std::abs(bilinear_form(A, tokens.data(), tokens.data() + d, d));
  }
  const std::size_t k = static_cast<std::size_t>(std::ceil(0.99 * pilot)) - 1;
  std::nth_element(absu.begin(), absu.begin() + static_cast<std::ptrdiff_t>(k), absu.end());
  const double q99 = absu[k];
  if (!(q99 > 0.0)) throw std::runtime_error("draw_low_rank_A: degenerate A (0.99-quantile of |u| is 0)");
  return A / q99;
}

PairwiseModel::PairwiseModel(const PairwiseModelSpec& spec, std::uint64_t model_seed)
    : spec_(spec), tokens_(TokenLaw::parse(spec.tokens)), phi_(Activation::parse(spec.activation, model_seed)) {
  validate(spec);
  Rng rng(derive_seed(model_seed, {hash_name("A")}));
  A_ = draw_low_rank_A(tokens_, spec.d, spec.r, rng);
}

PairwiseModel::PairwiseModel(const PairwiseModelSpec& spec, std::uint64_t model_seed, const arma::mat& A)
    : spec_(spec), tokens_(TokenLaw::parse(spec.tokens)), phi_(Activation::parse(spec.activation, model_seed)), A_(A) {
  validate(spec);
  if (A.n_rows != static_cast<arma::uword>(spec.d) || A.n_cols != static_cast<arma::uword>(spec.d))
    throw InputError("A must be d x d = " + std::to_string(spec.d) + " x " + std::to_string(spec.d) + ", got " +
                     std::to_string(A.n_rows) + " x " + std::to_string(A.n_cols));
  if (!A.is_finite()) throw InputError("A has non-finite entries");
}

double PairwiseModel::g(const double* x, const double* y) const noexcept {
  return phi_(bilinear_form(A_, x, y, spec_.d));
}

namespace {

// Tokens along the vectors, four lanes at a time (GCC vector extension: two SSE2 operations on the
// x86-64 baseline, one AVX2 operation in the variant below). Each lane sums its own chain left to
// right from 0.0, as the scalar loops did, so every variant gives the same bits; without FMA
// (-ffp-contract=off) a * b + c rounds twice in each.
using v4d = double __attribute__((vector_size(32)));

inline int padded_tokens(int N) noexcept { return (N + 3) / 4 * 4; }

// Independent chains side by side (four rows r of A x_j, two tokens i of u), since the latency
// of one chain of adds, not the throughput, bounds it; each lane's chain is unchanged.
#define ATTNRATE_SAMPLE_INTERACTIONS_BODY                                                                  \
  const int Np = padded_tokens(N);                                                                       \
  const double* a = A.memptr(); /* column-major: A(r, c) = a[c d + r] */                               \
  double* xt = scratch;          /* xt[c Np + j] = x_j[c], zero in the padding lanes */                  \
  double* axt = xt + static_cast<std::size_t>(d) * Np; /* axt[r Np + j] = (A x_j)_r */                  \
  double* row = axt + static_cast<std::size_t>(d) * Np; /* u_ij for two i, all j */                      \
  for (int c = 0; c < d; ++c)                                                                             \
    for (int j = 0; j < Np; ++j) xt[static_cast<std::size_t>(c) * Np + j] = j < N ? x[j * d + c] : 0.0;  \
  for (int jb = 0; jb < Np; jb += 4) {                                                                    \
    int r = 0;                                                                                            \
    for (; r + 3 < d; r += 4) {                                                                           \
      v4d acc[4] = {}, xc;                                                                                \
      for (int c = 0; c < d; ++c) {                                                                       \
        const double* arc = a + static_cast<std::size_t>(c) * d + r;                                     \
        std::memcpy(&xc, xt + static_cast<std::size_t>(c) * Np + jb, sizeof(v4d));                      \
        for (int q = 0; q < 4; ++q) acc[q] = acc[q] + v4d{arc[q], arc[q], arc[q], arc[q]} * xc;         \
      }                                                                                                   \
      for (int q = 0; q < 4; ++q) std::memcpy(axt + static_cast<std::size_t>(r + q) * Np + jb, &acc[q], sizeof(v4d)); \
    }                                                                                                     \
    for (; r < d; ++r) {                                                                                  \
      v4d acc = {0.0, 0.0, 0.0, 0.0}, xc;                                                                 \
      for (int c = 0; c < d; ++c) {                                                                       \
        const double arc = a[static_cast<std::size_t>(c) * d + r];                                       \
        std::memcpy(&xc, xt + static_cast<std::size_t>(c) * Np + jb, sizeof(v4d));                      \
        acc = acc + v4d{arc, arc, arc, arc} * xc;                                                         \
      }                                                                                                   \
      std::memcpy(axt + static_cast<std::size_t>(r) * Np + jb, &acc, sizeof(v4d));                        \
    }                                                                                                     \
  }                                                                                                       \
  for (int i0 = 0; i0 < N; i0 += 2) {                                                                     \
    const int rows = std::min(2, N - i0);                                                                 \
    const double* x0 = x + static_cast<std::size_t>(i0) * d;                                              \
    const double* x1 = rows == 2 ? x0 + d : x0; /* a lone last token computes its row twice */          \
    for (int jb = 0; jb < Np; jb += 4) {                                                                  \
      v4d acc[2] = {}, axr;                                                                               \
      for (int r = 0; r < d; ++r) {                                                                       \
        std::memcpy(&axr, axt + static_cast<std::size_t>(r) * Np + jb, sizeof(v4d));                      \
        acc[0] = acc[0] + v4d{x0[r], x0[r], x0[r], x0[r]} * axr;                                          \
        acc[1] = acc[1] + v4d{x1[r], x1[r], x1[r], x1[r]} * axr;                                          \
      }                                                                                                   \
      std::memcpy(row + jb, &acc[0], sizeof(v4d));                                                        \
      std::memcpy(row + Np + jb, &acc[1], sizeof(v4d));                                                   \
    }                                                                                                     \
    for (int q = 0; q < rows; ++q) {                                                                      \
      const int i = i0 + q;                                                                               \
      double* ui = u + static_cast<std::size_t>(i) * (N - 1);                                             \
      for (int j = 0; j < N - 1; ++j) ui[j] = row[q * Np + j + (j >= i)]; /* j != i, no branch */        \
    }                                                                                                     \
  }

void sample_interactions_baseline(const arma::mat& A, const double* x, int N, int d, double* scratch,
                                  double* u) noexcept {
  ATTNRATE_SAMPLE_INTERACTIONS_BODY
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define ATTNRATE_HAVE_AVX2_VARIANT 1
[[gnu::target("avx2")]] void sample_interactions_avx2(const arma::mat& A, const double* x, int N, int d,
                                                       double* scratch, double* u) noexcept {
  ATTNRATE_SAMPLE_INTERACTIONS_BODY
}
#endif
#undef ATTNRATE_SAMPLE_INTERACTIONS_BODY

}  // namespace

std::size_t sample_interactions_scratch(int N, int d) noexcept {
  return static_cast<std::size_t>(2 * d + 2) * padded_tokens(N);
}

void sample_interactions(const arma::mat& A, const double* x, int N, int d, double* scratch, double* u,
                         bool allow_avx2) noexcept {
#ifdef ATTNRATE_HAVE_AVX2_VARIANT
  static const bool avx2 = __builtin_cpu_supports("avx2");
  if (allow_avx2 && avx2) return sample_interactions_avx2(A, x, N, d, scratch, u);
#endif
  (void)allow_avx2;
  sample_interactions_baseline(A, x, N, d, scratch, u);
}

void PairwiseModel::draw_samples(std::uint64_t data_seed, std::size_t first, std::size_t count, double* X, double* Y,
                                 double* U) const {
  const int N = spec_.N, d = spec_.d;
  const double inv = 1.0 / (N - 1);
  const std::size_t per_sample = static_cast<std::size_t>(N) * (N - 1);
  // phi runs over the interactions of several samples at once: its kernel interleaves vectors,
  // and a value does not depend on its place in the block. Each sample keeps its own stream
  // (tokens, then its noise), so the draws are those of one sample at a time.
  const std::size_t group = std::clamp<std::size_t>(1024 / per_sample, 1, 16);
  std::vector<double> scratch(sample_interactions_scratch(N, d));
  // u_ij for j != i, row by row (sample i's N-1 interactions contiguous), sample after sample.
  std::vector<double> phiu(group * per_sample);
  std::vector<Rng> rngs;
  rngs.reserve(group);
  for (std::size_t s0 = 0; s0 < count; s0 += group) {
    const std::size_t g = std::min(group, count - s0);
    rngs.clear();
    for (std::size_t t = 0; t < g; ++t) rngs.emplace_back(derive_seed(data_seed, {first + s0 + t}));
    double* x = X + s0 * static_cast<std::size_t>(N) * d;
    tokens_.draw_samples(rngs.data(), g, N, d, x);
    double* u = U != nullptr ? U + s0 * per_sample : phiu.data();  // phi(u) into phiu either way
    for (std::size_t t = 0; t < g; ++t)
      sample_interactions(A_, x + t * static_cast<std::size_t>(N) * d, N, d, scratch.data(), u + t * per_sample);
    phi_.evaluate(std::span<const double>(u, g * per_sample), std::span<double>(phiu.data(), g * per_sample));
    // The noise (each stream's next N normals) first into Y, then Y_i = mean of row i + sigma eps_i.
    normal_streams(rngs.data(), g, static_cast<std::size_t>(N), Y + s0 * N, static_cast<std::size_t>(N));
    for (std::size_t t = 0; t < g; ++t) {
      const double* phi_t = phiu.data() + t * per_sample;
      double* y = Y + (s0 + t) * static_cast<std::size_t>(N);
      for (int i = 0; i < N; ++i) {
        double sum = 0.0;  // over j != i in increasing j, as before
        for (int j = 0; j < N - 1; ++j) sum += phi_t[static_cast<std::size_t>(i) * (N - 1) + j];
        y[i] = inv * sum + spec_.sigma * y[i];
      }
    }
  }
}

SampleBlockSource PairwiseModel::sample_source(std::uint64_t data_seed) const {
  return SampleBlockSource::with_interactions(
      [this, data_seed](std::size_t first, std::size_t count, double* X, double* Y, double* U) {
        draw_samples(data_seed, first, count, X, Y, U);
      },
      A_);
}

void PairwiseModel::draw_samples_into(std::uint64_t data_seed, std::size_t M, arma::mat& X, arma::vec& Y,
                                      int threads) const {
  const std::size_t N = static_cast<std::size_t>(spec_.N);
  X.set_size(spec_.d, M * N);
  Y.set_size(M * N);
  constexpr std::size_t block = 256;
  const std::size_t blocks = (M + block - 1) / block;
  ParallelErrors errors;  // an exception must not leave the parallel loop
#pragma omp parallel for schedule(static) num_threads(std::max(threads, 1))
  for (std::size_t k = 0; k < blocks; ++k) {
    const std::size_t first = k * block;
    errors.run(k, [&] {
      draw_samples(data_seed, first, std::min(block, M - first), X.colptr(first * N), Y.memptr() + first * N);
    });
  }
  errors.rethrow();
}

arma::mat PairwiseModel::draw_token_pairs(std::uint64_t seed, std::size_t T) const {
  const int d = spec_.d;
  arma::mat pairs(d, 2 * T, arma::fill::none);  // every entry drawn below
  Rng rng(seed);
  for (std::size_t t = 0; t < T; ++t) tokens_.draw_sample(rng, 2, d, pairs.colptr(2 * t));
  return pairs;
}

namespace {

// bilinear_form of n <= kPairBatch token pairs (x_t, y_t) stored one after the other (2d values
// each), eight pairs along the lanes of a vector: each lane runs bilinear_form's operations in
// its order, so the same bits. The pairs are first transposed into `columns` (coordinate k of
// pair t at k kPairBatch + t, 2d kPairBatch numbers, zero-filled by the caller once), so a lane's
// values load as one vector; lanes past n compute values that are not kept.
constexpr std::size_t kPairBatch = 64;
using v8d = double __attribute__((vector_size(64)));

#define ATTNRATE_BILINEAR_FORMS_BODY                                                                  \
  const std::size_t stride = 2 * static_cast<std::size_t>(d);                                        \
  for (std::size_t t = 0; t < n; ++t)                                                                 \
    for (std::size_t k = 0; k < stride; ++k) columns[k * kPairBatch + t] = pairs[t * stride + k];     \
  for (std::size_t t0 = 0; t0 < n; t0 += 8) {                                                         \
    v8d s = {}, x;                                                                                    \
    for (int c = 0; c < d; ++c) {                                                                     \
      const double* col = A.colptr(c);                                                                \
      v8d t = {};                                                                                     \
      for (int r = 0; r < d; ++r) {                                                                   \
        std::memcpy(&x, columns + static_cast<std::size_t>(r) * kPairBatch + t0, sizeof(v8d));        \
        t = t + x * col[r];                                                                           \
      }                                                                                               \
      std::memcpy(&x, columns + static_cast<std::size_t>(d + c) * kPairBatch + t0, sizeof(v8d));      \
      s = s + t * x;                                                                                  \
    }                                                                                                 \
    for (std::size_t l = 0; l < 8 && t0 + l < n; ++l) u[t0 + l] = s[l];                               \
  }

void bilinear_forms_baseline(const arma::mat& A, const double* pairs, int d, std::size_t n, double* columns,
                             double* u) noexcept {
  ATTNRATE_BILINEAR_FORMS_BODY
}

#ifdef ATTNRATE_HAVE_AVX2_VARIANT
[[gnu::target("avx2")]] void bilinear_forms_avx2(const arma::mat& A, const double* pairs, int d, std::size_t n,
                                                 double* columns, double* u) noexcept {
  ATTNRATE_BILINEAR_FORMS_BODY
}

[[gnu::target("avx512f")]] void bilinear_forms_avx512(const arma::mat& A, const double* pairs, int d, std::size_t n,
                                                      double* columns, double* u) noexcept {
  ATTNRATE_BILINEAR_FORMS_BODY
}
#endif
#undef ATTNRATE_BILINEAR_FORMS_BODY

using BilinearForms = void (*)(const arma::mat&, const double*, int, std::size_t, double*, double*) noexcept;

// The build of `width` (kernel_build).
BilinearForms select_bilinear_forms(VectorWidth width) noexcept {
#ifdef ATTNRATE_HAVE_AVX2_VARIANT
  switch (kernel_build(width)) {
    case KernelBuild::avx512: return bilinear_forms_avx512;
    case KernelBuild::avx2: return bilinear_forms_avx2;
    case KernelBuild::baseline: break;
  }
#endif
  (void)width;
  return bilinear_forms_baseline;
}

}  // namespace

arma::vec PairwiseModel::draw_pair_interactions(std::uint64_t seed, std::size_t T) const {
  static const VectorWidth widest = widest_vector();
  return draw_pair_interactions(seed, T, widest);
}

arma::vec PairwiseModel::draw_pair_interactions(std::uint64_t seed, std::size_t T, VectorWidth width) const {
  const BilinearForms bilinear_forms = select_bilinear_forms(width);
  // The pairs of draw_token_pairs(seed, T), in batches: the same draws, without the d x 2T
  // matrix (160 MB for the 10^6 pairs of a spline range at d = 10).
  const int d = spec_.d;
  std::vector<double> pairs(kPairBatch * 2 * static_cast<std::size_t>(d)), columns(pairs.size(), 0.0);
  arma::vec u(T, arma::fill::none);
  Rng rng(seed);
  for (std::size_t t0 = 0; t0 < T; t0 += kPairBatch) {
    const std::size_t n = std::min(kPairBatch, T - t0);
    tokens_.draw_pairs(rng, n, d, pairs.data());
    bilinear_forms(A_, pairs.data(), d, n, columns.data(), u.memptr() + t0);
  }
  return u;
}

std::pair<double, double> interaction_range(const PairwiseModel& model, std::uint64_t seed, std::size_t pairs,
                                            double tail) {
  return interaction_ranges(model, seed, pairs, {tail}).front();
}

std::vector<std::pair<double, double>> interaction_ranges(const PairwiseModel& model, std::uint64_t seed,
                                                          std::size_t pairs, const std::vector<double>& tails) {
  if (pairs == 0) throw InputError("interaction range: needs at least one pair");
  // Two order statistics per tail by selection (linear time), not a full sort: the same values.
  arma::vec u = model.draw_pair_interactions(seed, pairs);
  double* const first = u.memptr();
  double* const last = first + u.n_elem;
  std::vector<std::pair<double, double>> out;
  for (double tail : tails) {
    const auto k = static_cast<arma::uword>(std::floor(tail * static_cast<double>(pairs - 1)));
    const arma::uword upper = u.n_elem - 1 - std::min(k, u.n_elem - 1);
    std::nth_element(first, first + k, last);
    const double lo = first[k];
    // Everything after position k is >= lo and everything before it <= lo, so the other
    // statistic is selected on one side.
    if (upper > k) std::nth_element(first + k + 1, first + upper, last);
    if (upper < k) std::nth_element(first, first + upper, first + k);
    out.emplace_back(lo, first[upper]);
  }
  return out;
}

}  // namespace attnrate
