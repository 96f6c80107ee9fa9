// The piecewise-polynomial form of the basis agrees with de Boor's scheme (estimators/bspline).
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

#include "estimators/piecewise_basis.hpp"
#include "estimators/common/random.hpp"

using namespace attnrate;

TEST_CASE("piecewise-polynomial basis equals de Boor's values, clamping included", "[bspline]") {
  Rng rng(8);
  for (int s = 0; s <= 10; ++s)
    for (int K : {1, 3, 17, 64}) {
      const BSplineBasis basis(-1.3, 2.1, K, s);
      const PiecewiseBasis poly(basis);
      double ref[BSplineBasis::max_degree + 1], got[BSplineBasis::max_degree + 1];
      std::vector<double> points = {basis.a(), basis.b(), -5.0, 5.0, std::nan("")};
      for (double k : basis.knots()) points.push_back(k);
      for (int t = 0; t < 300; ++t) points.push_back(rng.uniform(-1.5, 2.3));
      for (double u : points) {
        const BasisSpan span = basis.evaluate(u, ref);
        int piece;
        double tau;
        const bool clamped = poly.locate_clamped(u, piece, tau);
        poly.values(piece, tau, got);
        INFO("s = " << s << ", K = " << K << ", u = " << u);
        CHECK(clamped == span.clamped);
        // At a knot both neighbouring pieces give the same values (continuity for s >= 1);
        // compare through the full basis vector rather than the span start.
        std::vector<double> full_ref(basis.size(), 0.0), full_got(basis.size(), 0.0);
        for (int q = 0; q <= s; ++q) {
          full_ref[span.first + q] = ref[q];
          full_got[piece + q] = got[q];
        }
        for (int k = 0; k < basis.size(); ++k) CHECK(std::abs(full_ref[k] - full_got[k]) < 1e-12);
      }
    }
}
