// Ridge solver: primal = dual, normal equations, closed forms, GCV shortcut vs explicit hat
// matrix, k-fold vs explicit refits, minimum-norm fallback, input validation.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

#include "estimators/common/input_error.hpp"
#include "estimators/common/random.hpp"
#include "estimators/ridge/ridge.hpp"

using namespace attnrate;

namespace {

arma::mat gaussian(arma::uword r, arma::uword c, std::uint64_t seed) {
  Rng rng(seed);
  arma::mat A(r, c);
  for (double& v : A) v = rng.normal();
  return A;
}

double rel(const arma::vec& a, const arma::vec& b) { return arma::norm(a - b) / std::max(arma::norm(b), 1e-300); }

// GCV from the explicit hat matrix H = Phi (Phi^T Phi + n lambda I)^{-1} Phi^T.
double gcv_bruteforce(const arma::mat& Phi, const arma::vec& y, double lambda) {
  const double n = Phi.n_rows;
  const arma::mat A = Phi.t() * Phi + n * lambda * arma::eye(Phi.n_cols, Phi.n_cols);
  const arma::mat H = Phi * arma::solve(A, Phi.t());
  const arma::vec r = y - H * y;
  const double den = 1.0 - arma::trace(H) / n;
  return arma::dot(r, r) / n / (den * den);
}

struct Shape {
  arma::uword n, p;
};

}  // namespace

TEST_CASE("primal and dual ridge give the same coefficients", "[ridge]") {
  const Shape shapes[] = {{60, 20}, {20, 60}, {40, 40}, {200, 7}, {7, 200}, {1, 5}, {5, 1}};
  std::uint64_t seed = 1;
  for (const Shape& sh : shapes)
    for (double lambda : {1e-6, 1e-2, 1.0}) {
      const arma::mat Phi = gaussian(sh.n, sh.p, seed++);
      const arma::vec y = gaussian(sh.n, 1, seed++);
      const RidgeSolution pr = ridge_solve(Phi, y, lambda, {RidgeForm::primal});
      const RidgeSolution du = ridge_solve(Phi, y, lambda, {RidgeForm::dual});
      INFO("n " << sh.n << " p " << sh.p << " lambda " << lambda << " rcond " << pr.rcond << " / " << du.rcond);
      CHECK(pr.form == RidgeForm::primal);
      CHECK(du.form == RidgeForm::dual);
      CHECK(pr.solver == "cholesky");
      CHECK(du.solver == "cholesky");
      CHECK_FALSE(pr.fallback);
      // Both solve the same problem, each to a relative forward error of order kappa u (kappa
      // = 1 / rcond of its system, u the unit roundoff; rcond is an estimate, hence the 10): a
      // fixed 1e-8 failed at kappa 3e8 (n 7, p 200, lambda 1e-6) with some BLAS kernels.
      const double kappa = 1.0 / std::min(pr.rcond, du.rcond);
      REQUIRE(kappa < 1e12);  // else the bound below would allow any difference
      CHECK(rel(du.w, pr.w) < 10.0 * kappa * std::numeric_limits<double>::epsilon());
      CHECK(rel(Phi * du.w, Phi * pr.w) < 1e-8);
      const RidgeSolution au = ridge_solve(Phi, y, lambda);
      CHECK(au.form == (sh.p <= sh.n ? RidgeForm::primal : RidgeForm::dual));
    }
}

TEST_CASE("ridge solution satisfies the normal equations", "[ridge]") {
  const Shape shapes[] = {{80, 30}, {30, 80}, {50, 50}};
  std::uint64_t seed = 100;
  for (const Shape& sh : shapes)
    // The library's choice (automatic) and the primal are backward stable for every shape; a
    // forced dual on a tall problem is not (its multipliers grow like 1/(n lambda)), and is
    // checked against the primal in the test above instead.
    for (RidgeForm form : {RidgeForm::automatic, RidgeForm::primal})
      for (double lambda : {1e-5, 0.3}) {
        const arma::mat Phi = gaussian(sh.n, sh.p, seed++);
        const arma::vec y = gaussian(sh.n, 1, seed++);
        const RidgeSolution s = ridge_solve(Phi, y, lambda, {form});
        const arma::mat A = Phi.t() * Phi + sh.n * lambda * arma::eye(sh.p, sh.p);
        const arma::vec b = Phi.t() * y;
        // Normwise backward error of (A, b): small for a backward-stable solve.
        const double backward = arma::norm(A * s.w - b) / (arma::norm(A, 2) * arma::norm(s.w) + arma::norm(b));
        INFO("n " << sh.n << " p " << sh.p << " form " << to_string(form) << " lambda " << lambda);
        CHECK(backward < 1e-13);
        CHECK(std::abs(s.train_mse - arma::mean(arma::square(y - Phi * s.w))) < 1e-14);
      }
}

