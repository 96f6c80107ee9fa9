// summary.json values (studies/sweep/study_summary.hpp): options that are numbers are written as
// JSON numbers, everything else as text; and command lines quoted for a POSIX shell
// (studies/io/shell_quote.hpp), checked by running them through /bin/sh.
#include <catch2/catch.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "studies/io/settings.hpp"
#include "studies/io/shell_quote.hpp"
#include "studies/rfa/rfa_common.hpp"
#include "studies/sweep/study_summary.hpp"

using namespace attnrate;

TEST_CASE("option_value_json: numbers as numbers, the rest as text", "[summary]") {
  CHECK(option_value_json("6").is_number_integer());
  CHECK(option_value_json("6").get<std::int64_t>() == 6);
  CHECK(option_value_json("-3").get<std::int64_t>() == -3);
  CHECK(option_value_json("18446744073709551615").get<std::uint64_t>() == 18446744073709551615ull);
  CHECK(option_value_json("0.1").is_number_float());
  CHECK(option_value_json("0.1").get<double>() == 0.1);
  CHECK(option_value_json("1e3").get<double>() == 1000.0);
  CHECK(option_value_json("1e400").is_string());  // out of range: kept as written
  for (const char* text : {"", "auto", "inf", "nan", "-inf", "0x1p3", "1000:8000:x2", "500,1000", "weierstrass:1",
                           "1.5.2", "+5", "8G", " 6"})
    CHECK(option_value_json(text) == nlohmann::json(text));
}

TEST_CASE("parameters_json: every option, typed", "[summary]") {
  Settings s({{"seeds", "6", ""}, {"sigma", "0.1", ""}, {"M", "1000:8000:x2", ""}, {"range", "auto", ""}});
  s.set("seeds", "8", "--seeds");
  const nlohmann::json p = parameters_json(s);
  CHECK(p.at("seeds") == 8);
  CHECK(p.at("sigma") == 0.1);
  CHECK(p.at("M") == "1000:8000:x2");
  CHECK(p.at("range") == "auto");
}

namespace {
// What /bin/sh makes of `line` after "printf '%s\n'": one output line per word.
std::string shell_words(const std::string& line) {
  std::string out;
  FILE* f = ::popen(("printf '%s|' " + line).c_str(), "r");
  REQUIRE(f != nullptr);
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  ::pclose(f);
  return out;
}
}  // namespace

TEST_CASE("summary_warnings: penalties at the grid's end are named with their count", "[summary]") {
  CHECK(summary_warnings(nlohmann::json::object()).empty());
  CHECK(summary_warnings({{"lambda_at_grid_edge", {{"choices", 40}, {"at_edge", 0}}}}).empty());
  const auto w = summary_warnings({{"lambda_at_grid_edge", {{"choices", 40}, {"at_edge", 3}}}});
  REQUIRE(w.size() == 1);
  CHECK(w[0].rfind("3 of 40 data-driven ridge penalties ended at an end of the lambda grid", 0) == 0);
  CHECK(w[0].find("lambda_at_edge") != std::string::npos);
  // With the ends counted, the warning says which end.
  const auto ends = summary_warnings(
      {{"lambda_at_grid_edge", {{"choices", 40}, {"at_edge", 3}, {"at_lower_end", 2}, {"at_upper_end", 1}}}});
  REQUIRE(ends.size() == 1);
  CHECK(ends[0].find("ended at an end of the lambda grid (2 at the smallest penalty, 1 at the largest)") !=
        std::string::npos);
}

TEST_CASE("LambdaEdgeCount: choices at each end of the grid, fixed penalties not counted", "[summary]") {
  LambdaEdgeCount edges(arma::vec{1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0});
  edges.add(true, false, 1e-3);   // interior
  edges.add(true, true, 1e-11);   // below the grid, after the extension
  edges.add(true, true, 1e-7);    // the lowest point itself
  edges.add(true, true, 1e4);     // above
  edges.add(false, true, 1e4);    // a fixed penalty
  const nlohmann::json j = edges.to_json();
  CHECK(j.at("choices") == 4);
  CHECK(j.at("at_edge") == 3);
  CHECK(j.at("at_lower_end") == 2);
  CHECK(j.at("at_upper_end") == 1);
}

TEST_CASE("shell_command_line: the shell reads back the same words", "[summary]") {
  const std::vector<std::string> words = {"plain", "two words", "it's", "$HOME", "a;b", "*", "", "x=1", "tab\there",
                                          "back\\slash", "\"dq\"", "new\nline"};
  std::vector<const char*> argv;
  std::string expected;
  for (const auto& w : words) {
    argv.push_back(w.c_str());
    expected += w + "|";
  }
  CHECK(shell_words(shell_command_line(static_cast<int>(argv.size()), argv.data())) == expected);
  CHECK(shell_quote("plain") == "plain");
  CHECK(shell_quote("") == "''");
}
