// require_plain_ascii: the check before toml++ reads a file, with the position of the first bad byte.
#include <catch2/catch.hpp>
#include <string>

#include "estimators/common/input_error.hpp"
#include "estimators/common/plain_ascii.hpp"

namespace {
std::string error_of(std::string_view text) {
  try {
    attnrate::require_plain_ascii(text, "f.toml", "study files");
  } catch (const attnrate::InputError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("require_plain_ascii: the first offending byte, by line and column", "[plain-ascii]") {
  CHECK(error_of("a = 1\n# ok\n") == "");
  CHECK(error_of("a = 1\nb = \"caf\xc3\xa9\"\n") == "f.toml:2:9: non-ASCII byte 0xc3; study files must be plain ASCII text");
  CHECK(error_of(std::string_view("ab\0c", 4)) == "f.toml:1:3: NUL byte; study files must be plain ASCII text");
  CHECK(error_of("\x7f") == "");  // DEL is ASCII
  CHECK(error_of("\x80") == "f.toml:1:1: non-ASCII byte 0x80; study files must be plain ASCII text");
}
