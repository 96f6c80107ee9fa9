// Fuzz harness: the per-cell checkpoint reader of study biased-weights (tests/fuzz/study_checkpoint.hpp).
#define ATTNRATE_FUZZ_STUDY "biased-weights"
#define ATTNRATE_FUZZ_OPTIONS {{"mu", "1"}, {"target", "key-poly:2"}, {"heads", "4"}, {"n", "20,40"}, {"from-n", "20"}, {"seeds", "2"}, {"test-n", "10000"}, {"bootstrap", "100"}, {"lambda", "0.01"}}
#include "tests/fuzz/study_checkpoint.hpp"
