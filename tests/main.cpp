// Catch2 v2 (Debian) test runner. Claim regression tests carry the tag [claims].
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