TEST_CASE("ridge on an orthogonal design has its closed form", "[ridge]") {
  const double c = 1.7, lambda = 0.05;
  SECTION("orthonormal columns (p <= n): Phi^T Phi = n c^2 I") {
    const arma::uword n = 40, p = 9;
    arma::mat Q, R;
    arma::qr_econ(Q, R, gaussian(n, p, 7));
    const arma::mat Phi = c * std::sqrt(double(n)) * Q;
    const arma::vec y = gaussian(n, 1, 8);
    const arma::vec expect = Phi.t() * y / (n * (c * c + lambda));
    for (RidgeForm form : {RidgeForm::primal, RidgeForm::dual})
      CHECK(rel(ridge_solve(Phi, y, lambda, {form}).w, expect) < 1e-12);
  }
  SECTION("orthonormal rows (p > n): Phi Phi^T = p c^2 I") {
    const arma::uword n = 9, p = 40;
    arma::mat Q, R;
    arma::qr_econ(Q, R, gaussian(p, n, 9));
    const arma::mat Phi = c * std::sqrt(double(p)) * Q.t();
    const arma::vec y = gaussian(n, 1, 10);
    const arma::vec expect = Phi.t() * y / (p * c * c + n * lambda);
    for (RidgeForm form : {RidgeForm::primal, RidgeForm::dual})
      CHECK(rel(ridge_solve(Phi, y, lambda, {form}).w, expect) < 1e-12);
  }
}

TEST_CASE("GCV by the eigendecomposition equals GCV from the explicit hat matrix", "[ridge]") {
  struct Case {
    arma::uword n, p, rank;
  };
  const Case cases[] = {{50, 12, 12}, {12, 50, 12}, {40, 40, 40}, {30, 10, 4}, {10, 30, 4}};
  const arma::vec lambdas = {1e-4, 3e-3, 0.1, 2.0};
  std::uint64_t seed = 200;
  for (const Case& cs : cases) {
    // Rank-deficient designs are products of thin factors.
    const arma::mat Phi = gaussian(cs.n, cs.rank, seed) * gaussian(cs.rank, cs.p, seed + 1);
    const arma::vec y = gaussian(cs.n, 1, seed + 2);
    seed += 3;
    for (RidgeForm form : {RidgeForm::automatic, RidgeForm::primal, RidgeForm::dual}) {
      // The grid as scored: the given one, extended past an end where the minimum sits there.
      const LambdaSelection sel = select_lambda_gcv(Phi, y, lambdas, form);
      REQUIRE(sel.scores.n_elem == sel.grid.n_elem);
      REQUIRE(sel.grid.n_elem >= lambdas.n_elem);
      // Against the explicit hat matrix on the given points (the extension reaches penalties where
      // the explicit (n x n) inverse itself loses digits on the square full-rank case).
      const arma::uvec at = arma::find(sel.grid == lambdas[0]);
      REQUIRE(at.n_elem == 1);
      for (arma::uword t = 0; t < lambdas.n_elem; ++t) {
        const double brute = gcv_bruteforce(Phi, y, lambdas[t]);
        INFO("n " << cs.n << " p " << cs.p << " rank " << cs.rank << " form " << to_string(form) << " lambda "
                  << lambdas[t]);
        CHECK(sel.grid[at[0] + t] == lambdas[t]);
        CHECK(std::abs(sel.scores[at[0] + t] - brute) < 1e-9 * brute);
      }
      CHECK(sel.best == sel.scores.index_min());
      CHECK(sel.lambda == sel.grid[sel.best]);
    }
  }
}

