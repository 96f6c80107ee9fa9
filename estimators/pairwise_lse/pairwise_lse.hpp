#pragma once
// Least squares for the pairwise-interaction model with A known.
//
// Hypothesis space: phi(u) = sum_k c_k B_k(u), B_k the clamped B-spline basis. Features
//   psi_{m,i,k} = 1/(N-1) sum_{j != i} B_k(X_i^T A X_j),
// normal equations G c = h with G = 1/(MN) sum_{m,i} psi psi^T, h = 1/(MN) sum psi Y_{m,i}.
// G and h are accumulated from a streaming source in blocks of samples (memory
// O(p^2 + block), never the M x N x p feature tensor); each block's features, with the outputs
// as one more row, form a (p+1) x (block*N) matrix whose Gram matrix (estimators/common/gram.hpp)
// holds the block's G, h and sum Y^2. Blocks are grouped into a fixed
// number of contiguous chunks summed in chunk order, so the result is bit-identical for any
// thread count.
#include <algorithm>
#include <armadillo>
#include <cstddef>
#include <functional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "estimators/bspline.hpp"
#include "estimators/spline_sum.hpp"

namespace attnrate {

/// Where the samples come from: either a generator that fills tokens X (d x count*N, token i of
/// sample first+s in column s*N+i) and outputs Y (count*N) for samples [first, first+count),
/// called concurrently for disjoint ranges; or data already in memory in that layout, read in
/// place (no copy per block). Any callable with the generator's signature converts implicitly.
/// A generator may also give the samples' interactions under some A (with_interactions): a fit
/// with that A then reads them instead of forming them again.
class SampleBlockSource {
 public:
  using Generator = std::function<void(std::size_t first, std::size_t count, double* X, double* Y)>;
  /// Also fills U, unless it is null, with the count N (N-1) interactions u_ij = X_i^T A X_j:
  /// sample after sample, row i's j != i in increasing j, in sample_interactions' order and bits
  /// (theory/pairwise/pairwise_model.hpp), which are the fit's.
  using InteractionGenerator =
      std::function<void(std::size_t first, std::size_t count, double* X, double* Y, double* U)>;

  SampleBlockSource() = default;
  template <class F>
    requires std::is_invocable_v<const F&, std::size_t, std::size_t, double*, double*>
  SampleBlockSource(F generator) : generate_(std::move(generator)) {}  // NOLINT: implicit by design

  /// Data in memory: X is d x M*N (column-major), Y has M*N entries; both must outlive the source.
  static SampleBlockSource in_memory(const double* X, const double* Y, int N, int d) {
    SampleBlockSource s;
    s.X_ = X;
    s.Y_ = Y;
    s.N_ = N;
    s.d_ = d;
    s.generate_ = [X, Y, N, d](std::size_t first, std::size_t count, double* Xo, double* Yo) {
      const std::size_t c0 = first * N, cols = count * N;
      std::copy(X + c0 * d, X + (c0 + cols) * d, Xo);
      std::copy(Y + c0, Y + c0 + cols, Yo);
    };
    return s;
  }

  /// A generator that gives the interactions under A too; A must outlive the source.
  static SampleBlockSource with_interactions(InteractionGenerator generator, const arma::mat& A) {
    SampleBlockSource s;
    s.generate_ = [generator](std::size_t first, std::size_t count, double* X, double* Y) {
      generator(first, count, X, Y, nullptr);
    };
    s.generate_with_u_ = std::move(generator);
    s.interaction_A_ = &A;
    return s;
  }

  /// Fills X and Y for samples [first, first+count) (copies for in-memory data).
  void operator()(std::size_t first, std::size_t count, double* X, double* Y) const { generate_(first, count, X, Y); }

  /// Whether the source gives the interactions under A (that matrix, or one with equal entries).
  bool gives_interactions(const arma::mat& A) const {
    return interaction_A_ != nullptr &&
           (interaction_A_ == &A || (interaction_A_->n_rows == A.n_rows && interaction_A_->n_cols == A.n_cols &&
                                     std::equal(A.begin(), A.end(), interaction_A_->begin())));
  }
  /// Fills X, Y and the interactions U (only if gives_interactions).
  void operator()(std::size_t first, std::size_t count, double* X, double* Y, double* U) const {
    generate_with_u_(first, count, X, Y, U);
  }

  /// Whether the samples can be read in place (then block() gives pointers, no copy).
  bool in_memory() const noexcept { return X_ != nullptr; }
  /// Pointers to samples [first, ...) of in-memory data.
  std::pair<const double*, const double*> block(std::size_t first) const noexcept {
    const std::size_t c0 = first * static_cast<std::size_t>(N_);
    return {X_ + c0 * static_cast<std::size_t>(d_), Y_ + c0};
  }

