// `attnrate verify` on claims as data: the built-in claims files are valid and each runs at its
// quick profile with the verdict its file promises (consistent when quick-decisive, never
// inconsistent otherwise); a claim selects exactly one measurement or says why not.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <optional>

#include "estimators/common/input_error.hpp"
#include "studies/registry.hpp"
#include "studies/verify/verify.hpp"
#include "theory/claims/builtin_claims.hpp"

using namespace attnrate;

namespace {

// Runs the built-in claims of one file at the quick profile, in one verify run (claims with the
// same study options share one study run), and checks their verdicts.
void verify_builtin_file(const std::string& file) {
  std::string text;
  for (const auto& f : builtin_claims_files())
    if (f.file == file) text = f.text;
  REQUIRE(!text.empty());
  const auto dir = std::filesystem::temp_directory_path() /
                   ("attnrate-verify-" + std::filesystem::path(file).stem().string() + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const auto copy = dir / std::filesystem::path(file).filename();
  std::ofstream(copy) << text;
  VerifyOptions opt;
  opt.profile = "quick";
  opt.out = dir / "out";
  opt.progress = false;
  opt.claims_paths = {copy};
  opt.command_line = "attnrate verify --profile quick";
  const nlohmann::json summary = run_verify(opt);
  std::size_t count = 0;
  for (const auto& c : builtin_claims()) count += c.place.file == file;
  CHECK(summary.at("claims").size() == count);
  for (const auto& c : summary.at("claims")) {
    const std::string id = c.at("id");
    bool decisive = true;
    for (const auto& spec : builtin_claims())
      if (spec.id == id) decisive = spec.quick_decisive;
    INFO(id << " (" << c.value("defined_at", "") << "): " << c.value("rule", "") << "; measured "
            << c.value("measured", nlohmann::json()).dump() << ", CI_t " << c.value("ci_t", nlohmann::json()).dump()
            << ", CI_boot " << c.value("ci_boot", nlohmann::json()).dump() << "; " << c.value("reason", "")
            << c.value("error", "") << "; rerun: " << c.at("rerun").get<std::string>());
    if (decisive) CHECK(c.at("verdict") == "consistent");
    else CHECK((c.at("verdict") == "consistent" || c.at("verdict") == "inconclusive"));
    CHECK(c.contains("figure"));
    CHECK_FALSE(c.contains("judge_warning"));  // every built-in two-sided claim has a width rule
  }
  // The reports exist; the HTML starts with the verdict table and embeds one figure per claim.
  std::ifstream html(opt.out / "report.html");
  const std::string page((std::istreambuf_iterator<char>(html)), std::istreambuf_iterator<char>());
  CHECK(page.find("<table id=\"verdicts\">") != std::string::npos);
  std::size_t images = 0;
  for (auto pos = page.find("data:image/png;base64,"); pos != std::string::npos;
       pos = page.find("data:image/png;base64,", pos + 1))
    ++images;
  CHECK(images == count);
  std::filesystem::remove_all(dir);
}

nlohmann::json slope_record(const std::string& quantity, std::map<std::string, std::string> select, double lo,
                            double hi) {
  Measurement m;
  m.quantity = quantity;
  m.select = std::move(select);
  m.value = (lo + hi) / 2;
  m.ci_t_lo = m.ci_boot_lo = lo;
  m.ci_t_hi = m.ci_boot_hi = hi;
  return to_json(m);
}

}  // namespace

TEST_CASE("the built-in claims files are valid: ids unique, studies, quantities and options known", "[verify-options]") {
  const auto claims = builtin_claims();
  CHECK(claims.size() >= 3);
  CHECK_NOTHROW(check_claim_options(claims, "quick"));
  CHECK_NOTHROW(check_claim_options(claims, "full"));
  for (const auto& f : builtin_claims_files()) CHECK(std::string(f.file).rfind("theory/claims/", 0) == 0);
}

TEST_CASE("judge_claim: a claim selects exactly one measurement", "[verify-options]") {
  Claim c;
  c.id = "t.slope";
  c.study = "dimension-free";
  c.quantity = "slope";
  c.rule.bound = Bound::equal;
  c.rule.theory_lo = c.rule.theory_hi = -0.75;
  c.rule.tolerance = 0.0;
  nlohmann::json summary;
  summary["quantities"] = {slope_record("slope", {{"d", "1"}, {"N", "8"}}, -0.875, -0.625),
                           slope_record("slope", {{"d", "5"}, {"N", "8"}}, -0.5, -0.25),
                           slope_record("spread", {{"series", "d"}}, 1.0, 2.0)};
  c.select = {{"d", "5"}};
  nlohmann::json e = judge_claim(c, "full", summary);
  CHECK(e.at("verdict") == "inconsistent");
  CHECK(e.at("measured").get<double>() == -0.375);
  c.select = {{"d", "1"}};
  CHECK(judge_claim(c, "full", summary).at("verdict") == "consistent");
  c.select = {{"N", "8"}};
  e = judge_claim(c, "full", summary);
  CHECK(e.at("verdict") == "ambiguous");
  CHECK_THAT(e.at("error").get<std::string>(), Catch::Contains("N = 8, d = 1") && Catch::Contains("N = 8, d = 5"));
  c.select = {{"d", "30"}};
  e = judge_claim(c, "full", summary);
  CHECK(e.at("verdict") == "missing");
  CHECK_THAT(e.at("error").get<std::string>(), Catch::Contains("it reported:"));
  c.quantity = "gap";
  CHECK(judge_claim(c, "full", nlohmann::json{{"quantities", nlohmann::json::array()}, {"error", "no cells"}})
            .at("error")
            .get<std::string>()
            .find("no cells") != std::string::npos);
  // A quantity reported only under some option: the reason names what the quantity is.
  c.study = "minimax-rate";
  c.quantity = "oracle-ratio";
  c.select.clear();
  CHECK_THAT(judge_claim(c, "full", nlohmann::json{{"quantities", nlohmann::json::array()}}).at("error").get<std::string>(),
             Catch::Contains("it reported none of that quantity; oracle-ratio: --schedule adaptive:"));
}

TEST_CASE("verify rejects bad options before running anything", "[verify-options]") {
  VerifyOptions opt;
  opt.out = std::filesystem::temp_directory_path() / ("attnrate-verify-bad-" + std::to_string(::getpid()));
  opt.profile = "medium";
  CHECK_THROWS_WITH(run_verify(opt), Catch::Contains("--profile must be quick or full"));
  opt.profile = "quick";
  opt.only = "nothing-matches-this*";
  CHECK_THROWS_WITH(run_verify(opt), Catch::Contains("matches no claim"));
  opt.only = "minmax.*";  // a typo of a family's glob is answered with the family
  CHECK_THROWS_WITH(run_verify(opt), Catch::Contains("matches no claim; did you mean 'minimax.*'?"));
  opt.only = "rfa.*";  // a family's beginning is answered with the family, not the nearest other name
  CHECK_THROWS_WITH(run_verify(opt), Catch::Contains("did you mean 'rfa-vs-mlp.*'?"));
  opt.only = "";  // given but empty: refused, not read as "every claim"
  CHECK_THROWS_WITH(run_verify(opt), Catch::Contains("--only needs a glob"));
  // A claim whose option value is invalid for its study is refused with its file:line.
  const auto file = opt.out.string() + ".toml";
  std::ofstream(file) << "[[claim]]\nid = \"bad\"\nstatement = \"s\"\nsource = \"s\"\nstudy = \"minimax-rate\"\n"
                         "quantity = \"slope\"\ntheory = -0.5\nbound = \"equal\"\ntolerance = 0.05\n"
                         "[claim.params]\nseeds = 0\n";
  opt.only.reset();
  opt.claims_paths = {file};
  // A problem both profiles share is listed once.
  CHECK_THROWS_WITH(run_verify(opt), Catch::Contains(file + ":11: seeds") &&
                                         Catch::Contains("(claim 'bad', quick and full profiles)"));
  CHECK_FALSE(std::filesystem::exists(opt.out));
  // Names a library parser refuses carry the claim's file:line too, and a quantity the study
  // reports only under another option value is refused before the run, not found missing after.
  const std::string head = "[[claim]]\nid = \"bad\"\nstatement = \"s\"\nsource = \"s\"\nstudy = \"minimax-rate\"\n"
                           "theory = -0.5\nbound = \"equal\"\ntolerance = 0.05\n";
  for (const auto& [param, message] :
       {std::pair{"tokens = \"foo\"", ":11: tokens: unknown token law 'foo'; valid: uniform"},
        std::pair{"activation = \"weierstras:1\"", ":11: activation: unknown activation 'weierstras:1'; valid:"},
        std::pair{"activation = \"weierstrass:500\"", ":11: activation: weierstrass:b needs b <= 127"},
        std::pair{"schedule = \"adapt\"", ":11: schedule: --schedule must be plain, paper or adaptive, got 'adapt'"}}) {
    std::ofstream(file) << head << "quantity = \"slope\"\n[claim.params]\n" << param << "\n";
    CHECK_THROWS_WITH(run_verify(opt), Catch::Contains(file + message));
  }
  std::ofstream(file) << head << "quantity = \"oracle-ratio\"\n[claim.params]\nseeds = 2\n";
  CHECK_THROWS_WITH(run_verify(opt), Catch::Contains(file + ":1: minimax-rate reports 'oracle-ratio' only with schedule = "
                                                            "\"adaptive\", but the claim leaves schedule at its default "
                                                            "\"plain\"; set schedule = \"adaptive\" in [claim.params]"));
  std::ofstream(file) << head << "quantity = \"b-hat\"\n[claim.params]\nschedule = \"paper\"\n";
  CHECK_THROWS_WITH(run_verify(opt), Catch::Contains(file + ":11: minimax-rate reports 'b-hat' only with schedule = "
                                                            "\"adaptive\", but the claim sets schedule = \"paper\""));
  CHECK_FALSE(std::filesystem::exists(opt.out));
  // A bad [claim.quick] value is found by a full run too, before anything runs.
  std::ofstream(file) << "[[claim]]\nid = \"bad\"\nstatement = \"s\"\nsource = \"s\"\nstudy = \"minimax-rate\"\n"
                         "quantity = \"slope\"\ntheory = -0.5\nbound = \"equal\"\ntolerance = 0.05\n"
                         "[claim.quick]\nM = \"1000:8000:x1\"\n";
  opt.profile = "full";
  CHECK_THROWS_WITH(run_verify(opt), Catch::Contains(file + ":11: M") && Catch::Contains("(claim 'bad', quick profile)"));
  CHECK_FALSE(std::filesystem::exists(opt.out));
  std::filesystem::remove(file);
}

TEST_CASE("verify --profile quick: the built-in minimax claims", "[claims][verify][minimax]") {
  verify_builtin_file("theory/claims/minimax.toml");
}

TEST_CASE("verify --profile quick: the built-in approximation claims", "[claims][verify][approximation]") {
  verify_builtin_file("theory/claims/approximation.toml");
}

TEST_CASE("verify --profile quick: the built-in kernel-limit claims", "[claims][verify][kernel_limit]") {
  verify_builtin_file("theory/claims/kernel_limit.toml");
}

TEST_CASE("verify --seed replaces every claim's seed, in both profiles, and is range-checked", "[verify-options]") {
  const auto base = std::filesystem::temp_directory_path() / ("attnrate-verify-seed-" + std::to_string(::getpid()));
  const auto file = base.string() + ".toml";
  std::ofstream(file) << "[[claim]]\nid = \"small.n-ratio\"\nstatement = \"s\"\nsource = \"s\"\nstudy = \"rfa-vs-mlp\"\n"
                         "quantity = \"n-ratio\"\nbound = \"at-least\"\ntheory = 1\ntolerance = 0.1\n"
                         "[claim.select]\ntarget = \"key-poly:2\"\nN = 2\n"
                         "[claim.params]\ntarget = \"key-poly:2\"\nN = \"2,4\"\nheads = 4\nn = \"20,40\"\nseeds = 2\n"
                         "test-n = 10000\nbootstrap = 100\nlambda = \"0.01\"\nseed = 11\n"
                         "[claim.quick]\nseed = 12\n";
  VerifyOptions opt;
  opt.claims_paths = {file};
  opt.threads = 1;
  opt.progress = false;
  const auto seed_of = [&](const std::string& profile, const std::string& seed) {
    opt.profile = profile;
    opt.seed = seed.empty() ? std::nullopt : std::optional<std::string>(seed);
    opt.out = base / (profile + "-" + (seed.empty() ? "own" : seed));
    const nlohmann::json summary = run_verify(opt);
    const nlohmann::json& study = nlohmann::json::parse(std::ifstream(opt.out / "claims" / "small.n-ratio" / "summary.json"));
    CHECK(summary.contains("seed") == !seed.empty());
    return study.at("parameters").at("seed").get<std::uint64_t>();
  };
  CHECK(seed_of("full", "") == 11);
  CHECK(seed_of("quick", "") == 12);
  CHECK(seed_of("full", "3") == 3);
  CHECK(seed_of("quick", "3") == 3);
  opt.out = base / "bad";
  for (const char* bad : {"-1", ""}) {
    opt.seed = bad;
    CHECK_THROWS_WITH(run_verify(opt), Catch::Contains("--seed"));
    CHECK_FALSE(std::filesystem::exists(opt.out));
  }
  std::filesystem::remove_all(base);
  std::filesystem::remove(file);
}

TEST_CASE("verify --profile quick: the built-in adaptive-schedule claims", "[claims][verify][adaptive]") {
  verify_builtin_file("theory/claims/adaptive.toml");
}

TEST_CASE("verify: claims with the same options in another order share one run", "[verify-options]") {
  const auto base = std::filesystem::temp_directory_path() / ("attnrate-verify-order-" + std::to_string(::getpid()));
  const auto file = base.string() + ".toml";
  const std::string head = "study = \"minimax-rate\"\nquantity = \"slope\"\nbound = \"equal\"\ntheory = -0.6667\n"
                           "tolerance = 5\nstatement = \"s\"\nsource = \"s\"\n";
  std::ofstream(file) << "[[claim]]\nid = \"a.slope\"\n" << head
                      << "[claim.params]\nactivation = \"weierstrass:1\"\nM = \"200,400\"\nseeds = 2\ntest-pairs = 1000\n"
                      << "[[claim]]\nid = \"b.slope\"\n" << head
                      << "[claim.params]\ntest-pairs = 1000\nseeds = 2\nM = \"200,400\"\nactivation = \"weierstrass:1\"\n";
  VerifyOptions opt;
  opt.claims_paths = {file};
  opt.profile = "full";
  opt.threads = 1;
  opt.progress = false;
  opt.out = base;
  const nlohmann::json summary = run_verify(opt);
  REQUIRE(summary.at("claims").size() == 2);
  CHECK(summary.at("claims")[0].at("directory") == summary.at("claims")[1].at("directory"));
  std::filesystem::remove_all(base);
  std::filesystem::remove(file);
}
