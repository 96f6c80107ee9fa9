// Penalty selection on a grid that extends past an end: against closed-form minimisers, plain
// argmin where the minimum is interior, and selections on an explicitly longer grid.
#include <catch2/catch.hpp>

#include <atomic>
#include <cmath>
#include <functional>
#include <limits>
#include <stdexcept>
#include <vector>

#include "estimators/common/input_error.hpp"
#include "estimators/common/random.hpp"
#include "estimators/ridge/lambda_search.hpp"
#include "estimators/ridge/ridge.hpp"

using namespace attnrate;

namespace {

// A parabola in log10(lambda) with its minimum at 10^centre.
auto parabola(double centre) {
  return [centre](double l) { return std::pow(std::log10(l) - centre, 2); };
}

arma::vec decades(int lo, int hi) {  // 10^lo, 10^(lo+1), ..., 10^hi
  arma::vec g(static_cast<arma::uword>(hi - lo + 1));
  for (arma::uword t = 0; t < g.n_elem; ++t) g[t] = std::pow(10.0, lo + static_cast<int>(t));
  return g;
}

}  // namespace

TEST_CASE("an interior minimum is the plain argmin and nothing is added", "[lambda_search]") {
  const arma::vec grid = decades(-6, 2);
  const GridMinimum m = minimise_on_grid(grid, parabola(-2.2));
  CHECK(m.extended == 0);
  CHECK(!m.at_edge);
  CHECK(arma::all(m.grid == grid));
  CHECK(m.lambda == 1e-2);
  CHECK(m.best == m.scores.index_min());
}

TEST_CASE("a minimum past either end is found by extending the grid", "[lambda_search]") {
  const GridMinimum up = minimise_on_grid(decades(-6, 0), parabola(2.0));
  CHECK(up.lambda == Approx(100.0).epsilon(1e-12));
  CHECK(!up.at_edge);
  CHECK(up.extended == 3);  // 10, 100 and 1000 (which is worse, so the search stops)
  const GridMinimum down = minimise_on_grid(decades(-3, 2), parabola(-5.0));
  CHECK(down.lambda == Approx(1e-5).epsilon(1e-12));
  CHECK(!down.at_edge);
  CHECK(down.grid[0] == Approx(1e-6).epsilon(1e-12));
  CHECK(down.best == 1);
}

TEST_CASE("a minimum beyond the extension limit is flagged at the edge", "[lambda_search]") {
  const GridMinimum m = minimise_on_grid(decades(-6, 0), [](double l) { return -l; }, 2.0);
  CHECK(m.at_edge);
  CHECK(m.lambda == Approx(100.0).epsilon(1e-12));
  CHECK(m.best + 1 == m.grid.n_elem);
  const GridMinimum low = minimise_on_grid(decades(-6, 0), [](double l) { return l; }, 1.0);
  CHECK(low.at_edge);
  CHECK(low.lambda == Approx(1e-7).epsilon(1e-12));
  // A flat score keeps the smallest penalty (first minimiser) and says so.
  const GridMinimum flat = minimise_on_grid(decades(-2, 0), [](double) { return 1.0; }, 1.0);
  CHECK(flat.lambda == Approx(1e-3).epsilon(1e-12));
  CHECK(flat.at_edge);
  // With no extension allowed the end point is flagged.
  CHECK(minimise_on_grid(decades(-6, 0), [](double l) { return -l; }, 0.0).at_edge);
}

TEST_CASE("a one-point grid is a fixed penalty; NaN scores never win", "[lambda_search]") {
  const GridMinimum one = minimise_on_grid(arma::vec{0.5}, [](double) { return 1.0; });
  CHECK(one.lambda == 0.5);
  CHECK(!one.at_edge);
  CHECK(one.extended == 0);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const GridMinimum m = minimise_on_grid(decades(-2, 2), [nan](double l) { return l < 0.05 ? nan : l; });
  CHECK(m.lambda == 0.1);
}

TEST_CASE("scoring several penalties at once gives the sequential search, bit for bit", "[lambda_search]") {
  // Interior minima, extensions that stop after 1, 2, 3 steps at either end, minima past the
  // limit, flat and NaN scores; each against the one-at-a-time search.
  const std::vector<std::function<double(double)>> scores = {
      parabola(-2.2), parabola(2.0),  parabola(0.6),  parabola(-5.0), parabola(-7.4), parabola(9.0),
      parabola(-9.0), [](double) { return 1.0; }, [](double l) { return l < 0.05 ? std::nan("") : l; }};
  for (const arma::vec& grid : {decades(-6, 0), decades(-3, 2), arma::vec{0.5}, arma::vec{0.01, 0.03, 0.2}})
    for (std::size_t f = 0; f < scores.size(); ++f)
      for (double decades_beyond : {0.0, 1.5, 4.0}) {
        const GridMinimum one = minimise_on_grid(grid, scores[f], decades_beyond);
        for (int threads = 1; threads <= 4; ++threads) {
          std::atomic<int> bad_slot{0};
          const GridMinimum many = minimise_on_grid(
              grid,
              [&](double l, int slot) {
                if (slot < 0 || slot >= threads) ++bad_slot;
                return scores[f](l);
              },
              decades_beyond, threads);
          INFO("score " << f << ", grid of " << grid.n_elem << ", " << decades_beyond << " decades, threads "
                        << threads);
          CHECK(bad_slot == 0);
          REQUIRE(many.grid.n_elem == one.grid.n_elem);
          CHECK(arma::all(many.grid == one.grid));  // the same doubles, not just close ones
          for (arma::uword t = 0; t < one.scores.n_elem; ++t)  // equal doubles, or NaN in both
            CHECK((many.scores[t] == one.scores[t] || (std::isnan(many.scores[t]) && std::isnan(one.scores[t]))));
          CHECK(many.best == one.best);
          CHECK(many.lambda == one.lambda);
          CHECK(many.at_edge == one.at_edge);
          CHECK(many.extended == one.extended);
        }
      }
}

