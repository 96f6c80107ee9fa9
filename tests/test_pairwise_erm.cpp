// Joint fit (A unknown): reduced-risk gradient against finite differences and the invariance
// identities, exact recovery of noiseless spline data (random and moment starts), thread
// invariance, pathological input; the moment estimate of A against a brute-force loop and its
// expectation; the (trimmed) interaction range against sorting; the trimmed refit against the
// A-known least squares on the trimmed range.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>

#include "estimators/common/input_error.hpp"
#include "estimators/pairwise_erm/pairwise_erm.hpp"
#include "estimators/pairwise_lse/pairwise_lse.hpp"
#include "estimators/common/random.hpp"

using namespace attnrate;

namespace {

// Truth: rank-1 A* = a b^T / (|a||b|), phi* a spline of degree s with K pieces on the training
// range of u* (so phi* lies in the estimator's space at A = c A*), tokens uniform on [-1, 1]^d.
struct Truth {
  arma::mat A;
  BSplineBasis basis{-1.0, 1.0, 1, 1};
  arma::vec coef;
  double g(const arma::vec& x, const arma::vec& y) const { return basis.value(coef, arma::dot(x, A * y)); }
};

struct Data {
  arma::mat X;
  arma::vec Y;
};

arma::mat uniform_tokens(int d, std::size_t n, std::uint64_t seed) {
  arma::mat X(d, n);
  Rng rng(seed);
  for (auto& v : X) v = rng.uniform(-1.0, 1.0);
  return X;
}

std::pair<Truth, Data> make_problem(int d, int N, std::size_t M, int K, int s, double sigma, std::uint64_t seed) {
  Truth t;
  Rng rng(derive_seed(seed, {1}));
  arma::vec a(d), b(d);
  for (auto& v : a) v = rng.normal();
  for (auto& v : b) v = rng.normal();
  t.A = a * b.t() / (arma::norm(a) * arma::norm(b));
  Data data;
  data.X = uniform_tokens(d, M * N, derive_seed(seed, {2}));
  double lo = INFINITY, hi = -INFINITY;
  for (std::size_t m = 0; m < M; ++m)
    for (int i = 0; i < N; ++i)
      for (int j = 0; j < N; ++j)
        if (i != j) {
          const double u = arma::dot(data.X.col(m * N + i), t.A * data.X.col(m * N + j));
          lo = std::min(lo, u);
          hi = std::max(hi, u);
        }
  t.basis = BSplineBasis(lo, hi, K, s);
  t.coef.set_size(K + s);
  for (auto& v : t.coef) v = rng.normal();
  data.Y.set_size(M * N);
  for (std::size_t m = 0; m < M; ++m)
    for (int i = 0; i < N; ++i) {
      double sum = 0.0;
      for (int j = 0; j < N; ++j)
        if (j != i) sum += t.g(data.X.col(m * N + i), data.X.col(m * N + j));
      data.Y[m * N + i] = sum / (N - 1) + sigma * rng.normal();
    }
  return {t, data};
}

// E_(x,y) (g_hat - g)^2 over T fresh independent token pairs (uniform tokens are iid).
double composed_error(const PairwiseErmFit& fit, const Truth& t, int d, std::size_t T, std::uint64_t seed) {
  const arma::mat Z = uniform_tokens(d, 2 * T, seed);
  double sum = 0.0;
  for (std::size_t k = 0; k < T; ++k) {
    const double e = fit.g_hat(Z.colptr(2 * k), Z.colptr(2 * k + 1)) - t.g(Z.col(2 * k), Z.col(2 * k + 1));
    sum += e * e;
  }
  return sum / T;
}

arma::mat normal_matrix(int rows, int cols, std::uint64_t seed) {
  Rng rng(seed);
  arma::mat W(rows, cols);
  for (auto& v : W) v = rng.normal();
  return W;
}

// Two fits of the same data that must agree bit for bit: A, coefficients, interval, risks and the
// optimiser's path.
void check_same_fit(const PairwiseErmFit& f1, const PairwiseErmFit& f2) {
  CHECK(arma::approx_equal(f1.A, f2.A, "absdiff", 0.0));
  CHECK(arma::approx_equal(f1.coef, f2.coef, "absdiff", 0.0));
  CHECK(f1.train_risk == f2.train_risk);
  CHECK(f1.basis.a() == f2.basis.a());
  CHECK(f1.basis.b() == f2.basis.b());
  CHECK(f1.diagnostics.iterations == f2.diagnostics.iterations);
  CHECK(f1.diagnostics.evaluations == f2.diagnostics.evaluations);
  CHECK(f1.diagnostics.train_risk_untrimmed == f2.diagnostics.train_risk_untrimmed);
}

}  // namespace

