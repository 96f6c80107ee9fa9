// Restart basins of the joint fit: the grouping of restarts by final risk against groupings worked
// out by hand, and the coarse stage of every restart (run to its own stop with the continuation in
// K) against single runs from the same starts; the dimension-free study's basin columns and their
// sums against cells.csv, and at d = 1 against the symmetry that makes every restart equal.
#include <catch2/catch.hpp>
#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <map>
#include <limits>
#include <string>
#include <vector>

#include "estimators/common/input_error.hpp"
#include "estimators/common/random.hpp"
#include "estimators/pairwise_erm/pairwise_erm.hpp"
#include "estimators/pairwise_erm/restart_basins.hpp"
#include "studies/pairwise/dimension_free.hpp"
#include "studies/io/settings.hpp"
#include "studies/sweep/study.hpp"
#include "tests/lib/temp_dir.hpp"
#include "theory/pairwise/pairwise_model.hpp"

using namespace attnrate;

namespace {

std::vector<ErmRestartReport> reports(const std::vector<double>& risks) {
  std::vector<ErmRestartReport> out;
  for (std::size_t k = 0; k < risks.size(); ++k) {
    ErmRestartReport r;
    r.restart = static_cast<int>(k);
    r.risk = risks[k];
    out.push_back(r);
  }
  return out;
}

// cells.csv as rows of column -> text ("" quotes a field).
std::vector<std::map<std::string, std::string>> read_cells(const std::filesystem::path& file) {
  const auto fields = [](const std::string& line) {
    std::vector<std::string> out(1);
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
      if (line[i] == '"' && quoted && i + 1 < line.size() && line[i + 1] == '"') {
        out.back() += '"';
        ++i;
      } else if (line[i] == '"') {
        quoted = !quoted;
      } else if (line[i] == ',' && !quoted) {
        out.emplace_back();
      } else {
        out.back() += line[i];
      }
    }
    return out;
  };
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  const auto header = fields(line);
  std::vector<std::map<std::string, std::string>> rows;
  while (std::getline(in, line)) {
    const auto f = fields(line);
    REQUIRE(f.size() == header.size());
    std::map<std::string, std::string> row;
    for (std::size_t i = 0; i < f.size(); ++i) row[header[i]] = f[i];
    rows.push_back(row);
  }
  return rows;
}

}  // namespace

TEST_CASE("restart basins group restarts by final risk within a relative tolerance", "[erm]") {
  const double inf = std::numeric_limits<double>::infinity();
  SECTION("two levels, order of the restarts irrelevant") {
    // 4.0 and 4.003 lie within 1e-3 of 4.0 (4.004 is the bound); 4.03 and 4.031 form a second level.
    const RestartBasins b = restart_basins(reports({4.03, 4.0, 4.031, 4.003, 4.0}));
    CHECK(b.restarts == 5);
    CHECK(b.finite == 5);
    CHECK(b.in_best == 3);
    CHECK(b.levels == 2);
    CHECK(b.best_risk == 4.0);
  }
  SECTION("a chain is cut at (1 + tol) times the level's lowest risk, not extended step by step") {
    // 1.0009 is in 1.0's level, 1.0018 is not (> 1.001) and opens the next, which takes 1.0027.
    const RestartBasins b = restart_basins(reports({1.0, 1.0009, 1.0018, 1.0027}));
    CHECK(b.in_best == 2);
    CHECK(b.levels == 2);
  }
  SECTION("non-finite risks belong to no basin") {
    const RestartBasins b = restart_basins(reports({inf, 2.0, inf}));
    CHECK(b.restarts == 3);
    CHECK(b.finite == 1);
    CHECK(b.in_best == 1);
    CHECK(b.levels == 1);
    const RestartBasins none = restart_basins(reports({inf, inf}));
    CHECK(none.in_best == 0);
    CHECK(none.levels == 0);
    CHECK(std::isinf(none.best_risk));
  }
  SECTION("zero tolerance: only equal risks share a level; a wider one merges") {
    CHECK(restart_basins(reports({3.0, 3.0, 3.0 + 1e-12}), 0.0).in_best == 2);
    CHECK(restart_basins(reports({3.0, 3.1, 3.2}), 0.1).levels == 1);
  }
  SECTION("a bad tolerance is refused") {
    CHECK_THROWS_AS(restart_basins(reports({1.0}), -1e-3), InputError);
    CHECK_THROWS_AS(restart_basins(reports({1.0}), std::nan("")), InputError);
  }
}

