// The type --help shows for each study option (KeySpec::type, value_type) is what the study's
// reader accepts: a value that is not of that type is refused with the option named. An option
// its reader ignores in the default configuration fails here too.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "estimators/common/input_error.hpp"
#include "studies/registry.hpp"

using namespace attnrate;

namespace {
// A value of the wrong type for `type`.
std::string wrong_value(const std::string& type) {
  if (type.rfind("INT", 0) == 0) return "1.5";
  if (type.rfind("NAME", 0) == 0) return "no-such-name";
  return "x";  // FLOAT, LIST, SIZE, A,B and the keyword types
}
}  // namespace

TEST_CASE("value_type: inferred from the default unless set", "[options]") {
  CHECK(value_type({"k", "6", ""}) == "INT");
  CHECK(value_type({"k", "-2", ""}) == "INT");
  CHECK(value_type({"k", "0.5", ""}) == "FLOAT");
  CHECK(value_type({"k", "1e-8", ""}) == "FLOAT");
  CHECK(value_type({"k", "500:64000:x2", ""}) == "LIST");
  CHECK(value_type({"k", "1e-7:1:x10", ""}) == "LIST");
  CHECK(value_type({"k", "2,4,8", ""}) == "LIST");
  CHECK(value_type({"k", "weierstrass:1", ""}) == "NAME");
  CHECK(value_type({"k", "", ""}) == "TEXT");
  CHECK(value_type({"k", "1", "", "FLOAT"}) == "FLOAT");
}

TEST_CASE("every study option's --help type is what its reader accepts", "[options]") {
  for (const auto& def : all_studies()) {
    Settings defaults(def.keys());
    INFO("study " << def.name);
    REQUIRE_NOTHROW(def.check(defaults));
    for (const auto& k : def.keys()) {
      const std::string type = value_type(k);
      if (type == "TEXT") continue;
      Settings s(def.keys());
      s.set(k.key, wrong_value(type), "--" + k.key);
      INFO("--" << k.key << " " << type << " = " << wrong_value(type));
      CHECK_THROWS_AS(def.check(s), InputError);
      try {
        def.check(s);
      } catch (const InputError& e) {
        CHECK_THAT(e.what(), Catch::Contains("--" + k.key));
      }
    }
  }
}

TEST_CASE("Settings::get_list: trimmed entries; an empty entry is refused with the option named", "[options]") {
  Settings s({{"items", "", "a list"}});
  const auto list = [&](const std::string& v) {
    s.set("items", v, "--items");
    return s.get_list("items");
  };
  CHECK(list("").empty());
  CHECK(list("  ").empty());
  CHECK(list("a") == std::vector<std::string>{"a"});
  CHECK(list(" a , b:1 ,c ") == std::vector<std::string>{"a", "b:1", "c"});
  for (const char* bad : {"a,", ",a", "a,,b", "a, ,b", ","}) {
    INFO(bad);
    CHECK_THROWS_WITH(list(bad), Catch::Contains("--items") && Catch::Contains("empty entries"));
  }
}

TEST_CASE("every study's list options refuse a stray comma", "[options]") {
  for (const auto& def : all_studies()) {
    for (const auto& k : def.keys()) {
      if (value_type(k) != "LIST") continue;
      Settings s(def.keys());
      s.set(k.key, k.default_value + ",", "--" + k.key);
      INFO("study " << def.name << ", --" << k.key << " = " << k.default_value << ",");
      CHECK_THROWS_AS(def.check(s), InputError);
    }
  }
}