TEST_CASE("reduced-risk gradient matches central finite differences", "[erm]") {
  const int d = 3, N = 4, r = 2;
  const std::size_t M = 200;
  auto [truth, data] = make_problem(d, N, M, 5, 3, 0.1, 7);
  ErmOptions opt;
  opt.rank = r;
  opt.pieces = 5;
  opt.degree = 3;
  opt.block_samples = 16;
  const arma::mat U = normal_matrix(d, r, 31), V = normal_matrix(d, r, 32);
  const ReducedRisk R = reduced_risk(data.X, data.Y, N, U, V, opt);
  REQUIRE(R.finite);
  REQUIRE_FALSE(R.degenerate_range);
  REQUIRE(R.phi_step.solver == "cholesky");

  // The phi-step is the A-known least squares (estimators/pairwise_lse, de Boor evaluation) on
  // the knots of the training range of u: same coefficients and risk, for several degrees.
  for (int s : {1, 2, 3, 5}) {
    ErmOptions o = opt;
    o.degree = s;
    const ReducedRisk Rs = reduced_risk(data.X, data.Y, N, U, V, o);
    REQUIRE(Rs.finite);
    const PairwiseLseFit lse = fit_pairwise_lse(BSplineBasis(Rs.a, Rs.b, o.pieces, s), U * V.t(), N, d, M,
                                                in_memory_source(data.X, data.Y, N));
    INFO("degree " << s);
    CHECK(lse.normal_equations.clamped == 0);
    CHECK(lse.solution.solver == "cholesky");
    CHECK(arma::abs(Rs.coef - lse.solution.coef).max() < 1e-9 * arma::abs(lse.solution.coef).max());
    CHECK(Rs.risk == Approx(lse.solution.train_mse).epsilon(1e-9));
  }

  arma::mat gU_fd(d, r), gV_fd(d, r);
  const double h = 1e-5;
  for (int which = 0; which < 2; ++which)
    for (int k = 0; k < d * r; ++k) {
      arma::mat Up = U, Um = U, Vp = V, Vm = V;
      (which == 0 ? Up : Vp)[k] += h;
      (which == 0 ? Um : Vm)[k] -= h;
      const double fp = reduced_risk(data.X, data.Y, N, Up, Vp, opt).risk;
      const double fm = reduced_risk(data.X, data.Y, N, Um, Vm, opt).risk;
      (which == 0 ? gU_fd : gV_fd)[k] = (fp - fm) / (2 * h);
    }
  const double gnorm = std::sqrt(arma::accu(arma::square(R.grad_U)) + arma::accu(arma::square(R.grad_V)));
  const double err = std::sqrt(arma::accu(arma::square(R.grad_U - gU_fd)) + arma::accu(arma::square(R.grad_V - gV_fd)));
  INFO("gradient norm " << gnorm << ", FD discrepancy " << err);
  CHECK(gnorm > 1e-5);  // far above the rounding noise of the differences, eps R / h ~ 1e-12
  CHECK(err < 1e-5 * gnorm);

  // Invariances of R: scale (<grad_A, A> = 0) and U -> U G, V -> V G^{-T} (U^T gU = gV^T V).
  const double euler = arma::accu(R.grad_U % U);
  CHECK(std::abs(euler) < 1e-12 * gnorm * arma::norm(U, "fro"));
  CHECK(arma::abs(U.t() * R.grad_U - R.grad_V.t() * V).max() < 1e-12 * gnorm * arma::norm(U, "fro") * arma::norm(V, "fro"));
}

TEST_CASE("noiseless rank-1 data from a spline in the space is recovered from random and moment starts", "[erm]") {
  for (const ErmStart start : {ErmStart::random, ErmStart::moment})
  for (int d : {2, 3}) {
    const int N = 4, K = 4, s = 3;
    const std::size_t M = 2000;
    auto [truth, data] = make_problem(d, N, M, K, s, 0.0, 100 + d);
    ErmOptions opt;
    opt.rank = 1;
    opt.pieces = K;
    opt.degree = s;
    opt.seed = 5;
    opt.start = start;
    const PairwiseErmFit fit = fit_pairwise_erm(data.X, data.Y, N, opt);
    const double err = composed_error(fit, truth, d, 100000, 77);
    const ErmDiagnostics& dg = fit.diagnostics;
    INFO("start " << (start == ErmStart::moment ? "moment" : "random") << ", d " << d << ": composed error " << err << ", risk " << fit.train_risk << ", stop '" << dg.stop_reason
              << "', iterations " << dg.iterations << ", evaluations " << dg.evaluations << ", best restart "
              << dg.best_restart);
    CHECK(err < 1e-6);
    CHECK(fit.train_risk < 1e-8);
    CHECK(dg.restarts == 4);
    REQUIRE(dg.per_restart.size() == 4u);
    CHECK(dg.per_restart[0].start == (start == ErmStart::moment ? "moment" : "random"));
    CHECK(dg.per_restart[1].start == "random");
    CHECK(dg.refit_trim == 0u);
    CHECK(dg.train_risk_untrimmed == fit.train_risk);
    CHECK_FALSE(dg.stop_reason.empty());
    CHECK(fit.A.is_finite());
    CHECK(arma::approx_equal(fit.A, fit.U * fit.V.t(), "absdiff", 0.0));
  }
}

