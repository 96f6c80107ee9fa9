// The adaptive joint fit (A unknown, spline space selected from the data): exact recovery and the
// smallest exact space from noiseless data, the steps' hand-over (the ERM continues from the
// pilot's A in the pilot selection's space), bit-identical results at 1 and 2 threads, and bad
// options as input errors.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>

#include "estimators/common/input_error.hpp"
#include "estimators/common/random.hpp"
#include "estimators/pairwise_erm/adaptive_erm.hpp"

using namespace attnrate;

namespace {

// Rank-1 A* = a b^T / (|a| |b|), tokens uniform on [-1, 1]^d, Y_i = 1/(N-1) sum_{j != i} phi(X_i^T A* X_j)
// + sigma noise.
struct Problem {
  arma::mat A, X;
  arma::vec Y;
};

template <class Phi>
Problem make_problem(int d, int N, std::size_t M, const Phi& phi, double sigma, std::uint64_t seed) {
  Problem p;
  Rng rng(seed);
  arma::vec a(d), b(d);
  for (auto& v : a) v = rng.normal();
  for (auto& v : b) v = rng.normal();
  p.A = a * b.t() / (arma::norm(a) * arma::norm(b));
  p.X.set_size(d, M * N);
  for (auto& v : p.X) v = rng.uniform(-1.0, 1.0);
  p.Y.set_size(M * N);
  for (std::size_t m = 0; m < M; ++m)
    for (int i = 0; i < N; ++i) {
      double sum = 0.0;
      for (int j = 0; j < N; ++j)
        if (j != i) sum += phi(arma::dot(p.X.col(m * N + i), p.A * p.X.col(m * N + j)));
      p.Y[m * N + i] = sum / (N - 1) + sigma * rng.normal();
    }
  return p;
}

// E (g_hat - g)^2 over T fresh independent uniform token pairs, by a plain loop, over the pairs
// whose fitted interaction lies in the spline interval (outside it phi_hat is clamped, so a pair
// beyond the training extremes is an extrapolation, not a recovery error).
template <class Phi>
double composed_error(const AdaptiveErmFit& fit, const Problem& p, const Phi& phi, std::size_t T) {
  Rng rng(4242);
  const arma::uword d = p.A.n_rows;
  double sum = 0.0;
  std::size_t used = 0;
  for (std::size_t t = 0; t < T; ++t) {
    arma::vec x(d), y(d);
    for (auto& v : x) v = rng.uniform(-1.0, 1.0);
    for (auto& v : y) v = rng.uniform(-1.0, 1.0);
    const double u = arma::dot(x, fit.A * y);
    if (u < fit.selection.a || u > fit.selection.b) continue;
    const double e = fit.phi_hat(u) - phi(arma::dot(x, p.A * y));
    sum += e * e;
    ++used;
  }
  REQUIRE(used > T * 99 / 100);
  return sum / static_cast<double>(used);
}

}  // namespace

TEST_CASE("adaptive joint fit: noiseless quadratic phi is recovered in the smallest exact space", "[adaptive][erm]") {
  // phi(u) = 0.3 + u - 2 u^2 lies in S(s, K) for every s >= 2 and every K on every interval (and
  // in no space of degree < 2); the smallest such candidate is S(2, 1) (p = 3). Noiseless, both
  // ERM steps recover A up to scale, where every candidate containing phi fits to rounding and
  // the tie rule (cv) or the penalties (increasing in p; C_p for mixture, whose residual variance
  // is then at rounding level, so phi_hat is the selected space) must pick S(2, 1).
  const auto phi = [](double u) { return 0.3 + u - 2.0 * u * u; };
  const int d = 3, N = 4;
  const std::size_t M = 1500;
  const Problem p = make_problem(d, N, M, phi, 0.0, 11);
  for (SelectionRule rule : {SelectionRule::mixture, SelectionRule::cv, SelectionRule::penalty, SelectionRule::cv_refit}) {
    AdaptiveErmOptions o;
    o.erm.rank = 1;
    o.erm.seed = 3;
    o.select.rule = rule;
    o.select.max_pieces = 8;
    const AdaptiveErmFit fit = fit_adaptive_erm(p.X, p.Y, N, o);
    INFO("rule " << to_string(rule) << ": selected degree " << fit.selected().degree << ", K "
                 << fit.selected().pieces);
    CHECK(fit.selected().degree == 2);
    CHECK(fit.selected().pieces == 1);
    CHECK(fit.selected().train_risk < 1e-12 * fit.selection.yy);
    CHECK(composed_error(fit, p, phi, 20000) < 1e-10);
    REQUIRE(fit.selection.estimate.phi.terms().size() == 1);  // an exact fit: the selection alone
    CHECK(fit.selection.estimate.phi.terms()[0].basis.degree() == 2);
    CHECK(fit.selection.estimate.phi.terms()[0].basis.pieces() == 1);
    // Hand-over: the ERM ran in the pilot selection's space (degree >= 1) from the pilot's A.
    const SplineCandidate& s1 = fit.pilot_selection.candidates[fit.pilot_selection.selected];
    CHECK(fit.erm.basis.pieces() == s1.pieces);
    CHECK(fit.erm.basis.degree() == std::max(1, s1.degree));
    CHECK(fit.pilot.basis.pieces() == 4);  // coarse_pieces = 0 (no continuation): K0 = 4
    CHECK(fit.pilot.basis.degree() == 3);
    REQUIRE(fit.erm.diagnostics.per_restart.size() == 1u);
    CHECK(fit.erm.diagnostics.per_restart[0].start == "init_U/init_V");
    CHECK(arma::approx_equal(fit.A, fit.erm.A, "absdiff", 0.0));
    CHECK(arma::approx_equal(fit.A, fit.U * fit.V.t(), "absdiff", 0.0));
    const bool refit = rule == SelectionRule::cv_refit;
    CHECK(fit.refit_cv.size() == (refit ? fit.selection.candidates.size() : 0u));
    CHECK(fit.fold_A.size() == (refit ? static_cast<std::size_t>(o.select.folds) : 0u));
  }
}

