// Joint fit (A unknown): reduced-risk gradient against finite differences and the invariance
// identities, exact recovery of noiseless spline data, thread invariance, pathological input.
#include <catch2/catch.hpp>
#include <cmath>

#include "estimators/input_error.hpp"
#include "estimators/pairwise_erm.hpp"
#include "estimators/pairwise_lse.hpp"
#include "estimators/random.hpp"

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

TEST_CASE("noiseless rank-1 data from a spline in the space is recovered from random starts", "[erm]") {
  for (int d : {2, 3}) {
    const int N = 4, K = 4, s = 3;
    const std::size_t M = 2000;
    auto [truth, data] = make_problem(d, N, M, K, s, 0.0, 100 + d);
    ErmOptions opt;
    opt.rank = 1;
    opt.pieces = K;
    opt.degree = s;
    opt.seed = 5;
    const PairwiseErmFit fit = fit_pairwise_erm(data.X, data.Y, N, opt);
    const double err = composed_error(fit, truth, d, 100000, 77);
    const ErmDiagnostics& dg = fit.diagnostics;
    INFO("d " << d << ": composed error " << err << ", risk " << fit.train_risk << ", stop '" << dg.stop_reason
              << "', iterations " << dg.iterations << ", evaluations " << dg.evaluations << ", best restart "
              << dg.best_restart);
    CHECK(err < 1e-6);
    CHECK(fit.train_risk < 1e-8);
    CHECK(dg.restarts == 4);
    CHECK(dg.per_restart.size() == 4u);
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
  ErmOptions two = one;
  two.threads = 2;
  const PairwiseErmFit f1 = fit_pairwise_erm(data.X, data.Y, N, one);
  const PairwiseErmFit f2 = fit_pairwise_erm(data.X, data.Y, N, two);
  CHECK(arma::approx_equal(f1.A, f2.A, "absdiff", 0.0));
  CHECK(arma::approx_equal(f1.coef, f2.coef, "absdiff", 0.0));
  CHECK(f1.train_risk == f2.train_risk);
  CHECK(f1.basis.a() == f2.basis.a());
  CHECK(f1.basis.b() == f2.basis.b());
  CHECK(f1.diagnostics.iterations == f2.diagnostics.iterations);
  CHECK(f1.diagnostics.evaluations == f2.diagnostics.evaluations);
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
