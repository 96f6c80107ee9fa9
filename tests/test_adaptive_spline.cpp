// The adaptive spline estimator: the pieces grid, the fold statistics (CV from per-fold normal
// equations equals CV computed by brute force on the samples), the selection of an exact spline
// space from noiseless data by every rule, the mixture's weights, values and training risk
// against brute force, and bit-identical selections at 1 and 2 threads.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "estimators/common/input_error.hpp"
#include "estimators/pairwise_lse/adaptive_spline.hpp"
#include "theory/pairwise/pairwise_model.hpp"

using namespace attnrate;

namespace {

// Tokens from the model, outputs Y_i = 1/(N-1) sum_{j != i} S(X_i^T A X_j) (+ sigma noise) with
// S a given spline (evaluated clamped, like the features).
struct SplineData {
  arma::mat X;
  arma::vec Y;
};

SplineData spline_data(const PairwiseModel& model, int N, int d, std::size_t M, const BSplineBasis& basis,
                       const arma::vec& coef, double sigma, std::uint64_t seed) {
  SplineData data;
  data.X.set_size(d, M * N);
  data.Y.set_size(M * N);
  model.draw_samples(seed, 0, M, data.X.memptr(), data.Y.memptr());
  arma::arma_rng::set_seed(seed);
  const arma::vec noise = arma::randn(M * N);
  for (std::size_t m = 0; m < M; ++m)
    for (int i = 0; i < N; ++i) {
      double y = 0.0;
      for (int j = 0; j < N; ++j)
        if (j != i) {
          const double u = arma::dot(data.X.col(m * N + i), model.A() * data.X.col(m * N + j));
          y += basis.value(coef, u);
        }
      data.Y[m * N + i] = y / (N - 1) + sigma * noise[m * N + i];
    }
  return data;
}

// phi of the selection tests, S(2, 4): a degree-2 spline with K = 4 pieces on [-2.5, 2.5] and
// generic coefficients.
const BSplineBasis kS24(-2.5, 2.5, 4, 2);
const arma::vec kS24Coef{1.0, -0.7, 0.4, 1.3, -0.2, 0.9};

SplineData s24_data(const PairwiseModel& model, int N, int d, std::size_t M, double sigma, std::uint64_t seed) {
  return spline_data(model, N, d, M, kS24, kS24Coef, sigma, seed);
}

}  // namespace

TEST_CASE("adaptive spline: the pieces grid and K_max", "[adaptive]") {
  CHECK(adaptive_pieces_grid(1, 20) == std::vector<int>{1, 2, 4, 8, 16});
  CHECK(adaptive_pieces_grid(3, 24) == std::vector<int>{3, 6, 12, 24});
  CHECK(adaptive_pieces_grid(5, 2) == std::vector<int>{5});
  CHECK(adaptive_max_pieces(8000) == static_cast<int>(std::floor(8000 / std::pow(std::log(8000.0), 2))));
  CHECK(adaptive_max_pieces(8000) == 99);
  CHECK(adaptive_max_pieces(2) == 4);  // 2 / ln(2)^2 = 4.16
  CHECK(adaptive_max_pieces(1) == 1);
  CHECK(parse_selection_rule("cv") == SelectionRule::cv);
  CHECK(parse_selection_rule("penalty") == SelectionRule::penalty);
  CHECK(parse_selection_rule("mixture") == SelectionRule::mixture);
  CHECK_THROWS_AS(parse_selection_rule("aic"), InputError);
}

TEST_CASE("adaptive spline: selection ties go to the smallest p", "[adaptive]") {
  CHECK(select_candidate({3.0, 1.0, 1.0, 2.0}, 0.0) == 1);
  CHECK(select_candidate({1.0 + 1e-12, 1.0, 5.0}, 0.0) == 0);  // within 1e-9 relative
  CHECK(select_candidate({1e-14, 1e-16, 2.0}, 1e-12) == 0);     // both below the rounding floor
  CHECK(select_candidate({std::nan(""), 2.0}, 0.0) == 1);
  CHECK(select_candidate({std::nan("")}, 0.0) == 1);
}

