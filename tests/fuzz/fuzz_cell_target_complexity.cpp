// Fuzz harness: the per-cell checkpoint reader of study target-complexity (tests/fuzz/study_checkpoint.hpp).
#define ATTNRATE_FUZZ_STUDY "target-complexity"
#define ATTNRATE_FUZZ_OPTIONS {{"d", "2"}, {"p", "1,2"}, {"family", "key-poly"}, {"heads", "4"}, {"n", "20,40"}, {"seeds", "2"}, {"test-n", "10000"}, {"bootstrap", "100"}, {"lambda", "0.01"}}
#include "tests/fuzz/study_checkpoint.hpp"
