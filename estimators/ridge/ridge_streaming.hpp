#pragma once
// Streaming primal ridge regression: the estimate of estimators/ridge.hpp,
//     w = argmin (1/n) ||y - Phi w||^2 + lambda ||w||^2 = (G + n lambda I)^{-1} b,
// computed from the normal equations G = Phi^T Phi (p x p), b = Phi^T y, yy = y^T y and n alone,
// so the n x p feature matrix Phi is never stored: memory O(p^2 + block), whatever n.
//
// Accumulation. A source writes the features of a block of samples as the columns of a p x count
// matrix (Phi_block^T) with its responses; G gets one dsyrk per block (upper triangle), b one
// gemv, yy a plain sum. Blocks [j B, (j+1) B) have a fixed size B; they are grouped into a fixed
// number of contiguous chunks (a function of p and the block count only, at most 64 and about
// 64 MiB of partial Gram matrices, at least 2 when there are 2 blocks), each chunk sums its blocks
// in order, and the chunk sums are added in chunk order. With BLAS pinned to one thread, every
// bit of (G, b, yy) is therefore the same for any thread count. Different block sizes give the
// same result up to rounding only.
//
// Fixed lambda: Cholesky (LAPACK potrf) of G + n lambda I with its 1-norm reciprocal condition
// estimate (pocon); below the floor, or when the factorisation fails, the truncated spectral
// (minimum-norm) solution from the eigendecomposition of G is used and reported, exactly like
// ridge_solve(Phi, y, lambda, {RidgeForm::primal}).
//
// GCV from the normal equations. With G = V diag(s) V^T (s_j >= 0) and the thin SVD
// Phi = U_r diag(sqrt(s_r)) V_r^T over the numerical range (s_j > p eps max s), the hat matrix
// H = Phi (G + n lambda I)^{-1} Phi^T = U_r diag(s_r/(s_r + n lambda)) U_r^T, so
//     tr(H)            = sum_{j in range} s_j/(s_j + n lambda),
//     ||(I - H) y||^2  = sum_{j in range} (n lambda/(s_j + n lambda))^2 c_j^2 + r_perp,
// with c = U_r^T y = diag(s_r^{-1/2}) V_r^T b (so c_j^2 = (V^T b)_j^2 / s_j) and
//     r_perp = ||(I - U_r U_r^T) y||^2 = yy - sum_{j in range} c_j^2 = ||y - Phi w_ls||^2,
// w_ls = V_r diag(1/s_r) V_r^T b the minimum-norm least-squares solution. Everything needs only
// (G, b, yy, n). GCV(lambda) = (1/n) ||(I - H) y||^2 / (1 - tr(H)/n)^2 with the denominator summed
// as (1/n)(sum_{range} n lambda/(s_j + n lambda) + n - rank), as in ridge.hpp. The subtraction
// yy - sum c_j^2 carries an absolute error of order eps * yy, which is large relative to r_perp
// when y is almost in the range of Phi; so by default (StreamingRidgeOptions::residual_pass) a
// second streaming pass computes r_perp = ||y - Phi w_ls||^2 directly (first-order insensitive to
// errors in w_ls, since the exact residual is orthogonal to the range). The same decomposition
// gives the training error of the spectral solution, ||y - Phi w||^2 = the GCV numerator, without
// another pass; for a fixed lambda the residual pass computes ||y - Phi w||^2 directly (without
// it: yy - 2 w^T b + w^T G w, clamped at 0).
#include <armadillo>
#include <cstddef>
#include <functional>

#include "estimators/ridge/ridge.hpp"

namespace attnrate {

/// Writes the features of samples [first, first + count) as the columns of PhiT (p x count,
/// column-major, leading dimension p; column s is sample first + s) and their responses into
/// y[0 .. count). Called concurrently from several threads on disjoint ranges, possibly more than
/// once per range (the residual pass): it must be thread-safe and a pure function of (first, count).
/// Throwing is allowed: the exception of the first failing chunk is rethrown to the caller.
using FeatureBlockSource = std::function<void(std::size_t first, std::size_t count, double* PhiT, double* y)>;

struct StreamingRidgeOptions {
  std::size_t block_samples = 256;  ///< samples per block, >= 1 (part of the result's definition: rounding depends on it)
  int threads = 0;                  ///< OpenMP threads, >= 0; 0 = omp_get_max_threads()
  bool residual_pass = true;        ///< second pass for ||y - Phi w||^2 (see the header comment)
};

/// Unscaled normal equations of n samples.
struct RidgeNormalEquations {
  std::size_t n = 0;
  arma::mat G;      ///< Phi^T Phi, p x p, both triangles
  arma::vec b;      ///< Phi^T y
  double yy = 0.0;  ///< y^T y
};

/// Streams n >= 1 samples with p >= 1 features from `source` in blocks and sums the normal
/// equations (fixed chunk order: bit-identical for any thread count). Throws InputError on bad
/// sizes or options, or when a block has a non-finite feature or response (naming the block).
RidgeNormalEquations accumulate_ridge_normal_equations(std::size_t n, std::size_t p, const FeatureBlockSource& source,
                                                       const StreamingRidgeOptions& options = {});

/// Primal ridge for a fixed lambda >= 0 from the normal equations (ridge_solve with
/// RidgeForm::primal, without Phi). train_mse = (yy - 2 w^T b + w^T G w)/n clamped at 0 (use
/// ridge_fit_streaming for the exact residual). Throws InputError on bad lambda or sizes.
RidgeSolution ridge_solve_normal_equations(const RidgeNormalEquations& ne, double lambda,
                                           const RidgeOptions& options = {});

/// GCV scores on `grid` (all > 0) from the eigendecomposition of G (the primal form of
/// select_lambda_gcv). r_perp = ||y - Phi w_ls||^2 when known (>= 0); a negative value means
/// "compute it as yy - sum c_j^2" (see the header comment for its accuracy).
LambdaSelection select_lambda_gcv(const RidgeNormalEquations& ne, const arma::vec& grid, double r_perp = -1.0);

/// Streaming ridge_fit in the primal form: accumulate the normal equations, then rule fixed
/// (ridge_solve_normal_equations; with options.residual_pass the training error comes from a
/// second pass) or gcv (scores and solution from one eigendecomposition of G, solver "spectral";
/// with residual_pass, r_perp from a second pass). rule kfold and fit.solve.form = dual are
/// rejected with InputError (both need the samples more than twice or the n x n Gram matrix).
RidgeFit ridge_fit_streaming(std::size_t n, std::size_t p, const FeatureBlockSource& source,
                             const RidgeFitOptions& fit = {}, const StreamingRidgeOptions& options = {});

}  // namespace attnrate
