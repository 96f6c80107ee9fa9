#include "estimators/pairwise_lse/pairwise_lse.hpp"

#include <omp.h>

#include <algorithm>
#include <cassert>
#include <cstring>
#include <numeric>
#include <sstream>
#include <tuple>
#include <vector>

#include "estimators/common/blas.hpp"
#include "estimators/common/gram.hpp"
#include "estimators/common/input_error.hpp"
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

// Features of one block into PsiT (count*N columns of stride ld >= basis size, each zeroed here
// just before its sums, while it is in cache): unscaled sums sum_{j != i} B_k(u_ij), in row
// rows[k] of the column; the 1/(N-1) is applied once to G and h.
//
// Per sample the interactions u_ij = x_i . (A x_j) are computed four j at a time (plain
// left-to-right sums over the coordinates in every lane, A x_j first), then clamped to
// [a, b] and located (piece, tau) four at a time with exactly the operations of
// PiecewiseBasis::locate; the s+1 basis values follow by the vectorised Horner scheme of
// add_values_fixed. Every lane does the same IEEE operations whether the vectors are AVX or
// pairs of SSE2 registers, so both compiled variants below give the same bits.
using v4d = double __attribute__((vector_size(32)));
using v4i = int __attribute__((vector_size(16)));

struct FeatureScratch {
  int padded_tokens = 0;                  // N rounded up to a multiple of 4
  std::vector<double> xt, axt, u, tau;    // xt, axt: d x padded_tokens, lanes j >= N stay 0;
                                          // u, tau, piece: two tokens' rows of padded_tokens
  std::vector<int> piece;
  std::vector<double> tau_all;            // tau and piece of one sample's N (N-1) interactions
  std::vector<int> piece_all;
  FeatureScratch(int N, int d)
      : padded_tokens((N + 3) / 4 * 4), xt(static_cast<std::size_t>(d) * padded_tokens, 0.0),
        axt(xt.size(), 0.0), u(2 * padded_tokens), tau(2 * padded_tokens), piece(2 * padded_tokens),
        tau_all(static_cast<std::size_t>(N) * (N - 1)), piece_all(tau_all.size()) {}
};

// u clamped to [a, b] (NaN to a, as locate_clamped) and located, four at a time: piece and tau
// by exactly the operations of PiecewiseBasis::locate (for degree >= 1; degree 0 needs locate's
// knot fix-up).
struct LocateConstants {
  v4d a, b, inv_h, half = {0.5, 0.5, 0.5, 0.5};
  v4i zero = {0, 0, 0, 0}, last;
  explicit LocateConstants(const PiecewiseBasis& basis)
      : a(basis.a() - v4d{}), b(basis.b() - v4d{}), inv_h(basis.inv_h() - v4d{}), last(v4i{} + (basis.pieces() - 1)) {}
};

[[gnu::always_inline]] inline void clamp_locate4(v4d u, const LocateConstants& c, int* __restrict piece,
                                                 double* __restrict tau) noexcept {
  v4d uc = u >= c.a ? u : c.a;  // NaN -> a, as locate_clamped
  uc = uc > c.b ? c.b : uc;
  const v4d xx = (uc - c.a) * c.inv_h;
  v4i jj = __builtin_convertvector(xx, v4i);  // truncation, as static_cast<int>
  jj = jj < c.zero ? c.zero : jj;
  jj = jj > c.last ? c.last : jj;
  const v4d t = xx - __builtin_convertvector(jj, v4d) - c.half;
  std::memcpy(piece, &jj, sizeof(v4i));
  std::memcpy(tau, &t, sizeof(v4d));
}