 private:
  Generator generate_;
  InteractionGenerator generate_with_u_;
  const arma::mat* interaction_A_ = nullptr;
  const double* X_ = nullptr;
  const double* Y_ = nullptr;
  int N_ = 0, d_ = 0;
};

struct LseOptions {
  double ridge = 0.0;               ///< lambda in (1/(MN)) sum (Y - psi^T c)^2 + lambda ||c||^2
  std::size_t block_samples = 256;  ///< samples per streaming block (fixed: part of the result's definition)
  int threads = 0;                  ///< OpenMP threads; 0 = omp_get_max_threads()
  double rcond_floor = 1e-12;       ///< below this reciprocal condition number, use the min-norm solve
  /// Use the AVX2 variant of the feature kernel when the CPU has it. Both variants give the same
  /// bits (tested); false forces the SSE2 baseline.
  bool allow_avx2 = true;
};

struct NormalEquations {
  arma::mat G;                   ///< p x p, symmetric, normalised by 1/(MN)
  arma::vec h;                   ///< p, normalised by 1/(MN)
  double yy = 0.0;               ///< 1/(MN) sum Y^2 (gives the training risk without a second pass)
  std::size_t tokens = 0;        ///< M * N
  std::size_t interactions = 0;  ///< M * N * (N-1) evaluations of u
  std::size_t clamped = 0;       ///< interactions outside [a, b], clamped to the nearest end
};

/// Unnormalised partial sums of the normal equations over a range of samples (one chunk), as
/// one (p+1) x (p+1) matrix: the upper triangle of sum z z^T over the augmented columns
/// z = (psi, y). Its leading p x p block is sum psi psi^T, its last column sum psi y over sum y^2.
struct PartialNormalEquations {
  arma::mat Z;
  std::size_t clamped = 0;
};

/// Adds a block to `part` (part.Z: (p+1) x (p+1), zeroed by the caller before its first block):
/// PsiY is (p+1) x cols, column t = (psi_t, y_t). Dense: gram_upper_add (estimators/common/gram.hpp: the
/// same bits at every vector width) up to kGramMaxRows (128) rows, dsyrk beyond; sparse: a loop over
/// each column's nonzeros. `touched` is scratch space.
void add_block_normal_equations(const double* PsiY, int p, std::size_t cols, bool sparse, PartialNormalEquations& part,
                                std::vector<int>& touched);

/// Sums chunk partials in their order (the fixed reduction that makes results independent of the
/// thread count), symmetrises G and normalises by 1/(MN); p >= 1, every part.Z (p+1) x (p+1).
/// The partials may hold features without a common factor c (e.g. 1/(N-1)): G is then scaled by
/// c^2 and h by c. With `rows` (p entries, a permutation of 0..p-1), function k's feature is in
/// row rows[k] of the partials (y stays in row p), and G, h come back in the functions' order.
NormalEquations reduce_normal_equations(const std::vector<PartialNormalEquations>& parts, int p, std::size_t M,
                                        int N, double feature_scale = 1.0, const std::vector<int>& rows = {});

/// Whether accumulation adds each feature row's outer product over its nonzeros (p large:
/// p > 3 (N-1)(s+1)) instead of a dense Gram matrix per block. Both give the same G up to rounding.
bool uses_sparse_accumulation(int p, int N, int degree) noexcept;

/// Streams M samples from `source` and accumulates the normal equations for `basis`.
NormalEquations accumulate_normal_equations(const BSplineBasis& basis, const arma::mat& A, int N, int d,
                                            std::size_t M, const SampleBlockSource& source,
                                            const LseOptions& options = {});

struct LseSolution {
  arma::vec coef;
  std::string solver;        ///< "cholesky" or "min-norm (rank k of q)", plus the unobserved count if any
  double rcond = 0.0;        ///< reciprocal condition estimate of G + ridge I on the observed functions (LAPACK, 1-norm)
  bool fallback = false;     ///< true when the min-norm (pseudo-inverse) solve was used
  arma::uword rank = 0;      ///< numerical rank used by the solve (q, the observed count, for Cholesky)
  arma::uword unobserved = 0;  ///< basis functions no training interaction touches (G_kk = 0); coefficient 0
  /// Effective degrees of freedom tr(G_o (G_o + ridge I)^+) on the observed functions: the rank
  /// without ridge, sum_k l_k / (l_k + ridge) over the eigenvalues l_k of G_o with one.
  double dof = 0.0;
  double train_mse = 0.0;    ///< 1/(MN) sum (Y - psi^T c)^2, from G, h and yy
};

/// Solves (G + ridge I) c = h by Cholesky. Basis functions without any data (G_kk = 0) decouple
/// exactly and get coefficient 0 (the minimum-norm choice; counted in `unobserved`, not a
/// fallback). When the system on the observed functions is singular or its reciprocal condition
/// is below rcond_floor, uses the minimum-norm least-squares solution (SVD pseudo-inverse) and
/// says so (`fallback`).
LseSolution solve_normal_equations(const NormalEquations& ne, double ridge, double rcond_floor = 1e-12);

/// The composed training risk 1/(MN) sum_{m,i} (Y_mi - 1/(N-1) sum_{j != i} phi(X_mi^T A X_mj))^2 of a
/// sum of splines, in one pass over the samples (blocks of options.block_samples, their sums added
/// in block order: the same bits at any thread count).
double composed_training_risk(const SplineSum& phi, const arma::mat& A, int N, int d, std::size_t M,
                              const SampleBlockSource& source, const LseOptions& options);

struct PairwiseLseFit {
  BSplineBasis basis;
  LseSolution solution;
  NormalEquations normal_equations;
  double phi_hat(double u) const noexcept { return basis.value(solution.coef, u); }
};

/// accumulate + solve.
PairwiseLseFit fit_pairwise_lse(const BSplineBasis& basis, const arma::mat& A, int N, int d, std::size_t M,
                                const SampleBlockSource& source, const LseOptions& options = {});

/// Source over data held in memory (X: d x M*N, Y: M*N), as read from a CSV file.
SampleBlockSource in_memory_source(const arma::mat& X, const arma::vec& Y, int N);

}  // namespace attnrate
