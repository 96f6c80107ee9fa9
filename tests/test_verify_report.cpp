// The reports' text for one claim record (studies/verify/report.hpp): numbers, intervals, and a
// measured value that censored repetitions turn into a bound.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

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
