// Least squares with A known: exact recovery, agreement with a dense solve, thread invariance.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <tuple>

#include <catch2/catch.hpp>

#include "estimators/pairwise_lse/pairwise_lse.hpp"
#include "estimators/common/gram.hpp"
#include "estimators/common/random.hpp"
#include "studies/commands/pairwise_fit_json.hpp"
#include "theory/pairwise/pairwise_model.hpp"

using namespace attnrate;

namespace {

// Noiseless data whose phi lies in the spline space of `basis` (coefficients `c`).
struct SplineData {
  arma::mat X;
  arma::vec Y;
};

SplineData spline_data(const BSplineBasis& basis, const arma::vec& c, const arma::mat& A, int N, int d,
                       std::size_t M, std::uint64_t seed, double sigma = 0.0) {
  SplineData s;
  s.X.set_size(d, M * N);
  s.Y.zeros(M * N);
  Rng rng(seed);
  for (auto& v : s.X) v = rng.uniform(-1.0, 1.0);
  for (std::size_t m = 0; m < M; ++m)
    for (int i = 0; i < N; ++i) {
      double sum = 0.0;
      for (int j = 0; j < N; ++j)
        if (j != i) sum += basis.value(c, arma::dot(s.X.col(m * N + i), A * s.X.col(m * N + j)));
      s.Y[m * N + i] = sum / (N - 1) + sigma * rng.normal();
    }
  return s;
}

// Dense feature matrix Psi (MN x p), built naively, for the reference solve.
arma::mat dense_features(const BSplineBasis& basis, const arma::mat& A, const arma::mat& X, int N, std::size_t M) {
  arma::mat Psi(M * N, basis.size(), arma::fill::zeros);
  arma::vec e(basis.size());
  for (std::size_t m = 0; m < M; ++m)
    for (int i = 0; i < N; ++i)
      for (int j = 0; j < N; ++j) {
        if (j == i) continue;
        const double u = arma::dot(X.col(m * N + i), A * X.col(m * N + j));
        for (int k = 0; k < basis.size(); ++k) {
          e.zeros();
          e[k] = 1.0;
          Psi(m * N + i, k) += basis.value(e, u) / (N - 1);
        }
      }
  return Psi;
}

arma::mat test_A(int d, std::uint64_t seed) {
  Rng rng(seed);
  arma::mat U(d, 1), V(d, 1);
  for (auto& v : U) v = rng.normal();
  for (auto& v : V) v = rng.normal();
  return U * V.t() / (arma::norm(U) * arma::norm(V));
}

}  // namespace

TEST_CASE("noiseless data from a spline in the space is recovered exactly", "[lse]") {
  const int N = 5, d = 3;
  const std::size_t M = 3000;
  const arma::mat A = test_A(d, 11);
  // The spline interval covers every interaction of the data set, so nothing is clamped.
  Rng tok(3);
  arma::mat X(d, M * N);
  for (auto& v : X) v = tok.uniform(-1.0, 1.0);
  double lo = 0, hi = 0;
  for (std::size_t m = 0; m < M; ++m)
    for (int i = 0; i < N; ++i)
      for (int j = 0; j < N; ++j)
        if (i != j) {
          const double u = arma::dot(X.col(m * N + i), A * X.col(m * N + j));
          lo = std::min(lo, u);
          hi = std::max(hi, u);
        }
  for (int degree : {0, 1, 3}) {
    const BSplineBasis basis(lo - 1e-9, hi + 1e-9, 6, degree);
    arma::vec c(basis.size());
    Rng rng(5 + degree);
    for (auto& v : c) v = rng.normal();
    const SplineData data = spline_data(basis, c, A, N, d, M, 3);
    const PairwiseLseFit fit = fit_pairwise_lse(basis, A, N, d, M, in_memory_source(data.X, data.Y, N));
    INFO("degree " << degree << " solver " << fit.solution.solver << " rcond " << fit.solution.rcond);
    CHECK(fit.solution.solver == "cholesky");
    CHECK(fit.normal_equations.clamped == 0);
    CHECK(arma::abs(fit.solution.coef - c).max() < 1e-10);
    // train_mse = c^T G c - 2 c^T h + yy cancels to rounding level (~eps * yy), not to 0.
    CHECK(fit.solution.train_mse < 1e-12 * fit.normal_equations.yy);
  }
}