TEST_CASE("adaptive spline: CV from fold statistics equals brute-force CV on the samples", "[adaptive]") {
  PairwiseModelSpec spec;
  const int N = spec.N, d = spec.d;
  const PairwiseModel model(spec, 7);
  const double a = -2.0, b = 2.0;
  const std::size_t M = 103;  // folds of unequal size
  const BSplineBasis truth(a, b, 3, 1);
  const SplineData data = spline_data(model, N, d, M, truth, arma::vec{0.5, -1.0, 2.0, 0.3}, 0.3, 21);
  const SampleBlockSource source = in_memory_source(data.X, data.Y, N);
  AdaptiveSplineOptions opt;
  opt.max_degree = 2;
  opt.max_pieces = 8;
  opt.folds = 4;
  const AdaptiveSplineFit fit = fit_adaptive_spline(a, b, model.A(), N, d, M, source, opt);
  REQUIRE(fit.candidates.size() == 3 * 4);
  for (const auto& c : fit.candidates) {
    // Brute force: refit on the other folds' samples by a direct pass, score each held-out output.
    const BSplineBasis basis(a, b, c.pieces, c.degree);
    double sse = 0.0;
    REQUIRE(c.fold_risk.size() == static_cast<std::size_t>(opt.folds));
    for (int f = 0; f < opt.folds; ++f) {
      double fold_sse = 0.0;
      const std::size_t s0 = f * M / opt.folds, s1 = (f + 1) * M / opt.folds;
      arma::uvec keep;
      for (std::size_t m = 0; m < M; ++m)
        if (m < s0 || m >= s1) keep.insert_rows(keep.n_elem, arma::regspace<arma::uvec>(m * N, m * N + N - 1));
      const arma::mat Xt = data.X.cols(keep);
      const arma::vec Yt = data.Y.elem(keep);
      const PairwiseLseFit train =
          fit_pairwise_lse(basis, model.A(), N, d, M - (s1 - s0), in_memory_source(Xt, Yt, N));
      for (std::size_t m = s0; m < s1; ++m)
        for (int i = 0; i < N; ++i) {
          double yhat = 0.0;
          for (int j = 0; j < N; ++j)
            if (j != i) yhat += train.phi_hat(arma::dot(data.X.col(m * N + i), model.A() * data.X.col(m * N + j)));
          const double e = data.Y[m * N + i] - yhat / (N - 1);
          fold_sse += e * e;
        }
      CHECK(c.fold_risk[f] == Approx(fold_sse / ((s1 - s0) * N)).epsilon(1e-9));
      sse += fold_sse;
    }
    INFO("degree " << c.degree << ", K " << c.pieces);
    CHECK(c.cv_risk == Approx(sse / (M * N)).epsilon(1e-9));
    const PairwiseLseFit full = fit_pairwise_lse(basis, model.A(), N, d, M, source);
    CHECK(c.train_risk == Approx(full.solution.train_mse).epsilon(1e-9));
  }
}