template <int S>
[[gnu::always_inline]] inline std::size_t block_features_t(const PiecewiseBasis& basis, int ld,
                                                           const int* __restrict rows, const double* __restrict A,
                                                           const double* __restrict X,
                                                           int N, int d, std::size_t count, double* __restrict PsiT,
                                                           FeatureScratch& w) {
  const int Np = w.padded_tokens;
  double* __restrict xt = w.xt.data();
  double* __restrict axt = w.axt.data();
  double* __restrict u = w.u.data();
  double* __restrict tau = w.tau.data();
  int* __restrict piece = w.piece.data();
  const double a = basis.a(), b = basis.b();
  const LocateConstants loc(basis);
  std::size_t clamped = 0;
  for (std::size_t s = 0; s < count; ++s) {
    const double* x = X + s * static_cast<std::size_t>(N) * d;
    // (A X_s) with tokens along the vectors: axt[r][j] = sum_k A(r, k) x_j[k], left to right in k.
    for (int j = 0; j < N; ++j)
      for (int k = 0; k < d; ++k) xt[static_cast<std::size_t>(k) * Np + j] = x[static_cast<std::size_t>(j) * d + k];
    // Four rows at a time: four independent chains of adds instead of one (latency, not
    // throughput, bounds a single chain); each lane still sums k = 0..d-1 left to right.
    for (int jb = 0; jb < Np; jb += 4) {
      int r = 0;
      for (; r + 3 < d; r += 4) {
        v4d acc[4], c;
        std::memcpy(&c, xt + jb, sizeof(v4d));
        for (int q = 0; q < 4; ++q) acc[q] = v4d{A[r + q], A[r + q], A[r + q], A[r + q]} * c;
        for (int k = 1; k < d; ++k) {
          const double* ak = A + static_cast<std::size_t>(k) * d + r;
          std::memcpy(&c, xt + static_cast<std::size_t>(k) * Np + jb, sizeof(v4d));
          for (int q = 0; q < 4; ++q) acc[q] = acc[q] + v4d{ak[q], ak[q], ak[q], ak[q]} * c;
        }
        for (int q = 0; q < 4; ++q) std::memcpy(axt + static_cast<std::size_t>(r + q) * Np + jb, &acc[q], sizeof(v4d));
      }
      for (; r < d; ++r) {
        v4d acc, c;
        std::memcpy(&c, xt + jb, sizeof(v4d));
        acc = v4d{A[r], A[r], A[r], A[r]} * c;
        for (int k = 1; k < d; ++k) {
          const double ark = A[static_cast<std::size_t>(k) * d + r];
          std::memcpy(&c, xt + static_cast<std::size_t>(k) * Np + jb, sizeof(v4d));
          acc = acc + v4d{ark, ark, ark, ark} * c;
        }
        std::memcpy(axt + static_cast<std::size_t>(r) * Np + jb, &acc, sizeof(v4d));
      }
    }
    // u_ij for two tokens i at a time (again two independent chains), then clamp and locate.
    for (int i0 = 0; i0 < N; i0 += 2) {
      const int tokens = std::min(2, N - i0);
      const double* x0 = x + static_cast<std::size_t>(i0) * d;
      const double* x1 = tokens == 2 ? x0 + d : x0;  // a lone last token computes its row twice
      for (int jb = 0; jb < Np; jb += 4) {
        v4d acc[2], c;
        std::memcpy(&c, axt + jb, sizeof(v4d));
        acc[0] = v4d{x0[0], x0[0], x0[0], x0[0]} * c;
        acc[1] = v4d{x1[0], x1[0], x1[0], x1[0]} * c;
        for (int r = 1; r < d; ++r) {
          std::memcpy(&c, axt + static_cast<std::size_t>(r) * Np + jb, sizeof(v4d));
          acc[0] = acc[0] + v4d{x0[r], x0[r], x0[r], x0[r]} * c;
          acc[1] = acc[1] + v4d{x1[r], x1[r], x1[r], x1[r]} * c;
        }
        for (int q = 0; q < 2; ++q) {
          const std::size_t o = static_cast<std::size_t>(q) * Np + jb;
          std::memcpy(u + o, &acc[q], sizeof(v4d));
          if constexpr (S > 0) clamp_locate4(acc[q], loc, piece + o, tau + o);  // degree 0: scalar below
        }
      }
      for (int q = 0; q < tokens; ++q) {
        const int i = i0 + q;
        double* __restrict col = PsiT + (s * N + i) * static_cast<std::size_t>(ld);
        std::fill(col, col + ld, 0.0);
        double* uq = u + static_cast<std::size_t>(q) * Np;
        double* tq = tau + static_cast<std::size_t>(q) * Np;
        int* pq = piece + static_cast<std::size_t>(q) * Np;
        for (int j = 0; j < N; ++j) {
          if (j == i) continue;
          if constexpr (S > 0) clamped += static_cast<std::size_t>(!(uq[j] >= a)) + (uq[j] > b);  // no branch; a < b
          else clamped += basis.locate_clamped(uq[j], pq[j], tq[j]);
          basis.add_values_to_rows<S>(pq[j], tq[j], rows, col);
        }
      }
    }
  }
  return clamped;
}