TEST_CASE("streaming normal equations agree with a dense least-squares solve", "[lse]") {
  const int N = 4, d = 2;
  const std::size_t M = 700;  // not a multiple of the block size
  const arma::mat A = test_A(d, 2);
  const BSplineBasis basis(-1.2, 1.2, 5, 2);
  arma::vec c = arma::linspace(-1.0, 1.0, basis.size());
  const SplineData data = spline_data(basis, c, A, N, d, M, 9, 0.3);
  LseOptions opt;
  opt.block_samples = 64;
  const PairwiseLseFit fit = fit_pairwise_lse(basis, A, N, d, M, in_memory_source(data.X, data.Y, N), opt);
  const arma::mat Psi = dense_features(basis, A, data.X, N, M);
  const arma::vec ref = arma::solve(Psi, data.Y);  // QR-based least squares on the dense matrix
  CHECK(arma::abs(fit.solution.coef - ref).max() < 1e-9 * std::max(1.0, arma::abs(ref).max()));
  const double mse_ref = arma::mean(arma::square(data.Y - Psi * ref));
  CHECK(fit.solution.train_mse == Approx(mse_ref).epsilon(1e-8));
  // G and h are the normalised Gram matrix and moment vector of the dense features.
  const double MN = static_cast<double>(M * N);
  CHECK(arma::abs(fit.normal_equations.G - Psi.t() * Psi / MN).max() < 1e-13);
  CHECK(arma::abs(fit.normal_equations.h - Psi.t() * data.Y / MN).max() < 1e-13);
}

TEST_CASE("ridge solution solves the regularised normal equations", "[lse]") {
  const int N = 3, d = 2;
  const std::size_t M = 300;
  const arma::mat A = test_A(d, 4);
  const BSplineBasis basis(-1.0, 1.0, 4, 1);
  const SplineData data = spline_data(basis, arma::ones(basis.size()), A, N, d, M, 5, 0.5);
  const arma::mat Psi = dense_features(basis, A, data.X, N, M);
  const double lambda = 0.05, MN = static_cast<double>(M * N);
  LseOptions opt;
  opt.ridge = lambda;
  const PairwiseLseFit fit = fit_pairwise_lse(basis, A, N, d, M, in_memory_source(data.X, data.Y, N), opt);
  const arma::vec ref = arma::solve(Psi.t() * Psi / MN + lambda * arma::eye(basis.size(), basis.size()),
                                    Psi.t() * data.Y / MN);
  CHECK(arma::abs(fit.solution.coef - ref).max() < 1e-10);
  // Degrees of freedom: the trace of the hat map on the design, tr(G (G + lambda I)^-1).
  const arma::mat G = Psi.t() * Psi / MN;
  const double df = arma::trace(G * arma::inv(G + lambda * arma::eye(basis.size(), basis.size())));
  CHECK(fit.solution.dof == Approx(df).epsilon(1e-10));
  CHECK(fit.solution.dof < basis.size() - 0.5);  // the ridge removes a visible part of p = 5
  opt.ridge = 0.0;
  const PairwiseLseFit ols = fit_pairwise_lse(basis, A, N, d, M, in_memory_source(data.X, data.Y, N), opt);
  CHECK(ols.solution.dof == basis.size());
}

