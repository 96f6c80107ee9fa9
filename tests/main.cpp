// Catch2 v2 (Debian) test runner. Claim regression tests carry the tag [claims].
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "estimators/common/blas.hpp"
#include "studies/io/heap_policy.hpp"

int main(int argc, char** argv) {
  attnrate::keep_freed_memory();  // the heap policy of the attnrate program, whose studies the tests run
  attnrate::end_blas_worker_pool();  // and its BLAS set-up
  return Catch::Session().run(argc, argv);
}
