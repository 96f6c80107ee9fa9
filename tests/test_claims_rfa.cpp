// The built-in random-feature attention claims (theory/claims/rfa.toml) at their quick profile,
// through `attnrate verify`: each decisive claim is consistent, the others are not inconsistent,
// and every verdict comes with the study's figure.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <map>

#include "studies/verify/verify.hpp"

using namespace attnrate;

TEST_CASE("verify --profile quick: the built-in rfa claims", "[claims][verify][rfa]") {
  std::map<std::string, bool> decisive;
  for (const auto& c : builtin_claims())
    if (c.place.file == "theory/claims/rfa.toml") decisive[c.id] = c.quick_decisive;
  REQUIRE(decisive.size() == 9);
  VerifyOptions opt;
  opt.profile = "quick";
  opt.out = std::filesystem::temp_directory_path() / ("attnrate-verify-rfa-" + std::to_string(::getpid()));
  opt.progress = false;
  std::filesystem::remove_all(opt.out);
  std::size_t judged = 0;
  // One verify per study, so that claims on the same run share it.
  for (const char* only : {"rfa-vs-mlp.*", "biased-weights.*", "heads.*"}) {
    opt.only = only;
    const nlohmann::json summary = run_verify(opt);
    for (const auto& c : summary.at("claims")) {
      const std::string id = c.at("id");
      INFO(id << ": " << c.value("rule", "") << "; measured " << c.value("measured", nlohmann::json()).dump()
              << ", CI_t " << c.value("ci_t", nlohmann::json()).dump() << ", CI_boot "
              << c.value("ci_boot", nlohmann::json()).dump() << "; " << c.value("reason", "") << c.value("error", ""));
      REQUIRE(decisive.count(id) == 1);
      if (decisive.at(id)) CHECK(c.at("verdict") == "consistent");
      else CHECK((c.at("verdict") == "consistent" || c.at("verdict") == "inconclusive"));
      CHECK(c.contains("figure"));
      ++judged;
    }
  }
  CHECK(judged == decisive.size());
  std::filesystem::remove_all(opt.out);
}