// block_features_t from the block's interactions U (count N (N-1) values, sample after sample,
// row i's j != i in increasing j, as SampleBlockSource::InteractionGenerator gives them), which
// are the u block_features_t forms (up to the sign of a zero u, which no clamp, piece or tau
// sees): the same clamps, pieces, taus and basis values, so the same columns, bit for bit. A
// sample's interactions are located four at a time; the last few of a sample go through a
// padded vector of copies, so every u sees the same lane operations.
template <int S>
[[gnu::always_inline]] inline std::size_t interaction_features_t(const PiecewiseBasis& basis, int ld,
                                                                 const int* __restrict rows, const double* __restrict U,
                                                                 int N, std::size_t count,
                                                                 double* __restrict PsiT, FeatureScratch& w) {
  const std::size_t per_sample = static_cast<std::size_t>(N) * (N - 1);
  double* __restrict tau = w.tau_all.data();
  int* __restrict piece = w.piece_all.data();
  const double a = basis.a(), b = basis.b();
  const LocateConstants loc(basis);
  std::size_t clamped = 0;
  for (std::size_t s = 0; s < count; ++s) {
    const double* u = U + s * per_sample;
    if constexpr (S > 0) {
      std::size_t k = 0;
      for (; k + 4 <= per_sample; k += 4) {
        v4d x;
        std::memcpy(&x, u + k, sizeof(v4d));
        clamp_locate4(x, loc, piece + k, tau + k);
      }
      if (k < per_sample) {
        v4d x;
        for (std::size_t l = 0; l < 4; ++l) x[l] = u[std::min(k + l, per_sample - 1)];
        int pj[4];
        double pt[4];
        clamp_locate4(x, loc, pj, pt);
        for (std::size_t l = 0; k + l < per_sample; ++l) piece[k + l] = pj[l], tau[k + l] = pt[l];
      }
    }
    for (std::size_t k = 0; k < per_sample; ++k) {
      if constexpr (S > 0) clamped += static_cast<std::size_t>(!(u[k] >= a)) + (u[k] > b);  // no branch; a < b
      else clamped += basis.locate_clamped(u[k], piece[k], tau[k]);
    }
    double* __restrict cols = PsiT + s * N * static_cast<std::size_t>(ld);
    std::fill(cols, cols + N * static_cast<std::size_t>(ld), 0.0);
    // Four tokens side by side: each column still sums its values in increasing j, and the four
    // columns' chains of dependent adds (consecutive interactions often share a piece) overlap.
    const auto add_row = [&](int i, int j) {
      const std::size_t k = static_cast<std::size_t>(i) * (N - 1) + j;
      basis.add_values_to_rows<S>(piece[k], tau[k], rows, cols + static_cast<std::size_t>(i) * ld);
    };
    int i0 = 0;
    for (; i0 + 4 <= N; i0 += 4)
      for (int j = 0; j < N - 1; ++j)
        for (int g = 0; g < 4; ++g) add_row(i0 + g, j);
    for (; i0 < N; ++i0)
      for (int j = 0; j < N - 1; ++j) add_row(i0, j);
  }
  return clamped;
}