TEST_CASE("basis functions without data get coefficient 0 and the rest is solved exactly", "[lse]") {
  const int N = 3, d = 2;
  const std::size_t M = 200;
  const arma::mat A = test_A(d, 4);
  // A range far wider than the data: the outer pieces carry no interaction at all.
  const BSplineBasis basis(-50.0, 50.0, 40, 0);
  const SplineData data = spline_data(BSplineBasis(-3, 3, 2, 0), arma::vec{1.0, -1.0}, A, N, d, M, 1, 0.1);
  const PairwiseLseFit fit = fit_pairwise_lse(basis, A, N, d, M, in_memory_source(data.X, data.Y, N));
  const arma::mat Psi = dense_features(basis, A, data.X, N, M);
  const arma::uvec empty = arma::find(arma::sum(arma::abs(Psi), 0).t() == 0.0);
  CHECK(empty.n_elem > 30);
  CHECK(fit.solution.unobserved == empty.n_elem);
  CHECK(fit.solution.dof == basis.size() - empty.n_elem);  // functions without data add no parameter
  CHECK_FALSE(fit.solution.fallback);
  CHECK(fit.solution.solver.rfind("cholesky", 0) == 0);
  CHECK(arma::all(fit.solution.coef.elem(empty) == 0.0));
  // The minimum-norm least-squares solution of the dense problem (SVD pseudo-inverse).
  const arma::vec ref = arma::pinv(Psi) * data.Y;
  CHECK(arma::abs(fit.solution.coef - ref).max() < 1e-9);
}

TEST_CASE("collinear features trigger the reported minimum-norm fallback", "[lse]") {
  // A = 0 puts every interaction at u = 0, inside one piece of a degree-1 basis: the two
  // functions that are nonzero there have proportional features, G has rank 1 on them.
  const int N = 3, d = 2;
  const std::size_t M = 100;
  const arma::mat A(d, d, arma::fill::zeros);
  const BSplineBasis basis(-1.0, 1.0, 3, 1);
  const SplineData data = spline_data(basis, arma::ones(basis.size()), A, N, d, M, 2, 0.2);
  const PairwiseLseFit fit = fit_pairwise_lse(basis, A, N, d, M, in_memory_source(data.X, data.Y, N));
  CHECK(fit.solution.fallback);
  CHECK(fit.solution.solver.rfind("min-norm (rank 1 of 2)", 0) == 0);
  CHECK(fit.solution.unobserved == 2);  // p = K + s = 4, two touched
  CHECK(fit.solution.dof == 1.0);       // the rank
  CHECK(fit.solution.coef.is_finite());
  const arma::mat Psi = dense_features(basis, A, data.X, N, M);
  const arma::vec ref = arma::pinv(Psi) * data.Y;
  CHECK(arma::abs(fit.solution.coef - ref).max() < 1e-9);
}

TEST_CASE("normal equations are bit-identical for 1 and 2 threads", "[lse][reproducibility]") {
  PairwiseModelSpec spec;
  spec.activation = "weierstrass:1";
  const PairwiseModel model(spec, 17);
  const BSplineBasis basis(-2.5, 2.5, 20, 1);
  const std::size_t M = 5000;
  SampleBlockSource source = [&model](std::size_t first, std::size_t count, double* X, double* Y) {
    model.draw_samples(99, first, count, X, Y);
  };
  LseOptions one, two;
  one.threads = 1;
  two.threads = 2;
  const PairwiseLseFit f1 = fit_pairwise_lse(basis, model.A(), spec.N, spec.d, M, source, one);
  const PairwiseLseFit f2 = fit_pairwise_lse(basis, model.A(), spec.N, spec.d, M, source, two);
  CHECK(arma::approx_equal(f1.normal_equations.G, f2.normal_equations.G, "absdiff", 0.0));
  CHECK(arma::approx_equal(f1.solution.coef, f2.solution.coef, "absdiff", 0.0));
  CHECK(f1.solution.train_mse == f2.solution.train_mse);
}

