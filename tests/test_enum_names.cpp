// EnumNames: one table for the names of an enumeration, read by to_string and by parse.
#include <catch2/catch.hpp>
#include <string>

#include "estimators/common/enum_names.hpp"

namespace {
enum class Colour { red, green, blue };
constexpr auto colour_names = attnrate::enum_names<Colour>({"red", "green", "blue"});
}  // namespace

TEST_CASE("EnumNames: names and parse read one table", "[enum-names]") {
  STATIC_REQUIRE(colour_names.name(Colour::green) == std::string_view("green"));
  for (Colour c : {Colour::red, Colour::green, Colour::blue}) REQUIRE(colour_names.find(colour_names.name(c)) == c);
  REQUIRE_FALSE(colour_names.find("Green").has_value());  // exact match only
  REQUIRE_FALSE(colour_names.find("").has_value());
  REQUIRE(std::string(colour_names.name(static_cast<Colour>(7))) == "?");
  REQUIRE(colour_names.list() == "red, green, blue");
}