// One body, two compiled variants: AVX2 where the CPU has it (chosen at run time), SSE2 (the
// x86-64 baseline) otherwise. No FMA in either (ISO C++ mode does not contract a*b+c), so both
// give the same bits; a test checks it through LseOptions::allow_avx2.
#define ATTNRATE_BLOCK_FEATURES_BODY                                                              \
  switch (basis.degree()) {                                                                       \
    case 0: return block_features_t<0>(basis, ld, rows, A, X, N, d, count, PsiT, w);                    \
    case 1: return block_features_t<1>(basis, ld, rows, A, X, N, d, count, PsiT, w);                    \
    case 2: return block_features_t<2>(basis, ld, rows, A, X, N, d, count, PsiT, w);                    \
    case 3: return block_features_t<3>(basis, ld, rows, A, X, N, d, count, PsiT, w);                    \
    case 4: return block_features_t<4>(basis, ld, rows, A, X, N, d, count, PsiT, w);                    \
    case 5: return block_features_t<5>(basis, ld, rows, A, X, N, d, count, PsiT, w);                    \
    case 6: return block_features_t<6>(basis, ld, rows, A, X, N, d, count, PsiT, w);                    \
    case 7: return block_features_t<7>(basis, ld, rows, A, X, N, d, count, PsiT, w);                    \
    case 8: return block_features_t<8>(basis, ld, rows, A, X, N, d, count, PsiT, w);                    \
    case 9: return block_features_t<9>(basis, ld, rows, A, X, N, d, count, PsiT, w);                    \
    default: return block_features_t<10>(basis, ld, rows, A, X, N, d, count, PsiT, w);                  \
  }

