// Fuzz harness: the per-cell checkpoint reader of study rank-condition (tests/fuzz/study_checkpoint.hpp).
#define ATTNRATE_FUZZ_STUDY "rank-condition"
#define ATTNRATE_FUZZ_OPTIONS {{"d-values", "1,2"}, {"M", "400"}, {"seeds", "2"}, {"test-pairs", "1000"}, {"bootstrap", "100"}, {"restarts", "1"}, {"max-iterations", "5"}}
#include "tests/fuzz/study_checkpoint.hpp"
