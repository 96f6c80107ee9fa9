// Fuzz harness: the per-cell checkpoint reader of study minimax-rate (tests/fuzz/study_checkpoint.hpp).
#define ATTNRATE_FUZZ_STUDY "minimax-rate"
#define ATTNRATE_FUZZ_OPTIONS {{"M", "200,400"}, {"seeds", "2"}, {"test-pairs", "1000"}, {"bootstrap", "100"}}
#include "tests/fuzz/study_checkpoint.hpp"
