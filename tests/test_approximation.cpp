// The approximation study recovers the known smoothness of an exactly b-Hoelder function
// (weierstrass:b) from noiseless data, without being told b.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "estimators/common/input_error.hpp"
#include "estimators/common/random.hpp"
#include "studies/pairwise/approximation.hpp"
#include "theory/pairwise/pairwise_model.hpp"
#include "tests/lib/temp_dir.hpp"

using namespace attnrate;

namespace {
// A small run: K = 8 and 16 at M = 500 with 1000 test pairs.
Settings small_run(const std::string& activations, const std::string& seeds) {
  Settings s(approximation_study().keys());
  s.set("activations", activations, "test");
  s.set("seeds", seeds, "test");
  s.set("knots", "8,16", "test");
  s.set("M", "500", "test");
  s.set("test-pairs", "1000", "test");
  return s;
}
}  // namespace

TEST_CASE("approximation: weierstrass:1.5 gives b_approx = 1.5 within 0.1", "[pairwise_study]") {
  Settings s(approximation_study().keys());
  s.set("activations", "weierstrass:1.5", "test");
  s.set("seeds", "2", "test");
  const test::TempDir tmp("approx");
  const auto dir = tmp.dir / "out";
  const nlohmann::json summary = approximation_study().run(s, StudyContext{dir, 0, false, false});
  REQUIRE(summary.at("quantities").size() == 1);
  const auto& q = summary.at("quantities")[0];
  INFO(q.dump());
  CHECK(q.at("quantity") == "smoothness");
  CHECK(q.at("select").at("activation") == "weierstrass:1.5");
  CHECK(std::abs(q.at("value").get<double>() - 1.5) < 0.1);
  CHECK(q.at("details").at("slope_vs_log_K").get<double>() == Approx(-2 * q.at("value").get<double>()));
  CHECK(std::filesystem::file_size(dir / "approximation.png") > 1000);
}

TEST_CASE("approximation: each repetition draws its own A, shared by the activations", "[pairwise_study]") {
  const Settings s = small_run("weierstrass:2,bspline:3", "2");
  const test::TempDir tmp("approx-reps");
  const auto dir = tmp.dir / "out";
  const nlohmann::json summary = approximation_study().run(s, StudyContext{dir, 0, false, false});
  // The counts every study reports, and cells.csv's seed and seconds (2 activations x 2 K x 2 reps).
  CHECK(summary.at("cells_total") == 8);
  CHECK(summary.at("cells_excluded").get<std::size_t>() <= 8);
  std::ifstream csv(dir / "cells.csv");
  std::string header, row;
  std::getline(csv, header);
  CHECK(header == "activation,degree,K,rep,seed,M,error,status,seconds");
  std::size_t rows = 0, excluded = 0;
  while (std::getline(csv, row)) {
    ++rows;
    excluded += row.find(",ok,") == std::string::npos;
    CHECK(row.find(",1,500,") != std::string::npos);  // seed 1 (the default), M = 500
  }
  CHECK(rows == 8);
  CHECK(summary.at("cells_excluded") == excluded);
  const auto& reps = summary.at("repetitions");
  REQUIRE(reps.size() == 2);
  // Recomputed from the documented streams: A from (seed, "model", rep, "A"), phi from
  // (seed, "model") for every repetition, the ranges from (seed, "range", rep).
  const std::uint64_t seed = summary.at("parameters").at("seed").get<std::uint64_t>();
  PairwiseModelSpec spec;
  spec.tokens = "uniform";
  spec.N = 4;
  spec.d = 2;
  spec.r = 1;
  spec.sigma = 0.0;
  spec.activation = "bspline:3";
  for (std::uint64_t rep = 0; rep < 2; ++rep) {
    Rng rng(derive_seed(seed, {hash_name("model"), rep, hash_name("A")}));
    const arma::mat A = draw_low_rank_A(TokenLaw::parse(spec.tokens), spec.d, spec.r, rng);
    const PairwiseModel model(spec, derive_seed(seed, {hash_name("model")}), A);
    const auto ranges = interaction_ranges(model, derive_seed(seed, {hash_name("range"), rep}), 1000000, {1e-5, 0.01});
    INFO("rep " << rep);
    CHECK(reps[rep].at("spline_interval")[0].get<double>() == ranges[0].first);
    CHECK(reps[rep].at("spline_interval")[1].get<double>() == ranges[0].second);
    CHECK(reps[rep].at("error_interval")[0].get<double>() == ranges[1].first);
    CHECK(reps[rep].at("error_interval")[1].get<double>() == ranges[1].second);
  }
  CHECK(reps[0].at("spline_interval") != reps[1].at("spline_interval"));
  CHECK_FALSE(summary.contains("notes"));  // every activation measured
}

TEST_CASE("approximation: an activation without enough usable cells is named in notes", "[pairwise_study]") {
  // Two K and one repetition: two cells per activation, fewer than the three a slope needs.
  const Settings s = small_run("weierstrass:2", "1");
  const test::TempDir tmp("approx-notes");
  const nlohmann::json summary = approximation_study().run(s, StudyContext{tmp.dir / "out", 0, false, false});
  CHECK(summary.at("quantities").empty());
  REQUIRE(summary.at("notes").size() == 1);
  CHECK(summary.at("notes")[0].get<std::string>().find("no smoothness for weierstrass:2: it needs 3 usable cells") == 0);
}

TEST_CASE("approximation: options are checked before any work", "[pairwise_study]") {
  Settings s(approximation_study().keys());
  s.set("knots", "64", "--knots");
  CHECK_THROWS_WITH(approximation_study().check(s), Catch::Contains("--knots needs at least two"));
  Settings t(approximation_study().keys());
  t.set("activations", "weierstrass:1,,kink:1.5", "--activations");
  CHECK_THROWS_AS(approximation_study().check(t), InputError);
  Settings u(approximation_study().keys());
  u.set("knots", "8,100000", "--knots");
  CHECK_THROWS_WITH(approximation_study().check(u), Catch::Contains("exceed M"));
}