TEST_CASE("adaptive spline: noiseless data from S(2, 4) select S(2, 4) under every rule", "[adaptive]") {
  // phi is a degree-2 spline with K = 4 pieces on [a, b] (generic coefficients, so it lies in no
  // space of lower degree or fewer pieces, nor in S(3, K) for any K: the cubic candidates are
  // C^2 at the knots, phi is only C^1). Its supersets among the candidates are S(2, 8) and
  // S(2, 16): they fit as exactly (criteria tie at the rounding level) but have more functions,
  // so the tie rule (cv) or the penalties (BIC, C_p), increasing in p, must pick S(2, 4); the
  // mixture is then that space alone (exact fit: the selection). Every candidate that
  // does not contain phi must have a criterion clearly above the rounding floor (here: 100 times
  // the tie floor 1e-10 yy).
  PairwiseModelSpec spec;
  const int N = spec.N, d = spec.d;
  const PairwiseModel model(spec, 3);
  const double a = -2.5, b = 2.5;
  const BSplineBasis& truth = kS24;
  const arma::vec& coef = kS24Coef;
  const std::size_t M = 400;
  const SplineData data = s24_data(model, N, d, M, 0.0, 5);
  const SampleBlockSource source = in_memory_source(data.X, data.Y, N);
  for (SelectionRule rule : {SelectionRule::cv, SelectionRule::penalty, SelectionRule::mixture}) {
    AdaptiveSplineOptions opt;
    opt.rule = rule;
    opt.max_pieces = 16;
    const AdaptiveSplineFit fit = fit_adaptive_spline(a, b, model.A(), N, d, M, source, opt);
    REQUIRE(fit.candidates.size() == 4 * 5);
    const SplineCandidate& sel = fit.candidates[fit.selected];
    INFO("rule " << to_string(rule) << ": selected degree " << sel.degree << ", K " << sel.pieces);
    CHECK(sel.degree == 2);
    CHECK(sel.pieces == 4);
    CHECK(!sel.flagged);
    CHECK(arma::abs(sel.coef - coef).max() < 1e-8);
    for (const auto& c : fit.candidates) {
      const bool contains = c.degree == 2 && c.pieces >= 4;
      INFO("degree " << c.degree << ", K " << c.pieces << ": criterion " << c.criterion);
      // Fitted exactly: risks at rounding level. (The penalty adds sigma2_hat p ln(n) / n, with
      // sigma2_hat > 0 from the misfit of the largest candidate S(3, 16), so it grows with p.)
      if (contains) {
        CHECK(c.train_risk <= 1e-10 * fit.yy);
        CHECK(c.cv_risk <= 1e-10 * fit.yy);
      }
      else CHECK(c.criterion > 1e-8 * fit.yy);  // 100 times the tie floor
    }
    // phi_hat: the selected space's fit, or (mixture) a mixture of S(2, 4), S(2, 8), S(2, 16),
    // each of which fits phi exactly, so phi_hat is phi whatever the weights.
    for (double u = a; u <= b; u += 0.37) CHECK(fit.phi_hat(u) == Approx(truth.value(coef, u)).margin(1e-8));
    REQUIRE(fit.estimate.phi.terms().size() == 1);
    CHECK(fit.estimate.phi.terms()[0].basis.degree() == 2);
    CHECK(fit.estimate.train_risk <= 1e-10 * fit.yy);
  }
}

TEST_CASE("adaptive spline: the mixture's weights", "[adaptive]") {
  // w_i = exp(-(cp_i - cp_min) / (4 sigma2 / n)) over the used finite values, normalised.
  const double s2 = 2.0, n = 1000.0, T = 4.0 * s2 / n;
  const std::vector<double> cp{1.0, 1.0 + T, 1.0 + 2.0 * T, 0.5, std::nan(""), 1.0 + 40.0 * T};
  const std::vector<bool> use{true, true, true, false, true, true};
  const std::vector<double> w = mixture_weights(cp, use, s2, n);
  const double z = 1.0 + std::exp(-1.0) + std::exp(-2.0);  // exp(-40) < 2^-53: dropped
  CHECK(w[0] == Approx(1.0 / z).epsilon(1e-14));
  CHECK(w[1] == Approx(std::exp(-1.0) / z).epsilon(1e-14));
  CHECK(w[2] == Approx(std::exp(-2.0) / z).epsilon(1e-14));
  CHECK(w[3] == 0.0);  // not used (another degree), although the smallest
  CHECK(w[4] == 0.0);  // not finite
  CHECK(w[5] == 0.0);  // below 2^-53 of the largest
  // sigma2_hat = 0: all weight on the smallest used value (the selection).
  CHECK(mixture_weights(cp, use, 0.0, n) == std::vector<double>{1.0, 0.0, 0.0, 0.0, 0.0, 0.0});
  CHECK(mixture_weights({std::nan("")}, {true}, s2, n) == std::vector<double>{0.0});
}

