// Fuzz harness: the per-cell checkpoint reader of study minimax-rate (tests/fuzz/study_checkpoint.hpp).
#define ATTNRATE_FUZZ_STUDY "minimax-rate"
// A fixed range keeps the set-up run short (range = auto draws 10^6 model pairs, once, for the first
// cell); the inputs draw nothing either way, as the cells are checkpointed or interrupted.
#define ATTNRATE_FUZZ_OPTIONS {{"M", "200,400"}, {"seeds", "2"}, {"test-pairs", "1000"}, {"bootstrap", "100"}, {"range", "-1,1"}}
#include "tests/fuzz/study_checkpoint.hpp"