TEST_CASE("joint fit is bit-identical for 1 and 2 threads", "[erm][reproducibility]") {
  const int d = 3, N = 4;
  auto [truth, data] = make_problem(d, N, 1000, 6, 2, 0.3, 3);
  ErmOptions one;
  one.rank = 2;
  one.pieces = 6;
  one.degree = 2;
  one.block_samples = 32;
  one.restarts = 2;
  one.max_iterations = 25;
  one.screen_iterations = 5;
  one.threads = 1;
  one.refit_trim = 20;
  ErmOptions two = one;
  two.threads = 2;
  check_same_fit(fit_pairwise_erm(data.X, data.Y, N, one), fit_pairwise_erm(data.X, data.Y, N, two));
}

TEST_CASE("joint fit is bit-identical with its AVX2 loops on and off", "[erm][reproducibility]") {
  const int d = 3, N = 4;
  auto [truth, data] = make_problem(d, N, 600, 6, 3, 0.3, 5);
  ErmOptions on;
  on.rank = 1;
  on.pieces = 6;
  on.degree = 3;
  on.block_samples = 32;
  on.restarts = 2;
  on.max_iterations = 20;
  on.threads = 2;
  ErmOptions off = on;
  off.allow_avx2 = false;
  check_same_fit(fit_pairwise_erm(data.X, data.Y, N, on), fit_pairwise_erm(data.X, data.Y, N, off));
}

TEST_CASE("stop rules and restarts are applied and reported", "[erm]") {
  const int d = 3, N = 4;
  auto [truth, data] = make_problem(d, N, 300, 5, 3, 0.3, 21);
  ErmOptions opt;
  opt.pieces = 5;
  opt.restarts = 1;
  opt.max_iterations = 3;
  const PairwiseErmFit capped = fit_pairwise_erm(data.X, data.Y, N, opt);
  CHECK(capped.diagnostics.iterations == 3);
  CHECK(capped.diagnostics.stop_reason.find("step cap") != std::string::npos);
  opt.max_iterations = 200;
  opt.rel_tol = 0.5;  // the first step that gains less than half the risk stops the run
  const PairwiseErmFit loose = fit_pairwise_erm(data.X, data.Y, N, opt);
  CHECK(loose.diagnostics.stop_reason.find("relative risk decrease") != std::string::npos);
  CHECK(loose.diagnostics.iterations < 200);
  // Screening: 3 restarts, 2 screened, the best continued; the returned risk is the lowest.
  opt.rel_tol = 1e-8;
  opt.restarts = 3;
  opt.screen_iterations = 4;
  opt.max_iterations = 40;
  const PairwiseErmFit screened = fit_pairwise_erm(data.X, data.Y, N, opt);
  const ErmDiagnostics& dg = screened.diagnostics;
  REQUIRE(dg.per_restart.size() == 3u);
  int continued = 0;
  for (const ErmRestartReport& rep : dg.per_restart) {
    CHECK(rep.iterations <= (rep.restart == dg.best_restart ? 40 : 4));
    CHECK(screened.train_risk <= rep.risk);
    continued += rep.iterations > 4;
  }
  CHECK(continued <= 1);
  CHECK(dg.per_restart[dg.best_restart].risk == screened.train_risk);
}

TEST_CASE("pathological data give finite fits and reported problems", "[erm]") {
  const int d = 3, N = 3;
  const std::size_t M = 60;
  ErmOptions opt;
  opt.rank = 1;
  opt.max_iterations = 20;
  opt.screen_iterations = 5;
  auto check_finite = [](const PairwiseErmFit& fit) {
    CHECK(fit.A.is_finite());
    CHECK(fit.coef.is_finite());
    CHECK(std::isfinite(fit.train_risk));
    CHECK(std::isfinite(fit.diagnostics.relative_gradient));
    CHECK(std::isfinite(fit.basis.a()));
    CHECK(std::isfinite(fit.basis.b()));
  };
  SECTION("all tokens equal: degenerate interaction range") {
    arma::mat X(d, M * N);
    X.each_col() = arma::vec{0.3, -0.2, 0.5};
    const arma::vec Y = arma::linspace(-1.0, 1.0, M * N);
    const PairwiseErmFit fit = fit_pairwise_erm(X, Y, N, opt);
    check_finite(fit);
    CHECK(fit.diagnostics.degenerate_range);
    CHECK(fit.diagnostics.phi_step.fallback);
  }
  SECTION("tokens nearly equal") {
    arma::mat X = 1e-14 * uniform_tokens(d, M * N, 4);
    X.each_col() += arma::vec{0.3, -0.2, 0.5};
    const arma::vec Y = arma::linspace(-1.0, 1.0, M * N);
    const PairwiseErmFit fit = fit_pairwise_erm(X, Y, N, opt);
    check_finite(fit);
    CHECK((fit.diagnostics.degenerate_range || fit.diagnostics.phi_step.fallback ||
           fit.diagnostics.rejected_steps > 0));
  }
  SECTION("more basis functions than tokens: min-norm phi-steps") {
    auto [truth, data] = make_problem(d, N, 20, 3, 3, 0.1, 9);
    opt.pieces = 100;
    const PairwiseErmFit fit = fit_pairwise_erm(data.X, data.Y, N, opt);
    check_finite(fit);
    CHECK(fit.diagnostics.phi_step.fallback);
    CHECK(fit.diagnostics.phi_step.solver.rfind("min-norm", 0) == 0);
  }
  SECTION("huge outputs and tokens") {
    auto [truth, data] = make_problem(d, N, M, 3, 3, 0.1, 10);
    const PairwiseErmFit fit = fit_pairwise_erm(data.X * 1e150, data.Y * 1e150, N, opt);
    check_finite(fit);
    CHECK(fit.diagnostics.phi_step.solver == "cholesky");
  }
}