TEST_CASE("clamped interactions are counted", "[lse]") {
  PairwiseModelSpec spec;
  const PairwiseModel model(spec, 3);
  const BSplineBasis narrow(-0.5, 0.5, 4, 1);
  SampleBlockSource source = [&model](std::size_t first, std::size_t count, double* X, double* Y) {
    model.draw_samples(1, first, count, X, Y);
  };
  const std::size_t M = 100;
  const NormalEquations ne = accumulate_normal_equations(narrow, model.A(), spec.N, spec.d, M, source);
  // Brute-force count of |u| > 0.5 over the same samples.
  arma::mat X(spec.d, M * spec.N);
  arma::vec Y(M * spec.N);
  model.draw_samples(1, 0, M, X.memptr(), Y.memptr());
  std::size_t outside = 0;
  for (std::size_t m = 0; m < M; ++m)
    for (int i = 0; i < spec.N; ++i)
      for (int j = 0; j < spec.N; ++j)
        if (i != j) {
          const double u = arma::dot(X.col(m * spec.N + i), model.A() * X.col(m * spec.N + j));
          outside += (u < -0.5 || u > 0.5);
        }
  CHECK(outside > 0);
  CHECK(ne.clamped == outside);
  CHECK(ne.interactions == M * spec.N * (spec.N - 1));
}

TEST_CASE("the AVX2 and SSE2 feature kernels give the same bits, for every degree", "[lse][reproducibility]") {
  // Both variants run the same IEEE operations lane by lane; any difference (e.g. a contracted
  // multiply-add, another summation order) shows up as a nonzero difference in G or h.
  // N = 5 leaves padding lanes in the 4-wide interaction vectors; some points are clamped.
  const int N = 5, d = 7;
  const std::size_t M = 300;
  const arma::mat A = test_A(d, 4) * 3.0;
  arma::mat X(d, M * N);
  arma::vec Y(M * N);
  Rng rng(8);
  for (auto& v : X) v = rng.uniform(-1.0, 1.0);
  for (auto& v : Y) v = rng.normal();
  for (int degree = 0; degree <= BSplineBasis::max_degree; ++degree) {
    const BSplineBasis basis(-1.0, 1.2, 13, degree);
    LseOptions base, fast;
    base.allow_avx2 = false;
    base.block_samples = fast.block_samples = 64;
    const NormalEquations a = accumulate_normal_equations(basis, A, N, d, M, in_memory_source(X, Y, N), base);
    const NormalEquations b = accumulate_normal_equations(basis, A, N, d, M, in_memory_source(X, Y, N), fast);
    INFO("degree " << degree);
    CHECK(a.clamped > 0);
    CHECK(a.clamped == b.clamped);
    CHECK(arma::approx_equal(a.G, b.G, "absdiff", 0.0));
    CHECK(arma::approx_equal(a.h, b.h, "absdiff", 0.0));
  }
}

TEST_CASE("features from the source's interactions equal features formed from the tokens, bit for bit", "[lse]") {
  // A model source that also gives its interactions (the fit reads them) against the same source
  // without them (the fit forms them from X): the same normal equations in every bit, for every
  // degree, both kernels, token counts whose N (N - 1) interactions fill 4-lane vectors or not,
  // and a range that clamps some interactions.
  for (const int N : {3, 5, 8}) {
    PairwiseModelSpec spec;
    spec.N = N;
    spec.d = 4;
    spec.activation = "weierstrass:1";
    const PairwiseModel model(spec, 21);
    const std::size_t M = 301;
    const SampleBlockSource plain = [&model](std::size_t first, std::size_t count, double* X, double* Y) {
      model.draw_samples(5, first, count, X, Y);
    };
    const SampleBlockSource given = model.sample_source(5);
    const arma::mat copy = model.A();
    REQUIRE(given.gives_interactions(model.A()));
    REQUIRE(given.gives_interactions(copy));
    REQUIRE_FALSE(given.gives_interactions(copy * 2.0));
    REQUIRE_FALSE(plain.gives_interactions(model.A()));
    for (int degree = 0; degree <= BSplineBasis::max_degree; ++degree)
      for (const bool avx2 : {false, true}) {
        const BSplineBasis basis(-0.8, 0.9, 11, degree);
        LseOptions opt;
        opt.allow_avx2 = avx2;
        opt.block_samples = 64;
        const NormalEquations a = accumulate_normal_equations(basis, model.A(), N, spec.d, M, plain, opt);
        const NormalEquations b = accumulate_normal_equations(basis, model.A(), N, spec.d, M, given, opt);
        INFO("N = " << N << ", degree " << degree << (avx2 ? ", AVX2 where the CPU has it" : ", SSE2"));
        CHECK(a.clamped > 0);
        CHECK(a.clamped == b.clamped);
        CHECK(std::memcmp(a.G.memptr(), b.G.memptr(), a.G.n_elem * sizeof(double)) == 0);
        CHECK(std::memcmp(a.h.memptr(), b.h.memptr(), a.h.n_elem * sizeof(double)) == 0);
        CHECK(a.yy == b.yy);
      }
  }
}

