// Fuzz harness: the per-cell checkpoint reader of study kernel-limit (tests/fuzz/study_checkpoint.hpp).
#define ATTNRATE_FUZZ_STUDY "kernel-limit"
#define ATTNRATE_FUZZ_OPTIONS {{"N", "2,4"}, {"d", "2"}, {"n", "20,40"}, {"seeds", "2"}, {"test-n", "500"}, {"bootstrap", "100"}, {"lambda-grid", "1e-3,1e-1"}}
#include "tests/fuzz/study_checkpoint.hpp"