TEST_CASE("bad input to the joint fit is rejected", "[erm]") {
  const int d = 3, N = 4;
  auto [truth, data] = make_problem(d, N, 20, 3, 3, 0.1, 1);
  ErmOptions opt;
  auto bad = [&](auto&& mutate) {
    ErmOptions o = opt;
    mutate(o);
    return o;
  };
  CHECK_THROWS_AS(fit_pairwise_erm(data.X, data.Y, N, bad([](ErmOptions& o) { o.rank = 0; })), InputError);
  CHECK_THROWS_AS(fit_pairwise_erm(data.X, data.Y, N, bad([](ErmOptions& o) { o.rank = 4; })), InputError);
  CHECK_THROWS_AS(fit_pairwise_erm(data.X, data.Y, N, bad([](ErmOptions& o) { o.pieces = 0; })), InputError);
  CHECK_THROWS_AS(fit_pairwise_erm(data.X, data.Y, N, bad([](ErmOptions& o) { o.degree = 0; })), InputError);
  CHECK_THROWS_AS(fit_pairwise_erm(data.X, data.Y, N, bad([](ErmOptions& o) { o.restarts = 0; })), InputError);
  CHECK_THROWS_AS(fit_pairwise_erm(data.X, data.Y, N, bad([](ErmOptions& o) { o.rel_tol = -1; })), InputError);
  CHECK_THROWS_AS(fit_pairwise_erm(data.X, data.Y, N,
                                   bad([](ErmOptions& o) { o.init_U = arma::ones(3, 1), o.init_V = arma::ones(2, 1); })),
                  InputError);
  CHECK_THROWS_AS(fit_pairwise_erm(data.X, data.Y.head(data.Y.n_elem - 1), N, opt), InputError);
  CHECK_THROWS_AS(fit_pairwise_erm(data.X.cols(0, data.X.n_cols - 2), data.Y.head(data.Y.n_elem - 1), N, opt),
                  InputError);
  CHECK_THROWS_AS(fit_pairwise_erm(data.X, data.Y, 1, opt), InputError);
  arma::vec Ynan = data.Y;
  Ynan[3] = NAN;
  CHECK_THROWS_AS(fit_pairwise_erm(data.X, Ynan, N, opt), InputError);
  CHECK_THROWS_AS(reduced_risk(data.X, data.Y, N, arma::ones(2, 1), arma::ones(3, 1), opt), InputError);
  try {
    fit_pairwise_erm(data.X, data.Y, N, bad([](ErmOptions& o) { o.rank = 7; }));
    FAIL("no exception");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find("rank") != std::string::npos);
    CHECK(std::string(e.what()).find("7") != std::string::npos);
  }
}

namespace {

// u_mij = X_mi^T A X_mj, i != j, by a plain loop, sorted.
std::vector<double> sorted_interactions(const arma::mat& X, int N, const arma::mat& A) {
  std::vector<double> u;
  const std::size_t M = X.n_cols / N;
  for (std::size_t m = 0; m < M; ++m)
    for (int i = 0; i < N; ++i)
      for (int j = 0; j < N; ++j)
        if (i != j) u.push_back(arma::as_scalar(X.col(m * N + i).t() * A * X.col(m * N + j)));
  std::sort(u.begin(), u.end());
  return u;
}

}  // namespace

TEST_CASE("moment_init_A is the truncated SVD of the cross moment summed by a plain loop", "[erm]") {
  const int d = 5, N = 4, M = 60;
  const arma::mat X = uniform_tokens(d, M * N, 41);
  Rng rng(42);
  arma::vec Y(M * N);
  for (auto& v : Y) v = rng.normal();
  arma::mat C(d, d, arma::fill::zeros);  // C = 1/(MN) sum_{m,i} sum_{j != i} Y_mi X_mi X_mj^T, entrywise
  for (int m = 0; m < M; ++m)
    for (int i = 0; i < N; ++i)
      for (int j = 0; j < N; ++j)
        if (i != j)
          for (int k = 0; k < d; ++k)
            for (int l = 0; l < d; ++l) C(k, l) += Y[m * N + i] * X(k, m * N + i) * X(l, m * N + j);
  C /= static_cast<double>(M * N);
  arma::mat W, Z;
  arma::vec s;
  REQUIRE(arma::svd(W, s, Z, C));
  REQUIRE(s.min() > 1e-3 * s.max());  // distinct, nonzero singular values: C_r is unique
  // Scaled data check the internal rescaling: C scales by xs^2 ys.
  for (const double xs : {1.0, 1e100})
    for (const double ys : {1.0, 1e-80})
      for (int r : {1, 2, d}) {
        const auto [U, V] = moment_init_A(X * xs, Y * ys, N, r);
        REQUIRE(U.n_rows == static_cast<arma::uword>(d));
        REQUIRE(U.n_cols == static_cast<arma::uword>(r));
        REQUIRE(V.n_cols == static_cast<arma::uword>(r));
        const arma::mat Cr = W.head_cols(r) * arma::diagmat(s.head(r)) * Z.head_cols(r).t();
        const double scale = xs * xs * ys;
        INFO("xs " << xs << ", ys " << ys << ", r " << r);
        CHECK(arma::norm(U * V.t() / scale - Cr, "fro") < 1e-12 * arma::norm(C, "fro"));
        // Balanced factors: U^T U = V^T V = diag(s_1..s_r) (times the scale).
        const arma::mat D = arma::diagmat(s.head(r)) * scale;
        CHECK(arma::abs(U.t() * U - D).max() < 1e-12 * D.max());
        CHECK(arma::abs(V.t() * V - D).max() < 1e-12 * D.max());
      }
  CHECK_THROWS_AS(moment_init_A(X, Y, N, 0), InputError);
  CHECK_THROWS_AS(moment_init_A(X, Y, N, d + 1), InputError);
  CHECK_THROWS_AS(moment_init_A(X, Y.head(10), N, 1), InputError);
  CHECK_THROWS_AS(moment_init_A(X, Y, 7, 1), InputError);  // 240 columns are not M * 7
  arma::vec Ynan = Y;
  Ynan[5] = NAN;
  CHECK_THROWS_AS(moment_init_A(X, Ynan, N, 1), InputError);
}

