// Knot insertion between nested clamped uniform B-spline bases: the refinement matrix reproduces
// every coarse B-spline from the fine ones (checked against direct de Boor evaluation), and the
// coarse normal equations from R equal those of a direct pass with the coarse basis.
#include <catch2/catch.hpp>

#include "estimators/common/input_error.hpp"
#include "estimators/common/random.hpp"
#include "estimators/knot_insertion.hpp"
#include "estimators/pairwise_lse/pairwise_lse.hpp"
#include "theory/pairwise/pairwise_model.hpp"

using namespace attnrate;

namespace {

arma::vec dense_basis(const BSplineBasis& basis, double u) {
  arma::vec v(basis.size(), arma::fill::zeros);
  double values[BSplineBasis::max_degree + 1];
  const BasisSpan span = basis.evaluate(u, values);
  for (int q = 0; q <= basis.degree(); ++q) v[span.first + q] = values[q];
  return v;
}

}  // namespace

TEST_CASE("knot insertion: R^T B_fine(u) = B_coarse(u)", "[knot-insertion]") {
  for (int s = 0; s <= 3; ++s)
    for (int K : {1, 2, 3, 5})
      for (int j : {0, 1, 2, 3}) {
        const double a = -1.3, b = 2.1;
        const BSplineBasis coarse(a, b, K, s), fine(a, b, K << j, s);
        const arma::mat R = refinement_matrix(coarse, fine);
        REQUIRE(R.n_rows == static_cast<arma::uword>(fine.size()));
        REQUIRE(R.n_cols == static_cast<arma::uword>(coarse.size()));
        double worst = 0.0;
        // A grid including every fine knot (where pieces meet) and points in between.
        const int points = 40 * (K << j) + 1;
        for (int t = 0; t < points; ++t) {
          const double u = t + 1 == points ? b : a + (b - a) * t / (points - 1.0);
          worst = std::max(worst, arma::abs(R.t() * dense_basis(fine, u) - dense_basis(coarse, u)).max());
        }
        INFO("s = " << s << ", K = " << K << ", j = " << j);
        CHECK(worst < 1e-13);
        // Rows sum to 1: both bases are partitions of unity, so R 1 = 1.
        CHECK(arma::abs(arma::sum(R, 1) - 1.0).max() < 1e-13);
      }
}

TEST_CASE("knot insertion: a factor that is not a power of two, and non-nested bases are rejected",
          "[knot-insertion]") {
  const BSplineBasis coarse(0, 1, 2, 2), fine(0, 1, 6, 2);
  const arma::mat R = refinement_matrix(coarse, fine);
  double worst = 0.0;
  for (int t = 0; t <= 600; ++t) {
    const double u = t / 600.0;
    worst = std::max(worst, arma::abs(R.t() * dense_basis(fine, u) - dense_basis(coarse, u)).max());
  }
  CHECK(worst < 1e-13);
  CHECK_THROWS_AS(refinement_matrix(BSplineBasis(0, 1, 2, 2), BSplineBasis(0, 1, 5, 2)), InputError);
  CHECK_THROWS_AS(refinement_matrix(BSplineBasis(0, 1, 2, 2), BSplineBasis(0, 1, 4, 1)), InputError);
  CHECK_THROWS_AS(refinement_matrix(BSplineBasis(0, 1, 2, 2), BSplineBasis(0, 2, 4, 2)), InputError);
}

TEST_CASE("knot insertion: G, h from R equal a direct pass with the coarse basis", "[knot-insertion]") {
  PairwiseModelSpec spec;
  spec.activation = "weierstrass:1";
  spec.sigma = 0.5;
  const PairwiseModel model(spec, 5);
  SampleBlockSource source = [&model](std::size_t first, std::size_t count, double* X, double* Y) {
    model.draw_samples(11, first, count, X, Y);
  };
  const std::size_t M = 300;
  for (int s = 0; s <= 3; ++s) {
    const BSplineBasis coarse(-2.0, 2.0, 3, s), fine(-2.0, 2.0, 12, s);
    const NormalEquations nf = accumulate_normal_equations(fine, model.A(), spec.N, spec.d, M, source);
    const NormalEquations nc = accumulate_normal_equations(coarse, model.A(), spec.N, spec.d, M, source);
    const NormalEquations nr = restrict_normal_equations(nf, refinement_matrix(coarse, fine));
    INFO("s = " << s);
    CHECK(arma::abs(nr.G - nc.G).max() <= 1e-10 * arma::abs(nc.G).max());
    CHECK(arma::abs(nr.h - nc.h).max() <= 1e-10 * arma::abs(nc.h).max());
    CHECK(nr.yy == nc.yy);
    CHECK(nr.clamped == nc.clamped);
  }
}
