#include "estimators/ridge/ridge.hpp"

#include <algorithm>
#include <sstream>
#include <cmath>
#include <utility>
#include <vector>

#include "estimators/common/enum_names.hpp"
#include "estimators/common/input_error.hpp"
#include "estimators/common/random.hpp"
#include "estimators/ridge/ridge_detail.hpp"

namespace attnrate {
namespace {

using detail::check_lambda;
using detail::format_value;
using detail::GramSpectrum;

void check_problem(const arma::mat& Phi, const arma::vec& y, const char* where) {
  if (Phi.n_rows == 0 || Phi.n_cols == 0)
    throw InputError(std::string(where) + ": feature matrix is empty (" + std::to_string(Phi.n_rows) + " x " +
                     std::to_string(Phi.n_cols) + "); need at least one sample and one feature");
  if (y.n_elem != Phi.n_rows)
    throw InputError(std::string(where) + ": y has " + std::to_string(y.n_elem) +
                     " entries but the feature matrix has " + std::to_string(Phi.n_rows) +
                     " rows; they must be equal");
  if (!y.is_finite()) throw InputError(std::string(where) + ": y contains NaN or infinite values; all must be finite");
  if (!std::isfinite(arma::dot(y, y))) {  // every risk and lambda score below would be inf or NaN
    std::ostringstream m;
    m.precision(3);
    m << where << ": y is so large that its squares overflow (largest |y| = " << arma::abs(y).max()
      << "); rescale y (|y| must stay far below 1e154)";
    throw InputError(m.str());
  }
  if (!Phi.is_finite())
    throw InputError(std::string(where) +
                     ": feature matrix contains NaN or infinite values (e.g. exp scores overflowing); all must be "
                     "finite");
}

RidgeForm resolve(RidgeForm form, std::size_t n, std::size_t p) {
  if (form != RidgeForm::automatic) return form;
  return p <= n ? RidgeForm::primal : RidgeForm::dual;
}

// Gram matrix of the form (full symmetric; Armadillo maps A.t()*A and A*A.t() to syrk).
arma::mat gram(const arma::mat& Phi, RidgeForm form) {
  arma::mat G = form == RidgeForm::primal ? arma::mat(Phi.t() * Phi) : arma::mat(Phi * Phi.t());
  // Finite features whose products overflow (|feature| > ~1e154): say so, rather than let LAPACK
  // fail on infinities further down.
  if (!G.is_finite()) {
    std::ostringstream m;
    m.precision(3);
    m << "ridge: the Gram matrix of the features overflows (largest |feature| = " << arma::abs(Phi).max()
      << "); rescale the features or the inputs (e.g. exp scores of large weights or inputs)";
    throw InputError(m.str());
  }
  return G;
}

// Eigendecomposition of the Gram matrix of one form, with y projected on its eigenvectors.
GramSpectrum spectral(const arma::mat& Phi, const arma::vec& y, RidgeForm form) {
  arma::mat K = gram(Phi, form);
  return detail::gram_spectrum(std::move(K), form == RidgeForm::dual ? y : arma::vec(Phi.t() * y), Phi.n_rows, form);
}

// ||y - projection of y on the range of Phi||^2: the null directions of U^T y in the dual; the
// least-squares residual computed directly (not by cancellation) in the primal.
double range_residual(const GramSpectrum& sp, const arma::mat& Phi, const arma::vec& y) {
  if (sp.form == RidgeForm::primal) return arma::accu(arma::square(y - Phi * detail::range_least_squares(sp)));
  double r_perp = 0.0;
  for (arma::uword j = 0; j < sp.first; ++j) r_perp += sp.proj[j] * sp.proj[j];
  return r_perp;
}

// Ridge solution from the spectrum, on the numerical range only (minimum norm for lambda = 0).
RidgeSolution spectral_solve(const GramSpectrum& sp, const arma::mat& Phi, double lambda) {
  RidgeSolution sol = detail::spectral_solution(sp, lambda);
  if (sp.form == RidgeForm::dual)  // sol.w holds the dual coefficients
    sol.w = sol.rank == 0 ? arma::vec(Phi.n_cols, arma::fill::zeros) : arma::vec(Phi.t() * sol.w);
  return sol;
}

void finish(RidgeSolution& sol, const arma::mat& Phi, const arma::vec& y) {
  sol.train_mse = arma::accu(arma::square(y - Phi * sol.w)) / static_cast<double>(y.n_elem);
}

}  // namespace

const char* to_string(RidgeForm form) noexcept {
  static constexpr auto names = enum_names<RidgeForm>({"automatic", "primal", "dual"});
  return names.name(form);
}

const char* to_string(LambdaRule rule) noexcept {
  static constexpr auto names = enum_names<LambdaRule>({"fixed", "gcv", "kfold"});
  return names.name(rule);
}

RidgeSolution ridge_solve(const arma::mat& Phi, const arma::vec& y, double lambda, const RidgeOptions& options) {
  check_problem(Phi, y, "ridge_solve");
  check_lambda(lambda, "ridge_solve");
  const std::size_t n = Phi.n_rows, p = Phi.n_cols;
  const RidgeForm form = resolve(options.form, n, p);
  const double nl = static_cast<double>(n) * lambda;

  RidgeSolution sol;
  // lambda = 0 in the dual: Phi Phi^T is singular whenever p < n and at best as ill-conditioned
  // as Phi squared otherwise, so go straight to the minimum-norm solution.
  if (!(form == RidgeForm::dual && lambda == 0.0)) {
    arma::mat A = gram(Phi, form);
    A.diag() += nl;
    arma::vec b = form == RidgeForm::primal ? arma::vec(Phi.t() * y) : y;
    double rcond = 0.0;
    if (detail::cholesky_solve_inplace(A, b, options.rcond_floor, rcond)) {
      sol.w = form == RidgeForm::primal ? std::move(b) : arma::vec(Phi.t() * b);
      sol.lambda = lambda;
      sol.form = form;
      sol.solver = "cholesky";
      sol.rcond = rcond;
      sol.rank = A.n_rows;
      finish(sol, Phi, y);
      return sol;
    }
    sol.rcond = rcond;
  }
  const double rcond_chol = sol.rcond;
  const GramSpectrum sp = spectral(Phi, y, form);
  sol = spectral_solve(sp, Phi, lambda);
  sol.solver = detail::min_norm_solver_name(sp.rank(), sp.s.n_elem);
  sol.fallback = true;
  if (rcond_chol > 0.0) sol.rcond = std::min(sol.rcond, rcond_chol);
  finish(sol, Phi, y);
  return sol;
}

LambdaSelection lambda_selection(LambdaRule rule, GridMinimum m) {
  LambdaSelection sel;
  sel.rule = rule;
  sel.grid = std::move(m.grid);
  sel.scores = std::move(m.scores);
  sel.best = m.best;
  sel.lambda = m.lambda;
  sel.at_edge = m.at_edge;
  return sel;
}

arma::vec log_lambda_grid(double lo, double hi, std::size_t points) {
  if (!(lo > 0.0) || !std::isfinite(lo) || !(hi >= lo) || !std::isfinite(hi))
    throw InputError("log_lambda_grid: range [" + format_value(lo) + ", " + format_value(hi) +
                     "] is not allowed; need finite 0 < lo <= hi");
  if (points == 0) throw InputError("log_lambda_grid: points = 0; need at least 1");
  arma::vec g(points);
  const double a = std::log(lo), b = std::log(hi);
  for (std::size_t t = 0; t < points; ++t)
    g[t] = points == 1 ? lo : std::exp(a + (b - a) * static_cast<double>(t) / static_cast<double>(points - 1));
  g[0] = lo;
  if (points > 1) g[points - 1] = hi;
  return g;
}

LambdaSelection select_lambda_gcv(const arma::mat& Phi, const arma::vec& y, const arma::vec& grid, RidgeForm form) {
  check_problem(Phi, y, "select_lambda_gcv");
  detail::check_lambda_grid(grid, "select_lambda_gcv");
  const GramSpectrum sp = spectral(Phi, y, resolve(form, Phi.n_rows, Phi.n_cols));
  return detail::gcv_selection(sp, range_residual(sp, Phi, y), grid);
}

arma::uvec kfold_assignment(std::size_t n, int k, std::uint64_t seed) {
  if (k < 2 || static_cast<std::size_t>(k) > n)
    throw InputError("kfold_assignment: folds = " + std::to_string(k) + " is not allowed for " + std::to_string(n) +
                     " samples; need 2 <= folds <= n");
  std::vector<arma::uword> perm(n);
  for (std::size_t i = 0; i < n; ++i) perm[i] = i;
  Rng rng(seed);
  for (std::size_t i = n - 1; i > 0; --i) std::swap(perm[i], perm[rng.below(i + 1)]);  // Fisher-Yates
  arma::uvec fold(n);
  for (std::size_t t = 0; t < n; ++t) fold[perm[t]] = t % static_cast<std::size_t>(k);
  return fold;
}

LambdaSelection select_lambda_kfold(const arma::mat& Phi, const arma::vec& y, const arma::vec& grid, int k,
                                    std::uint64_t seed, RidgeForm form_in) {
  check_problem(Phi, y, "select_lambda_kfold");
  detail::check_lambda_grid(grid, "select_lambda_kfold");
  const std::size_t n = Phi.n_rows;
  const arma::uvec fold = kfold_assignment(n, k, seed);
  const RidgeForm form = resolve(form_in, n, Phi.n_cols);
  // Each fold's training Gram eigendecomposition, kept so that any lambda (the grid and its
  // extension past an end) is scored without refitting.
  struct Fold {
    arma::vec s, proj, yte;
    arma::mat B;  // maps coefficients in the eigenbasis to held-out predictions
    double ntr = 0.0;
  };
  std::vector<Fold> folds(static_cast<std::size_t>(k));
  arma::mat K;
  if (form == RidgeForm::dual) K = gram(Phi, form);  // every fold's kernels are submatrices of K
  for (int f = 0; f < k; ++f) {
    Fold& F = folds[static_cast<std::size_t>(f)];
    const arma::uvec te = arma::find(fold == static_cast<arma::uword>(f));
    const arma::uvec tr = arma::find(fold != static_cast<arma::uword>(f));
    F.ntr = static_cast<double>(tr.n_elem);
    const arma::vec ytr = y.elem(tr);
    F.yte = y.elem(te);
    arma::mat E;  // eigenvectors of the training Gram matrix
    if (form == RidgeForm::dual) {
      E = K.submat(tr, tr);
      detail::eig_sym_inplace(E, F.s);
      F.proj = E.t() * ytr;
      F.B = K.submat(te, tr) * E;
    } else {
      const arma::mat Ptr = Phi.rows(tr);
      E = Ptr.t() * Ptr;
      detail::eig_sym_inplace(E, F.s);
      F.proj = E.t() * (Ptr.t() * ytr);
      F.B = Phi.rows(te) * E;
    }
    F.s.transform([](double v) { return v > 0.0 ? v : 0.0; });
  }
  const auto score = [&](double lambda) {
    double sse = 0.0;
    for (const Fold& F : folds) {
      const arma::vec pred = F.B * (F.proj / (F.s + F.ntr * lambda));
      sse += arma::accu(arma::square(F.yte - pred));
    }
    return sse / static_cast<double>(n);
  };
  return lambda_selection(LambdaRule::kfold, minimise_on_grid(grid, score));
}

arma::vec searched_lambda_grid(const RidgeFitOptions& options) {
  return options.grid.is_empty() ? log_lambda_grid() : options.grid;
}

RidgeFit ridge_fit(const arma::mat& Phi, const arma::vec& y, const RidgeFitOptions& options) {
  const arma::vec grid = searched_lambda_grid(options);
  RidgeFit fit;
  switch (options.rule) {
    case LambdaRule::fixed:
      fit.solution = ridge_solve(Phi, y, options.lambda, options.solve);
      fit.selection = detail::fixed_selection(options.lambda);
      return fit;
    case LambdaRule::gcv: {
      check_problem(Phi, y, "ridge_fit");
      detail::check_lambda_grid(grid, "ridge_fit");
      const GramSpectrum sp = spectral(Phi, y, resolve(options.solve.form, Phi.n_rows, Phi.n_cols));
      fit.selection = detail::gcv_selection(sp, range_residual(sp, Phi, y), grid);
      fit.solution = spectral_solve(sp, Phi, fit.selection.lambda);
      fit.solution.solver = "spectral";
      finish(fit.solution, Phi, y);
      return fit;
    }
    case LambdaRule::kfold:
      fit.selection = select_lambda_kfold(Phi, y, grid, options.folds, options.fold_seed, options.solve.form);
      fit.solution = ridge_solve(Phi, y, fit.selection.lambda, options.solve);
      return fit;
  }
  throw InputError("ridge_fit: unknown lambda rule");
}

}  // namespace attnrate
