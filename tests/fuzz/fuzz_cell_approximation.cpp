// Fuzz harness: the per-cell checkpoint reader of study approximation (tests/fuzz/study_checkpoint.hpp).
#define ATTNRATE_FUZZ_STUDY "approximation"
#define ATTNRATE_FUZZ_OPTIONS {{"activations", "bspline:3"}, {"knots", "4,8"}, {"M", "400"}, {"seeds", "2"}, {"test-pairs", "1000"}, {"bootstrap", "100"}}
#include "tests/fuzz/study_checkpoint.hpp"