TEST_CASE("ridge_fit with GCV solves at the selected lambda", "[ridge]") {
  for (const Shape sh : {Shape{120, 30}, Shape{30, 120}}) {
    const arma::mat Phi = gaussian(sh.n, sh.p, 300 + sh.n);
    const arma::vec wstar = gaussian(sh.p, 1, 301 + sh.n);
    const arma::vec y = Phi * wstar + 0.5 * gaussian(sh.n, 1, 302 + sh.n);
    RidgeFitOptions opt;
    opt.rule = LambdaRule::gcv;
    const RidgeFit fit = ridge_fit(Phi, y, opt);
    // The default grid, possibly extended past one end (by at most 4 decades of its own spacing).
    const arma::vec grid = log_lambda_grid();
    const arma::vec& g = fit.selection.grid;
    const arma::uvec at = arma::find(g == grid[0]);
    REQUIRE(at.n_elem == 1);
    REQUIRE(g.n_elem >= at[0] + 28);
    CHECK(arma::approx_equal(arma::vec(g.subvec(at[0], at[0] + 27)), grid, "reldiff", 1e-15));
    CHECK(g.n_elem <= 28 + 12);
    CHECK(fit.selection.scores.n_elem == g.n_elem);
    CHECK(fit.selection.lambda == g[fit.selection.scores.index_min()]);
    CHECK(fit.solution.lambda == fit.selection.lambda);
    CHECK(fit.solution.solver == "spectral");
    const RidgeSolution ref = ridge_solve(Phi, y, fit.selection.lambda);
    CHECK(rel(fit.solution.w, ref.w) < 1e-8);
    CHECK(rel(Phi * fit.solution.w, Phi * ref.w) < 1e-8);
  }
}

TEST_CASE("log lambda grid", "[ridge]") {
  const arma::vec g = log_lambda_grid(1e-8, 10.0, 28);
  REQUIRE(g.n_elem == 28);
  CHECK(g[0] == 1e-8);
  CHECK(g[27] == 10.0);
  const arma::vec ratios = g.tail(27) / g.head(27);
  CHECK(ratios.max() - ratios.min() < 1e-12 * ratios.max());
  CHECK(log_lambda_grid(0.5, 0.5, 1)[0] == 0.5);
}

TEST_CASE("k-fold assignment is balanced and seeded", "[ridge]") {
  const arma::uvec a = kfold_assignment(103, 5, 42);
  const arma::uvec b = kfold_assignment(103, 5, 42);
  const arma::uvec c = kfold_assignment(103, 5, 43);
  CHECK(arma::all(a == b));
  CHECK(arma::any(a != c));
  CHECK(a.max() == 4);
  for (arma::uword f = 0; f < 5; ++f) {
    const arma::uword size = arma::accu(a == f);
    CHECK((size == 20 || size == 21));
  }
}

TEST_CASE("k-fold scores equal explicit refits on each fold", "[ridge]") {
  const arma::vec grid = {1e-4, 1e-2, 1.0};
  for (const Shape sh : {Shape{60, 15}, Shape{25, 70}}) {
    const arma::mat Phi = gaussian(sh.n, sh.p, 400 + sh.n);
    const arma::vec y = Phi * gaussian(sh.p, 1, 401) + 0.3 * gaussian(sh.n, 1, 402);
    const int k = 4;
    const std::uint64_t seed = 9;
    const arma::uvec fold = kfold_assignment(sh.n, k, seed);
    arma::vec brute(grid.n_elem, arma::fill::zeros);
    for (arma::uword t = 0; t < grid.n_elem; ++t)
      for (int f = 0; f < k; ++f) {
        const arma::uvec te = arma::find(fold == arma::uword(f)), tr = arma::find(fold != arma::uword(f));
        const arma::vec w = ridge_solve(arma::mat(Phi.rows(tr)), arma::vec(y.elem(tr)), grid[t]).w;
        brute[t] += arma::accu(arma::square(y.elem(te) - Phi.rows(te) * w));
      }
    brute /= double(sh.n);
    for (RidgeForm form : {RidgeForm::automatic, RidgeForm::primal, RidgeForm::dual}) {
      const LambdaSelection sel = select_lambda_kfold(Phi, y, grid, k, seed, form);
      INFO("n " << sh.n << " p " << sh.p << " form " << to_string(form));
      // An extension past the low end shifts the original points.
      const arma::uvec at = arma::find(sel.grid == grid[0]);
      REQUIRE(at.n_elem == 1);
      for (arma::uword t = 0; t < grid.n_elem; ++t)
        CHECK(std::abs(sel.scores[at[0] + t] - brute[t]) < 1e-9 * brute[t]);
    }
    const LambdaSelection again = select_lambda_kfold(Phi, y, grid, k, seed);
    const LambdaSelection other = select_lambda_kfold(Phi, y, grid, k, seed + 1);
    CHECK(arma::all(again.scores == select_lambda_kfold(Phi, y, grid, k, seed).scores));
    CHECK(arma::any(again.scores != other.scores));

    RidgeFitOptions opt;
    opt.rule = LambdaRule::kfold;
    opt.grid = grid;
    opt.folds = k;
    opt.fold_seed = seed;
    const RidgeFit fit = ridge_fit(Phi, y, opt);
    if (brute.index_min() != 0 && brute.index_min() + 1 != brute.n_elem)
      CHECK(fit.selection.lambda == grid[brute.index_min()]);
    CHECK(fit.selection.scores[fit.selection.best] <= brute.min());
    CHECK(fit.solution.lambda == fit.selection.lambda);
  }
}

