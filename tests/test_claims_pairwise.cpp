// The built-in pairwise claims (theory/claims/pairwise.toml): every claim of the file at its quick
// profile through `attnrate verify`, with the verdict the file promises (consistent when
// quick-decisive, never inconsistent otherwise).
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