TEST_CASE("moment_init_A converges to A for a linear phi and standard Gaussian tokens", "[erm][claims]") {
  // Y_i = 1/(N-1) sum_{j != i} X_i^T A X_j + sigma eps, tokens N(0, I): E C = Sigma A Sigma = A.
  // C is the mean of iid per-sample matrices Z_m = 1/N sum_i Y_mi X_mi (S_m - X_mi)^T, so its
  // Monte Carlo standard error is estimated from their spread; it shrinks like 1/sqrt(M).
  const int d = 4, N = 4, r = 2;
  const double sigma = 0.5;
  arma::mat A = normal_matrix(d, r, 51) * normal_matrix(d, r, 52).t();
  A /= arma::norm(A, "fro");
  double previous_error = INFINITY, previous_se = INFINITY;
  for (const std::size_t M : {2000u, 32000u}) {
    Rng rng(derive_seed(53, {M}));
    arma::mat X(d, M * N);
    for (auto& v : X) v = rng.normal();
    arma::vec Y(M * N, arma::fill::zeros);
    arma::mat Zsum(d, d, arma::fill::zeros), Zsq(d, d, arma::fill::zeros);
    for (std::size_t m = 0; m < M; ++m) {
      const arma::mat Xm = X.cols(m * N, m * N + N - 1);
      const arma::mat G = Xm.t() * A * Xm;  // G(i, j) = X_i^T A X_j
      arma::mat Zm(d, d, arma::fill::zeros);
      for (int i = 0; i < N; ++i) {
        double y = sigma * rng.normal();
        for (int j = 0; j < N; ++j)
          if (j != i) y += G(i, j) / (N - 1);
        Y[m * N + i] = y;
        for (int j = 0; j < N; ++j)
          if (j != i) Zm += y * Xm.col(i) * Xm.col(j).t() / N;
      }
      Zsum += Zm;
      Zsq += arma::square(Zm);
    }
    const arma::mat Cbar = Zsum / M;
    const arma::mat se = arma::sqrt((Zsq / M - arma::square(Cbar)) * (1.0 / (M - 1)));  // entrywise
    const double se_F = arma::norm(se, "fro");  // ~ sqrt(E ||C - A||_F^2)
    // Full rank: C itself; every entry within 4.5 standard errors of A (16 entries, two-sided
    // Gaussian tail 7e-6 each; a bias of a few standard errors fails).
    const auto [Ud, Vd] = moment_init_A(X, Y, N, d);
    const arma::mat z = (Ud * Vd.t() - A) / se;
    // Rank r: ||C_r - A||_F <= ||C_r - C||_F + ||C - A||_F <= 2 ||C - A||_F (Eckart-Young, rank A = r),
    // and ||C - A||_F^2 / se_F^2 is about chi^2_16 / 16, below 9 with overwhelming probability.
    const auto [U, V] = moment_init_A(X, Y, N, r);
    const double err = arma::norm(U * V.t() - A, "fro");
    INFO("M " << M << ": max |z| " << arma::abs(z).max() << ", rank-r error " << err << ", se_F " << se_F);
    CHECK(arma::abs(z).max() < 4.5);
    CHECK(err < 2.0 * 3.0 * se_F);
    CHECK(se_F < 0.3);  // the check above is informative (relative to ||A||_F = 1)
    // 16 times the samples: standard error 1/4, and the error follows.
    if (std::isfinite(previous_se)) {
      CHECK(se_F == Approx(previous_se / 4.0).epsilon(0.15));
      CHECK(err < previous_error);
    }
    previous_error = err;
    previous_se = se_F;
  }
}

