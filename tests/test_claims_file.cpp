// Claims files (theory/claims/claims_file.hpp): a valid file round-trips into Claims, and every
// kind of bad file is refused with file:line and an actionable message, all problems at once.
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "estimators/common/input_error.hpp"
#include "theory/claims/claims_file.hpp"
#include "studies/verify/verify.hpp"

using namespace attnrate;

namespace {

StudyCatalog catalog() {
  StudyCatalogEntry s;
  s.name = "minimax-rate";
  s.options = {"activation", "M", "seeds", "d"};
  s.quantities = {{"slope", {}}, {"spread", {"series", "d"}}};
  return {s};
}

const char* kValid = R"(# two claims
[[claim]]
id = "mine.b1.slope"
statement = "a rate"
source = "a paper"
study = "minimax-rate"
quantity = "slope"
theory = -0.6667
bound = "equal"
tolerance = 0.05
max-ci-width = 0.3
quick-max-ci-width = 0.4
[claim.params]
activation = "weierstrass:1"
M = "500:16000:x2"
seeds = 6
[claim.quick]
M = "1000:8000:x2"

[[claim]]
id = "mine.spread"
statement = "a spread"
source = "a paper"
note = "why"
study = "minimax-rate"
quantity = "spread"
theory = [1, 2.5]
bound = "within"
tolerance = 0
quick-decisive = false
[claim.params]
d = [1, 5]
[claim.select]
series = "d"
d = 5.0
)";