TEST_CASE("in-memory data read in place equals the same data through a generator", "[lse]") {
  const int N = 6, d = 3;
  const std::size_t M = 500;
  const arma::mat A = test_A(d, 5);
  arma::mat X(d, M * N);
  arma::vec Y(M * N);
  Rng rng(9);
  for (auto& v : X) v = rng.uniform(-1.0, 1.0);
  for (auto& v : Y) v = rng.normal();
  const BSplineBasis basis(-1.0, 1.0, 9, 2);
  const SampleBlockSource in_place = in_memory_source(X, Y, N);
  const SampleBlockSource generated = [&](std::size_t first, std::size_t count, double* Xo, double* Yo) {
    for (std::size_t t = 0; t < count * N; ++t) {
      for (int r = 0; r < d; ++r) Xo[t * d + r] = X(r, first * N + t);
      Yo[t] = Y[first * N + t];
    }
  };
  REQUIRE(in_place.in_memory());
  REQUIRE_FALSE(generated.in_memory());
  const NormalEquations a = accumulate_normal_equations(basis, A, N, d, M, in_place);
  const NormalEquations b = accumulate_normal_equations(basis, A, N, d, M, generated);
  CHECK(arma::approx_equal(a.G, b.G, "absdiff", 0.0));
  CHECK(arma::approx_equal(a.h, b.h, "absdiff", 0.0));
  CHECK(a.yy == b.yy);
}

TEST_CASE("the data's interaction range ends at interactions of the accumulation, so none is clamped", "[lse]") {
  // The default spline interval of `fit pairwise` is [min u, max u] over the data; formed in
  // another summation order (BLAS), an end could lie one rounding inside an interaction of the
  // fit, which then counted as clamped although it is not outside.
  for (const auto& [d, N, seed] : {std::tuple{5, 8, 1u}, std::tuple{4, 5, 2u}, std::tuple{8, 3, 3u}, std::tuple{3, 4, 4u}}) {
    PairwiseModelSpec spec;
    spec.d = d;
    spec.N = N;
    spec.r = 2;
    const PairwiseModel model(spec, seed);
    const std::size_t M = 2000;
    arma::mat X;
    arma::vec Y;
    model.draw_samples_into(seed + 10, M, X, Y, 1);
    const auto [a, b] = interaction_range(X, model.A(), M, N);
    INFO("d = " << d << ", N = " << N);
    const auto clamped = [&](double lo, double hi) {
      return accumulate_normal_equations(BSplineBasis(lo, hi, 8, 3), model.A(), N, d, M, in_memory_source(X, Y, N))
          .clamped;
    };
    CHECK(clamped(a, b) == 0);
    // The ends are interactions: one ulp inward clamps each.
    CHECK(clamped(std::nextafter(a, b), b) >= 1);
    CHECK(clamped(a, std::nextafter(b, a)) >= 1);
  }
}