TEST_CASE("interaction ranges are the order statistics of the sorted training interactions", "[erm]") {
  const int d = 3, N = 5, M = 300, r = 2;  // 300 samples: two blocks of the streaming pass
  const arma::mat X = uniform_tokens(d, M * N, 61);
  const arma::mat U = normal_matrix(d, r, 62), V = normal_matrix(d, r, 63);
  const std::vector<double> u = sorted_interactions(X, N, U * V.t());
  const std::size_t n = u.size();
  REQUIRE(n == static_cast<std::size_t>(M) * N * (N - 1));
  const double tol = 1e-12 * std::max(std::abs(u.front()), std::abs(u.back()));
  for (std::size_t k : {std::size_t{0}, std::size_t{1}, std::size_t{7}, std::size_t{50}, n / 2 - 1}) {
    const auto [lo, hi] = trimmed_interaction_range(X, N, U, V, k);
    INFO("trim " << k);
    CHECK(std::abs(lo - u[k]) <= tol);
    CHECK(std::abs(hi - u[n - 1 - k]) <= tol);
  }
  // Fractional tail: floor(tail (n-1)) and ceil((1-tail)(n-1)); tail = k/(n-1) is exactly k even
  // when the division rounds so that tail (n-1) < k.
  int rounded_below = 0;
  for (std::size_t k = 0; k < 200; ++k) {
    const double tail = static_cast<double>(k) / static_cast<double>(n - 1);
    rounded_below += tail * static_cast<double>(n - 1) < static_cast<double>(k);
    const auto [lo, hi] = training_interaction_range(X, N, U, V, tail);
    INFO("k " << k);
    CHECK(std::abs(lo - u[k]) <= tol);
    CHECK(std::abs(hi - u[n - 1 - k]) <= tol);
  }
  INFO("k/(n-1) rounded below k for " << rounded_below << " of 200 k");
  CHECK(rounded_below > 0);  // the rounding case is exercised
  for (const double tail : {0.1, 0.25, 0.4999}) {
    const auto [lo, hi] = training_interaction_range(X, N, U, V, tail);
    const double x = tail * static_cast<double>(n - 1);
    CHECK(std::abs(lo - u[static_cast<std::size_t>(std::floor(x))]) <= tol);
    CHECK(std::abs(hi - u[static_cast<std::size_t>(std::ceil(static_cast<double>(n - 1) - x))]) <= tol);
  }
  CHECK_THROWS_AS(trimmed_interaction_range(X, N, U, V, n / 2), InputError);
  CHECK_THROWS_AS(training_interaction_range(X, N, U, V, 0.5), InputError);
  CHECK_THROWS_AS(training_interaction_range(X, N, U, V, -0.1), InputError);
  CHECK_THROWS_AS(trimmed_interaction_range(X, N, U, V.head_rows(2), 0), InputError);
  CHECK_THROWS_AS(trimmed_interaction_range(X, N, U, V.head_cols(1), 0), InputError);
  CHECK_THROWS_AS(trimmed_interaction_range(X, 7, U, V, 0), InputError);
}

TEST_CASE("trimmed refit: knots on the trimmed training range, phi-step as the A-known least squares", "[erm]") {
  const int d = 3, N = 4, K = 6, s = 3;
  const std::size_t M = 400, trim = 25;
  auto [truth, data] = make_problem(d, N, M, K, s, 0.3, 71);
  ErmOptions opt;
  opt.rank = 1;
  opt.pieces = K;
  opt.degree = s;
  opt.restarts = 2;
  opt.max_iterations = 60;
  opt.screen_iterations = 10;
  const PairwiseErmFit plain = fit_pairwise_erm(data.X, data.Y, N, opt);
  opt.refit_trim = trim;
  const PairwiseErmFit fit = fit_pairwise_erm(data.X, data.Y, N, opt);
  const ErmDiagnostics& dg = fit.diagnostics;
  // The ERM itself is unchanged; only the final phi-step differs.
  CHECK(arma::approx_equal(fit.A, plain.A, "absdiff", 0.0));
  CHECK(dg.train_risk_untrimmed == plain.train_risk);
  CHECK(dg.refit_trim == trim);
  CHECK(dg.untrimmed_a == plain.basis.a());
  CHECK(dg.untrimmed_b == plain.basis.b());
  CHECK(arma::approx_equal(dg.coef_untrimmed, plain.coef, "absdiff", 0.0));
  CHECK(arma::approx_equal(plain.diagnostics.coef_untrimmed, plain.coef, "absdiff", 0.0));
  CHECK(plain.diagnostics.refit_trim == 0u);
  // Knot interval: the trim-th smallest and largest training interactions under the returned A.
  const std::vector<double> u = sorted_interactions(data.X, N, fit.A);
  const double tol = 1e-12 * std::max(std::abs(u.front()), std::abs(u.back()));
  CHECK(std::abs(fit.basis.a() - u[trim]) <= tol);
  CHECK(std::abs(fit.basis.b() - u[u.size() - 1 - trim]) <= tol);
  CHECK(plain.basis.a() == Approx(u.front()).epsilon(1e-12));
  CHECK(plain.basis.b() == Approx(u.back()).epsilon(1e-12));
  CHECK(fit.basis.pieces() == K);
  CHECK(fit.basis.degree() == s);
  CHECK(dg.refit_clamped == 2 * trim);  // no ties in continuous data
  // Coefficients and risk: the A-known least squares (estimators/pairwise_lse) on that basis.
  const PairwiseLseFit lse = fit_pairwise_lse(fit.basis, fit.A, N, d, M, in_memory_source(data.X, data.Y, N));
  // The least squares computes u = x^T A y, the fit (U^T x) . (V^T y): the two interactions at
  // the knots themselves may land one rounding outside in the other arithmetic (BLAS kernels
  // differ between CPUs), every other one is on the same side.
  CHECK(lse.normal_equations.clamped >= 2 * trim);
  CHECK(lse.normal_equations.clamped <= 2 * trim + 2);
  CHECK(arma::abs(fit.coef - lse.solution.coef).max() < 1e-9 * arma::abs(lse.solution.coef).max());
  CHECK(fit.train_risk == Approx(lse.solution.train_mse).epsilon(1e-9));
  CHECK(arma::approx_equal(dg.phi_step.coef, fit.coef, "absdiff", 0.0));
  CHECK(dg.phi_step.solver == "cholesky");

  // Validation: 2 trim < M N (N-1) interactions.
  const std::size_t n = M * N * (N - 1);
  ErmOptions quick = opt;
  quick.max_iterations = 2;
  quick.restarts = 1;
  quick.refit_trim = n / 2 - 1;  // the largest allowed: a two-point interval
  CHECK_NOTHROW(fit_pairwise_erm(data.X, data.Y, N, quick));
  quick.refit_trim = n / 2;
  CHECK_THROWS_AS(fit_pairwise_erm(data.X, data.Y, N, quick), InputError);
  try {
    fit_pairwise_erm(data.X, data.Y, N, quick);
    FAIL("no exception");
  } catch (const InputError& e) {
    const std::string what = e.what();
    CHECK(what.find("refit_trim") != std::string::npos);
    CHECK(what.find(std::to_string(n / 2)) != std::string::npos);
    CHECK(what.find(std::to_string(n / 2 - 1)) != std::string::npos);  // the largest allowed value
  }
}

