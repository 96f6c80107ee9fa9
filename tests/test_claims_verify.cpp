// Claim regression through `attnrate verify --profile quick` (issue 5): every registered claim
// is run with its quick settings and must be consistent; a claim that breaks fails here with
// its measured value and intervals in the message.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "studies/verify/verify.hpp"
#include "theory/claims/old_claims.hpp"

using namespace attnrate;

TEST_CASE("verify --profile quick: every decisive claim is consistent, none inconsistent", "[claims][verify]") {
  const auto dir = std::filesystem::temp_directory_path() / ("attnrate-verify-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  VerifyOptions opt;
  opt.profile = "quick";
  opt.out = dir;
  opt.progress = false;
  opt.command_line = "attnrate verify --profile quick";
  const nlohmann::json summary = run_verify(opt);
  REQUIRE(summary.at("claims").size() == claim_registry().size());
  for (const auto& c : summary.at("claims")) {
    bool decisive = true;
    for (const auto& spec : claim_registry())
      if (spec.id == c.at("id")) decisive = spec.quick_decisive;
    INFO(c.at("id").get<std::string>() << ": theory " << c.value("theory_value", nlohmann::json()).dump()
                                       << ", measured " << c.value("measured", nlohmann::json()).dump() << ", CI_t "
                                       << c.value("ci_t", nlohmann::json()).dump() << ", CI_boot "
                                       << c.value("ci_boot", nlohmann::json()).dump() << ", tolerance "
                                       << c.value("tolerance", nlohmann::json()).dump() << ", rerun: "
                                       << c.at("rerun").get<std::string>());
    if (decisive) CHECK(c.at("verdict") == "consistent");
    else CHECK((c.at("verdict") == "consistent" || c.at("verdict") == "inconclusive"));
  }
  // The reports exist, the HTML embeds every figure and starts with the verdict table.
  std::ifstream html(dir / "report.html");
  const std::string page((std::istreambuf_iterator<char>(html)), std::istreambuf_iterator<char>());
  CHECK(page.find("<table id=\"verdicts\">") != std::string::npos);
  std::size_t images = 0;
  for (auto pos = page.find("data:image/png;base64,"); pos != std::string::npos;
       pos = page.find("data:image/png;base64,", pos + 1))
    ++images;
  std::size_t figures = 0;
  for (const auto& c : summary.at("claims")) figures += c.contains("figure");
  CHECK(images == figures);
  CHECK(figures == summary.at("claims").size());
  CHECK(std::filesystem::file_size(dir / "report.md") > 0);
  std::filesystem::remove_all(dir);
}

TEST_CASE("verify selects claims by glob and rejects bad options", "[verify-options]") {
  CHECK(glob_match("minimax.*", "minimax.weierstrass.b1.slope"));
  CHECK(glob_match("*b1.slope", "minimax.weierstrass.b1.slope"));
  CHECK_FALSE(glob_match("*b1.slope", "minimax.weierstrass.b1.5.slope"));
  CHECK(glob_match("minimax.weierstrass.b?.slope", "minimax.weierstrass.b1.slope"));
  CHECK(select_claims("").size() == claim_registry().size());
  CHECK(select_claims("nothing-matches-this*").empty());
  VerifyOptions opt;
  opt.out = std::filesystem::temp_directory_path() / "attnrate-verify-bad";
  opt.profile = "medium";
  CHECK_THROWS_WITH(run_verify(opt), Catch::Contains("--profile must be quick or full"));
  opt.profile = "quick";
  opt.only = "nothing-matches-this*";
  CHECK_THROWS_WITH(run_verify(opt), Catch::Contains("matches no claim"));
}
