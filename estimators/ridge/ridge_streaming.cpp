#include "estimators/ridge/ridge_streaming.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "estimators/common/blas.hpp"
#include "estimators/common/input_error.hpp"
#include "estimators/common/parallel_errors.hpp"
#include "estimators/ridge/ridge_detail.hpp"

namespace attnrate {
namespace {

using detail::check_lambda;
using detail::check_lambda_grid;
using detail::GramSpectrum;

void check_stream(std::size_t n, std::size_t p, const StreamingRidgeOptions& o, const char* where) {
  const std::string w(where);
  if (n == 0) throw InputError(w + ": n = 0 samples; need at least one");
  if (p == 0) throw InputError(w + ": p = 0 features; need at least one");
  if (p > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    throw InputError(w + ": p = " + std::to_string(p) + " features exceeds the BLAS index range");
  if (o.block_samples == 0) throw InputError(w + ": block_samples = 0 is not allowed; need >= 1");
  if (o.block_samples > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    throw InputError(w + ": block_samples = " + std::to_string(o.block_samples) + " exceeds the BLAS index range");
  if (o.threads < 0)
    throw InputError(w + ": threads = " + std::to_string(o.threads) + " is not allowed; need >= 0 (0 = all)");
}

void check_normal_equations(const RidgeNormalEquations& ne, const char* where) {
  const std::string w(where);
  if (ne.n == 0) throw InputError(w + ": normal equations of n = 0 samples; need at least one");
  if (ne.G.is_empty() || !ne.G.is_square() || ne.b.n_elem != ne.G.n_rows)
    throw InputError(w + ": G is " + std::to_string(ne.G.n_rows) + " x " + std::to_string(ne.G.n_cols) +
                     " and b has " + std::to_string(ne.b.n_elem) + " entries; need G p x p and b of length p >= 1");
  if (!ne.G.is_finite() || !ne.b.is_finite() || !std::isfinite(ne.yy))
    throw InputError(w + ": the normal equations contain NaN or infinite values; all must be finite");
}

// Fixed partition of the blocks into chunks: a function of p and the block count only, never of
// the thread count. Each chunk holds a p x p partial Gram matrix: at most 64 of them and about
// 64 MiB in total, but at least 2 so two threads have work.
std::size_t chunk_count(std::size_t p, std::size_t blocks) {
  const std::size_t per = p * p * sizeof(double);
  return std::min(blocks, std::clamp<std::size_t>((std::size_t{64} << 20) / per, 2, 64));
}

// Runs body(chunk, first_block, last_block) over the fixed chunks in parallel and rethrows the
// exception of the first failing chunk (in chunk order, so the same one for any thread count).
// Body gets per-thread buffers for one block: PhiT (p x B) and y (B).
template <class Body>
void for_each_chunk(std::size_t n, std::size_t p, const StreamingRidgeOptions& o, std::size_t chunks, Body body) {
  const std::size_t B = o.block_samples, blocks = (n + B - 1) / B;
  const int threads = o.threads > 0 ? o.threads : omp_get_max_threads();
  pin_blas_to_one_thread();
  struct Buffers {  // p x B doubles per thread: with many features this may not fit
    std::vector<double> PhiT, y;
  };
  parallel_for_blocks(
      threads, chunks, [&] { return Buffers{std::vector<double>(p * B), std::vector<double>(B)}; },
      [&](std::size_t c, Buffers& w) { body(c, c * blocks / chunks, (c + 1) * blocks / chunks, w.PhiT.data(), w.y.data()); });
}

// Calls the source for block b and checks what it wrote.
std::size_t fetch_block(const FeatureBlockSource& source, std::size_t n, std::size_t p, std::size_t B, std::size_t b,
                        double* PhiT, double* y) {
  const std::size_t first = b * B, count = std::min(B, n - first);
  source(first, count, PhiT, y);
  bool finite = true;
  for (std::size_t t = 0; t < p * count && finite; ++t) finite = std::isfinite(PhiT[t]);
  for (std::size_t t = 0; t < count && finite; ++t) finite = std::isfinite(y[t]);
  if (!finite)
    throw InputError("streaming ridge: the source wrote NaN or infinite features or responses for samples [" +
                     std::to_string(first) + ", " + std::to_string(first + count) +
                     ") (e.g. exp scores overflowing); all must be finite");
  return count;
}

// sum over samples of (y_s - phi_s^T w)^2, one more pass over the source in the fixed chunks.
double streamed_rss(std::size_t n, std::size_t p, const FeatureBlockSource& source, const StreamingRidgeOptions& o,
                    const arma::vec& w) {
  const std::size_t B = o.block_samples, blocks = (n + B - 1) / B, chunks = chunk_count(p, blocks);
  std::vector<double> partial(chunks, 0.0);
  for_each_chunk(n, p, o, chunks, [&](std::size_t c, std::size_t b0, std::size_t b1, double* PhiT, double* y) {
    arma::vec r;
    for (std::size_t b = b0; b < b1; ++b) {
      const std::size_t count = fetch_block(source, n, p, B, b, PhiT, y);
      const arma::mat F(PhiT, p, count, false, true);
      r = F.t() * w;  // gemv, BLAS pinned to one thread
      for (std::size_t s = 0; s < count; ++s) partial[c] += (y[s] - r[s]) * (y[s] - r[s]);
    }
  });
  double rss = 0.0;
  for (double v : partial) rss += v;  // chunk order
  return rss;
}

// Spectrum of G with b projected (the primal form of ridge.cpp's).
GramSpectrum spectrum(const RidgeNormalEquations& ne) {
  return detail::gram_spectrum(ne.G, ne.b, ne.n, RidgeForm::primal);
}

// yy - sum_{range} c_j^2 (clamped at 0): r_perp by subtraction.
double r_perp_by_subtraction(const GramSpectrum& sp, double yy) {
  double fitted = 0.0;
  for (arma::uword j = sp.first; j < sp.s.n_elem; ++j) fitted += sp.c2(j);
  return std::max(yy - fitted, 0.0);
}

double rss_from_normal_equations(const RidgeNormalEquations& ne, const arma::vec& w) {
  return std::max(ne.yy - 2.0 * arma::dot(w, ne.b) + arma::dot(w, ne.G * w), 0.0);
}

}  // namespace

RidgeNormalEquations accumulate_ridge_normal_equations(std::size_t n, std::size_t p, const FeatureBlockSource& source,
                                                       const StreamingRidgeOptions& options) {
  check_stream(n, p, options, "accumulate_ridge_normal_equations");
  if (!source) throw InputError("accumulate_ridge_normal_equations: the feature source is empty");
  const std::size_t B = options.block_samples, blocks = (n + B - 1) / B, chunks = chunk_count(p, blocks);
  struct Partial {
    arma::mat G;
    arma::vec b;
    double yy = 0.0;
  };
  std::vector<Partial> parts(chunks);
  for_each_chunk(n, p, options, chunks, [&](std::size_t c, std::size_t b0, std::size_t b1, double* PhiT, double* y) {
    Partial& part = parts[c];
    part.G.zeros(p, p);
    part.b.zeros(p);
    for (std::size_t blk = b0; blk < b1; ++blk) {
      const std::size_t count = fetch_block(source, n, p, B, blk, PhiT, y);
      syrk_upper_add(PhiT, static_cast<int>(p), static_cast<int>(count), 1.0, part.G.memptr());
      const arma::mat F(PhiT, p, count, false, true);
      const arma::vec yb(y, count, false, true);
      part.b += F * yb;  // gemv, BLAS pinned to one thread
      for (std::size_t s = 0; s < count; ++s) part.yy += y[s] * y[s];
    }
  });
  // Chunk order; the first chunk's sums are taken over (0 + x = x, so the bits equal a sum from zero).
  RidgeNormalEquations ne;
  ne.n = n;
  ne.G = std::move(parts[0].G);
  ne.b = std::move(parts[0].b);
  ne.yy = parts[0].yy;
  for (std::size_t c = 1; c < chunks; ++c) {
    ne.G += parts[c].G;
    parts[c].G.reset();  // release as we go: peak stays at the partial sums
    ne.b += parts[c].b;
    ne.yy += parts[c].yy;
  }
  symmetrise_from_upper(ne.G);
  return ne;
}

RidgeSolution ridge_solve_normal_equations(const RidgeNormalEquations& ne, double lambda, const RidgeOptions& options) {
  check_normal_equations(ne, "ridge_solve_normal_equations");
  check_lambda(lambda, "ridge_solve_normal_equations");
  if (options.form == RidgeForm::dual)
    throw InputError("ridge_solve_normal_equations: form = dual is not available from the normal equations; use "
                     "primal or automatic");
  const double nl = static_cast<double>(ne.n) * lambda;
  arma::mat A = ne.G;
  A.diag() += nl;
  arma::vec w = ne.b;
  double rcond = 0.0;
  RidgeSolution sol;
  if (detail::cholesky_solve_inplace(A, w, options.rcond_floor, rcond)) {
    sol.w = std::move(w);
    sol.lambda = lambda;
    sol.form = RidgeForm::primal;
    sol.solver = "cholesky";
    sol.rcond = rcond;
    sol.rank = ne.G.n_rows;
  } else {
    A.reset();
    const GramSpectrum sp = spectrum(ne);
    sol = detail::spectral_solution(sp, lambda);
    sol.solver = detail::min_norm_solver_name(sp.rank(), sp.s.n_elem);
    sol.fallback = true;
    if (rcond > 0.0) sol.rcond = std::min(sol.rcond, rcond);
  }
  sol.train_mse = rss_from_normal_equations(ne, sol.w) / static_cast<double>(ne.n);
  return sol;
}

LambdaSelection select_lambda_gcv(const RidgeNormalEquations& ne, const arma::vec& grid, double r_perp) {
  check_normal_equations(ne, "select_lambda_gcv");
  check_lambda_grid(grid, "select_lambda_gcv");
  if (!std::isfinite(r_perp))
    throw InputError("select_lambda_gcv: r_perp = " + detail::format_value(r_perp) + " is not allowed; need a finite value (< 0: compute it)");
  const GramSpectrum sp = spectrum(ne);
  const double rp = r_perp >= 0.0 ? r_perp : r_perp_by_subtraction(sp, ne.yy);
  return detail::gcv_selection(sp, rp, grid);
}

RidgeFit ridge_fit_streaming(std::size_t n, std::size_t p, const FeatureBlockSource& source, const RidgeFitOptions& fit,
                             const StreamingRidgeOptions& options) {
  check_stream(n, p, options, "ridge_fit_streaming");
  if (fit.rule == LambdaRule::kfold)
    throw InputError("ridge_fit_streaming: lambda rule kfold is not available when streaming (it refits every fold); "
                     "use fixed or gcv");
  if (fit.solve.form == RidgeForm::dual)
    throw InputError("ridge_fit_streaming: form = dual needs the n x n Gram matrix; streaming solves the primal "
                     "(use primal or automatic)");
  const arma::vec grid = searched_lambda_grid(fit);
  if (fit.rule == LambdaRule::fixed)
    check_lambda(fit.lambda, "ridge_fit_streaming");
  else
    check_lambda_grid(grid, "ridge_fit_streaming");

  const RidgeNormalEquations ne = accumulate_ridge_normal_equations(n, p, source, options);
  RidgeFit out;
  if (fit.rule == LambdaRule::fixed) {
    out.solution = ridge_solve_normal_equations(ne, fit.lambda, fit.solve);
    if (options.residual_pass)
      out.solution.train_mse = streamed_rss(n, p, source, options, out.solution.w) / static_cast<double>(n);
    out.selection = detail::fixed_selection(fit.lambda);
    return out;
  }
  const GramSpectrum sp = spectrum(ne);
  const double r_perp = options.residual_pass ? streamed_rss(n, p, source, options, detail::range_least_squares(sp))
                                              : r_perp_by_subtraction(sp, ne.yy);
  out.selection = detail::gcv_selection(sp, r_perp, grid);
  out.solution = detail::spectral_solution(sp, out.selection.lambda);
  out.solution.solver = "spectral";
  out.solution.train_mse = detail::gcv_parts(sp, r_perp, out.selection.lambda).first / static_cast<double>(n);
  return out;
}

}  // namespace attnrate
