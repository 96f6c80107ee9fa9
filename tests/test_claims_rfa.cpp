// Claim regression tests (issue 4), quick profiles of the claims registry: a reduced rfa-vs-mlp
// (key-poly:2, N = 8: the RF-MLP needs >= 4x RFA's samples to reach error 0.2) and a reduced
// biased-weights (inner-poly:2, mu = 2: the biased law has lower error at every n >= 1000).
// Each asserts the consistent verdict and the claimed direction of the whole 95% interval
// (hull of Student-t and seed-bootstrap), seeded; the message carries the measured values.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "studies/rfa/rfa_studies.hpp"
#include "theory/claims/old_claims.hpp"

using namespace attnrate;

namespace {

const ClaimSpec& claim(const std::string& id) {
  for (const auto& c : claim_registry())
    if (c.id == id) return c;
  FAIL("claim " << id << " is not registered");
  throw;  // unreachable
}

nlohmann::json run_quick(const ClaimSpec& spec) {
  const bool mlp = spec.study == "rfa-vs-mlp";
  Settings s(mlp ? rfa_vs_mlp_keys() : biased_weights_keys());
  for (const auto& [k, v] : spec.quick) s.set(k, v, "quick profile");
  const auto dir = std::filesystem::temp_directory_path() / ("attnrate-claims-" + spec.study + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  StudyContext ctx{dir, 0, false, false};
  nlohmann::json summary = mlp ? run_rfa_vs_mlp(s, ctx) : run_biased_weights(s, ctx);
  CHECK(std::filesystem::exists(dir / "cells.csv"));
  CHECK(std::filesystem::exists(dir / "summary.json"));
  std::filesystem::remove_all(dir);
  for (const auto& c : summary.at("claims"))
    if (c.at("id") == spec.id) return c;
  FAIL("the study did not report claim " << spec.id);
  throw;
}

}  // namespace

TEST_CASE("rfa-vs-mlp quick: on key-poly:2 at N = 8 the RF-MLP needs >= 4x RFA's samples", "[claims][rfa_study]") {
  const ClaimSpec& spec = claim("rfa-vs-mlp.key-poly:2.N8.n-ratio");
  const nlohmann::json c = run_quick(spec);
  INFO("measured ratio " << c.at("measured") << ", CI_t " << c.at("ci_t").dump() << ", CI_boot " << c.at("ci_boot").dump()
                         << ", per repetition " << c.at("per_rep").dump() << ", censored (conservative) "
                         << c.at("censored_conservative"));
  CHECK(c.at("theory_value").get<double>() == spec.theory_value);
  CHECK(c.at("censored_anticonservative").get<int>() == 0);
  const double lo = c.at("judged_interval")[0];
  CHECK(lo >= spec.theory_value * (1 - spec.tolerance));
  CHECK(c.at("verdict") == "consistent");
}

TEST_CASE("biased-weights quick: on inner-poly:2 the biased law (mu = 2) has lower error at every n >= 1000",
          "[claims][rfa_study]") {
  const ClaimSpec& spec = claim("biased-weights.inner-poly:2.mu2.lower-error");
  const nlohmann::json c = run_quick(spec);
  INFO("per n " << c.at("per_n").dump());
  for (const auto& p : c.at("per_n")) {
    CHECK(p.at("ci_t")[1].get<double>() < 1.0);
    CHECK(p.at("ci_boot")[1].get<double>() < 1.0);
  }
  CHECK(c.at("per_n").size() >= 2);
  CHECK(c.at("verdict") == "consistent");
}