TEST_CASE("lambda = 0 gives least squares or the minimum-norm solution", "[ridge]") {
  SECTION("underdetermined: explicit min-norm fallback, equal to the pseudo-inverse") {
    const arma::mat Phi = gaussian(15, 40, 500);
    const arma::vec y = gaussian(15, 1, 501);
    const RidgeSolution s = ridge_solve(Phi, y, 0.0);
    CHECK(s.form == RidgeForm::dual);
    CHECK(s.fallback);
    CHECK(s.solver == "min-norm (rank 15 of 15)");
    CHECK(rel(s.w, arma::pinv(Phi) * y) < 1e-10);
    CHECK(s.train_mse < 1e-24);
  }
  SECTION("rank-deficient primal: Cholesky rejected, min-norm used") {
    const arma::mat Phi = gaussian(30, 3, 502) * gaussian(3, 8, 503);
    const arma::vec y = gaussian(30, 1, 504);
    const RidgeSolution s = ridge_solve(Phi, y, 0.0);
    CHECK(s.form == RidgeForm::primal);
    CHECK(s.fallback);
    CHECK(s.rank == 3);
    CHECK(rel(s.w, arma::pinv(Phi) * y) < 1e-8);
  }
  SECTION("full column rank: ordinary least squares by Cholesky") {
    const arma::mat Phi = gaussian(50, 6, 505);
    const arma::vec y = gaussian(50, 1, 506);
    const RidgeSolution s = ridge_solve(Phi, y, 0.0);
    CHECK(s.solver == "cholesky");
    CHECK_FALSE(s.fallback);
    CHECK(rel(s.w, arma::solve(Phi, y)) < 1e-12);
  }
}

TEST_CASE("ridge rejects bad input", "[ridge]") {
  const arma::mat Phi = gaussian(10, 4, 600);
  const arma::vec y = gaussian(10, 1, 601);
  const arma::vec grid = {0.1, 1.0};
  CHECK_THROWS_AS(ridge_solve(Phi, y, -1e-3), InputError);
  CHECK_THROWS_AS(ridge_solve(Phi, y, std::numeric_limits<double>::quiet_NaN()), InputError);
  CHECK_THROWS_AS(ridge_solve(Phi, y, std::numeric_limits<double>::infinity()), InputError);
  CHECK_THROWS_AS(ridge_solve(Phi, arma::vec(9, arma::fill::ones), 0.1), InputError);
  CHECK_THROWS_AS(ridge_solve(arma::mat(), arma::vec(), 0.1), InputError);
  arma::mat bad = Phi;
  bad(3, 2) = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_AS(ridge_solve(bad, y, 0.1), InputError);
  arma::vec ybad = y;
  ybad[0] = std::numeric_limits<double>::infinity();
  CHECK_THROWS_AS(ridge_solve(Phi, ybad, 0.1), InputError);
  CHECK_THROWS_AS(select_lambda_gcv(bad, y, grid), InputError);
  CHECK_THROWS_AS(select_lambda_gcv(Phi, y, arma::vec()), InputError);
  CHECK_THROWS_AS(select_lambda_gcv(Phi, y, arma::vec{0.0, 1.0}), InputError);
  CHECK_THROWS_AS(select_lambda_kfold(Phi, y, grid, 1), InputError);
  CHECK_THROWS_AS(select_lambda_kfold(Phi, y, grid, 11), InputError);
  CHECK_THROWS_AS(log_lambda_grid(0.0, 1.0, 5), InputError);
  CHECK_THROWS_AS(log_lambda_grid(1.0, 0.1, 5), InputError);
  CHECK_THROWS_AS(log_lambda_grid(1e-3, 1.0, 0), InputError);
  RidgeFitOptions opt;
  opt.lambda = -1.0;
  CHECK_THROWS_AS(ridge_fit(Phi, y, opt), InputError);
}
