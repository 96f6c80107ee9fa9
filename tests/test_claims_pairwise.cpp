// Claim regression test (issue 3): a reduced dimension-free sweep with A unknown (joint fit),
// phi = bspline:3 (the paper's b = P - 1 = 2, slope -0.8), d in {1, 5}, seeded. Asserts the
// SPEC §4 verdicts of both slopes (tolerance 0.05 around the hull of the t and bootstrap 95%
// intervals) and that the errors at the largest M lie within a factor 2 across d.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "studies/pairwise/pairwise_studies.hpp"

using namespace attnrate;

TEST_CASE("dimension-free, A unknown: slopes for d = 1, 5 consistent with -0.8, errors within a factor 2",
          "[claims][pairwise_study]") {
  Settings s(dimension_free_keys());
  s.set("activations", "bspline:3", "test");
  s.set("d-values", "1,5", "test");
  s.set("N-values", "8", "test");  // the d series only
  s.set("r-values", "1", "test");
  s.set("M", "500:8000:x2", "test");
  s.set("seeds", "4", "test");
  s.set("test-pairs", "20000", "test");
  const auto dir = std::filesystem::temp_directory_path() / ("attnrate-claims-dimfree-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  const nlohmann::json summary = run_dimension_free(s, StudyContext{dir, 0, false, false});
  CHECK(std::filesystem::file_size(dir / "convergence-bspline-3-d.png") > 1000);
  CHECK(std::filesystem::exists(dir / "cells.csv"));
  std::filesystem::remove_all(dir);
  CHECK(summary.at("cells_excluded").get<int>() * 10 <= summary.at("cells_total").get<int>());
  std::size_t slopes = 0, ratios = 0;
  for (const auto& c : summary.at("claims")) {
    INFO(c.at("id").get<std::string>() << ": theory " << c.at("theory_value") << ", measured " << c.at("measured")
                                       << ", CI_t " << c.at("ci_t").dump() << ", CI_boot " << c.at("ci_boot").dump());
    if (c.at("quantity") == "slope") {
      ++slopes;
      CHECK(c.at("theory_value").get<double>() == Approx(-0.8).epsilon(1e-12));
    } else {
      ++ratios;
      CHECK(c.at("quantity") == "ratio");
    }
    CHECK(c.at("verdict") == "consistent");
  }
  CHECK(slopes == 2);
  CHECK(ratios == 1);
}
