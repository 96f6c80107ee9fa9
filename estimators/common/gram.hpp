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
// bit. That holds for finite P. With an infinite or NaN P(b, t), the products 0 * P(b, t) that
// the definition makes NaN may be skipped, depending on the width: an entry can then stay finite
// where the definition gives NaN (never the reverse).
// Columns are at most kGramMaxRows long: every tile reads every column, so for long columns
// BLAS's blocking serves better (the callers switch to dsyrk beyond; the spline least squares
// stays below it in every built-in claim).
#include <cstddef>

#include "estimators/common/vector_width.hpp"

namespace attnrate {

/// The longest columns gram_upper_add takes.
inline constexpr int kGramMaxRows = 128;

/// C(a, b) += sum_t P(a, t) P(b, t) for 0 <= a <= b < p <= kGramMaxRows, as defined above (k = 0
/// leaves C untouched); the strict lower triangle of C is neither read nor written. P is p x k,
/// column-major with leading dimension ld >= p, and holds (k-1) ld + p doubles, all initialised:
/// the kernel reads nothing outside them, but may read up to 7 doubles past row p-1 of a column
/// (the next column's) into lanes whose products are discarded. C is p x p with leading
/// dimension ldc >= p. Allocates the tiles' running sums (at most 68 KiB).
void gram_upper_add(const double* P, int p, std::size_t ld, std::size_t k, double* C, std::size_t ldc);

/// The same at a chosen width (one the CPU lacks falls back to widest_vector()): for the tests
/// of the width contract and the benchmarks.
void gram_upper_add(const double* P, int p, std::size_t ld, std::size_t k, double* C, std::size_t ldc,
                    VectorWidth width);

}  // namespace attnrate