std::size_t block_features_baseline(const PiecewiseBasis& basis, int ld, const int* rows, const double* A,
                                     const double* X, int N, int d, std::size_t count, double* PsiT,
                                     FeatureScratch& w) {
  ATTNRATE_BLOCK_FEATURES_BODY
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define ATTNRATE_HAVE_AVX2_VARIANT 1
[[gnu::target("avx2")]] std::size_t block_features_avx2(const PiecewiseBasis& basis, int ld, const int* rows,
                                                         const double* A, const double* X, int N, int d,
                                                         std::size_t count, double* PsiT, FeatureScratch& w) {
  ATTNRATE_BLOCK_FEATURES_BODY
}
#endif
#undef ATTNRATE_BLOCK_FEATURES_BODY

using BlockFeatures = std::size_t (*)(const PiecewiseBasis&, int, const int*, const double*, const double*, int,
                                      int, std::size_t, double*, FeatureScratch&);

BlockFeatures select_block_features(bool allow_avx2) {
#ifdef ATTNRATE_HAVE_AVX2_VARIANT
  if (allow_avx2 && __builtin_cpu_supports("avx2")) return block_features_avx2;
#endif
  (void)allow_avx2;
  return block_features_baseline;
}

#define ATTNRATE_INTERACTION_FEATURES_BODY                                                       \
  switch (basis.degree()) {                                                                      \
    case 0: return interaction_features_t<0>(basis, ld, rows, U, N, count, PsiT, w);                   \
    case 1: return interaction_features_t<1>(basis, ld, rows, U, N, count, PsiT, w);                   \
    case 2: return interaction_features_t<2>(basis, ld, rows, U, N, count, PsiT, w);                   \
    case 3: return interaction_features_t<3>(basis, ld, rows, U, N, count, PsiT, w);                   \
    case 4: return interaction_features_t<4>(basis, ld, rows, U, N, count, PsiT, w);                   \
    case 5: return interaction_features_t<5>(basis, ld, rows, U, N, count, PsiT, w);                   \
    case 6: return interaction_features_t<6>(basis, ld, rows, U, N, count, PsiT, w);                   \
    case 7: return interaction_features_t<7>(basis, ld, rows, U, N, count, PsiT, w);                   \
    case 8: return interaction_features_t<8>(basis, ld, rows, U, N, count, PsiT, w);                   \
    case 9: return interaction_features_t<9>(basis, ld, rows, U, N, count, PsiT, w);                   \
    default: return interaction_features_t<10>(basis, ld, rows, U, N, count, PsiT, w);                 \
  }

std::size_t interaction_features_baseline(const PiecewiseBasis& basis, int ld, const int* rows, const double* U,
                                          int N, std::size_t count, double* PsiT, FeatureScratch& w) {
  ATTNRATE_INTERACTION_FEATURES_BODY
}

#ifdef ATTNRATE_HAVE_AVX2_VARIANT
[[gnu::target("avx2")]] std::size_t interaction_features_avx2(const PiecewiseBasis& basis, int ld, const int* rows,
                                                               const double* U, int N, std::size_t count,
                                                               double* PsiT, FeatureScratch& w) {
  ATTNRATE_INTERACTION_FEATURES_BODY
}
#endif
#undef ATTNRATE_INTERACTION_FEATURES_BODY

using InteractionFeatures = std::size_t (*)(const PiecewiseBasis&, int, const int*, const double*, int, std::size_t,
                                            double*, FeatureScratch&);

InteractionFeatures select_interaction_features(bool allow_avx2) {
#ifdef ATTNRATE_HAVE_AVX2_VARIANT
  if (allow_avx2 && __builtin_cpu_supports("avx2")) return interaction_features_avx2;
#endif
  (void)allow_avx2;
  return interaction_features_baseline;
}

// The row of each basis function in a block's (psi, y) columns (y after them): for the Gram
// kernel, the functions farthest from the middle of the basis first and the middle ones last
// (ties: the lower index first); otherwise the natural order. The kernel skips a column in a
// block of rows (8 at AVX-512F, 4 or 2 at the narrower widths) where those rows are all zero, and
// a row block costs the number of rows from its first to the last (the upper triangle);
// interactions fall mostly in the middle pieces, so their functions go where a row block costs
// least (at K = 40, N = 8, d = 5, the work of the row blocks counted over drawn interactions falls
// by 45%). The order changes no bit there: each entry of G, h is one sum of the same products in
// column order, placed elsewhere (reduce_normal_equations puts it back). dsyrk's blocking may
// follow the rows, and the sparse path gains nothing, so they keep the natural order.
std::vector<int> feature_rows(int p, bool for_gram_kernel) {
  std::vector<int> order(static_cast<std::size_t>(p));
  std::iota(order.begin(), order.end(), 0);
  if (for_gram_kernel)
    std::stable_sort(order.begin(), order.end(),
                     [p](int k, int l) { return std::abs(2 * k - (p - 1)) > std::abs(2 * l - (p - 1)); });
  std::vector<int> rows(static_cast<std::size_t>(p));
  for (int r = 0; r < p; ++r) rows[static_cast<std::size_t>(order[static_cast<std::size_t>(r)])] = r;
  return rows;
}

// Sparse path for large p: each feature column has at most (N-1)(s+1) nonzeros (and y), so
// adding its outer product directly costs nnz^2 instead of the (p+1)^2 of a dense Gram matrix.
void sparse_accumulate(const double* PsiY, int q, std::size_t cols, double* Z, std::vector<int>& touched) {
  for (std::size_t t = 0; t < cols; ++t) {
    const double* col = PsiY + t * static_cast<std::size_t>(q);
    touched.clear();
    for (int k = 0; k < q; ++k)
      if (col[k] != 0.0) touched.push_back(k);
    for (std::size_t x = 0; x < touched.size(); ++x) {
      const int kb = touched[x];
      const double vb = col[kb];
      double* Zcol = Z + static_cast<std::size_t>(kb) * q;
      for (std::size_t y = 0; y <= x; ++y) Zcol[touched[y]] += col[touched[y]] * vb;
    }
  }
}

}  // namespace

void add_block_normal_equations(const double* PsiY, int p, std::size_t cols, bool sparse, PartialNormalEquations& part,
                                std::vector<int>& touched) {
  const int q = p + 1;
  assert(part.Z.n_rows == static_cast<arma::uword>(q) && part.Z.n_cols == static_cast<arma::uword>(q));
  if (sparse) sparse_accumulate(PsiY, q, cols, part.Z.memptr(), touched);
  else if (q <= kGramMaxRows)
    gram_upper_add(PsiY, q, static_cast<std::size_t>(q), cols, part.Z.memptr(), static_cast<std::size_t>(q));
  else syrk_upper_add(PsiY, q, static_cast<int>(cols), 1.0, part.Z.memptr());
}

