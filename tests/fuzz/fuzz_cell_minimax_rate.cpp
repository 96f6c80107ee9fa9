// Fuzz harness: the per-cell checkpoint reader of study minimax-rate (tests/fuzz/study_checkpoint.hpp).
#define ATTNRATE_FUZZ_STUDY "minimax-rate"
// A fixed range: range = auto would draw 10^6 model pairs on every input (the range is fingerprinted).
#define ATTNRATE_FUZZ_OPTIONS {{"M", "200,400"}, {"seeds", "2"}, {"test-pairs", "1000"}, {"bootstrap", "100"}, {"range", "-1,1"}}
#include "tests/fuzz/study_checkpoint.hpp"