TEST_CASE("with the continuation every restart runs its coarse stage to its own stop", "[erm]") {
  // Rank-1 data from weierstrass:2 at d = 3; each restart's reported risk must be the risk that a
  // single run from the same start reaches at K0 (restart k >= 1 starts from iid N(0, 1) entries of
  // Rng(derive_seed(seed, {k})), U then V), and the continued restart is the lowest of them.
  PairwiseModelSpec spec;
  spec.N = 6;
  spec.d = 3;
  spec.r = 1;
  spec.sigma = 0.5;
  spec.activation = "weierstrass:2";
  const PairwiseModel model(spec, 77);
  const std::size_t M = 300;
  arma::mat X(spec.d, M * spec.N);
  arma::vec Y(M * spec.N);
  model.draw_samples(78, 0, M, X.memptr(), Y.memptr());
  ErmOptions o;
  o.rank = 1;
  o.pieces = 16;
  o.degree = 2;
  o.restarts = 5;
  o.coarse_pieces = 4;
  o.seed = 79;
  o.start = ErmStart::random;
  const PairwiseErmFit fit = fit_pairwise_erm(X, Y, spec.N, o);
  const auto& dg = fit.diagnostics;
  REQUIRE(dg.per_restart.size() == 5);
  double lowest = std::numeric_limits<double>::infinity();
  for (const auto& rep : dg.per_restart) {
    INFO("restart " << rep.restart << ": " << rep.stop_reason);
    CHECK(rep.stop_reason.find("screened") == std::string::npos);
    Rng rng(derive_seed(o.seed, {static_cast<std::uint64_t>(rep.restart)}));
    arma::mat U(spec.d, 1), V(spec.d, 1);
    for (auto& v : U) v = rng.normal();
    for (auto& v : V) v = rng.normal();
    ErmOptions single = o;
    single.restarts = 1;
    single.pieces = o.coarse_pieces;  // the first stage alone
    single.coarse_pieces = 0;
    single.init_U = U;
    single.init_V = V;
    const PairwiseErmFit one = fit_pairwise_erm(X, Y, spec.N, single);
    CHECK(one.diagnostics.train_risk_untrimmed == Approx(rep.risk).epsilon(1e-12));
    lowest = std::min(lowest, rep.risk);
  }
  CHECK(dg.per_restart[dg.best_restart].risk == lowest);
  CHECK(dg.stages.front().risk == lowest);

  // An explicit screening budget still screens (the former behaviour with the continuation).
  ErmOptions screened = o;
  screened.screen_iterations = 2;
  const PairwiseErmFit s2 = fit_pairwise_erm(X, Y, spec.N, screened);
  int n_screened = 0;
  for (const auto& rep : s2.diagnostics.per_restart) n_screened += rep.stop_reason.find("screened") != std::string::npos;
  CHECK(n_screened >= 1);
}

TEST_CASE("dimension-free: restart basins per cell and their sums per series and M", "[erm][pairwise_study]") {
  // At d = 1 (r = 1) the reduced risk does not depend on A at all: A is a scalar, R(cA) = R(A) for
  // c > 0, and A -> -A reflects the knot interval [min u, max u] onto itself with the spline space,
  // so every restart ends at the same risk and all are in the best basin.
  Settings s(dimension_free_study().keys());
  s.set("activations", "weierstrass:2", "test");
  s.set("d-values", "1,3", "test");
  s.set("N-values", "8", "test");
  s.set("r-values", "1", "test");
  s.set("M", "100,200", "test");
  s.set("seeds", "2", "test");
  s.set("restarts", "3", "test");
  s.set("restart-samples", "150", "test");  // M = 100 runs them on all samples, M = 200 on 150
  s.set("test-pairs", "1000", "test");
  test::TempDir dir("dimfree-basins");
  const nlohmann::json summary = dimension_free_study().run(s, StudyContext{dir.dir, 1, false, false});
  const auto cells = read_cells(dir.dir / "cells.csv");
  REQUIRE(cells.size() == 2 * 2 * 2);
  std::map<std::pair<int, int>, std::array<int, 3>> sums;  // (d, M) -> restarts, in best, all-in-best cells
  for (const auto& c : cells) {
    const int restarts = std::stoi(c.at("restarts")), best = std::stoi(c.at("restarts_in_best_basin")),
              levels = std::stoi(c.at("basin_levels")), d = std::stoi(c.at("d"));
    CHECK(restarts == 3);
    CHECK(std::stoi(c.at("restart_samples")) == std::min(std::stoi(c.at("M")), 150));
    CHECK(best >= 1);
    CHECK(best <= restarts);
    CHECK(levels >= 1);
    CHECK(levels <= restarts - best + 1);
    if (d == 1) {
      CHECK(best == restarts);
      CHECK(levels == 1);
    }
    auto& t = sums[{d, std::stoi(c.at("M"))}];
    t[0] += restarts;
    t[1] += best;
    t[2] += best == restarts;
  }
  const auto& rb = summary.at("restart_basins");
  CHECK(rb.at("rel_tol").get<double>() == kBasinRelTol);
  REQUIRE(rb.at("series").size() == 2);
  for (const auto& sr : rb.at("series")) {
    CHECK(sr.at("series") == "d");
    const int d = sr.at("d").get<int>();
    REQUIRE(sr.at("per_M").size() == 2);
    for (const auto& pm : sr.at("per_M")) {
      const auto& t = sums.at({d, pm.at("M").get<int>()});
      CHECK(pm.at("cells") == 2);
      CHECK(pm.at("restarts") == t[0]);
      CHECK(pm.at("in_best_basin") == t[1]);
      CHECK(pm.at("elsewhere") == t[0] - t[1]);
      CHECK(pm.at("cells_all_in_best_basin") == t[2]);
    }
  }
}