TEST_CASE("a scorer's exception reaches the caller; bad thread counts are refused", "[lambda_search]") {
  const auto throwing = [](double l, int) -> double {
    if (l > 0.05) throw std::runtime_error("score failed at a large penalty");
    return l;
  };
  CHECK_THROWS_WITH(minimise_on_grid(decades(-3, 0), throwing, 1.0, 3), "score failed at a large penalty");
  // A step scored ahead of the sequential stop may fail without failing the search: the minimum
  // 10^-4 lies one step below the grid, the sequential search stops after scoring 10^-5, and
  // 10^-6, scored ahead with 3 threads, throws.
  const auto low_failing = [](double l, int) -> double {
    if (l < 2e-6) throw std::runtime_error("never reached one step at a time");
    return std::pow(std::log10(l) + 4.0, 2);
  };
  for (int threads = 1; threads <= 3; ++threads)
    CHECK(minimise_on_grid(decades(-3, 0), low_failing, 4.0, threads).lambda == Approx(1e-4).epsilon(1e-12));
  const auto fine = [](double l, int) { return l; };
  CHECK_THROWS_AS(minimise_on_grid(decades(-3, 0), fine, 1.0, 0), InputError);
  CHECK_THROWS_AS(minimise_on_grid(decades(-3, 0), fine, 1.0, 65), InputError);
}

TEST_CASE("bad grids are refused with a reason", "[lambda_search]") {
  const auto f = parabola(0.0);
  CHECK_THROWS_AS(minimise_on_grid(arma::vec(), f), InputError);
  CHECK_THROWS_AS(minimise_on_grid(arma::vec{1.0, 0.1}, f), InputError);
  CHECK_THROWS_AS(minimise_on_grid(arma::vec{1.0, 1.0}, f), InputError);
  CHECK_THROWS_AS(minimise_on_grid(arma::vec{-1.0, 1.0}, f), InputError);
  CHECK_THROWS_AS(minimise_on_grid(arma::vec{1.0, std::numeric_limits<double>::infinity()}, f), InputError);
  CHECK_THROWS_AS(minimise_on_grid(decades(0, 1), f, -1.0), InputError);
}

TEST_CASE("GCV and k-fold choices past the grid equal the choice on the longer grid", "[lambda_search]") {
  // A weak signal in strong noise: the best penalty is near sigma^2 p / (n |w|^2) ~ 1, so a grid
  // ending at 1e-3 is too short.
  Rng rng(77);
  arma::mat Phi(80, 20);
  for (double& v : Phi) v = rng.normal();
  arma::vec w(20), y(80);
  for (double& v : w) v = 0.1 * rng.normal();
  for (double& v : y) v = rng.normal();
  y += Phi * w;
  const arma::vec shortg = log_lambda_grid(1e-6, 1e-3, 10);
  const arma::vec longg = log_lambda_grid(1e-6, 10.0, 22);  // the same log spacing, 4 decades more
  const LambdaSelection gs = select_lambda_gcv(Phi, y, shortg), gl = select_lambda_gcv(Phi, y, longg);
  REQUIRE(gl.best + 1 < gl.grid.n_elem);  // the long grid has an interior minimum
  CHECK(gs.lambda == Approx(gl.lambda).epsilon(1e-12));
  CHECK(gs.lambda > 1e-3);
  CHECK(!gs.at_edge);
  // y orthogonal to the features: the residual is the same for every penalty while the effective
  // degrees of freedom fall, so GCV decreases up to the extension limit, and says so.
  const arma::vec y_perp = y - Phi * arma::solve(Phi, y);
  const LambdaSelection noise = select_lambda_gcv(Phi, y_perp, shortg);
  CHECK(noise.at_edge);
  CHECK(noise.lambda == Approx(10.0).epsilon(1e-9));
  const LambdaSelection ks = select_lambda_kfold(Phi, y, shortg, 5, 3), kl = select_lambda_kfold(Phi, y, longg, 5, 3);
  if (kl.best + 1 < kl.grid.n_elem) {
    CHECK(ks.lambda == Approx(kl.lambda).epsilon(1e-12));
    CHECK(!ks.at_edge);
  } else {
    CHECK(ks.at_edge);
  }
}
