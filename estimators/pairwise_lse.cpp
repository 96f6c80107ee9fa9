#include "estimators/pairwise_lse.hpp"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <sstream>
#include <vector>

#include "estimators/blas.hpp"
#include "estimators/piecewise_basis.hpp"

namespace attnrate {
namespace {

// Number of partial sums: a function of p only (never of the thread count), so the reduction
// tree and hence every bit of G is the same for any number of threads; at most 64 and at most
// about 64 MiB of partial sums.
std::size_t chunk_count(int p) {
  const std::size_t per = static_cast<std::size_t>(p) * p * sizeof(double);
  return std::clamp<std::size_t>((std::size_t{64} << 20) / std::max<std::size_t>(per, 1), 2, 64);
}

// Features of one block into PsiT (p x count*N), zeroed by the caller. The basis is evaluated
// through its piecewise-polynomial form (Horner, no divisions), which agrees with de Boor's
// scheme to rounding.
constexpr int kMaxTokensFast = 64;  // tokens per sample handled by the three-pass feature loop

// u = x_i . (A x_j) with two 2-lane accumulators (four independent partial sums): a single
// chain of dependent adds would cost d add latencies per interaction, and the compiler may not
// reassociate without -ffast-math. The summation order is fixed, so results are reproducible.
[[gnu::always_inline]] inline double interaction(const double* xi, const double* axj, int d) noexcept {
  using v2d = double __attribute__((vector_size(16)));
  v2d acc0 = {0.0, 0.0}, acc1 = {0.0, 0.0};
  int r = 0;
  for (; r + 3 < d; r += 4) {
    v2d a0, b0, a1, b1;
    std::memcpy(&a0, xi + r, sizeof(v2d));
    std::memcpy(&b0, axj + r, sizeof(v2d));
    std::memcpy(&a1, xi + r + 2, sizeof(v2d));
    std::memcpy(&b1, axj + r + 2, sizeof(v2d));
    acc0 += a0 * b0;
    acc1 += a1 * b1;
  }
  double tail = 0.0;
  for (; r < d; ++r) tail += xi[r] * axj[r];
  const v2d acc = acc0 + acc1;
  return (acc[0] + acc[1]) + tail;
}

template <int S>
std::size_t block_features_fixed(const PiecewiseBasis& basis, int p, const double* __restrict AX,
                                 const double* __restrict X, int N, int d, std::size_t count,
                                 double* __restrict PsiT) {
  // Unscaled sums sum_{j != i} B_k(u_ij); the 1/(N-1) is applied once to G and h.
  std::size_t clamped = 0;
  double u[kMaxTokensFast], tau[kMaxTokensFast];
  int piece[kMaxTokensFast];
  for (std::size_t s = 0; s < count; ++s) {
    const double* x = X + s * static_cast<std::size_t>(N) * d;
    const double* ax = AX + s * static_cast<std::size_t>(N) * d;
    for (int i = 0; i < N; ++i) {
      double* __restrict col = PsiT + (s * N + i) * static_cast<std::size_t>(p);
      const double* xi = x + static_cast<std::size_t>(i) * d;
      // Three passes over j (interactions, then pieces, then values) so that the independent
      // work of different j overlaps instead of waiting on each other's latency chains.
      for (int j = 0; j < N; ++j) u[j] = interaction(xi, ax + static_cast<std::size_t>(j) * d, d);
      for (int j = 0; j < N; ++j)
        if (j != i) clamped += basis.locate_clamped(u[j], piece[j], tau[j]);
      for (int j = 0; j < N; ++j)
        if (j != i) basis.add_values_fixed<S>(piece[j], tau[j], col);
    }
  }
  return clamped;
}

// Same, for any number of tokens (one interaction at a time).
template <int S>
std::size_t block_features_general(const PiecewiseBasis& basis, int p, const double* AX, const double* X, int N,
                                   int d, std::size_t count, double* PsiT) {
  std::size_t clamped = 0;
  for (std::size_t s = 0; s < count; ++s) {
    const double* x = X + s * static_cast<std::size_t>(N) * d;
    const double* ax = AX + s * static_cast<std::size_t>(N) * d;
    for (int i = 0; i < N; ++i) {
      double* col = PsiT + (s * N + i) * static_cast<std::size_t>(p);
      const double* xi = x + static_cast<std::size_t>(i) * d;
      for (int j = 0; j < N; ++j) {
        if (j == i) continue;
        int piece;
        double tau;
        clamped += basis.locate_clamped(interaction(xi, ax + static_cast<std::size_t>(j) * d, d), piece, tau);
        basis.add_values_fixed<S>(piece, tau, col);
      }
    }
  }
  return clamped;
}

template <int S>
std::size_t block_features_any(const PiecewiseBasis& basis, int p, const double* AX, const double* X, int N, int d,
                               std::size_t count, double* PsiT) {
  return N <= kMaxTokensFast ? block_features_fixed<S>(basis, p, AX, X, N, d, count, PsiT)
                             : block_features_general<S>(basis, p, AX, X, N, d, count, PsiT);
}

std::size_t block_features(const PiecewiseBasis& basis, int p, const double* AX, const double* X, int N, int d,
                           std::size_t count, double* PsiT) {
  switch (basis.degree()) {
    case 0: return block_features_any<0>(basis, p, AX, X, N, d, count, PsiT);
    case 1: return block_features_any<1>(basis, p, AX, X, N, d, count, PsiT);
    case 2: return block_features_any<2>(basis, p, AX, X, N, d, count, PsiT);
    case 3: return block_features_any<3>(basis, p, AX, X, N, d, count, PsiT);
    case 4: return block_features_any<4>(basis, p, AX, X, N, d, count, PsiT);
    case 5: return block_features_any<5>(basis, p, AX, X, N, d, count, PsiT);
    case 6: return block_features_any<6>(basis, p, AX, X, N, d, count, PsiT);
    case 7: return block_features_any<7>(basis, p, AX, X, N, d, count, PsiT);
    case 8: return block_features_any<8>(basis, p, AX, X, N, d, count, PsiT);
    case 9: return block_features_any<9>(basis, p, AX, X, N, d, count, PsiT);
    default: return block_features_any<10>(basis, p, AX, X, N, d, count, PsiT);
  }
}

// Sparse path for large p: each feature row has at most (N-1)(s+1) nonzeros, so adding its
// outer product directly costs nnz^2 instead of the p^2 of a dense syrk.
void sparse_accumulate(const double* PsiT, int p, std::size_t cols, double* G, std::vector<int>& touched) {
  for (std::size_t t = 0; t < cols; ++t) {
    const double* col = PsiT + t * static_cast<std::size_t>(p);
    touched.clear();
    for (int k = 0; k < p; ++k)
      if (col[k] != 0.0) touched.push_back(k);
    for (std::size_t x = 0; x < touched.size(); ++x) {
      const int kb = touched[x];
      const double vb = col[kb];
      double* Gcol = G + static_cast<std::size_t>(kb) * p;
      for (std::size_t y = 0; y <= x; ++y) Gcol[touched[y]] += col[touched[y]] * vb;
    }
  }
}

}  // namespace

void add_feature_outer_products(const double* PsiT, int p, std::size_t cols, bool sparse, double* G,
                                std::vector<int>& touched) noexcept {
  if (sparse) sparse_accumulate(PsiT, p, cols, G, touched);
  else syrk_upper_add(PsiT, p, static_cast<int>(cols), 1.0, G);
}

NormalEquations reduce_normal_equations(const std::vector<PartialNormalEquations>& parts, int p, std::size_t M,
                                        int N, double feature_scale) {
  NormalEquations ne;
  ne.G.zeros(p, p);
  ne.h.zeros(p);
  for (const PartialNormalEquations& part : parts) {  // fixed order
    ne.G += part.G;
    ne.h += part.h;
    ne.yy += part.yy;
    ne.clamped += part.clamped;
  }
  symmetrise_from_upper(ne.G);
  const double scale = 1.0 / (static_cast<double>(M) * N);
  ne.G *= scale * feature_scale * feature_scale;
  ne.h *= scale * feature_scale;
  ne.yy *= scale;
  ne.tokens = M * N;
  ne.interactions = M * N * static_cast<std::size_t>(N - 1);
  return ne;
}

bool uses_sparse_accumulation(int p, int N, int degree) noexcept { return p > 3 * (N - 1) * (degree + 1); }

NormalEquations accumulate_normal_equations(const BSplineBasis& basis, const arma::mat& A, int N, int d,
                                            std::size_t M, const SampleBlockSource& source,
                                            const LseOptions& options) {
  const int p = basis.size();
  const std::size_t B = std::max<std::size_t>(1, options.block_samples);
  const std::size_t blocks = (M + B - 1) / B;
  const std::size_t chunks = std::min(chunk_count(p), blocks);
  const int threads = options.threads > 0 ? options.threads : omp_get_max_threads();
  pin_blas_to_one_thread();
  const bool sparse = uses_sparse_accumulation(p, N, basis.degree());
  const PiecewiseBasis poly(basis);

  std::vector<PartialNormalEquations> sums(chunks);
#pragma omp parallel num_threads(threads)
  {
    std::vector<double> X(B * N * d), Y(B * N), AX(B * N * d), PsiT(B * N * static_cast<std::size_t>(p));
    std::vector<int> touched;
#pragma omp for schedule(dynamic, 1)
    for (std::size_t c = 0; c < chunks; ++c) {
      PartialNormalEquations& cs = sums[c];
      cs.G.zeros(p, p);
      cs.h.zeros(p);
      // Chunk c covers blocks [c*blocks/chunks, (c+1)*blocks/chunks).
      const std::size_t b0 = c * blocks / chunks, b1 = (c + 1) * blocks / chunks;
      for (std::size_t b = b0; b < b1; ++b) {
        const std::size_t first = b * B, count = std::min(B, M - first);
        const std::size_t cols = count * N;
        source(first, count, X.data(), Y.data());
        gemm(A.memptr(), d, d, X.data(), static_cast<int>(cols), AX.data());  // AX = A X
        std::fill(PsiT.begin(), PsiT.begin() + cols * p, 0.0);
        cs.clamped += block_features(poly, p, AX.data(), X.data(), N, d, count, PsiT.data());
        add_feature_outer_products(PsiT.data(), p, cols, sparse, cs.G.memptr(), touched);
        const arma::mat Psi(PsiT.data(), p, cols, false, true);
        const arma::vec y(Y.data(), cols, false, true);
        cs.h += Psi * y;
        for (std::size_t t = 0; t < cols; ++t) cs.yy += Y[t] * Y[t];
      }
    }
  }
  return reduce_normal_equations(sums, p, M, N, 1.0 / (N - 1));
}

LseSolution solve_normal_equations(const NormalEquations& ne, double ridge, double rcond_floor) {
  const arma::uword p = ne.G.n_rows;
  LseSolution sol;
  sol.coef.zeros(p);
  // Basis functions that no training interaction touches have G_kk = 0 and h_k = 0: their
  // rows and columns decouple, every least-squares solution leaves them free, and the
  // minimum-norm one sets them to 0. Solve on the observed ones only.
  std::vector<arma::uword> seen;
  for (arma::uword k = 0; k < p; ++k)
    if (ne.G(k, k) > 0.0) seen.push_back(k);
  sol.unobserved = p - seen.size();
  const arma::uvec idx(seen);
  arma::mat Gr = ne.G.submat(idx, idx);
  if (ridge > 0.0) Gr.diag() += ridge;
  const arma::vec h = ne.h.elem(idx);
  const arma::uword q = idx.n_elem;
  arma::mat R;
  const bool chol_ok = q > 0 && Gr.is_finite() && arma::chol(R, Gr);
  sol.rcond = chol_ok ? arma::rcond(Gr) : 0.0;
  std::ostringstream name;
  if (chol_ok && sol.rcond >= rcond_floor) {
    sol.coef.elem(idx) = arma::solve(arma::trimatu(R), arma::solve(arma::trimatl(R.t()), h));
    name << "cholesky";
    sol.rank = q;
  } else {
    arma::mat Uu, Vv;
    arma::vec sv;
    if (q > 0) arma::svd(Uu, sv, Vv, Gr, "dc");
    const double tol = static_cast<double>(q) * (sv.n_elem ? sv[0] : 0.0) * std::numeric_limits<double>::epsilon();
    arma::vec c(q, arma::fill::zeros);
    arma::uword rank = 0;
    for (arma::uword k = 0; k < sv.n_elem; ++k)
      if (sv[k] > tol) {
        c += Vv.col(k) * (arma::dot(Uu.col(k), h) / sv[k]);
        ++rank;
      }
    if (q > 0) sol.coef.elem(idx) = c;
    sol.rank = rank;
    sol.fallback = true;
    if (sv.n_elem && sv[0] > 0) sol.rcond = sv[sv.n_elem - 1] / sv[0];
    name << "min-norm (rank " << rank << " of " << q << ")";
  }
  if (sol.unobserved > 0) name << ", " << sol.unobserved << " basis functions without data set to 0";
  sol.solver = name.str();
  // Training risk 1/(MN) sum (Y - psi^T c)^2 = c^T G c - 2 c^T h + yy (ridge term excluded).
  sol.train_mse = std::max(0.0, arma::as_scalar(sol.coef.t() * ne.G * sol.coef) - 2.0 * arma::dot(sol.coef, ne.h) + ne.yy);
  return sol;
}

PairwiseLseFit fit_pairwise_lse(const BSplineBasis& basis, const arma::mat& A, int N, int d, std::size_t M,
                                const SampleBlockSource& source, const LseOptions& options) {
  NormalEquations ne = accumulate_normal_equations(basis, A, N, d, M, source, options);
  LseSolution sol = solve_normal_equations(ne, options.ridge, options.rcond_floor);
  return PairwiseLseFit{basis, std::move(sol), std::move(ne)};
}

SampleBlockSource in_memory_source(const arma::mat& X, const arma::vec& Y, int N) {
  return [&X, &Y, N](std::size_t first, std::size_t count, double* Xo, double* Yo) {
    const std::size_t c0 = first * N, cols = count * N;
    std::memcpy(Xo, X.colptr(c0), sizeof(double) * cols * X.n_rows);
    std::memcpy(Yo, Y.memptr() + c0, sizeof(double) * cols);
  };
}

}  // namespace attnrate