TEST_CASE("adaptive joint fit, cv-refit: CV_refit equals brute-force CV with A refitted in each fold",
          "[adaptive][erm]") {
  // For each fold f: the candidate fitted by a direct pass on the other folds' samples at the
  // fold's A_{-f} (on the interval of all interactions at A_{-f}, trim 0), its squared error on
  // fold f's outputs summed by plain loops; CV_refit = total / (M N).
  const auto phi = [](double u) { return std::sin(2.0 * u) + 0.5 * u; };
  const int d = 3, N = 4;
  const std::size_t M = 123;  // folds of unequal size
  const Problem p = make_problem(d, N, M, phi, 0.3, 17);
  AdaptiveErmOptions o;
  o.erm.rank = 1;
  o.erm.restarts = 2;
  o.select.rule = SelectionRule::cv_refit;
  o.select.folds = 3;
  o.select.max_degree = 2;
  o.select.max_pieces = 4;
  const AdaptiveErmFit fit = fit_adaptive_erm(p.X, p.Y, N, o);
  REQUIRE(fit.fold_A.size() == 3u);
  REQUIRE(fit.refit_cv.size() == fit.selection.candidates.size());
  for (std::size_t i = 0; i < fit.selection.candidates.size(); ++i) {
    const SplineCandidate& c = fit.selection.candidates[i];
    double sse = 0.0;
    for (int f = 0; f < o.select.folds; ++f) {
      const arma::mat& Af = fit.fold_A[static_cast<std::size_t>(f)];
      const auto u_of = [&](std::size_t col_i, std::size_t col_j) {
        return arma::dot(p.X.col(col_i), Af * p.X.col(col_j));
      };
      double a = INFINITY, b = -INFINITY;
      for (std::size_t m = 0; m < M; ++m)
        for (int s = 0; s < N; ++s)
          for (int t = 0; t < N; ++t)
            if (s != t) {
              const double u = u_of(m * N + s, m * N + t);
              a = std::min(a, u);
              b = std::max(b, u);
            }
      const std::size_t s0 = f * M / o.select.folds, s1 = (f + 1) * M / o.select.folds;
      arma::uvec keep;
      for (std::size_t m = 0; m < M; ++m)
        if (m < s0 || m >= s1) keep.insert_rows(keep.n_elem, arma::regspace<arma::uvec>(m * N, m * N + N - 1));
      const arma::mat Xt = p.X.cols(keep);
      const arma::vec Yt = p.Y.elem(keep);
      const BSplineBasis basis(a, b, c.pieces, c.degree);
      const PairwiseLseFit train = fit_pairwise_lse(basis, Af, N, d, M - (s1 - s0), in_memory_source(Xt, Yt, N));
      for (std::size_t m = s0; m < s1; ++m)
        for (int s = 0; s < N; ++s) {
          double yhat = 0.0;
          for (int t = 0; t < N; ++t)
            if (t != s) yhat += train.phi_hat(u_of(m * N + s, m * N + t));
          const double e = p.Y[m * N + s] - yhat / (N - 1);
          sse += e * e;
        }
    }
    INFO("degree " << c.degree << ", K " << c.pieces);
    CHECK(fit.refit_cv[i] == Approx(sse / static_cast<double>(M * N)).epsilon(1e-8));
    CHECK(c.criterion == fit.refit_cv[i]);
  }
  // The selected candidate is the first within the tie tolerance of the smallest CV_refit.
  CHECK(fit.selection.selected == select_candidate(fit.refit_cv, 1e-10 * fit.selection.yy));
  // A_{-f} is not A_2: the folds did refit A.
  for (const arma::mat& Af : fit.fold_A) CHECK(arma::norm(Af - fit.A, "fro") > 0.0);
}