TEST_CASE("a range stretched by one extreme token is warned about, with the bulk of the interactions", "[lse]") {
  PairwiseModelSpec spec;
  spec.d = 5;
  spec.N = 8;
  spec.r = 2;
  const PairwiseModel model(spec, 3);
  const int N = spec.N;
  const std::size_t M = 500;
  arma::mat X;
  arma::vec Y;
  model.draw_samples_into(13, M, X, Y, 1);
  // Brute force: every interaction x_i^T A x_j, sorted; t cut at each end as documented.
  const auto bulk_of = [&](const arma::mat& Xs) {
    std::vector<double> u;
    for (std::size_t m = 0; m < M; ++m)
      for (int i = 0; i < N; ++i)
        for (int j = 0; j < N; ++j)
          if (i != j) u.push_back(arma::dot(Xs.col(m * N + i), model.A() * Xs.col(m * N + j)));
    std::sort(u.begin(), u.end());
    const std::size_t n = u.size(), t = std::max<std::size_t>(static_cast<std::size_t>(1e-4 * (n - 1)), 2 * (N - 1));
    return std::tuple{u.front(), u.back(), u[t], u[n - 1 - t]};
  };
  const auto near = [](double x, double y) { return std::abs(x - y) <= 1e-12 * std::max(1.0, std::abs(y)); };
  // The interval and the bulk as brute force finds them.
  const auto checked_range = [&](const arma::mat& Xs) {
    const KnownARange r = known_A_range(Xs, model.A(), M, N, std::nullopt, "--range a,b", 1);
    const auto [lo, hi, qlo, qhi] = bulk_of(Xs);
    CHECK(near(r.a, lo));
    CHECK(near(r.b, hi));
    REQUIRE(r.bulk);
    CHECK(near(r.bulk->first, qlo));
    CHECK(near(r.bulk->second, qhi));
    return r;
  };
  SECTION("clean data: no warning") { CHECK(checked_range(X).warnings.empty()); }
  SECTION("the warning comes exactly when the rest span under a third") {
    // One token scaled by 1.25^k stretches the interval more and more: the warning follows the
    // rule, including where the rest span between a third and a half (no warning).
    bool between = false, warned = false;
    for (int k = 0; k <= 24; ++k) {
      arma::mat Xo = X;
      Xo.col(17 * N + 3) *= std::pow(1.25, k);
      const KnownARange r = checked_range(Xo);
      const double share = (r.bulk->second - r.bulk->first) / (r.b - r.a);
      INFO("k " << k << ", bulk share " << share);
      CHECK(r.warnings.empty() == !(share < 1.0 / 3.0));
      between = between || (share > 1.0 / 3.0 && share < 0.5);
      warned = warned || !r.warnings.empty();
    }
    CHECK(between);
    CHECK(warned);
  }
  SECTION("one token 60 times larger: the warning gives the bulk as --range") {
    arma::mat Xo = X;
    Xo.col(17 * N + 3) *= 60.0;
    const KnownARange r = checked_range(Xo);
    CHECK(r.bulk->second - r.bulk->first < (r.b - r.a) / 3.0);
    REQUIRE(r.warnings.size() == 1);
    CHECK_THAT(r.warnings[0], Catch::Contains("give --range"));
    // A given range is used as it is, without the scan or a warning.
    const KnownARange given = known_A_range(Xo, model.A(), M, N, std::pair{-1.0, 1.0}, "--range a,b", 1);
    CHECK(given.a == -1.0);
    CHECK(given.b == 1.0);
    CHECK(given.warnings.empty());
    CHECK_FALSE(given.bulk);
  }
}

