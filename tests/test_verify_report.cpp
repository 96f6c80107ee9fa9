// The reports' text for one claim record (studies/verify/report.hpp): numbers, intervals, a
// measured value that censored repetitions turn into a bound, and verify's verdict counts.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <optional>

#include "studies/verify/report.hpp"

using namespace attnrate;

TEST_CASE("claim_measured_text marks a value that censoring makes a bound", "[verify-report]") {
  nlohmann::json c = {{"measured", 13.1849}, {"ci_t", {11.92, 14.561}}, {"theory", 4.0}, {"bound", "at-least"}};
  CHECK(claim_measured_text(c) == "13.18");
  CHECK(report_interval_text(c, "ci_t") == "[11.92, 14.56]");
  CHECK(report_interval_text(c, "ci_boot") == "-");
  CHECK(report_number_text(c, "tolerance") == "-");
  CHECK(claim_theory_text(c) == "at-least 4");
  c["censored"] = {{"may_be_higher", true}, {"may_be_lower", false}};
  CHECK(claim_measured_text(c) == ">= 13.18");
  c["censored"] = {{"may_be_higher", false}, {"may_be_lower", true}};
  CHECK(claim_measured_text(c) == "<= 13.18");
  c["censored"] = {{"may_be_higher", true}, {"may_be_lower", true}};
  CHECK(claim_measured_text(c) == "13.18 (censored both ways)");
  c.erase("measured");
  CHECK(claim_measured_text(c) == "-");
}

TEST_CASE("quantity_value_text marks a study's censored quantity as the claims' text does", "[verify-report]") {
  nlohmann::json q = {{"quantity", "n-eps"}, {"value", 40.0}, {"may_be_higher", false}, {"may_be_lower", false}};
  CHECK(quantity_value_text(q) == "40");
  q["may_be_higher"] = true;
  CHECK(quantity_value_text(q) == ">= 40");
  q["may_be_lower"] = true;
  CHECK(quantity_value_text(q) == "40 (censored both ways)");
  q["may_be_higher"] = false;
  CHECK(quantity_value_text(q) == "<= 40");
  q.erase("value");
  CHECK(quantity_value_text(q) == "-");
}

TEST_CASE("verdict_counts_text counts verdicts and the undecided ones marked not decisive", "[verify-report]") {
  const auto claim = [](const char* verdict, std::optional<bool> decisive) {
    nlohmann::json c = {{"verdict", verdict}};
    if (decisive) c["quick_decisive"] = *decisive;
    return c;
  };
  nlohmann::json s = {{"profile", "quick"},
                      {"claims",
                       {claim("consistent", true), claim("consistent", false), claim("inconclusive", false),
                        claim("inconclusive", true), claim("inconsistent", false), claim("inconclusive", std::nullopt)}}};
  CHECK(verdict_counts_text(s) ==
        "2 of 6 claims consistent, 3 inconclusive (1 of them marked not decisive at quick sizes), 1 inconsistent "
        "(all marked not decisive at quick sizes)");
  CHECK(quick_decisive(s, s["claims"][1]) == false);
  CHECK(!quick_decisive(s, s["claims"][5]));
  s["profile"] = "full";  // the marks are about quick sizes only
  CHECK(verdict_counts_text(s) == "2 of 6 claims consistent, 3 inconclusive, 1 inconsistent");
  CHECK(!quick_decisive(s, s["claims"][1]));
}