TEST_CASE("adaptive spline: the mixture is sum_i w_i phi_i, with its training risk", "[adaptive]") {
  PairwiseModelSpec spec;
  const int N = spec.N, d = spec.d;
  const PairwiseModel model(spec, 11);
  const double a = -2.5, b = 2.5;
  const std::size_t M = 300;
  const SplineData data = s24_data(model, N, d, M, 0.5, 9);
  // K_max = 16: the top of the grid carries a weight; 512: it does not (its C_p is far above), so
  // the mixture lives on K below the top. With degrees 0..3 phi_hat sums one spline per degree and
  // its training risk takes a pass over the samples; with degree 0 alone it is one spline, whose
  // training risk comes from the (restricted) normal equations.
  const std::vector<std::pair<int, int>> grids{{3, 16}, {3, 512}, {0, 512}};
  for (const auto& [max_degree, max_pieces] : grids) {
    INFO("max_degree " << max_degree << ", max_pieces " << max_pieces);
    AdaptiveSplineOptions opt;  // mixture is the default
    opt.max_degree = max_degree;
    opt.max_pieces = max_pieces;
    const AdaptiveSplineFit fit = fit_adaptive_spline(a, b, model.A(), N, d, M, in_memory_source(data.X, data.Y, N), opt);
    REQUIRE(fit.rule == SelectionRule::mixture);
    // Weights from the candidates' C_p, recomputed from their training risks, over every candidate.
    const double n = static_cast<double>(M * N);
    std::vector<double> cp;
    for (const SplineCandidate& c : fit.candidates) {
      CHECK(c.cp == Approx(c.train_risk + 2.0 * fit.sigma2_hat * c.dof / n).epsilon(1e-14));
      cp.push_back(c.cp);
    }
    const std::vector<double> w = mixture_weights(cp, std::vector<bool>(cp.size(), true), fit.sigma2_hat, n);
    double total = 0.0;
    int mixed = 0;
    std::vector<int> largest(static_cast<std::size_t>(max_degree) + 1, 0);  // per degree: the largest K with a weight
    for (std::size_t i = 0; i < w.size(); ++i) {
      CHECK(fit.candidates[i].weight == w[i]);
      total += w[i];
      mixed += w[i] > 0.0;
      if (w[i] > 0.0) {
        int& k = largest[static_cast<std::size_t>(fit.candidates[i].degree)];
        k = std::max(k, fit.candidates[i].pieces);
      }
    }
    CHECK(total == Approx(1.0).epsilon(1e-14));
    CHECK(mixed >= 2);  // a real mixture at this noise level, not one candidate
    // One term per degree with a weight, in ascending degree, on that degree's largest weighted K.
    std::vector<std::pair<int, int>> want, got;
    for (int s = 0; s <= max_degree; ++s)
      if (largest[static_cast<std::size_t>(s)] > 0) want.emplace_back(s, largest[static_cast<std::size_t>(s)]);
    for (const SplineTerm& t : fit.estimate.phi.terms()) got.emplace_back(t.basis.degree(), t.basis.pieces());
    CHECK(got == want);
    if (max_degree == 3) CHECK(got.size() >= 2);  // a mixture across degrees
    if (max_pieces == 512) CHECK(std::all_of(got.begin(), got.end(), [](const auto& t) { return t.second < 512; }));
    // Degree 0 alone: one spline below the top of its grid, whose training risk comes from the
    // top's normal equations restricted to it.
    if (max_degree == 0) REQUIRE((got.size() == 1 && got[0].second < max_pieces));
    for (double u = a - 0.1; u <= b + 0.1; u += 0.013) {
      double mix = 0.0;
      for (std::size_t i = 0; i < w.size(); ++i)
        if (w[i] > 0.0) mix += w[i] * fit.value(i, u);
      CHECK(fit.phi_hat(u) == Approx(mix).epsilon(1e-12).margin(1e-13));
    }
    // Training risk by brute force on the samples.
    double sse = 0.0;
    for (std::size_t m = 0; m < M; ++m)
      for (int i = 0; i < N; ++i) {
        double yhat = 0.0;
        for (int j = 0; j < N; ++j)
          if (j != i) yhat += fit.phi_hat(arma::dot(data.X.col(m * N + i), model.A() * data.X.col(m * N + j)));
        const double e = data.Y[m * N + i] - yhat / (N - 1);
        sse += e * e;
      }
    CHECK(fit.estimate.train_risk == Approx(sse / n).epsilon(1e-9));
  }
}

