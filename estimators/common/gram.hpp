#pragma once
// The Gram matrix of short columns, C += P P^T (upper triangle), without BLAS: the normal
// equations of the spline least squares, whose feature columns have p <= ~100 rows and come in
// blocks of thousands.
//
// Definition (the bits, not only the value): every entry is one left-to-right sum over the k
// columns of rounded products, started at 0 and then added to C:
//   C(a, b) <- C(a, b) + fl(fl(fl(P(a,0) P(b,0)) + fl(P(a,1) P(b,1))) + ... + fl(P(a,k-1) P(b,k-1)))
// for a <= b < p (no FMA: the products are rounded). The kernels run the rows a along the lanes
// of a vector and keep a register tile of one vector of rows by up to 12 (SSE2, AVX) or 24
// (AVX-512F) columns b while the k columns of P stream past, so each lane computes exactly the
// sum above: every vector width gives the same bits, on any x86-64 CPU. (OpenBLAS's dsyrk
// picks its kernel, and with it the order of the sum, per CPU; for these shapes it also spends
// a third of its time packing P.) bench/bench_pairwise_lse.cpp compares the two.
// A tile skips the columns whose rows in it are all zero (spline features vanish on most pieces):
// their products are zeros, and a sum that starts at +0 is never -0, so adding them changes no
// bit. That holds for finite P; with an infinite or NaN entry, which entries it turns into NaN
// (beyond those the definition does) may depend on the width.
#include <cstddef>

#include "estimators/common/vector_width.hpp"

namespace attnrate {

/// C(a, b) += sum_t P(a, t) P(b, t) for 0 <= a <= b < p, as defined above; the strict lower
/// triangle of C is neither read nor written. P is p x k, column-major with leading dimension
/// ld >= p (only rows 0..p-1 of each column are read); C is p x p with leading dimension ldc >= p.
void gram_upper_add(const double* P, int p, std::size_t ld, std::size_t k, double* C, std::size_t ldc) noexcept;

/// The same at a chosen width (one the CPU lacks falls back to widest_vector()): for the tests
/// of the width contract and the benchmarks.
void gram_upper_add(const double* P, int p, std::size_t ld, std::size_t k, double* C, std::size_t ldc,
                    VectorWidth width) noexcept;

}  // namespace attnrate
