// Fuzz harness: the per-cell checkpoint reader of study heads (tests/fuzz/study_checkpoint.hpp).
#define ATTNRATE_FUZZ_STUDY "heads"
#define ATTNRATE_FUZZ_OPTIONS {{"heads", "4,8"}, {"n", "20"}, {"d", "2"}, {"N", "2"}, {"seeds", "2"}, {"test-n", "10000"}, {"bootstrap", "100"}, {"lambda", "0.01"}}
#include "tests/fuzz/study_checkpoint.hpp"
