#pragma once
// The data-generating model of the minimax paper (docs/model.md):
//   Y_i = 1/(N-1) sum_{j != i} phi(X_i^T A X_j) + eta_i,   eta_i ~ N(0, sigma^2) iid,
// with tokens X_1..X_N in R^d from a TokenLaw and A = U V^T of rank r.
//
// Randomness: the model (A, bspline coefficients) comes from one seed; sample m of a data
// stream comes from Rng(derive_seed(data_seed, {m})) alone, so any block of samples can be
// generated independently, in any order, by any thread, with identical results.
#include <armadillo>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "estimators/pairwise_lse/pairwise_lse.hpp"
#include "theory/pairwise/activation.hpp"
#include "theory/pairwise/token_law.hpp"

namespace attnrate {

struct PairwiseModelSpec {
  std::string tokens = "uniform";
  int N = 8;
  int d = 5;
  int r = 2;
  double sigma = 0.5;
  std::string activation = "weierstrass:1";
};

/// Throws InputError naming the option (--N, --d, --r, --sigma, ...) when a value is out of range:
/// N >= 2, d >= 1, 1 <= r <= d, sigma >= 0 and finite, valid token law and activation.
void validate(const PairwiseModelSpec& spec);

/// A = U V^T, U and V in R^{d x r} with iid N(0,1) entries, rescaled so that the 0.99-quantile
/// of |X_1^T A X_2| under the token law is 1 (estimated on 20000 pairs drawn from `rng`).
arma::mat draw_low_rank_A(const TokenLaw& law, int d, int r, Rng& rng);

/// x^T A y for d-vectors x, y and a d x d matrix A, summed in one fixed order (column c of A
/// against x, times y_c, c ascending). The model's g, the fits' g_hat (predict, score) and the
/// Python module all form u this way, so a fit with A_hat = A evaluates phi_hat at exactly the u
/// at which the truth evaluates phi.
double bilinear_form(const arma::mat& A, const double* x, const double* y, int d) noexcept;

/// The N (N - 1) interactions u_ij = X_i^T A X_j, j != i, of one sample (token j at x + j d) into
/// u, row by row (i ascending, then j), in the model's summation order: (A x_j)_r = sum_c A(r, c)
/// x_j[c], then u_ij = sum_r x_i[r] (A x_j)_r, both left to right from 0.0, without FMA; `scratch`
/// holds sample_interactions_scratch(N, d) numbers. The tokens j run along vector lanes, each lane
/// its own sum in that order, so the SSE2 and AVX2 variants (`allow_avx2 = false` forces the
/// first, for tests) give the same bits. The least-squares accumulation forms u in the same order
/// (lane by lane), so draw_samples and the data's interaction range see exactly the fit's
/// interactions.
void sample_interactions(const arma::mat& A, const double* x, int N, int d, double* scratch, double* u,
                         bool allow_avx2 = true) noexcept;
std::size_t sample_interactions_scratch(int N, int d) noexcept;

class PairwiseModel {
 public:
  /// Draws A (and the bspline coefficients) from `model_seed`. Validates the spec.
  PairwiseModel(const PairwiseModelSpec& spec, std::uint64_t model_seed);
  /// A given (e.g. read from A.csv): d x d, finite.
  PairwiseModel(const PairwiseModelSpec& spec, std::uint64_t model_seed, const arma::mat& A);

  const PairwiseModelSpec& spec() const noexcept { return spec_; }
  const TokenLaw& tokens() const noexcept { return tokens_; }
  const Activation& phi() const noexcept { return phi_; }
  const arma::mat& A() const noexcept { return A_; }
  int N() const noexcept { return spec_.N; }
  int d() const noexcept { return spec_.d; }

  /// g(x, y) = phi(x^T A y), the only identifiable object.
  double g(const double* x, const double* y) const noexcept;

  /// Samples [first, first + count) of the stream `data_seed`: X is d x (count*N) (token i of
  /// sample first+s in column s*N+i), Y has count*N outputs. With U, also the interactions the
  /// outputs were computed from: count N (N - 1) values, sample after sample, each in
  /// sample_interactions' order and bits. Thread-safe.
  void draw_samples(std::uint64_t data_seed, std::size_t first, std::size_t count, double* X, double* Y,
                    double* U = nullptr) const;

  /// The samples of the stream `data_seed` (draw_samples) as a fit's source; it gives their
  /// interactions under A too, so a fit with this A reads them instead of forming them again (the
  /// same bits). The model must outlive the source.
  SampleBlockSource sample_source(std::uint64_t data_seed) const;

  /// Samples [0, M) of the stream into memory (X d x M*N, Y M*N), drawn in blocks on `threads`
  /// OpenMP threads: the values of draw_samples(data_seed, 0, M, ...), since a sample's draws do
  /// not depend on its block. An exception of a block is rethrown (the lowest block's).
  void draw_samples_into(std::uint64_t data_seed, std::size_t M, arma::mat& X, arma::vec& Y, int threads) const;

  /// T fresh token pairs (X_1, X_2) from the law rho (docs/model.md; the first two tokens of a
  /// sample, so dependent for exchangeable tokens), from Rng(seed) alone: d x 2T, pair t in
  /// columns 2t and 2t+1.
  arma::mat draw_token_pairs(std::uint64_t seed, std::size_t T) const;

  /// T interactions u = X_1^T A X_2 of fresh token pairs (the law rho: the first two
  /// tokens of a sample, so dependent for exchangeable tokens), from Rng(seed) alone: the pairs of
  /// draw_token_pairs(seed, T), each u with bilinear_form's bits. Eight pairs at a time along
  /// vector lanes, at `width` (or the widest this CPU runs); every width gives the same bits.
  arma::vec draw_pair_interactions(std::uint64_t seed, std::size_t T) const;
  arma::vec draw_pair_interactions(std::uint64_t seed, std::size_t T, VectorWidth width) const;

 private:
  PairwiseModelSpec spec_;
  TokenLaw tokens_;
  Activation phi_;
  arma::mat A_;
};

/// [q_tail, q_{1-tail}] of u = X_1^T A X_2, empirical quantiles over `pairs` pairs drawn from
/// Rng(seed) (tail = 0: min and max). The default spline range of the studies: fixed by the
/// model, not by M, so the mesh shrinks only through K; and cut at tiny tail quantiles because
/// pieces carrying almost no probability cannot be estimated (their coefficients are
/// determined by a handful of noisy outputs) while contributing nothing to the L2(rho) error
/// but Monte Carlo outliers. Interactions outside are clamped and counted. pairs >= 1
/// (InputError otherwise); the two order statistics are selected in linear time, not sorted.
std::pair<double, double> interaction_range(const PairwiseModel& model, std::uint64_t seed, std::size_t pairs,
                                            double tail = 0.0);

/// interaction_range for several tails from one draw: entry k equals
/// interaction_range(model, seed, pairs, tails[k]).
std::vector<std::pair<double, double>> interaction_ranges(const PairwiseModel& model, std::uint64_t seed,
                                                          std::size_t pairs, const std::vector<double>& tails);

}  // namespace attnrate