TEST_CASE("adaptive spline: C_p, the penalty and sigma2_hat count the degrees of freedom, not p", "[adaptive]") {
  // An interval far wider than the interactions: at large K most basis functions see no data, and
  // a fit there has as many free parameters as functions with data (counted here by brute force).
  PairwiseModelSpec spec;
  const int N = spec.N, d = spec.d;
  const PairwiseModel model(spec, 11);
  const double a = -40.0, b = 40.0;
  const std::size_t M = 300;
  const SplineData data = s24_data(model, N, d, M, 0.5, 9);
  AdaptiveSplineOptions opt;
  opt.max_pieces = 64;
  const AdaptiveSplineFit fit = fit_adaptive_spline(a, b, model.A(), N, d, M, in_memory_source(data.X, data.Y, N), opt);
  const double n = static_cast<double>(M * N);
  double sigma2 = std::numeric_limits<double>::infinity();
  int reduced = 0;
  for (std::size_t k = 0; k < fit.candidates.size(); ++k) {
    const SplineCandidate& c = fit.candidates[k];
    INFO("degree " << c.degree << ", K = " << c.pieces);
    const BSplineBasis basis = fit.basis(k);
    std::vector<bool> seen(static_cast<std::size_t>(basis.size()), false);
    std::vector<double> values(static_cast<std::size_t>(c.degree) + 1);
    for (std::size_t m = 0; m < M; ++m)
      for (int i = 0; i < N; ++i)
        for (int j = 0; j < N; ++j)
          if (j != i) {
            const double u = arma::dot(data.X.col(m * N + i), model.A() * data.X.col(m * N + j));
            const BasisSpan span = basis.evaluate(u, values.data());
            for (int q = 0; q <= c.degree; ++q)
              if (values[static_cast<std::size_t>(q)] != 0.0) seen[static_cast<std::size_t>(span.first + q)] = true;
          }
    const double with_data = static_cast<double>(std::count(seen.begin(), seen.end(), true));
    CHECK(c.dof == with_data);
    reduced += c.dof < c.p;
    CHECK(c.cp == Approx(c.train_risk + 2.0 * fit.sigma2_hat * with_data / n).epsilon(1e-14));
    CHECK(c.penalised == Approx(c.train_risk + opt.penalty * fit.sigma2_hat * with_data * std::log(n) / n).epsilon(1e-14));
    sigma2 = std::min(sigma2, n * c.train_risk / (n - with_data));
  }
  CHECK(reduced > 10);
  CHECK(fit.sigma2_hat == Approx(sigma2).epsilon(1e-14));
}

TEST_CASE("adaptive spline: the selection is bit-identical at 1 and 2 threads", "[adaptive][reproducibility]") {
  PairwiseModelSpec spec;
  spec.activation = "weierstrass:1";
  const PairwiseModel model(spec, 17);
  SampleBlockSource source = [&model](std::size_t first, std::size_t count, double* X, double* Y) {
    model.draw_samples(99, first, count, X, Y);
  };
  for (SelectionRule rule : {SelectionRule::cv, SelectionRule::penalty, SelectionRule::mixture}) {
    AdaptiveSplineOptions one, two;
    one.rule = two.rule = rule;
    one.lse.threads = 1;
    two.lse.threads = 2;
    const AdaptiveSplineFit f1 = fit_adaptive_spline(-2.5, 2.5, model.A(), spec.N, spec.d, 2000, source, one);
    const AdaptiveSplineFit f2 = fit_adaptive_spline(-2.5, 2.5, model.A(), spec.N, spec.d, 2000, source, two);
    CHECK(f1.selected == f2.selected);
    REQUIRE(f1.candidates.size() == f2.candidates.size());
    for (std::size_t i = 0; i < f1.candidates.size(); ++i) {
      CHECK(f1.candidates[i].criterion == f2.candidates[i].criterion);
      CHECK(arma::approx_equal(f1.candidates[i].coef, f2.candidates[i].coef, "absdiff", 0.0));
    }
    CHECK(f1.sigma2_hat == f2.sigma2_hat);
    // The mixture sums several degrees here, so its training risk comes from the pass over the samples.
    if (rule == SelectionRule::mixture) REQUIRE(f1.estimate.phi.terms().size() >= 2);
    REQUIRE(f1.estimate.phi.terms().size() == f2.estimate.phi.terms().size());
    for (std::size_t t = 0; t < f1.estimate.phi.terms().size(); ++t)
      CHECK(arma::approx_equal(f1.estimate.phi.terms()[t].coef, f2.estimate.phi.terms()[t].coef, "absdiff", 0.0));
    CHECK(f1.estimate.train_risk == f2.estimate.train_risk);
  }
}