TEST_CASE("a block's normal equations from the Gram matrix of (psi, y): every path, and their reduction",
          "[lse]") {
  // Against Armadillo's Z = PsiY PsiY^T: the Gram kernel (p + 1 <= 128), dsyrk (p + 1 > 128) and
  // the sparse outer products; then reduce_normal_equations' G, h, yy against their definitions.
  Rng rng(77);
  for (const auto& [p, sparse] : {std::pair{40, false}, std::pair{127, false}, std::pair{150, false},
                                  std::pair{150, true}}) {
    const std::size_t cols = 300, q = static_cast<std::size_t>(p) + 1;
    arma::mat PsiY(q, cols, arma::fill::zeros);
    for (std::size_t t = 0; t < cols; ++t) {
      for (int j = 0; j < 7; ++j) PsiY(static_cast<arma::uword>(rng.uniform() * p), t) += rng.uniform();  // sparse features
      PsiY(p, t) = rng.normal();                                                                           // the output
    }
    PartialNormalEquations part;
    part.Z.zeros(q, q);
    std::vector<int> touched;
    add_block_normal_equations(PsiY.memptr(), p, cols / 2, sparse, part, touched);  // two blocks into one part
    add_block_normal_equations(PsiY.colptr(cols / 2), p, cols - cols / 2, sparse, part, touched);
    INFO("p " << p << (sparse ? ", sparse" : ", dense"));
    REQUIRE(part.Z.n_rows == q);
    const arma::mat Z = PsiY * PsiY.t();
    const arma::mat abs_sum = arma::abs(PsiY) * arma::abs(PsiY).t();
    CHECK(arma::all(arma::vectorise(arma::trimatu(arma::abs(part.Z - Z)) <= 4.0 * cols * 0x1p-53 * arma::trimatu(abs_sum))));
    const NormalEquations ne = reduce_normal_equations({part}, p, cols / 4, 4, 0.5);  // M N = cols; features scaled by 1/2
    const arma::mat Psi = PsiY.head_rows(p) * 0.5;
    const arma::vec y = PsiY.row(p).t();
    CHECK(arma::approx_equal(ne.G, Psi * Psi.t() / cols, "both", 1e-13, 1e-12));
    CHECK(arma::approx_equal(ne.h, Psi * y / cols, "both", 1e-13, 1e-12));
    CHECK(ne.yy == Approx(arma::dot(y, y) / cols).epsilon(1e-12));
    // The features in other rows (function k in row rows[k]; here reversed halves, so that
    // entries cross the diagonal): reduced with the row map, the same G, h and yy, bit for bit
    // where each entry is one sum in column order (the Gram kernel, the sparse path; dsyrk's
    // blocking may follow the rows).
    std::vector<int> rows(static_cast<std::size_t>(p));
    for (int k = 0; k < p; ++k) rows[static_cast<std::size_t>(k)] = k < p / 2 ? p / 2 - 1 - k : p - 1 - (k - p / 2);
    arma::mat moved(q, cols);
    for (int k = 0; k < p; ++k) moved.row(rows[static_cast<std::size_t>(k)]) = PsiY.row(k);
    moved.row(p) = PsiY.row(p);
    PartialNormalEquations moved_part;
    moved_part.Z.zeros(q, q);
    add_block_normal_equations(moved.memptr(), p, cols / 2, sparse, moved_part, touched);
    add_block_normal_equations(moved.colptr(cols / 2), p, cols - cols / 2, sparse, moved_part, touched);
    const NormalEquations back = reduce_normal_equations({moved_part}, p, cols / 4, 4, 0.5, rows);
    if (sparse || q <= static_cast<std::size_t>(kGramMaxRows)) {
      CHECK(std::memcmp(back.G.memptr(), ne.G.memptr(), ne.G.n_elem * sizeof(double)) == 0);
      CHECK(std::memcmp(back.h.memptr(), ne.h.memptr(), ne.h.n_elem * sizeof(double)) == 0);
      CHECK(back.yy == ne.yy);
    } else {
      CHECK(arma::approx_equal(back.G, ne.G, "both", 1e-13, 1e-12));
      CHECK(arma::approx_equal(back.h, ne.h, "both", 1e-13, 1e-12));
      CHECK(back.yy == Approx(ne.yy).epsilon(1e-12));
    }
  }
}