TEST_CASE("adaptive joint fit: bit-identical at 1 and 2 threads", "[adaptive][erm][reproducibility]") {
  const auto phi = [](double u) { return std::sin(3.0 * u); };
  const int N = 4;
  const Problem p = make_problem(3, N, 600, phi, 0.2, 5);
  for (SelectionRule rule : {SelectionRule::mixture, SelectionRule::cv, SelectionRule::cv_refit}) {
    AdaptiveErmOptions one;
    one.select.rule = rule;
    one.erm.rank = 1;
    one.erm.restarts = 2;
    one.erm.coarse_pieces = 2;
    one.erm.max_iterations = 30;
    one.trim = 10;
    one.select.max_pieces = 8;
    one.erm.threads = one.select.lse.threads = 1;
    AdaptiveErmOptions two = one;
    two.erm.threads = two.select.lse.threads = 2;
    const AdaptiveErmFit f1 = fit_adaptive_erm(p.X, p.Y, N, one);
    const AdaptiveErmFit f2 = fit_adaptive_erm(p.X, p.Y, N, two);
    CHECK(arma::approx_equal(f1.A, f2.A, "absdiff", 0.0));
    CHECK(f1.selection.selected == f2.selection.selected);
    CHECK(f1.selection.a == f2.selection.a);
    CHECK(f1.selection.b == f2.selection.b);
    REQUIRE(f1.selection.candidates.size() == f2.selection.candidates.size());
    for (std::size_t i = 0; i < f1.selection.candidates.size(); ++i) {
      CHECK(f1.selection.candidates[i].criterion == f2.selection.candidates[i].criterion);
      CHECK(arma::approx_equal(f1.selection.candidates[i].coef, f2.selection.candidates[i].coef, "absdiff", 0.0));
    }
    CHECK(f1.refit_cv == f2.refit_cv);
    const auto& t1 = f1.selection.estimate.phi.terms();
    const auto& t2 = f2.selection.estimate.phi.terms();
    REQUIRE(t1.size() == t2.size());
    for (std::size_t t = 0; t < t1.size(); ++t) {
      CHECK(t1[t].basis.pieces() == t2[t].basis.pieces());
      CHECK(arma::approx_equal(t1[t].coef, t2[t].coef, "absdiff", 0.0));
    }
    CHECK(f1.selection.estimate.train_risk == f2.selection.estimate.train_risk);
  }
}

TEST_CASE("adaptive joint fit: the selection interval is the trimmed training range at the fitted A",
          "[adaptive][erm]") {
  const auto phi = [](double u) { return std::tanh(2.0 * u); };
  const int N = 4;
  const Problem p = make_problem(3, N, 400, phi, 0.1, 8);
  AdaptiveErmOptions o;
  o.erm.rank = 1;
  o.erm.restarts = 2;
  o.trim = 25;
  o.select.max_pieces = 4;
  const AdaptiveErmFit fit = fit_adaptive_erm(p.X, p.Y, N, o);
  const auto [a, b] = trimmed_interaction_range(p.X, N, fit.U, fit.V, 25);
  CHECK(fit.selection.a == a);
  CHECK(fit.selection.b == b);
  const auto [a1, b1] = trimmed_interaction_range(p.X, N, fit.pilot.U, fit.pilot.V, 25);
  CHECK(fit.pilot_selection.a == a1);
  CHECK(fit.pilot_selection.b == b1);
}

TEST_CASE("adaptive joint fit: bad options are input errors", "[adaptive][erm]") {
  const auto phi = [](double u) { return u; };
  const int N = 3;
  const Problem p = make_problem(2, N, 50, phi, 0.1, 2);
  AdaptiveErmOptions o;
  o.erm.rank = 1;
  o.pilot_degree = 0;  // the A-step needs phi'
  CHECK_THROWS_AS(fit_adaptive_erm(p.X, p.Y, N, o), InputError);
  o.pilot_degree = 3;
  o.trim = 150;  // 2 trim = M N (N-1) = 300: nothing would remain
  CHECK_THROWS_AS(fit_adaptive_erm(p.X, p.Y, N, o), InputError);
  o.trim = 0;
  o.select.folds = 51;  // more folds than samples
  CHECK_THROWS_AS(fit_adaptive_erm(p.X, p.Y, N, o), InputError);
  CHECK_THROWS_AS(fit_adaptive_erm(p.X, p.Y, 7, AdaptiveErmOptions{}), InputError);  // 150 columns, N = 7
}