TEST_CASE("adaptive spline: samples drawn once in memory give the fit of samples drawn per pass", "[adaptive][reproducibility]") {
  // minimax-rate's adaptive cells keep the samples in memory across the passes (one per degree,
  // and the mixture's training risk) when they fit: the same bits as drawing them again, block by
  // block, on every pass.
  PairwiseModelSpec spec;
  spec.activation = "weierstrass:1";
  const PairwiseModel model(spec, 23);
  const std::size_t M = 1500;
  SampleBlockSource streamed = [&model](std::size_t first, std::size_t count, double* X, double* Y) {
    model.draw_samples(7, first, count, X, Y);
  };
  arma::mat X;
  arma::vec Y;
  model.draw_samples_into(7, M, X, Y, 2);
  // The same bits as drawing in blocks unlike its own, one thread.
  arma::mat X100(spec.d, M * spec.N);
  arma::vec Y100(M * spec.N);
  for (std::size_t first = 0; first < M; first += 100)
    model.draw_samples(7, first, std::min<std::size_t>(100, M - first), X100.colptr(first * spec.N),
                       Y100.memptr() + first * spec.N);
  CHECK(arma::approx_equal(X, X100, "absdiff", 0.0));
  CHECK(arma::approx_equal(Y, Y100, "absdiff", 0.0));
  AdaptiveSplineOptions opt;
  opt.lse.threads = 2;
  const AdaptiveSplineFit a = fit_adaptive_spline(-2.5, 2.5, model.A(), spec.N, spec.d, M, streamed, opt);
  const AdaptiveSplineFit b = fit_adaptive_spline(-2.5, 2.5, model.A(), spec.N, spec.d, M, in_memory_source(X, Y, spec.N), opt);
  CHECK(a.selected == b.selected);
  CHECK(a.yy == b.yy);
  REQUIRE(a.candidates.size() == b.candidates.size());
  for (std::size_t i = 0; i < a.candidates.size(); ++i) {
    CHECK(a.candidates[i].cv_risk == b.candidates[i].cv_risk);
    CHECK(arma::approx_equal(a.candidates[i].coef, b.candidates[i].coef, "absdiff", 0.0));
  }
  REQUIRE(a.estimate.phi.terms().size() >= 2);  // the pass over the samples is taken
  // Without the estimate (a caller that reads the selection only): the same candidates and
  // selection, and phi_hat is the selected candidate.
  AdaptiveSplineOptions selection_only = opt;
  selection_only.form_estimate = false;
  const AdaptiveSplineFit s = fit_adaptive_spline(-2.5, 2.5, model.A(), spec.N, spec.d, M, streamed, selection_only);
  CHECK(s.selected == a.selected);
  REQUIRE(s.candidates.size() == a.candidates.size());
  for (std::size_t i = 0; i < s.candidates.size(); ++i) CHECK(s.candidates[i].cp == a.candidates[i].cp);
  REQUIRE(s.estimate.phi.terms().size() == 1);
  CHECK(arma::approx_equal(s.estimate.phi.terms()[0].coef, a.candidates[a.selected].coef, "absdiff", 0.0));
  REQUIRE(a.estimate.phi.terms().size() == b.estimate.phi.terms().size());
  for (std::size_t t = 0; t < a.estimate.phi.terms().size(); ++t)
    CHECK(arma::approx_equal(a.estimate.phi.terms()[t].coef, b.estimate.phi.terms()[t].coef, "absdiff", 0.0));
  CHECK(a.estimate.train_risk == b.estimate.train_risk);
}

TEST_CASE("adaptive spline: bad options are input errors", "[adaptive]") {
  PairwiseModelSpec spec;
  const PairwiseModel model(spec, 1);
  SampleBlockSource source = [&model](std::size_t first, std::size_t count, double* X, double* Y) {
    model.draw_samples(1, first, count, X, Y);
  };
  AdaptiveSplineOptions opt;
  opt.folds = 6;
  CHECK_THROWS_AS(fit_adaptive_spline(-1, 1, model.A(), spec.N, spec.d, 5, source, opt), InputError);
  opt.folds = 1;
  CHECK_THROWS_AS(fit_adaptive_spline(-1, 1, model.A(), spec.N, spec.d, 50, source, opt), InputError);
  opt.folds = 5;
  opt.max_degree = 11;
  CHECK_THROWS_AS(fit_adaptive_spline(-1, 1, model.A(), spec.N, spec.d, 50, source, opt), InputError);
}
