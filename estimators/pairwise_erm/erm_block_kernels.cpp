#include "estimators/pairwise_erm/erm_block_kernels.hpp"

#include <algorithm>
#include <cstring>

namespace attnrate {
namespace {

using v4d = PiecewiseBasis::v4d;
using v4i = PiecewiseBasis::v4i;

// The helpers take and give vectors through references: always inlined, so no vector crosses a
// call (passing them by value would make GCC warn about the AVX calling convention).

// u_ij for j = j0..j0+3 as projected_interaction computes each: 0.0 + P_i[0] Q_j[0] + ...
[[gnu::always_inline]] inline void projected_interactions4(const double* Pi, const double* Qj0, std::size_t r2,
                                                          int r, v4d& u) noexcept {
  u = v4d{0.0, 0.0, 0.0, 0.0};
  for (int k = 0; k < r; ++k) {
    const v4d q = {Qj0[k], Qj0[r2 + k], Qj0[2 * r2 + k], Qj0[3 * r2 + k]};
    const v4d p = {Pi[k], Pi[k], Pi[k], Pi[k]};
    u += p * q;
  }
}

// u = std::clamp(u, a, b) per lane (NaN stays NaN, as with std::clamp).
[[gnu::always_inline]] inline void clamp4(v4d& u, double a, double b) noexcept {
  const v4d av = {a, a, a, a}, bv = {b, b, b, b};
  u = u < av ? av : u;
  u = bv < u ? bv : u;
}

// Interactions four partners j at a time (degree >= 1): their products, clamping, piece search
// and Horner schemes are vector operations with the same operations per lane as the scalar loop,
// so the same bits; the sums over j (pred, the interval sums, the scatter into Psi and Z) stay in
// the scalar loop's order. Degree 0 (features only) keeps the scalar loop: its piece search
// needs the knot correction.
template <int S>
[[gnu::always_inline]] inline std::size_t features_t(const PiecewiseBasis& pb, const ProjectedBlock& blk, int ld,
                                                     double* __restrict Psi) {
  const int N = blk.tokens, r = blk.rank;
  const std::size_t r2 = 2 * static_cast<std::size_t>(r);
  const double inv = 1.0 / (N - 1), a = pb.a(), b = pb.b();
  std::size_t clamped = 0;
  const auto one = [&](double* col, const double* Pi, const double* Qj) {
    double u = projected_interaction(Pi, Qj, r);
    if (u < a || u > b) {
      ++clamped;
      u = std::clamp(u, a, b);
    }
    int piece;
    double tau;
    pb.locate(u, piece, tau);
    pb.add_values_fixed<S>(piece, tau, col, inv);
  };
  for (std::size_t s = 0; s < blk.count; ++s) {
    const double* PQs = blk.PQ + s * N * r2;
    for (int i = 0; i < N; ++i) {
      double* col = Psi + (s * N + i) * static_cast<std::size_t>(ld);
      std::fill(col, col + ld, 0.0);  // here, while the column is in cache
      const double* Pi = PQs + i * r2;
      int j = 0;
      if constexpr (S >= 1) {
        for (; j + 4 <= N; j += 4) {
          v4d u, uc;
          projected_interactions4(Pi, PQs + j * r2 + r, r2, r, u);
          uc = u;
          clamp4(uc, a, b);
          v4i piece;
          v4d tau;
          pb.locate4(uc, piece, tau);
          for (int l = 0; l < 4; ++l) {
            if (j + l == i) continue;
            clamped += (u[l] < a || u[l] > b);
            pb.add_values_fixed<S>(piece[l], tau[l], col, inv);
          }
        }
      }
      for (; j < N; ++j)
        if (j != i) one(col, Pi, PQs + j * r2 + r);
    }
  }
  return clamped;
}

template <int S>
[[gnu::always_inline]] inline void residuals_t(const PiecewiseBasis& pb, const double* phi_table,
                                               const ProjectedBlock& blk, const double* Y, double y_scale,
                                               double* __restrict Z, double* __restrict scratch, ResidualSums& sums) {
  const int N = blk.tokens, r = blk.rank;
  const std::size_t r2 = 2 * static_cast<std::size_t>(r);
  const double inv = 1.0 / (N - 1), a = pb.a(), b = pb.b(), inv_w = 1.0 / (b - a);
  double* uu = scratch;
  double* dph = scratch + N;
  // Local sums (the same additions in the same order): through `sums` every add would wait for
  // the store of the previous one.
  double squared = sums.squared, at_lower = sums.at_lower, at_upper = sums.at_upper;
  for (std::size_t s = 0; s < blk.count; ++s) {
    const double* PQs = blk.PQ + s * N * r2;
    for (int i = 0; i < N; ++i) {
      const double* Pi = PQs + i * r2;
      double pred = 0.0;
      int j = 0;
      if constexpr (S >= 1) {
        for (; j + 4 <= N; j += 4) {
          v4d u;
          projected_interactions4(Pi, PQs + j * r2 + r, r2, r, u);
          clamp4(u, a, b);
          v4i piece;
          v4d tau, ph, dp;
          pb.locate4(u, piece, tau);
          pb.spline4_fixed<S>(phi_table, piece, tau, ph, dp);
          std::memcpy(uu + j, &u, sizeof(v4d));
          std::memcpy(dph + j, &dp, sizeof(v4d));
          for (int l = 0; l < 4; ++l)
            if (j + l != i) pred += ph[l];
        }
      }
      for (; j < N; ++j) {
        if (j == i) continue;
        const double u = std::clamp(projected_interaction(Pi, PQs + j * r2 + r, r), a, b);
        int piece;
        double tau, ph, dp;
        pb.locate(u, piece, tau);
        pb.spline_fixed<S>(phi_table, piece, tau, ph, dp);
        pred += ph;
        uu[j] = u;
        dph[j] = dp;
      }
      const double res = Y[s * N + i] * y_scale - inv * pred;
      squared += res * res;
      double* w = dph;  // w_j = r_i phi'(u_ij), in place
      j = 0;
      {
        const v4d rv = {res, res, res, res}, av = {a, a, a, a}, bv = {b, b, b, b},
                  iw = {inv_w, inv_w, inv_w, inv_w};
        for (; j + 4 <= N; j += 4) {
          v4d dv, uv;
          std::memcpy(&dv, dph + j, sizeof(v4d));
          std::memcpy(&uv, uu + j, sizeof(v4d));
          const v4d wv = rv * dv, lower = wv * (bv - uv) * iw, upper = wv * (uv - av) * iw;
          std::memcpy(w + j, &wv, sizeof(v4d));
          for (int l = 0; l < 4; ++l) {
            if (j + l == i) continue;
            double* zv = Z + (s * N + j + l) * r2 + r;
            for (int k = 0; k < r; ++k) zv[k] += wv[l] * Pi[k];
            at_lower += lower[l];
            at_upper += upper[l];
          }
        }
      }
      for (; j < N; ++j) {
        if (j == i) continue;
        w[j] = res * dph[j];
        double* zv = Z + (s * N + j) * r2 + r;
        for (int k = 0; k < r; ++k) zv[k] += w[j] * Pi[k];
        at_lower += w[j] * (b - uu[j]) * inv_w;
        at_upper += w[j] * (uu[j] - a) * inv_w;
      }
      // Token i's row sums over j in a register (the same order of additions as j-outer).
      double* zu = Z + (s * N + i) * r2;
      for (int k = 0; k < r; ++k) {
        double acc = zu[k];
        for (int j = 0; j < N; ++j)
          if (j != i) acc += w[j] * PQs[j * r2 + r + k];
        zu[k] = acc;
      }
    }
  }
  sums = {squared, at_lower, at_upper};
}

// One body per target (see the header): a switch over the degree, each case fully inlined.
#define ATTNRATE_ERM_DEGREE_SWITCH(CALL) \
  switch (basis.degree()) {               \
    case 0: return CALL(0);               \
    case 1: return CALL(1);               \
    case 2: return CALL(2);               \
    case 3: return CALL(3);               \
    case 4: return CALL(4);               \
    case 5: return CALL(5);               \
    case 6: return CALL(6);               \
    case 7: return CALL(7);               \
    case 8: return CALL(8);               \
    case 9: return CALL(9);               \
    default: return CALL(10);             \
  }
#define ATTNRATE_ERM_FEATURES(S) features_t<S>(basis, block, ld, Psi)
#define ATTNRATE_ERM_RESIDUALS(S) residuals_t<S>(basis, phi_table, block, Y, y_scale, Z, scratch, sums)
#define ATTNRATE_ERM_KERNELS(suffix, attribute)                                                                     \
  attribute std::size_t features_##suffix(const PiecewiseBasis& basis, const ProjectedBlock& block, int ld,         \
                                          double* Psi) {                                                            \
    ATTNRATE_ERM_DEGREE_SWITCH(ATTNRATE_ERM_FEATURES)                                                               \
  }                                                                                                                 \
  attribute void residuals_##suffix(const PiecewiseBasis& basis, const double* phi_table, const ProjectedBlock& block, \
                                    const double* Y, double y_scale, double* Z, double* scratch, ResidualSums& sums) { \
    ATTNRATE_ERM_DEGREE_SWITCH(ATTNRATE_ERM_RESIDUALS)                                                              \
  }

ATTNRATE_ERM_KERNELS(baseline, )
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define ATTNRATE_HAVE_AVX2_VARIANT 1
ATTNRATE_ERM_KERNELS(avx2, [[gnu::target("avx2")]])
#endif
#undef ATTNRATE_ERM_KERNELS
#undef ATTNRATE_ERM_RESIDUALS
#undef ATTNRATE_ERM_FEATURES
#undef ATTNRATE_ERM_DEGREE_SWITCH

}  // namespace

ErmBlockKernels select_erm_block_kernels(bool allow_avx2) {
#ifdef ATTNRATE_HAVE_AVX2_VARIANT
  if (allow_avx2 && __builtin_cpu_supports("avx2")) return {features_avx2, residuals_avx2};
#endif
  (void)allow_avx2;
  return {features_baseline, residuals_baseline};
}

}  // namespace attnrate