NormalEquations reduce_normal_equations(const std::vector<PartialNormalEquations>& parts, int p, std::size_t M,
                                        int N, double feature_scale, const std::vector<int>& rows) {
  assert(p >= 1);
  assert(rows.empty() || rows.size() == static_cast<std::size_t>(p));
  NormalEquations ne;
  arma::mat Z(p + 1, p + 1, arma::fill::zeros);
  for (const PartialNormalEquations& part : parts) {  // fixed order
    Z += part.Z;
    ne.clamped += part.clamped;
  }
  const double scale = 1.0 / (static_cast<double>(M) * N);
  if (rows.empty()) {
    ne.G = Z.submat(0, 0, p - 1, p - 1);
    symmetrise_from_upper(ne.G);
    ne.h = Z.col(p).head(p);
  } else {  // G(k, l) from the upper triangle's entry of rows k and l
    ne.G.set_size(p, p);
    ne.h.set_size(p);
    for (int l = 0; l < p; ++l) {
      const int rl = rows[static_cast<std::size_t>(l)];
      for (int k = 0; k < p; ++k) {
        const int rk = rows[static_cast<std::size_t>(k)];
        ne.G(k, l) = Z(std::min(rk, rl), std::max(rk, rl));
      }
      ne.h(l) = Z(rl, p);
    }
  }
  ne.G *= scale * feature_scale * feature_scale;
  ne.h *= scale * feature_scale;
  ne.yy = Z(p, p) * scale;
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
  const BlockFeatures block_features = select_block_features(options.allow_avx2);
  const InteractionFeatures interaction_features = select_interaction_features(options.allow_avx2);
  const bool given_interactions = source.gives_interactions(A);
  const std::vector<int> rows = feature_rows(p, !sparse && p + 1 <= kGramMaxRows);

  // Column t of PsiY is (psi_t, y_t), psi_t in the rows above: one Gram matrix per block gives G,
  // h and sum y^2.
  const std::size_t q = static_cast<std::size_t>(p) + 1;
  std::vector<PartialNormalEquations> sums(chunks);
#pragma omp parallel num_threads(threads)
  {
    std::vector<double> X(B * N * d), Y(B * N), PsiY(B * N * q);
    std::vector<double> U(given_interactions ? B * N * (N - 1) : 0);
    std::vector<int> touched;
    FeatureScratch scratch(N, d);
#pragma omp for schedule(dynamic, 1)
    for (std::size_t c = 0; c < chunks; ++c) {
      PartialNormalEquations& cs = sums[c];
      cs.Z.zeros(q, q);
      // Chunk c covers blocks [c*blocks/chunks, (c+1)*blocks/chunks).
      const std::size_t b0 = c * blocks / chunks, b1 = (c + 1) * blocks / chunks;
      for (std::size_t b = b0; b < b1; ++b) {
        const std::size_t first = b * B, count = std::min(B, M - first);
        const std::size_t cols = count * N;
        const double* Xb = X.data();
        const double* Yb = Y.data();
        if (given_interactions) {
          source(first, count, X.data(), Y.data(), U.data());
          cs.clamped +=
              interaction_features(poly, static_cast<int>(q), rows.data(), U.data(), N, count, PsiY.data(), scratch);
        } else {
          if (source.in_memory()) std::tie(Xb, Yb) = source.block(first);  // read in place
          else source(first, count, X.data(), Y.data());
          cs.clamped += block_features(poly, static_cast<int>(q), rows.data(), A.memptr(), Xb, N, d, count,
                                       PsiY.data(), scratch);
        }
        for (std::size_t t = 0; t < cols; ++t) PsiY[t * q + p] = Yb[t];
        add_block_normal_equations(PsiY.data(), p, cols, sparse, cs, touched);
      }
    }
  }
  NormalEquations ne = reduce_normal_equations(sums, p, M, N, 1.0 / (N - 1), rows);
  // Non-finite outputs (or |Y| so large that Y^2 overflows) make every quantity below
  // meaningless: refuse them here, where the cause can still be named.
  if (!std::isfinite(ne.yy) || !ne.h.is_finite() || !ne.G.is_finite())
    throw InputError("pairwise least squares: the outputs Y are not finite (inf or NaN) or so large that their "
                     "squares overflow (|Y| > ~1e154); check the data or the activation's range (1/(MN) sum Y^2 = " +
                     std::to_string(ne.yy) + ")");
  return ne;
}

