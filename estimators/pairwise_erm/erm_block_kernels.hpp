#pragma once
// The per-block hot loops of the joint (A, phi) fit: the phi-step's features and the residual
// pass with its gradient sums, for one block of samples whose projections P = U^T X and
// Q = V^T X are already computed.
//
// Each kernel takes the partners j of a token i four at a time (degree >= 1): their interactions,
// clamping, piece search and Horner schemes are vector operations with the same operations per
// lane as one at a time, while every sum over j keeps its order. Each is compiled once per spline
// degree (the s+1 basis values stay in registers) and twice per target: AVX2 where the CPU has it (chosen at run time), the x86-64 baseline
// otherwise. Neither contracts a*b+c and every lane does the same IEEE operations, so both
// targets give the same bits (tests/test_erm_block_kernels.cpp checks both at every degree).
#include <cstddef>

#include "estimators/piecewise_basis.hpp"

namespace attnrate {

/// One block of samples in the projected form: column t of PQ (2r doubles) holds P_t (rows
/// 0..r-1) and Q_t (rows r..2r-1) of token t; tokens of a sample are consecutive.
struct ProjectedBlock {
  const double* PQ;   ///< 2r x count*N, column-major
  int rank;           ///< r
  int tokens;         ///< N >= 2
  std::size_t count;  ///< samples in the block
};

/// u = P_i . Q_j summed left to right: every pass of the fit computes the same bits.
[[gnu::always_inline]] inline double projected_interaction(const double* Pi, const double* Qj, int r) noexcept {
  double u = 0.0;
  for (int k = 0; k < r; ++k) u += Pi[k] * Qj[k];
  return u;
}

/// Sums a residual pass adds to (in this order, sample by sample, token by token).
struct ResidualSums {
  double squared = 0.0;  ///< sum_i r_i^2
  double at_lower = 0.0; ///< sum_i r_i sum_j phi'(u_ij) (b - u_ij) / (b - a): derivative through a
  double at_upper = 0.0; ///< sum_i r_i sum_j phi'(u_ij) (u_ij - a) / (b - a): derivative through b
};

/// Features of the phi-step: column t of Psi (count*N columns of stride ld >= the basis size p,
/// each set to zero first, all ld rows) gets (1/(N-1)) sum_{j != i} B_k(u_ij), u_ij = P_i . Q_j
/// clamped to [a, b] of `basis`. Returns the number of clamped interactions.
using ErmFeaturesKernel = std::size_t (*)(const PiecewiseBasis& basis, const ProjectedBlock& block, int ld,
                                          double* Psi);

/// Residual pass for phi = sum_k coef_k B_k given as `phi_table` (PiecewiseBasis::spline_table):
/// r_i = y_i - (1/(N-1)) sum_{j != i} phi(u_ij) with y = Y * y_scale (Y: the block's count*N
/// outputs), adds to `sums` and to Z (2r x count*N, zeroed by the caller): rows 0..r-1 of token i
/// get sum_j r_i phi'(u_ij) Q_j, rows r..2r-1 of token j get sum_i r_i phi'(u_ij) P_i.
/// `scratch` holds 2N doubles.
using ErmResidualKernel = void (*)(const PiecewiseBasis& basis, const double* phi_table, const ProjectedBlock& block,
                                   const double* Y, double y_scale, double* Z, double* scratch, ResidualSums& sums);

struct ErmBlockKernels {
  ErmFeaturesKernel features;
  ErmResidualKernel residuals;
};

/// The AVX2 pair when allow_avx2 and the CPU has AVX2, else the baseline pair.
ErmBlockKernels select_erm_block_kernels(bool allow_avx2);

}  // namespace attnrate