TEST_CASE("restart 0's start is reported and falls back to random when the moment is zero", "[erm]") {
  const int d = 3, N = 4;
  auto [truth, data] = make_problem(d, N, 100, 4, 3, 0.1, 81);
  ErmOptions opt;
  opt.rank = 1;
  opt.restarts = 2;
  opt.max_iterations = 5;
  opt.screen_iterations = 2;
  CHECK(fit_pairwise_erm(data.X, data.Y, N, opt).diagnostics.per_restart[0].start == "moment");
  opt.start = ErmStart::random;
  CHECK(fit_pairwise_erm(data.X, data.Y, N, opt).diagnostics.per_restart[0].start == "random");
  ErmOptions init = opt;
  init.start = ErmStart::moment;
  init.init_U = arma::ones(d, 1);
  init.init_V = arma::ones(d, 1);
  CHECK(fit_pairwise_erm(data.X, data.Y, N, init).diagnostics.per_restart[0].start == "init_U/init_V");
  // Y = 0: the cross moment is zero; restart 0 draws the same random start as with start = random.
  const arma::vec Y0(data.Y.n_elem, arma::fill::zeros);
  opt.start = ErmStart::moment;
  const PairwiseErmFit zero = fit_pairwise_erm(data.X, Y0, N, opt);
  CHECK(zero.diagnostics.per_restart[0].start.rfind("random (moment", 0) == 0);
  CHECK(zero.A.is_finite());
  CHECK(zero.train_risk == 0.0);
}

