// The built-in pairwise claims (theory/claims/pairwise.toml):
//  * a reduced dimension-free sweep with A unknown (joint fit), phi = bspline:3 (the paper's
//    b = P - 1 = 2, slope -0.8), d in {1, 5}, seeded, judged by the built-in claims' full-profile
//    rules: both slopes consistent, the spread across d not inconsistent (four seeds at the largest
//    M leave its bootstrap interval too wide to decide "at most 2");
//  * every claim of the file at its quick profile through `attnrate verify`, with the verdict the
//    file promises (consistent when quick-decisive, never inconsistent otherwise).
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <set>

#include "studies/pairwise/dimension_free.hpp"
#include "studies/verify/verify.hpp"

using namespace attnrate;

namespace {

const char* kFile = "theory/claims/pairwise.toml";

std::vector<Claim> pairwise_claims() {
  std::vector<Claim> out;
  for (auto& c : builtin_claims())
    if (c.place.file == kFile) out.push_back(std::move(c));
  return out;
}

}  // namespace

TEST_CASE("dimension-free, A unknown: slopes for d = 1, 5 consistent with their claims, spread not inconsistent",
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
  std::set<std::string> judged;
  for (const Claim& claim : pairwise_claims()) {
    if (claim.id.rfind("dimfree.bspline.p3.", 0) != 0) continue;
    const nlohmann::json e = judge_claim(claim, "full", summary);
    INFO(claim.id << ": " << e.value("rule", "") << "; measured " << e.value("measured", nlohmann::json()).dump()
                  << ", CI_t " << e.value("ci_t", nlohmann::json()).dump() << ", CI_boot "
                  << e.value("ci_boot", nlohmann::json()).dump() << "; " << e.value("reason", "")
                  << e.value("error", ""));
    if (claim.quantity == "slope") CHECK(e.at("verdict") == "consistent");
    else CHECK((e.at("verdict") == "consistent" || e.at("verdict") == "inconclusive"));
    judged.insert(claim.id);
  }
  CHECK(judged == std::set<std::string>{"dimfree.bspline.p3.d1.slope", "dimfree.bspline.p3.d5.slope",
                                        "dimfree.bspline.p3.d.ratio"});
}

TEST_CASE("verify --profile quick: the built-in pairwise claims", "[claims][verify][pairwise]") {
  const std::vector<Claim> claims = pairwise_claims();
  REQUIRE(claims.size() == 11);
  // One verify run per study (its claims share one run), selected by the ids' common prefix.
  std::set<std::string> prefixes;
  for (const auto& c : claims) prefixes.insert(c.id.substr(0, c.id.find('.')) + ".*");
  const auto dir = std::filesystem::temp_directory_path() / ("attnrate-verify-pairwise-" + std::to_string(::getpid()));
  std::set<std::string> judged;
  for (const auto& prefix : prefixes) {
    std::filesystem::remove_all(dir);
    VerifyOptions opt;
    opt.profile = "quick";
    opt.out = dir;
    opt.progress = false;
    opt.only = prefix;
    opt.command_line = "attnrate verify --profile quick --only '" + prefix + "'";
    const nlohmann::json summary = run_verify(opt);
    for (const auto& c : summary.at("claims")) {
      const std::string id = c.at("id");
      const Claim* spec = nullptr;
      for (const auto& k : claims)
        if (k.id == id) spec = &k;
      INFO(id << " (" << c.value("defined_at", "") << "): " << c.value("rule", "") << "; measured "
              << c.value("measured", nlohmann::json()).dump() << ", CI_t " << c.value("ci_t", nlohmann::json()).dump()
              << ", CI_boot " << c.value("ci_boot", nlohmann::json()).dump() << "; " << c.value("reason", "")
              << c.value("error", "") << "; rerun: " << c.at("rerun").get<std::string>());
      REQUIRE(spec != nullptr);  // the prefix selects this file's claims only
      if (spec->quick_decisive) CHECK(c.at("verdict") == "consistent");
      else CHECK((c.at("verdict") == "consistent" || c.at("verdict") == "inconclusive"));
      CHECK(c.contains("figure"));
      judged.insert(id);
    }
  }
  std::filesystem::remove_all(dir);
  CHECK(judged.size() == claims.size());
}