double composed_training_risk(const SplineSum& phi, const arma::mat& A, int N, int d, std::size_t M,
                              const SampleBlockSource& source, const LseOptions& options) {
  // The fitted outputs are sum_t psi_t^T c_t / (N-1), psi_t the features of term t's basis: the
  // accumulation's own kernel, so the interactions, clamps and basis values are the fits'.
  const std::size_t B = std::max<std::size_t>(1, options.block_samples);
  const std::size_t blocks = (M + B - 1) / B;
  const int threads = options.threads > 0 ? options.threads : omp_get_max_threads();
  pin_blas_to_one_thread();
  const BlockFeatures block_features = select_block_features(options.allow_avx2);
  std::vector<PiecewiseBasis> polys;
  int p_max = 0;
  for (const SplineTerm& t : phi.terms()) {
    polys.emplace_back(t.basis);
    p_max = std::max(p_max, t.basis.size());
  }
  const std::vector<int> natural = feature_rows(p_max, false);
  const double inv = 1.0 / (N - 1);
  std::vector<double> sums(blocks, 0.0);
#pragma omp parallel num_threads(threads)
  {
    std::vector<double> X(B * N * d), Y(B * N), PsiT(B * N * static_cast<std::size_t>(p_max));
    FeatureScratch scratch(N, d);
    arma::vec fitted;
#pragma omp for schedule(dynamic, 1)
    for (std::size_t blk = 0; blk < blocks; ++blk) {
      const std::size_t first = blk * B, count = std::min(B, M - first);
      const std::size_t cols = count * N;
      const double* Xb = X.data();
      const double* Yb = Y.data();
      if (source.in_memory()) std::tie(Xb, Yb) = source.block(first);
      else source(first, count, X.data(), Y.data());
      fitted.zeros(cols);
      for (std::size_t t = 0; t < polys.size(); ++t) {
        const int p = phi.terms()[t].basis.size();
        block_features(polys[t], p, natural.data(), A.memptr(), Xb, N, d, count, PsiT.data(), scratch);
        fitted += arma::mat(PsiT.data(), p, cols, false, true).t() * phi.terms()[t].coef;
      }
      double sum = 0.0;
      for (std::size_t k = 0; k < cols; ++k) {
        const double e = Yb[k] - fitted[k] * inv;
        sum += e * e;
      }
      sums[blk] = sum;
    }
  }
  double total = 0.0;
  for (double v : sums) total += v;
  return total / static_cast<double>(M * N);
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
    // tr(G_o (G_o + ridge I)^-1) = q - ridge tr((R^T R)^-1) = q - ridge ||R^-1||_F^2.
    sol.dof = static_cast<double>(q);
    if (ridge > 0.0) sol.dof -= ridge * arma::accu(arma::square(arma::inv(arma::trimatu(R))));
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
        sol.dof += std::max(sv[k] - ridge, 0.0) / sv[k];  // sv[k] = l_k + ridge (G_o is symmetric PSD)
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
  // Clamp rounding below 0, but never turn a NaN into 0.
  const double mse = arma::as_scalar(sol.coef.t() * ne.G * sol.coef) - 2.0 * arma::dot(sol.coef, ne.h) + ne.yy;
  sol.train_mse = mse < 0.0 ? 0.0 : mse;
  return sol;
}

PairwiseLseFit fit_pairwise_lse(const BSplineBasis& basis, const arma::mat& A, int N, int d, std::size_t M,
                                const SampleBlockSource& source, const LseOptions& options) {
  NormalEquations ne = accumulate_normal_equations(basis, A, N, d, M, source, options);
  LseSolution sol = solve_normal_equations(ne, options.ridge, options.rcond_floor);
  return PairwiseLseFit{basis, std::move(sol), std::move(ne)};
}

SampleBlockSource in_memory_source(const arma::mat& X, const arma::vec& Y, int N) {
  return SampleBlockSource::in_memory(X.memptr(), Y.memptr(), N, static_cast<int>(X.n_rows));
}

}  // namespace attnrate