TEST_CASE("continuation in K: stage ladder, reports, off switch and noiseless recovery", "[erm]") {
  const int d = 3, N = 4, s = 3;
  auto [truth, data] = make_problem(d, N, 1500, 8, s, 0.0, 31);
  ErmOptions plain;
  plain.rank = 1;
  plain.pieces = 8;
  plain.degree = s;
  plain.restarts = 2;
  plain.seed = 4;
  const PairwiseErmFit base = fit_pairwise_erm(data.X, data.Y, N, plain);
  REQUIRE(base.diagnostics.stages.size() == 1u);
  CHECK(base.diagnostics.stages[0].pieces == 8);
  CHECK(base.diagnostics.stages[0].risk == base.train_risk);
  CHECK(base.diagnostics.stages[0].stop_reason == base.diagnostics.stop_reason);
  // coarse_pieces >= pieces switches the continuation off: the very same computation.
  for (int off : {8, 9, 100}) {
    ErmOptions o = plain;
    o.coarse_pieces = off;
    const PairwiseErmFit f = fit_pairwise_erm(data.X, data.Y, N, o);
    CHECK(arma::approx_equal(f.A, base.A, "absdiff", 0.0));
    CHECK(arma::approx_equal(f.coef, base.coef, "absdiff", 0.0));
    CHECK(f.diagnostics.stages.size() == 1u);
  }
  // Ladders: 2, 4, 8 and 3, 6, 8 (the last stage is always `pieces`).
  for (const auto& [coarse, ladder] : {std::pair{2, std::vector<int>{2, 4, 8}}, std::pair{3, std::vector<int>{3, 6, 8}}}) {
    ErmOptions o = plain;
    o.coarse_pieces = coarse;
    const PairwiseErmFit f = fit_pairwise_erm(data.X, data.Y, N, o);
    const ErmDiagnostics& dg = f.diagnostics;
    REQUIRE(dg.stages.size() == ladder.size());
    int stage_iterations = 0;
    for (std::size_t k = 0; k < ladder.size(); ++k) {
      CHECK(dg.stages[k].pieces == ladder[k]);
      CHECK_FALSE(dg.stages[k].stop_reason.empty());
      stage_iterations += dg.stages[k].iterations;
    }
    // The restarts run at the first stage only; per_restart reports that stage.
    CHECK(dg.per_restart[dg.best_restart].risk == dg.stages[0].risk);
    CHECK(dg.per_restart[dg.best_restart].iterations == dg.stages[0].iterations);
    int other = 0;
    for (const ErmRestartReport& rep : dg.per_restart)
      if (rep.restart != dg.best_restart) other += rep.iterations;
    CHECK(dg.iterations == stage_iterations + other);
    CHECK(dg.stages.back().risk == f.train_risk);
    CHECK(dg.stop_reason == dg.stages.back().stop_reason);
    CHECK(f.basis.pieces() == 8);
    CHECK(f.coef.n_elem == 8u + s);
    // Noiseless data from a spline in the final space: recovered through the coarse stages.
    const double err = composed_error(f, truth, d, 100000, 78);
    INFO("coarse " << coarse << ": composed error " << err << ", risk " << f.train_risk);
    CHECK(err < 1e-6);
  }
  ErmOptions bad = plain;
  bad.coarse_pieces = -1;
  CHECK_THROWS_AS(fit_pairwise_erm(data.X, data.Y, N, bad), InputError);
}

TEST_CASE("restarts on a subsample: the restarts are those of a fit on the first R samples", "[erm]") {
  const int d = 3, N = 4, s = 3;
  const std::size_t M = 1200, R = 400;
  auto [truth, data] = make_problem(d, N, M, 8, s, 0.0, 37);
  ErmOptions o;
  o.rank = 1;
  o.pieces = 8;
  o.degree = s;
  o.restarts = 4;
  o.coarse_pieces = 2;
  o.seed = 9;
  o.start = ErmStart::random;  // the moment start uses all M samples, so compare random starts
  const PairwiseErmFit all = fit_pairwise_erm(data.X, data.Y, N, o);
  CHECK(all.diagnostics.restart_samples == M);
  // R = 0 and R >= M use every sample: the very same computation.
  for (std::size_t off : {M, M + 1}) {
    ErmOptions same = o;
    same.restart_samples = off;
    const PairwiseErmFit f = fit_pairwise_erm(data.X, data.Y, N, same);
    check_same_fit(f, all);
    CHECK(f.diagnostics.restart_samples == M);
  }
  // One restart has no choice to make: all samples, the same computation as without R.
  {
    ErmOptions one = o, one_sub = o;
    one.restarts = one_sub.restarts = 1;
    one_sub.restart_samples = R;
    const PairwiseErmFit f1 = fit_pairwise_erm(data.X, data.Y, N, one_sub);
    check_same_fit(f1, fit_pairwise_erm(data.X, data.Y, N, one));
    CHECK(f1.diagnostics.restart_samples == M);
  }
  ErmOptions sub = o;
  sub.restart_samples = R;
  const PairwiseErmFit f = fit_pairwise_erm(data.X, data.Y, N, sub);
  const ErmDiagnostics& dg = f.diagnostics;
  CHECK(dg.restart_samples == R);
  // Every restart's coarse stage is the one a fit on the first R samples runs: the same risks,
  // bit for bit, once expressed in the same output scale.
  const arma::mat X_first = data.X.head_cols(R * N);
  const arma::vec Y_first = data.Y.head(R * N);
  ErmOptions coarse_only = o;
  coarse_only.pieces = o.coarse_pieces;
  coarse_only.coarse_pieces = 0;
  coarse_only.max_iterations = o.max_iterations;
  coarse_only.screen_iterations = o.max_iterations;  // every restart to its own stop, as with the continuation
  const PairwiseErmFit first = fit_pairwise_erm(X_first, Y_first, N, coarse_only);
  REQUIRE(dg.per_restart.size() == first.diagnostics.per_restart.size());
  for (std::size_t k = 0; k < dg.per_restart.size(); ++k) {
    INFO("restart " << k);
    CHECK(dg.per_restart[k].iterations == first.diagnostics.per_restart[k].iterations);
    CHECK(dg.per_restart[k].risk == Approx(first.diagnostics.per_restart[k].risk).epsilon(1e-12));
  }
  CHECK(dg.best_restart == first.diagnostics.best_restart);
  // The chosen run then runs every stage on all M samples: the ladder 2, 4, 8 ends in the final
  // space with the training risk of all M samples, and noiseless data are recovered.
  REQUIRE(dg.stages.size() == 3u);
  CHECK(dg.stages[0].pieces == 2);
  CHECK(dg.stages.back().risk == f.train_risk);
  CHECK(composed_error(f, truth, d, 100000, 79) < 1e-6);
}