std::string error_of(const std::string& text) {
  try {
    parse_claims(text, "my.toml", catalog());
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

StudyOptions sorted(StudyOptions o) {
  std::sort(o.begin(), o.end());
  return o;
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("claims file: a valid file gives every field", "[claims_file]") {
  const auto claims = parse_claims(kValid, "my.toml", catalog());
  REQUIRE(claims.size() == 2);
  const Claim& a = claims[0];
  CHECK(a.id == "mine.b1.slope");
  CHECK(a.place.str() == "my.toml:2");
  CHECK(a.rule.bound == Bound::equal);
  CHECK(a.rule.theory_lo == -0.6667);
  CHECK(a.rule.theory_hi == -0.6667);
  CHECK(a.rule.tolerance == 0.05);
  CHECK(a.rule.max_ci_width == 0.3);
  CHECK(a.rule_for("quick").max_ci_width == 0.4);
  CHECK(a.rule_for("full").max_ci_width == 0.3);
  CHECK(sorted(a.options("full")) == StudyOptions{{"M", "500:16000:x2"}, {"activation", "weierstrass:1"}, {"seeds", "6"}});
  CHECK(sorted(a.options("quick")) == StudyOptions{{"M", "1000:8000:x2"}, {"activation", "weierstrass:1"}, {"seeds", "6"}});
  CHECK(a.quick_decisive);
  const Claim& b = claims[1];
  CHECK(b.rule.bound == Bound::within);
  CHECK(b.rule.theory_lo == 1.0);
  CHECK(b.rule.theory_hi == 2.5);
  CHECK_FALSE(b.rule.max_ci_width.has_value());
  CHECK_FALSE(b.quick_decisive);
  CHECK(b.note == "why");
  CHECK(b.options("full") == StudyOptions{{"d", "1,5"}});
  CHECK(b.select.at("series") == "d");
  CHECK(select_matches(b.select, {{"series", "d"}, {"d", "5"}, {"N", "8"}}));  // 5.0 == 5 as numbers
  CHECK_FALSE(select_matches(b.select, {{"series", "d"}, {"d", "30"}}));
  CHECK_FALSE(select_matches(b.select, {{"d", "5"}}));
  // A parameter after the name compares as a number too: weierstrass:1 is weierstrass:1.0.
  CHECK(select_matches({{"activation", "weierstrass:1"}}, {{"activation", "weierstrass:1.0"}}));
  CHECK(select_matches({{"activation", "kink:1.50"}}, {{"activation", "kink:1.5"}}));
  CHECK_FALSE(select_matches({{"activation", "weierstrass:1"}}, {{"activation", "weierstrass:2"}}));
  CHECK_FALSE(select_matches({{"activation", "weierstrass:1"}}, {{"activation", "kink:1"}}));
  CHECK_FALSE(select_matches({{"activation", "tanh"}}, {{"activation", "tanh:1"}}));
}

TEST_CASE("claims file: unknown names are refused with file:line and a did-you-mean", "[claims_file]") {
  std::string text = kValid;
  text.replace(text.find("study = \"minimax-rate\""), 22, "study = \"minmax-rate\"");
  std::string e = error_of(text);
  CHECK(contains(e, "my.toml:6: unknown study 'minmax-rate'; did you mean 'minimax-rate'?"));

  text = kValid;
  text.replace(text.find("quantity = \"slope\""), 18, "quantity = \"slop\"");
  e = error_of(text);
  CHECK(contains(e, "my.toml:7: study 'minimax-rate' reports no quantity 'slop'; did you mean 'slope'?"));

  text = kValid;
  text.replace(text.find("seeds = 6"), 9, "sedes = 6");
  e = error_of(text);
  CHECK(contains(e, "my.toml:16: [claim.params]: study 'minimax-rate' has no option 'sedes'; did you mean 'seeds'?"));

  text = kValid;
  text.replace(text.find("series = \"d\""), 12, "serie = \"d\"");
  e = error_of(text);
  CHECK(contains(e, "has no select key 'serie'; did you mean 'series'?"));

  text = kValid;
  text.replace(text.find("tolerance = 0.05"), 16, "tolerence = 0.05");
  e = error_of(text);
  CHECK(contains(e, "unknown claim field 'tolerence'; did you mean 'tolerance'?"));
  CHECK(contains(e, "my.toml:2: claim is missing the field 'tolerance'"));  // both problems, one message
}

TEST_CASE("claims file: wrong types, bad values, missing fields and duplicates", "[claims_file]") {
  auto with = [](const std::string& from, const std::string& to) {
    std::string t = kValid;
    t.replace(t.find(from), from.size(), to);
    return error_of(t);
  };
  CHECK(contains(with("tolerance = 0.05", "tolerance = \"small\""), "my.toml:10: tolerance must be a finite number >= 0"));
  CHECK(contains(with("tolerance = 0.05", "tolerance = -1"), "tolerance must be a finite number >= 0"));
  CHECK(contains(with("max-ci-width = 0.3", "max-ci-width = 0"), "max-ci-width must be a finite number > 0"));
  CHECK(contains(with("theory = -0.6667", "theory = \"-2/3\""), "theory must be a number or [low, high]"));
  CHECK(contains(with("theory = -0.6667", "theory = [-1, -0.8]"), "needs bound = \"within\""));
  CHECK(contains(with("theory = [1, 2.5]", "theory = [2.5, 1]"), "low <= high"));
  CHECK(contains(with("theory = [1, 2.5]", "theory = 2"), "bound 'within' needs a range"));
  CHECK(contains(with("bound = \"equal\"", "bound = \"atmost\""), "bound must be equal, at-most, at-least or within"));
  CHECK(contains(with("id = \"mine.b1.slope\"", "id = \"Mine B1\""), "use only a-z, 0-9"));
  // The id names a folder: never ".", ".." or a hidden one.
  for (const char* id : {"..", ".", ".mine", "-mine", "_mine"})
    CHECK(contains(with("id = \"mine.b1.slope\"", std::string("id = \"") + id + "\""), "must start with a-z or 0-9"));
  CHECK(contains(with("id = \"mine.b1.slope\"", "id = \"mine.spread\""), "duplicate claim id 'mine.spread'"));
  CHECK(contains(with("statement = \"a rate\"\n", ""), "my.toml:2: claim is missing the field 'statement'"));
  CHECK(contains(with("seeds = 6", "seeds = {a = 1}"), "option 'seeds' must be a string, a finite number"));
  CHECK(contains(with("quick-decisive = false", "quick-decisive = 0"), "quick-decisive must be true or false"));
  CHECK_FALSE(with("[[claim]]\nid = \"mine.b1", "[claim]\nid = \"mine.b1").empty());
  CHECK(contains(error_of("title = \"x\"\n"), "unknown top-level key 'title'"));
  CHECK(contains(with("seeds = 6", "seeds = 6\nout = \"here\""),
                 "[claim.params]: 'out' is an option of the run, not of the study: give it to verify (--out)"));
  CHECK(contains(error_of(""), "no [[claim]] table"));
  CHECK(contains(error_of("[[claim]]\nid = \"a\"\nstatement = \"caf\xc3\xa9\"\n"), "my.toml:3:17: non-ASCII byte"));
  CHECK(contains(error_of("[[claim]]\nid = \n"), "my.toml:2:"));  // TOML syntax error with line and column
  // A UTF-8 byte order mark that an editor wrote is not part of the text.
  CHECK(parse_claims(std::string("\xEF\xBB\xBF") + kValid, "my.toml", catalog()).size() ==
        parse_claims(kValid, "my.toml", catalog()).size());
  CHECK(contains(error_of("\xEF\xBB\xBF[[claim]]\nid = \"a\"\nstatement = \"caf\xc3\xa9\"\n"), "my.toml:3:17: non-ASCII byte"));
}

TEST_CASE("claims file: files, folders and what is not a claims file", "[claims_file]") {
  const auto dir = std::filesystem::temp_directory_path() / ("attnrate-claims-file-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "set");
  {
    std::ofstream(dir / "set" / "b.toml") << kValid;
    std::string other = kValid;
    for (auto pos = other.find("mine."); pos != std::string::npos; pos = other.find("mine.", pos + 1))
      other.replace(pos, 5, "your.");
    std::ofstream(dir / "set" / "a.toml") << other;
    std::ofstream(dir / "set" / "notes.txt") << "not a claims file";
  }
  const auto claims = load_claims(dir / "set", catalog());
  REQUIRE(claims.size() == 4);
  CHECK(claims[0].id == "your.b1.slope");  // a.toml before b.toml
  CHECK(claims[2].place.file == (dir / "set" / "b.toml").string());
  CHECK_NOTHROW(check_unique_ids(claims));
  // The same id in another file is a duplicate; the same claim again is its file read twice.
  std::vector<Claim> twice = claims;
  Claim again = claims[0];
  again.place.file = (dir / "set" / "c.toml").string();
  twice.push_back(again);
  CHECK_THROWS_WITH(check_unique_ids(twice), Catch::Contains("duplicate claim id 'your.b1.slope'"));
  std::vector<Claim> reread = claims;
  reread.push_back(claims[0]);
  CHECK_THROWS_WITH(check_unique_ids(reread), Catch::Contains("a.toml is read twice"));
  // The extension in any case (a folder from a case-insensitive file system).
  std::filesystem::create_directories(dir / "upper");
  std::ofstream(dir / "upper" / "CLAIMS.TOML") << kValid;
  CHECK(load_claims(dir / "upper", catalog()).size() == 2);
  CHECK_THROWS_WITH(load_claims(dir / "missing.toml", catalog()), Catch::Contains("no such file"));
  std::filesystem::create_directories(dir / "empty");
  CHECK_THROWS_WITH(load_claims(dir / "empty", catalog()), Catch::Contains("holds no *.toml"));
  {
    std::ofstream big(dir / "big.toml");
    big << std::string(kMaxClaimsFileBytes + 1, '#');
  }
  CHECK_THROWS_WITH(load_claims(dir / "big.toml", catalog()), Catch::Contains("limited to"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("built-in claims: every two-sided claim has a width rule", "[claims_file]") {
  // Without one, an equal or within claim is consistent however wide its interval (verify warns).
  for (const Claim& c : builtin_claims()) {
    INFO(c.id << " (" << c.place.str() << ")");
    if (c.rule.bound == Bound::equal || c.rule.bound == Bound::within) CHECK(c.rule.max_ci_width.has_value());
  }
}
