#include "estimators/ridge.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <utility>
#include <vector>

#include "estimators/input_error.hpp"
#include "estimators/random.hpp"

namespace attnrate {
namespace {

using arma::blas_int;
constexpr double kEps = std::numeric_limits<double>::epsilon();

std::string num(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

void check_problem(const arma::mat& Phi, const arma::vec& y, const char* where) {
  if (Phi.n_rows == 0 || Phi.n_cols == 0)
    throw InputError(std::string(where) + ": feature matrix is empty (" + std::to_string(Phi.n_rows) + " x " +
                     std::to_string(Phi.n_cols) + "); need at least one sample and one feature");
  if (y.n_elem != Phi.n_rows)
    throw InputError(std::string(where) + ": y has " + std::to_string(y.n_elem) +
                     " entries but the feature matrix has " + std::to_string(Phi.n_rows) +
                     " rows; they must be equal");
  if (!y.is_finite()) throw InputError(std::string(where) + ": y contains NaN or infinite values; all must be finite");
  if (!Phi.is_finite())
    throw InputError(std::string(where) +
                     ": feature matrix contains NaN or infinite values (e.g. exp scores overflowing); all must be "
                     "finite");
}

void check_lambda(double lambda, const char* where) {
  if (!(lambda >= 0.0) || !std::isfinite(lambda))
    throw InputError(std::string(where) + ": lambda = " + num(lambda) + " is not allowed; need a finite lambda >= 0");
}

void check_grid(const arma::vec& grid, const char* where) {
  if (grid.is_empty()) throw InputError(std::string(where) + ": the lambda grid is empty; give at least one value");
  for (double g : grid)
    if (!(g > 0.0) || !std::isfinite(g))
      throw InputError(std::string(where) + ": lambda grid value " + num(g) +
                       " is not allowed; grid values must be finite and > 0");
}

RidgeForm resolve(RidgeForm form, std::size_t n, std::size_t p) {
  if (form != RidgeForm::automatic) return form;
  return p <= n ? RidgeForm::primal : RidgeForm::dual;
}

// Gram matrix of the form (full symmetric; Armadillo maps A.t()*A and A*A.t() to syrk).
arma::mat gram(const arma::mat& Phi, RidgeForm form) {
  return form == RidgeForm::primal ? arma::mat(Phi.t() * Phi) : arma::mat(Phi * Phi.t());
}

double one_norm_symmetric(const arma::mat& A) {
  double best = 0.0;
  for (arma::uword j = 0; j < A.n_cols; ++j) best = std::max(best, arma::accu(arma::abs(A.col(j))));
  return best;
}

// Cholesky of A (overwritten with its factor), rcond estimate, then b <- A^{-1} b.
// Returns false (b untouched) when A is not numerically positive definite or rcond < floor.
bool cholesky_solve_inplace(arma::mat& A, arma::vec& b, double floor, double& rcond) {
  char uplo = 'U';
  blas_int n = static_cast<blas_int>(A.n_rows), info = 0, nrhs = 1;
  const double anorm = one_norm_symmetric(A);
  arma::lapack::potrf(&uplo, &n, A.memptr(), &n, &info);
  rcond = 0.0;
  if (info != 0) return false;
  std::vector<double> work(3 * static_cast<std::size_t>(n));
  std::vector<blas_int> iwork(n);
  arma::lapack::pocon(&uplo, &n, A.memptr(), &n, &anorm, &rcond, work.data(), iwork.data(), &info);
  if (info != 0 || !(rcond >= floor)) return false;
  arma::lapack::potrs(&uplo, &n, &nrhs, A.memptr(), &n, b.memptr(), &n, &info);
  return info == 0;
}

// Symmetric eigendecomposition in place (A becomes the eigenvectors), eigenvalues ascending.
void eig_sym_inplace(arma::mat& A, arma::vec& s) {
  char jobz = 'V', uplo = 'U';
  blas_int n = static_cast<blas_int>(A.n_rows), info = 0, lwork = -1, liwork = -1, iwq = 0;
  s.set_size(A.n_rows);
  double wq = 0.0;
  arma::lapack::syevd(&jobz, &uplo, &n, A.memptr(), &n, s.memptr(), &wq, &lwork, &iwq, &liwork, &info);
  lwork = static_cast<blas_int>(wq);
  liwork = iwq;
  std::vector<double> work(static_cast<std::size_t>(std::max<blas_int>(lwork, 1)));
  std::vector<blas_int> iwork(static_cast<std::size_t>(std::max<blas_int>(liwork, 1)));
  arma::lapack::syevd(&jobz, &uplo, &n, A.memptr(), &n, s.memptr(), work.data(), &lwork, iwork.data(), &liwork,
                      &info);
  if (info != 0) throw std::runtime_error("ridge: LAPACK dsyevd failed (info " + std::to_string(info) + ")");
}

// Eigendecomposition of the Gram matrix of one form, with y projected on its eigenvectors.
struct Spectral {
  RidgeForm form = RidgeForm::primal;
  std::size_t n = 0;
  arma::vec s;           // eigenvalues, ascending, clamped at 0
  arma::mat E;           // eigenvectors: U (n x n, dual) or V (p x p, primal)
  arma::vec proj;        // dual: U^T y; primal: V^T Phi^T y
  arma::uword first = 0; // eigen-directions j >= first have s_j > tol (the numerical range)
  double r_perp = 0.0;   // ||y - projection of y on the range of Phi||^2 (only when requested)
  arma::uword rank() const { return s.n_elem - first; }
};

Spectral spectral(const arma::mat& Phi, const arma::vec& y, RidgeForm form, bool need_residual) {
  Spectral sp;
  sp.form = form;
  sp.n = Phi.n_rows;
  sp.E = gram(Phi, form);
  eig_sym_inplace(sp.E, sp.s);
  sp.s.transform([](double v) { return v > 0.0 ? v : 0.0; });
  const double tol = static_cast<double>(sp.s.n_elem) * kEps * (sp.s.n_elem ? sp.s.max() : 0.0);
  while (sp.first < sp.s.n_elem && !(sp.s[sp.first] > tol)) ++sp.first;
  if (form == RidgeForm::dual) {
    sp.proj = sp.E.t() * y;
    if (need_residual)
      for (arma::uword j = 0; j < sp.first; ++j) sp.r_perp += sp.proj[j] * sp.proj[j];
  } else {
    sp.proj = sp.E.t() * (Phi.t() * y);
    if (need_residual) {
      const arma::uword r = sp.rank(), p = sp.s.n_elem;
      arma::vec w_ls(Phi.n_cols, arma::fill::zeros);
      if (r > 0)
        w_ls = sp.E.cols(sp.first, p - 1) * (sp.proj.subvec(sp.first, p - 1) / sp.s.subvec(sp.first, p - 1));
      sp.r_perp = arma::accu(arma::square(y - Phi * w_ls));
    }
  }
  return sp;
}

double gcv_score(const Spectral& sp, double lambda) {
  const double nl = static_cast<double>(sp.n) * lambda;
  double res = sp.r_perp, den = static_cast<double>(sp.n - sp.rank());  // null directions: H-eigenvalue 0
  for (arma::uword j = sp.first; j < sp.s.n_elem; ++j) {
    const double shrink = nl / (sp.s[j] + nl);  // 1 - H-eigenvalue
    const double c2 = sp.form == RidgeForm::dual ? sp.proj[j] * sp.proj[j] : sp.proj[j] * sp.proj[j] / sp.s[j];
    res += shrink * shrink * c2;
    den += shrink;
  }
  den /= static_cast<double>(sp.n);
  return res / static_cast<double>(sp.n) / (den * den);
}

// Ridge solution from the spectrum, on the numerical range only (minimum norm for lambda = 0).
RidgeSolution spectral_solve(const Spectral& sp, const arma::mat& Phi, double lambda) {
  const double nl = static_cast<double>(sp.n) * lambda;
  const arma::uword m = sp.s.n_elem, r = sp.rank();
  RidgeSolution sol;
  sol.lambda = lambda;
  sol.form = sp.form;
  sol.rank = r;
  sol.rcond = m ? (sp.s[0] + nl) / (sp.s[m - 1] + nl) : 0.0;
  if (!(sol.rcond >= 0.0)) sol.rcond = 0.0;  // 0/0 when Phi = 0 and lambda = 0
  sol.w.zeros(Phi.n_cols);
  if (r == 0) return sol;
  const arma::vec coef = sp.proj.subvec(sp.first, m - 1) / (sp.s.subvec(sp.first, m - 1) + nl);
  const arma::vec t = sp.E.cols(sp.first, m - 1) * coef;
  sol.w = sp.form == RidgeForm::dual ? arma::vec(Phi.t() * t) : t;
  return sol;
}

void finish(RidgeSolution& sol, const arma::mat& Phi, const arma::vec& y) {
  sol.train_mse = arma::accu(arma::square(y - Phi * sol.w)) / static_cast<double>(y.n_elem);
}

std::string min_norm_name(arma::uword rank, arma::uword m) {
  return "min-norm (rank " + std::to_string(rank) + " of " + std::to_string(m) + ")";
}

}  // namespace

const char* to_string(RidgeForm form) noexcept {
  switch (form) {
    case RidgeForm::automatic: return "automatic";
    case RidgeForm::primal: return "primal";
    case RidgeForm::dual: return "dual";
  }
  return "?";
}

const char* to_string(LambdaRule rule) noexcept {
  switch (rule) {
    case LambdaRule::fixed: return "fixed";
    case LambdaRule::gcv: return "gcv";
    case LambdaRule::kfold: return "kfold";
  }
  return "?";
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
    if (cholesky_solve_inplace(A, b, options.rcond_floor, rcond)) {
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
  const Spectral sp = spectral(Phi, y, form, false);
  sol = spectral_solve(sp, Phi, lambda);
  sol.solver = min_norm_name(sp.rank(), sp.s.n_elem);
  sol.fallback = true;
  if (rcond_chol > 0.0) sol.rcond = std::min(sol.rcond, rcond_chol);
  finish(sol, Phi, y);
  return sol;
}

arma::vec log_lambda_grid(double lo, double hi, std::size_t points) {
  if (!(lo > 0.0) || !std::isfinite(lo) || !(hi >= lo) || !std::isfinite(hi))
    throw InputError("log_lambda_grid: range [" + num(lo) + ", " + num(hi) +
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
  check_grid(grid, "select_lambda_gcv");
  const Spectral sp = spectral(Phi, y, resolve(form, Phi.n_rows, Phi.n_cols), true);
  LambdaSelection sel;
  sel.rule = LambdaRule::gcv;
  sel.grid = grid;
  sel.scores.set_size(grid.n_elem);
  for (arma::uword t = 0; t < grid.n_elem; ++t) sel.scores[t] = gcv_score(sp, grid[t]);
  sel.best = sel.scores.index_min();
  sel.lambda = grid[sel.best];
  return sel;
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
  check_grid(grid, "select_lambda_kfold");
  const std::size_t n = Phi.n_rows;
  const arma::uvec fold = kfold_assignment(n, k, seed);
  const RidgeForm form = resolve(form_in, n, Phi.n_cols);
  arma::vec sse(grid.n_elem, arma::fill::zeros);
  arma::mat K;
  if (form == RidgeForm::dual) K = gram(Phi, form);  // every fold's kernels are submatrices of K
  for (int f = 0; f < k; ++f) {
    const arma::uvec te = arma::find(fold == static_cast<arma::uword>(f));
    const arma::uvec tr = arma::find(fold != static_cast<arma::uword>(f));
    const double ntr = static_cast<double>(tr.n_elem);
    const arma::vec ytr = y.elem(tr), yte = y.elem(te);
    arma::mat E;  // eigenvectors of the training Gram matrix
    arma::vec s, proj;
    arma::mat B;  // maps coefficients in the eigenbasis to held-out predictions
    if (form == RidgeForm::dual) {
      E = K.submat(tr, tr);
      eig_sym_inplace(E, s);
      proj = E.t() * ytr;
      B = K.submat(te, tr) * E;
    } else {
      const arma::mat Ptr = Phi.rows(tr);
      E = Ptr.t() * Ptr;
      eig_sym_inplace(E, s);
      proj = E.t() * (Ptr.t() * ytr);
      B = Phi.rows(te) * E;
    }
    s.transform([](double v) { return v > 0.0 ? v : 0.0; });
    for (arma::uword t = 0; t < grid.n_elem; ++t) {
      const arma::vec pred = B * (proj / (s + ntr * grid[t]));
      sse[t] += arma::accu(arma::square(yte - pred));
    }
  }
  LambdaSelection sel;
  sel.rule = LambdaRule::kfold;
  sel.grid = grid;
  sel.scores = sse / static_cast<double>(n);
  sel.best = sel.scores.index_min();
  sel.lambda = grid[sel.best];
  return sel;
}

RidgeFit ridge_fit(const arma::mat& Phi, const arma::vec& y, const RidgeFitOptions& options) {
  const arma::vec grid = options.grid.is_empty() ? log_lambda_grid() : options.grid;
  RidgeFit fit;
  switch (options.rule) {
    case LambdaRule::fixed:
      fit.solution = ridge_solve(Phi, y, options.lambda, options.solve);
      fit.selection.rule = LambdaRule::fixed;
      fit.selection.grid = arma::vec{options.lambda};
      fit.selection.lambda = options.lambda;
      return fit;
    case LambdaRule::gcv: {
      check_problem(Phi, y, "ridge_fit");
      check_grid(grid, "ridge_fit");
      const Spectral sp = spectral(Phi, y, resolve(options.solve.form, Phi.n_rows, Phi.n_cols), true);
      fit.selection.rule = LambdaRule::gcv;
      fit.selection.grid = grid;
      fit.selection.scores.set_size(grid.n_elem);
      for (arma::uword t = 0; t < grid.n_elem; ++t) fit.selection.scores[t] = gcv_score(sp, grid[t]);
      fit.selection.best = fit.selection.scores.index_min();
      fit.selection.lambda = grid[fit.selection.best];
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
